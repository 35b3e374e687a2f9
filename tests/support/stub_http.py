"""The one skeleton every local service stand-in shares: a threaded HTTP server on 127.0.0.1 that
records each request, can answer the next n requests with a scripted status (`fail_next`) or hold
the next answer (`delay_next`), and hands the rest to the subclass's `route(request)`.

    class MyServer(StubServer):
        def route(self, r: StubRequest) -> Answer:
            return 200, "application/json", json.dumps({...})

    with MyServer() as server:
        server.base_url, server.requests

`route` answers (status, content type, body) or (status, content type, body, extra headers);
a body may be str, bytes, or anything JSON-serialisable (sent as JSON).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Union
from urllib.parse import parse_qs, urlsplit

Answer = Union[tuple[int, str, Any], tuple[int, str, Any, dict[str, str]]]


@dataclass
class StubRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def q(self) -> dict[str, str]:
        """The query string, first value of each parameter."""
        return {k: v[0] for k, v in self.query.items()}


class StubServer:
    """Subclasses implement `route`; `failure_body(status)` shapes scripted failures, which carry
    `Retry-After: <retry_after>` (0 by default, so the client's retries do not wait)."""

    retry_after = "0"

    def __init__(self) -> None:
        self.requests: list[StubRequest] = []
        self._fail: list[int] = []
        self._delay = 0.0
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return None

            def _any(self) -> None:
                owner._handle(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def __enter__(self) -> "StubServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    # ---- scripting -------------------------------------------------------------------------

    def fail_next(self, n: int, status: int = 500) -> None:
        self._fail = [status] * n

    def delay_next(self, seconds: float) -> None:
        self._delay = seconds

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    def reset(self) -> None:
        self.requests.clear()
        self._fail = []
        self._delay = 0.0

    def failure_body(self, status: int) -> tuple[str, Any]:
        return "application/json", {"error": f"scripted failure {status}"}

    def route(self, r: StubRequest) -> Answer:  # pragma: no cover - every server overrides it
        raise NotImplementedError

    # ---- the skeleton ----------------------------------------------------------------------

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        body = h.rfile.read(int(h.headers.get("content-length") or 0))
        request = StubRequest(h.command, parts.path, parse_qs(parts.query),
                              {k.lower(): v for k, v in h.headers.items()}, body)
        with self._lock:
            self.requests.append(request)
            failure = self._fail.pop(0) if self._fail else None
            delay, self._delay = self._delay, 0.0
        if delay:
            time.sleep(delay)
        if failure is not None:
            content_type, payload = self.failure_body(failure)
            return self._send(h, failure, content_type, payload, {"Retry-After": self.retry_after} if self.retry_after else {})
        answer = self.route(request)
        status, content_type, payload = answer[:3]
        extra = answer[3] if len(answer) > 3 else {}  # type: ignore[misc]
        self._send(h, status, content_type, payload, extra)

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, content_type: str, payload: Any, extra: dict[str, str]) -> None:
        if isinstance(payload, bytes):
            data = payload
        elif isinstance(payload, str):
            data = payload.encode()
        else:
            data = json.dumps(payload).encode()
        try:
            h.send_response(status)
            h.send_header("Content-Type", content_type)
            h.send_header("Content-Length", str(len(data)))
            for name, value in extra.items():
                h.send_header(name, value)
            h.end_headers()
            h.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
