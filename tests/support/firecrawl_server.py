"""Firecrawl API v2 on 127.0.0.1, from its public reference: `POST /v2/scrape`, `POST /v2/crawl`
then `GET /v2/crawl/<id>` (status `scraping` → `completed`, results paginated by `next`),
`POST /v2/map`, `POST /v2/search`, `POST /v2/extract` then `GET /v2/extract/<id>` (`processing` →
`completed`); `Authorization: Bearer <key>`, 401 JSON error otherwise.
`crawl_polls` sets how many status polls answer `scraping` first; `fail_next(n, status)`."""

from __future__ import annotations

from typing import Any

from tests.support.stub_http import Answer, StubRequest, StubServer

API_KEY = "fc-test"


class FirecrawlServer(StubServer):
    def __init__(self) -> None:
        super().__init__()
        self.crawl_polls = 1
        self._polls: dict[str, int] = {}
        self.extracts: dict[str, Any] = {}

    def failure_body(self, status: int) -> tuple[str, Any]:
        return "application/json", {"success": False, "error": "scripted failure"}

    def route(self, r: StubRequest) -> Answer:
        status, answer = self._route(r.method, r.path, r.json(), r.headers.get("authorization"))
        return status, "application/json", answer

    def _route(self, method: str, path: str, body: Any, auth: str | None) -> tuple[int, Any]:
        if auth != f"Bearer {API_KEY}":
            return 401, {"success": False, "error": "Unauthorized: Invalid token"}
        if path == "/v2/scrape":
            url = body["url"]
            return 200, {"success": True, "data": {"markdown": f"# Page\n\nContent of {url}", "metadata": {"sourceURL": url, "statusCode": 200},
                                                   "formats": body.get("formats")}}
        if path == "/v2/crawl" and method == "POST":
            return 200, {"success": True, "id": "job-1", "url": f"{self.base_url}/v2/crawl/job-1"}
        if path == "/v2/crawl/job-1":
            seen = self._polls.get("job-1", 0)
            self._polls["job-1"] = seen + 1
            if seen < self.crawl_polls:
                return 200, {"status": "scraping", "total": 3, "completed": 1, "data": []}
            return 200, {"status": "completed", "total": 3, "completed": 3, "creditsUsed": 3, "expiresAt": "2026-12-08T00:00:00Z",
                         "data": [{"markdown": "page 1"}, {"markdown": "page 2"}], "next": f"{self.base_url}/v2/crawl/job-1/page2"}
        if path == "/v2/crawl/job-1/page2":
            return 200, {"status": "completed", "data": [{"markdown": "page 3"}], "next": None}
        if path == "/v2/extract" and method == "POST":
            if not body.get("urls") or not body.get("prompt"):
                return 400, {"success": False, "error": "Bad Request: urls and prompt are required"}
            self.extracts["extract-1"] = body
            return 200, {"success": True, "id": "extract-1", "invalidURLs": []}
        if path == "/v2/extract/extract-1":
            seen = self._polls.get("extract-1", 0)
            self._polls["extract-1"] = seen + 1
            if seen < self.crawl_polls:
                return 200, {"success": True, "status": "processing", "data": None, "expiresAt": "2026-12-08T00:00:00Z"}
            asked = self.extracts["extract-1"]
            return 200, {"success": True, "status": "completed", "expiresAt": "2026-12-08T00:00:00Z", "tokensUsed": 42,
                         "data": {"products": [{"name": f"item from {u}"} for u in asked["urls"]]}}
        if path == "/v2/map":
            return 200, {"success": True, "links": [{"url": body["url"] + "/a"}, {"url": body["url"] + "/b", "title": "B"}]}
        if path == "/v2/search":
            return 200, {"success": True, "data": {"web": [{"url": f"https://r.example/{i}", "title": f"{body['query']} {i}"} for i in range(body.get("limit", 5))]}}
        return 404, {"success": False, "error": "not found"}
