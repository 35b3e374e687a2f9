"""Astra DB through its Data API (JSON over HTTPS), with the engine's guarded HTTP client.

Every command is a POST of `{"<command>": {...}}` to `<endpoint>/api/json/v1/<keyspace>[/<collection>]`
with the application token in the `Token` header. Command failures come back as
`{"errors": [{"errorCode", "message", ...}]}` (often with HTTP 200): they are raised as
`ProviderError`s naming Astra DB.

Documents keep the shape LangChain's Astra DB store (what Langflow uses) writes, so both read
each other's collections: `{"_id", "content", "metadata", "$vector"}`, or with server-side
embeddings (Astra "vectorize") `{"_id", "$vectorize", "metadata"}`. Documents stored flat
(metadata at the top level, the text under `content_field`) are read too.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flowless_engine.errors import ConfigurationError, ProviderError
from flowless_engine.vectors.external import Document, Hit, SearchResult, store_failure

if TYPE_CHECKING:
    from flowless_engine.http import HttpClient

LABEL = "Astra DB"
API_PATH = "/api/json/v1"
INSERT_BATCH = 20  # documents per insertMany (the Data API accepts up to 100)
MAX_LIMIT = 1000  # the Data API's largest page for a vector-sorted find
_SPECIAL = ("_id", "$vector", "$vectorize", "$similarity")
_OPTIONS_TTL_S = 300.0


@dataclass(frozen=True)
class CollectionOptions:
    exists: bool
    dimension: int | None = None
    metric: str = "cosine"
    service: dict[str, Any] | None = None  # the vectorize provider/model when the server embeds
    lexical: bool = False  # a lexical (BM25) index of `$lexical`
    rerank: bool = False  # a reranking model: hybrid search (`findAndRerank`) is possible

    @property
    def hybrid(self) -> bool:
        return bool(self.service) and self.lexical and self.rerank


# (endpoint, keyspace, collection, token digest) → (options, when read): a warm container asks once.
_options_cache: dict[tuple[str, str, str, str], tuple[CollectionOptions, float]] = {}


def normalise_endpoint(raw: str) -> str:
    endpoint = raw.strip().rstrip("/")
    cut = endpoint.find(API_PATH)
    return endpoint[:cut] if cut >= 0 else endpoint


class AstraCollection:
    """One collection of one database, as a `vectors.external.Collection`."""

    def __init__(self, http: "HttpClient", endpoint: str, token: str, keyspace: str, name: str, *,
                 content_field: str = "", batch_size: int = INSERT_BATCH, timeout: float | None = None, label: str = LABEL) -> None:
        self.label = label
        self.http = http
        self.endpoint = normalise_endpoint(endpoint)
        self.token = token
        self.keyspace = keyspace
        self.name = name
        self.content_field = content_field
        self.batch_size = max(1, min(batch_size, 100))
        self.timeout = timeout
        self.options = CollectionOptions(False)

    @property
    def embeds_server_side(self) -> bool:
        return bool(self.options.service)

    # ---- the wire -----------------------------------------------------------------------

    async def command(self, payload: dict[str, Any], *, on_collection: bool = True, action: str = "") -> dict[str, Any]:
        from flowless_engine.http import HttpError, HttpTimeout

        name = next(iter(payload))
        url = f"{self.endpoint}{API_PATH}/{self.keyspace}" + (f"/{self.name}" if on_collection else "")
        headers = {"Token": self.token, "Content-Type": "application/json", "Accept": "application/json"}
        try:
            response = await self.http.request("POST", url, headers=headers, json=payload, timeout=self.timeout)
            body = response.json()
        except (HttpError, HttpTimeout) as exc:
            raise store_failure(self.label, exc, action or f"running {name}") from exc
        except ValueError as exc:
            raise ProviderError(f"{self.label} answered {name} with something that is not JSON", provider=self.label) from exc
        if not isinstance(body, dict):
            raise ProviderError(f"{self.label} answered {name} with an unexpected body", provider=self.label)
        return body

    def raise_errors(self, body: dict[str, Any], action: str, *, ignore: frozenset[str] = frozenset()) -> None:
        errors = [e for e in body.get("errors") or [] if isinstance(e, dict) and e.get("errorCode") not in ignore]
        if errors:
            first = errors[0]
            code = first.get("errorCode") or first.get("code") or "ERROR"
            message = str(first.get("message") or "")[:300]
            more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
            raise ProviderError(f"{self.label} failed while {action}: {code}: {message}{more}", provider=self.label)

    # ---- collections --------------------------------------------------------------------

    def _cache_key(self) -> tuple[str, str, str, str]:
        return (self.endpoint, self.keyspace, self.name, hashlib.sha256(self.token.encode()).hexdigest())

    async def load_options(self, *, fresh: bool = False) -> CollectionOptions:
        key = self._cache_key()
        cached = _options_cache.get(key)
        if cached and not fresh and time.monotonic() - cached[1] < _OPTIONS_TTL_S:
            self.options = cached[0]
            return self.options
        body = await self.command({"findCollections": {"options": {"explain": True}}}, on_collection=False,
                                  action=f"listing the collections of keyspace '{self.keyspace}'")
        self.raise_errors(body, f"listing the collections of keyspace '{self.keyspace}'")
        options = CollectionOptions(False)
        for entry in (body.get("status") or {}).get("collections") or []:
            if isinstance(entry, dict) and entry.get("name") == self.name:
                settings = entry.get("options") or {}
                vector = settings.get("vector") or {}
                options = CollectionOptions(True, vector.get("dimension"), vector.get("metric") or "cosine", vector.get("service") or None,
                                            bool((settings.get("lexical") or {}).get("enabled")), bool((settings.get("rerank") or {}).get("enabled")))
        if options.exists:
            _options_cache[key] = (options, time.monotonic())
        self.options = options
        return options

    async def create(self, *, dimension: int | None, metric: str, service: dict[str, Any] | None) -> None:
        vector: dict[str, Any] = {"metric": metric or "cosine"}
        if dimension:
            vector["dimension"] = dimension
        if service:
            vector["service"] = service
        action = f"creating collection '{self.name}'"
        body = await self.command({"createCollection": {"name": self.name, "options": {"vector": vector}}}, on_collection=False, action=action)
        self.raise_errors(body, action)
        self.options = CollectionOptions(True, dimension, metric or "cosine", service)
        _options_cache[self._cache_key()] = (self.options, time.monotonic())

    def forget(self) -> None:
        _options_cache.pop(self._cache_key(), None)

    # ---- documents ----------------------------------------------------------------------

    def encode(self, document: Document) -> dict[str, Any]:
        out: dict[str, Any] = {"_id": document.id, "metadata": document.metadata}
        if self.embeds_server_side:
            out["$vectorize"] = document.text
            if self.options.lexical:
                out["$lexical"] = document.text
        else:
            out[self.content_field or "content"] = document.text
            out["$vector"] = list(document.vector or ())
        return out

    def decode(self, raw: dict[str, Any]) -> Hit:
        text_key = next((k for k in (self.content_field, "content", "$vectorize", "page_content", "text") if k and k in raw), "")
        text = raw.get(text_key, "") if text_key else ""
        if isinstance(raw.get("metadata"), dict):
            metadata = dict(raw["metadata"])
        else:  # a flat document: every other field is metadata
            metadata = {k: v for k, v in raw.items() if k not in _SPECIAL and k != text_key}
        score = raw.get("$similarity")
        vector = raw.get("$vector")
        return Hit(str(text if isinstance(text, str) else text or ""), metadata, float(score) if score is not None else None,
                   str(raw.get("_id", "")), list(vector) if isinstance(vector, list) else None)

    async def add(self, documents: Sequence[Document]) -> int:
        inserted = 0
        action = f"inserting documents into collection '{self.name}'"
        for start in range(0, len(documents), self.batch_size):
            batch = [self.encode(d) for d in documents[start:start + self.batch_size]]
            body = await self.command({"insertMany": {"documents": batch, "options": {"ordered": False}}}, action=action)
            # A document stored by an earlier run (same content, same id) is not an error.
            self.raise_errors(body, action, ignore=frozenset({"DOCUMENT_ALREADY_EXISTS"}))
            inserted += len((body.get("status") or {}).get("insertedIds") or [])
        return inserted

    def translate_filter(self, where: dict[str, Any] | None) -> dict[str, Any]:
        """Metadata keys live under `metadata.` (LangChain's documents); operators, `_id` and
        explicit paths are kept as written."""
        if not where:
            return {}
        out: dict[str, Any] = {}
        for key, value in where.items():
            if key.startswith("$"):
                out[key] = [self.translate_filter(v) if isinstance(v, dict) else v for v in value] if isinstance(value, list) else value
            elif key == "_id" or key.startswith("metadata."):
                out[key] = value
            else:
                out[f"metadata.{key}"] = value
        return out

    async def search(self, *, vector: Sequence[float] | None, text: str | None, k: int, filter: dict[str, Any] | None,
                     with_vectors: bool) -> SearchResult:
        if not self.options.exists:  # nothing was ever stored: nothing to find (as Langflow answers)
            return SearchResult([])
        if self.embeds_server_side:
            sort: dict[str, Any] = {"$vectorize": text or ""}
        elif vector is not None:
            sort = {"$vector": list(vector)}
        else:
            raise ConfigurationError(f"Collection '{self.name}' does not embed on the server: an embedding model is needed to search it")
        options: dict[str, Any] = {"limit": max(1, min(k, MAX_LIMIT)), "includeSimilarity": True}
        if with_vectors and self.embeds_server_side:
            options["includeSortVector"] = True
        find: dict[str, Any] = {"filter": self.translate_filter(filter), "sort": sort, "options": options}
        if with_vectors or self.embeds_server_side:
            find["projection"] = {"*": 1}
        action = f"searching collection '{self.name}'"
        body = await self.command({"find": find}, action=action)
        self.raise_errors(body, action)
        documents = (body.get("data") or {}).get("documents") or []
        query_vector = (body.get("status") or {}).get("sortVector")
        return SearchResult([self.decode(d) for d in documents if isinstance(d, dict)], query_vector if isinstance(query_vector, list) else None)

    async def hybrid_search(self, *, text: str, lexical: str, k: int, filter: dict[str, Any] | None) -> SearchResult:
        """`findAndRerank`: vector and lexical candidates merged, then ranked by the collection's
        reranking model (scores: the reranker's)."""
        if not self.options.exists:
            return SearchResult([])
        find: dict[str, Any] = {
            "filter": self.translate_filter(filter),
            "sort": {"$hybrid": {"$vectorize": text, "$lexical": lexical or text}},
            "projection": {"*": 1},
            "options": {"limit": max(1, min(k, MAX_LIMIT)), "includeScores": True, "rerankOn": "$vectorize", "rerankQuery": text},
        }
        action = f"searching collection '{self.name}' (hybrid)"
        body = await self.command({"findAndRerank": find}, action=action)
        self.raise_errors(body, action)
        documents = [d for d in (body.get("data") or {}).get("documents") or [] if isinstance(d, dict)]
        responses = (body.get("status") or {}).get("documentResponses") or []
        hits = []
        for index, document in enumerate(documents):
            hit = self.decode(document)
            scores = (responses[index] or {}).get("scores") if index < len(responses) and isinstance(responses[index], dict) else None
            hit.score = float(scores["$rerank"]) if isinstance(scores, dict) and scores.get("$rerank") is not None else hit.score
            hit.vector = None
            hits.append(hit)
        return SearchResult(hits)

    async def scan(self, k: int, filter: dict[str, Any] | None) -> list[Hit]:
        if not self.options.exists:
            return []
        find: dict[str, Any] = {"filter": self.translate_filter(filter), "options": {"limit": max(1, min(k, MAX_LIMIT))}}
        if self.embeds_server_side:
            find["projection"] = {"*": 1}
        hits = [self.decode(d) for d in await self._pages(find, f"reading collection '{self.name}'")]
        for hit in hits:
            hit.vector = None
        return hits

    async def find_documents(self, filter: dict[str, Any], *, sort: dict[str, Any] | None = None, limit: int = 20,
                             projection: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Documents as stored (a `find` with the caller's own filter, sort and projection)."""
        find: dict[str, Any] = {"filter": filter, "options": {"limit": max(1, min(limit, MAX_LIMIT))}}
        if sort:
            find["sort"] = sort
        if projection:
            find["projection"] = projection
        return await self._pages(find, f"reading collection '{self.name}'")

    async def _pages(self, find: dict[str, Any], action: str) -> list[dict[str, Any]]:
        """Every document a `find` answers: without a vector sort the Data API answers 20 at a
        time, the next page asked with the `nextPageState` it gave (up to the find's limit)."""
        documents: list[dict[str, Any]] = []
        page_state = None
        while True:
            options = {**(find.get("options") or {}), **({"pageState": page_state} if page_state else {})}
            body = await self.command({"find": {**find, "options": options}}, action=action)
            self.raise_errors(body, action)
            data = body.get("data") or {}
            documents.extend(d for d in data.get("documents") or [] if isinstance(d, dict))
            page_state = data.get("nextPageState")
            limit = int(options.get("limit") or 0)
            if not page_state or (limit and len(documents) >= limit):
                return documents[:limit] if limit else documents

    async def delete_where(self, key: str, values: Sequence[Any]) -> int:
        action = f"deleting documents from collection '{self.name}'"
        body = await self.command({"deleteMany": {"filter": self.translate_filter({key: {"$in": list(values)}})}}, action=action)
        self.raise_errors(body, action)
        return int((body.get("status") or {}).get("deletedCount") or 0)
