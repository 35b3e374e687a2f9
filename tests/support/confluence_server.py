"""A local Confluence Cloud REST API (`/wiki/rest/api/content`) from Atlassian's public reference:
Basic auth (e-mail:API token; 401 otherwise), `spaceKey`, `type=page`, `start`/`limit` paging with a
relative `_links.next`, `expand=body.storage,version` (body.<format>.value XHTML), errors
`{"statusCode", "message"}`."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlencode

from tests.support.stub_http import Answer, StubRequest, StubServer

USER, TOKEN = "me@example.com", "confluence-token"


class ConfluenceServer(StubServer):
    def __init__(self, pages: int = 5) -> None:
        super().__init__()
        self.spaces = {"ENG": [{"id": str(100 + i), "title": f"Page {i}", "body": f"<h1>Page {i}</h1><p>Hello <b>team</b> {i}.</p>"}
                               for i in range(pages)]}

    def failure_body(self, status: int) -> tuple[str, Any]:
        return "application/json", {"statusCode": status, "message": f"scripted failure {status}"}

    def route(self, r: StubRequest) -> Answer:
        expected = "Basic " + base64.b64encode(f"{USER}:{TOKEN}".encode()).decode()
        if r.headers.get("authorization") != expected:
            return 401, "application/json", {"statusCode": 401, "message": "Unauthorized; scope does not match"}
        if (r.method, r.path) != ("GET", "/wiki/rest/api/content"):
            return 404, "application/json", {"statusCode": 404, "message": "No route"}
        q = r.q
        space = self.spaces.get(q.get("spaceKey", ""))
        if space is None:
            return 404, "application/json", {"statusCode": 404, "message": f"No space with key : {q.get('spaceKey')}"}
        start, limit = int(q.get("start", 0)), min(int(q.get("limit", 25)), 50)
        expand = q.get("expand", "").split(",")
        fmt = next((e.split(".", 1)[1] for e in expand if e.startswith("body.")), None)
        results = []
        for page in space[start:start + limit]:
            item: dict[str, Any] = {"id": page["id"], "type": "page", "status": "current", "title": page["title"],
                                    "_links": {"webui": f"/spaces/{q['spaceKey']}/pages/{page['id']}"}}
            if fmt:
                item["body"] = {fmt: {"value": page["body"], "representation": fmt}}
            if "version" in expand:
                item["version"] = {"number": 1, "when": "2026-01-01T00:00:00.000Z"}
            results.append(item)
        links: dict[str, str] = {"base": f"{self.base_url}/wiki", "context": "/wiki"}
        if start + limit < len(space):
            links["next"] = "/rest/api/content?" + urlencode({**q, "start": start + limit})
        return 200, "application/json", {"results": results, "start": start, "limit": limit, "size": len(results), "_links": links}
