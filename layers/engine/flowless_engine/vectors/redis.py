"""Redis: the vector store (Redis's query engine, `FT.*`) and the chat-message history, over the
engine's own RESP client (no driver: a few commands, asyncio streams).

Network guard: the host is resolved and vetted by the engine's guard, and the connection goes to
the vetted address (TLS, `rediss://`, still verifies the host name). Unix sockets and Sentinel
URLs are refused. Connections are kept per warm container, keyed by address, user, password
digest, database and TLS (one per target; a connection an earlier event loop opened is replaced);
one command at a time per connection.

Vector store, as LangChain's Redis store (what Langflow uses) lays it out, so each reads the
other's indexes: one hash per document under the index's prefix (`doc:<index>:<id>`) with
`content` (the text), `content_vector` (FLOAT32 bytes) and the metadata as fields; the index
`FT.CREATE <index> ON HASH PREFIX 1 doc:<index> SCHEMA content TEXT content_vector VECTOR FLAT
... DISTANCE_METRIC COSINE`, text metadata as TEXT and numbers as NUMERIC fields. Search is
`FT.SEARCH` with a KNN query (DIALECT 2); the score is the similarity the distance gives (cosine
and inner product 1 − distance, L2 1 / (1 + distance)). Reading an index someone else made, its
prefix, field names and metric come from `FT.INFO`.

Chat history, as LangChain's RedisChatMessageHistory keeps it: a list `<key_prefix><session>`
(prefix `message_store:` by default) of LangChain message dicts as JSON, newest first (LPUSH).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import ssl
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from flowless_engine.errors import BlockedURLError, ConfigurationError, ProviderAuthError, ProviderError, ProviderTimeoutError
from flowless_engine.vectors.external import Document, Hit, SearchResult

LABEL = "Redis"
CONNECT_TIMEOUT_S = 10.0
CONTENT, VECTOR = "content", "content_vector"
MAX_SCAN = 10_000


class ReplyError(Exception):
    """An error reply (`-ERR ...`) from the server."""


@dataclass(frozen=True)
class RedisTarget:
    host: str
    port: int = 6379
    username: str = ""
    password: str = ""
    db: int = 0
    tls: bool = False

    @classmethod
    def parse(cls, url: str) -> "RedisTarget":
        """`redis://[[user]:password@]host[:port][/db]`, `rediss://` for TLS."""
        text = url.strip()
        scheme = text.partition("://")[0].lower()
        if scheme in ("unix", "redis+unix") or text.startswith("/"):
            raise BlockedURLError("Refusing to connect to a Redis Unix socket")
        if scheme.endswith("+sentinel"):
            raise ConfigurationError(f"{LABEL}: Sentinel URLs are not supported; name the Redis server (redis://host:port)")
        if scheme not in ("redis", "rediss"):
            raise ConfigurationError(f"{LABEL}: the server URL must start with redis:// or rediss://")
        try:
            parts = urlsplit(text)
            port = parts.port or 6379
        except ValueError as exc:
            raise ConfigurationError(f"{LABEL}: the server URL is not valid") from exc
        if not parts.hostname:
            raise ConfigurationError(f"{LABEL}: the server URL names no host")
        path = parts.path.strip("/")
        try:
            db = int(path) if path else 0
        except ValueError as exc:
            raise ConfigurationError(f"{LABEL}: the database in the server URL must be a number") from exc
        return cls(parts.hostname, port, unquote(parts.username or ""), unquote(parts.password or ""), db, scheme == "rediss")


def _encode(args: Sequence[Any]) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


async def _read(reader: asyncio.StreamReader) -> Any:
    line = (await reader.readuntil(b"\r\n"))[:-2]
    kind, rest = line[:1], line[1:]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        return ReplyError(rest.decode(errors="replace"))
    if kind == b":":
        return int(rest)
    if kind == b"$":
        size = int(rest)
        return None if size < 0 else (await reader.readexactly(size + 2))[:-2]
    if kind == b"*":
        size = int(rest)
        return None if size < 0 else [await _read(reader) for _ in range(size)]
    if kind == b",":  # a double (RESP3 servers may answer scores so)
        return float(rest)
    raise ProviderError(f"{LABEL} sent a reply this client does not understand", provider=LABEL)


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.lock = asyncio.Lock()
        self.loop = asyncio.get_running_loop()

    async def send(self, commands: Sequence[Sequence[Any]]) -> list[Any]:
        async with self.lock:
            self.writer.write(b"".join(_encode(c) for c in commands))
            await self.writer.drain()
            return [await _read(self.reader) for _ in commands]


_connections: dict[tuple[Any, ...], _Connection] = {}


def _discard(connection: _Connection) -> None:
    try:
        connection.writer.transport.abort()
    except Exception:  # noqa: BLE001 - its loop may be closed already; the socket is dropped anyway
        pass


class RedisClient:
    def __init__(self, target: RedisTarget, *, allow_private: bool, allow_loopback: bool, timeout: float = 60.0) -> None:
        self.target = target
        self.allow_private, self.allow_loopback = allow_private, allow_loopback
        self.timeout = timeout
        self.address = ""

    def _key(self) -> tuple[Any, ...]:
        t = self.target
        return (self.address, t.port, t.username, hashlib.sha256(t.password.encode()).hexdigest(), t.db, t.tls)

    async def _connect(self) -> _Connection:
        import socket

        from flowless_engine.http import resolve_vetted

        if not self.address:
            try:
                addresses = await resolve_vetted(self.target.host, self.target.port, allow_private=self.allow_private,
                                                 allow_loopback=self.allow_loopback)
            except socket.gaierror as exc:
                raise ProviderError(f"{LABEL}: cannot resolve host '{self.target.host}'", provider=LABEL) from exc
            self.address = addresses[0]
        key = self._key()
        found = _connections.get(key)
        if found is not None:
            if found.loop is asyncio.get_running_loop() and not found.writer.is_closing():
                return found
            _discard(found)  # closed, or opened by the loop of an earlier invocation
        context = ssl.create_default_context() if self.target.tls else None
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(self.address, self.target.port, ssl=context, server_hostname=self.target.host if context else None),
                CONNECT_TIMEOUT_S)
        except asyncio.TimeoutError as exc:
            raise ProviderTimeoutError(f"{LABEL} at {self.target.host}:{self.target.port} did not accept a connection in time", provider=LABEL) from exc
        except OSError as exc:
            raise ProviderError(f"{LABEL}: cannot connect to {self.target.host}:{self.target.port}: {exc.strerror or exc}", provider=LABEL,
                                retryable=True) from exc
        connection = _Connection(reader, writer)
        setup: list[list[Any]] = []
        if self.target.password:
            setup.append(["AUTH", self.target.username, self.target.password] if self.target.username else ["AUTH", self.target.password])
        if self.target.db:
            setup.append(["SELECT", self.target.db])
        if setup:
            for reply in await connection.send(setup):
                if isinstance(reply, ReplyError):
                    writer.close()
                    raise _failure(reply, "connecting")
        _connections[key] = connection
        return connection

    async def pipeline(self, action: str, commands: Sequence[Sequence[Any]]) -> list[Any]:
        """Run the commands in one round trip; an error reply to any of them raises."""
        for attempt in (0, 1):
            connection = await self._connect()
            try:
                replies = await asyncio.wait_for(connection.send(commands), self.timeout)
            except asyncio.TimeoutError as exc:
                _connections.pop(self._key(), None)
                connection.writer.close()
                raise ProviderTimeoutError(f"{LABEL} did not answer in time while {action}", provider=LABEL) from exc
            except (OSError, asyncio.IncompleteReadError) as exc:  # a connection the server closed: open another once
                _connections.pop(self._key(), None)
                if attempt:
                    raise ProviderError(f"{LABEL} closed the connection while {action}", provider=LABEL, retryable=True) from exc
                continue
            for reply in replies:
                if isinstance(reply, ReplyError):
                    raise _failure(reply, action)
            return replies
        raise AssertionError("unreachable")  # pragma: no cover

    async def command(self, action: str, *args: Any) -> Any:
        return (await self.pipeline(action, [args]))[0]

    async def optional(self, action: str, *args: Any) -> Any:
        """One command whose error reply is returned, not raised (an index that may not exist)."""
        connection = await self._connect()
        try:
            (reply,) = await asyncio.wait_for(connection.send([args]), self.timeout)
        except asyncio.TimeoutError as exc:
            raise ProviderTimeoutError(f"{LABEL} did not answer in time while {action}", provider=LABEL) from exc
        if isinstance(reply, ReplyError) and _is_auth_error(str(reply)):
            raise _failure(reply, action)
        return reply


def _is_auth_error(message: str) -> bool:
    return message.split(" ", 1)[0] in ("WRONGPASS", "NOAUTH", "NOPERM") or "invalid password" in message.lower()


def _failure(reply: ReplyError, action: str) -> ProviderError:
    message = str(reply)
    text = f"{LABEL} failed while {action}: {message}"
    if _is_auth_error(message):
        return ProviderAuthError(text, provider=LABEL)
    return ProviderError(text, provider=LABEL)


def _text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else "" if value is None else str(value)


def _pairs(values: Any) -> dict[str, Any]:
    if not isinstance(values, list):
        return {}
    return {_text(values[i]).lower(): values[i + 1] for i in range(0, len(values) - 1, 2)}


def _escape_tag(value: str) -> str:
    return "".join("\\" + c if not (c.isalnum() or c == "_") else c for c in value)


@dataclass
class _Field:
    name: str  # the hash field
    alias: str  # the name in queries
    kind: str  # TEXT, TAG, NUMERIC, VECTOR...
    options: dict[str, Any]


class RedisIndex:
    label = LABEL
    embeds_server_side = False

    def __init__(self, client: RedisClient, name: str) -> None:
        self.client = client
        self.name = name
        self.prefix = f"doc:{name}"
        self.fields: dict[str, _Field] = {}
        self.exists = False

    async def load(self) -> None:
        reply = await self.client.optional(f"reading index '{self.name}'", "FT.INFO", self.name)
        if isinstance(reply, ReplyError):
            message = str(reply).lower()
            if "unknown index" in message or "no such index" in message:
                self.exists = False
                return
            raise _failure(reply, f"reading index '{self.name}'")
        info = _pairs(reply)
        definition = _pairs(info.get("index_definition"))
        prefixes = definition.get("prefixes") or []
        if prefixes:
            self.prefix = _text(prefixes[0]).rstrip(":")
        self.fields = {}
        for attribute in info.get("attributes") or []:
            spec = _pairs(attribute)
            alias = _text(spec.get("attribute") or spec.get("identifier"))
            kind = _text(spec.get("type")).upper()
            self.fields[alias] = _Field(_text(spec.get("identifier") or alias), alias, kind, spec)
        self.exists = True

    @property
    def vector_field(self) -> _Field:
        found = next((f for f in self.fields.values() if f.kind == "VECTOR"), None)
        return found or _Field(VECTOR, VECTOR, "VECTOR", {"distance_metric": b"COSINE"})

    @property
    def dimension(self) -> int | None:
        value = self.vector_field.options.get("dim")
        try:
            return int(_text(value)) if value is not None else None
        except ValueError:
            return None

    @property
    def content_field(self) -> str:
        return CONTENT if CONTENT in self.fields or not self.fields else next(
            (f.name for f in self.fields.values() if f.kind == "TEXT"), CONTENT)

    def key(self, document_id: str) -> str:
        return f"{self.prefix}:{document_id}"

    async def missing(self, documents: Sequence[Document]) -> list[Document]:
        """The documents the index's prefix does not hold yet."""
        replies = await self.client.pipeline(f"reading index '{self.name}'", [("EXISTS", self.key(d.id)) for d in documents])
        return [d for d, held in zip(documents, replies) if not held]

    @staticmethod
    def _metadata_kind(value: Any) -> str:
        return "NUMERIC" if isinstance(value, (int, float)) and not isinstance(value, bool) else "TEXT"

    async def create(self, dimension: int, documents: Sequence[Document]) -> None:
        schema: list[Any] = [CONTENT, "TEXT", "WEIGHT", 1, VECTOR, "VECTOR", "FLAT", 6, "TYPE", "FLOAT32", "DIM", dimension, "DISTANCE_METRIC", "COSINE"]
        for name, kind in self._new_metadata_fields(documents).items():
            schema += [name, kind]
        await self.client.command(f"creating index '{self.name}'", "FT.CREATE", self.name, "ON", "HASH", "PREFIX", 1, self.prefix + ":",
                                  "SCHEMA", *schema)
        await self.load()

    def _new_metadata_fields(self, documents: Sequence[Document]) -> dict[str, str]:
        found: dict[str, str] = {}
        for document in documents:
            for name, value in document.metadata.items():
                if name not in self.fields and name not in found and name not in (CONTENT, VECTOR) and value is not None:
                    found[name] = self._metadata_kind(value)
        return found

    async def extend(self, documents: Sequence[Document]) -> None:
        """Index metadata fields the index does not know yet (FT.ALTER ... SCHEMA ADD)."""
        new = self._new_metadata_fields(documents)
        if new:
            schema = [part for name, kind in new.items() for part in (name, kind)]
            await self.client.command(f"extending index '{self.name}'", "FT.ALTER", self.name, "SCHEMA", "ADD", *schema)
            await self.load()

    async def add(self, documents: Sequence[Document]) -> int:
        new = await self.missing(documents)
        commands = []
        for document in new:
            fields: list[Any] = [self.content_field, document.text, self.vector_field.name, struct.pack(f"<{len(document.vector or ())}f", *(document.vector or ()))]
            for name, value in document.metadata.items():
                if name not in (CONTENT, VECTOR, self.content_field) and value is not None:
                    fields += [name, value if isinstance(value, (str, int, float)) and not isinstance(value, bool) else json.dumps(value)]
            commands.append(("HSET", self.key(document.id), *fields))
        if commands:
            await self.client.pipeline(f"storing documents in index '{self.name}'", commands)
        return len(new)

    def _filter(self, where: dict[str, Any] | None) -> str:
        clauses = []
        for name, value in (where or {}).items():
            field = self.fields.get(name)
            if field is None:
                raise ConfigurationError(f"{LABEL}: the index '{self.name}' has no field '{name}' to filter on")
            values = value if isinstance(value, list) else [value]
            if field.kind == "NUMERIC":
                parts = [f"@{field.alias}:[{float(v)} {float(v)}]" for v in values]
            elif field.kind == "TAG":
                parts = [f"@{field.alias}:{{{' | '.join(_escape_tag(str(v)) for v in values)}}}"]
            else:
                parts = [f'@{field.alias}:"{str(v).replace(chr(34), " ")}"' for v in values]
            clauses.append(parts[0] if len(parts) == 1 else "(" + " | ".join(parts) + ")")
        return " ".join(clauses) or "*"

    def _hits(self, reply: list[Any], with_vectors: bool) -> list[Hit]:
        metric = _text(self.vector_field.options.get("distance_metric") or "COSINE").upper()
        hits = []
        for i in range(1, len(reply) - 1, 2):
            key, values = _text(reply[i]), reply[i + 1]
            fields = {_text(values[j]): values[j + 1] for j in range(0, len(values or []) - 1, 2)}
            vector_bytes = fields.pop(self.vector_field.name, None)
            distance = fields.pop("distance", None)
            text = _text(fields.pop(self.content_field, ""))
            metadata: dict[str, Any] = {"id": key}
            for name, value in fields.items():
                raw = _text(value)
                kind = self.fields.get(name).kind if name in self.fields else "TEXT"
                metadata[name] = _number(raw) if kind == "NUMERIC" else raw
            score = None
            if distance is not None:
                d = float(_text(distance))
                score = 1.0 / (1.0 + d) if metric == "L2" else 1.0 - d
            vector = list(struct.unpack(f"<{len(vector_bytes) // 4}f", vector_bytes)) if with_vectors and isinstance(vector_bytes, bytes) else None
            hits.append(Hit(text, metadata, score, key, vector))
        return hits

    def _returned(self, with_vectors: bool) -> list[str]:
        names = [f.alias for f in self.fields.values() if f.kind != "VECTOR"]
        if with_vectors:
            names.append(self.vector_field.alias)
        return names

    async def search(self, *, vector: Sequence[float] | None, text: str | None, k: int, filter: dict[str, Any] | None,
                     with_vectors: bool) -> SearchResult:
        if not self.exists or vector is None:
            return SearchResult([])
        returned = [*self._returned(with_vectors), "distance"]
        query = f"({self._filter(filter)})=>[KNN {k} @{self.vector_field.alias} $vector AS distance]"
        reply = await self.client.command(f"searching index '{self.name}'", "FT.SEARCH", self.name, query, "PARAMS", 2, "vector",
                                          struct.pack(f"<{len(vector)}f", *vector), "SORTBY", "distance", "ASC",
                                          "RETURN", len(returned), *returned, "LIMIT", 0, k, "DIALECT", 2)
        return SearchResult(self._hits(reply, with_vectors))

    async def scan(self, k: int, filter: dict[str, Any] | None) -> list[Hit]:
        if not self.exists:
            return []
        returned = self._returned(False)
        reply = await self.client.command(f"reading index '{self.name}'", "FT.SEARCH", self.name, self._filter(filter),
                                          "RETURN", len(returned), *returned, "LIMIT", 0, k, "DIALECT", 2)
        return self._hits(reply, False)

    async def delete_where(self, key: str, values: Sequence[Any]) -> int:
        if not self.exists or key not in self.fields:
            return 0
        reply = await self.client.command(f"reading index '{self.name}'", "FT.SEARCH", self.name, self._filter({key: list(values)}),
                                          "NOCONTENT", "LIMIT", 0, MAX_SCAN, "DIALECT", 2)
        keys = [_text(k) for k in reply[1:]]
        if keys:
            await self.client.command(f"deleting from index '{self.name}'", "DEL", *keys)
        return len(keys)


