"""Language model components: 1.13's LanguageModelComponent (`model` list) and the older
OpenAIModel (`model_name`, `openai_api_base`). Both map to a provider client in `llm/`."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

from flowless_engine.components.base import Component, Input, Output, to_bool, to_text
from flowless_engine.schema import Message, TextStream

_BASE_URL_FIELDS = ("openai_api_base", "base_url", "api_base")


# 1.13's hidden per-provider fields of the `model` list (Ollama's address, watsonx's endpoint and project).
PROVIDER_FIELDS = (
    Input("ollama_base_url", "Ollama API URL", "str", "", advanced=True, input_kind="StrInput"),
    Input("base_url_ibm_watsonx", "watsonx API Endpoint", "str", "https://us-south.ml.cloud.ibm.com", advanced=True, input_kind="DropdownInput"),
    Input("project_id", "watsonx Project ID", "str", "", advanced=True, input_kind="StrInput"),
)


def parse_model_choice(value: Any) -> tuple[str, str] | None:
    """(provider, model name) from a 1.13 `model` field value, or None when unset."""
    if isinstance(value, list) and value:
        value = value[0]
    if isinstance(value, dict) and value.get("name"):
        return str(value.get("provider") or "OpenAI"), str(value["name"])
    if isinstance(value, str) and value:
        return "OpenAI", value
    return None


async def resolve_model_config(component: Component, *, model_field: str = "model") -> "Any":
    """Build the ModelConfig for a model-using component (LLM node or Agent).

    Credentials: the api_key field (a variable name when `load_from_db`), else the tenant's
    conventional variable (e.g. OPENAI_API_KEY). Base URL: a node field, else the tenant
    variable, else the environment.
    """
    from flowless_engine.llm.base import ModelConfig

    value = component.params.get(model_field)
    if isinstance(value, ModelConfig):
        return value  # wired from another component's model output
    # Older Agents (≈1.1–1.6) name the provider in `agent_llm` and carry that provider node's fields.
    agent_llm = to_text(component.params.get("agent_llm")).strip()
    if agent_llm and model_field not in component.params:
        from flowless_engine.components.providers_agent import provider_node

        node = provider_node(agent_llm)
        if node is not None:
            return await node.config_from(component)
    choice = parse_model_choice(value)
    if choice is None:
        settings = component.ctx.settings
        choice = (settings.default_provider, settings.default_model)
    # 1.13's "Model Name Override" / "Provider Override" (and the older OpenAI node's model_name).
    override_model = to_text(component.params.get("model_name"))
    override_provider = to_text(component.params.get("provider"))
    provider, model = override_provider or choice[0], override_model or choice[1]
    from flowless_engine.llm.providers import find_provider

    known = find_provider(provider)
    key_var, url_var = (known.key_variable, known.url_variable) if known else ("", "")
    protocol = known.protocol if known else ""

    api_key = await component.secret("api_key") if "api_key" in component.params else None
    if not api_key and key_var:
        api_key = await component.ctx.variable(key_var)
    # `ollama_base_url` is exported (hidden) on every 1.13 model node: it only applies to Ollama.
    # 1.13's per-provider fields of the model list (bundles add theirs: vllm_base_url, openai_compatible_base_url).
    own_fields = {"ollama": ("ollama_base_url",), "watsonx": ("base_url_ibm_watsonx",)}.get(protocol, ())
    if known is not None and known.name in ("vLLM", "OpenAI Compatible"):
        own_fields = ("vllm_base_url",) if known.name == "vLLM" else ("openai_compatible_base_url",)
    url_fields = _BASE_URL_FIELDS + own_fields
    base_url = next((to_text(component.params[f]) for f in url_fields if component.params.get(f)), None)
    if not base_url and url_var:
        base_url = await component.ctx.variable(url_var) or os.environ.get(url_var) or None
    max_tokens = component.params.get("max_tokens")
    temperature = component.params.get("temperature")
    extra: dict[str, Any] = {}
    # The older OpenAI node's request options (seed, JSON mode, extra body fields, timeout in seconds).
    if isinstance(component.params.get("seed"), int):
        extra["seed"] = component.params["seed"]
    if to_bool(component.params.get("json_mode")):
        extra["json_mode"] = True
    if isinstance(component.params.get("model_kwargs"), dict) and component.params["model_kwargs"]:
        extra["body"] = dict(component.params["model_kwargs"])
    if isinstance(component.params.get("timeout"), (int, float)) and component.params["timeout"] > 0:
        # A node may shorten the engine's HTTP timeout, never lengthen it (Langflow's default is 700 s).
        extra["timeout"] = min(float(component.params["timeout"]), component.ctx.settings.http_timeout_s)
    if known is not None and known.name == "OpenAI Compatible" and base_url and not base_url.rstrip("/").endswith("/v1"):
        base_url = base_url.rstrip("/") + "/v1"  # the bundle's base URL suffix
    if protocol in ("azure", "azure_foundry"):  # the API version the Azure clients read from the environment
        version_var = "OPENAI_API_VERSION" if protocol == "azure" else "AZURE_AI_FOUNDRY_API_VERSION"
        if version := to_text(component.params.get("api_version")).strip() or await component.ctx.variable(version_var):
            extra["api_version"] = version
    if known is not None and known.name == "OpenRouter":  # the model list's attribution headers
        site, app = await component.ctx.variable("OPENROUTER_SITE_URL"), await component.ctx.variable("OPENROUTER_APP_NAME")
        headers = {k: v for k, v in (("HTTP-Referer", site), ("X-Title", app)) if v}
        if headers:
            extra["headers"] = headers
    if protocol == "watsonx":  # 1.13's model list: watsonx needs its project
        extra["project_id"] = to_text(component.params.get("project_id")).strip() or await component.ctx.variable("WATSONX_PROJECT_ID")
    return ModelConfig(
        extra=extra,
        provider=provider,
        model=model,
        api_key=api_key or None,
        base_url=base_url,
        temperature=float(temperature) if isinstance(temperature, (int, float)) else None,
        max_tokens=int(max_tokens) if isinstance(max_tokens, (int, float)) and max_tokens > 0 else None,
    )


def stream_text(model: Any, messages: list[Any], component: Component, tools: Any = None) -> TextStream:
    """Wrap a provider stream as a TextStream whose usage is recorded on the component."""
    holder: dict[str, Any] = {}

    async def deltas() -> AsyncIterator[str]:
        async for item in model.stream(messages, tools=tools):
            if isinstance(item, str):
                yield item
            else:
                holder["result"] = item

    def finished(stream: TextStream) -> None:
        result = holder.get("result")
        if result is not None:
            stream.usage = result.usage
            stream.model = result.model
            component.add_usage(result.usage)

    return TextStream(deltas(), on_done=finished)


class LanguageModelComponent(Component):
    type_name = "LanguageModelComponent"
    display_name = "Language Model"
    description = "Runs a language model given a specified provider."
    category = "models_and_agents"
    icon = "brain-circuit"
    inputs = (
        Input("model", "Language Model", "model", "", input_types=("LanguageModel",), required=True),
        Input("api_key", "API Key", value="", password=True, advanced=True),
        Input("input_value", "Input", value="", input_types=("Message",)),
        Input("system_message", "System Message", value="", input_types=("Message",), multiline=True),
        Input("stream", "Stream", "bool", False, advanced=True),
        Input("temperature", "Temperature", "slider", 0.1, advanced=True),
        Input("max_tokens", "Max Tokens", "int", 0, advanced=True),
        *PROVIDER_FIELDS,
        Input("model_name", "Model Name Override", "str", "", advanced=True, input_kind="StrInput"),
        Input("provider", "Provider Override", "str", "", advanced=True, input_kind="StrInput"),
    )
    outputs = (
        Output("text_output", "text_response", ("Message",), "Model Response"),
        Output("model_output", "build_model", ("LanguageModel",), "Language Model"),
    )

    async def build_model(self) -> Any:
        return await resolve_model_config(self)

    async def text_response(self) -> Message:
        from flowless_engine.llm.base import ChatMessage

        config = await self.build_model()  # a provider's node maps its own fields
        model = self.ctx.chat_model(config)
        messages = []
        system = self.params.get("system_message")
        if isinstance(system, Message):
            await system.resolve()
        if to_text(system):
            messages.append(ChatMessage(role="system", content=to_text(system)))
        user = self.params.get("input_value")
        if isinstance(user, Message):
            await user.resolve()
        messages.append(ChatMessage(role="user", content=to_text(user), images=await _images_of(self, user)))
        source = {"id": self.id, "display_name": self.name, "source": config.model}
        if to_bool(self.param("stream", False)):
            text: Any = stream_text(model, messages, self)
        else:
            result = await model.complete(messages)
            self.add_usage(result.usage)
            text = result.text
        message = Message(text=text, session_id=self.ctx.session_id, flow_id=self.ctx.flow_id, properties={"source": source})
        if not isinstance(text, TextStream):
            message.usage = self.usage
        return message


async def _images_of(component: Component, value: Any) -> list[str]:
    """Image files attached to a chat message, as data URLs (for vision models)."""
    if not isinstance(value, Message) or not value.files:
        return []
    import base64
    import mimetypes

    images = []
    for path in value.files:
        mime = mimetypes.guess_type(path)[0] or ""
        if mime.startswith("image/"):
            content = await component.ctx.files.read(path)
            images.append(f"data:{mime};base64,{base64.b64encode(content).decode()}")
    return images


class OpenAIModelComponent(LanguageModelComponent):
    """Older exports' OpenAI node (≈1.0–1.4)."""

    type_name = "OpenAIModel"
    display_name = "OpenAI"
    description = "Generates text using OpenAI LLMs (or any OpenAI-compatible endpoint)."
    icon = "OpenAI"
    inputs = (
        Input("input_value", "Input", value="", input_types=("Message",)),
        Input("system_message", "System Message", value="", input_types=("Message",)),
        Input("model_name", "Model Name", value="gpt-4o-mini"),
        Input("openai_api_base", "OpenAI API Base", value="", advanced=True),
        Input("api_key", "OpenAI API Key", value="OPENAI_API_KEY", password=True, load_from_db=True),
        Input("temperature", "Temperature", "float", 0.1),
        Input("max_tokens", "Max Tokens", "int", 0, advanced=True),
        Input("stream", "Stream", "bool", False, advanced=True),
        Input("json_mode", "JSON Mode", "bool", False, advanced=True),
        Input("model_kwargs", "Model Kwargs", "dict", {}, advanced=True, input_kind="DictInput"),
        Input("seed", "Seed", "int", 1, advanced=True, input_kind="IntInput"),
        Input("max_retries", "Max Retries", "int", 5, advanced=True, input_kind="IntInput"),
        Input("timeout", "Timeout", "int", 700, advanced=True, input_kind="IntInput"),
    )

    async def text_response(self) -> Message:
        self.params.setdefault("provider", "OpenAI")
        return await super().text_response()
