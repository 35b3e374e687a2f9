"""Couchbase over its HTTP services, with the engine's guarded HTTP client — no SDK (its C++ core
does not run here).

Connection string → HTTP endpoints (the SDK dials the data service, Flowless the two services
LangChain's Couchbase store relies on):

- `couchbase://host[:port][,host2...]` → Query `http://host:8093`, Search `http://host:8094`;
- `couchbases://host...` (TLS, Capella) → Query `https://host:18093`, Search `https://host:18094`;
- a bare host list is read as `couchbase://`;
- `http(s)://host:port` → both services at that origin (a gateway or a proxy in front of them).

The first seed host is used; a port given on a seed (the SDK's data/manager port) is ignored.
Options after `?` are the SDK's and are ignored. Username and password go as HTTP Basic.

Documents are stored as LangChain's Couchbase store writes them — `{"text", "embedding",
"metadata": {...}}` in `bucket.scope.collection`, keyed by their id — with a N1QL `UPSERT` on the
Query service (`POST /query/service`). Searches are vector searches on the Search service's
scoped index (`POST /api/bucket/{bucket}/scope/{scope}/index/{index}/query`, a `knn` clause on
`embedding`, `fields: ["*"]`): each hit's stored fields come back flattened (`metadata.tag`),
the `metadata.` prefix is dropped as LangChain does, and the score is Couchbase's.

Errors: Query answers `{"errors": [{"code", "msg"}], "status": "fatal"|"errors"}`, Search an HTTP
status with `{"error": ..., "status": "fail"}`. Refused credentials (401/403) are a
`ProviderAuthError` (422), a missing keyspace or index a `ConfigurationError`, the rest a
`ProviderError` naming Couchbase (502, 504 on a timeout).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from flowless_engine.errors import ConfigurationError, ProviderAuthError, ProviderError
from flowless_engine.vectors.external import Document, Hit, SearchResult, json_call

LABEL = "Couchbase"
BATCH = 50
PORTS = {"couchbase": ("http", 8093, 8094), "couchbases": ("https", 18093, 18094)}
_BUCKET = re.compile(r"^[A-Za-z0-9_.%-]{1,100}$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_%-]{0,250}$|^_default$")
_SEED = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?$")
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Endpoints:
    query: str  # origin of the Query service
    search: str  # origin of the Search service


def endpoints(connection_string: str) -> Endpoints:
    """The Query and Search origins a Couchbase connection string names (see the module text)."""
    text = connection_string.strip()
    if not text or any(c.isspace() or not c.isprintable() for c in text) or "#" in text:
        raise ConfigurationError(f"{LABEL}: the connection string is not a valid couchbase:// or couchbases:// address")
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "couchbase", text
    scheme = scheme.lower()
    netloc = re.split(r"[/?]", rest, maxsplit=1)[0]
    if "@" in netloc:
        raise ConfigurationError(f"{LABEL}: put the username and password in their own fields, not in the connection string")
    if scheme in ("http", "https"):
        if not _SEED.match(netloc):
            raise ConfigurationError(f"{LABEL}: the connection string names no valid host")
        origin = f"{scheme}://{netloc}"
        return Endpoints(origin, origin)
    if scheme not in PORTS:
        raise ConfigurationError(f"{LABEL}: the connection string must start with couchbase:// or couchbases:// (got '{scheme}://')")
    seeds = [s for s in netloc.split(",") if s]
    if not seeds or not all(_SEED.match(s) for s in seeds):
        raise ConfigurationError(f"{LABEL}: the connection string names no valid host")
    host = _SEED.match(seeds[0]).group(1)  # type: ignore[union-attr]
    protocol, query_port, search_port = PORTS[scheme]
    return Endpoints(f"{protocol}://{host}:{query_port}", f"{protocol}://{host}:{search_port}")


def _quoted(name: str) -> str:
    return f"`{name}`"


def _metadata_path(key: str, alias: str = "d") -> str:
    if not _KEY.match(key):
        raise ConfigurationError(f"{LABEL}: metadata key '{key}' cannot be used in a filter")
    return f"{alias}.metadata.`{key}`"


class CouchbaseCollection:
    """One collection (`bucket.scope.collection`) and the scoped Search index over it."""

    label = LABEL
    embeds_server_side = False

    def __init__(self, http: Any, connection_string: str, *, username: str, password: str, bucket: str, scope: str, collection: str,
                 index: str, text_key: str = "text", embedding_key: str = "embedding", timeout: float | None = None) -> None:
        import base64

        for what, value, pattern in (("bucket", bucket, _BUCKET), ("scope", scope, _NAME), ("collection", collection, _NAME)):
            if not pattern.match(value or ""):
                raise ConfigurationError(f"{LABEL}: '{value}' is not a valid {what} name")
        if not index:
            raise ConfigurationError(f"{LABEL}: an index name is required")
        self.http = http
        self.endpoints = endpoints(connection_string)
        self.bucket, self.scope, self.collection, self.index = bucket, scope, collection, index
        self.keyspace = ".".join(_quoted(n) for n in (bucket, scope, collection))
        self.text_key, self.embedding_key = text_key, embedding_key
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        self.headers = {"Content-Type": "application/json", "Accept": "application/json", "Authorization": f"Basic {token}"}
        self.timeout = timeout

    # ---- the two services -------------------------------------------------------------------

    async def query(self, statement: str, args: Sequence[Any], action: str) -> dict[str, Any]:
        """One N1QL statement with positional arguments; its answer (`results`, `metrics`)."""
        body = {"statement": statement, "args": list(args)}
        try:
            answer = await json_call(self.http, LABEL, "POST", f"{self.endpoints.query}/query/service", action, headers=self.headers,
                                     body=body, timeout=self.timeout)
        except ProviderError as exc:
            raise self._refined(exc, action, "keyspace") from exc
        if not isinstance(answer, dict):
            raise ProviderError(f"{LABEL} answered something unexpected while {action}", provider=LABEL)
        if answer.get("status") not in (None, "success") or answer.get("errors"):
            errors = [e for e in answer.get("errors") or [] if isinstance(e, dict)]
            first = errors[0] if errors else {}
            message = f"{LABEL} failed while {action}: {str(first.get('msg') or answer.get('status'))[:300]}"
            if first.get("code") in (12003, 12021):  # keyspace / scope not found
                raise ConfigurationError(f"{message} (does {self.bucket}.{self.scope}.{self.collection} exist?)")
            raise ProviderError(message, provider=LABEL)
        return answer

    async def search_index(self, body: dict[str, Any], action: str) -> dict[str, Any]:
        path = "/api/bucket/{}/scope/{}/index/{}/query".format(*(quote(n, safe="") for n in (self.bucket, self.scope, self.index)))
        try:
            answer = await json_call(self.http, LABEL, "POST", self.endpoints.search + path, action, headers=self.headers, body=body,
                                     timeout=self.timeout)
        except ProviderError as exc:
            raise self._refined(exc, action, "index") from exc
        status = (answer or {}).get("status") if isinstance(answer, dict) else None
        if isinstance(status, dict) and status.get("failed") and not status.get("successful"):
            errors = status.get("errors")
            detail = next(iter(errors.values()), "") if isinstance(errors, dict) and errors else (errors or "")
            raise ProviderError(f"{LABEL} failed while {action}: {str(detail)[:300] or 'every index partition failed'}", provider=LABEL)
        return answer if isinstance(answer, dict) else {}

    def _refined(self, exc: ProviderError, action: str, missing: str) -> Exception:
        if exc.status in (401, 403):
            return ProviderAuthError(f"{LABEL} refused the username or password while {action} (HTTP {exc.status})", provider=LABEL,
                                     status=exc.status)
        text = exc.message.lower()
        if exc.status in (400, 404) and "not found" in text:
            if missing == "index":
                return ConfigurationError(f"{LABEL}: Index {self.index} does not exist in {self.bucket}.{self.scope}. "
                                          "Please create the index before searching.")
            return ConfigurationError(f"{exc.message} (does {self.bucket}.{self.scope}.{self.collection} exist?)")
        return exc

    # ---- Collection -----------------------------------------------------------------------

    async def held(self, documents: Sequence[Document]) -> set[str]:
        """The ids of `documents` the collection already holds."""
        ids = [d.id for d in documents]
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            part = ids[start:start + 500]
            answer = await self.query(f"SELECT RAW META(d).id FROM {self.keyspace} AS d USE KEYS $1", [part],
                                      f"reading collection '{self.collection}'")
            found.update(str(i) for i in answer.get("results") or [])
        return found

    async def add(self, documents: Sequence[Document]) -> int:
        action = f"storing documents in collection '{self.collection}'"
        for start in range(0, len(documents), BATCH):
            part = documents[start:start + BATCH]
            values = ", ".join(f"(${2 * i + 1}, ${2 * i + 2})" for i in range(len(part)))
            args: list[Any] = []
            for doc in part:
                args += [doc.id, {self.text_key: doc.text, self.embedding_key: list(doc.vector or ()), "metadata": doc.metadata}]
            await self.query(f"UPSERT INTO {self.keyspace} (KEY, VALUE) VALUES {values}", args, action)
        return len(documents)  # an upsert by id: a document stored before is replaced, not doubled

    def _decode(self, fields: dict[str, Any], score: Any, doc_id: str) -> Hit:
        fields = dict(fields)
        text = fields.pop(self.text_key, "")
        fields.pop(self.embedding_key, None)
        metadata: dict[str, Any] = {}
        for key, value in fields.items():  # stored fields come back flattened: "metadata.tag"
            metadata[key.split("metadata.", 1)[-1] if key.startswith("metadata.") else key] = value
        return Hit(str(text or ""), metadata, float(score) if isinstance(score, (int, float)) else None, doc_id)

    def knn_filter(self, where: dict[str, Any] | None) -> dict[str, Any] | None:
        """`{key: value}` (a list: any of) as a Search query on the metadata fields."""
        if not where:
            return None
        conjuncts = []
        for key, value in where.items():
            options = value if isinstance(value, list) else [value]
            disjuncts = [{"field": f"metadata.{key}", "bool": v} if isinstance(v, bool)
                         else {"field": f"metadata.{key}", "min": v, "max": v, "inclusive_min": True, "inclusive_max": True}
                         if isinstance(v, (int, float)) else {"field": f"metadata.{key}", "term": str(v)} for v in options]
            conjuncts.append(disjuncts[0] if len(disjuncts) == 1 else {"disjuncts": disjuncts})
        return conjuncts[0] if len(conjuncts) == 1 else {"conjuncts": conjuncts}

    async def search(self, *, vector: Sequence[float] | None, text: str | None, k: int, filter: dict[str, Any] | None,
                     with_vectors: bool) -> SearchResult:
        if vector is None:
            raise ConfigurationError(f"{LABEL} searches need an embedding model")
        knn: dict[str, Any] = {"field": self.embedding_key, "vector": list(vector), "k": k}
        pre_filter = self.knn_filter(filter)
        if pre_filter:
            knn["filter"] = pre_filter
        body = {"query": {"match_none": {}}, "knn": [knn], "size": k, "from": 0, "fields": ["*"]}
        answer = await self.search_index(body, f"searching index '{self.index}'")
        hits = [self._decode(h.get("fields") or {}, h.get("score"), str(h.get("id") or ""))
                for h in answer.get("hits") or [] if isinstance(h, dict)]
        hits.sort(key=lambda h: h.score if h.score is not None else float("-inf"), reverse=True)
        return SearchResult(hits[:k])

    def _where(self, where: dict[str, Any] | None, args: list[Any]) -> str:
        clauses = []
        for key, value in (where or {}).items():
            args.append(value)
            clauses.append(f"{_metadata_path(key)} {'IN' if isinstance(value, list) else '='} ${len(args)}")
        return f" WHERE {' AND '.join(clauses)}" if clauses else ""

    async def scan(self, k: int, filter: dict[str, Any] | None) -> list[Hit]:
        args: list[Any] = []
        where = self._where(filter, args)
        args.append(k)
        answer = await self.query(f"SELECT META(d).id AS id, d.`{self.text_key}` AS text, d.metadata AS metadata FROM {self.keyspace} AS d"
                                  f"{where} LIMIT ${len(args)}", args, f"reading collection '{self.collection}'")
        return [Hit(str(r.get("text") or ""), dict(r.get("metadata") or {}), None, str(r.get("id") or ""))
                for r in answer.get("results") or [] if isinstance(r, dict)]

    async def delete_where(self, key: str, values: Sequence[Any]) -> int:
        args: list[Any] = [list(values)]
        answer = await self.query(f"DELETE FROM {self.keyspace} AS d WHERE {_metadata_path(key)} IN $1", args,
                                  f"deleting documents from collection '{self.collection}'")
        return int((answer.get("metrics") or {}).get("mutationCount") or 0)
