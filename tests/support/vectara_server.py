"""A local Vectara REST API v2 from its public reference: `x-api-key` auth (401 otherwise),
`POST /v2/corpora/{key}/documents` (core documents; 201, 409 for an id already stored),
`POST /v2/corpora/{key}/query` (`search.limit`, `search.metadata_filter` as `doc.k = 'v'`) and
`POST /v2/query` (search over `search.corpora` with reranker and `generation`: answers a
`summary`), errors `{"messages": [...]}`. Vectara embeds texts itself: relevance here is the
share of the query's words found in the text."""

from __future__ import annotations

import re
from typing import Any

from tests.support.rerank_server import overlap
from tests.support.stub_http import Answer, StubRequest, StubServer

API_KEY = "vectara-key"


def matches(metadata: dict[str, Any], expression: str) -> bool:
    for key, value in re.findall(r"doc\.(\w+)\s*=\s*'([^']*)'", expression or ""):
        if str(metadata.get(key)) != value:
            return False
    return True


class VectaraServer(StubServer):
    def __init__(self) -> None:
        super().__init__()
        self.corpora: dict[str, dict[str, dict[str, Any]]] = {}

    def failure_body(self, status: int) -> tuple[str, Any]:
        return "application/json", {"messages": [f"scripted failure {status}"]}

    def _search(self, corpus: str, query: str, limit: int, where: str) -> list[dict[str, Any]]:
        docs = self.corpora.get(corpus, {})
        scored = [(overlap(query, d["document_parts"][0]["text"]), doc_id, d) for doc_id, d in docs.items() if matches(d.get("metadata") or {}, where)]
        scored.sort(key=lambda t: (-t[0], t[1]))
        return [{"text": d["document_parts"][0]["text"], "score": s, "part_metadata": {}, "document_metadata": d.get("metadata") or {},
                 "document_id": doc_id} for s, doc_id, d in scored[:limit]]

    def route(self, r: StubRequest) -> Answer:
        if r.headers.get("x-api-key") != API_KEY:
            return 401, "application/json", {"messages": ["Unauthorized: invalid API key"]}
        body = r.json() or {}
        parts = r.path.strip("/").split("/")
        if r.method == "POST" and r.path == "/v2/query":
            search = body.get("search") or {}
            corpora = search.get("corpora") or []
            if not body.get("query") or not corpora:
                return 400, "application/json", {"field_errors": {"query": "required"}, "messages": ["Bad request"]}
            results: list[dict[str, Any]] = []
            for c in corpora:
                results += self._search(c.get("corpus_key", ""), body["query"], int(search.get("limit") or 10), c.get("metadata_filter", ""))
            results.sort(key=lambda x: -x["score"])
            used = results[: int((body.get("generation") or {}).get("max_used_search_results") or 5)]
            summary = " ".join(f"[{i + 1}] {x['text']}" for i, x in enumerate(used)) or "The returned results did not contain sufficient information."
            return 200, "application/json", {"summary": summary, "search_results": results, "factual_consistency_score": 0.9}
        if r.method == "POST" and len(parts) == 4 and parts[:2] == ["v2", "corpora"] and parts[3] == "documents":
            docs = self.corpora.setdefault(parts[2], {})
            if body.get("type") != "core" or not body.get("document_parts"):
                return 400, "application/json", {"messages": ["type must be core with document_parts"]}
            if body.get("id") in docs:
                return 409, "application/json", {"messages": [f"Document {body['id']} already exists"]}
            docs[body["id"]] = body
            return 201, "application/json", {"id": body["id"]}
        if r.method == "POST" and len(parts) == 4 and parts[:2] == ["v2", "corpora"] and parts[3] == "query":
            if parts[2] not in self.corpora:
                return 404, "application/json", {"messages": [f"Corpus {parts[2]} not found"]}
            search = body.get("search") or {}
            return 200, "application/json", {"search_results": self._search(parts[2], body.get("query", ""), int(search.get("limit") or 10),
                                                                             search.get("metadata_filter", ""))}
        return 404, "application/json", {"messages": [f"No route {r.method} {r.path}"]}
