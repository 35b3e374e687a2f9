"""The plumbing of the local store servers (Astra Data API, Qdrant, ...): a threaded HTTP server on
127.0.0.1 that parses JSON bodies, records every request and hands it to `handle`.

A subclass implements `handle(request) -> (status, body)`; `fail_next(n, status)` makes the next
`n` requests answer `status` with the subclass's error shape (`error_body`).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: Any  # parsed JSON, the raw text when it is not JSON, None when empty


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class JsonServer:
    """Starts serving at construction; `with Server() as server:` stops it at the end."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.requests: list[Request] = []
        self.lock = threading.RLock()
        self._failures: list[int] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return None

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length).decode("utf-8", errors="replace") if length else ""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw
                parts = urlsplit(self.path)
                request = Request(self.command, parts.path, parse_qs(parts.query), {k.lower(): v for k, v in self.headers.items()}, body)
                with owner.lock:
                    owner.requests.append(request)
                    failure = owner._failures.pop(0) if owner._failures else None
                    if failure is not None:
                        status, payload = failure, owner.error_body(failure, "injected failure")
                    else:
                        try:
                            status, payload = owner.handle(request)
                        except Exception as exc:  # a bug in the fake: answer 500 with the reason
                            status, payload = 500, owner.error_body(500, f"{type(exc).__name__}: {exc}")
                data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":  # a HEAD answer has headers only
                    self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

        self._httpd = _Server((host, 0), Handler)
        self.base_url = f"http://{host}:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, name=type(self).__name__, daemon=True)
        self._thread.start()

    def __enter__(self) -> "JsonServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def fail_next(self, n: int = 1, status: int = 500) -> None:
        with self.lock:
            self._failures.extend([status] * n)

    # -- for subclasses --

    def handle(self, request: Request) -> tuple[int, Any]:
        raise NotImplementedError

    def error_body(self, status: int, message: str) -> Any:
        return {"error": message}


# ---- what several fakes share: vector similarity and document paths ----------------------------


def dot(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b))


def cosine(a: list[float], b: list[float]) -> float:
    norm = (dot(a, a) ** 0.5) * (dot(b, b) ** 0.5)
    return dot(a, b) / norm if norm else 0.0


def euclidean(a: list[float], b: list[float]) -> float:
    return sum((x - y) ** 2 for x, y in zip(a, b)) ** 0.5


_MISSING = object()


def get_path(document: Any, path: str) -> Any:
    """A dotted path's value (`metadata.source`), `_MISSING` when absent."""
    current = document
    for part in path.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return _MISSING
    return current


MISSING = _MISSING
