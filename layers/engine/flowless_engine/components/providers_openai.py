"""Model and embedding nodes of the services that speak OpenAI's API: Groq, OpenRouter, LM Studio,
DeepSeek, xAI, NVIDIA, SambaNova, Perplexity, Mistral, Novita, Maritalk, AI/ML API, CometAPI, the
LiteLLM proxy, and Azure OpenAI (deployment URL, `api-key` header). One client serves them all
(llm/openai_compat.py); each node only says where its fields go."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowless_engine.components.base import Component, to_bool, to_text
from flowless_engine.components.providers_base import (
    MODEL_BASE_INPUTS,
    ChatProviderComponent,
    EmbeddingsProviderComponent,
    bool_in,
    dict_in,
    dropdown_in,
    float_in,
    handle_in,
    int_in,
    secret_in,
    slider_in,
    str_in,
    text_in,
)

if TYPE_CHECKING:
    from flowless_engine.llm.base import ModelConfig
    from flowless_engine.llm.embeddings import EmbeddingConfig

# The options most OpenAI-shaped nodes share.
_OPENAI_OPTIONS = {"seed": "seed", "json_mode": "json_mode", "timeout": "timeout"}


class _OpenAIShaped(ChatProviderComponent):
    """`model_kwargs` (a dict of extra request fields) goes into the request body as is."""

    @classmethod
    async def complete_config(cls, component: Component, config: "ModelConfig") -> None:
        kwargs = component.params.get("model_kwargs")
        if isinstance(kwargs, dict) and kwargs:
            config.extra["body"] = {**kwargs, **(config.extra.get("body") or {})}
        if "json_mode" in config.extra:
            config.extra["json_mode"] = to_bool(config.extra["json_mode"])


class GroqModel(_OpenAIShaped):
    type_name = "GroqModel"
    display_name = "Groq"
    description = "Generate text using Groq."
    icon = "Groq"
    provider = "Groq"
    url_field = "base_url"
    legacy_fields = {"api_key": "groq_api_key", "base_url": "groq_api_base"}
    default_model = "llama-3.1-8b-instant"
    extra_fields = {"n": "body.n"}
    inputs = MODEL_BASE_INPUTS + (
        secret_in("api_key", "Groq API Key"),
        text_in("base_url", "Groq API Base", "https://api.groq.com", advanced=True),
        int_in("max_tokens", "Max Output Tokens", advanced=True),
        slider_in("temperature", "Temperature", 0.1, advanced=True),
        int_in("n", "N", advanced=True),
        dropdown_in("model_name", "Model", "llama-3.1-8b-instant"),
        bool_in("tool_model_enabled", "Enable Tool Models", False),
    )

    @classmethod
    def base_url_of(cls, field_value: str) -> str:
        # The node holds the host (https://api.groq.com); the OpenAI-compatible API is under /openai/v1.
        base = field_value.rstrip("/")
        return base if base.endswith("/v1") else base + "/openai/v1"


class OpenRouterComponent(_OpenAIShaped):
    type_name = "OpenRouterComponent"
    display_name = "OpenRouter"
    description = "OpenRouter provides unified access to multiple AI models from different providers through a single API."
    icon = "OpenRouter"
    provider = "OpenRouter"
    inputs = MODEL_BASE_INPUTS + (
        secret_in("api_key", "API Key", required=True),
        dropdown_in("model_name", "Model", "", required=True),
        slider_in("temperature", "Temperature", 0.7, advanced=True),
        int_in("max_tokens", "Max Tokens", advanced=True),
        str_in("site_url", "Site URL", advanced=True),
        str_in("app_name", "App Name", advanced=True),
    )

    @classmethod
    async def complete_config(cls, component: Component, config: "ModelConfig") -> None:
        headers = {}
        if to_text(component.params.get("site_url")):
            headers["HTTP-Referer"] = to_text(component.params["site_url"])
        if to_text(component.params.get("app_name")):
            headers["X-Title"] = to_text(component.params["app_name"])
        if headers:
            config.extra["headers"] = headers


class LMStudioModel(_OpenAIShaped):
    type_name = "LMStudioModel"
    display_name = "LM Studio"
    description = "Generate text using LM Studio Local LLMs."
    icon = "LMStudio"
    provider = "LM Studio"
    url_field = "base_url"
    extra_fields = {"seed": "seed"}
    inputs = MODEL_BASE_INPUTS + (
        int_in("max_tokens", "Max Tokens", advanced=True),
        dict_in("model_kwargs", "Model Kwargs", advanced=True),
        dropdown_in("model_name", "Model Name"),
        str_in("base_url", "Base URL", "http://localhost:1234/v1"),
        secret_in("api_key", "LM Studio API Key", "LMSTUDIO_API_KEY", advanced=True),
        float_in("temperature", "Temperature", 0.1, advanced=True),
        int_in("seed", "Seed", 1, advanced=True),
    )


class DeepSeekModelComponent(_OpenAIShaped):
    type_name = "DeepSeekModelComponent"
    display_name = "DeepSeek"
    description = "Generate text using DeepSeek LLMs."
    icon = "DeepSeek"
    provider = "DeepSeek"
    url_field = "api_base"
    default_model = "deepseek-chat"
    extra_fields = _OPENAI_OPTIONS
    inputs = MODEL_BASE_INPUTS + (
        int_in("max_tokens", "Max Tokens", advanced=True),
        dict_in("model_kwargs", "Model Kwargs", advanced=True),
        bool_in("json_mode", "JSON Mode", None, advanced=True),
        dropdown_in("model_name", "Model Name", "deepseek-chat", options=("deepseek-chat",)),
        str_in("api_base", "DeepSeek API Base", "https://api.deepseek.com", advanced=True),
        secret_in("api_key", "DeepSeek API Key", required=True),
        slider_in("temperature", "Temperature", 1.0, advanced=True),
        int_in("seed", "Seed", 1, advanced=True),
    )


class XAIModel(_OpenAIShaped):
    type_name = "xAIModel"
    aliases = ("XAIModel", "XAIModelComponent")
    display_name = "xAI"
    description = "Generates text using xAI models like Grok."
    icon = "xAI"
    provider = "xAI"
    url_field = "base_url"
    default_model = "grok-2-latest"
    extra_fields = _OPENAI_OPTIONS
    inputs = MODEL_BASE_INPUTS + (
        int_in("max_tokens", "Max Tokens", advanced=True),
        dict_in("model_kwargs", "Model Kwargs", advanced=True),
        bool_in("json_mode", "JSON Mode", None, advanced=True),
        dropdown_in("model_name", "Model Name", "grok-2-latest", options=("grok-2-latest",)),
        text_in("base_url", "xAI API Base", "https://api.x.ai/v1", advanced=True),
        secret_in("api_key", "xAI API Key", "XAI_API_KEY", required=True),
        slider_in("temperature", "Temperature", 0.1, advanced=True),
        int_in("seed", "Seed", 1, advanced=True),
    )


class NVIDIAModelComponent(_OpenAIShaped):
    type_name = "NVIDIAModelComponent"
    display_name = "NVIDIA"
    description = "Generates text using NVIDIA LLMs."
    icon = "NVIDIA"
    provider = "NVIDIA"
    url_field = "base_url"
    extra_fields = {"seed": "seed"}
    inputs = MODEL_BASE_INPUTS + (
        int_in("max_tokens", "Max Tokens", advanced=True),
        dropdown_in("model_name", "Model Name"),
        bool_in("detailed_thinking", "Detailed Thinking", False),
        bool_in("tool_model_enabled", "Enable Tool Models", False),
        text_in("base_url", "NVIDIA Base URL", "https://integrate.api.nvidia.com/v1"),
        secret_in("api_key", "NVIDIA API Key", "NVIDIA_API_KEY"),
        slider_in("temperature", "Temperature", 0.1, advanced=True),
        int_in("seed", "Seed", 1, advanced=True),
    )


class SambaNovaModel(_OpenAIShaped):
    type_name = "SambaNovaModel"
    aliases = ("SambaNovaComponent",)
    display_name = "SambaNova"
    description = "Generate text using Sambanova LLMs."
    icon = "SambaNova"
    provider = "SambaNova"
    url_field = "base_url"
    default_model = "Meta-Llama-3.3-70B-Instruct"
    extra_fields = {"top_p": "top_p"}
    inputs = MODEL_BASE_INPUTS + (
        str_in("base_url", "SambaNova Cloud Base Url", advanced=True),
        dropdown_in("model_name", "Model Name", "Meta-Llama-3.3-70B-Instruct"),
        secret_in("api_key", "Sambanova API Key", "SAMBANOVA_API_KEY", required=True),
        int_in("max_tokens", "Max Tokens", 2048, advanced=True),
        slider_in("top_p", "top_p", 1.0, advanced=True),
        slider_in("temperature", "Temperature", 0.1, advanced=True),
    )


class PerplexityModel(_OpenAIShaped):
    type_name = "PerplexityModel"
    aliases = ("PerplexityComponent",)
    display_name = "Perplexity"
    description = "Generate text using Perplexity LLMs."
    icon = "Perplexity"
    provider = "Perplexity"
    default_model = "llama-3.1-sonar-small-128k-online"
    extra_fields = {"top_p": "top_p", "n": "body.n"}
    inputs = MODEL_BASE_INPUTS + (
        dropdown_in("model_name", "Model Name", "llama-3.1-sonar-small-128k-online", options=(
            "llama-3.1-sonar-small-128k-online", "llama-3.1-sonar-large-128k-online", "llama-3.1-sonar-huge-128k-online",
            "llama-3.1-sonar-small-128k-chat", "llama-3.1-sonar-large-128k-chat", "llama-3.1-8b-instruct", "llama-3.1-70b-instruct")),
        int_in("max_tokens", "Max Output Tokens"),
        secret_in("api_key", "Perplexity API Key", required=True),
        slider_in("temperature", "Temperature", 0.75),
        float_in("top_p", "Top P", advanced=True),
        int_in("n", "N", advanced=True),
    )


class MistralModel(_OpenAIShaped):
    type_name = "MistralModel"
    aliases = ("MistralAIModelComponent",)
    display_name = "MistralAI"
    description = "Generates text using MistralAI LLMs."
    icon = "MistralAI"
    provider = "Mistral"
    url_field = "mistral_api_base"
    default_model = "codestral-latest"
    extra_fields = {"top_p": "top_p", "random_seed": "body.random_seed", "safe_mode": "body.safe_prompt", "timeout": "timeout"}
    inputs = MODEL_BASE_INPUTS + (
        int_in("max_tokens", "Max Tokens", advanced=True),
        dropdown_in("model_name", "Model Name", "codestral-latest", options=(
            "open-mixtral-8x7b", "open-mixtral-8x22b", "mistral-small-latest", "mistral-medium-latest", "mistral-large-latest", "codestral-latest")),
        str_in("mistral_api_base", "Mistral API Base", advanced=True),
        secret_in("api_key", "Mistral API Key", "MISTRAL_API_KEY", required=True),
        float_in("temperature", "Temperature", 0.1, advanced=True),
        int_in("max_retries", "Max Retries", 5, advanced=True),
        int_in("timeout", "Timeout", 60, advanced=True),
        int_in("max_concurrent_requests", "Max Concurrent Requests", 3, advanced=True),
        float_in("top_p", "Top P", 1, advanced=True),
        int_in("random_seed", "Random Seed", 1, advanced=True),
        bool_in("safe_mode", "Safe Mode", False, advanced=True),
    )


class NovitaModel(_OpenAIShaped):
    type_name = "NovitaModel"
    aliases = ("NovitaModelComponent",)
    display_name = "Novita AI"
    description = "Generates text using Novita AI LLMs (OpenAI compatible)."
    icon = "Novita"
    provider = "Novita"
    default_model = "meta-llama/llama-3.1-8b-instruct"
    extra_fields = _OPENAI_OPTIONS
    inputs = MODEL_BASE_INPUTS + (
        int_in("max_tokens", "Max Tokens", advanced=True),
        dict_in("model_kwargs", "Model Kwargs", advanced=True),
        bool_in("json_mode", "JSON Mode", None, advanced=True),
        dropdown_in("model_name", "Model Name", "meta-llama/llama-3.1-8b-instruct"),
        secret_in("api_key", "Novita API Key", "NOVITA_API_KEY"),
        slider_in("temperature", "Temperature", 0.1),
        int_in("seed", "Seed", 1, advanced=True),
        handle_in("output_parser", "Output Parser", ("OutputParser",), advanced=True),
    )


class MaritalkModel(_OpenAIShaped):
    type_name = "Maritalk"
    aliases = ("MaritalkModel", "MaritalkModelComponent")
    display_name = "MariTalk"
    description = "Generates text using MariTalk LLMs."
    icon = "Maritalk"
    provider = "Maritalk"
    default_model = "sabia-2-small"
    inputs = MODEL_BASE_INPUTS + (
        int_in("max_tokens", "Max Tokens", 512, advanced=True),
        dropdown_in("model_name", "Model Name", "sabia-2-small", options=("sabia-2-small", "sabia-2-medium")),
        secret_in("api_key", "MariTalk API Key"),
        float_in("temperature", "Temperature", 0.1),
    )


class AIMLModel(_OpenAIShaped):
    type_name = "AIMLModel"
    display_name = "AI/ML API"
    description = "Generates text using AI/ML API LLMs."
    icon = "AIML"
    provider = "AI/ML API"
    url_field = "aiml_api_base"
    inputs = MODEL_BASE_INPUTS + (
        int_in("max_tokens", "Max Tokens", advanced=True),
        dict_in("model_kwargs", "Model Kwargs", advanced=True),
        dropdown_in("model_name", "Model Name"),
        str_in("aiml_api_base", "AI/ML API Base", advanced=True),
        secret_in("api_key", "AI/ML API Key", "AIML_API_KEY", required=True),
        slider_in("temperature", "Temperature", 0.1),
    )


class CometAPIModel(_OpenAIShaped):
    type_name = "CometAPIModel"
    aliases = ("CometAPIComponent",)
    display_name = "CometAPI"
    description = "All AI Models in One API 500+ AI Models."
    icon = "CometAPI"
    provider = "CometAPI"
    extra_fields = _OPENAI_OPTIONS
    inputs = MODEL_BASE_INPUTS + (
        secret_in("api_key", "CometAPI Key", required=True),
        str_in("app_name", "App Name", advanced=True),
        dropdown_in("model_name", "Model", "Select a model", required=True),
        dict_in("model_kwargs", "Model Kwargs", advanced=True),
        slider_in("temperature", "Temperature", 0.7, advanced=True),
        int_in("max_tokens", "Max Tokens", advanced=True),
        int_in("seed", "Seed", 1, advanced=True),
        bool_in("json_mode", "JSON Mode", None, advanced=True),
    )


class LiteLLMProxyModel(_OpenAIShaped):
    type_name = "LiteLLMProxyModel"
    aliases = ("LiteLLMProxyComponent",)
    display_name = "LiteLLM Proxy"
    description = "Generate text using any LLM through a LiteLLM proxy server."
    icon = "LiteLLM"
    provider = "LiteLLM"
    url_field = "api_base"
    extra_fields = {"timeout": "timeout"}
    inputs = MODEL_BASE_INPUTS + (
        str_in("api_base", "LiteLLM Proxy URL", "http://localhost:4000/v1", required=True),
        secret_in("api_key", "API Key", "LITELLM_API_KEY", required=True),
        str_in("model_name", "Model Name", required=True),
        slider_in("temperature", "Temperature", 0.7, advanced=True),
        int_in("max_tokens", "Max Tokens", advanced=True),
        int_in("timeout", "Timeout", 60, advanced=True),
        int_in("max_retries", "Max Retries", 2, advanced=True),
    )


class OrcaRouterComponent(_OpenAIShaped):
    type_name = "OrcaRouterComponent"
    display_name = "OrcaRouter"
    description = "OrcaRouter routes each request to a suitable model through one OpenAI-compatible API."
    icon = "OrcaRouter"
    provider = "OrcaRouter"
    inputs = MODEL_BASE_INPUTS + (
        secret_in("api_key", "API Key", required=True),
        dropdown_in("model_name", "Model", "", required=True),
        slider_in("temperature", "Temperature", 0.7, advanced=True),
        int_in("max_tokens", "Max Tokens", advanced=True),
    )


AZURE_API_VERSIONS = ("2024-06-01", "2024-07-01-preview", "2024-08-01-preview", "2024-09-01-preview", "2024-10-01-preview",
                      "2024-10-21", "2024-12-01-preview", "2025-01-01-preview", "2025-02-01-preview")


class AzureOpenAIModel(ChatProviderComponent):
    type_name = "AzureOpenAIModel"
    aliases = ("AzureChatOpenAIComponent",)
    display_name = "Azure OpenAI"
    description = "Generate text using Azure OpenAI LLMs."
    icon = "Azure"
    provider = "Azure OpenAI"
    url_field = "azure_endpoint"
    model_field = "azure_deployment"
    inputs = MODEL_BASE_INPUTS + (
        text_in("azure_endpoint", "Azure Endpoint", required=True),
        text_in("azure_deployment", "Deployment Name", required=True),
        secret_in("api_key", "Azure Chat OpenAI API Key", required=True),
        dropdown_in("api_version", "API Version", "2024-10-21", options=AZURE_API_VERSIONS),
        slider_in("temperature", "Temperature", 1.0, advanced=True),
        int_in("max_tokens", "Max Tokens", advanced=True),
    )
    extra_fields = {"api_version": "api_version", "azure_deployment": "deployment"}


# ---- embeddings ------------------------------------------------------------------------------

class LMStudioEmbeddingsComponent(EmbeddingsProviderComponent):
    type_name = "LMStudioEmbeddingsComponent"
    display_name = "LM Studio Embeddings"
    description = "Generate embeddings using LM Studio."
    icon = "LMStudio"
    provider = "LM Studio"
    url_field = "base_url"
    inputs = (
        dropdown_in("model", "Model", required=True),
        text_in("base_url", "LM Studio Base URL", "http://localhost:1234/v1", required=True),
        secret_in("api_key", "LM Studio API Key", "LMSTUDIO_API_KEY", advanced=True),
        float_in("temperature", "Model Temperature", 0.1, advanced=True),
    )


class MistralAIEmbeddingsComponent(EmbeddingsProviderComponent):
    type_name = "MistalAIEmbeddings"  # Langflow's spelling
    aliases = ("MistralAIEmbeddings", "MistralAIEmbeddingsComponent")
    display_name = "MistralAI Embeddings"
    description = "Generate embeddings using MistralAI models."
    icon = "MistralAI"
    provider = "Mistral"
    key_field = "mistral_api_key"
    url_field = "endpoint"
    default_model = "mistral-embed"
    inputs = (
        dropdown_in("model", "Model", "mistral-embed", options=("mistral-embed",)),
        secret_in("mistral_api_key", "Mistral API Key", required=True),
        int_in("max_concurrent_requests", "Max Concurrent Requests", 64, advanced=True),
        int_in("max_retries", "Max Retries", 5, advanced=True),
        int_in("timeout", "Request Timeout", 120, advanced=True),
        text_in("endpoint", "API Endpoint", "https://api.mistral.ai/v1/", advanced=True),
    )

    async def complete_config(self, config: "EmbeddingConfig") -> None:
        config.concurrency = max(1, min(16, int(self.params.get("max_concurrent_requests") or 4)))


class NVIDIAEmbeddingsComponent(EmbeddingsProviderComponent):
    type_name = "NVIDIAEmbeddingsComponent"
    display_name = "NVIDIA Embeddings"
    description = "Generate embeddings using NVIDIA models."
    icon = "NVIDIA"
    provider = "NVIDIA"
    key_field = "nvidia_api_key"
    url_field = "base_url"
    default_model = "nvidia/nv-embed-v1"
    inputs = (
        dropdown_in("model", "Model", "nvidia/nv-embed-v1", options=("nvidia/nv-embed-v1", "snowflake/arctic-embed-I"), required=True),
        text_in("base_url", "NVIDIA Base URL", "https://integrate.api.nvidia.com/v1", required=True),
        secret_in("nvidia_api_key", "NVIDIA API Key", "NVIDIA_API_KEY", required=True),
        float_in("temperature", "Model Temperature", 0.1, advanced=True),
    )


class AzureOpenAIEmbeddingsComponent(EmbeddingsProviderComponent):
    type_name = "AzureOpenAIEmbeddings"
    aliases = ("AzureOpenAIEmbeddingsComponent",)
    display_name = "Azure OpenAI Embeddings"
    description = "Generate embeddings using Azure OpenAI models."
    icon = "Azure"
    provider = "Azure OpenAI"
    url_field = "azure_endpoint"
    default_model = "text-embedding-3-small"
    extra_fields = {"api_version": "api_version", "azure_deployment": "deployment"}
    inputs = (
        dropdown_in("model", "Model", "text-embedding-3-small", options=("text-embedding-3-small", "text-embedding-3-large", "text-embedding-ada-002")),
        text_in("azure_endpoint", "Azure Endpoint", required=True),
        text_in("azure_deployment", "Deployment Name", required=True),
        dropdown_in("api_version", "API Version", "2023-08-01-preview", options=(
            "2022-12-01", "2023-03-15-preview", "2023-05-15", "2023-06-01-preview", "2023-07-01-preview", "2023-08-01-preview"), advanced=True),
        secret_in("api_key", "Azure OpenAI API Key", required=True),
        int_in("dimensions", "Dimensions", advanced=True),
    )


class AIMLEmbeddingsComponent(EmbeddingsProviderComponent):
    type_name = "AIMLEmbeddings"
    aliases = ("AIMLEmbeddingsComponent",)
    display_name = "AI/ML API Embeddings"
    description = "Generate embeddings using the AI/ML API."
    icon = "AIML"
    provider = "AI/ML API"
    key_field = "aiml_api_key"
    model_field = "model_name"
    inputs = (
        dropdown_in("model_name", "Model Name", options=("text-embedding-3-small", "text-embedding-3-large", "text-embedding-ada-002"), required=True),
        secret_in("aiml_api_key", "AI/ML API Key", "AIML_API_KEY", required=True),
    )

