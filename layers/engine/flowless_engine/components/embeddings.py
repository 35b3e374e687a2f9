"""Embedding model components: 1.13's "Embedding Model" (`model` list, or the older `provider` +
`model` dropdowns) and the older "OpenAI Embeddings". Both output an EmbeddingConfig that vector
store nodes (Chroma) use to embed their documents and queries."""

from __future__ import annotations

from typing import Any

from flowless_engine.components.base import Component, Input, Output, to_int, to_text
from flowless_engine.llm.embeddings import DEFAULT_EMBEDDING_MODEL, EmbeddingConfig, resolve_embedding_config

_EMBEDDINGS = ("Embeddings",)


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


async def embedding_config(component: Component, provider: str, model: str, *, key_field: str, url_fields: tuple[str, ...]) -> EmbeddingConfig:
    """The node's config: its own key/base URL fields first, then the tenant's variables."""
    api_key = await component.secret(key_field) if key_field in component.params else None
    base_url = next((to_text(component.params[f]) for f in url_fields if component.params.get(f)), None)
    dimensions = to_int(component.params.get("dimensions"), 0) or None
    extra = {k: to_text(component.params[k]) for k in ("region_name", "endpoint_url") if component.params.get(k)}
    if "region_name" in extra:
        extra["region"] = extra.pop("region_name")
    from flowless_engine.llm.providers import find_provider

    known = find_provider(provider)
    if known is not None and known.protocol == "watsonx":  # 1.13's watsonx choice: project and endpoint fields
        extra["project_id"] = to_text(component.params.get("project_id")).strip() or await component.ctx.variable("WATSONX_PROJECT_ID")
        extra["truncate_input_tokens"] = to_int(component.params.get("truncate_input_tokens"), 0) or None
        base_url = base_url or to_text(component.params.get("base_url_ibm_watsonx")).strip() or None
    return await resolve_embedding_config(
        provider,
        model,
        component.ctx.variable,
        api_key=api_key,
        base_url=base_url,
        dimensions=dimensions,
        batch_size=to_int(component.params.get("chunk_size"), 0) or None,
        timeout=_number(component.params.get("request_timeout")),
        extra=extra,
    )


class EmbeddingModelComponent(Component):
    type_name = "EmbeddingModel"
    display_name = "Embedding Model"
    description = "Generate embeddings using a specified provider."
    category = "models_and_agents"
    icon = "binary"
    inputs = (
        Input("model", "Embedding Model", "model", "", input_types=_EMBEDDINGS, required=True, input_kind="ModelInput"),
        Input("provider", "Model Provider", "str", "OpenAI", options=("OpenAI", "Ollama", "Amazon Bedrock"), advanced=True, input_kind="DropdownInput"),
        Input("api_key", "API Key", "str", "", password=True, advanced=True, input_kind="SecretStrInput"),
        Input("api_base", "API Base URL", "str", "", advanced=True, input_kind="MessageTextInput"),
        Input("dimensions", "Dimensions", "int", None, advanced=True, input_kind="IntInput"),
        Input("chunk_size", "Chunk Size", "int", 1000, advanced=True, input_kind="IntInput"),
        Input("request_timeout", "Request Timeout", "float", None, advanced=True, input_kind="FloatInput"),
        Input("max_retries", "Max Retries", "int", 3, advanced=True, input_kind="IntInput"),
        Input("show_progress_bar", "Show Progress Bar", "bool", False, advanced=True, input_kind="BoolInput"),
        Input("model_kwargs", "Model Kwargs", "dict", {}, advanced=True, input_kind="DictInput"),
        Input("model_name", "Model Name", "str", "", advanced=True, input_kind="StrInput"),
        Input("ollama_base_url", "Ollama API URL", "str", "", advanced=True, input_kind="StrInput"),
        Input("base_url_ibm_watsonx", "watsonx API Endpoint", "str", "https://us-south.ml.cloud.ibm.com", advanced=True, input_kind="DropdownInput"),
        Input("project_id", "Project ID", "str", "", advanced=True, input_kind="MessageTextInput"),
        Input("truncate_input_tokens", "Truncate Input Tokens", "int", 200, advanced=True, input_kind="IntInput"),
        Input("input_text", "Include the original text in the output", "bool", True, advanced=True, input_kind="BoolInput"),
    )
    outputs = (Output("embeddings", "build_embeddings", _EMBEDDINGS, "Embedding Model"),)

    async def build_embeddings(self) -> EmbeddingConfig:
        value = self.params.get("model")
        if isinstance(value, EmbeddingConfig):
            return value  # an embeddings node wired into this one
        if isinstance(value, list):
            value = value[0] if value else None
        if isinstance(value, dict) and value.get("name"):
            provider, model = str(value.get("provider") or to_text(self.param("provider", "")) or "OpenAI"), str(value["name"])
        else:  # the older dropdowns: `provider` and a model name
            provider, model = to_text(self.param("provider", "")) or "OpenAI", to_text(value) or DEFAULT_EMBEDDING_MODEL
        from flowless_engine.llm.providers import find_provider

        known = find_provider(provider)
        url_fields = ("api_base", "base_url") + (("ollama_base_url",) if known is not None and known.protocol == "ollama" else ())
        config = await embedding_config(self, provider, model, key_field="api_key", url_fields=url_fields)
        self.status = f"{config.provider}/{config.model}"
        return config


