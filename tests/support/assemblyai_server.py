"""AssemblyAI's transcript API on 127.0.0.1, from its public reference: `POST /v2/transcript`
({audio_url, ...}) → {id, status: queued}; `GET /v2/transcript/<id>` → queued / processing /
completed (text) or error; the key in the `authorization` header, 401 otherwise.
`processing_polls` polls answer `processing` before the result; `fail_audio` makes it an error."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

API_KEY = "aai-test"


class AssemblyAIServer:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str, Any]] = []
        self.processing_polls = 2
        self.fail_audio = False
        self._polls = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return None

            def _any(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                payload = json.loads(body) if body else None
                owner.requests.append((self.command, self.path, payload))
                status, answer = owner._route(self.command, self.path, payload, self.headers.get("authorization"))
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

    def __enter__(self) -> "AssemblyAIServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

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
