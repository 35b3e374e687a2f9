"""Supabase (PostgREST over its REST API), as LangChain's Supabase store uses it: rows
`{id, content, metadata, embedding}` inserted into the table, searched through the SQL function
the node names (`match_documents(query_embedding, filter)`, answering `similarity`), the
metadata filter as JSON containment. Rows already stored (same id) are skipped."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from flowless_engine.vectors.external import Document, Hit, RestStore, SearchResult, uuid_of


class SupabaseTable(RestStore):
    label = "Supabase"

    def __init__(self, http: Any, url: str, key: str, table: str, function: str, timeout: float | None = None) -> None:
        super().__init__(http, f"{url.rstrip('/')}/rest/v1", {"apikey": key, "Authorization": f"Bearer {key}"}, timeout)
        self.table, self.function = table, function

    async def add(self, documents: Sequence[Document]) -> int:
        rows = [{"id": uuid_of(d.id), "content": d.text, "metadata": d.metadata, "embedding": list(d.vector or ())} for d in documents]
        ids = ",".join(r["id"] for r in rows)
        found = await self.call("GET", f"/{quote(self.table, safe='')}?select=id&id=in.({ids})", f"reading table '{self.table}'") or []
        known = {r.get("id") for r in found}
        new = [r for r in rows if r["id"] not in known]
        if new:
            self.headers["Prefer"] = "return=minimal"
            try:
                await self.call("POST", f"/{quote(self.table, safe='')}", f"inserting into table '{self.table}'", new)
            finally:
                self.headers.pop("Prefer", None)
        return len(new)

    @staticmethod
    def decode(row: dict[str, Any]) -> Hit:
        return Hit(str(row.get("content") or ""), dict(row.get("metadata") or {}), row.get("similarity"), str(row.get("id", "")))

    async def search(self, *, vector: Sequence[float] | None, text: str | None, k: int, filter: dict[str, Any] | None,
                     with_vectors: bool) -> SearchResult:
        if vector is None:
            return SearchResult([])
        body = {"query_embedding": list(vector), "filter": filter or {}}
        rows = await self.call("POST", f"/rpc/{quote(self.function, safe='')}?limit={k}", f"searching with '{self.function}'", body) or []
        return SearchResult([self.decode(r) for r in rows])

    async def scan(self, k: int, filter: dict[str, Any] | None) -> list[Hit]:
        condition = f"&metadata=cs.{quote(json.dumps(filter))}" if filter else ""
        rows = await self.call("GET", f"/{quote(self.table, safe='')}?select=id,content,metadata&limit={k}{condition}", f"reading table '{self.table}'") or []
        return [self.decode(r) for r in rows]

    async def delete_where(self, key: str, values: Sequence[Any]) -> int:
        for value in values:
            await self.call("DELETE", f"/{quote(self.table, safe='')}?metadata=cs.{quote(json.dumps({key: value}))}", f"deleting from '{self.table}'")
        return 0
