"""What a native component is: declared inputs/outputs (Langflow's node-template shape) and
async methods that compute outputs. The runtime instantiates one per vertex per run."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from flowless_engine.errors import MissingVariableError
from flowless_engine.schema import Data, DataFrame, Message, Usage

if TYPE_CHECKING:
    from flowless_engine.graph.model import Vertex
    from flowless_engine.runtime.context import RunContext


@dataclass(frozen=True)
class Input:
    """A template field. `type` uses Langflow's template types (str, bool, int, float, prompt,
    dict, other, model, table, file, slider...)."""

    name: str
    display_name: str = ""
    type: str = "str"
    value: Any = ""
    input_types: tuple[str, ...] = ()
    required: bool = False
    advanced: bool = False
    is_list: bool = False
    password: bool = False
    load_from_db: bool = False
    options: tuple[Any, ...] = ()
    info: str = ""
    multiline: bool = False
    input_kind: str = ""  # Langflow's `_input_type`, e.g. MessageTextInput

    def to_template(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "display_name": self.display_name or self.name.replace("_", " ").title(),
            "type": self.type,
            "value": self.value,
            "required": self.required,
            "advanced": self.advanced,
            "show": True,
            "list": self.is_list,
            "info": self.info,
            "input_types": list(self.input_types),
            "load_from_db": self.load_from_db,
            "multiline": self.multiline,
            "placeholder": "",
            "dynamic": False,
            "title_case": False,
        }
        if self.password:
            out["password"] = True
        if self.options:
            out["options"] = list(self.options)
        if self.input_kind:
            out["_input_type"] = self.input_kind
        return out


@dataclass(frozen=True)
class Output:
    name: str
    method: str
    types: tuple[str, ...] = ("Message",)
    display_name: str = ""

    def to_template(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "display_name": self.display_name or self.name.replace("_", " ").title(),
            "method": self.method,
            "types": list(self.types),
            "selected": self.types[0] if self.types else None,
            "cache": True,
            "value": "__UNDEFINED__",
            "allows_loop": False,
            "tool_mode": True,
        }


@dataclass
class Tool:
    """A callable offered to an Agent: a component in tool mode, or a built-in tool."""

    name: str
    description: str
    parameters: dict[str, Any]  # JSON schema of the arguments object
    run: Callable[[dict[str, Any]], Awaitable[str]]
    source_id: str = ""


@dataclass
class LogEntry:
    name: str
    message: Any
    type: str = "text"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "message": self.message, "type": self.type}


class Component:
    """Base of every native component.

    Subclasses declare `type_name` (the `data.type` in flow JSON), `inputs`, `outputs`, and
    one async method per output. `self.params` holds the resolved field values: the template
    value after tweaks, replaced by the upstream value when an edge feeds the field.
    """

    type_name: ClassVar[str] = ""
    aliases: ClassVar[tuple[str, ...]] = ()
    display_name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    category: ClassVar[str] = "processing"
    icon: ClassVar[str] = ""
    inputs: ClassVar[tuple[Input, ...]] = ()
    outputs: ClassVar[tuple[Output, ...]] = ()
    is_input: ClassVar[bool] = False
    is_output: ClassVar[bool] = False
    # Whether the component emits chat messages (ChatInput/ChatOutput) — used for storage rules.
    stores_messages: ClassVar[bool] = False

    def __init__(self, vertex: "Vertex", params: dict[str, Any], ctx: "RunContext") -> None:
        self.vertex = vertex
        self.params = params
        self.ctx = ctx
        self.logs: dict[str, list[LogEntry]] = {}
        self.usage: Usage | None = None
        self.status: Any = None
        self.inactive_outputs: set[str] = set()
        # field name → the vertex whose output feeds it (set by the scheduler)
        self.sources: dict[str, "Vertex"] = {}
        self._current_output = ""

    # ---- helpers for subclasses -------------------------------------------------------
    @property
    def id(self) -> str:
        return self.vertex.id

    @property
    def name(self) -> str:
        return self.vertex.display_name or self.display_name

    def param(self, name: str, default: Any = None) -> Any:
        value = self.params.get(name, default)
        return default if value is None else value

    def field_spec(self, name: str) -> dict[str, Any]:
        """The raw template field dict (after tweaks) from the flow JSON."""
        return self.vertex.fields.get(name) or {}

    async def secret(self, name: str) -> str | None:
        """A credential field: when `load_from_db` is set its value names a tenant variable."""
        spec = self.field_spec(name)
        raw = self.params.get(name)
        if spec.get("load_from_db") and isinstance(raw, str) and raw:
            value = await self.ctx.variable(raw)
            if value is None:
                raise MissingVariableError(raw, field=name)
            return value
        return raw or None

    def log(self, message: Any, name: str = "") -> None:
        entry = LogEntry(name=name or self._current_output, message=message)
        self.logs.setdefault(self._current_output or "log", []).append(entry)
        self.ctx.events.emit("log", {"id": self.id, **entry.to_dict()})

    def stop(self, output_name: str) -> None:
        """Deactivate a branch: vertices fed only through this output are skipped."""
        self.inactive_outputs.add(output_name)

    def as_tools(self) -> list[Tool]:
        """The tools this component offers when connected through `component_as_tool`."""
        from flowless_engine.errors import ConfigurationError

        raise ConfigurationError(f"Component '{self.name}' ({self.type_name}) cannot be used as a tool")

    def tool_metadata(self, default_name: str, default_description: str) -> tuple[str, str]:
        """Name and description from the node's `tools_metadata` (what the Langflow UI saved)."""
        rows = self.params.get("tools_metadata")
        if isinstance(rows, list):
            for row in rows:
                if isinstance(row, dict) and row.get("status", True) is not False and row.get("name"):
                    return str(row["name"]), str(row.get("description") or default_description)
        return default_name, default_description

    def add_usage(self, usage: Usage | None) -> None:
        if usage is not None:
            self.usage = (self.usage or Usage()).add(usage)

    async def compute_output(self, output: Output) -> Any:
        # Not `build_output`: Langflow components use that name for output methods.
        self._current_output = output.name
        method = getattr(self, output.method)
        return await method()

    @classmethod
    def node_template(cls) -> dict[str, Any]:
        """Langflow's `data.node` shape, served by `/api/v1/all`."""
        template: dict[str, Any] = {"_type": "Component"}
        for spec in cls.inputs:
            template[spec.name] = spec.to_template()
        output_types = sorted({t for o in cls.outputs for t in o.types})
        return {
            "template": template,
            "description": cls.description,
            "display_name": cls.display_name,
            "icon": cls.icon,
            "base_classes": output_types,
            "outputs": [o.to_template() for o in cls.outputs],
            "output_types": [],
            "field_order": [spec.name for spec in cls.inputs],
            "documentation": "",
            "beta": False,
            "legacy": False,
            "minimized": False,
            "tool_mode": False,
            "frozen": False,
            "edited": False,
            "pinned": False,
            "conditional_paths": [],
            "custom_fields": {},
            "metadata": {"flowless_native": True},
        }


