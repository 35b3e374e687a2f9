"""LLM Selector / LLM Router (`LLMSelectorComponent` in Langflow 1.13, `LLMRouterComponent` before,
with the same fields and outputs): a judge model picks, from the connected
language models, the one best suited to the input; the chosen model answers.

The judge reads each model's specification from OpenRouter's public model list
(`GET https://openrouter.ai/api/v1/models`, replaceable as service `openrouter`) when
`use_openrouter_specs` is on; a failing list only means names alone are used. The judge answers
an index; anything unreadable or out of range picks the first model. When the judge itself fails
and `fallback_to_first` is on, the first model answers and the decision says why.
"""

from __future__ import annotations

import json
from typing import Any

from flowless_engine.components.apis import call_json, service_url
from flowless_engine.components.base import Component, Input, Output, to_bool, to_int, to_text
from flowless_engine.errors import ConfigurationError, FlowError, ProviderError
from flowless_engine.schema import Data, Message

MAX_DESCRIPTION = 500
QUERY_PREVIEW = 1000
JUDGE_SYSTEM_PROMPT = """You choose the language model best suited to a user's query.
You are given the query, the user's optimization preference (quality, speed, cost or balanced) and a
JSON list of the available models with whatever specifications are known (context length,
modalities, pricing, description).

Weigh the task's complexity, the context length the input needs, each model's capabilities and,
when the preference asks for it, its price.

Answer with the index number of the chosen model (0, 1, 2, ...) and nothing else. When several
fit equally well, or none does, answer 0."""


def _simplified(name: str) -> str:
    return "".join(c.lower() for c in name if c.isalnum())


