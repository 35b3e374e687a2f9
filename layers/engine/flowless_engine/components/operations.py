"""Data Operations (`Operations`, Langflow 1.13): one node for the Text, JSON and Table operations.
`input_type` picks the family and `operation` the operation; the work is done by the engine's
Text Operations, JSON Operations and Table Operations components, which share its field names."""

from __future__ import annotations

from typing import Any

from flowless_engine.components.base import Component, Input, Output, to_text
from flowless_engine.components.processing_more import (
    DataFrameOperationsComponent,
    DataOperationsComponent,
    TextOperationsComponent,
    _selected,
)
from flowless_engine.schema import Data, DataFrame, Message

TEXT_OPERATIONS = ("Word Count", "Case Conversion", "Text Replace", "Text Extract", "Text Head", "Text Tail", "Text Strip",
                   "Text Join", "Text Clean", "Text to DataFrame")
JSON_OPERATIONS = frozenset(DataOperationsComponent._OPS)
TABLE_OPERATIONS = frozenset(DataFrameOperationsComponent._OPS)
_ICONS = {"Word Count": "hash", "Case Conversion": "type", "Text Replace": "replace", "Text Extract": "search", "Text Head": "chevron-left",
          "Text Tail": "chevron-right", "Text Strip": "minus", "Text Join": "link", "Text Clean": "sparkles", "Text to DataFrame": "table"}


def _shared_inputs() -> tuple[Input, ...]:
    """The three components' fields (each name once), not required: only the chosen family's matter."""
    import dataclasses

    seen: dict[str, Input] = {}
    for cls in (TextOperationsComponent, DataOperationsComponent, DataFrameOperationsComponent):
        for spec in cls.inputs:
            if spec.name not in ("operation", "operations") and spec.name not in seen:
                seen[spec.name] = dataclasses.replace(spec, required=False)
    data = seen["data"]
    seen["data"] = dataclasses.replace(data, input_kind="JSONInput")
    return tuple(seen.values())


class OperationsComponent(Component):
    type_name = "Operations"
    display_name = "Data Operations"
    description = "Perform operations on Text, JSON, and Tables from a single component."
    category = "processing"
    icon = "file-cog"
    inputs = (
        Input("input_type", "Input Type", "tab", "Text", options=("Text", "JSON", "Table"), input_kind="TabInput"),
        Input("operation", "Operation", "sortableList", "", options=tuple({"name": n, "icon": _ICONS[n]} for n in TEXT_OPERATIONS),
              input_kind="SortableListInput"),
        *_shared_inputs(),
    )
    # 1.13 exports one of these, after the chosen family and operation.
    outputs = (
        Output("message_output", "as_message", ("Message",), "Message"),
        Output("data_output", "as_data", ("JSON",), "JSON"),
        Output("dataframe_output", "as_dataframe", ("Table",), "Table"),
        Output("text_output", "as_text", ("Message",), "Text"),
    )

    def _operation(self) -> str:
        return _selected(self.params.get("operation"))

    def _delegate(self, cls: type[Component], **renamed: Any) -> Any:
        component = cls(self.vertex, {**self.params, **renamed}, self.ctx)
        component.sources = self.sources
        return component

    async def as_data(self) -> Data:
        operation = self._operation()
        if operation in JSON_OPERATIONS:  # all but Combine take one JSON input (JSON Operations checks it)
            return await self._delegate(DataOperationsComponent, operations=self.params.get("operation")).as_data()
        if operation == "Word Count":
            return await self._delegate(TextOperationsComponent).get_data()
        return Data(data={})

    async def as_dataframe(self) -> DataFrame:
        operation = self._operation()
        if operation in TABLE_OPERATIONS:
            return await self._delegate(DataFrameOperationsComponent).perform_operation()
        if operation == "Text to DataFrame":
            return await self._delegate(TextOperationsComponent).get_dataframe()
        return DataFrame()

    async def as_message(self) -> Message:
        operation = self._operation()
        if operation in TEXT_OPERATIONS and operation not in ("Word Count", "Text to DataFrame"):
            return await self._delegate(TextOperationsComponent).get_message()
        return Message(text=to_text(self.params.get("text_input")))

    async def as_text(self) -> Message:
        return await self.as_message()
