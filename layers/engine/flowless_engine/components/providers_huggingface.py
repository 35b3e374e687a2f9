"""Hugging Face nodes: the Inference API chat model (HuggingFaceModel) and embeddings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowless_engine.components.base import Component, to_text
from flowless_engine.components.providers_base import (
    MODEL_BASE_INPUTS,
    ChatProviderComponent,
    EmbeddingsProviderComponent,
    dict_in,
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

DEFAULT_MODEL = "meta-llama/Llama-3.3-70B-Instruct"
HUB_ENDPOINT = "https://api-inference.huggingface.co/models/"


class HuggingFaceModel(ChatProviderComponent):
    type_name = "HuggingFaceModel"
    aliases = ("HuggingFaceEndpointsComponent",)
    display_name = "Hugging Face"
    description = "Generate text using Hugging Face Inference APIs."
    icon = "HuggingFace"
    provider = "Hugging Face"
    key_field = "huggingfacehub_api_token"
    model_field = "model_id"
    default_model = DEFAULT_MODEL
    max_tokens_field = "max_new_tokens"
    extra_fields = {"top_k": "top_k", "top_p": "top_p", "typical_p": "typical_p", "repetition_penalty": "repetition_penalty", "model_kwargs": "model_kwargs"}
    inputs = MODEL_BASE_INPUTS + (
        dropdown_in("model_id", "Model ID", DEFAULT_MODEL, options=(
            DEFAULT_MODEL, "mistralai/Mixtral-8x7B-Instruct-v0.1", "mistralai/Mistral-7B-Instruct-v0.3", "meta-llama/Llama-3.1-8B-Instruct",
            "Qwen/Qwen2.5-Coder-32B-Instruct", "Qwen/QwQ-32B-Preview", "openai-community/gpt2", "custom"), required=True),
        str_in("custom_model", "Custom Model ID", "", required=True),
        int_in("max_new_tokens", "Max New Tokens", 512),
        int_in("top_k", "Top K", advanced=True),
        float_in("top_p", "Top P", 0.95, advanced=True),
        float_in("typical_p", "Typical P", 0.95, advanced=True),
        slider_in("temperature", "Temperature", 0.8, advanced=True),
        float_in("repetition_penalty", "Repetition Penalty", advanced=True),
        str_in("inference_endpoint", "Inference Endpoint", HUB_ENDPOINT, required=True),
        dropdown_in("task", "Task", "text-generation", options=("text2text-generation", "text-generation", "summarization", "translation"), advanced=True),
        secret_in("huggingfacehub_api_token", "HuggingFace HubAPI Token", required=True),
        dict_in("model_kwargs", "Model Keyword Arguments", advanced=True),
        int_in("retry_attempts", "Retry Attempts", 1, advanced=True),
    )

    @classmethod
    async def complete_config(cls, component: Component, config: "ModelConfig") -> None:
        from flowless_engine.llm.huggingface import is_hub

        if config.model == "custom":
            config.model = to_text(component.params.get("custom_model")).strip()
        endpoint = to_text(component.params.get("inference_endpoint")).strip()
        # The Hub's serverless API: the router serves the model by name. Any other address is
        # the endpoint itself (a dedicated endpoint, a TGI server), as Langflow's node calls it.
        config.base_url = None if is_hub(endpoint) else endpoint


class HuggingFaceInferenceAPIEmbeddings(EmbeddingsProviderComponent):
    type_name = "HuggingFaceInferenceAPIEmbeddings"
    display_name = "Hugging Face Embeddings Inference"
    description = "Generate embeddings using Hugging Face Text Embeddings Inference (TEI)"
    icon = "HuggingFace"
    provider = "Hugging Face"
    url_field = "inference_endpoint"
    model_field = "model_name"
    legacy_fields = {"inference_endpoint": "api_url"}
    default_model = "BAAI/bge-large-en-v1.5"
    inputs = (
        secret_in("api_key", "HuggingFace API Key"),
        text_in("inference_endpoint", "Inference Endpoint", HUB_ENDPOINT, required=True),
        text_in("model_name", "Model Name", "BAAI/bge-large-en-v1.5", required=True),
    )
