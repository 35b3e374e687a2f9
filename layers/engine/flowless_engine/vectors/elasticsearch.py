"""Elasticsearch over its REST API: documents as LangChain's ElasticsearchStore writes them
(`{"text", "metadata": {...}, "vector": [...]}`, the index mapped with a `dense_vector` using cosine
similarity), searched with the `knn` option of `_search` (scores: (1 + cosine) / 2)."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from flowless_engine.errors import ConfigurationError, ProviderError
from flowless_engine.vectors.external import Document, Hit, RestStore, SearchResult


def cloud_id_url(cloud_id: str) -> str:
    """The Elasticsearch URL an Elastic Cloud id stands for (`name:base64(host$es_id$kibana_id)`)."""
    try:
        host, es_id = base64.b64decode(cloud_id.split(":", 1)[-1]).decode().split("$")[:2]
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigurationError("Elasticsearch: the Elastic Cloud ID is not valid") from exc
    host, _, port = host.partition(":")
    return f"https://{es_id}.{host}" + (f":{port}" if port and port != "443" else "")


class ElasticsearchIndex(RestStore):
    label = "Elasticsearch"

    def __init__(self, http: Any, url: str, index: str, headers: dict[str, str], timeout: float | None = None) -> None:
        super().__init__(http, url, headers, timeout)
        self.index = index
        self.path = "/" + quote(index, safe="")
        self.exists = False

    async def load(self) -> None:
        self.exists = await self.call("GET", self.path, f"looking for index '{self.index}'", missing_ok=True) is not None

    async def create(self, dimension: int) -> None:
        await self.call("PUT", self.path, f"creating index '{self.index}'", {"mappings": {"properties": {
            "vector": {"type": "dense_vector", "dims": dimension, "index": True, "similarity": "cosine"}}}})
        self.exists = True

    async def add(self, documents: Sequence[Document]) -> int:
        from flowless_engine.http import HttpError, HttpTimeout
        from flowless_engine.vectors.external import store_failure

        lines = []
        for doc in documents:
            lines.append(json.dumps({"create": {"_index": self.index, "_id": doc.id}}))
            lines.append(json.dumps({"text": doc.text, "metadata": doc.metadata, "vector": list(doc.vector or ())}, default=str))
        try:
            response = await self.http.request("POST", f"{self.base_url}/_bulk?refresh=true", headers={**self.headers, "Content-Type": "application/x-ndjson"},
                                               content=("\n".join(lines) + "\n").encode(), timeout=self.timeout, raise_for_status=False)
        except (HttpError, HttpTimeout) as exc:
            raise store_failure(self.label, exc, f"indexing documents into '{self.index}'") from exc
        if not 200 <= response.status < 300:
            raise store_failure(self.label, HttpError("", status=response.status, body=response.content), f"indexing documents into '{self.index}'")
        items = [next(iter(i.values())) for i in response.json().get("items") or []]
        failed = [i for i in items if i.get("error") and (i["error"] or {}).get("type") != "version_conflict_engine_exception"]
        if failed:
            raise ProviderError(f"{self.label} refused {len(failed)} documents while indexing into '{self.index}': "
                                f"{(failed[0]['error'] or {}).get('reason')}", provider=self.label)
        return sum(1 for i in items if i.get("result") == "created")

    @staticmethod
    def translate_filter(where: dict[str, Any] | None) -> list[dict[str, Any]]:
        return [{"terms" if isinstance(v, list) else "term": {f"metadata.{k}" if not k.startswith("metadata.") else k: v}}
                for k, v in (where or {}).items()]

    @staticmethod
    def decode(hit: dict[str, Any], with_vectors: bool = False) -> Hit:
        source = hit.get("_source") or {}
        vector = source.get("vector")
        return Hit(str(source.get("text") or ""), dict(source.get("metadata") or {}), hit.get("_score"), str(hit.get("_id", "")),
                   list(vector) if with_vectors and isinstance(vector, list) else None)

    async def search(self, *, vector: Sequence[float] | None, text: str | None, k: int, filter: dict[str, Any] | None,
                     with_vectors: bool) -> SearchResult:
        if not self.exists or vector is None:
            return SearchResult([])
        knn: dict[str, Any] = {"field": "vector", "query_vector": list(vector), "k": k, "num_candidates": max(50, k)}
        if filter:
            knn["filter"] = self.translate_filter(filter)
        body = {"knn": knn, "size": k, "_source": {"excludes": [] if with_vectors else ["vector"]}}
        answer = await self.call("POST", f"{self.path}/_search", f"searching index '{self.index}'", body)
        return SearchResult([self.decode(h, with_vectors) for h in (answer.get("hits") or {}).get("hits") or []])

    async def scan(self, k: int, filter: dict[str, Any] | None) -> list[Hit]:
        if not self.exists:
            return []
        query = {"bool": {"filter": self.translate_filter(filter)}} if filter else {"match_all": {}}
        answer = await self.call("POST", f"{self.path}/_search", f"reading index '{self.index}'",
                                 {"query": query, "size": k, "_source": {"excludes": ["vector"]}})
        return [Hit(h.text, h.metadata, None, h.id) for h in map(self.decode, (answer.get("hits") or {}).get("hits") or [])]

    async def delete_where(self, key: str, values: Sequence[Any]) -> int:
        answer = await self.call("POST", f"{self.path}/_delete_by_query?refresh=true", f"deleting from '{self.index}'",
                                 {"query": {"bool": {"filter": self.translate_filter({key: list(values)})}}})
        return int(answer.get("deleted") or 0)
