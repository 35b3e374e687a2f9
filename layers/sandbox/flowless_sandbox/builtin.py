"""Stock components whose *input* is the code (PythonREPLComponent, PythonFunction), written by
Flowless: the approved input runs here, in the sandbox, with Langflow's output shapes."""

from __future__ import annotations

import importlib
import io
from contextlib import redirect_stdout
from typing import Any

from flowless_sandbox import api


class _Node(api.Component):
    pass


def run(node: dict[str, Any], call: dict[str, Any], inputs: dict[str, Any]) -> tuple[api.Component, Any]:
    component = _Node()
    kind = node.get("type") or ""
    output = call.get("output") or ""
    if kind in {"PythonREPLComponent", "PythonREPLTool"}:
        return component, _repl(str(inputs.get("python_code") or ""), str(inputs.get("global_imports") or ""))
    if kind == "PythonFunction":
        function = _function(str(inputs.get("function_code") or ""))
        result = function()
        if output == "function_output_str":
            return component, api.Message(text=str(result))
        return component, api.Data(data={"result": result} if not isinstance(result, dict) else result)
    raise LookupError(f"Flowless's sandbox does not run the component type {kind!r} without its code")


def _repl(code: str, global_imports: str) -> api.Data:
    namespace: dict[str, Any] = {"__name__": "__repl__"}
    for name in (part.strip() for part in global_imports.split(",")):
        if name:
            namespace[name.split(".")[0]] = importlib.import_module(name.split(".")[0])
    printed = io.StringIO()
    try:
        with redirect_stdout(printed):
            exec(compile(code, "<python_code>", "exec"), namespace)  # noqa: S102 - approved code, in the sandbox
    except Exception as exc:
        return api.Data(data={"error": f"{type(exc).__name__}: {exc}"})
    return api.Data(data={"result": printed.getvalue().strip()})


def _function(code: str) -> Any:
    namespace: dict[str, Any] = {"__name__": "__function__"}
    exec(compile(code, "<function_code>", "exec"), namespace)  # noqa: S102 - approved code, in the sandbox
    functions = [v for k, v in namespace.items() if callable(v) and not k.startswith("__") and getattr(v, "__module__", None) == "__function__"]
    if not functions:
        raise LookupError("function_code defines no function")
    return functions[-1]
