"""Hosted scraping APIs on 127.0.0.1, from their public references: ScrapeGraph (`POST
/v1/markdownify|smartscraper|searchscraper`, `SGAI-APIKEY` header → {request_id, status, result,
error}; a `slow` request answers `processing` once, then `GET /v1/<service>/<id>` completes it;
`broken` fails) and AgentQL (`POST /v1/query-data`, `X-API-Key` → {data, metadata}; 401 with
`detail` for a wrong key) and Spider (`POST /crawl`, Bearer key → a list of pages {url, content,
metadata}) and JigsawStack (`POST /v1/web/search`, `/v1/ai/scrape`, `x-api-key` → {success, ...}).
The stand-ins share one server."""

from __future__ import annotations

from typing import Any

from tests.support.stub_http import Answer, StubRequest, StubServer

API_KEY = "scrape-test"


class ScrapingServer(StubServer):
    def __init__(self) -> None:
        super().__init__()
        self.pending: dict[str, dict[str, Any]] = {}

    def service_urls(self) -> tuple[tuple[str, str], ...]:
        return (("scrapegraph", self.base_url), ("agentql", self.base_url), ("spider", self.base_url), ("jigsawstack", self.base_url))

    def route(self, r: StubRequest) -> Answer:
        if r.path == "/v1/query-data":
            if r.headers.get("x-api-key") != API_KEY:
                return 401, "application/json", {"detail": "Invalid API key"}
            body = r.json()
            return 200, "application/json", {"data": {"products": [{"name": "Kettle", "price": 20}], "asked": body.get("prompt") or body.get("query")},
                                             "metadata": {"request_id": "aql-1"}}
        if r.path == "/crawl" and r.method == "POST":  # Spider
            if r.headers.get("authorization") != f"Bearer {API_KEY}":
                return 401, "application/json", {"error": "Unauthorized"}
            body = r.json()
            pages = [{"url": body["url"] + (f"/p{i}" if i else ""), "content": f"# Page {i} of {body['url']}", "status": 200, "error": None,
                      "metadata": {"title": f"Page {i}"}} for i in range(min(body.get("limit") or 3, 3))]
            return 200, "application/json", pages
        if r.path in ("/v1/web/search", "/v1/ai/scrape") and r.method == "POST":  # JigsawStack
            if r.headers.get("x-api-key") != API_KEY:
                return 401, "application/json", {"success": False, "message": "Invalid API key"}
            body = r.json()
            if r.path == "/v1/ai/scrape":
                data = [{"key": p, "selector": f".{p.replace(' ', '-')}", "results": [{"text": f"{p} value"}]} for p in body["element_prompts"]]
                return 200, "application/json", {"success": True, "data": data, "page_position": 1, "page_position_length": 1,
                                                 "context": {"url": body.get("url"), "root": body.get("root_element_selector")}}
            if body["query"] == "fail":
                return 200, "application/json", {"success": False, "message": "Search failed"}
            results = [{"title": f"{body['query']} {i}", "url": f"https://js.example/{i}", "description": f"About {i}", "is_safe": True} for i in range(3)]
            return 200, "application/json", {"success": True, "query": body["query"], "spell_fixed": False, "is_safe": True,
                                             "ai_overview": f"Overview of {body['query']}" if body.get("ai_overview") else "", "results": results}
        if r.path.startswith("/v1/"):
            if r.headers.get("sgai-apikey") != API_KEY:
                return 401, "application/json", {"error": "Invalid API key"}
            service = r.path.split("/")[2]
            if r.method == "GET":
                done = self.pending.pop(r.path.rsplit("/", 1)[-1], None)
                return (200, "application/json", {**done, "status": "completed"}) if done else (404, "application/json", {"error": "Request not found"})
            body = r.json()
            target = body.get("website_url") or body.get("user_prompt", "")
            answer = {"request_id": f"sg-{len(self.requests)}", "status": "completed", "website_url": body.get("website_url"), "error": "",
                      "result": f"# Markdown of {target}" if service == "markdownify" else {"answer": f"{service}: {target}", "prompt": body.get("user_prompt")}}
            if "broken" in target:
                return 200, "application/json", {**answer, "status": "failed", "error": "Could not load the page", "result": None}
            if "slow" in target:
                self.pending[answer["request_id"]] = answer
                return 200, "application/json", {**answer, "status": "processing", "result": None}
            return 200, "application/json", answer
        return 404, "application/json", {"error": "not found"}
