"""Langflow's provider names → a chat model. Provider modules are imported on first use."""

from __future__ import annotations

import importlib
import re

from flowless_engine.errors import ConfigurationError
from flowless_engine.http import HttpClient
from flowless_engine.llm.base import ChatModel, ModelConfig

# Services that speak OpenAI's Chat Completions: display name and default base URL
# (None: the flow must give one).
_OPENAI_COMPATIBLE: dict[str, tuple[str, str | None]] = {
    "openai": ("OpenAI", "https://api.openai.com/v1"),
    "openai compatible": ("OpenAI Compatible", None),
    "groq": ("Groq", "https://api.groq.com/openai/v1"),
    "deepseek": ("DeepSeek", "https://api.deepseek.com"),
    "xai": ("xAI", "https://api.x.ai/v1"),
    "openrouter": ("OpenRouter", "https://openrouter.ai/api/v1"),
    "nvidia": ("NVIDIA", "https://integrate.api.nvidia.com/v1"),
    "sambanova": ("SambaNova", "https://api.sambanova.ai/v1"),
}
# Other providers: module and class, looked up by every alias Langflow uses.
_NATIVE: dict[str, tuple[str, str]] = {
    "anthropic": ("flowless_engine.llm.anthropic", "AnthropicChatModel"),
    "amazon bedrock": ("flowless_engine.llm.bedrock", "BedrockChatModel"),
    "amazon bedrock converse": ("flowless_engine.llm.bedrock", "BedrockChatModel"),
    "aws bedrock": ("flowless_engine.llm.bedrock", "BedrockChatModel"),
    "bedrock": ("flowless_engine.llm.bedrock", "BedrockChatModel"),
    "ollama": ("flowless_engine.llm.ollama", "OllamaChatModel"),
}
SUPPORTED_PROVIDERS = ("OpenAI", "Anthropic", "Amazon Bedrock", "Ollama") + tuple(
    name for key, (name, _) in _OPENAI_COMPATIBLE.items() if key != "openai"
)


def _normalise(name: str) -> str:
    return re.sub(r"[\s_-]+", " ", name).strip().casefold()


def get_chat_model(config: ModelConfig, http: HttpClient) -> ChatModel:
    key = _normalise(config.provider or "")
    if key in _OPENAI_COMPATIBLE:
        from flowless_engine.llm.openai_compat import OpenAICompatChatModel

        display, base_url = _OPENAI_COMPATIBLE[key]
        return OpenAICompatChatModel(config, http, provider=display, default_base_url=base_url)
    if key in _NATIVE:
        module, cls = _NATIVE[key]
        return getattr(importlib.import_module(module), cls)(config, http)
    raise ConfigurationError(
        f"Model provider '{config.provider}' is not supported by Flowless; supported: {', '.join(SUPPORTED_PROVIDERS)}",
        provider=config.provider,
    )
