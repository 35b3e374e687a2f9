"""LLM operations that let a model decide: LLM Selector (a judge model picks which of the wired
models answers) and Smart Transform.

Smart Transform in Langflow has the model write a Python lambda that Langflow then evaluates.
Flowless never executes code, so the model writes a jq filter instead (the engine's jq subset,
components/jq.py: paths, `[]`, pipes, `select`, `map`, object construction...), which Flowless
evaluates over the data: the same "describe it, the model writes the transformation" use, large
inputs sampled as Langflow samples them. Text (Message) inputs are transformed by the model
itself: it answers with the transformed text.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flowless_engine.components.base import Component, Input, Output, to_bool, to_int, to_text
from flowless_engine.errors import ConfigurationError, FlowError
from flowless_engine.schema import Data, DataFrame, Message

_MSG = ("Message",)
MAX_DESCRIPTION_CHARS = 500
QUERY_PREVIEW_CHARS = 1000


def _simple(name: str) -> str:
    return "".join(c.lower() for c in name if c.isalnum())


def _model_configs(value: Any) -> list[Any]:
    from flowless_engine.llm.base import ModelConfig

    items = value if isinstance(value, list) else [value]
    return [v for v in items if isinstance(v, ModelConfig)]


class LLMSelectorComponent(Component):
    """The judge model reads the query, the optimisation preference and each model's
    specifications (from OpenRouter's public model list when `use_openrouter_specs`), answers an
    index; that model answers the input. A failed judgement falls back to the first model when
    `fallback_to_first`. The three outputs read the same decision."""

    type_name = "LLMSelectorComponent"
    display_name = "LLM Selector"
    description = "Routes the input to the most appropriate LLM based on OpenRouter model specifications"
    category = "llm_operations"
    icon = "git-branch"
    inputs = (
        Input("models", "Language Models", "other", "", input_types=("LanguageModel",), is_list=True, required=True,
              info="List of LLMs to route between", input_kind="HandleInput"),
        Input("input_value", "Input", "str", "", input_types=_MSG, required=True, multiline=True,
              info="The input message to be routed", input_kind="MultilineInput"),
        Input("judge_llm", "Judge LLM", "other", "", input_types=("LanguageModel",), required=True,
              info="LLM that will evaluate and select the most appropriate model", input_kind="HandleInput"),
        Input("optimization", "Optimization", "str", "balanced", options=("quality", "speed", "cost", "balanced"),
              info="Optimization preference for model selection", input_kind="DropdownInput"),
        Input("use_openrouter_specs", "Use OpenRouter Specs", "bool", True, advanced=True,
              info="Fetch model specifications from OpenRouter API for enhanced routing decisions. If false, only model names will be used.",
              input_kind="BoolInput"),
        Input("timeout", "API Timeout", "int", 10, advanced=True, info="Timeout for API requests in seconds", input_kind="IntInput"),
        Input("fallback_to_first", "Fallback to First Model", "bool", True, advanced=True,
              info="Use first model as fallback when routing fails", input_kind="BoolInput"),
    )
    outputs = (
        Output("output", "route_to_model", ("Message",), "Output"),
        Output("selected_model_info", "get_selected_model_info", ("Data", "JSON"), "Selected Model Info"),
        Output("routing_decision", "get_routing_decision", ("Message",), "Routing Decision"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._specs: dict[str, dict[str, Any]] = {}  # OpenRouter id -> its entry
        self._ids: dict[str, str] = {}  # every name variant -> OpenRouter id
        self._answer: Message | None = None
        self._chosen: Any = None
        self._decision = ""

    # ---- outputs --------------------------------------------------------------------------
    async def route_to_model(self) -> Message:
        await self._route()
        assert self._answer is not None
        return self._answer

    async def get_selected_model_info(self) -> list[Data]:
        await self._route()
        name = self._chosen.model
        specs = self._specs_of(name)
        specs.setdefault("langflow_model_name_used_for_lookup", name)
        resolved = self._id_of(name) or name
        if specs.get("id") != resolved:
            specs["resolved_api_model_id"] = resolved
        return [Data(data=specs)]

    async def get_routing_decision(self) -> Message:
        await self._route()
        return Message(text=self._decision)

    # ---- the decision ---------------------------------------------------------------------
    async def _route(self) -> None:
        if self._answer is not None:
            return
        models = _model_configs(self.params.get("models"))
        judge = next(iter(_model_configs(self.params.get("judge_llm"))), None)
        query = to_text(self.params.get("input_value"))
        if not models or not query or judge is None:
            raise ValueError("Missing required inputs: models, input_value, or judge_llm")
        optimization = to_text(self.param("optimization", "balanced")) or "balanced"
        if to_bool(self.param("use_openrouter_specs", True)):
            await self._fetch_specs()
        try:
            index = await self._judge(judge, models, query, optimization)
            self._chosen = models[index]
            self._decision = "\n".join((
                "Model Selection Decision:", f"- Selected Model Index: {index}", f"- Selected Model: {self._chosen.model}",
                f"- Resolved OpenRouter ID: {self._id_of(self._chosen.model) or self._chosen.model}",
                f"- Optimization Preference: {optimization}", f"- Input Length: {len(query)} characters",
                f"- Models Considered: {len(models)}",
                f"- Specifications Source: {'OpenRouter API' if self._specs else 'model names only'}",
            ))
        except (FlowError, ValueError) as exc:
            if not to_bool(self.param("fallback_to_first", True)):
                raise
            self.log(f"Routing failed ({exc}): falling back to the first model")
            self._chosen = models[0]
            self._decision = "\n".join(("Fallback Decision:", f"- Error During Routing: {exc}",
                                        f"- Fallback Model: {self._chosen.model}", "- Reason: Automatic fallback enabled"))
        self.log(self._decision)
        self._answer = Message(text=await self._ask(self._chosen, [("user", query)]))
        self.status = f"Routed to: {self._chosen.model}"

    async def _judge(self, judge: Any, models: list[Any], query: str, optimization: str) -> int:
        listing = [{"index": i, "langflow_name": m.model, "specs": self._specs_of(m.model)} for i, m in enumerate(models)]
        preview = query[:QUERY_PREVIEW_CHARS] + ("..." if len(query) > QUERY_PREVIEW_CHARS else "")
        system = (
            "You choose which AI model should answer a user's query. Weigh how demanding the query is, the context it "
            "needs, each model's capabilities and price, and the user's optimisation preference (quality, speed, cost or "
            "balanced). Answer with the index number of the best model only (0, 1, 2...), nothing else. When several fit "
            "equally, or none does, answer the lowest such index."
        )
        user = (f'User Query: "{preview}"\nOptimization Preference: {optimization}\n'
                f"Estimated Input Tokens: ~{int(len(query.split()) * 1.3)}\n\nAvailable Models (JSON list):\n"
                f"{json.dumps(listing, indent=2)}\n\nAnswer with the index of the most appropriate model only:")
        answer = await self._ask(judge, [("system", system), ("user", user)])
        digits = "".join(c for c in answer if c.isdigit())
        index = int(digits) if digits else 0
        if not digits or index >= len(models):
            self.log(f"The judge answered {answer.strip()!r}: the first model is used")
            return 0
        return index

    async def _ask(self, config: Any, turns: list[tuple[str, str]]) -> str:
        from flowless_engine.llm.base import ChatMessage

        result = await self.ctx.chat_model(config).complete([ChatMessage(role=role, content=text) for role, text in turns])
        self.add_usage(result.usage)
        return result.text

    # ---- OpenRouter's model list ------------------------------------------------------------
    async def _fetch_specs(self) -> None:
        from flowless_engine.components.apis import call_json, service_url

        url = service_url(self, "openrouter", "https://openrouter.ai") + "/api/v1/models"
        timeout = float(max(1, to_int(self.param("timeout", 10), 10)))
        try:
            body = await call_json(self, "OpenRouter", "GET", url, timeout=min(timeout, self.ctx.settings.http_timeout_s))
        except (FlowError, ConfigurationError) as exc:
            self.log(f"OpenRouter's model list is unavailable ({exc}): model names only")
            return
        for entry in body.get("data", []) if isinstance(body, dict) else []:
            model_id = entry.get("id") if isinstance(entry, dict) else None
            if not model_id:
                continue
            self._specs[model_id] = entry
            names = [model_id, entry.get("name") or "", entry.get("hugging_face_id") or ""]
            if "/" in model_id:
                names.append(model_id.split("/", 1)[1])
            for name in filter(None, names):
                self._ids.setdefault(name, model_id)
                self._ids.setdefault(_simple(name), model_id)

    def _id_of(self, name: str) -> str | None:
        variants = [name, _simple(name)]
        for prefix in ("models/", "community_models/"):
            if name.startswith(prefix):
                variants += [name[len(prefix):], _simple(name[len(prefix):])]
        return next((self._ids[v] for v in variants if v in self._ids), None)

    def _specs_of(self, name: str) -> dict[str, Any]:
        if not self._specs:
            return {"id": name, "name": name, "description": "Specifications not available."}
        model_id = self._id_of(name)
        if model_id is None:
            return {"id": name, "name": name, "description": "Full specifications not found in cache."}
        entry = self._specs[model_id]
        top, arch, price = entry.get("top_provider") or {}, entry.get("architecture") or {}, entry.get("pricing") or {}
        description = str(entry.get("description") or "No description available")
        if len(description) > MAX_DESCRIPTION_CHARS:
            description = description[: MAX_DESCRIPTION_CHARS - 3] + "..."
        specs = {
            "id": entry.get("id"), "name": entry.get("name"), "description": description,
            "context_length": top.get("context_length") or entry.get("context_length"),
            "max_completion_tokens": top.get("max_completion_tokens") or entry.get("max_completion_tokens"),
            "tokenizer": arch.get("tokenizer"), "input_modalities": arch.get("input_modalities", []),
            "output_modalities": arch.get("output_modalities", []), "pricing_prompt": price.get("prompt"),
            "pricing_completion": price.get("completion"), "is_moderated": top.get("is_moderated"),
            "supported_parameters": entry.get("supported_parameters", []),
        }
        return {k: v for k, v in specs.items() if v is not None}


# ---- Smart Transform -------------------------------------------------------------------------------


def _structure(value: Any) -> Any:
    """The shape of `value`: types in place of values, lists shown by their first item."""
    if isinstance(value, list):
        return [_structure(value[0])] if value else []
    if isinstance(value, dict):
        return {k: _structure(v) for k, v in value.items()}
    return type(value).__name__


class SmartTransformComponent(Component):
    type_name = "Smart Transform"
    display_name = "Smart Transform"
    description = "Uses an LLM to generate a function for filtering or transforming structured data and messages."
    category = "llm_operations"
    icon = "square-function"
    inputs = (
        Input("data", "Data", "other", "", input_types=("Data", "JSON", "DataFrame", "Table", "Message"), is_list=True, required=True,
              info="The structured data or text messages to filter or transform using a lambda function.", input_kind="JSONInput"),
        Input("model", "Language Model", "model", "", input_types=("LanguageModel",), required=True,
              info="Select your model provider", input_kind="ModelInput"),
        Input("api_key", "API Key", "str", "", advanced=True, password=True, load_from_db=True,
              info="Overrides global provider settings. Leave blank to use your pre-configured API Key.", input_kind="SecretStrInput"),
        Input("filter_instruction", "Instructions", "str", "Transform the data to...", input_types=_MSG, required=True, multiline=True,
              info=("Natural language instructions for how to filter or transform the data using a lambda function. Examples: "
                    "'Filter the data to only include items where status is active', 'Convert the text to uppercase'"),
              input_kind="MultilineInput"),
        Input("sample_size", "Sample Size", "int", 1000, advanced=True,
              info="For large datasets, number of items to sample from head/tail.", input_kind="IntInput"),
        Input("max_size", "Max Size", "int", 30000, advanced=True,
              info="Number of characters for the data to be considered large.", input_kind="IntInput"),
    )
    outputs = (
        Output("data_output", "process_as_data", ("JSON",), "Output"),
        Output("dataframe_output", "process_as_dataframe", ("Table",), "Output"),
        Output("message_output", "process_as_message", ("Message",), "Output"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._result: Any = None
        self._done = False

    # ---- outputs ---------------------------------------------------------------------------
    async def process_as_data(self) -> Data:
        result = await self._transform()
        if isinstance(result, dict):
            return Data(data=result)
        if isinstance(result, list):
            return Data(data={"_results": result})
        return Data(data={"text": str(result)})

    async def process_as_dataframe(self) -> DataFrame:
        result = await self._transform()
        if isinstance(result, list):
            return DataFrame(rows=list(result) if all(isinstance(r, dict) for r in result) else [{"value": r} for r in result])
        if isinstance(result, dict):
            return DataFrame(rows=[result])
        return DataFrame(rows=[{"value": str(result)}])

    async def process_as_message(self) -> Message:
        result = await self._transform()
        if isinstance(result, list):
            text = "\n".join(str(r) for r in result)
        elif isinstance(result, dict):
            text = json.dumps(result, indent=2, ensure_ascii=False)
        else:
            text = str(result)
        return Message(text=text, sender="Machine", sender_name="AI")

    # ---- the transformation ------------------------------------------------------------------
    def _items(self) -> list[Any]:
        value = self.params.get("data")
        return value if isinstance(value, list) else [] if value in (None, "") else [value]

    async def _transform(self) -> Any:
        if self._done:
            return self._result
        items = self._items()
        instruction = to_text(self.params.get("filter_instruction"))
        if items and all(isinstance(i, Message) for i in items):
            texts = [await message.resolve() for message in items]
            self._result = await self._transform_text("\n\n".join(texts) if len(texts) > 1 else texts[0], instruction)
        else:
            self._result = await self._transform_data(self._structured(items), instruction)
        self._done = True
        return self._result

    def _structured(self, items: list[Any]) -> Any:
        rows: list[Any] = []
        for item in items:
            if isinstance(item, DataFrame):
                rows.extend(dict(r) for r in item.rows)
            elif isinstance(item, Data):
                rows.extend(item.data if isinstance(item.data, list) else [item.data])
            elif isinstance(item, (dict, list)):
                rows.extend(item if isinstance(item, list) else [item])
        if len(rows) == 1 and isinstance(rows[0], dict):
            return rows[0]
        return rows if rows else {}

    def _preview(self, dump: str, label: str) -> str:
        limit = to_int(self.param("max_size", 30000), 30000)
        sample = to_int(self.param("sample_size", 1000), 1000)
        if len(dump) <= limit:
            return dump
        return f"{label} is too long to show whole.\n\nFirst {sample} characters:\n{dump[:sample]}\n\nLast {sample} characters:\n{dump[-sample:]}"

    async def _transform_data(self, data: Any, instruction: str) -> Any:
        from flowless_engine.components.jq import JqError, run_query

        prompt = (
            "Write one jq filter that does the following to the JSON data below.\n"
            f"Instruction: {instruction}\n\n"
            f"Structure of the data: {json.dumps(_structure(data), ensure_ascii=False)}\n\n"
            f"Data:\n{self._preview(json.dumps(data, ensure_ascii=False, default=str), 'The data')}\n\n"
            "Use only: paths (.a.b, .[0], .[]), pipes |, commas, parentheses, object and array construction, literals, "
            "select(f), map(f), length, keys, values, first, last, add, type, tostring, tonumber, ascii_downcase, "
            "ascii_upcase, not, ==, !=, <, <=, >, >=, and, or. Answer with the filter alone on one line, inside "
            "```jq fences."
        )
        program = _program(await self._ask(prompt))
        self.log(f"Generated jq filter: {program}")
        try:
            outputs = run_query(program, data)
        except JqError as exc:
            raise ValueError(f"{self.name}: the model's jq filter {program!r} cannot be applied: {exc}") from exc
        return outputs[0] if len(outputs) == 1 else outputs

    async def _transform_text(self, text: str, instruction: str) -> str:
        prompt = (
            "Transform the text below as instructed. Answer with the transformed text only.\n"
            f"Instruction: {instruction}\n\nText:\n{self._preview(text, 'The text')}"
        )
        return await self._ask(prompt)

    async def _ask(self, prompt: str) -> str:
        from flowless_engine.components.models import resolve_model_config
        from flowless_engine.llm.base import ChatMessage

        config = await resolve_model_config(self)
        result = await self.ctx.chat_model(config).complete([ChatMessage(role="user", content=prompt)])
        self.add_usage(result.usage)
        return result.text


def _program(answer: str) -> str:
    """The jq filter in a model's answer: a fenced block, else its first line (`backticks` removed)."""
    fenced = re.search(r"```(?:jq)?[ \t]*\n?(.*?)```", answer, re.DOTALL)
    if fenced:
        program = " ".join(fenced.group(1).split())
    else:
        program = next((ln.strip().strip("`").strip() for ln in answer.splitlines() if ln.strip()), "")
    if not program:
        raise ValueError("the model answered no jq filter")
    return program
