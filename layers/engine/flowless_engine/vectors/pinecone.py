"""Pinecone over its REST APIs: the control plane (`GET /indexes/<name>`) tells the index's host,
the data plane stores (`/vectors/upsert`) and searches (`/query`) vectors, the text kept in the
metadata under `text_key` as LangChain's Pinecone store does. Scores are Pinecone's (cosine and
dot similarity; euclidean: the squared distance, turned into 1 / (1 + distance))."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from flowless_engine.vectors.external import Document, Hit, RestStore, SearchResult

CONTROL_PLANE = "https://api.pinecone.io"
API_VERSION = "2025-04"


class PineconeIndex(RestStore):
    label = "Pinecone"

    def __init__(self, http: Any, api_key: str, name: str, *, namespace: str = "", text_key: str = "text",
                 control_plane: str = CONTROL_PLANE, timeout: float | None = None) -> None:
        super().__init__(http, control_plane, {"Api-Key": api_key, "X-Pinecone-API-Version": API_VERSION}, timeout)
        self.name, self.namespace, self.text_key = name, namespace, text_key
        self.host = ""
        self.metric = "cosine"

    async def load(self) -> None:
        info = await self.call("GET", f"/indexes/{quote(self.name, safe='')}", f"describing index '{self.name}'")
        host = str(info.get("host") or "")
        self.host = host if "://" in host else f"https://{host}"
        self.metric = str(info.get("metric") or "cosine")

    async def add(self, documents: Sequence[Document]) -> int:
        ids = [d.id for d in documents]
        query = "&".join(f"ids={quote(i)}" for i in ids) + (f"&namespace={quote(self.namespace)}" if self.namespace else "")
        found = await self.call("GET", f"{self.host}/vectors/fetch?{query}", f"reading index '{self.name}'")
        known = set((found or {}).get("vectors") or {})
        vectors = [{"id": d.id, "values": list(d.vector or ()), "metadata": {**d.metadata, self.text_key: d.text}} for d in documents if d.id not in known]
        for start in range(0, len(vectors), 100):
            await self.call("POST", f"{self.host}/vectors/upsert", f"storing vectors in index '{self.name}'",
                            {"vectors": vectors[start:start + 100], "namespace": self.namespace})
        return len(vectors)

    @staticmethod
    def translate_filter(where: dict[str, Any] | None) -> dict[str, Any] | None:
        if not where:
            return None
        return {k: {"$in": v} if isinstance(v, list) else {"$eq": v} for k, v in where.items()}

    def decode(self, match: dict[str, Any]) -> Hit:
        metadata = dict(match.get("metadata") or {})
        text = metadata.pop(self.text_key, "")
        score = match.get("score")
        if score is not None and self.metric == "euclidean":
            score = 1.0 / (1.0 + float(score))
        values = match.get("values")
        return Hit(str(text), metadata, score, str(match.get("id", "")), list(values) if values else None)

    async def search(self, *, vector: Sequence[float] | None, text: str | None, k: int, filter: dict[str, Any] | None,
                     with_vectors: bool) -> SearchResult:
        if vector is None:
            return SearchResult([])
        body: dict[str, Any] = {"vector": list(vector), "topK": k, "includeMetadata": True, "includeValues": with_vectors,
                                "namespace": self.namespace}
        if filter:
            body["filter"] = self.translate_filter(filter)
        answer = await self.call("POST", f"{self.host}/query", f"searching index '{self.name}'", body)
        return SearchResult([self.decode(m) for m in answer.get("matches") or []])

    async def scan(self, k: int, filter: dict[str, Any] | None) -> list[Hit]:
        return []  # Pinecone lists nothing without a query vector

    async def delete_where(self, key: str, values: Sequence[Any]) -> int:
        await self.call("POST", f"{self.host}/vectors/delete", f"deleting from index '{self.name}'",
                        {"filter": self.translate_filter({key: list(values)}), "namespace": self.namespace})
        return 0
