"""An HTTP echo server on 127.0.0.1 for request-making components: every request is recorded
and answered with a JSON description of itself. Special paths: `/status/<n>` answers n,
`/redirect?to=<url>` answers 302 to it, `/bytes` answers binary, `/text` plain text."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class EchoRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


class EchoServer:
    def __init__(self) -> None:
        self.requests: list[EchoRequest] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return None

            def _any(self) -> None:
                parts = urlsplit(self.path)
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                request = EchoRequest(self.command, parts.path, parse_qs(parts.query), {k.lower(): v for k, v in self.headers.items()}, body)
                owner.requests.append(request)
                status, ctype, payload, extra = 200, "application/json", b"", {}
                if parts.path.startswith("/status/"):
                    status = int(parts.path.rsplit("/", 1)[-1])
                    payload = json.dumps({"error": "status requested"}).encode()
                elif parts.path == "/redirect":
                    status, extra = 302, {"Location": request.query["to"][0]}
                elif parts.path == "/bytes":
                    ctype, payload = "application/octet-stream", bytes(range(16))
                elif parts.path == "/text":
                    ctype, payload = "text/plain", b"plain words"
                if not payload and status == 200:
                    payload = json.dumps({"method": request.method, "path": request.path, "query": {k: v[0] for k, v in request.query.items()},
                                          "json": json.loads(body) if body and request.headers.get("content-type", "").startswith("application/json") else None,
                                          "headers": request.headers}).encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                for k, v in extra.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def __enter__(self) -> "EchoServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
