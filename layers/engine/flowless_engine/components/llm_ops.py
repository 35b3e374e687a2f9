"""LLM operations: Batch Run (a model over each row of a table, bounded concurrency) and Smart
Router (a model picks the route; only the chosen branch continues)."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from flowless_engine.components.base import Component, Input, Output, to_bool, to_text
from flowless_engine.components.models import resolve_model_config
from flowless_engine.schema import DataFrame, Message

BATCH_CONCURRENCY = 4
_WATSONX = ("https://us-south.ml.cloud.ibm.com", "https://eu-de.ml.cloud.ibm.com", "https://eu-gb.ml.cloud.ibm.com",
            "https://au-syd.ml.cloud.ibm.com", "https://jp-tok.ml.cloud.ibm.com", "https://ca-tor.ml.cloud.ibm.com")
_MODEL_INPUTS = (
    Input("model", "Language Model", "model", "", input_types=("LanguageModel",), required=True, input_kind="ModelInput"),
    Input("api_key", "API Key", "str", "", advanced=True, password=True, load_from_db=True, input_kind="SecretStrInput"),
)


def toml_row(row: dict[str, Any]) -> str:
    """A row as TOML tables `[column]\\nvalue = "..."` (what Langflow sends when no column is chosen)."""
    parts = []
    for column, value in row.items():
        key = str(column)
        key = key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)
        parts.append(f"[{key}]\nvalue = {json.dumps(str(value), ensure_ascii=False)}\n\n")
    return "".join(parts)


async def _complete(component: Component, messages: list[Any]) -> str:
    config = await resolve_model_config(component)
    result = await component.ctx.chat_model(config).complete(messages)
    component.add_usage(result.usage)
    return result.text


class BatchRunComponent(Component):
    type_name = "BatchRunComponent"
    display_name = "Batch Run"
    description = "Runs an LLM on each row of a DataFrame column. If no column is specified, all columns are used."
    category = "llm_operations"
    icon = "List"
    inputs = (
        *_MODEL_INPUTS,
        Input("base_url_ibm_watsonx", "watsonx API Endpoint", "str", _WATSONX[0], options=_WATSONX, input_kind="DropdownInput"),
        Input("project_id", "watsonx Project ID", "str", "", input_kind="StrInput"),
        Input("system_message", "Instructions", "str", "", input_types=("Message",), multiline=True, input_kind="MultilineInput"),
        Input("df", "Table", "other", "", input_types=("DataFrame", "Table"), required=True, input_kind="DataFrameInput"),
        Input("column_name", "Column Name", "str", "", input_types=("Message",), input_kind="MessageTextInput"),
        Input("output_column_name", "Output Column Name", "str", "model_response", input_types=("Message",), advanced=True, input_kind="MessageTextInput"),
        Input("enable_metadata", "Enable Metadata", "bool", False, advanced=True, input_kind="BoolInput"),
    )
    outputs = (Output("batch_results", "run_batch", ("Table",), "LLM Results"),)

    async def run_batch(self) -> DataFrame:
        from flowless_engine.llm.base import ChatMessage

        frame = self.params.get("df")
        if isinstance(frame, list) and len(frame) == 1:
            frame = frame[0]
        if not isinstance(frame, DataFrame):
            raise TypeError(f"Expected DataFrame input, got {type(frame).__name__}")
        rows = [dict(r) for r in frame.rows]
        column = to_text(self.params.get("column_name")).strip()
        columns = list(dict.fromkeys(k for r in rows for k in r))
        if column and column not in columns:
            raise ValueError(f"Column '{column}' not found in the DataFrame. Available columns: {', '.join(columns)}")
        system = to_text(self.params.get("system_message"))
        out_column = to_text(self.param("output_column_name", "model_response")) or "model_response"
        texts = [to_text(r.get(column, "")) if column else toml_row(r) for r in rows]
        gate = asyncio.Semaphore(BATCH_CONCURRENCY)

        async def one(text: str) -> str:
            messages = ([ChatMessage(role="system", content=system)] if system else []) + [ChatMessage(role="user", content=text)]
            async with gate:
                return await _complete(self, messages)

        answers = await asyncio.gather(*(one(t) for t in texts))
        results = []
        for index, (row, answer) in enumerate(zip(rows, answers)):
            row = {**row, out_column: answer, "batch_index": index}
            if to_bool(self.param("enable_metadata", False)):
                row["metadata"] = {"has_system_message": bool(system), "input_length": len(to_text(row.get("text_input", ""))),
                                   "response_length": len(answer), "processing_status": "success"}
            results.append(row)
        self.status = f"Processed {len(results)} rows"
        return DataFrame(rows=results)


_DEFAULT_ROUTES = [
    {"output_value": "", "route_category": "Positive", "route_description": "Positive feedback, satisfaction, or compliments"},
    {"output_value": "", "route_category": "Negative", "route_description": "Complaints, issues, or dissatisfaction"},
]


class SmartRouterComponent(Component):
    type_name = "SmartRouter"
    display_name = "Smart Router"
    description = "Routes an input message using LLM-based categorization."
    category = "llm_operations"
    icon = "route"
    inputs = (
        *_MODEL_INPUTS,
        Input("input_text", "Input", "str", "", input_types=("Message",), required=True, info="The primary text input for the operation.", input_kind="MessageTextInput"),
        Input("routes", "Routes", "table", _DEFAULT_ROUTES, input_types=("DataFrame", "Table"), required=True, input_kind="TableInput"),
        Input("message", "Override Output", "str", "", input_types=("Message",), advanced=True, input_kind="MessageInput"),
        Input("enable_else_output", "Include Else Output", "bool", False, advanced=True, input_kind="BoolInput"),
        Input("custom_prompt", "Additional Instructions", "str", "", input_types=("Message",), advanced=True, multiline=True, input_kind="MultilineInput"),
    )
    # The outputs are one per route (`category_<n>_result`) plus `default_result`: read from the node.
    outputs = (Output("category_1_result", "process_case", ("Message",), "Positive"),
               Output("category_2_result", "process_case", ("Message",), "Negative"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        declared = [o for o in self.vertex.outputs if isinstance(o, dict) and o.get("name")]
        if declared:
            self.outputs = tuple(Output(o["name"], "default_response" if o["name"] == "default_result" else "process_case",
                                        ("Message",), o.get("display_name") or "") for o in declared)
        self._choice: int | None | str = "unset"

    def _routes(self) -> list[dict[str, Any]]:
        value = self.params.get("routes")
        rows = value.rows if isinstance(value, DataFrame) else value
        return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []

    async def _category(self) -> int | None:
        if self._choice != "unset":
            return self._choice  # type: ignore[return-value]
        from flowless_engine.llm.base import ChatMessage

        routes = self._routes()
        text = to_text(self.params.get("input_text"))
        lines = []
        for i, route in enumerate(routes):
            name = to_text(route.get("route_category")) or f"Category {i + 1}"
            description = to_text(route.get("route_description")).strip()
            lines.append(f'- "{name}": {description}' if description else f'- "{name}"')
        prompt = (
            "You are a text classifier. Given the following text and categories, determine which category best matches the text.\n\n"
            f'Text to classify: "{text}"\n\nAvailable categories:\n' + "\n".join(lines) + "\n\n"
            'Respond with ONLY the exact category name that best matches the text. If none match well, respond with "NONE".\n\nCategory:'
        )
        extra = to_text(self.params.get("custom_prompt")).strip()
        if extra:
            names = ", ".join(f'"{to_text(r.get("route_category")) or f"Category {i + 1}"}"' for i, r in enumerate(routes))
            extra = extra.replace("{input_text}", text).replace("{routes}", names)
            prompt = f"{prompt}\n\nAdditional Instructions:\n{extra}"
        answer = (await _complete(self, [ChatMessage(role="user", content=prompt)])).strip().strip('"').strip()
        self.log(f"LLM response: '{answer}'")
        self._choice = next((i for i, r in enumerate(routes) if answer.lower() == to_text(r.get("route_category")).lower()), None)
        return self._choice  # type: ignore[return-value]

    def _deactivate_all_but(self, keep: str | None) -> None:
        for output in self.outputs:
            if output.name != keep:
                self.stop(output.name)

    def _override(self) -> str:
        value = self.params.get("message")
        return to_text(value).strip() if value else ""

    async def process_case(self) -> Message:
        choice = await self._category()
        routes = self._routes()
        if choice is None:
            self._deactivate_all_but("default_result" if to_bool(self.param("enable_else_output", False)) else None)
            return Message(text="")
        chosen = f"category_{choice + 1}_result"
        self._deactivate_all_but(chosen)
        if self._current_output != chosen:
            return Message(text="")
        custom = to_text(routes[choice].get("output_value")).strip()
        text = self._override() or (custom if custom and custom.lower() != "none" else to_text(self.params.get("input_text")))
        self.status = f"Categorized as {to_text(routes[choice].get('route_category'))}"
        return Message(text=text)

    async def default_response(self) -> Message:
        if not to_bool(self.param("enable_else_output", False)):
            return Message(text="")
        choice = await self._category()
        if choice is not None:
            self.stop("default_result")
            return Message(text="")
        self._deactivate_all_but("default_result")
        return Message(text=self._override() or to_text(self.params.get("input_text")))
