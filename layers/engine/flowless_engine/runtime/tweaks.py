"""Tweaks: per-run overrides of template fields, applied to a copy of the graph.

Dict values target one node (by id, else display name); scalar values at the top level apply
to every node having that field. Protected fields are refused all-or-nothing.
"""

from __future__ import annotations

import copy
from typing import Any

from flowless_engine.errors import InputClashError, TweaksRefusedError
from flowless_engine.graph.model import Graph, Vertex

# Fields that could smuggle code into a run. `code` itself is dropped on load; refusing it
# anyway tells the caller clearly that it has no effect here.
PROTECTED_FIELDS = {"code", "allow_dangerous_code", "function_code", "python_code", "tool_code", "global_imports"}
PROTECTED_FIELD_TYPES = {"code"}
_CHAT_INPUT_KEYS = ("ChatInput", "Chat Input")
_TEXT_INPUT_KEYS = ("TextInput", "Text Input")


def check_input_clash(tweaks: dict[str, Any] | None, input_value: str | None, input_type: str) -> None:
    """Langflow refuses input_value together with a tweak setting the same input's input_value."""
    if not isinstance(tweaks, dict) or input_value is None:
        return  # tweaks that are not an object are ignored (the run uses the stored values)
    markers = _CHAT_INPUT_KEYS if input_type == "chat" else _TEXT_INPUT_KEYS if input_type == "text" else ()
    for key, value in tweaks.items():
        if isinstance(value, dict) and "input_value" in value and any(m in key for m in markers):
            kind = "chat" if input_type == "chat" else "text"
            raise InputClashError(
                f"If you pass an input_value to the {kind} input, you cannot pass a tweak with the same name."
            )


def apply_tweaks(graph: Graph, tweaks: dict[str, Any] | None) -> Graph:
    """A new Graph sharing untouched vertices; tweaked vertices get copied fields."""
    if not tweaks or not isinstance(tweaks, dict):
        return graph
    planned: dict[str, dict[str, Any]] = {}
    refused: list[str] = []
    for key, value in tweaks.items():
        if isinstance(value, dict):
            vertex = graph.find(key)
            if vertex is None:
                continue  # unknown targets are ignored, as Langflow does
            for field_name, field_value in value.items():
                _plan(planned, refused, vertex, field_name, field_value)
        elif isinstance(value, (str, int, float, bool)) or value is None:
            for vertex in graph.vertices.values():
                if key in vertex.fields or key in PROTECTED_FIELDS or key in vertex.code_fields:
                    _plan(planned, refused, vertex, key, value)
    if refused:
        raise TweaksRefusedError(sorted(set(refused)))
    if not planned:
        return graph
    vertices = dict(graph.vertices)
    for vertex_id, changes in planned.items():
        original = graph.vertices[vertex_id]
        fields = dict(original.fields)
        for field_name, field_value in changes.items():
            fields[field_name] = _tweaked_field(fields.get(field_name), field_value)
        vertices[vertex_id] = copy.copy(original)
        vertices[vertex_id].fields = fields
    tweaked = copy.copy(graph)
    tweaked.vertices = vertices
    return tweaked


def _plan(planned: dict[str, dict[str, Any]], refused: list[str], vertex: Vertex, name: str, value: Any) -> None:
    spec = vertex.fields.get(name)
    if name in PROTECTED_FIELDS or name in vertex.code_fields or name in vertex.user_code or (spec is not None and spec.get("type") in PROTECTED_FIELD_TYPES):
        refused.append(f"{vertex.id}.{name}")
        return
    if spec is None:
        return  # unknown field names are ignored
    planned.setdefault(vertex.id, {})[name] = value


def _tweaked_field(spec: dict[str, Any] | None, value: Any) -> dict[str, Any]:
    new = dict(spec or {})
    kind = new.get("type")
    if isinstance(value, dict) and kind not in {"dict", "NestedDict"}:
        # A dict tweak on a plain field merges keys into the field (e.g. {"value": x, "load_from_db": true}).
        explicit_db = "load_from_db" in value
        new.update(value)
        if not explicit_db:
            new["load_from_db"] = False
        return new
    if kind == "dict" and isinstance(value, dict) and set(value) == {"value"}:
        value = value["value"]
    if kind == "file":
        new["file_path"] = value
    new["value"] = value
    # A literal tweak replaces a variable reference (so an API key can be passed directly).
    new["load_from_db"] = False
    return new
