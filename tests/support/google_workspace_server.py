"""A local stand-in for Google's Workspace REST APIs, written from their public references:
Gmail v1 (`users.messages.list/get/send`, `users.threads.get`), Drive v3 (`files.list`),
Calendar v3 (`events.list/insert`) and the OAuth 2.0 token endpoint (`POST /token`,
grant_type=refresh_token, form encoded).

Every API call needs `Authorization: Bearer <ACCESS_TOKEN>` (or a token the endpoint issued);
anything else is 401 in Google's error shape `{"error": {"code", "message", "errors": [{"domain",
"reason", "message"}], "status"}}`. The token endpoint answers `{"access_token", "expires_in",
"token_type"}` or 400 `{"error": "invalid_grant", "error_description"}`.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qs

from tests.support.stub_http import Answer, StubRequest, StubServer

ACCESS_TOKEN = "ya29.local-access"
REFRESH_TOKEN = "1//local-refresh"
CLIENT_ID = "local-client.apps.googleusercontent.com"
CLIENT_SECRET = "local-secret"
API_KEY = json.dumps({"token": ACCESS_TOKEN, "refresh_token": REFRESH_TOKEN, "client_id": CLIENT_ID,
                      "client_secret": CLIENT_SECRET, "token_uri": "https://oauth2.googleapis.com/token"})

_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
           429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}
_REASON = {400: "badRequest", 401: "authError", 403: "forbidden", 404: "notFound", 429: "rateLimitExceeded",
           500: "backendError", 503: "backendError"}


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def mail(message_id: str, thread: str, sender: str, text: str, labels: list[str], *, html: bool = False,
         headers: dict[str, str] | None = None) -> dict[str, Any]:
    """A Gmail message resource (format=full): multipart/alternative with a plain and an HTML part."""
    head = [{"name": "From", "value": sender}, {"name": "Message-ID", "value": f"<{message_id}@mail.local>"},
            *({"name": k, "value": v} for k, v in (headers or {}).items())]
    parts = [{"partId": "0", "mimeType": "text/plain", "body": {"size": len(text), "data": b64(text)}},
             {"partId": "1", "mimeType": "text/html", "body": {"data": b64(f"<p>{text}</p>")}}]
    payload = ({"mimeType": "multipart/mixed", "headers": head, "parts": [{"mimeType": "multipart/alternative", "parts": parts}]}
               if not html else {"mimeType": "text/html", "headers": head, "body": {"data": b64(f"<p>{text}</p>")}})
    return {"id": message_id, "threadId": thread, "labelIds": labels, "snippet": text[:40], "payload": payload}


class GoogleWorkspaceServer(StubServer):
    def __init__(self) -> None:
        super().__init__()
        self.reset()

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self.tokens = {ACCESS_TOKEN}
            self.sent: list[dict[str, Any]] = []
            self.events: list[dict[str, Any]] = [
                {"id": f"ev{i}", "summary": f"Meeting {i}", "start": {"dateTime": f"2026-12-0{i + 1}T10:00:00Z"},
                 "end": {"dateTime": f"2026-12-0{i + 1}T11:00:00Z"}} for i in range(3)]
            self.files = [{"id": f"f{i}", "name": f"report {i}.txt", "mimeType": "text/plain", "modifiedTime": "2026-12-01T00:00:00Z",
                           "size": "12", "webViewLink": f"https://drive.google.com/file/d/f{i}/view"} for i in range(3)]
            self.files += [{"id": "doc1", "name": "Plan", "mimeType": "application/vnd.google-apps.document", "modifiedTime": "2026-12-02T00:00:00Z"},
                           {"id": "img1", "name": "logo.png", "mimeType": "image/png", "size": "4"}]
            self.contents = {"f0": b"report 0 body", "img1": b"\x89PNG"}
            self.messages = {
                "m1": mail("m1", "t1", "Ada <ada@example.com>", "Hello team, the report is at https://x.example/r !\r\nThanks", ["INBOX", "UNREAD"]),
                "m0": mail("m0", "t2", "Bob <bob@example.com>", "Can we meet on Friday?", ["SENT"]),
                "m2": mail("m2", "t2", "Cy <cy@example.com>", "Yes, Friday works.\r\nOn Mon, Bob wrote:\r\n> Can we meet on Friday?",
                           ["INBOX"], headers={"In-Reply-To": "<m0@mail.local>"}),
                "m3": mail("m3", "t3", "News <n@example.com>", "html only", ["INBOX"], html=True),
            }

    def failure_body(self, status: int) -> tuple[str, Any]:
        return "application/json", self.error_body(status, "scripted failure")

    def error_body(self, status: int, message: str) -> Any:
        return {"error": {"code": status, "message": message, "status": _STATUS.get(status, "UNKNOWN"),
                          "errors": [{"domain": "global", "reason": _REASON.get(status, "backendError"), "message": message}]}}

    def _token(self, request: StubRequest) -> tuple[int, Any]:
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        if form.get("grant_type") != "refresh_token" or form.get("refresh_token") != REFRESH_TOKEN or \
                form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return 400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
        token = f"ya29.refreshed-{len(self.tokens)}"
        self.tokens.add(token)
        return 200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer", "scope": "https://mail.google.com/"}

    def route(self, r: StubRequest) -> Answer:
        answer = self.handle(r)
        if isinstance(answer[1], (bytes, str)):
            return answer[0], answer[2] if len(answer) > 2 else "text/plain", answer[1]  # type: ignore[misc]
        return answer[0], "application/json", answer[1]

    def handle(self, request: StubRequest) -> tuple[Any, ...]:
        if request.path == "/token" and request.method == "POST":
            return self._token(request)
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
            return 401, self.error_body(401, "Request had invalid authentication credentials. Expected OAuth 2 access token.")
        path, q = request.path, request.query
        if path == "/gmail/v1/users/me/messages" and request.method == "GET":
            labels = set(q.get("labelIds", []))
            found = [m for m in self.messages.values() if not labels or labels & set(m["labelIds"])]
            found = found[: int(q.get("maxResults", ["100"])[0])]
            return 200, {"messages": [{"id": m["id"], "threadId": m["threadId"]} for m in found], "resultSizeEstimate": len(found)}
        if path.startswith("/gmail/v1/users/me/messages/") and request.method == "GET":
            message = self.messages.get(path.rsplit("/", 1)[1])
            return (200, message) if message else (404, self.error_body(404, "Requested entity was not found."))
        if path.startswith("/gmail/v1/users/me/threads/"):
            thread = path.rsplit("/", 1)[1]
            return 200, {"id": thread, "messages": [m for m in self.messages.values() if m["threadId"] == thread]}
        if path == "/upload/gmail/v1/users/me/messages/send" and request.method == "POST":
            kind = request.headers.get("content-type", "")
            if q.get("uploadType") != ["multipart"] or "boundary=" not in kind:
                return 400, self.error_body(400, "Media type 'application/octet-stream' is not supported.")
            boundary = kind.split("boundary=", 1)[1].encode()
            parts = [p.strip(b"\r\n") for p in request.body.split(b"--" + boundary) if p.strip(b"\r\n-")]
            metadata = json.loads(parts[0].split(b"\r\n\r\n", 1)[1])
            message = parts[1].split(b"\r\n\r\n", 1)[1]
            self.sent.append({**metadata, "raw": base64.urlsafe_b64encode(message).decode(), "upload": True})
            return 200, {"id": f"s{len(self.sent)}", "threadId": metadata.get("threadId") or f"ts{len(self.sent)}", "labelIds": ["SENT"]}
        if path == "/gmail/v1/users/me/messages/send" and request.method == "POST":
            body = request.json() or {}
            if not body.get("raw"):
                return 400, self.error_body(400, "Invalid value for ByteString")
            self.sent.append(body)
            return 200, {"id": f"s{len(self.sent)}", "threadId": body.get("threadId") or f"ts{len(self.sent)}", "labelIds": ["SENT"]}
        if path == "/drive/v3/files":
            size = int(q.get("pageSize", ["100"])[0])
            start = int(q.get("pageToken", ["0"])[0] or 0)
            term = q.get("q", [""])[0]
            files = [f for f in self.files if not term or term.split("'")[1 if "'" in term else 0] in f["name"]]
            page = files[start:start + size]
            out: dict[str, Any] = {"files": page, "incompleteSearch": False}
            if start + size < len(files):
                out["nextPageToken"] = str(start + size)
            return 200, out
        if path.startswith("/drive/v3/files/"):
            file_id, _, tail = path[len("/drive/v3/files/"):].partition("/")
            found = next((f for f in self.files if f["id"] == file_id), None)
            if found is None:
                return 404, self.error_body(404, f"File not found: {file_id}.")
            if tail == "export":
                if not found["mimeType"].startswith("application/vnd.google-apps."):
                    return 403, self.error_body(403, "Export only supports Docs Editors files.")
                return 200, f"Exported {found['name']} as {q['mimeType'][0]}".encode(), q["mimeType"][0]
            if q.get("alt") == ["media"]:
                if found["mimeType"].startswith("application/vnd.google-apps."):
                    return 403, self.error_body(403, "Only files with binary content can be downloaded. Use Export with Docs Editors files.")
                return 200, self.contents.get(file_id, b""), found["mimeType"]
            return 200, found
        if path.startswith("/calendar/v3/calendars/") and path.endswith("/events"):
            if request.method == "POST":
                event = {"id": f"new{len(self.events)}", "status": "confirmed", "htmlLink": "https://calendar.google.com/e", **(request.json() or {})}
                self.events.append(event)
                return 200, event
            items = self.events[: int(q.get("maxResults", ["250"])[0])]
            return 200, {"kind": "calendar#events", "items": items, "timeZone": "UTC", "nextSyncToken": "sync1"}
        return 404, self.error_body(404, f"Not Found: {path}")

    def service_urls(self) -> tuple[tuple[str, str], ...]:
        return tuple((name, self.base_url) for name in ("gmail", "google_drive", "google_calendar", "google_oauth"))
