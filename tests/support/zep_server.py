"""A local Zep on 127.0.0.1, written from Zep's public API references, for tests and conformance.

- `api/v1` (Zep's open-source server): `GET /api/v1/sessions/<id>/memory?lastn=N` →
  `{"messages": [{"uuid", "created_at", "role": "human"|"ai", "content", "metadata",
  "token_count"}], "summary": null, "metadata": {}}` (404 for an unknown session);
  `POST /api/v1/sessions/<id>/memory` (`messages: [{role, content, metadata}]`) → `"OK"`, the
  session made on first write. Key as `Authorization: Bearer <key>`.
- `api/v2` (Zep's sessions API): `POST /api/v2/sessions` (`session_id`, `user_id`) → 201 the
  session (400 when it exists); `GET|POST /api/v2/sessions/<id>/memory` as above with messages
  `{"uuid", "created_at", "role", "role_type": user|assistant|system|..., "content"}` — a POST to
  an unknown session is a 404. Key as `Authorization: Api-Key <key>`.
- Errors `{"message": "..."}`: 401 unauthorized, 404 not found, 400 bad request.
"""

from __future__ import annotations

import itertools
import uuid
from typing import Any
from urllib.parse import unquote

from tests.support.json_server import JsonServer, Request

_ROLE_TYPES = ("user", "assistant", "system", "function", "tool", "norole")


class ZepServer(JsonServer):
    def __init__(self, api_key: str = "zep-key") -> None:
        self.api_key = api_key
        self.sessions: dict[str, dict[str, list[dict[str, Any]]]] = {"v1": {}, "v2": {}}
        self._clock = itertools.count(1)
        super().__init__()

    def error_body(self, status: int, message: str) -> Any:
        return {"message": message}

    def messages(self, session_id: str, version: str = "v1") -> list[dict[str, Any]]:
        return list(self.sessions[version].get(session_id, []))

    def handle(self, request: Request) -> tuple[int, Any]:
        parts = [unquote(p) for p in request.path.split("/") if p]
        if len(parts) < 3 or parts[0] != "api" or parts[1] not in ("v1", "v2") or parts[2] != "sessions":
            return 404, {"message": "not found"}
        version = parts[1]
        scheme = "Api-Key" if version == "v2" else "Bearer"
        if request.headers.get("authorization") != f"{scheme} {self.api_key}":
            return 401, {"message": "unauthorized"}
        sessions = self.sessions[version]
        body = request.body if isinstance(request.body, dict) else {}
        if len(parts) == 3 and request.method == "POST" and version == "v2":
            session_id = str(body.get("session_id") or "")
            if not session_id:
                return 400, {"message": "session_id is required"}
            if session_id in sessions:
                return 400, {"message": f"session {session_id} already exists"}
            sessions[session_id] = []
            return 201, {"session_id": session_id, "uuid": str(uuid.uuid4()), "user_id": body.get("user_id"), "metadata": {}}
        if len(parts) != 5 or parts[4] != "memory":
            return 404, {"message": "not found"}
        session_id = parts[3]
        if request.method == "GET":
            if session_id not in sessions:
                return 404, {"message": f"session {session_id} not found"}
            lastn = int((request.query.get("lastn") or ["0"])[0] or 0)
            found = sessions[session_id][-lastn:] if lastn else sessions[session_id]
            return 200, {"messages": found, "summary": None, "metadata": {}} if version == "v1" else \
                {"messages": found, "context": "", "relevant_facts": []}
        if request.method == "POST":
            if version == "v2" and session_id not in sessions:
                return 404, {"message": f"session {session_id} not found"}
            stored = []
            for message in body.get("messages") or []:
                if not isinstance(message, dict) or not isinstance(message.get("content"), str):
                    return 400, {"message": "bad request: each message needs a content"}
                if version == "v2" and message.get("role_type") not in _ROLE_TYPES:
                    return 400, {"message": f"bad request: invalid role_type {message.get('role_type')!r}"}
                tick = next(self._clock)
                stored.append({"uuid": str(uuid.uuid4()), "created_at": f"2026-01-01T00:00:{tick % 60:02d}Z", "role": message.get("role"),
                               **({"role_type": message["role_type"]} if version == "v2" else {}), "content": message["content"],
                               "metadata": message.get("metadata") or {}, "token_count": len(message["content"].split())})
            sessions.setdefault(session_id, []).extend(stored)
            return 200, "OK" if version == "v1" else {"context": ""}
        return 404, {"message": "not found"}
