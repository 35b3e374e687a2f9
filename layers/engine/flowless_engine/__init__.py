"""Flowless engine: runs Langflow flow exports natively, never executing their `code` fields.

Kept import-light on purpose: the public names below are resolved lazily so that
`import flowless_engine` costs almost nothing on a Lambda cold start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = [
    "load_graph",
    "run_graph",
    "run_flow_from_json",
    "RunRequest",
    "FlowError",
]

_LAZY = {
    "load_graph": "flowless_engine.graph.loader",
    "run_graph": "flowless_engine.runtime.run",
    "run_flow_from_json": "flowless_engine.api",
    "RunRequest": "flowless_engine.runtime.request",
    "FlowError": "flowless_engine.errors",
}

if TYPE_CHECKING:  # pragma: no cover
    from flowless_engine.api import run_flow_from_json
    from flowless_engine.errors import FlowError
    from flowless_engine.graph.loader import load_graph
    from flowless_engine.runtime.request import RunRequest
    from flowless_engine.runtime.run import run_graph


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(name)
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value
