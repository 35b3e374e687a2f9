"""One call of the code runner protocol (flowless_engine/runtime/code.py): load the node's approved
code, set its inputs, compute one output, answer JSON. Runs only inside the sandbox (the
CustomCodeFunction, or a local subprocess with limits): this is the one place where Flowless
executes code, and only code whose hash the tenant approved (the caller checked it)."""

from __future__ import annotations

import asyncio
import inspect
import io
import json
import math
import traceback
from contextlib import redirect_stdout
from typing import Any

from flowless_sandbox import api, shim

_TYPE = "$type"


# ---- values (the engine's checkpoint encoding) ------------------------------------------------


def decode(value: Any) -> Any:
    if isinstance(value, list):
        return [decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    kind = value.get(_TYPE)
    if kind == "dict":
        return {key: decode(item) for key, item in value["value"].items()}
    if kind == "Message":
        fields = {k: decode(v) for k, v in value.items() if k not in {_TYPE, "usage", "text"}}
        return api.Message(text=decode(value.get("text")), **fields)
    if kind == "Data":
        return api.Data(data=decode(value.get("data")) or {}, text_key=value.get("text_key") or "text", default_value=decode(value.get("default_value")))
    if kind == "DataFrame":
        return api.DataFrame([decode(row) for row in value.get("rows", [])])
    if kind == "float":
        return float(value["value"])
    return value


def encode(value: Any) -> Any:
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {_TYPE: "float", "value": repr(value)}
    if isinstance(value, api.Message):
        out = {_TYPE: "Message"}
        for key, item in value.data.items():
            if key in api.Message._FIELDS and key != "id":
                out[key] = encode(item if key != "text" else ("" if item is None else str(item) if not isinstance(item, str) else item))
        return out
    if isinstance(value, api.DataFrame):
        return {_TYPE: "DataFrame", "rows": [encode(dict(row)) for row in value]}
    if isinstance(value, api.Data):
        return {_TYPE: "Data", "data": encode(dict(value.data)), "text_key": value.text_key, "default_value": encode(value.default_value)}
    if isinstance(value, (list, tuple, set)):
        return [encode(item) for item in value]
    if isinstance(value, dict):
        return {_TYPE: "dict", "value": {str(key): encode(item) for key, item in value.items()}}
    if hasattr(value, "to_dict") and hasattr(value, "columns"):  # a pandas DataFrame
        return encode(api.DataFrame(value))
    if hasattr(value, "model_dump"):  # pydantic
        return encode(value.model_dump())
    return str(value)


# ---- one call ---------------------------------------------------------------------------------


def run_call(call: dict[str, Any]) -> dict[str, Any]:
    """Answer one protocol call; never raises."""
    component: api.Component | None = None
    printed = io.StringIO()
    try:
        shim.install()
        node = call["node"]
        inputs = {name: decode(value) for name, value in (call.get("inputs") or {}).items()}
        with redirect_stdout(printed):
            component, value = _compute(node, call, inputs)
        answer: dict[str, Any] = {"ok": True, "value": encode(value)}
        answer["status"] = encode(component.status) if component.status is not None else None
        if component._stopped:
            answer["stop"] = list(component._stopped)
    except ModuleNotFoundError as exc:
        answer = {"ok": False, "kind": "missing_module", "error": f"module '{exc.name}' is not installed in the sandbox ({exc})"}
    except ImportError as exc:
        answer = {"ok": False, "kind": "missing_module", "error": str(exc)}
    except Exception as exc:  # the code's own failure, reported with its last frame
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        where = f" (line {frame.lineno})" if frame.filename == "<custom component>" else ""
        answer = {"ok": False, "kind": "error", "error": f"{type(exc).__name__}: {exc}{where}"}
    logs = list(component._logs) if component is not None else []
    if printed.getvalue():
        logs.append({"name": "stdout", "message": printed.getvalue()[-4000:], "type": "text"})
    answer["logs"] = logs
    return answer


def _compute(node: dict[str, Any], call: dict[str, Any], inputs: dict[str, Any]) -> tuple[api.Component, Any]:
    code = node.get("code") or {}
    if "code" not in code:
        from flowless_sandbox import builtin

        return builtin.run(node, call, inputs)
    cls = _component_class(code["code"], node.get("type") or "")
    component = cls()
    component._id = node.get("id") or ""
    component._session_id = call.get("session_id") or ""
    component._flow_id = call.get("flow_id") or ""
    component.graph = api._GraphStub(component._flow_id, component._session_id, call.get("run_id") or "")
    declared = {spec.name: spec for spec in getattr(cls, "inputs", None) or [] if getattr(spec, "name", None)}
    for name, spec in declared.items():
        value = inputs.get(name, spec.value)
        component.set_attribute(name, _as_declared(spec, value))
    output_name = call.get("output") or ""
    component._current_output = output_name
    output = component.get_output(output_name) if getattr(cls, "outputs", None) else None
    if output is not None and output.method:
        return component, _await(getattr(component, output.method)())
    if hasattr(component, "build"):  # CustomComponent: fields are build()'s keyword arguments
        parameters = inspect.signature(component.build).parameters
        takes_all = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
        kwargs = {k: v for k, v in inputs.items() if takes_all or k in parameters}
        for name, parameter in parameters.items():
            if name not in kwargs and parameter.default is inspect.Parameter.empty and parameter.kind is parameter.POSITIONAL_OR_KEYWORD:
                kwargs[name] = None
        value = _await(component.build(**kwargs))
        if component.status is None:
            component.status = value
        return component, value
    raise LookupError(f"the component has no output named '{output_name}'")


# Langflow prepends these imports to every custom component's code (lfx DEFAULT_IMPORT_STRING), so
# user code may use them without importing them.
_DEFAULT_IMPORTS = ("BoolInput", "CodeInput", "DataInput", "DictInput", "DropdownInput", "FileInput", "FloatInput", "HandleInput",
                    "IntInput", "JSONInput", "LinkInput", "MessageInput", "MessageTextInput", "MultilineInput", "MultilineSecretInput",
                    "MultiselectInput", "NestedDictInput", "Output", "PromptInput", "SecretStrInput", "SliderInput", "StrInput",
                    "TableInput", "Data", "DataFrame")


def _default_names() -> dict[str, Any]:
    names = {name: getattr(api, name) for name in _DEFAULT_IMPORTS if hasattr(api, name)}
    names.setdefault("JSON", getattr(api, "JSON", api.Data))
    names.setdefault("Table", getattr(api, "Table", api.DataFrame))
    return names


def _component_class(source: str, type_name: str) -> type[api.Component]:
    namespace: dict[str, Any] = {"__name__": "custom_component", "__builtins__": __builtins__, **_default_names()}
    exec(compile(source, "<custom component>", "exec"), namespace)  # noqa: S102 - approved code, in the sandbox
    classes = [
        value for value in namespace.values()
        if isinstance(value, type) and issubclass(value, api.Component) and value.__module__ == "custom_component"
    ]
    if not classes:
        raise LookupError("the code defines no Component or CustomComponent subclass")
    named = [cls for cls in classes if cls.__name__ in {type_name, f"{type_name}Component"}]
    return (named or classes)[-1] if named else classes[-1]


def _as_declared(spec: api.Input, value: Any) -> Any:
    """Langflow's input validation, the part custom code relies on: text inputs get text."""
    if getattr(spec, "as_text", False):
        if isinstance(value, api.Message):
            return value.text
        if isinstance(value, api.Data):
            return value.get_text()
    if spec.field_type == "int" and isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    if spec.field_type == "float" and isinstance(value, (str, int)) and not isinstance(value, bool):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _await(value: Any) -> Any:
    if inspect.isawaitable(value):
        return asyncio.run(_resolve(value))
    return value


async def _resolve(awaitable: Any) -> Any:
    return await awaitable


def main_json(text: str) -> str:
    try:
        call = json.loads(text)
    except ValueError as exc:
        return json.dumps({"ok": False, "kind": "error", "error": f"the call is not JSON: {exc}", "logs": []})
    return json.dumps(run_call(call), default=str)
