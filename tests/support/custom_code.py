"""Flows with user code and an approving code runner for engine-level tests (the local sandbox)."""

from __future__ import annotations

import hashlib
from typing import Any

from tests.support.engine_kit import component_node, edge, field, flow, raw_node


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def component_code(body: str, *, inputs: str = 'MessageTextInput(name="input_value", display_name="Input")', output: str = "out",
                   method: str = "build_out", imports: str = "") -> str:
    """A Langflow 1.x component whose `method` has `body` (indented by the caller: 8 spaces)."""
    return f'''{imports}from langflow.custom import Component
from langflow.io import MessageTextInput, IntInput, DataInput, Output
from langflow.schema import Data
from langflow.schema.message import Message


class Custom(Component):
    display_name = "Custom"
    inputs = [{inputs}]
    outputs = [Output(display_name="Out", name="{output}", method="{method}")]

    def {method}(self):
{body}
'''


def custom_flow(code: str, *, node_type: str = "Custom", output_types: tuple[str, ...] = ("Message",), flow_id: str = "c0de0000-0000-4000-8000-00000000c0de",
                name: str = "Custom code", extra_fields: dict[str, dict[str, Any]] | None = None, output: str = "out") -> dict[str, Any]:
    """ChatInput-1 → <node_type>-1 (user code) → ChatOutput-1."""
    fields = {"code": field("code", code, type="code"), "input_value": field("input_value", "", input_types=["Message"]), **(extra_fields or {})}
    custom = raw_node(f"{node_type}-1", node_type, fields, outputs=[{"name": output, "method": "build_out", "types": list(output_types), "display_name": "Out"}])
    nodes = [component_node("ChatInput-1", "ChatInput"), custom, component_node("ChatOutput-1", "ChatOutput")]
    edges = [
        edge("ChatInput-1", "message", f"{node_type}-1", "input_value"),
        edge(f"{node_type}-1", output, "ChatOutput-1", "input_value", output_types=output_types, input_types=("Data", "DataFrame", "Message")),
    ]
    return flow(nodes, edges, flow_id=flow_id, name=name)


class ApprovingRunner:
    """A code runner approving the given hashes (None: all), calling the local subprocess sandbox;
    keeps every call it made."""

    def __init__(self, approved: set[str] | None = None, *, timeout_s: float = 10.0, memory_mb: int = 512) -> None:
        from flowless.local.sandbox import SubprocessSandbox

        self._approved = approved
        self.sandbox = SubprocessSandbox(timeout_s=timeout_s, memory_mb=memory_mb)
        self.calls: list[dict[str, Any]] = []

    def approved(self, digest: str) -> bool:
        return self._approved is None or digest in self._approved

    async def run(self, call: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(call)
        return await self.sandbox.call({**call, "tenant": "tests"})
