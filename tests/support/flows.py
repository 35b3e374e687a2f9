"""Building small Langflow-shaped flow exports in tests, from the engine's own node templates."""

from __future__ import annotations

import json
import uuid
from typing import Any

_ANY = ["Data", "JSON", "DataFrame", "Table", "Message"]


def node(node_id: str, type_name: str, values: dict[str, Any] | None = None, extra_fields: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    from flowless_engine.components.registry import get_component_class

    template = get_component_class(type_name).node_template()
    for name, value in (values or {}).items():
        template["template"][name]["value"] = value
    for name, spec in (extra_fields or {}).items():
        template["template"][name] = {"name": name, "type": "str", "value": "", "input_types": ["Message"], "show": True, **spec}
    return {"id": node_id, "type": "genericNode", "position": {"x": 0, "y": 0}, "data": {"id": node_id, "type": type_name, "node": template}}


def _encode(handle: dict[str, Any]) -> str:
    return json.dumps(handle, separators=(",", ":")).replace('"', "œ")


def edge(source: str, output: str, target: str, field: str, *, output_types: list[str] | None = None, input_types: list[str] | None = None) -> dict[str, Any]:
    source_handle = {"dataType": source.split("-")[0], "id": source, "name": output, "output_types": output_types or ["Message"]}
    target_handle = {"fieldName": field, "id": target, "inputTypes": input_types or _ANY, "type": "str"}
    return {
        "id": f"reactflow__edge-{source}{_encode(source_handle)}-{target}{_encode(target_handle)}",
        "source": source,
        "target": target,
        "sourceHandle": _encode(source_handle),
        "targetHandle": _encode(target_handle),
        "data": {"sourceHandle": source_handle, "targetHandle": target_handle},
    }


def flow(name: str, nodes: list[dict[str, Any]], edges: list[dict[str, Any]], *, flow_id: str | None = None, endpoint_name: str | None = None) -> dict[str, Any]:
    return {
        "id": flow_id or str(uuid.uuid4()),
        "name": name,
        "endpoint_name": endpoint_name,
        "data": {"nodes": nodes, "edges": edges, "viewport": {"x": 0, "y": 0, "zoom": 1}},
    }


def agent_chat_flow(name: str = "Agent Chat", **agent_values: Any) -> dict[str, Any]:
    """ChatInput → Agent (OpenAI-compatible model) → ChatOutput."""
    values = {"model": [{"name": "gpt-4o-mini", "provider": "OpenAI"}], "add_current_date_tool": False, **agent_values}
    return flow(
        name,
        [node("ChatInput-a1", "ChatInput"), node("Agent-a2", "Agent", values), node("ChatOutput-a3", "ChatOutput")],
        [edge("ChatInput-a1", "message", "Agent-a2", "input_value", input_types=["Message"]), edge("Agent-a2", "response", "ChatOutput-a3", "input_value")],
        endpoint_name=name.lower().replace(" ", "-"),
    )
