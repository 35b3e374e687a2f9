"""Structured Output: ask a model for JSON matching an output-schema table."""

from __future__ import annotations

import json
from typing import Any

from flowless_engine.components.agent import _strip_fences, schema_from_table
from flowless_engine.components.base import Component, Input, Output, to_text
from flowless_engine.components.models import resolve_model_config
from flowless_engine.errors import ComponentError
from flowless_engine.schema import Data, DataFrame, Message


class StructuredOutputComponent(Component):
    type_name = "StructuredOutput"
    display_name = "Structured Output"
    description = "Uses a language model to turn text into structured data following a schema."
    category = "llm_operations"
    icon = "braces"
    inputs = (
        Input("llm", "Language Model", "other", "", input_types=("LanguageModel",)),
        Input("model", "Language Model", "model", "", input_types=("LanguageModel",)),
        Input("api_key", "API Key", value="", password=True, advanced=True),
        Input("input_value", "Input Message", value="", input_types=("Message",), required=True),
        Input("system_prompt", "Format Instructions", value="You are an AI that extracts structured JSON objects from unstructured text.", multiline=True, advanced=True),
        Input("schema_name", "Schema Name", value="", advanced=True),
        Input("output_schema", "Output Schema", "table", [], is_list=True),
    )
    outputs = (
        Output("structured_output", "build_structured_output", ("Data",), "Structured Output"),
        Output("dataframe_output", "build_structured_dataframe", ("DataFrame",), "Structured Output"),
    )

    async def _extract(self) -> list[dict[str, Any]]:
        from flowless_engine.llm.base import ChatMessage

        if self.params.get("llm") and not self.params.get("model"):
            self.params["model"] = self.params["llm"]
        config = await resolve_model_config(self)
        model = self.ctx.chat_model(config)
        row = schema_from_table(self.params.get("output_schema")) or {"type": "object", "additionalProperties": True}
        # Several objects may be found in one text; ask for a list of them.
        schema = {"type": "object", "properties": {"objects": {"type": "array", "items": row}}, "required": ["objects"]}
        value = self.params.get("input_value")
        if isinstance(value, Message):
            await value.resolve()
        result = await model.complete(
            [ChatMessage(role="system", content=to_text(self.param("system_prompt"))), ChatMessage(role="user", content=to_text(value))],
            json_schema=schema,
        )
        self.add_usage(result.usage)
        try:
            parsed = json.loads(_strip_fences(result.text))
        except ValueError:
            raise ComponentError(self.id, self.name, "the model did not return valid JSON for the output schema") from None
        objects = parsed.get("objects", parsed) if isinstance(parsed, dict) else parsed
        if isinstance(objects, dict):
            objects = [objects]
        return [o if isinstance(o, dict) else {"value": o} for o in (objects or [])]

    async def build_structured_output(self) -> Data:
        objects = await self._extract()
        return Data(data=objects[0] if len(objects) == 1 else {"results": objects})

    async def build_structured_dataframe(self) -> DataFrame:
        return DataFrame(rows=await self._extract())
