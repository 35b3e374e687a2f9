"""Client and CLI tests run against a real `flowless run --backend-only` subprocess (the e2e
fixtures: `local_server`, `model_server`), plus loopback stubs for what a healthy server
never answers (503s, 429s)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from tests.e2e.conftest import DEV_KEY, local_server, model_server  # noqa: F401 - fixtures reused

ECHO_FLOW_ID = "8f0a4c1e-2b7d-4e49-9a51-0c6f1d2e3a01"
CHAT_FLOW_ID = "5b3e9d72-6c1a-4f0e-8d2b-7a4c9e1f0b02"
RUN_ANSWER = {
    "session_id": "stub-session",
    "outputs": [{"inputs": {"input_value": "hi"}, "outputs": [{"results": {"message": {"text": "stub answer"}}}]}],
}


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class StubServer:
    """A loopback HTTP server answering from a script of replies (then `default`), recording
    each request's method, path and arrival time."""

    def __init__(self, replies: list[Reply], default: Reply | None = None) -> None:
        self.replies = list(replies)
        self.default = default or Reply(200, RUN_ANSWER)
        self.requests: list[tuple[str, str, float]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                if length:
                    self.rfile.read(length)
                stub.requests.append((self.command, self.path, time.monotonic()))
                reply = stub.replies.pop(0) if stub.replies else stub.default
                payload = json.dumps(reply.body).encode() if reply.body is not None else b""
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_DELETE = do_PUT = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> StubServer:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stub() -> Iterator[type[StubServer]]:
    yield StubServer


def has_route(local_server: dict[str, Any], path: str) -> bool:
    """Whether the running server serves `path` (routes built concurrently may not exist yet)."""
    spec = requests.get(f"{local_server['base']}/openapi.json", timeout=10).json()
    return path in spec.get("paths", {})
