"""The engine's only doors to the outside world. The service (or a test) implements them.

The engine never imports storage or web frameworks; it talks to these small protocols.
In-memory implementations live here too, for `run_flow_from_json` and unit tests.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from flowless_engine.errors import FileRefusedError, FlowError
from flowless_engine.schema import Message


class MessageStore(Protocol):
    async def add_messages(self, messages: Iterable[Message]) -> None:
        """Persist messages (the service may buffer and write them in one batch)."""

    async def get_messages(
        self,
        *,
        flow_id: str | None,
        session_id: str,
        limit: int = 100,
        sender: str | None = None,
        sender_name: str | None = None,
        order: str = "ASC",
    ) -> list[Message]:
        """Return the latest `limit` messages of the session, oldest first when order is ASC."""

    # Optional (Memory Base's cross-session recall reads it when the store has it):
    # async def session_ids(self, flow_id: str) -> list[str]:
    #     """The flow's live session ids, oldest first."""


class VariableResolver(Protocol):
    async def get(self, name: str) -> str | None:
        """The value of a tenant variable (global variable / credential), or None."""


class FileStore(Protocol):
    async def read(self, path: str) -> bytes:
        """Bytes of a stored file by the path the files API returned. Raises FileNotFoundError."""

    async def write(self, name: str, content: bytes, content_type: str) -> str:
        """Store a new file of the tenant (Save to File); returns the path the files API lists.
        Optional: stores without it refuse writing."""

    async def list(self) -> list[str]:
        """Paths of the tenant's files (Directory). Optional."""


class FlowResolver(Protocol):
    async def get(self, id_or_name: str) -> dict[str, Any] | None:
        """Another flow of the same tenant (export JSON with id, name, data) by id, name or
        endpoint name; None when the tenant has none by that reference. Run Flow, Sub Flow and
        Flow as Tool use it: a tenant's resolver never answers another tenant's flows."""


class DictFlowResolver:
    """Flows held in memory (the local runner, tests): looked up by id, name or endpoint name."""

    def __init__(self, flows: Iterable[dict[str, Any]] = ()) -> None:
        self.flows = list(flows)

    async def get(self, id_or_name: str) -> dict[str, Any] | None:
        for key in ("id", "name", "endpoint_name"):
            for flow in self.flows:
                if id_or_name and flow.get(key) == id_or_name:
                    return flow
        return None


class EventSink(Protocol):
    def emit(self, event: str, data: dict[str, Any]) -> None:
        """Receive one event (`add_message`, `token`, `end_vertex`...). Must not block."""


class NullEventSink:
    def emit(self, event: str, data: dict[str, Any]) -> None:
        return None


class ListEventSink:
    """Collects events in order; handy for tests and for the build path."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def emit(self, event: str, data: dict[str, Any]) -> None:
        self.events.append({"event": event, "data": data})


class InMemoryMessageStore:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def add_messages(self, messages: Iterable[Message]) -> None:
        self.messages.extend(messages)

    async def get_messages(
        self,
        *,
        flow_id: str | None,
        session_id: str,
        limit: int = 100,
        sender: str | None = None,
        sender_name: str | None = None,
        order: str = "ASC",
    ) -> list[Message]:
        found = [
            m
            for m in self.messages
            if m.session_id == session_id
            and (flow_id is None or m.flow_id == flow_id)
            and (sender is None or m.sender == sender)
            and (sender_name is None or m.sender_name == sender_name)
        ]
        found = found[-limit:] if limit else found
        return found if order.upper() == "ASC" else list(reversed(found))

    async def session_ids(self, flow_id: str) -> list[str]:
        return list(dict.fromkeys(m.session_id for m in self.messages if m.flow_id == flow_id and m.session_id))


class DictVariableResolver:
    """Variables from a dict, optionally falling back to environment variables."""

    def __init__(self, values: dict[str, str] | None = None, *, fallback_to_env: bool = False) -> None:
        self.values = dict(values or {})
        self.fallback_to_env = fallback_to_env

    async def get(self, name: str) -> str | None:
        if name in self.values:
            return self.values[name]
        if self.fallback_to_env:
            return os.environ.get(name)
        return None


class LocalFileStore:
    """Reads files from a directory (or absolute paths when no root is set)."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root).resolve() if root else None

    async def read(self, path: str) -> bytes:
        if self.root is None:
            return Path(path).read_bytes()
        target = (self.root / path).resolve()
        if self.root not in target.parents and target != self.root:
            raise FileRefusedError(f"File path refused: {path!r} is outside the file store's folder")
        return target.read_bytes()


    async def write(self, name: str, content: bytes, content_type: str) -> str:
        if self.root is None:
            raise FlowError("No file folder is configured; cannot save files")
        import uuid

        if not name or "/" in name or "\\" in name or name in (".", ".."):
            raise FlowError(f"Invalid file name: {name!r}")
        relative = Path("files") / str(uuid.uuid4()) / name
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        return relative.as_posix()

    async def list(self) -> list[str]:
        if self.root is None:
            raise FlowError("No file folder is configured; cannot list files")
        return sorted(p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file())


class NoFileStore:
    async def read(self, path: str) -> bytes:
        raise FlowError(f"No file store is configured; cannot read '{path}'")

    async def write(self, name: str, content: bytes, content_type: str) -> str:
        raise FlowError(f"No file store is configured; cannot save '{name}'")
