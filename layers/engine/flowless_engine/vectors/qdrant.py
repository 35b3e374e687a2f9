"""Qdrant over its REST API. Points as LangChain's Qdrant store writes them: a UUID id, the vector,
and the payload `{<content_payload_key>: text, <metadata_payload_key>: {...}}`; the collection is
created with the node's distance. Scores are Qdrant's similarities (cosine, dot); for Euclid,
where Qdrant answers the distance, 1 / (1 + distance)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from flowless_engine.vectors.external import Document, Hit, RestStore, SearchResult, uuid_of

DISTANCES = {"Cosine": "Cosine", "Euclidean": "Euclid", "Dot Product": "Dot"}


class QdrantCollection(RestStore):
    label = "Qdrant"

    def __init__(self, http: Any, base_url: str, name: str, *, api_key: str = "", content_key: str = "page_content",
                 metadata_key: str = "metadata", distance: str = "Cosine", timeout: float | None = None) -> None:
        super().__init__(http, base_url, {"api-key": api_key} if api_key else {}, timeout)
        self.name = name
        self.path = f"/collections/{quote(name, safe='')}"
        self.content_key, self.metadata_key = content_key, metadata_key
        self.distance = DISTANCES.get(distance, distance or "Cosine")
        self.exists = False

    async def load(self) -> None:
        self.exists = await self.call("GET", self.path, f"opening collection '{self.name}'", missing_ok=True) is not None

    async def create(self, dimension: int) -> None:
        await self.call("PUT", self.path, f"creating collection '{self.name}'", {"vectors": {"size": dimension, "distance": self.distance}})
        self.exists = True

    async def add(self, documents: Sequence[Document]) -> int:
        ids = [uuid_of(d.id) for d in documents]
        found = await self.call("POST", f"{self.path}/points", f"reading collection '{self.name}'", {"ids": ids, "with_payload": False})
        known = {str(p.get("id")) for p in (found or {}).get("result") or []}
        points = [{"id": i, "vector": list(d.vector or ()), "payload": {self.content_key: d.text, self.metadata_key: d.metadata}}
                  for i, d in zip(ids, documents) if i not in known]
        if points:
            await self.call("PUT", f"{self.path}/points?wait=true", f"storing points in collection '{self.name}'", {"points": points})
        return len(points)

    def translate_filter(self, where: dict[str, Any] | None) -> dict[str, Any] | None:
        if not where:
            return None
        must = []
        for key, value in where.items():
            field = key if "." in key else f"{self.metadata_key}.{key}"
            must.append({"key": field, "match": {"any": value} if isinstance(value, list) else {"value": value}})
        return {"must": must}

    def decode(self, point: dict[str, Any]) -> Hit:
        payload = point.get("payload") or {}
        vector = point.get("vector")
        score = point.get("score")
        if score is not None and self.distance == "Euclid":
            score = 1.0 / (1.0 + float(score))
        return Hit(str(payload.get(self.content_key) or ""), dict(payload.get(self.metadata_key) or {}),
                   score, str(point.get("id", "")), list(vector) if isinstance(vector, list) else None)

    async def search(self, *, vector: Sequence[float] | None, text: str | None, k: int, filter: dict[str, Any] | None,
                     with_vectors: bool) -> SearchResult:
        if not self.exists or vector is None:
            return SearchResult([])
        body: dict[str, Any] = {"vector": list(vector), "limit": k, "with_payload": True, "with_vector": with_vectors}
        if filter:
            body["filter"] = self.translate_filter(filter)
        answer = await self.call("POST", f"{self.path}/points/search", f"searching collection '{self.name}'", body)
        return SearchResult([self.decode(p) for p in answer.get("result") or []])

    async def scan(self, k: int, filter: dict[str, Any] | None) -> list[Hit]:
        if not self.exists:
            return []
        body: dict[str, Any] = {"limit": k, "with_payload": True}
        if filter:
            body["filter"] = self.translate_filter(filter)
        answer = await self.call("POST", f"{self.path}/points/scroll", f"reading collection '{self.name}'", body)
        return [self.decode(p) for p in (answer.get("result") or {}).get("points") or []]

    async def delete_where(self, key: str, values: Sequence[Any]) -> int:
        await self.call("POST", f"{self.path}/points/delete?wait=true", f"deleting from collection '{self.name}'",
                        {"filter": self.translate_filter({key: list(values)})})
        return 0
