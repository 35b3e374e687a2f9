"""Composio's v3 tools API on 127.0.0.1, from its public reference: `GET /api/v3/tools/<slug>`
(the action's schema: name, description, input_parameters) and `POST /api/v3/tools/execute/<slug>`
({user_id, arguments} → {data, successful, error}); `x-api-key` header, 401 otherwise."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

API_KEY = "composio-test"
SCHEMAS = {
    "GMAIL_SEND_EMAIL": {"slug": "GMAIL_SEND_EMAIL", "name": "Send email", "description": "Send an email with Gmail.",
                         "input_parameters": {"type": "object", "properties": {"recipient_email": {"type": "string"}, "body": {"type": "string"}},
                                              "required": ["recipient_email"]}},
    "GOOGLECALENDAR_CREATE_EVENT": {"slug": "GOOGLECALENDAR_CREATE_EVENT", "name": "Create event", "description": "Create a calendar event.",
                                    "input_parameters": {"type": "object", "properties": {"summary": {"type": "string"}, "start_datetime": {"type": "string"}},
                                                         "required": ["start_datetime"]}},
    "GOOGLECALENDAR_GET_CURRENT_DATE_TIME": {"slug": "GOOGLECALENDAR_GET_CURRENT_DATE_TIME", "name": "Current date", "description": "Now, in a time zone.",
                                             "input_parameters": {"type": "object", "properties": {"timezone": {"type": "string"}}}},
}


class ComposioServer:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str, Any]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return None

            def _any(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                payload = json.loads(body) if body else None
                owner.requests.append((self.command, self.path, payload))
                status, answer = owner._route(self.command, self.path, payload, self.headers.get("x-api-key"))
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

    def __enter__(self) -> "ComposioServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _route(self, method: str, path: str, body: Any, key: str | None) -> tuple[int, Any]:
        if key != API_KEY:
            return 401, {"error": {"message": "Invalid API key", "code": 401}}
        slug = path.rsplit("/", 1)[-1]
        if method == "GET" and path.startswith("/api/v3/tools/") and slug in SCHEMAS:
            return 200, SCHEMAS[slug]
        if method == "POST" and path.startswith("/api/v3/tools/execute/") and slug in SCHEMAS:
            if slug == "GMAIL_SEND_EMAIL" and not body["arguments"].get("recipient_email"):
                return 200, {"data": {}, "successful": False, "error": "recipient_email is required"}
            return 200, {"data": {"echo": body["arguments"], "user": body["user_id"]}, "successful": True, "error": None}
        return 404, {"error": {"message": f"Tool {slug} not found"}}
