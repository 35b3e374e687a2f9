"""Lambda's Invoke API on 127.0.0.1 for tests (stdlib only), serving one function: the sandbox.

`POST /2015-03-31/functions/{name}/invocations` with the call as body, the tenant in
`X-Amz-Tenant-Id` (tenant isolation mode: refused without it, as Lambda does). Each invocation
runs functions/custom_code/app.py's handler in a fresh subprocess with the given timeout; a
timeout or a crash answers as Lambda does: 200 with `X-Amz-Function-Error: Unhandled` and an
`errorMessage` body. Every request is recorded (`.requests`: path, headers, body).

    with LambdaServer(timeout_s=3) as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", server.base_url)
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
_RUN_HANDLER = (
    "import json, sys; sys.path[:0] = [sys.argv[1], sys.argv[2]]; from app import handler; "
    "sys.stdout.write(json.dumps(handler(json.loads(sys.stdin.read()), None)))"
)


@dataclass
class Invocation:
    path: str
    headers: dict[str, str]
    body: bytes


class LambdaServer:
    def __init__(self, *, timeout_s: float = 10.0) -> None:
        self.timeout_s = timeout_s
        self.requests: list[Invocation] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return None

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                server.requests.append(Invocation(self.path, headers, body))
                if not self.path.startswith("/2015-03-31/functions/") or not self.path.endswith("/invocations"):
                    return self._answer(404, {"Type": "User", "message": "Function not found"}, error_type="ResourceNotFoundException")
                if not headers.get("x-amz-tenant-id"):
                    return self._answer(400, {"Type": "User", "message": "The invoked function is configured with tenant isolation; a TenantId is required"},
                                        error_type="InvalidParameterValueException")
                status, payload, function_error = server._run(body)
                self._answer(status, payload, function_error=function_error)

            def _answer(self, status: int, payload: Any, *, function_error: str | None = None, error_type: str | None = None) -> None:
                data = json.dumps(payload).encode() if not isinstance(payload, bytes) else payload
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                if function_error:
                    self.send_header("X-Amz-Function-Error", function_error)
                if error_type:
                    self.send_header("x-amzn-ErrorType", error_type)
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def _run(self, body: bytes) -> tuple[int, Any, str | None]:
        try:
            done = subprocess.run(
                [sys.executable, "-I", "-c", _RUN_HANDLER, str(REPO / "functions" / "custom_code"), str(REPO / "layers" / "sandbox")],
                input=body, capture_output=True, timeout=self.timeout_s, env={"PATH": "/usr/bin:/bin"},
            )
        except subprocess.TimeoutExpired:
            return 200, {"errorMessage": f"Task timed out after {self.timeout_s:.2f} seconds", "errorType": "Sandbox.Timedout"}, "Unhandled"
        if done.returncode != 0:
            return 200, {"errorMessage": f"RequestId: x Error: Runtime exited with error: exit status {done.returncode}", "errorType": "Runtime.ExitError"}, "Unhandled"
        return 200, done.stdout, None

    def __enter__(self) -> "LambdaServer":
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
