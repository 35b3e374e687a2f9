"""A local Needle API from its public reference: `POST /api/v1/collections/{id}/search` with the
`x-api-key` header and `{"text", "top_k"}`; answers `{"result": [{"id", "content", "file_id"}]}`;
errors `{"error": {"message"}}` (401 bad key, 404 unknown collection)."""

from __future__ import annotations

from typing import Any

from tests.support.stub_http import Answer, StubRequest, StubServer

API_KEY = "needle-key"


class NeedleServer(StubServer):
    def __init__(self) -> None:
        super().__init__()
        self.collections: dict[str, list[str]] = {"clt_1": ["Refunds take 5 days.", "Shipping is free over 50 EUR.", "Returns within 30 days."]}

    def failure_body(self, status: int) -> tuple[str, Any]:
        return "application/json", {"error": {"message": f"scripted failure {status}"}}

    def route(self, r: StubRequest) -> Answer:
        if r.headers.get("x-api-key") != API_KEY:
            return 401, "application/json", {"error": {"message": "Unauthorized"}}
        parts = r.path.strip("/").split("/")
        if r.method != "POST" or len(parts) != 5 or parts[:3] != ["api", "v1", "collections"] or parts[4] != "search":
            return 404, "application/json", {"error": {"message": "Not found"}}
        docs = self.collections.get(parts[3])
        if docs is None:
            return 404, "application/json", {"error": {"message": f"Collection {parts[3]} not found"}}
        body = r.json() or {}
        words = {w.lower().strip("?.") for w in str(body.get("text", "")).split()}
        hits = [d for d in docs if words & {w.lower().strip("?.") for w in d.split()}]
        return 200, "application/json", {"result": [{"id": f"chk_{i}", "content": d, "file_id": "file_1"}
                                                    for i, d in enumerate(hits[: int(body.get("top_k") or 20)])]}
