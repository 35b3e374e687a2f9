"""What every provider's model and embedding component shares: Langflow's field kinds, and the
mapping of a node's fields to a ModelConfig / EmbeddingConfig. A provider's component is a short
declaration (its provider, which field holds the key, the base URL, the model, and any extra
options); the protocol lives in `llm/`.

Credentials: the key field (a tenant variable's name when `load_from_db`, else the literal key),
then the provider's conventional tenant variable (GROQ_API_KEY, GOOGLE_API_KEY...; the variable
resolver falls back to the environment where the deployment allows it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from flowless_engine.components.base import Component, Input, Output, to_int, to_text
from flowless_engine.components.models import LanguageModelComponent

if TYPE_CHECKING:
    from flowless_engine.llm.base import ModelConfig
    from flowless_engine.llm.embeddings import EmbeddingConfig


# ---- Langflow's field kinds (`_input_type`) as template fields ------------------------------

def message_in(name: str = "input_value", display: str = "Input", **kw: Any) -> Input:
    return Input(name, display, "str", kw.pop("value", ""), input_types=("Message",), input_kind="MessageInput", **kw)


def text_in(name: str, display: str, value: Any = "", **kw: Any) -> Input:
    return Input(name, display, "str", value, input_types=("Message",), input_kind="MessageTextInput", **kw)


def str_in(name: str, display: str, value: Any = "", **kw: Any) -> Input:
    return Input(name, display, "str", value, input_kind="StrInput", **kw)


def multiline_in(name: str, display: str, value: Any = "", **kw: Any) -> Input:
    return Input(name, display, "str", value, input_types=("Message",), multiline=True, input_kind="MultilineInput", **kw)


def secret_in(name: str, display: str, value: Any = "", **kw: Any) -> Input:
    return Input(name, display, "str", value, password=True, load_from_db=bool(value), input_kind="SecretStrInput", **kw)


def int_in(name: str, display: str, value: Any = None, **kw: Any) -> Input:
    return Input(name, display, "int", value, input_kind="IntInput", **kw)


def float_in(name: str, display: str, value: Any = None, **kw: Any) -> Input:
    return Input(name, display, "float", value, input_kind="FloatInput", **kw)


def slider_in(name: str, display: str, value: Any = None, **kw: Any) -> Input:
    return Input(name, display, "slider", value, input_kind="SliderInput", **kw)


def bool_in(name: str, display: str, value: Any = False, **kw: Any) -> Input:
    return Input(name, display, "bool", value, input_kind="BoolInput", **kw)


def dropdown_in(name: str, display: str, value: Any = "", options: tuple[Any, ...] = (), **kw: Any) -> Input:
    return Input(name, display, "str", value, options=options, input_kind="DropdownInput", **kw)


def dict_in(name: str, display: str, value: Any = None, **kw: Any) -> Input:
    return Input(name, display, "dict", value if value is not None else {}, input_kind="DictInput", **kw)


def handle_in(name: str, display: str, input_types: tuple[str, ...], **kw: Any) -> Input:
    return Input(name, display, "other", "", input_types=input_types, input_kind="HandleInput", **kw)


# The fields every Langflow model component starts with (LCModelComponent's base inputs).
MODEL_BASE_INPUTS: tuple[Input, ...] = (
    message_in(),
    multiline_in("system_message", "System Message"),
    bool_in("stream", "Stream", False, advanced=True),
)
MODEL_OUTPUTS: tuple[Output, ...] = (
    Output("text_output", "text_response", ("Message",), "Model Response"),
    Output("model_output", "build_model", ("LanguageModel",), "Language Model"),
)
EMBEDDINGS_OUTPUTS: tuple[Output, ...] = (Output("embeddings", "build_embeddings", ("Embeddings",), "Embedding Model"),)


def _number(value: Any) -> float | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _set(value: Any) -> bool:
    """Whether a field carries a value worth sending (Langflow leaves unset numbers empty)."""
    return value is not None and value != "" and value != {} and value != []


async def provider_key(component: Component, field: str, variable: str, *, required: bool = True) -> str | None:
    """The node's key field, else the provider's conventional tenant variable. A local server's
    key (LM Studio, Ollama, vLLM) is optional: a variable the tenant never set means no key."""
    from flowless_engine.errors import MissingVariableError

    try:
        api_key = await component.secret(field) if field and component.params.get(field) else None
    except MissingVariableError:
        if required:
            raise
        api_key = None
    if not api_key and variable:
        api_key = await component.ctx.variable(variable)
    return api_key or None


def field_name(component: Component, name: str, legacy: dict[str, str]) -> str:
    """`name`, or the name older exports gave the same field (GroqModel's `groq_api_key`...)."""
    old = legacy.get(name)
    if old and not _set(component.params.get(name)) and _set(component.params.get(old)):
        return old
    return name


async def field_text(component: Component, name: str) -> str:
    """A text field's value; a field marked `load_from_db` holds a tenant variable's name
    (exports do that for endpoints and deployment names too, not only keys)."""
    if not name or not _set(component.params.get(name)):
        return ""
    if component.field_spec(name).get("load_from_db"):
        return (await component.secret(name) or "").strip()
    value = component.params.get(name)
    if isinstance(value, list):  # a dropdown some exports save as a one-item list
        value = value[0] if value else ""
    return to_text(value).strip()


class ChatProviderComponent(LanguageModelComponent):
    """A provider's chat model node: `text_output` runs it, `model_output` hands the config on
    (to an Agent, Structured Output...)."""

    category = "models"
    provider: ClassVar[str] = ""  # the name in llm/providers.py
    key_field: ClassVar[str] = "api_key"
    url_field: ClassVar[str] = ""
    model_field: ClassVar[str] = "model_name"
    default_model: ClassVar[str] = ""
    temperature_field: ClassVar[str] = "temperature"
    max_tokens_field: ClassVar[str] = "max_tokens"
    # field → ModelConfig.extra key; "body.<name>" puts the value in an OpenAI-shaped request body as is.
    extra_fields: ClassVar[dict[str, str]] = {}
    legacy_fields: ClassVar[dict[str, str]] = {}  # field → its name in older exports
    outputs = MODEL_OUTPUTS

    async def build_model(self) -> "ModelConfig":
        return await self.config_from(self)

    @classmethod
    async def config_from(cls, component: Component) -> "ModelConfig":
        """The ModelConfig of `component`'s fields read as this provider's node (an Agent whose
        `agent_llm` names the provider carries the same fields)."""
        from flowless_engine.llm.base import ModelConfig
        from flowless_engine.llm.providers import find_provider

        spec = find_provider(cls.provider)
        assert spec is not None, cls.provider
        params = component.params
        names = {f: field_name(component, f, cls.legacy_fields) for f in (cls.key_field, cls.url_field, cls.model_field) if f}
        api_key = await provider_key(component, names.get(cls.key_field, ""), spec.key_variable, required=spec.key_required)
        base_url = await field_text(component, names.get(cls.url_field, ""))
        if not base_url and spec.url_variable:
            base_url = await component.ctx.variable(spec.url_variable) or ""
        temperature = _number(params.get(cls.temperature_field)) if cls.temperature_field else None
        max_tokens = to_int(params.get(cls.max_tokens_field), 0) if cls.max_tokens_field else 0
        extra: dict[str, Any] = {}
        body: dict[str, Any] = {}
        for field, key in cls.extra_fields.items():
            value = params.get(field)
            if not _set(value):
                continue
            if isinstance(value, str) and component.field_spec(field).get("load_from_db"):
                value = await field_text(component, field)
            if key.startswith("body."):
                body[key[5:]] = value
            else:
                extra[key] = value
        if body:
            extra["body"] = body
        if isinstance(extra.get("timeout"), (int, float)):  # a node may shorten the engine's timeout, not lengthen it
            extra["timeout"] = min(float(extra["timeout"]), component.ctx.settings.http_timeout_s) if extra["timeout"] > 0 else None
        config = ModelConfig(
            provider=spec.name,
            model=await field_text(component, names.get(cls.model_field, "")) or cls.default_model,
            api_key=api_key,
            base_url=cls.base_url_of(base_url) if base_url else None,
            temperature=temperature,
            max_tokens=max_tokens if max_tokens > 0 else None,
            extra=extra,
        )
        await cls.complete_config(component, config)
        return config

    @classmethod
    def base_url_of(cls, field_value: str) -> str:
        """The API base from the node's URL field (a provider whose field holds the host adds the path)."""
        return field_value

    @classmethod
    async def complete_config(cls, component: Component, config: "ModelConfig") -> None:
        """Provider specifics that are not a plain field copy."""


class EmbeddingsProviderComponent(Component):
    """A provider's embeddings node: outputs the EmbeddingConfig vector stores and knowledge bases use."""

    category = "embeddings"
    provider: ClassVar[str] = ""
    key_field: ClassVar[str] = "api_key"
    url_field: ClassVar[str] = ""
    model_field: ClassVar[str] = "model"
    default_model: ClassVar[str] = ""
    extra_fields: ClassVar[dict[str, str]] = {}
    legacy_fields: ClassVar[dict[str, str]] = {}
    outputs = EMBEDDINGS_OUTPUTS

    async def build_embeddings(self) -> "EmbeddingConfig":
        from flowless_engine.llm.embeddings import EmbeddingConfig
        from flowless_engine.llm.providers import find_provider

        spec = find_provider(self.provider)
        assert spec is not None, self.provider
        params = self.params
        names = {f: field_name(self, f, self.legacy_fields) for f in (self.key_field, self.url_field, self.model_field) if f}
        api_key = await provider_key(self, names.get(self.key_field, ""), spec.key_variable, required=spec.key_required)
        base_url = await field_text(self, names.get(self.url_field, ""))
        if not base_url and spec.url_variable:
            base_url = await self.ctx.variable(spec.url_variable) or ""
        extra = {key: await field_text(self, field) if isinstance(params[field], str) else params[field]
                 for field, key in self.extra_fields.items() if _set(params.get(field))}
        timeout = _number(params.get("request_timeout", params.get("timeout")))
        config = EmbeddingConfig(
            provider=spec.name,
            model=await field_text(self, names.get(self.model_field, "")) or self.default_model,
            api_key=api_key,
            base_url=base_url or None,
            dimensions=to_int(params.get("dimensions"), 0) or None,
            batch_size=max(1, to_int(params.get("chunk_size"), 0)) if to_int(params.get("chunk_size"), 0) else 100,
            timeout=min(timeout, self.ctx.settings.http_timeout_s) if timeout and timeout > 0 else None,
            extra=extra,
        )
        await self.complete_config(config)
        self.status = f"{config.provider}/{config.model}"
        return config

    async def complete_config(self, config: "EmbeddingConfig") -> None:
        """Provider specifics that are not a plain field copy."""

