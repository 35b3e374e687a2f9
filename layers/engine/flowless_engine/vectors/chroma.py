"""A Chroma server over its HTTP API (v2), with the engine's guarded HTTP client.

Collections live in a tenant and database (`default_tenant` / `default_database`); documents
are `ids`, `embeddings`, `documents` (the text) and `metadatas`, as LangChain's Chroma store
writes them. Adding an id the collection holds changes nothing, so re-running an ingestion
stores nothing twice. Chroma answers distances; the score is 1 - distance for the cosine and
inner-product spaces, 1 / (1 + distance) for l2 (Chroma's default space).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from flowless_engine.vectors.external import Document, Hit, SearchResult, json_call

if TYPE_CHECKING:
    from flowless_engine.http import HttpClient

LABEL = "Chroma"


class ChromaCollection:
    label = LABEL
    embeds_server_side = False

    def __init__(self, http: "HttpClient", base_url: str, name: str, *, tenant: str = "default_tenant", database: str = "default_database",
                 headers: dict[str, str] | None = None, timeout: float | None = None) -> None:
        self.http = http
        self.root = f"{base_url.rstrip('/')}/api/v2/tenants/{quote(tenant, safe='')}/databases/{quote(database, safe='')}/collections"
        self.name = name
        self.headers = {"Content-Type": "application/json", "Accept": "application/json", **(headers or {})}
        self.timeout = timeout
        self.id: str | None = None
        self.space = "l2"

    async def call(self, method: str, path: str, action: str, body: Any = None, *, missing_ok: bool = False) -> Any:
        return await json_call(self.http, LABEL, method, self.root + path, action, headers=self.headers, body=body, timeout=self.timeout,
                               missing_ok=missing_ok)

    def _adopt(self, info: dict[str, Any]) -> None:
        self.id = str(info.get("id"))
        space = ((info.get("configuration_json") or {}).get("hnsw") or {}).get("space") or (info.get("metadata") or {}).get("hnsw:space")
        self.space = str(space or "l2")

    async def load(self) -> bool:
        info = await self.call("GET", "/" + quote(self.name, safe=""), f"opening collection '{self.name}'", missing_ok=True)
        if info:
            self._adopt(info)
        return self.id is not None

    async def create(self) -> None:
        info = await self.call("POST", "", f"creating collection '{self.name}'", {"name": self.name, "get_or_create": True})
        self._adopt(info)

    async def add(self, documents: Sequence[Document]) -> int:
        if self.id is None:
            await self.create()
        before = await self.count()
        body = {"ids": [d.id for d in documents], "embeddings": [list(d.vector or ()) for d in documents],
                "documents": [d.text for d in documents], "metadatas": [d.metadata or None for d in documents]}
        await self.call("POST", f"/{self.id}/add", f"adding documents to collection '{self.name}'", body)
        return await self.count() - before

    async def count(self) -> int:
        if self.id is None:
            return 0
        return int(await self.call("GET", f"/{self.id}/count", f"counting collection '{self.name}'") or 0)

    def _score(self, distance: float | None) -> float | None:
        if distance is None:
            return None
        return 1.0 - distance if self.space in ("cosine", "ip") else 1.0 / (1.0 + distance)

    @staticmethod
    def translate_filter(where: dict[str, Any] | None) -> dict[str, Any] | None:
        """`{key: value | [values]}` as Chroma's `where` (several keys: `$and`)."""
        if not where:
            return None
        clauses = [{k: {"$in": v} if isinstance(v, list) else v} for k, v in where.items()]
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    async def search(self, *, vector: Sequence[float] | None, text: str | None, k: int, filter: dict[str, Any] | None,
                     with_vectors: bool) -> SearchResult:
        if self.id is None or vector is None:
            return SearchResult([])
        include = ["documents", "metadatas", "distances", *(["embeddings"] if with_vectors else [])]
        body: dict[str, Any] = {"query_embeddings": [list(vector)], "n_results": k, "include": include}
        where = self.translate_filter(filter)
        if where:
            body["where"] = where
        answer = await self.call("POST", f"/{self.id}/query", f"searching collection '{self.name}'", body)
        ids = (answer.get("ids") or [[]])[0]
        documents = (answer.get("documents") or [[]])[0] or [""] * len(ids)
        metadatas = (answer.get("metadatas") or [[]])[0] or [None] * len(ids)
        distances = (answer.get("distances") or [[]])[0] or [None] * len(ids)
        embeddings = ((answer.get("embeddings") or [[]])[0] or [None] * len(ids)) if with_vectors else [None] * len(ids)
        return SearchResult([Hit(documents[i] or "", dict(metadatas[i] or {}), self._score(distances[i]), ids[i],
                                 list(embeddings[i]) if embeddings[i] is not None else None) for i in range(len(ids))])

    async def scan(self, k: int, filter: dict[str, Any] | None) -> list[Hit]:
        if self.id is None:
            return []
        body: dict[str, Any] = {"limit": k, "include": ["documents", "metadatas"]}
        where = self.translate_filter(filter)
        if where:
            body["where"] = where
        answer = await self.call("POST", f"/{self.id}/get", f"reading collection '{self.name}'", body)
        ids = answer.get("ids") or []
        documents = answer.get("documents") or [""] * len(ids)
        metadatas = answer.get("metadatas") or [None] * len(ids)
        return [Hit(documents[i] or "", dict(metadatas[i] or {}), None, ids[i]) for i in range(len(ids))]

    async def delete_where(self, key: str, values: Sequence[Any]) -> int:
        if self.id is None:
            return 0
        before = await self.count()
        await self.call("POST", f"/{self.id}/delete", f"deleting from collection '{self.name}'", {"where": {key: {"$in": list(values)}}})
        return before - await self.count()
