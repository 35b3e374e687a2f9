"""MongoDB Atlas Vector Search, through pymongo from the optional connectors layer.

Documents as LangChain's MongoDBAtlasVectorSearch (what Langflow uses) keeps them, so each reads
the other's collections: `{_id, text, <index field>: [floats], **metadata}`; search is Atlas's
`$vectorSearch` aggregation stage (`numCandidates` 10× the results, `filter` on the fields the
index declares as `filter`), the score `{$meta: "vectorSearchScore"}` (Atlas normalises it to
0..1, higher is closer). The vector search index is created when missing, as Langflow does.

Network guard. Before a client is made, every host of the connection string is resolved and
vetted by the engine's guard; for `mongodb+srv://` that is every host the SRV record names (the
seed list pymongo would connect to; the SRV and TXT lookups themselves are DNS queries only).
Then every socket pymongo opens, including to the replica-set members the servers announce, goes
through `_guarded_connection`: the host is resolved once, vetted, and the socket connects to the
vetted address (TLS still verifies the host name), so a DNS answer cannot change between the
check and the connection. A member announced by a server but absent from the seed list is held
to the strict policy (public addresses only). TLS file options (`tlsCAFile`...) read local files
and are refused, as are Unix sockets.

Clients are kept per warm container, keyed by the connection string's digest and the guard's
policy; pymongo is synchronous and runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from collections.abc import Sequence
from typing import Any

from flowless_engine.errors import BlockedURLError, ConfigurationError, ProviderAuthError, ProviderError, ProviderTimeoutError
from flowless_engine.vectors.external import Document, Hit, SearchResult

LABEL = "MongoDB Atlas"
TEXT_KEY = "text"
CANDIDATES_FACTOR = 10  # numCandidates = 10 × limit, as LangChain's store asks
SERVER_SELECTION_MS = 10_000
INDEX_READY_WAIT_S = 30.0
FILE_OPTIONS = {"tlscafile", "tlscertificatekeyfile", "tlscrlfile", "tlscertificatekeyfilepassword"}
AUTH_CODES = {18, 13}  # AuthenticationFailed, Unauthorized
INDEX_EXISTS = 68  # IndexAlreadyExists
DUPLICATE_KEY = 11000

_clients: dict[tuple[str, bool, bool], Any] = {}
_clients_lock = threading.Lock()
# (host, port) → (allow_private, allow_loopback): the policy each vetted seed host was vetted with.
_policies: dict[tuple[str, int], tuple[bool, bool]] = {}
_patched = False


def _pymongo() -> Any:
    try:
        import pymongo
    except ImportError as exc:  # the connectors layer is not attached
        raise ConfigurationError(f"{LABEL} needs the connectors layer (the pymongo driver), which this function does not have") from exc
    return pymongo


def _install_guard() -> None:
    """Route pymongo's socket creation through the network guard (once per process)."""
    global _patched
    if _patched:
        return
    from pymongo import pool_shared

    original = pool_shared._create_connection

    def _guarded_connection(address: tuple[str, int], options: Any) -> Any:
        import socket

        from flowless_engine.http import _vet_addresses

        host, port = address
        if host.endswith(".sock") or host.startswith("/"):
            raise BlockedURLError(f"Refusing to connect to the Unix socket '{host}'")
        allow_private, allow_loopback = _policies.get((host.lower(), port), (False, False))
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        addresses = _vet_addresses(host, infos, allow_private=allow_private, allow_loopback=allow_loopback)
        return original((addresses[0], port), options)

    pool_shared._create_connection = _guarded_connection
    _patched = True


