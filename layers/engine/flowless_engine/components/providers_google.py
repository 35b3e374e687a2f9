"""Google's nodes: Gemini API chat (GoogleGenerativeAIModel) and embeddings (typed
`GoogleGenerativeAIEmbeddings`, or `Google Generative AI Embeddings` in older exports), and Vertex
AI chat and embeddings with a service account key file (no Google Cloud SDK: llm/vertex.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flowless_engine.components.base import Component, Input, to_text

from flowless_engine.components.providers_base import (
    MODEL_BASE_INPUTS,
    ChatProviderComponent,
    EmbeddingsProviderComponent,
    bool_in,
    dropdown_in,
    float_in,
    int_in,
    secret_in,
    slider_in,
    str_in,
    text_in,
)

if TYPE_CHECKING:
    from flowless_engine.llm.base import ModelConfig
    from flowless_engine.llm.embeddings import EmbeddingConfig

GEMINI_MODELS = ("gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.5-flash-lite", "gemini-2.0-flash", "gemini-2.0-flash-lite", "gemini-1.5-pro", "gemini-1.5-flash")


class GoogleGenerativeAIModel(ChatProviderComponent):
    type_name = "GoogleGenerativeAIModel"
    display_name = "Google Generative AI"
    description = "Generate text using Google Generative AI."
    icon = "GoogleGenerativeAI"
    provider = "Google Generative AI"
    default_model = "gemini-2.5-flash"
    max_tokens_field = "max_output_tokens"
    legacy_fields = {"api_key": "google_api_key", "model_name": "model"}
    extra_fields = {"top_p": "top_p", "top_k": "top_k", "n": "n"}
    inputs = MODEL_BASE_INPUTS + (
        int_in("max_output_tokens", "Max Output Tokens"),
        dropdown_in("model_name", "Model", "gemini-2.5-flash", options=GEMINI_MODELS),
        secret_in("api_key", "Google API Key", required=True),
        float_in("top_p", "Top P", advanced=True),
        slider_in("temperature", "Temperature", 0.1),
        int_in("n", "N", advanced=True),
        int_in("top_k", "Top K", advanced=True),
        bool_in("tool_model_enabled", "Tool Model Enabled", False),
    )


class GoogleGenerativeAIEmbeddingsComponent(EmbeddingsProviderComponent):
    type_name = "Google Generative AI Embeddings"
    display_name = "Google Generative AI Embeddings"
    description = "Connect to Google's generative AI embeddings service using the GoogleGenerativeAIEmbeddings class."
    icon = "GoogleGenerativeAI"
    provider = "Google Generative AI"
    model_field = "model_name"
    default_model = "models/text-embedding-004"
    inputs = (
        secret_in("api_key", "Google Generative AI API Key", required=True),
        text_in("model_name", "Model Name", "models/text-embedding-004"),
    )


async def _vertex_extra(component: Component) -> dict[str, Any]:
    """The service account key (the uploaded JSON file the node names), project and location."""
    from flowless_engine.errors import ConfigurationError

    spec = component.field_spec("credentials")
    stored = spec.get("file_path") or component.params.get("credentials")
    path = to_text(stored[0] if isinstance(stored, list) and stored else stored).strip()
    if not path:
        raise ConfigurationError(f"Component '{component.name}' needs a service account key file (credentials)", provider="Vertex AI")
    extra: dict[str, Any] = {"credentials": (await component.ctx.files.read(path)).decode("utf-8-sig")}
    for name in ("project", "location"):
        value = to_text(component.params.get(name)).strip()
        if value:
            extra[name] = value
    return extra


class VertexAiModel(ChatProviderComponent):
    type_name = "VertexAiModel"
    aliases = ("ChatVertexAIComponent",)
    display_name = "Vertex AI"
    description = "Generate text using Vertex AI LLMs."
    icon = "VertexAI"
    provider = "Vertex AI"
    key_field = ""
    default_model = "gemini-1.5-pro"
    max_tokens_field = "max_output_tokens"
    extra_fields = {"top_p": "top_p", "top_k": "top_k"}
    inputs = MODEL_BASE_INPUTS + (
        Input("credentials", "Credentials", "file", "", input_kind="FileInput", info="JSON credentials file. Leave empty to fallback to environment variables"),
        text_in("model_name", "Model Name", "gemini-1.5-pro"),
        str_in("project", "Project", advanced=True),
        str_in("location", "Location", "us-central1", advanced=True),
        int_in("max_output_tokens", "Max Output Tokens", advanced=True),
        int_in("max_retries", "Max Retries", 1, advanced=True),
        float_in("temperature", "Temperature", 0.0),
        int_in("top_k", "Top K", advanced=True),
        float_in("top_p", "Top P", 0.95, advanced=True),
        bool_in("verbose", "Verbose", False, advanced=True),
    )

    @classmethod
    async def complete_config(cls, component: Component, config: "ModelConfig") -> None:
        config.extra.update(await _vertex_extra(component))


class VertexAIEmbeddingsComponent(EmbeddingsProviderComponent):
    type_name = "VertexAIEmbeddings"
    aliases = ("VertexAIEmbeddingsComponent",)
    display_name = "Vertex AI Embeddings"
    description = "Generate embeddings using Google Cloud Vertex AI models."
    icon = "VertexAI"
    provider = "Vertex AI"
    key_field = ""
    model_field = "model_name"
    default_model = "textembedding-gecko"
    inputs = (
        Input("credentials", "Credentials", "file", "", required=True, input_kind="FileInput"),
        text_in("location", "Location", "us-central1", advanced=True),
        text_in("project", "Project", advanced=True),
        int_in("max_output_tokens", "Max Output Tokens", advanced=True),
        int_in("max_retries", "Max Retries", 1, advanced=True),
        text_in("model_name", "Model Name", "textembedding-gecko", required=True),
        int_in("n", "N", 1, advanced=True),
        int_in("request_parallelism", "Request Parallelism", 5, advanced=True),
        text_in("stop_sequences", "Stop", advanced=True, is_list=True),
        bool_in("streaming", "Streaming", False, advanced=True),
        float_in("temperature", "Temperature", 0.0),
        int_in("top_k", "Top K", advanced=True),
        float_in("top_p", "Top P", 0.95, advanced=True),
    )

    async def complete_config(self, config: "EmbeddingConfig") -> None:
        config.extra.update(await _vertex_extra(self))
        config.concurrency = max(1, min(16, int(self.params.get("request_parallelism") or 4)))
