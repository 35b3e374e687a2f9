"""Langflow's component API as custom code sees it, written by Flowless for the sandbox.

Covers the names the corpus's custom code imports (measured in docs/custom-code.md): the
`Component` base with declarative `inputs`/`outputs`, the legacy `CustomComponent.build`, the
input classes of `langflow.io` / `lfx.io`, `Output`, `Data` (and its old name `Record`),
`Message`, `DataFrame`, `self.status`, `self.log`, `self.stop`, loggers and a few constants.
The modules that expose them (`langflow.custom`, `lfx.schema.message`, ...) are mapped onto this
one module by shim.py.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime, timezone
from typing import Any

logger = logging.getLogger("custom_component")

MESSAGE_SENDER_AI = "Machine"
MESSAGE_SENDER_USER = "User"
MESSAGE_SENDER_NAME_AI = "AI"
MESSAGE_SENDER_NAME_USER = "User"
STREAM_INFO_TEXT = "Stream the response from the model. Streaming works only in Chat."


# ---- values -------------------------------------------------------------------------------


class Data:
    """A dict with a text key; keys read as attributes (`data.title`), as in Langflow."""

    def __init__(self, data: dict[str, Any] | None = None, text_key: str = "text", default_value: Any = "", **kwargs: Any) -> None:
        values = dict(data or {})
        values.update(kwargs)
        object.__setattr__(self, "data", values)
        object.__setattr__(self, "text_key", text_key)
        object.__setattr__(self, "default_value", default_value)

    def __getattr__(self, name: str) -> Any:
        data = object.__getattribute__(self, "data")
        if name in data:
            return data[name]
        raise AttributeError(f"'Data' object has no attribute '{name}'")

    def __setattr__(self, name: str, value: Any) -> None:
        if name in {"data", "text_key", "default_value"}:
            object.__setattr__(self, name, value)
        else:
            self.data[name] = value

    def get_text(self) -> Any:
        return self.data.get(self.text_key, self.default_value)

    @property
    def text(self) -> Any:
        return self.get_text()

    @property
    def value(self) -> Any:
        return self.get_text()

    def set_text(self, text: Any) -> Any:
        self.data[self.text_key] = text
        return text

    def to_dict(self) -> dict[str, Any]:
        return dict(self.data)

    def model_dump(self) -> dict[str, Any]:
        return {"data": dict(self.data), "text_key": self.text_key, "default_value": self.default_value}

    def to_lc_document(self) -> Any:
        return {"page_content": str(self.get_text() or ""), "metadata": {k: v for k, v in self.data.items() if k != self.text_key}}

    def __repr__(self) -> str:
        return f"Data(data={self.data!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Data) and other.data == self.data


Record = Data


class Message(Data):
    """A chat message: `text`, `sender`, `sender_name`, `session_id`, `files`, `properties`."""

    _FIELDS = ("text", "sender", "sender_name", "session_id", "context_id", "flow_id", "files", "id", "timestamp", "category", "properties", "content_blocks", "error", "edit")

    def __init__(self, text: Any = "", sender: str | None = None, sender_name: str | None = None, session_id: str = "", **kwargs: Any) -> None:
        data = kwargs.pop("data", None) or {}
        super().__init__(data=dict(data), text_key="text")
        self.data.update(
            text="" if text is None else text, sender=sender, sender_name=sender_name, session_id=session_id,
            files=kwargs.pop("files", None) or [], properties=kwargs.pop("properties", None) or {},
            timestamp=kwargs.pop("timestamp", None) or datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
            id=kwargs.pop("id", None) or str(uuid.uuid4()),
        )
        self.data.update(kwargs)

    @property
    def text(self) -> Any:
        return self.data.get("text", "")

    def get_text(self) -> Any:
        return self.text

    @classmethod
    def from_data(cls, data: Data) -> "Message":
        return cls(**{k: v for k, v in data.data.items() if k in cls._FIELDS})

    def __repr__(self) -> str:
        return f"Message(text={self.text!r})"


class DataFrame(list):
    """A table as a list of row dicts (Langflow's is a pandas DataFrame: `to_pandas()` gives one)."""

    def __init__(self, data: Any = None, **_: Any) -> None:
        rows: list[dict[str, Any]] = []
        if isinstance(data, dict):  # columns → rows
            keys = list(data)
            length = max((len(v) for v in data.values() if isinstance(v, list)), default=0)
            rows = [{k: data[k][i] if isinstance(data[k], list) and i < len(data[k]) else None for k in keys} for i in range(length)]
        elif data is not None and hasattr(data, "to_dict") and not isinstance(data, Data):
            rows = list(data.to_dict(orient="records"))
        else:
            for item in data or []:
                rows.append(item.data if isinstance(item, Data) else dict(item))
        super().__init__(rows)

    @property
    def rows(self) -> list[dict[str, Any]]:
        return list(self)

    @property
    def empty(self) -> bool:
        return not self

    @property
    def columns(self) -> list[str]:
        seen: dict[str, None] = {}
        for row in self:
            seen.update(dict.fromkeys(row))
        return list(seen)

    def to_dict(self, orient: str = "records") -> Any:
        if orient == "records":
            return [dict(row) for row in self]
        return {column: [row.get(column) for row in self] for column in self.columns}

    def to_data_list(self) -> list[Data]:
        return [Data(data=dict(row)) for row in self]

    def iterrows(self) -> Any:
        return enumerate(dict(row) for row in self)

    def to_pandas(self) -> Any:
        """A pandas DataFrame, where the sandbox layer has pandas (it is not in the default one)."""
        import importlib

        return importlib.import_module("pandas").DataFrame(self.to_dict())


# ---- inputs and outputs -------------------------------------------------------------------


class Input:
    """Every Langflow input class: its keyword arguments kept as attributes."""

    field_type = "str"

    def __init__(self, name: str = "", display_name: str = "", value: Any = None, **kwargs: Any) -> None:
        self.name = name
        self.display_name = display_name or name
        self.value = value
        self.info = kwargs.get("info", "")
        self.required = kwargs.get("required", False)
        self.tool_mode = kwargs.get("tool_mode", False)
        self.is_list = kwargs.get("is_list", False)
        for key, item in kwargs.items():
            setattr(self, key, item)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


def _input(name: str, field_type: str = "str", *, text: bool = False) -> type[Input]:
    return type(name, (Input,), {"field_type": field_type, "as_text": text})


Input.as_text = False  # type: ignore[attr-defined]
StrInput = _input("StrInput", text=True)
MessageTextInput = _input("MessageTextInput", text=True)
MultilineInput = _input("MultilineInput", text=True)
TextInput = _input("TextInput", text=True)
PromptInput = _input("PromptInput", "prompt", text=True)
QueryInput = _input("QueryInput", text=True)
MultilineSecretInput = _input("MultilineSecretInput", text=True)
SecretStrInput = _input("SecretStrInput", text=True)
MessageInput = _input("MessageInput", "Message")
DataInput = _input("DataInput", "Data")
DataFrameInput = _input("DataFrameInput", "DataFrame")
HandleInput = _input("HandleInput", "other")
IntInput = _input("IntInput", "int")
FloatInput = _input("FloatInput", "float")
BoolInput = _input("BoolInput", "bool")
DictInput = _input("DictInput", "dict")
NestedDictInput = _input("NestedDictInput", "NestedDict")
DropdownInput = _input("DropdownInput")
MultiselectInput = _input("MultiselectInput")
TabInput = _input("TabInput")
SliderInput = _input("SliderInput", "slider")
FileInput = _input("FileInput", "file")
TableInput = _input("TableInput", "table")
LinkInput = _input("LinkInput")
CodeInput = _input("CodeInput", "code")
SortableListInput = _input("SortableListInput")
ConnectionInput = _input("ConnectionInput")
McpInput = _input("McpInput")
ToolsInput = _input("ToolsInput")
ModelInput = _input("ModelInput", "model")
AuthInput = _input("AuthInput")


class Output:
    def __init__(self, display_name: str = "", name: str = "", method: str | None = None, types: list[str] | None = None, **kwargs: Any) -> None:
        self.display_name = display_name or name
        self.name = name
        self.method = method
        self.types = types or []
        for key, item in kwargs.items():
            setattr(self, key, item)

    def __repr__(self) -> str:
        return f"Output(name={self.name!r}, method={self.method!r})"


class RangeSpec:
    def __init__(self, min: float = 0, max: float = 1, step: float = 0.1, **_: Any) -> None:  # noqa: A002
        self.min, self.max, self.step = min, max, step


class dotdict(dict):  # noqa: N801 - Langflow's name
    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    __setattr__ = dict.__setitem__


# Names custom code imports from `langflow.field_typing` (annotations only).
Text = str
NestedDict = dict
Object = object
Callable = Any
Tool = Any
LanguageModel = Any
Embeddings = Any
VectorStore = Any
Retriever = Any
BaseChatMemory = Any
TemplateField = Input
Prompt = str


# ---- components ---------------------------------------------------------------------------


class _GraphStub:
    """What `self.graph` offers: the ids of the run, never another tenant's."""

    def __init__(self, flow_id: str, session_id: str, run_id: str) -> None:
        self.flow_id = flow_id
        self.session_id = session_id
        self.run_id = run_id
        self.vertices: list[Any] = []


class Component:
    """Base of custom components: `inputs` become attributes, each Output's method computes it."""

    display_name: str = ""
    description: str = ""
    documentation: str = ""
    icon: str = ""
    name: str = ""
    inputs: list[Input] = []
    outputs: list[Output] = []
    trace_type = "chain"

    def __init__(self, **attributes: Any) -> None:
        self.status: Any = None
        self._logs: list[dict[str, Any]] = []
        self._stopped: list[str] = []
        self._attributes: dict[str, Any] = {}
        self._current_output = ""
        self._id = ""
        self._session_id = ""
        self._flow_id = ""
        self.graph = _GraphStub("", "", "")
        for key, value in attributes.items():
            self.set_attribute(key, value)

    def set_attribute(self, name: str, value: Any) -> None:
        self._attributes[name] = value
        try:
            setattr(self, name, value)
        except AttributeError:  # a read-only property of the class keeps its behaviour
            pass

    # -- Langflow's helpers -------------------------------------------------------------
    def log(self, message: Any, name: str | None = None) -> None:
        if not isinstance(message, (str, int, float, bool, type(None), dict, list)):
            message = repr(message)
        self._logs.append({"name": name or self._current_output or "log", "message": message, "type": "text"})

    def stop(self, output_name: str | None = None) -> None:
        self._stopped.append(output_name or self._current_output)

    def get_output(self, name: str) -> Output | None:
        return next((output for output in self.outputs if output.name == name), None)

    @property
    def user_id(self) -> None:
        return None

    @property
    def session_id(self) -> str:
        return self._session_id

    @property
    def flow_id(self) -> str:
        return self._flow_id

    @property
    def _vertex(self) -> None:
        return None

    async def send_message(self, message: Message, **_: Any) -> Message:
        return message

    def to_toolkit(self) -> list[Any]:
        raise NotImplementedError("Flowless builds a custom component's tools itself (tool mode)")


class CustomComponent(Component):
    """The pre-1.0 style: `build(**fields)` returns the output, `build_config()` describes fields."""

    field_config: dict[str, Any] = {}

    def build_config(self) -> dict[str, Any]:
        return dict(self.field_config)

    @property
    def repr_value(self) -> Any:
        return self.status


class TextComponent(Component):
    """langflow.base.io.text.TextComponent (Text Input/Output): `input_value` as text."""

    def build_text(self) -> Message:  # what ChatOutput-like subclasses usually call
        return Message(text=getattr(self, "input_value", ""))


class ChatComponent(Component):
    def get_properties_from_source_component(self) -> tuple[None, None, None, None]:
        return None, None, None, None


def docs_to_data(documents: list[Any]) -> list[Data]:
    out = []
    for document in documents:
        content = getattr(document, "page_content", None)
        metadata = getattr(document, "metadata", None) or {}
        out.append(Data(data={"text": content, **metadata}) if content is not None else Data(data=dict(document)))
    return out


def data_to_text(template: str, data: Any, sep: str = "\n") -> str:
    items = data if isinstance(data, list) else [data]
    return sep.join(template.format(data=item.data, **item.data) for item in items)


def safe_convert(data: Any, **_: Any) -> str:
    if isinstance(data, Message):
        return str(data.text)
    if isinstance(data, Data):
        return json.dumps(data.data, default=str) if data.text_key not in data.data else str(data.get_text())
    if isinstance(data, DataFrame):
        return json.dumps(data.to_dict(), default=str)
    return str(data)


def unescape_string(value: str) -> str:
    return value.replace("\\n", "\n").replace("\\t", "\t")
