"""A local Mem0 platform API on 127.0.0.1, written from Mem0's public API reference, for tests and
conformance runs.

- `Authorization: Token <key>`: 401 `{"detail": "..."}` (Django REST's shape) when missing or wrong.
- `GET /v1/ping/` → `{"status": "ok", "org_id", "project_id", "user_email"}`.
- `POST /v1/memories/` (`messages: [{role, content}]`, `user_id` / `agent_id` / `run_id` — one at
  least, else 400 `{"error": ...}` —, `metadata`, `infer`): answers the events
  `[{"id", "data": {"memory"}, "event": "ADD"}]`. The platform's LLM extraction of facts is out of
  scope: each user message (every message with `infer: false`) becomes one memory, as written;
  the same memory for the same owner is not added twice (event `NONE`).
- `POST /v2/memories/search/` (`query`, `filters`, `top_k` 10 by default) → a list of memories
  `{"id", "memory", "user_id", "agent_id", "run_id", "metadata", "categories", "created_at",
  "updated_at", "score"}` best first (score: the cosine of the model server's hashed bag of words).
- `POST /v2/memories/` (`filters`, optional `page` / `page_size`) → the list, or with a page
  `{"count", "next", "previous", "results"}`. Filters: `{user_id: ...}` or `{"AND"|"OR": [...]}`;
  a search without filters is a 400.
"""

from __future__ import annotations

import itertools
from typing import Any

from tests.support.json_server import JsonServer, Request, cosine
from tests.support.model_server import embed

_OWNERS = ("user_id", "agent_id", "run_id", "app_id")


class Mem0Server(JsonServer):
    def __init__(self, api_key: str = "m0-key") -> None:
        self.api_key = api_key
        self.memories: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        super().__init__()

    def error_body(self, status: int, message: str) -> Any:
        return {"error": message}

    def of(self, user_id: str) -> list[str]:
        return [m["memory"] for m in self.memories if m.get("user_id") == user_id]

    def handle(self, request: Request) -> tuple[int, Any]:
        header = request.headers.get("authorization", "")
        if not header:
            return 401, {"detail": "Authentication credentials were not provided."}
        if header != f"Token {self.api_key}":
            return 401, {"detail": "Invalid API key."}
        body = request.body if isinstance(request.body, dict) else {}
        route = (request.method, request.path)
        if route == ("GET", "/v1/ping/"):
            return 200, {"status": "ok", "org_id": "org-1", "project_id": "proj-1", "user_email": "dev@example.com"}
        if route == ("POST", "/v1/memories/"):
            return self._add(body)
        if route == ("POST", "/v2/memories/search/"):
            if not body.get("query"):
                return 400, {"error": "query is required"}
            if not body.get("filters"):
                return 400, {"error": "Filters are required and cannot be empty. Please refer to https://docs.mem0.ai/api-reference/memory/v2-search-memories to know about the available filters."}
            found = [m for m in self.memories if _matches(m, body["filters"])]
            query = embed(str(body["query"]))
            scored = sorted(({**m, "score": round(cosine(query, embed(m["memory"])), 6)} for m in found), key=lambda m: -m["score"])
            return 200, scored[: int(body.get("top_k") or 10)]
        if route == ("POST", "/v2/memories/"):
            if not body.get("filters"):
                return 400, {"error": "Filters are required and cannot be empty."}
            found = [m for m in self.memories if _matches(m, body["filters"])]
            if body.get("page"):
                size = int(body.get("page_size") or 100)
                start = (int(body["page"]) - 1) * size
                return 200, {"count": len(found), "next": None, "previous": None, "results": found[start:start + size]}
            return 200, found
        return 404, {"detail": "Not found."}

    def _add(self, body: dict[str, Any]) -> tuple[int, Any]:
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return 400, {"messages": ["This field is required."]}
        if not any(body.get(k) for k in _OWNERS):
            return 400, {"error": "At least one of the filters: agent_id, user_id, app_id, run_id is required!"}
        events = []
        for message in messages:
            if not isinstance(message, dict) or message.get("role") not in ("user", "assistant", "system"):
                return 400, {"error": "Each message needs a role (user, assistant or system) and a content"}
            if body.get("infer", True) and message["role"] != "user":
                continue
            text = str(message.get("content") or "").strip()
            owner = {k: body.get(k) for k in ("user_id", "agent_id", "run_id")}
            known = next((m for m in self.memories if m["memory"] == text and all(m.get(k) == v for k, v in owner.items())), None)
            if known is not None:
                events.append({"id": known["id"], "data": {"memory": text}, "event": "NONE"})
                continue
            number = next(self._ids)
            memory = {"id": f"00000000-0000-4000-8000-{number:012d}", "memory": text, **owner, "metadata": body.get("metadata"),
                      "categories": [], "created_at": f"2026-01-01T00:00:{number % 60:02d}.000000-08:00",
                      "updated_at": f"2026-01-01T00:00:{number % 60:02d}.000000-08:00"}
            self.memories.append(memory)
            events.append({"id": memory["id"], "data": {"memory": text}, "event": "ADD"})
        return 200, events


def _matches(memory: dict[str, Any], filters: dict[str, Any]) -> bool:
    for key, value in filters.items():
        if key in ("AND", "OR"):
            results = [_matches(memory, part) for part in value or [] if isinstance(part, dict)]
            if not (all(results) if key == "AND" else any(results)):
                return False
        elif isinstance(value, dict) and "in" in value:
            if memory.get(key) not in value["in"]:
                return False
        elif value != "*" and memory.get(key) != value:
            return False
    return True
