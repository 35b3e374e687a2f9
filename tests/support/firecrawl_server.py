"""Firecrawl API v2 on 127.0.0.1, from its public reference: `POST /v2/scrape`, `POST /v2/crawl`
then `GET /v2/crawl/<id>` (status `scraping` → `completed`, results paginated by `next`),
`POST /v2/map`, `POST /v2/search`; `Authorization: Bearer <key>`, 401 JSON error otherwise.
`crawl_polls` sets how many status polls answer `scraping` first; `fail_next(n, status)`."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

API_KEY = "fc-test"


class FirecrawlServer:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str, Any]] = []
        self.crawl_polls = 1
        self._polls: dict[str, int] = {}
        self._fail: list[int] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return None

            def _any(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                payload = json.loads(body) if body else None
                owner.requests.append((self.command, self.path, payload))
                status, answer = owner._route(self.command, urlsplit(self.path).path, payload, self.headers.get("authorization"))
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def __enter__(self) -> "FirecrawlServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fail_next(self, n: int, status: int = 500) -> None:
        self._fail = [status] * n

    def _route(self, method: str, path: str, body: Any, auth: str | None) -> tuple[int, Any]:
        if self._fail:
            return self._fail.pop(0), {"success": False, "error": "scripted failure"}
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
        if path == "/v2/map":
            return 200, {"success": True, "links": [{"url": body["url"] + "/a"}, {"url": body["url"] + "/b", "title": "B"}]}
        if path == "/v2/search":
            return 200, {"success": True, "data": {"web": [{"url": f"https://r.example/{i}", "title": f"{body['query']} {i}"} for i in range(body.get("limit", 5))]}}
        return 404, {"success": False, "error": "not found"}
