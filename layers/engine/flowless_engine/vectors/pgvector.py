"""PostgreSQL with pgvector, through the pg8000 driver of the optional connectors layer.

Tables as LangChain's PGVector store (what Langflow uses) makes them, so both read each other's
collections: `langchain_pg_collection (uuid, name, cmetadata)` and `langchain_pg_embedding (uuid,
collection_id, embedding vector, document, cmetadata, custom_id)`; ranking by cosine distance
(`<=>`), the score 1 - distance.

The server's host is resolved and vetted by the engine's network guard before connecting, and
the connection goes to the vetted address. Connections are kept per warm container, keyed by
address, user, database and a digest of the password; the driver is synchronous and runs in a
worker thread, one statement at a time per connection.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from flowless_engine.errors import BlockedURLError, ConfigurationError, ProviderError
from flowless_engine.vectors.external import Document, Hit, SearchResult

LABEL = "PGVector"
CONNECT_TIMEOUT_S = 10


@dataclass(frozen=True)
class PostgresTarget:
    host: str
    port: int
    user: str
    password: str
    database: str
    ssl: bool

    @classmethod
    def parse(cls, url: str) -> "PostgresTarget":
        """`postgresql://user:password@host:port/database?sslmode=...` (also postgres://,
        postgresql+psycopg://); a password with reserved characters may be written raw, as
        Langflow accepts it."""
        text = url.strip()
        scheme, sep, rest = text.partition("://")
        if not sep or not scheme.split("+")[0] in ("postgresql", "postgres"):
            raise ConfigurationError(f"{LABEL}: the server URL must start with postgresql://")
        credentials, at, location = rest.rpartition("@")
        parts = urlsplit(f"postgresql://{location}")
        user, _, password = credentials.partition(":") if at else ("", "", "")
        query = parse_qs(parts.query)
        try:
            port = parts.port or 5432
        except ValueError as exc:
            raise ConfigurationError(f"{LABEL}: the server URL has an invalid port") from exc
        if not parts.hostname:
            raise ConfigurationError(f"{LABEL}: the server URL names no host")
        return cls(parts.hostname, port, unquote(user), unquote(password), unquote(parts.path.lstrip("/")) or "postgres",
                   (query.get("sslmode") or ["prefer"])[0] in ("require", "verify-ca", "verify-full"))


class _Pool:
    """Open connections by target, reused across runs of a warm container."""

    def __init__(self) -> None:
        self.connections: dict[tuple[str, int, str, str, str], tuple[Any, threading.Lock]] = {}
        self.lock = threading.Lock()

    def get(self, key: tuple[str, int, str, str, str], opener: Any) -> tuple[Any, threading.Lock]:
        with self.lock:
            found = self.connections.get(key)
            if found is None:
                found = (opener(), threading.Lock())
                self.connections[key] = found
            return found

    def drop(self, key: tuple[str, int, str, str, str]) -> None:
        with self.lock:
            found = self.connections.pop(key, None)
        if found is not None:
            try:
                found[0].close()
            except Exception:  # noqa: BLE001 - the connection is being discarded anyway
                pass


_pool = _Pool()


def _driver() -> Any:
    try:
        import pg8000.native
    except ImportError as exc:  # the connectors layer is not attached
        raise ConfigurationError(f"{LABEL} needs the connectors layer (the pg8000 driver), which this function does not have") from exc
    return pg8000.native


class PostgresClient:
    def __init__(self, target: PostgresTarget, *, allow_private: bool, allow_loopback: bool) -> None:
        self.target = target
        self.allow_private, self.allow_loopback = allow_private, allow_loopback
        self.address = ""

    async def vet(self) -> None:
        """Resolve the host and vet every address with the network guard (as the HTTP client does)."""
        import socket

        from flowless_engine.http import resolve_vetted

        try:
            addresses = await resolve_vetted(self.target.host, self.target.port, allow_private=self.allow_private, allow_loopback=self.allow_loopback)
        except socket.gaierror as exc:
            raise ProviderError(f"{LABEL}: cannot resolve host '{self.target.host}'", provider=LABEL) from exc
        except BlockedURLError:
            raise
        self.address = addresses[0]

    def _key(self) -> tuple[str, int, str, str, str]:
        t = self.target
        return (self.address, t.port, t.user, t.database, hashlib.sha256(t.password.encode()).hexdigest())

    def _open(self) -> Any:
        driver = _driver()
        ssl_context = None
        if self.target.ssl:
            import ssl

            ssl_context = ssl.create_default_context()
            ssl_context.check_hostname = False  # connected by vetted address; sslmode=require semantics
            ssl_context.verify_mode = ssl.CERT_NONE
        return driver.Connection(self.target.user, host=self.address, port=self.target.port, database=self.target.database,
                                 password=self.target.password or None, timeout=CONNECT_TIMEOUT_S, ssl_context=ssl_context)

    def _run_sync(self, statements: list[tuple[str, dict[str, Any]]]) -> list[Any]:
        driver = _driver()
        key = self._key()
        for attempt in (0, 1):
            connection, lock = _pool.get(key, self._open)
            try:
                with lock:
                    return [connection.run(sql, **params) for sql, params in statements]
            except driver.InterfaceError:
                _pool.drop(key)  # a connection the server closed: open another once
                if attempt:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def run(self, action: str, *statements: tuple[str, dict[str, Any]]) -> list[Any]:
        if not self.address:
            await self.vet()
        try:
            return await asyncio.to_thread(self._run_sync, list(statements))
        except ConfigurationError:
            raise
        except Exception as exc:  # pg8000's DatabaseError/InterfaceError, socket errors
            message = exc.args[0] if exc.args else exc
            if isinstance(message, dict):  # pg8000: the server's error fields
                message = f"{message.get('C', '')} {message.get('M', '')}".strip()
            raise ProviderError(f"{LABEL} failed while {action}: {message}", provider=LABEL) from exc


SCHEMA = (
    ("CREATE EXTENSION IF NOT EXISTS vector", {}),
    ("CREATE TABLE IF NOT EXISTS langchain_pg_collection (uuid UUID PRIMARY KEY, name VARCHAR, cmetadata JSON)", {}),
    ("CREATE TABLE IF NOT EXISTS langchain_pg_embedding (uuid UUID PRIMARY KEY, collection_id UUID REFERENCES "
     "langchain_pg_collection(uuid) ON DELETE CASCADE, embedding VECTOR, document VARCHAR, cmetadata JSON, custom_id VARCHAR)", {}),
)


class PGVectorCollection:
    label = LABEL
    embeds_server_side = False

    def __init__(self, client: PostgresClient, name: str) -> None:
        self.client = client
        self.name = name
        self.id: str | None = None

    async def load(self, *, create: bool) -> None:
        if create:
            await self.client.run("preparing the tables", *SCHEMA)
        else:
            (exists,) = await self.client.run("looking for the tables", ("SELECT to_regclass('langchain_pg_collection') IS NOT NULL", {}))
            if not exists[0][0]:
                return
        (rows,) = await self.client.run(f"opening collection '{self.name}'", ("SELECT uuid FROM langchain_pg_collection WHERE name = :name", {"name": self.name}))
        if rows:
            self.id = str(rows[0][0])
        elif create:
            self.id = str(uuid.uuid4())
            await self.client.run(f"creating collection '{self.name}'", (
                "INSERT INTO langchain_pg_collection (uuid, name, cmetadata) VALUES (CAST(:id AS UUID), :name, NULL)", {"id": self.id, "name": self.name}))

    async def add(self, documents: Sequence[Document]) -> int:
        if self.id is None:
            await self.load(create=True)
        (rows,) = await self.client.run(f"reading collection '{self.name}'", (
            "SELECT custom_id FROM langchain_pg_embedding WHERE collection_id = CAST(:c AS UUID) AND custom_id = ANY(:ids)",
            {"c": self.id, "ids": [d.id for d in documents]}))
        known = {r[0] for r in rows}
        new = [d for d in documents if d.id not in known]
        statements = [(
            "INSERT INTO langchain_pg_embedding (uuid, collection_id, embedding, document, cmetadata, custom_id) "
            "VALUES (CAST(:u AS UUID), CAST(:c AS UUID), CAST(:e AS vector), :doc, CAST(:m AS JSON), :cid)",
            {"u": str(uuid.uuid4()), "c": self.id, "e": _vector(d.vector or ()), "doc": d.text,
             "m": json.dumps(d.metadata, default=str), "cid": d.id}) for d in new]
        if statements:
            await self.client.run(f"storing documents in collection '{self.name}'", *statements)
        return len(new)

    @staticmethod
    def _where(where: dict[str, Any] | None, params: dict[str, Any]) -> str:
        clauses = []
        for n, (key, value) in enumerate((where or {}).items()):
            values = value if isinstance(value, list) else [value]
            params[f"k{n}"] = key
            params[f"v{n}"] = [_text(v) for v in values]
            clauses.append(f"(cmetadata ->> :k{n}) = ANY(:v{n})")
        return "".join(f" AND {c}" for c in clauses)

    async def search(self, *, vector: Sequence[float] | None, text: str | None, k: int, filter: dict[str, Any] | None,
                     with_vectors: bool) -> SearchResult:
        if self.id is None or vector is None:
            return SearchResult([])
        params: dict[str, Any] = {"c": self.id, "q": _vector(vector), "k": k}
        sql = ("SELECT custom_id, document, cmetadata::text, embedding <=> CAST(:q AS vector) AS distance"
               + (", embedding::text" if with_vectors else "")
               + " FROM langchain_pg_embedding WHERE collection_id = CAST(:c AS UUID)" + self._where(filter, params)
               + " ORDER BY distance LIMIT :k")
        (rows,) = await self.client.run(f"searching collection '{self.name}'", (sql, params))
        return SearchResult([Hit(r[1] or "", json.loads(r[2]) if r[2] else {}, 1.0 - float(r[3]), str(r[0] or ""),
                                 json.loads(r[4]) if with_vectors else None) for r in rows])

    async def scan(self, k: int, filter: dict[str, Any] | None) -> list[Hit]:
        if self.id is None:
            return []
        params: dict[str, Any] = {"c": self.id, "k": k}
        (rows,) = await self.client.run(f"reading collection '{self.name}'", (
            "SELECT custom_id, document, cmetadata::text FROM langchain_pg_embedding WHERE collection_id = CAST(:c AS UUID)"
            + self._where(filter, params) + " LIMIT :k", params))
        return [Hit(r[1] or "", json.loads(r[2]) if r[2] else {}, None, str(r[0] or "")) for r in rows]

    async def delete_where(self, key: str, values: Sequence[Any]) -> int:
        params: dict[str, Any] = {"c": self.id}
        (rows,) = await self.client.run(f"deleting from collection '{self.name}'", (
            "DELETE FROM langchain_pg_embedding WHERE collection_id = CAST(:c AS UUID)" + self._where({key: list(values)}, params)
            + " RETURNING 1", params))
        return len(rows)


def _vector(values: Sequence[float]) -> str:
    return "[" + ",".join(repr(float(v)) for v in values) + "]"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
