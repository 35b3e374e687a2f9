"""`data.type` → native component class. Modules are imported only when a flow uses them.

Type names are resolved here and only here: exact names and aliases from the family tables in
`types/`, 1.10+ extension ids (`ext:<bundle>:<ClassName>@<tag>`), and the ` (xxxxx)` suffix
some exports add to a type.
"""

from __future__ import annotations

import importlib
import os
import re
from typing import TYPE_CHECKING

from flowless_engine.components import types as _type_tables

if TYPE_CHECKING:
    from flowless_engine.components.base import Component
    from flowless_engine.graph.model import Vertex


def _load_tables() -> dict[str, str]:
    merged: dict[str, str] = {}
    names = sorted(f[:-3] for d in _type_tables.__path__ for f in os.listdir(d) if f.endswith(".py") and not f.startswith("_"))
    for name in names:
        table = importlib.import_module(f"{_type_tables.__name__}.{name}").TYPES
        clashes = set(table) & set(merged)
        if clashes:
            raise RuntimeError(f"component types registered twice: {sorted(clashes)}")
        merged.update(table)
    return merged


# type name → "module:Class" (module relative to flowless_engine.components)
_REGISTRY: dict[str, str] = _load_tables()

_SUFFIX = re.compile(r"\s+\([A-Za-z0-9_-]{1,16}\)$")  # "CalculatorComponent (i4779)"
_EXTENSION_ID = re.compile(r"^ext:[A-Za-z0-9_.-]+:([A-Za-z_][A-Za-z0-9_]*)(?:@[A-Za-z0-9_.-]+)?$")


def resolve_type(type_name: str) -> str | None:
    """The registered name `type_name` stands for, or None when no native component serves it."""
    if type_name in _REGISTRY:
        return type_name
    name = _SUFFIX.sub("", type_name)
    extension = _EXTENSION_ID.match(name)
    if extension:
        name = extension.group(1)  # the component's class name
    for candidate in (name, name.removesuffix("Component"), f"{name}Component"):
        if candidate in _REGISTRY:
            return candidate
    return None


def is_supported(type_name: str) -> bool:
    return resolve_type(type_name) is not None


def supported_types() -> list[str]:
    return sorted(_REGISTRY)


def get_component_class(type_name: str) -> "type[Component]":
    resolved = resolve_type(type_name)
    if resolved is None:
        raise KeyError(type_name)
    module_name, class_name = _REGISTRY[resolved].split(":")
    module = importlib.import_module(f"flowless_engine.components.{module_name}")
    return getattr(module, class_name)


def component_for(vertex: "Vertex") -> "type[Component]":
    """The class that runs `vertex`: the sandbox's stand-in when it holds user code."""
    if vertex.runs_code:
        from flowless_engine.components.sandboxed import SandboxedComponent

        return SandboxedComponent
    return get_component_class(vertex.type)


def catalogue() -> dict[str, dict[str, dict]]:
    """Every supported component as Langflow's node template, grouped by category (for /all)."""
    out: dict[str, dict[str, dict]] = {}
    seen: set[type] = set()
    for type_name in supported_types():
        cls = get_component_class(type_name)
        key = cls.type_name or type_name
        if cls in seen and key != type_name:
            continue
        seen.add(cls)
        out.setdefault(cls.category, {})[type_name] = cls.node_template()
    return out
