"""One event loop on a daemon thread for in-process background work (local server, tests).

Work handed to it outlives the request that started it, whatever loop served the request (a
uvicorn worker, a test client's portal, a Lambda invocation's `asyncio.run`). In Lambda nothing
is left running after a response: there, background work goes to another invocation or a queue.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Coroutine
from functools import cache
from typing import Any

logger = logging.getLogger("flowless.background")


class BackgroundLoop:
    def __init__(self, name: str = "flowless-background") -> None:
        self.name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def submit(self, work: Coroutine[Any, Any, Any]) -> concurrent.futures.Future[Any]:
        """Schedule `work`; its failure is logged (the future holds it too)."""
        future = asyncio.run_coroutine_threadsafe(work, self._running_loop())
        future.add_done_callback(_log_failure)
        return future

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._loop.is_closed():
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name=self.name, daemon=True).start()
                self._loop = loop
            return self._loop


def _log_failure(future: concurrent.futures.Future[Any]) -> None:
    if not future.cancelled() and future.exception() is not None:
        logger.error("background work failed", exc_info=future.exception())


@cache
def background_loop() -> BackgroundLoop:
    return BackgroundLoop()
