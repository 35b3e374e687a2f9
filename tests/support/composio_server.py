"""Composio's v3 tools API on 127.0.0.1, from its public reference: `GET /api/v3/tools/<slug>`
(the action's schema: name, description, input_parameters) and `POST /api/v3/tools/execute/<slug>`
({user_id, arguments} → {data, successful, error}); `x-api-key` header, 401 otherwise."""

from __future__ import annotations

from typing import Any

from tests.support.stub_http import Answer, StubRequest, StubServer

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


class ComposioServer(StubServer):
    def route(self, r: StubRequest) -> Answer:
        status, answer = self._route(r.method, r.path, r.json(), r.headers.get("x-api-key"))
        return status, "application/json", answer

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
