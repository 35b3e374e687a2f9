"""The whole FastAPI app served by uvicorn on 127.0.0.1 in a thread, for clients that bring
their own HTTP stack (the openai and mcp SDKs): `with LiveApp() as app: app.base_url`.
It uses the store the test configured (the `ddb` fixture's moto server)."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any


class LiveApp:
    def __init__(self, app: Any = None) -> None:
        self.app = app
        self.base_url = ""
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> "LiveApp":
        import uvicorn

        from flowless.api.app import create_app

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        config = uvicorn.Config(self.app or create_app(), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the app did not start")
            time.sleep(0.02)
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
