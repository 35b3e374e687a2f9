"""Upstash Vector over its REST API: records as LangChain's Upstash store writes them (the text in
the metadata under `text_key`; with Upstash's own embeddings, also as the record's `data`),
searched with `/query` (a vector, or `data` when Upstash embeds), filtered with Upstash's filter
language, scores as Upstash normalises them (0..1)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from flowless_engine.vectors.external import Document, Hit, RestStore, SearchResult


def filter_text(where: dict[str, Any] | None) -> str:
    """`{key: value | [values]}` in Upstash's filter language."""
    def literal(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return repr(value)
        return "'" + str(value).replace("'", "\\'") + "'"

    clauses = []
    for key, value in (where or {}).items():
        clauses.append(f"{key} IN ({', '.join(literal(v) for v in value)})" if isinstance(value, list) else f"{key} = {literal(value)}")
    return " AND ".join(clauses)


class UpstashIndex(RestStore):
    label = "Upstash"

    def __init__(self, http: Any, url: str, token: str, *, namespace: str = "", text_key: str = "text", server_embeds: bool = False,
                 filter: str = "", timeout: float | None = None) -> None:
        super().__init__(http, url, {"Authorization": f"Bearer {token}"}, timeout)
        self.suffix = f"/{quote(namespace, safe='')}" if namespace else ""
        self.text_key = text_key
        self.embeds_server_side = server_embeds
        self.filter = filter  # the node's own filter text, used when the search names none

    def _result(self, answer: Any) -> Any:
        return answer.get("result") if isinstance(answer, dict) else None

    async def add(self, documents: Sequence[Document]) -> int:
        found = self._result(await self.call("POST", f"/fetch{self.suffix}", "reading the index", {"ids": [d.id for d in documents]})) or []
        known = {r.get("id") for r in found if isinstance(r, dict)}
        records = []
        for doc in documents:
            if doc.id in known:
                continue
            record: dict[str, Any] = {"id": doc.id, "metadata": {**doc.metadata, self.text_key: doc.text}}
            if self.embeds_server_side:
                record["data"] = doc.text
            else:
                record["vector"] = list(doc.vector or ())
            records.append(record)
        if records:
            await self.call("POST", f"/upsert{'-data' if self.embeds_server_side else ''}{self.suffix}", "storing records", records)
        return len(records)

    def decode(self, record: dict[str, Any]) -> Hit:
        metadata = dict(record.get("metadata") or {})
        text = metadata.pop(self.text_key, None) or record.get("data") or ""
        vector = record.get("vector")
        return Hit(str(text), metadata, record.get("score"), str(record.get("id", "")), list(vector) if vector else None)

    async def search(self, *, vector: Sequence[float] | None, text: str | None, k: int, filter: dict[str, Any] | None,
                     with_vectors: bool) -> SearchResult:
        body: dict[str, Any] = {"topK": k, "includeMetadata": True, "includeData": True, "includeVectors": with_vectors}
        if self.embeds_server_side:
            body["data"] = text or ""
        elif vector is not None:
            body["vector"] = list(vector)
        else:
            return SearchResult([])
        where = filter_text(filter) or self.filter
        if where:
            body["filter"] = where
        records = self._result(await self.call("POST", f"/query{'-data' if self.embeds_server_side else ''}{self.suffix}", "searching the index", body)) or []
        return SearchResult([self.decode(r) for r in records])

    async def scan(self, k: int, filter: dict[str, Any] | None) -> list[Hit]:
        return []  # Upstash filters only a query

    async def delete_where(self, key: str, values: Sequence[Any]) -> int:
        answer = self._result(await self.call("POST", f"/delete{self.suffix}", "deleting records", {"filter": filter_text({key: list(values)})}))
        return int((answer or {}).get("deleted") or 0) if isinstance(answer, dict) else 0
