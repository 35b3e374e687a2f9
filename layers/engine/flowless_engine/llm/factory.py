"""Langflow's provider names → a chat model. Provider modules are imported on first use.

The providers and the protocol each speaks are in `providers.py`; here each protocol maps to the
client class that speaks it (every OpenAI-compatible service shares one client)."""

from __future__ import annotations

import importlib

from flowless_engine.errors import ConfigurationError
from flowless_engine.http import HttpClient
from flowless_engine.llm.base import ChatModel, ModelConfig
from flowless_engine.llm.providers import find_provider, provider_names

# protocol → (module, chat model class)
_CLIENTS: dict[str, tuple[str, str]] = {
    "openai": ("flowless_engine.llm.openai_compat", "OpenAICompatChatModel"),
    "azure": ("flowless_engine.llm.openai_compat", "AzureOpenAIChatModel"),
    "azure_foundry": ("flowless_engine.llm.openai_compat", "AzureAIFoundryChatModel"),
    "watsonx": ("flowless_engine.llm.watsonx", "WatsonxChatModel"),
    "gemini": ("flowless_engine.llm.gemini", "GeminiChatModel"),
    "vertex": ("flowless_engine.llm.vertex", "VertexChatModel"),
    "cohere": ("flowless_engine.llm.cohere", "CohereChatModel"),
    "huggingface": ("flowless_engine.llm.huggingface", "HuggingFaceChatModel"),
    "anthropic": ("flowless_engine.llm.anthropic", "AnthropicChatModel"),
    "bedrock": ("flowless_engine.llm.bedrock", "BedrockChatModel"),
    "ollama": ("flowless_engine.llm.ollama", "OllamaChatModel"),
}
SUPPORTED_PROVIDERS = provider_names()


def get_chat_model(config: ModelConfig, http: HttpClient) -> ChatModel:
    provider = find_provider(config.provider or "")
    if provider is None:
        raise ConfigurationError(
            f"Model provider '{config.provider}' is not supported by Flowless; supported: {', '.join(SUPPORTED_PROVIDERS)}",
            provider=config.provider,
        )
    module, cls = _CLIENTS[provider.protocol]
    client = getattr(importlib.import_module(module), cls)
    if provider.protocol == "openai":
        return client(config, http, provider=provider.name, default_base_url=provider.base_url, key_required=provider.key_required)
    return client(config, http)
