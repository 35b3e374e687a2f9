"""Cohere nodes: the chat model (v2 chat) and the embeddings (v2 embed)."""

from __future__ import annotations

from flowless_engine.components.providers_base import (
    MODEL_BASE_INPUTS,
    ChatProviderComponent,
    EmbeddingsProviderComponent,
    dropdown_in,
    float_in,
    int_in,
    secret_in,
    slider_in,
    text_in,
)


class CohereModel(ChatProviderComponent):
    type_name = "CohereModel"
    display_name = "Cohere Language Models"
    description = "Generate text using Cohere LLMs."
    icon = "Cohere"
    provider = "Cohere"
    key_field = "cohere_api_key"
    model_field = ""  # Langflow's node has no model choice: Cohere's default chat model
    default_model = "command-r-plus-08-2024"
    inputs = MODEL_BASE_INPUTS + (
        secret_in("cohere_api_key", "Cohere API Key", "COHERE_API_KEY", required=True),
        slider_in("temperature", "Temperature", 0.75, advanced=True),
    )


class CohereEmbeddingsComponent(EmbeddingsProviderComponent):
    type_name = "CohereEmbeddings"
    display_name = "Cohere Embeddings"
    description = "Generate embeddings using Cohere models."
    icon = "Cohere"
    provider = "Cohere"
    model_field = "model_name"
    default_model = "embed-english-v2.0"
    legacy_fields = {"api_key": "cohere_api_key", "model_name": "model"}
    extra_fields = {"truncate": "truncate", "user_agent": "user_agent"}
    inputs = (
        secret_in("api_key", "Cohere API Key", required=True),
        dropdown_in("model_name", "Model", "embed-english-v2.0", options=(
            "embed-english-v2.0", "embed-multilingual-v2.0", "embed-english-light-v2.0", "embed-multilingual-light-v2.0")),
        text_in("truncate", "Truncate", advanced=True),
        int_in("max_retries", "Max Retries", 3, advanced=True),
        text_in("user_agent", "User Agent", "langchain", advanced=True),
        float_in("request_timeout", "Request Timeout", advanced=True),
    )