def _number(text: str) -> Any:
    try:
        value = float(text)
    except ValueError:
        return text
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value


class RedisChatHistory:
    """A session's chat messages in a Redis list, as LangChain's RedisChatMessageHistory keeps
    them. Message History and Message Store nodes read and write it through their `memory` input.
    `ttl_s`: the list expires that long after the last message (the flow's session TTL)."""

    def __init__(self, client: RedisClient, session_id: str, key_prefix: str = "message_store:", ttl_s: int | None = None) -> None:
        self.client = client
        self.session_id = session_id
        self.key_prefix = key_prefix
        self.ttl_s = ttl_s

    def key(self, session_id: str | None = None) -> str:
        return self.key_prefix + (session_id or self.session_id)

    async def get_messages(self, session_id: str | None = None, limit: int = 100) -> list[Any]:
        from flowless_engine.schema import Message

        session = session_id or self.session_id
        stop = max(limit, 1) - 1 if limit else -1
        items = await self.client.command(f"reading session '{session}'", "LRANGE", self.key(session), 0, stop)
        messages = []
        for item in reversed(items or []):  # newest first in the list
            try:
                body = json.loads(_text(item))
            except ValueError:
                continue
            kind = body.get("type") or (body.get("data") or {}).get("type")
            content = (body.get("data") or {}).get("content", "")
            human = kind == "human"
            messages.append(Message(text=content if isinstance(content, str) else json.dumps(content), sender="User" if human else "Machine",
                                    sender_name="User" if human else "AI", session_id=session))
        return messages

    async def add_messages(self, messages: list[Any], session_id: str | None = None) -> None:
        session = session_id or self.session_id
        key = self.key(session)
        commands: list[tuple[Any, ...]] = []
        for message in messages:
            kind = "human" if message.sender == "User" else "ai"
            body = {"type": kind, "data": {"content": message.plain_text, "additional_kwargs": {}, "response_metadata": {}, "type": kind,
                                           "name": None, "id": None}}
            commands.append(("LPUSH", key, json.dumps(body)))
        if self.ttl_s:
            commands.append(("EXPIRE", key, int(self.ttl_s)))
        if commands:
            await self.client.pipeline(f"storing messages of session '{session}'", commands)