class MongoTarget:
    """A connection string, checked and vetted."""

    def __init__(self, uri: str, *, allow_private: bool, allow_loopback: bool) -> None:
        self.uri = uri.strip()
        self.allow_private, self.allow_loopback = allow_private, allow_loopback
        if not self.uri.startswith(("mongodb://", "mongodb+srv://")):
            raise ConfigurationError(f"{LABEL}: the cluster URI must start with mongodb:// or mongodb+srv://")
        options = self.uri.partition("://")[2].partition("?")[2]
        from urllib.parse import parse_qsl

        keys = {key.casefold() for key, _ in parse_qsl(options.replace(";", "&"), keep_blank_values=True)}
        if keys & FILE_OPTIONS:
            raise ConfigurationError(f"{LABEL}: TLS file options ({', '.join(sorted(keys & FILE_OPTIONS))}) read local files "
                                     "and are not allowed; use Enable mTLS with the client certificate field")

    async def vet(self) -> list[tuple[str, int]]:
        """Every seed host resolved and vetted; returns the seed list."""
        import socket

        from flowless_engine.http import resolve_vetted

        _pymongo()
        from pymongo.errors import ConfigurationError as MongoConfigurationError
        from pymongo.errors import InvalidURI
        from pymongo.uri_parser import parse_uri

        try:
            parsed = await asyncio.to_thread(parse_uri, self.uri, connect_timeout=SERVER_SELECTION_MS / 1000)
        except (InvalidURI, MongoConfigurationError, ValueError) as exc:
            raise ConfigurationError(f"{LABEL}: the cluster URI is not valid: {_scrub(str(exc), self.uri)}") from exc
        for host, _ in parsed["nodelist"]:
            if str(host).endswith(".sock") or str(host).startswith("/"):
                raise BlockedURLError(f"Refusing to connect to the Unix socket '{host}'")
        nodes = [(str(h), int(p or 27017)) for h, p in parsed["nodelist"]]
        for host, port in nodes:
            try:
                await resolve_vetted(host, port, allow_private=self.allow_private, allow_loopback=self.allow_loopback)
            except socket.gaierror as exc:
                raise ProviderError(f"{LABEL}: cannot resolve host '{host}'", provider=LABEL) from exc
        for host, port in nodes:
            _policies[(host.lower(), port)] = (self.allow_private, self.allow_loopback)
        return nodes

    def client(self, certificate_file: str | None = None) -> Any:
        pymongo = _pymongo()
        _install_guard()
        digest = hashlib.sha256((self.uri + "\x1f" + (certificate_file or "")).encode()).hexdigest()
        key = (digest, self.allow_private, self.allow_loopback)
        with _clients_lock:
            found = _clients.get(key)
            if found is None:
                kwargs: dict[str, Any] = {"serverSelectionTimeoutMS": SERVER_SELECTION_MS, "connectTimeoutMS": SERVER_SELECTION_MS,
                                          "appname": "flowless"}
                if "serverselectiontimeoutms" in self.uri.lower():
                    kwargs.pop("serverSelectionTimeoutMS")
                if certificate_file:
                    kwargs.update(tls=True, tlsCertificateKeyFile=certificate_file)
                    try:
                        import certifi

                        kwargs["tlsCAFile"] = certifi.where()  # as Langflow does
                    except ImportError:  # the system's CA store
                        pass
                found = pymongo.MongoClient(self.uri, **kwargs)
                _clients[key] = found
            return found


def _scrub(text: str, uri: str) -> str:
    """An error text without the connection string's password."""
    from urllib.parse import unquote, urlsplit

    try:
        password = urlsplit(uri.replace("mongodb+srv://", "mongodb://", 1).split(",")[0]).password
    except ValueError:
        password = None
    for secret in filter(None, {password, unquote(password or "")}):
        text = text.replace(secret, "***")
    return text


def failure(exc: BaseException, action: str, uri: str = "") -> Exception:
    """A pymongo failure as the engine error naming the store."""
    from pymongo import errors

    if isinstance(exc, (BlockedURLError, ConfigurationError, ProviderError)):
        return exc
    if isinstance(exc, errors.InvalidName):
        return ConfigurationError(f"{LABEL}: {exc}")
    if isinstance(exc, errors.OperationFailure):
        details = exc.details or {}
        message = str(details.get("errmsg") or exc)
        code_name = details.get("codeName") or ""
        text = f"{LABEL} failed while {action}: {_scrub(message, uri)}" + (f" ({code_name})" if code_name else "")
        if exc.code in AUTH_CODES:  # (no `status`: MongoDB's codes are not HTTP statuses; the code name says it)
            return ProviderAuthError(text, provider=LABEL)
        return ProviderError(text, provider=LABEL, retryable=exc.has_error_label("RetryableError"))
    if isinstance(exc, errors.ServerSelectionTimeoutError):
        cause = _blocked_cause(exc)
        if cause is not None:
            return cause
        return ProviderTimeoutError(f"{LABEL} could not be reached while {action}: {_scrub(str(exc).split(', Timeout:')[0], uri)}",
                                    provider=LABEL)
    if isinstance(exc, errors.ExecutionTimeout):
        return ProviderTimeoutError(f"{LABEL} did not answer in time while {action}", provider=LABEL)
    if isinstance(exc, errors.PyMongoError):
        return ProviderError(f"{LABEL} failed while {action}: {_scrub(str(exc), uri)}", provider=LABEL, retryable=True)
    return ProviderError(f"{LABEL} failed while {action}: {type(exc).__name__}: {_scrub(str(exc), uri)}", provider=LABEL)


