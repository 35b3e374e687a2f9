"""The older Agent's `agent_llm` choice → the provider node whose fields the Agent carries
(Langflow ≈1.1–1.6 copied the chosen provider's inputs into the Agent node)."""

from __future__ import annotations

import importlib

from flowless_engine.components.providers_base import ChatProviderComponent
from flowless_engine.llm.providers import normalise

_NODES: dict[str, str] = {
    "groq": "providers_openai:GroqModel",
    "azure openai": "providers_openai:AzureOpenAIModel",
    "nvidia": "providers_openai:NVIDIAModelComponent",
    "sambanova": "providers_openai:SambaNovaModel",
    "mistral": "providers_openai:MistralModel",
    "deepseek": "providers_openai:DeepSeekModelComponent",
    "xai": "providers_openai:XAIModel",
    "openrouter": "providers_openai:OpenRouterComponent",
    "lm studio": "providers_openai:LMStudioModel",
    "google generative ai": "providers_google:GoogleGenerativeAIModel",
    "anthropic": "providers_native:AnthropicModel",
    "amazon bedrock": "providers_native:AmazonBedrockModel",
    "ollama": "providers_native:OllamaModel",
    "ibm watsonx.ai": "providers_ibm:IBMwatsonxModel",
    "ibm watsonx": "providers_ibm:IBMwatsonxModel",
    "cohere": "providers_cohere:CohereModel",
}


def provider_node(agent_llm: str) -> type[ChatProviderComponent] | None:
    """The provider node class for an `agent_llm` value; None for OpenAI and "Custom" (a model
    wired in), which the Agent's own fields already describe."""
    target = _NODES.get(normalise(agent_llm))
    if target is None:
        return None
    module, cls = target.split(":")
    return getattr(importlib.import_module(f"flowless_engine.components.{module}"), cls)
