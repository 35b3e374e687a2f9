"""The whole FastAPI app served by uvicorn on 127.0.0.1 in a thread, for clients that bring
their own HTTP stack (the openai and mcp SDKs): `with LiveApp() as app: app.base_url`.
It uses the store the test configured (the `ddb` fixture's moto server)."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any


def serve_in_thread(app: Any, *, lifespan: str, what: str) -> tuple[Any, threading.Thread, str]:
    """uvicorn serving `app` on a free port of 127.0.0.1 in a daemon thread, once it has started:
    (server, thread, base URL). Stop it with `server.should_exit = True` and a join."""
    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan=lifespan))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.02)
    return server, thread, f"http://127.0.0.1:{port}"


class LiveApp:
    def __init__(self, app: Any = None) -> None:
        self.app = app
        self.base_url = ""
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> "LiveApp":
        from flowless.api.app import create_app

        self._server, self._thread, self.base_url = serve_in_thread(self.app or create_app(), lifespan="off", what="the app")
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
