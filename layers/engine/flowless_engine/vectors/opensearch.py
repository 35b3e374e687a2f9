"""OpenSearch over its REST API, with the engine's guarded HTTP client.

Documents as Langflow's OpenSearch node writes them: flat `_source` objects holding the text
under `text`, the vector under the node's `vector_field`, and the metadata keys beside them; the
index is created with a `knn_vector` mapping (engine, space type, HNSW parameters). Searches are
Langflow's hybrid query: a k-NN clause (boost 0.7) OR a multi-field keyword match (boost 0.3),
filtered by term/terms clauses.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from flowless_engine.errors import ProviderError
from flowless_engine.vectors.external import Document, Hit, SearchResult, json_call, store_failure

if TYPE_CHECKING:
    from flowless_engine.http import HttpClient

LABEL = "OpenSearch"
KNN_K = 10  # the k-NN clause's k, as Langflow's node sends it


def basic_auth(username: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


class OpenSearchIndex:
    embeds_server_side = False

    def __init__(self, http: "HttpClient", url: str, index: str, headers: dict[str, str], *, vector_field: str = "chunk_embedding",
                 mapping: dict[str, Any] | None = None, timeout: float | None = None, label: str = LABEL) -> None:
        self.http = http
        self.url = url.rstrip("/")
        self.index = index
        self.headers = {"Content-Type": "application/json", "Accept": "application/json", **headers}
        self.vector_field = vector_field
        self.mapping = mapping or {}
        self.timeout = timeout
        self.label = label
        self.exists: bool | None = None

    async def call(self, method: str, path: str, action: str, *, body: Any = None, content: bytes | None = None,
                   headers: dict[str, str] | None = None, missing_ok: bool = False) -> Any:
        return await json_call(self.http, self.label, method, f"{self.url}{path}", action, headers={**self.headers, **(headers or {})},
                               body=body, content=content, timeout=self.timeout, missing_ok=missing_ok)

    @property
    def _path(self) -> str:
        return "/" + quote(self.index, safe="")

    async def check_exists(self) -> bool:
        if self.exists is None:
            from flowless_engine.http import HttpError, HttpTimeout

            try:
                response = await self.http.request("HEAD", f"{self.url}{self._path}", headers=self.headers, timeout=self.timeout,
                                                   raise_for_status=False)
            except (HttpError, HttpTimeout) as exc:
                raise store_failure(self.label, exc, f"looking for index '{self.index}'") from exc
            if response.status not in (200, 404):
                raise store_failure(self.label, HttpError("", status=response.status, body=response.content), f"looking for index '{self.index}'")
            self.exists = response.status == 200
        return self.exists

    async def create(self, dimension: int) -> None:
        mapping = json.loads(json.dumps(self.mapping).replace('"__DIMENSION__"', str(dimension)))
        await self.call("PUT", self._path, f"creating index '{self.index}'", body=mapping)
        self.exists = True

    async def add(self, documents: Sequence[Document]) -> int:
        lines = []
        for doc in documents:
            lines.append(json.dumps({"index": {"_index": self.index, "_id": doc.id}}))
            lines.append(json.dumps({**doc.metadata, "text": doc.text, self.vector_field: list(doc.vector or ())}, default=str))
        body = await self.call("POST", "/_bulk?refresh=true", f"indexing documents into '{self.index}'", content=("\n".join(lines) + "\n").encode(),
                               headers={"Content-Type": "application/x-ndjson"})
        items = body.get("items") or []
        failed = [i for i in items if (next(iter(i.values()), {}) or {}).get("error")]
        if failed:
            error = next(iter(failed[0].values()))["error"]
            reason = error.get("reason") if isinstance(error, dict) else error
            raise ProviderError(f"{self.label} refused {len(failed)} documents while indexing into '{self.index}': {reason}", provider=self.label)
        return sum(1 for i in items if (next(iter(i.values()), {}) or {}).get("result") == "created")

    def decode(self, raw: dict[str, Any]) -> Hit:
        source = dict(raw.get("_source") or {})
        source.pop(self.vector_field, None)
        text = source.pop("text", "")
        score = raw.get("_score")
        return Hit(str(text), source, float(score) if score is not None else None, str(raw.get("_id", "")))

    async def search(self, *, vector: Sequence[float] | None, text: str | None, k: int, filter: list[dict[str, Any]] | None,
                     with_vectors: bool, min_score: float = 0) -> SearchResult:
        if not await self.check_exists():
            return SearchResult([])
        query: dict[str, Any] = {"bool": {"should": [
            {"knn": {self.vector_field: {"vector": list(vector or ()), "k": KNN_K, "boost": 0.7}}},
            {"multi_match": {"query": text or "", "fields": ["text^2", "filename^1.5"], "type": "best_fields", "fuzziness": "AUTO", "boost": 0.3}},
        ], "minimum_should_match": 1}}
        if filter:
            query["bool"]["filter"] = filter
        body: dict[str, Any] = {"query": query, "size": k, "_source": {"excludes": [self.vector_field]}}
        if min_score > 0:
            body["min_score"] = min_score
        answer = await self.call("POST", f"{self._path}/_search", f"searching index '{self.index}'", body=body)
        return SearchResult([self.decode(h) for h in (answer.get("hits") or {}).get("hits") or []])

    async def scan(self, k: int, filter: list[dict[str, Any]] | None) -> list[Hit]:
        if not await self.check_exists():
            return []
        query = {"bool": {"filter": filter}} if filter else {"match_all": {}}
        answer = await self.call("POST", f"{self._path}/_search", f"reading index '{self.index}'",
                                 body={"query": query, "size": k, "_source": {"excludes": [self.vector_field]}})
        hits = [self.decode(h) for h in (answer.get("hits") or {}).get("hits") or []]
        for hit in hits:
            hit.score = None
        return hits

    async def delete_where(self, key: str, values: Sequence[Any]) -> int:
        answer = await self.call("POST", f"{self._path}/_delete_by_query?refresh=true", f"deleting documents from '{self.index}'",
                                 body={"query": {"terms": {key: list(values)}}})
        return int(answer.get("deleted") or 0)
