"""AssemblyAI's transcript API on 127.0.0.1, from its public reference: `POST /v2/transcript`
({audio_url, ...}) → {id, status: queued}; `GET /v2/transcript/<id>` → queued / processing /
completed (text) or error; the key in the `authorization` header, 401 otherwise.
`processing_polls` polls answer `processing` before the result; `fail_audio` makes it an error."""

from __future__ import annotations

from typing import Any

from tests.support.stub_http import Answer, StubRequest, StubServer

API_KEY = "aai-test"


class AssemblyAIServer(StubServer):
    def __init__(self) -> None:
        super().__init__()
        self.processing_polls = 2
        self.fail_audio = False
        self._polls = 0

    def route(self, r: StubRequest) -> Answer:
        status, answer = self._route(r.method, r.path, r.json(), r.headers.get("authorization"))
        return status, "application/json", answer

    def _route(self, method: str, path: str, body: Any, auth: str | None) -> tuple[int, Any]:
        if auth != API_KEY:
            return 401, {"error": "Authentication error, API token missing/invalid"}
        if method == "POST" and path == "/v2/transcript":
            self._polls = 0
            self.last_body = body
            return 200, {"id": "tr-1", "status": "queued", "audio_url": body["audio_url"]}
        if method == "GET" and path == "/v2/transcript/tr-1":
            self._polls += 1
            if self._polls <= self.processing_polls:
                return 200, {"id": "tr-1", "status": "processing"}
            if self.fail_audio:
                return 200, {"id": "tr-1", "status": "error", "error": "Download error, unable to download the audio"}
            return 200, {"id": "tr-1", "status": "completed", "text": "Smoke from wildfires is spreading across the region."}
        return 404, {"error": "not found"}
