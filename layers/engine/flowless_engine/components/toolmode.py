"""Tool mode for declarative components: each output becomes a tool whose arguments are the
component's `tool_mode` fields; calling it sets those fields and builds the output.

Names and descriptions come from the node's `tools_metadata` when the Langflow UI saved one
(matching the output's method, with or without a `<Type>-` prefix), else the method name.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from flowless_engine.components.base import Component, Output, Tool, to_text
from flowless_engine.errors import FlowError
from flowless_engine.schema import Data, DataFrame, Message

TOOL_OUTPUT = "component_as_tool"
LEGACY_TOOL_OUTPUTS = ("api_build_tool",)


def tool_result_text(value: Any) -> str:
    """What the model reads back from a tool."""
    if isinstance(value, Message):
        return value.plain_text
    if isinstance(value, Data):
        return json.dumps(value.data, ensure_ascii=False, default=str)
    if isinstance(value, DataFrame):
        return json.dumps(value.rows, ensure_ascii=False, default=str)
    if isinstance(value, list):
        return json.dumps([v.data if isinstance(v, Data) else v for v in value], ensure_ascii=False, default=str)
    return to_text(value)


class ToolModeMixin:
    """Mix into a Component: declares `tool_fields` {field: (json type, description)}."""

    tool_fields: ClassVar[dict[str, tuple[str, str]]] = {}
    # Outputs offered as tools (default: every data output).
    tool_outputs: ClassVar[tuple[str, ...]] = ()

    def as_tools(self: Any) -> list[Tool]:  # type: ignore[misc]
        outputs = [o for o in self.outputs if o.name != TOOL_OUTPUT and o.name not in LEGACY_TOOL_OUTPUTS
                   and (not self.tool_outputs or o.name in self.tool_outputs)]
        rows = [r for r in (self.params.get("tools_metadata") or []) if isinstance(r, dict)]
        tools: list[Tool] = []
        for output in outputs:
            row = _metadata_for(rows, output.method)
            if row is not None and row.get("status", True) is False:
                continue
            name = str(row.get("name")) if row and row.get("name") else output.method
            description = str(row.get("description")) if row and row.get("description") else self.description
            tools.append(Tool(name=_tool_name(name), description=description, parameters=self._tool_schema(),
                              run=self._tool_runner(output), source_id=self.id))
        return tools

    async def build_tool(self: Any) -> list[Tool]:  # the pre-1.1 `api_build_tool` output
        return self.as_tools()

    def _tool_schema(self: Any) -> dict[str, Any]:
        properties = {name: {"type": kind, "description": info} for name, (kind, info) in self.tool_fields.items()}
        return {"type": "object", "properties": properties, "required": list(self.tool_fields)[:1]}

    def _tool_runner(self: Any, output: Output) -> Any:
        async def run(arguments: dict[str, Any]) -> str:
            for name, value in (arguments or {}).items():
                if name in self.tool_fields:
                    self.params[name] = value
            try:
                value = await Component.compute_output(self, output)
            except FlowError as exc:
                return f"Error: {exc.message}"
            except ValueError as exc:
                return f"Error: {exc}"
            return tool_result_text(value)

        return run


def _metadata_for(rows: list[dict[str, Any]], method: str) -> dict[str, Any] | None:
    for row in rows:
        names = [str(row.get("name") or "")] + [str(t) for t in row.get("tags") or []]
        if any(n == method or n.endswith(f"-{method}") for n in names):
            return row
    return rows[0] if len(rows) == 1 else None


def _tool_name(name: str) -> str:
    """OpenAI-style function names: letters, digits, _ and -, at most 64."""
    import re

    return re.sub(r"[^A-Za-z0-9_-]", "_", name)[:64] or "tool"