def _blocked_cause(exc: BaseException) -> BlockedURLError | None:
    """The guard's refusal, when that is why no server was reachable (pymongo reports it as text)."""
    text = str(exc)
    marker = "Refusing to connect to "
    if marker in text:
        reason = text[text.index(marker):].split(" (configured timeouts")[0].split(", Timeout:")[0]
        return BlockedURLError(reason.rstrip(",) "))
    return None


class MongoCollection:
    """One collection and its vector search index."""

    label = LABEL
    embeds_server_side = False

    def __init__(self, target: MongoTarget, database: str, name: str, index_name: str, *, vector_field: str = "embedding",
                 filter_field: str = "", dimensions: int = 1536, similarity: str = "cosine", quantization: str | None = None,
                 certificate_file: str | None = None) -> None:
        self.target = target
        self.database, self.name, self.index_name = database, name, index_name
        self.vector_field, self.filter_field = vector_field, filter_field
        self.dimensions, self.similarity, self.quantization = dimensions, similarity, quantization
        self.certificate_file = certificate_file
        self._index_checked = False

    async def _run(self, action: str, work: Any) -> Any:
        def call() -> Any:
            collection = self.target.client(self.certificate_file)[self.database][self.name]
            return work(collection)

        try:
            return await asyncio.to_thread(call)
        except Exception as exc:  # pymongo's errors, named
            raise failure(exc, action, self.target.uri) from exc

    # ---- the search index ----

    def index_definition(self) -> dict[str, Any]:
        vector: dict[str, Any] = {"type": "vector", "path": self.vector_field, "numDimensions": self.dimensions, "similarity": self.similarity}
        if self.quantization:
            vector["quantization"] = self.quantization
        fields = [vector]
        if self.filter_field:
            fields.append({"type": "filter", "path": self.filter_field})
        return {"fields": fields}

    async def index_exists(self) -> bool:
        indexes = await self._run(f"reading the search indexes of '{self.database}.{self.name}'",
                                  lambda c: list(c.list_search_indexes(self.index_name)))
        return bool(indexes)

    async def ensure_index(self) -> bool:
        """Create the vector search index when the collection has none by that name, then wait
        (bounded) until Atlas reports it queryable. Atlas creates indexes on existing collections
        only: with no document stored yet, nothing is created (False)."""
        if self._index_checked:
            return True
        from pymongo.operations import SearchIndexModel

        label = f"reading the search indexes of '{self.database}.{self.name}'"
        indexes = await self._run(label, lambda c: list(c.list_search_indexes()))
        if not any(i.get("name") == self.index_name for i in indexes):
            if await self._run(f"reading '{self.database}.{self.name}'", lambda c: c.find_one({}, {"_id": 1})) is None:
                return False
            model = SearchIndexModel(definition=self.index_definition(), name=self.index_name, type="vectorSearch")
            try:
                await self._run(f"creating the vector search index '{self.index_name}'", lambda c: c.create_search_index(model))
            except ProviderError as exc:
                if getattr(exc.__cause__, "code", None) != INDEX_EXISTS:  # another run (or node) created it meanwhile: fine
                    raise
            deadline = time.monotonic() + INDEX_READY_WAIT_S
            while time.monotonic() < deadline:
                indexes = await self._run(label, lambda c: list(c.list_search_indexes(self.index_name)))
                if any(i.get("queryable") for i in indexes):
                    break
                await asyncio.sleep(1.0)
        self._index_checked = True
        return True

    # ---- Collection protocol ----

    async def clear(self) -> int:
        return await self._run(f"emptying '{self.database}.{self.name}'", lambda c: c.delete_many({}).deleted_count)

    async def add(self, documents: Sequence[Document]) -> int:
        from bson import ObjectId

        records = []
        for document in documents:
            metadata = {k: v for k, v in document.metadata.items() if k not in ("_id", TEXT_KEY, self.vector_field)}
            record_id: Any = ObjectId(document.id[:24]) if _is_hex(document.id[:24]) else document.id
            records.append({"_id": record_id, TEXT_KEY: document.text, self.vector_field: list(document.vector or ()), **metadata})

        def insert(collection: Any) -> int:
            known = {r["_id"] for r in collection.find({"_id": {"$in": [r["_id"] for r in records]}}, {"_id": 1})}
            new = [r for r in records if r["_id"] not in known]
            if not new:
                return 0
            from pymongo.errors import BulkWriteError

            try:
                collection.insert_many(new, ordered=False)
            except BulkWriteError as exc:  # stored meanwhile by a concurrent run (same content, same id): fine
                errors = (exc.details or {}).get("writeErrors") or []
                if not errors or any(e.get("code") != DUPLICATE_KEY for e in errors):
                    raise
                return len(new) - len(errors)
            return len(new)

        added = await self._run(f"storing documents in '{self.database}.{self.name}'", insert)
        await self.ensure_index()  # the collection exists now
        return added

    def _hit(self, record: dict[str, Any], with_vectors: bool) -> Hit:
        from bson import ObjectId

        record = dict(record)
        text = record.pop(TEXT_KEY, "")
        score = record.pop("score", None)
        vector = record.pop(self.vector_field, None)
        metadata = {k: str(v) if isinstance(v, ObjectId) else v for k, v in record.items()}
        return Hit(str(text or ""), metadata, float(score) if score is not None else None, str(metadata.get("_id", "")),
                   list(vector) if with_vectors and isinstance(vector, list) else None)

    async def search(self, *, vector: Sequence[float] | None, text: str | None, k: int, filter: dict[str, Any] | None,
                     with_vectors: bool) -> SearchResult:
        if vector is None or not await self.ensure_index():
            return SearchResult([])
        stage: dict[str, Any] = {"index": self.index_name, "path": self.vector_field, "queryVector": [float(v) for v in vector],
                                 "numCandidates": k * CANDIDATES_FACTOR, "limit": k}
        if filter:
            stage["filter"] = mongo_filter(filter)
        pipeline: list[dict[str, Any]] = [{"$vectorSearch": stage}, {"$set": {"score": {"$meta": "vectorSearchScore"}}}]
        if not with_vectors:
            pipeline.append({"$project": {self.vector_field: 0}})
        records = await self._run(f"searching '{self.database}.{self.name}' with index '{self.index_name}'",
                                  lambda c: list(c.aggregate(pipeline)))
        return SearchResult([self._hit(r, with_vectors) for r in records if TEXT_KEY in r])

    async def scan(self, k: int, filter: dict[str, Any] | None) -> list[Hit]:
        where = mongo_filter(filter or {})
        records = await self._run(f"reading '{self.database}.{self.name}'",
                                  lambda c: list(c.find(where, {self.vector_field: 0}).limit(k)))
        return [self._hit(r, False) for r in records if TEXT_KEY in r]

    async def delete_where(self, key: str, values: Sequence[Any]) -> int:
        return await self._run(f"deleting from '{self.database}.{self.name}'",
                               lambda c: c.delete_many({key: {"$in": list(values)}}).deleted_count)


def mongo_filter(where: dict[str, Any]) -> dict[str, Any]:
    """A metadata filter: `{"field": value}` or `{"field": [values]}` as MongoDB's query
    operators; a filter already written with operators (`{"year": {"$gte": 2025}}`) as is."""
    out: dict[str, Any] = {}
    for key, value in where.items():
        if key.startswith("$") or (isinstance(value, dict) and all(str(k).startswith("$") for k in value)):
            out[key] = value
        elif isinstance(value, list):
            out[key] = {"$in": value}
        else:
            out[key] = {"$eq": value}
    return out


def _is_hex(text: str) -> bool:
    return len(text) == 24 and all(c in "0123456789abcdef" for c in text.lower())


def close_clients() -> None:
    """Close the kept clients (tests; a container that is shutting down)."""
    with _clients_lock:
        clients = list(_clients.values())
        _clients.clear()
    for client in clients:
        client.close()