class OpenAIEmbeddingsComponent(Component):
    """Older exports' "OpenAI Embeddings" node (≈1.0–1.4)."""

    type_name = "OpenAIEmbeddings"
    display_name = "OpenAI Embeddings"
    description = "Generate embeddings using OpenAI models."
    category = "embeddings"
    icon = "OpenAI"
    inputs = (
        Input("model", "Model", "str", DEFAULT_EMBEDDING_MODEL,
              options=("text-embedding-3-small", "text-embedding-3-large", "text-embedding-ada-002"), input_kind="DropdownInput"),
        Input("openai_api_key", "OpenAI API Key", "str", "OPENAI_API_KEY", password=True, load_from_db=True, input_kind="SecretStrInput"),
        Input("openai_api_base", "OpenAI API Base", "str", "", advanced=True, input_kind="MessageTextInput"),
        Input("dimensions", "Dimensions", "int", None, advanced=True, input_kind="IntInput"),
        Input("chunk_size", "Chunk Size", "int", 1000, advanced=True, input_kind="IntInput"),
        Input("request_timeout", "Request Timeout", "float", None, advanced=True, input_kind="FloatInput"),
        Input("max_retries", "Max Retries", "int", 3, advanced=True, input_kind="IntInput"),
        # Accepted as Langflow exports them; the OpenAI client's own tuning knobs with no effect on the request here.
        Input("default_headers", "Default Headers", "dict", {}, advanced=True, input_kind="DictInput"),
        Input("default_query", "Default Query", "dict", {}, advanced=True, input_kind="DictInput"),
        Input("client", "Client", "str", "", advanced=True, input_kind="MessageTextInput"),
        Input("deployment", "Deployment", "str", "", advanced=True, input_kind="MessageTextInput"),
        Input("embedding_ctx_length", "Embedding Context Length", "int", 1536, advanced=True, input_kind="IntInput"),
        Input("model_kwargs", "Model Kwargs", "dict", {}, advanced=True, input_kind="DictInput"),
        Input("openai_api_type", "OpenAI API Type", "str", "", advanced=True, input_kind="MessageTextInput"),
        Input("openai_api_version", "OpenAI API Version", "str", "", advanced=True, input_kind="MessageTextInput"),
        Input("openai_organization", "OpenAI Organization", "str", "", advanced=True, input_kind="MessageTextInput"),
        Input("openai_proxy", "OpenAI Proxy", "str", "", advanced=True, input_kind="MessageTextInput"),
        Input("show_progress_bar", "Show Progress Bar", "bool", False, advanced=True, input_kind="BoolInput"),
        Input("skip_empty", "Skip Empty", "bool", False, advanced=True, input_kind="BoolInput"),
        Input("tiktoken_model_name", "TikToken Model Name", "str", "", advanced=True, input_kind="MessageTextInput"),
        Input("tiktoken_enable", "TikToken Enable", "bool", True, advanced=True, input_kind="BoolInput"),
    )
    outputs = (Output("embeddings", "build_embeddings", _EMBEDDINGS, "Embeddings"),)

    async def build_embeddings(self) -> EmbeddingConfig:
        model = to_text(self.param("model", "")) or DEFAULT_EMBEDDING_MODEL
        config = await embedding_config(self, "OpenAI", model, key_field="openai_api_key", url_fields=("openai_api_base",))
        self.status = f"OpenAI/{config.model}"
        return config
