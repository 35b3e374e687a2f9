"""Langflow's result shapes: serialized messages, ResultData per vertex, the run response,
and the vertex build data of `end_vertex` events."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from flowless_engine.llm.base import ModelConfig
from flowless_engine.schema import Data, DataFrame, Message, Usage


def serialize_message(message: Message) -> dict[str, Any]:
    """A Message as Langflow 1.13 serializes it (a Data envelope around the message fields)."""
    properties = {
        "text_color": None,
        "background_color": None,
        "edited": False,
        "source": {"id": None, "display_name": None, "source": None},
        "icon": None,
        "allow_markdown": False,
        "positive_feedback": None,
        "state": "complete",
        "targets": [],
        "usage": None,
        "build_duration": None,
    }
    properties.update(message.properties)
    if message.usage is not None:
        properties["usage"] = message.usage.to_dict()
    fields = {
        "timestamp": message.timestamp,
        "sender": message.sender,
        "sender_name": message.sender_name,
        "session_id": message.session_id,
        "context_id": message.context_id,
        "text": message.plain_text,
        "files": list(message.files),
        "error": message.error,
        "edit": message.edit,
        "properties": properties,
        "category": message.category,
        "content_blocks": list(message.content_blocks),
        "duration": message.duration,
        "flow_id": message.flow_id,
        "run_id": message.run_id,
        "session_metadata": message.session_metadata,
    }
    return {
        "text_key": "text",
        "data": {**fields, "id": message.id},
        "default_value": "",
        **fields,
    }


def serialize_value(value: Any) -> Any:
    """Any output value as JSON-able data (messages in Langflow's shape)."""
    if isinstance(value, Message):
        return serialize_message(value)
    if isinstance(value, Data):
        return value.to_dict()
    if isinstance(value, DataFrame):
        return value.to_list()
    if isinstance(value, (list, tuple)):
        return [serialize_value(v) for v in value]
    if isinstance(value, dict):
        return {k: serialize_value(v) for k, v in value.items()}
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, ModelConfig):
        # A model wired to another component: name it, never show its credentials.
        return {"provider": value.provider, "model": value.model}
    return repr(value)


def output_kind(value: Any) -> str:
    if isinstance(value, (Message, str)):
        return "text"
    if isinstance(value, Data):
        return "object"
    if isinstance(value, DataFrame):
        return "array"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, (dict, ModelConfig)):
        return "object"
    return "unknown"


def output_message(value: Any) -> Any:
    """The `message` field of `outputs.<name>`: text for messages, data for objects."""
    if isinstance(value, Message):
        return value.plain_text
    if isinstance(value, Data):
        return value.data
    return serialize_value(value)


@dataclass
class VertexResult:
    """What one vertex produced in a run."""

    vertex_id: str
    display_name: str
    values: dict[str, Any]  # output name → value
    logs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    usage: Usage | None = None
    duration_s: float = 0.0
    used_frozen_result: bool = False
    is_chat: bool = False  # ChatInput/ChatOutput: artifacts and messages in chat shape
    is_output: bool = False
    inactive_outputs: set[str] = field(default_factory=set)
    valid: bool = True
    error: str | None = None

    def artifacts(self) -> dict[str, Any]:
        if self.is_chat:
            message = next((v for v in self.values.values() if isinstance(v, Message)), None)
            if message is not None:
                return {
                    "message": message.plain_text,
                    "sender": message.sender,
                    "sender_name": message.sender_name,
                    "files": list(message.files),
                    "type": "object",
                }
        out = {}
        for name, value in self.values.items():
            raw = output_message(value)
            out[name] = {"repr": raw if isinstance(raw, str) else json.dumps(raw, default=str), "raw": raw, "type": output_kind(value)}
        return out

    def messages(self) -> list[dict[str, Any]]:
        if not self.is_chat:
            return []
        out = []
        for value in self.values.values():
            if isinstance(value, Message):
                out.append(
                    {
                        "message": value.plain_text,
                        "sender": value.sender,
                        "sender_name": value.sender_name,
                        "session_id": value.session_id,
                        "stream_url": None,
                        "component_id": self.vertex_id,
                        "files": list(value.files),
                        "type": "text",
                    }
                )
        return out

    def result_data(self, *, with_timing: bool = False) -> dict[str, Any]:
        """Langflow's ResultData (every key present, as in 1.13)."""
        return {
            "results": {name: serialize_value(v) for name, v in self.values.items()},
            "artifacts": self.artifacts(),
            "outputs": {name: {"message": output_message(v), "type": output_kind(v)} for name, v in self.values.items()},
            "logs": {name: entries for name, entries in self.logs.items()} or {name: [] for name in self.values},
            "messages": self.messages(),
            "timedelta": self.duration_s if with_timing else None,
            "duration": format_duration(self.duration_s) if with_timing else None,
            "component_display_name": self.display_name,
            "component_id": self.vertex_id,
            "used_frozen_result": self.used_frozen_result,
            "token_usage": None if self.is_output or self.usage is None else self.usage.to_dict(),
        }


def format_duration(seconds: float) -> str:
    if seconds < 1:
        return f"{round(seconds * 1000)} ms"
    return f"{seconds:.1f} seconds"


def run_response(session_id: str, input_value: str | None, results: list[VertexResult]) -> dict[str, Any]:
    """The body of a sync `/run` answer."""
    inputs = {"input_value": input_value} if input_value is not None else {}
    return {
        "session_id": session_id,
        "outputs": [{"inputs": inputs, "outputs": [r.result_data() for r in results]}],
    }


def main_text(response: dict[str, Any]) -> str | None:
    """The text most clients read: outputs[0].outputs[0].results.message.text (or its fallbacks)."""
    try:
        first = response["outputs"][0]["outputs"][0]
    except (KeyError, IndexError, TypeError):
        return None
    for value in first.get("results", {}).values():
        if isinstance(value, dict) and isinstance(value.get("text"), str):
            return value["text"]
    for value in first.get("outputs", {}).values():
        if isinstance(value, dict) and isinstance(value.get("message"), str):
            return value["message"]
    return None