# ---- value coercion shared by components --------------------------------------------

def to_text(value: Any, template: str = "{text}", sep: str = "\n") -> str:
    """Best-effort text of any edge value (Message, Data, DataFrame, str, list, dict)."""
    if value is None:
        return ""
    if isinstance(value, Message):
        return value.plain_text
    if isinstance(value, Data):
        return format_data(value, template)
    if isinstance(value, DataFrame):
        return sep.join(format_data(Data(data=row), template) for row in value.rows)
    if isinstance(value, (list, tuple)):
        return sep.join(to_text(v, template, sep) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def format_data(data: Data, template: str) -> str:
    """Render `template` with the Data's keys (plus `text` and `data`); missing keys stay empty.

    Only plain `{name}` placeholders are substituted: no attribute access or indexing, so a
    template can never reach into Python objects.
    """
    values = dict(data.data)
    values.setdefault("text", data.text)
    values.setdefault("data", json.dumps(data.data, ensure_ascii=False, default=str))
    return substitute(template, values)


def substitute(template: str, values: dict[str, Any], *, double_brackets: bool = False) -> str:
    """Replace `{name}` (or `{{name}}`) placeholders by `values`. Unknown names are left as is."""
    import re

    pattern = r"\{\{\s*([A-Za-z_][A-Za-z0-9_\- ]*)\s*\}\}" if double_brackets else r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_\- ]*)\}(?!\})"

    def replace(match: "re.Match[str]") -> str:
        key = match.group(1).strip()
        if key not in values:
            return match.group(0)
        value = values[key]
        return value if isinstance(value, str) else to_text(value)

    return re.sub(pattern, replace, template)


def to_data_list(value: Any) -> list[Data]:
    """Normalise Data / DataFrame / Message / dict / list inputs to a list of Data."""
    if value is None:
        return []
    if isinstance(value, Data):
        return [value]
    if isinstance(value, DataFrame):
        return [Data(data=dict(row)) for row in value.rows]
    if isinstance(value, Message):
        return [Data(data={"text": value.plain_text, "sender": value.sender, "sender_name": value.sender_name})]
    if isinstance(value, dict):
        return [Data(data=value)]
    if isinstance(value, (list, tuple)):
        out: list[Data] = []
        for item in value:
            out.extend(to_data_list(item))
        return out
    return [Data(data={"text": str(value)})]


def to_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes", "on"}
    return bool(value)


def to_int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
