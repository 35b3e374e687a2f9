"""Running a stored flow while its events are read: the engine's events and the run's outcome
as one ordered async stream, bounded by the stream duration limit. The routes that answer a
run as a stream in another protocol (Responses API, v2 workflows, MCP) translate from it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from flowless.settings import get_settings


@dataclass
class RunEvent:
    """An engine event (`event`, `data`), or the end: `outcome` set, or `error` set."""

    event: str
    data: Any = None
    outcome: Any = None
    error: BaseException | None = None


class QueueSink:
    def __init__(self, queue: asyncio.Queue[RunEvent | None]) -> None:
        self.queue = queue

    def emit(self, event: str, data: dict[str, Any]) -> None:
        self.queue.put_nowait(RunEvent(event, data))


async def run_events(start: Callable[[QueueSink], Awaitable[Any]]) -> AsyncIterator[RunEvent]:
    """Run `start(sink)` in a task; yield its events, then one final `RunEvent("done", outcome=...)`
    or `RunEvent("failed", error=...)`. Past the duration limit the run is cancelled and a
    TimeoutError is the failure. A client that goes away lets the run finish (its messages are
    still stored)."""
    queue: asyncio.Queue[RunEvent | None] = asyncio.Queue()

    async def produce() -> None:
        try:
            outcome = await start(QueueSink(queue))
            queue.put_nowait(RunEvent("done", outcome=outcome))
        except Exception as exc:  # the status line is already sent: reported in-band
            queue.put_nowait(RunEvent("failed", error=exc))
        finally:
            queue.put_nowait(None)

    task = asyncio.create_task(produce())
    limit = get_settings().max_stream_seconds
    deadline = asyncio.get_running_loop().time() + limit
    try:
        while True:
            try:
                async with asyncio.timeout_at(deadline):
                    item = await queue.get()
            except TimeoutError:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                yield RunEvent("failed", error=TimeoutError(f"The run exceeded the stream's duration limit of {limit:g} s"))
                return
            if item is None:
                return
            yield item
    finally:
        if not task.done():
            await asyncio.shield(task)


def error_text(exc: BaseException) -> str:
    """A failure as one sentence for an in-band error event (never a traceback)."""
    import json

    from flowless.api.errors import ApiError, engine_error_response
    from flowless_engine.errors import FlowError

    if isinstance(exc, FlowError):
        _, detail = engine_error_response(exc)
        if isinstance(detail, str):
            try:
                parsed = json.loads(detail)
                return str(parsed.get("message", detail)) if isinstance(parsed, dict) else detail
            except ValueError:
                return detail
        return str(detail.get("message", detail)) if isinstance(detail, dict) else str(detail)
    if isinstance(exc, ApiError):
        return exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail)
    if isinstance(exc, TimeoutError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
