"""Local rerank services from their public API references: Cohere `POST /v2/rerank` (Bearer key;
`{"results": [{"index", "relevance_score"}]}`, errors `{"message"}`) and NVIDIA's ranking API
(`POST /ranking` of a NIM or the hosted `/v1/retrieval/nvidia/reranking`; `{"rankings": [{"index",
"logit"}]}` in passage order of relevance, errors `{"detail"}`). Relevance here is the share of the
query's words found in the passage, so tests can predict the order."""

from __future__ import annotations

from typing import Any

from tests.support.stub_http import Answer, StubRequest, StubServer

API_KEY = "rerank-key"


def overlap(query: str, text: str) -> float:
    words = {w.strip(".,?!").lower() for w in query.split()}
    found = {w.strip(".,?!").lower() for w in text.split()}
    return round(len(words & found) / len(words), 4) if words else 0.0


class CohereRerankServer(StubServer):
    def failure_body(self, status: int) -> tuple[str, Any]:
        return "application/json", {"id": "err", "message": f"scripted failure {status}"}

    def route(self, r: StubRequest) -> Answer:
        if r.headers.get("authorization") != f"Bearer {API_KEY}":
            return 401, "application/json", {"id": "err", "message": "invalid api token"}
        if (r.method, r.path) != ("POST", "/v2/rerank"):
            return 404, "application/json", {"message": f"no route {r.method} {r.path}"}
        body = r.json() or {}
        if not body.get("model") or not isinstance(body.get("documents"), list) or not body.get("query"):
            return 400, "application/json", {"id": "err", "message": "invalid request: model, query and documents are required"}
        scores = sorted(((overlap(body["query"], str(d)), i) for i, d in enumerate(body["documents"])), key=lambda p: (-p[0], p[1]))
        top_n = int(body.get("top_n") or len(scores))
        results = [{"index": i, "relevance_score": s} for s, i in scores[:top_n]]
        return 200, "application/json", {"id": "rr-1", "results": results, "meta": {"billed_units": {"search_units": 1}}}


class NvidiaRankingServer(StubServer):
    def failure_body(self, status: int) -> tuple[str, Any]:
        return "application/json", {"detail": f"scripted failure {status}"}

    def route(self, r: StubRequest) -> Answer:
        if r.headers.get("authorization") != f"Bearer {API_KEY}":
            return 401, "application/json", {"detail": "Authentication failed"}
        if r.method != "POST" or r.path not in ("/v1/ranking", "/v1/retrieval/nvidia/reranking"):
            return 404, "application/json", {"detail": "Not Found"}
        body = r.json() or {}
        query = (body.get("query") or {}).get("text")
        passages = body.get("passages")
        if not body.get("model") or not query or not isinstance(passages, list):
            return 422, "application/json", {"detail": [{"loc": ["body", "query"], "msg": "field required"}]}
        scored = sorted(((overlap(query, p.get("text", "")) * 10 - 5, i) for i, p in enumerate(passages)), key=lambda p: (-p[0], p[1]))
        return 200, "application/json", {"rankings": [{"index": i, "logit": s} for s, i in scored]}