class LLMRouterComponent(Component):
    type_name = "LLMRouterComponent"
    display_name = "LLM Router"
    description = "Routes the input to the most appropriate LLM based on OpenRouter model specifications"
    category = "processing"
    icon = "git-branch"
    inputs = (
        Input("models", "Language Models", "other", "", input_types=("LanguageModel",), required=True, is_list=True,
              info="List of LLMs to route between", input_kind="HandleInput"),
        Input("input_value", "Input", "str", "", input_types=("Message",), required=True, multiline=True,
              info="The input message to be routed", input_kind="MultilineInput"),
        Input("judge_llm", "Judge LLM", "other", "", input_types=("LanguageModel",), required=True,
              info="LLM that will evaluate and select the most appropriate model", input_kind="HandleInput"),
        Input("optimization", "Optimization", "str", "balanced", options=("quality", "speed", "cost", "balanced"),
              info="Optimization preference for model selection", input_kind="DropdownInput"),
        Input("use_openrouter_specs", "Use OpenRouter Specs", "bool", True, advanced=True,
              info="Fetch model specifications from OpenRouter API for enhanced routing decisions.", input_kind="BoolInput"),
        Input("timeout", "API Timeout", "int", 10, advanced=True, info="Timeout for API requests in seconds", input_kind="IntInput"),
        Input("fallback_to_first", "Fallback to First Model", "bool", True, advanced=True,
              info="Use first model as fallback when routing fails", input_kind="BoolInput"),
    )
    outputs = (
        Output("output", "route_to_model", ("Message",), "Output"),
        Output("selected_model_info", "get_selected_model_info", ("Data",), "Selected Model Info"),
        Output("routing_decision", "get_routing_decision", ("Message",), "Routing Decision"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._catalogue: dict[str, dict[str, Any]] | None = None
        self._aliases: dict[str, str] = {}
        self._answer: Message | None = None
        self._selected: Any = None
        self._decision = ""

    # ---- the models and their specifications -----------------------------------------------

    def _models(self) -> list[Any]:
        from flowless_engine.llm.base import ModelConfig

        value = self.params.get("models")
        items = value if isinstance(value, list) else [value] if value else []
        models = [m for m in items if isinstance(m, ModelConfig)]
        if len(models) != len(items):
            raise ConfigurationError(f"{self.name}: 'Language Models' must be connected to language model outputs")
        return models

    async def _load_catalogue(self) -> None:
        if self._catalogue is not None:
            return
        self._catalogue = {}
        if not to_bool(self.param("use_openrouter_specs", True)):
            return
        base = service_url(self, "openrouter", "https://openrouter.ai")
        try:
            listing = await call_json(self, "OpenRouter", "GET", f"{base}/api/v1/models", timeout=float(to_int(self.param("timeout", 10), 10) or 10))
        except FlowError as exc:
            self.log(f"OpenRouter model specifications unavailable: {exc.message}")
            return
        for model in listing.get("data") or [] if isinstance(listing, dict) else []:
            model_id = model.get("id") if isinstance(model, dict) else None
            if not model_id:
                continue
            self._catalogue[model_id] = model
            names = [model_id, model.get("name") or "", model.get("hugging_face_id") or "", model_id.split("/", 1)[1] if "/" in model_id else ""]
            for name in filter(None, names):
                self._aliases.setdefault(name, model_id)
                self._aliases.setdefault(_simplified(name), model_id)

    def _api_id(self, name: str) -> str | None:
        candidates = [name, _simplified(name)]
        for prefix in ("models/", "community_models/"):
            if name.startswith(prefix):
                candidates += [name[len(prefix):], _simplified(name[len(prefix):])]
        return next((self._aliases[c] for c in candidates if c in self._aliases), None)

    def _specs(self, name: str) -> dict[str, Any]:
        if not self._catalogue:
            return {"id": name, "name": name, "description": "Specifications not available."}
        api_id = self._api_id(name)
        model = self._catalogue.get(api_id or "")
        if model is None:
            return {"id": name, "name": name, "description": "Full specifications not found in cache."}
        provider = model.get("top_provider") or {}
        architecture = model.get("architecture") or {}
        pricing = model.get("pricing") or {}
        description = str(model.get("description") or "No description available")
        if len(description) > MAX_DESCRIPTION:
            description = description[: MAX_DESCRIPTION - 3] + "..."
        specs = {"id": model.get("id"), "name": model.get("name"), "description": description,
                 "context_length": provider.get("context_length") or model.get("context_length"),
                 "max_completion_tokens": provider.get("max_completion_tokens") or model.get("max_completion_tokens"),
                 "tokenizer": architecture.get("tokenizer"), "input_modalities": architecture.get("input_modalities", []),
                 "output_modalities": architecture.get("output_modalities", []), "pricing_prompt": pricing.get("prompt"),
                 "pricing_completion": pricing.get("completion"), "is_moderated": provider.get("is_moderated"),
                 "supported_parameters": model.get("supported_parameters", [])}
        return {k: v for k, v in specs.items() if v is not None}

    # ---- routing ------------------------------------------------------------------------------

    async def _complete(self, config: Any, messages: list[Any]) -> str:
        result = await self.ctx.chat_model(config).complete(messages)
        self.add_usage(result.usage)
        return result.text

    async def _route(self) -> Message:
        from flowless_engine.llm.base import ChatMessage, ModelConfig

        if self._answer is not None:
            return self._answer
        models = self._models()
        judge = self.params.get("judge_llm")
        text = to_text(self.params.get("input_value"))
        if not models or not text or not isinstance(judge, ModelConfig):
            raise ConfigurationError(f"{self.name}: Missing required inputs: models, input_value, or judge_llm")
        await self._load_catalogue()
        optimization = to_text(self.param("optimization", "balanced")) or "balanced"
        listing = [{"index": i, "langflow_name": m.model, "specs": self._specs(m.model)} for i, m in enumerate(models)]
        tokens = int(len(text.split()) * 1.3)
        preview = text[:QUERY_PREVIEW] + ("..." if len(text) > QUERY_PREVIEW else "")
        question = (f'User Query: "{preview}"\nOptimization Preference: {optimization}\nEstimated Input Tokens: ~{tokens}\n\n'
                    f"Available Models (JSON list):\n{json.dumps(listing, indent=2)}\n\nReturn ONLY the index number:")
        source = "OpenRouter API" if self._catalogue else "Basic (Langflow model names only)"
        try:
            verdict = await self._complete(judge, [ChatMessage(role="system", content=JUDGE_SYSTEM_PROMPT), ChatMessage(role="user", content=question)])
            digits = "".join(c for c in verdict if c.isdigit())
            index = int(digits) if digits else 0
            if not 0 <= index < len(models):
                self.log(f"Judge LLM selected index {index}, out of range: using 0")
                index = 0
            chosen = models[index]
            self._decision = (f"Model Selection Decision:\n- Selected Model Index: {index}\n- Selected Langflow Model Name: {chosen.model}\n"
                              f"- Selected API Model ID (if resolved): {self._api_id(chosen.model) or chosen.model}\n"
                              f"- Optimization Preference: {optimization}\n- Input Query Length: {len(text)} characters (~{tokens} tokens)\n"
                              f"- Number of Models Considered: {len(models)}\n- Specifications Source: {source}")
        except ProviderError as exc:
            if not to_bool(self.param("fallback_to_first", True)):
                raise
            chosen = models[0]
            self._decision = (f"Fallback Decision:\n- Error During Routing: {exc.message}\n- Fallback Model Langflow Name: {chosen.model}\n"
                              f"- Fallback Model API ID (if resolved): {self._api_id(chosen.model) or chosen.model}\n- Reason: Automatic fallback enabled")
        self._selected = chosen
        self.log(self._decision)
        answer = await self._complete(chosen, [ChatMessage(role="user", content=text)])
        self._answer = Message(text=answer)
        self.status = f"Successfully routed to: {chosen.model}"
        return self._answer

    async def route_to_model(self) -> Message:
        return await self._route()

    async def get_selected_model_info(self) -> list[Data]:
        await self._route()
        specs = self._specs(self._selected.model)
        specs["langflow_model_name_used_for_lookup"] = self._selected.model
        resolved = self._api_id(self._selected.model)
        if resolved and specs.get("id") != resolved:
            specs["resolved_api_model_id"] = resolved
        return [Data(data=specs)]

    async def get_routing_decision(self) -> Message:
        await self._route()
        return Message(text=self._decision)


class LLMSelectorComponent(LLMRouterComponent):
    """Langflow 1.13's name for the same node (category LLM operations)."""

    type_name = "LLMSelectorComponent"
    display_name = "LLM Selector"
    category = "llm_operations"
