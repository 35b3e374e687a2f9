"""Google's Gemini API nodes: the chat model (GoogleGenerativeAIModel) and the embeddings (typed
`GoogleGenerativeAIEmbeddings`, or `Google Generative AI Embeddings` in older exports)."""

from __future__ import annotations

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
    text_in,
)

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
