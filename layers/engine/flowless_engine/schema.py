"""Values that flow along edges: Message, Data, DataFrame, and a lazily consumed TextStream.

They mirror Langflow's types closely enough that results serialize to Langflow's shapes,
but they are plain dataclasses with no dependencies.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any


def utc_timestamp() -> str:
    """Langflow's message timestamp format: 'YYYY-MM-DD HH:MM:SS.ffffff UTC'."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f UTC")


@dataclass
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0

    def add(self, other: "Usage | None") -> "Usage":
        if other is None:
            return self
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.total_tokens + other.total_tokens,
        )

    def to_dict(self) -> dict[str, int]:
        return {"input_tokens": self.input_tokens, "output_tokens": self.output_tokens, "total_tokens": self.total_tokens}


class TextStream:
    """Text produced incrementally (an LLM answer). The source is read once; the full text is kept.

    Several consumers may read it, even at the same time (one LLM output wired to two
    components): `chunks()` replays what has arrived, then shares the source under a lock, so
    every reader sees every delta. `text()` drains whatever is left and returns everything.
    `usage` is filled by the producer when the stream ends.
    """

    def __init__(self, source: AsyncIterator[str], on_done: Callable[["TextStream"], None] | None = None) -> None:
        self._source = source
        self._parts: list[str] = []
        self._done = False
        self._on_done = on_done
        self._lock: asyncio.Lock | None = None
        self.usage: Usage | None = None
        self.model: str | None = None

    @property
    def done(self) -> bool:
        return self._done

    @property
    def collected(self) -> str:
        """The text received so far (all of it once the stream is done)."""
        return "".join(self._parts)

    async def chunks(self) -> AsyncIterator[str]:
        index = 0
        while True:
            while index < len(self._parts):
                index += 1
                yield self._parts[index - 1]
            if self._done:
                return
            await self._pull()

    async def _pull(self) -> None:
        """Read one more delta from the source (one reader at a time)."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._done:
                return
            size = len(self._parts)
            while len(self._parts) == size:
                try:
                    chunk = await anext(self._source)
                except StopAsyncIteration:
                    self._finish()
                    return
                if chunk:
                    self._parts.append(chunk)

    async def text(self) -> str:
        while not self._done:
            await self._pull()
        return "".join(self._parts)

    def _finish(self) -> None:
        self._done = True
        if self._on_done is not None:
            self._on_done(self)


@dataclass
class Data:
    """A dict with a designated text key, like Langflow's Data."""

    data: dict[str, Any] = field(default_factory=dict)
    text_key: str = "text"
    default_value: str = ""

    @property
    def text(self) -> str:
        value = self.data.get(self.text_key, self.default_value)
        return value if isinstance(value, str) else json.dumps(value, default=str)

    def to_dict(self) -> dict[str, Any]:
        return {"text_key": self.text_key, "data": self.data, "default_value": self.default_value}


@dataclass
class DataFrame:
    """A table as a list of row dicts (Langflow uses pandas; we do not)."""

    rows: list[dict[str, Any]] = field(default_factory=list)

    def to_list(self) -> list[dict[str, Any]]:
        return list(self.rows)


@dataclass
class Message:
    """A chat message in Langflow's model. `text` may be a TextStream until it is resolved."""

    text: Any = ""
    sender: str | None = None
    sender_name: str | None = None
    session_id: str = ""
    context_id: str = ""
    flow_id: str | None = None
    files: list[str] = field(default_factory=list)
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    timestamp: str = field(default_factory=utc_timestamp)
    run_id: str | None = None
    error: bool = False
    edit: bool = False
    category: str = "message"
    properties: dict[str, Any] = field(default_factory=dict)
    content_blocks: list[dict[str, Any]] = field(default_factory=list)
    duration: int | None = None
    session_metadata: dict[str, Any] | None = None
    usage: Usage | None = None

    @property
    def is_streaming(self) -> bool:
        return isinstance(self.text, TextStream) and not self.text.done

    async def resolve(self) -> str:
        """Turn a streamed text into a plain string (draining the stream if needed)."""
        if isinstance(self.text, TextStream):
            stream = self.text
            self.text = await stream.text()
            if stream.usage is not None:
                self.usage = stream.usage
        return self.text

    @property
    def plain_text(self) -> str:
        """The text; for a stream, what has arrived so far (resolve() first to get all of it)."""
        if isinstance(self.text, TextStream):
            return self.text.collected
        return "" if self.text is None else str(self.text)
