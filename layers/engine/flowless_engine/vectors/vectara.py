"""Vectara over its REST API v2: each document is a `core` document of one part (the text) with the
metadata as document metadata (`POST /v2/corpora/{key}/documents`; an id Vectara already holds
answers 409 and counts as stored), searched with `POST /v2/corpora/{key}/query` (Vectara embeds
the query itself; a filter `{key: value}` becomes `doc.key = 'value'`). Scores are Vectara's."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from flowless_engine.vectors.external import Document, Hit, RestStore, SearchResult, json_call


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def metadata_filter(where: dict[str, Any] | None) -> str:
    clauses = []
    for key, value in (where or {}).items():
        if isinstance(value, list):
            clauses.append(f"doc.{key} IN ({', '.join(_literal(v) for v in value)})")
        else:
            clauses.append(f"doc.{key} = {_literal(value)}")
    return " AND ".join(clauses)


def refused(exc: Exception) -> Exception:
    """A 401/403 of Vectara as the auth error (answered 422 naming Vectara), else `exc`."""
    from flowless_engine.errors import ProviderAuthError

    status = getattr(exc, "status", None)
    if status in (401, 403):
        return ProviderAuthError(str(exc).replace("Vectara failed", "Vectara refused the credentials", 1), provider="Vectara", status=status)
    return exc


class VectaraCorpus(RestStore):
    label = "Vectara"
    embeds_server_side = True

    async def call(self, method: str, path: str, action: str, body: Any = None, *, missing_ok: bool = False) -> Any:
        try:
            return await super().call(method, path, action, body, missing_ok=missing_ok)
        except Exception as exc:
            raise refused(exc) from exc

    def __init__(self, http: Any, base_url: str, corpus_key: str, headers: dict[str, str], timeout: float | None = None) -> None:
        super().__init__(http, base_url, headers, timeout)
        self.prefix = f"/v2/corpora/{quote(corpus_key, safe='')}"

    async def add(self, documents: Sequence[Document]) -> int:
        added = 0
        for doc in documents:
            body = {"id": doc.id, "type": "core", "metadata": dict(doc.metadata), "document_parts": [{"text": doc.text}]}
            try:
                await json_call(self.http, self.label, "POST", self.base_url + self.prefix + "/documents", "storing documents",
                                headers=self.headers, body=body, timeout=self.timeout)
                added += 1
            except Exception as exc:  # 409: the document is already there
                if getattr(exc, "status", None) == 409:
                    continue
                raise refused(exc) from exc
        return added

    async def search(self, *, vector: Sequence[float] | None, text: str | None, k: int, filter: dict[str, Any] | None,
                     with_vectors: bool) -> SearchResult:
        search: dict[str, Any] = {"limit": k}
        where = metadata_filter(filter)
        if where:
            search["metadata_filter"] = where
        answer = await self.call("POST", self.prefix + "/query", "searching the corpus", {"query": text or "", "search": search})
        hits = []
        for r in (answer or {}).get("search_results") or []:
            metadata = {**(r.get("document_metadata") or {}), **(r.get("part_metadata") or {})}
            hits.append(Hit(str(r.get("text", "")), metadata, r.get("score"), str(r.get("document_id", ""))))
        return SearchResult(hits)

    async def scan(self, k: int, filter: dict[str, Any] | None) -> list[Hit]:
        return []  # Vectara lists documents, not their text; an empty query searches nothing

    async def delete_where(self, key: str, values: Sequence[Any]) -> int:
        return 0
