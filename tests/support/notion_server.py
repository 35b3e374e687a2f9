"""A local stand-in for Notion's REST API (version 2022-06-28), written from its public reference:
`POST /v1/search`, `POST /v1/databases/{id}/query`, `GET /v1/databases/{id}`,
`GET` / `PATCH /v1/blocks/{id}/children` and `GET /v1/users` (cursor pagination: `start_cursor`,
`page_size`, answered `has_more` / `next_cursor`), `POST /v1/pages`, `PATCH /v1/pages/{id}`.

Every call needs `Authorization: Bearer <API_KEY>` and a `Notion-Version` header; errors use
Notion's shape `{"object": "error", "status", "code", "message"}` (401 unauthorized, 400
missing_version / validation_error, 404 object_not_found, 429 rate_limited, 5xx).
"""

from __future__ import annotations

import uuid
from typing import Any

from tests.support.stub_http import Answer, StubRequest, StubServer

API_KEY = "secret_local_notion"
DATABASE = "db000000000000000000000000000001"
PAGE = "pg000000000000000000000000000001"
_CODES = {400: "validation_error", 401: "unauthorized", 404: "object_not_found", 409: "conflict_error",
          429: "rate_limited", 500: "internal_server_error", 502: "bad_gateway", 503: "service_unavailable"}


def error(status: int, message: str, code: str | None = None) -> dict[str, Any]:
    return {"object": "error", "status": status, "code": code or _CODES.get(status, "internal_server_error"), "message": message}


def _text(kind: str, text: str) -> dict[str, Any]:
    return {"object": "block", "type": kind, kind: {"rich_text": [{"type": "text", "plain_text": text, "text": {"content": text}}]}}


class NotionServer(StubServer):
    def __init__(self) -> None:
        super().__init__()
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.pages: dict[str, dict[str, Any]] = {
            PAGE: {"object": "page", "id": PAGE, "url": f"https://www.notion.so/Plan-{PAGE}", "created_time": "2026-12-01T00:00:00.000Z",
                   "last_edited_time": "2026-12-02T00:00:00.000Z", "parent": {"database_id": DATABASE},
                   "properties": {"Name": {"id": "title", "type": "title", "title": [{"plain_text": "Plan"}]}}},
        }
        self.database = {"object": "database", "id": DATABASE, "title": [{"plain_text": "Tasks"}], "last_edited_time": "2026-12-03T00:00:00.000Z",
                         "properties": {"Name": {"id": "title", "type": "title", "title": {}},
                                        "Status": {"id": "st", "type": "select", "select": {"options": [{"name": "Done"}]}}}}
        self.blocks = [_text("heading_1", "Plan"), _text("paragraph", "First step."), {"object": "block", "type": "divider", "divider": {}}]
        self.blocks += [_text("bulleted_list_item", f"item {i}") for i in range(150)]  # two cursor pages
        self.users = [{"object": "user", "id": f"u{i}", "type": "person", "name": f"User {i}", "avatar_url": None} for i in range(3)]

    def failure_body(self, status: int) -> tuple[str, Any]:
        return "application/json", error(status, "scripted failure")

    def _page(self, items: list[Any], r: StubRequest) -> dict[str, Any]:
        size = min(100, int(r.q.get("page_size", "100")))
        start = int(r.q.get("start_cursor", "0") or 0)
        more = start + size < len(items)
        return {"object": "list", "results": items[start:start + size], "has_more": more, "next_cursor": str(start + size) if more else None}

    def route(self, r: StubRequest) -> Answer:
        if r.headers.get("authorization") != f"Bearer {API_KEY}":
            return 401, "application/json", error(401, "API token is invalid.")
        if not r.headers.get("notion-version"):
            return 400, "application/json", error(400, "Notion-Version header failed validation: Notion-Version header should be defined.", "missing_version")
        path, body = r.path, (r.json() if r.body else None) or {}
        if path == "/v1/search" and r.method == "POST":
            kind = (body.get("filter") or {}).get("value")
            found = [x for x in [*self.pages.values(), self.database] if (not kind or x["object"] == kind)]
            found = [x for x in found if body.get("query", "").lower() in (x.get("url", "") + str(x.get("title", ""))).lower()]
            return 200, "application/json", {"object": "list", "results": found, "has_more": False, "next_cursor": None}
        if path.startswith("/v1/databases/"):
            database, _, tail = path[len("/v1/databases/"):].partition("/")
            if database != DATABASE:
                return 404, "application/json", error(404, f"Could not find database with ID: {database}.")
            if tail == "query":
                if "filter" in body and not isinstance(body["filter"], dict):
                    return 400, "application/json", error(400, "body.filter should be an object.")
                rows = [p for p in self.pages.values() if p["parent"].get("database_id") == DATABASE]
                return 200, "application/json", {"object": "list", "results": rows, "has_more": False, "next_cursor": None}
            return 200, "application/json", self.database
        if path.startswith("/v1/blocks/") and path.endswith("/children"):
            block = path.split("/")[3]
            if block not in self.pages:
                return 404, "application/json", error(404, f"Could not find block with ID: {block}.")
            if r.method == "PATCH":
                children = body.get("children")
                if not isinstance(children, list) or len(children) > 100 or any(c.get("type") not in c for c in children):
                    return 400, "application/json", error(400, "body.children should be an array of at most 100 blocks.")
                self.blocks.extend(children)
                return 200, "application/json", {"object": "list", "results": children, "has_more": False, "next_cursor": None}
            return 200, "application/json", self._page(self.blocks, r)
        if path == "/v1/users":
            return 200, "application/json", self._page(self.users, r)
        if path == "/v1/pages" and r.method == "POST":
            if (body.get("parent") or {}).get("database_id") != DATABASE:
                return 404, "application/json", error(404, "Could not find database.")
            if not isinstance(body.get("properties"), dict):
                return 400, "application/json", error(400, "body.properties should be an object.")
            page_id = uuid.uuid4().hex
            page = {"object": "page", "id": page_id, "url": f"https://www.notion.so/{page_id}", "created_time": "2026-12-07T00:00:00.000Z",
                    "last_edited_time": "2026-12-07T00:00:00.000Z", "parent": body["parent"], "properties": body["properties"]}
            self.pages[page_id] = page
            return 200, "application/json", page
        if path.startswith("/v1/pages/") and r.method == "PATCH":
            page = self.pages.get(path.rsplit("/", 1)[1])
            if page is None:
                return 404, "application/json", error(404, "Could not find page.")
            page["properties"].update(body.get("properties") or {})
            return 200, "application/json", page
        return 404, "application/json", error(404, f"Invalid request URL: {path}", "invalid_request_url")

    def service_urls(self) -> tuple[tuple[str, str], ...]:
        return (("notion", self.base_url),)
