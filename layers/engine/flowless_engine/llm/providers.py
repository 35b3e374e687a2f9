"""Every model provider Flowless knows: which wire protocol it speaks, where its API lives and
which tenant variable conventionally holds its key. Data only: reading it imports no client.

Names are Langflow's provider names (the 1.13 model list, the older Agent's `agent_llm` choice),
looked up case- and spacing-insensitively, with the aliases older exports use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Provider:
    name: str  # display name, used in errors
    protocol: str  # "openai" | "azure" | "azure_foundry" | "gemini" | "vertex" | "cohere" | "watsonx" | "huggingface" | "anthropic" | "bedrock" | "ollama"
    base_url: str | None = None  # None: the flow must give one
    key_variable: str = ""  # the conventional tenant variable / environment variable of the key
    url_variable: str = ""  # ... of the base URL
    key_required: bool = True  # a local server (LM Studio, vLLM, Ollama) takes none


_P = Provider
PROVIDERS: dict[str, Provider] = {
    "openai": _P("OpenAI", "openai", "https://api.openai.com/v1", "OPENAI_API_KEY", "OPENAI_BASE_URL"),
    "openai compatible": _P("OpenAI Compatible", "openai", None, "OPENAI_COMPATIBLE_API_KEY", "OPENAI_COMPATIBLE_BASE_URL", key_required=False),
    "groq": _P("Groq", "openai", "https://api.groq.com/openai/v1", "GROQ_API_KEY"),
    "deepseek": _P("DeepSeek", "openai", "https://api.deepseek.com/v1", "DEEPSEEK_API_KEY"),
    "xai": _P("xAI", "openai", "https://api.x.ai/v1", "XAI_API_KEY"),
    "openrouter": _P("OpenRouter", "openai", "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY"),
    "nvidia": _P("NVIDIA", "openai", "https://integrate.api.nvidia.com/v1", "NVIDIA_API_KEY"),
    "sambanova": _P("SambaNova", "openai", "https://api.sambanova.ai/v1", "SAMBANOVA_API_KEY"),
    "lm studio": _P("LM Studio", "openai", "http://localhost:1234/v1", "LMSTUDIO_API_KEY", key_required=False),
    "mistral": _P("Mistral", "openai", "https://api.mistral.ai/v1", "MISTRAL_API_KEY"),
    "perplexity": _P("Perplexity", "openai", "https://api.perplexity.ai", "PERPLEXITY_API_KEY"),
    "novita": _P("Novita", "openai", "https://api.novita.ai/v3/openai", "NOVITA_API_KEY"),
    "vllm": _P("vLLM", "openai", "http://localhost:8000/v1", "VLLM_API_KEY", "VLLM_API_BASE", key_required=False),
    "maritalk": _P("Maritalk", "openai", "https://chat.maritaca.ai/api", "MARITALK_API_KEY"),
    "aiml": _P("AI/ML API", "openai", "https://api.aimlapi.com/v2", "AIML_API_KEY"),
    "cometapi": _P("CometAPI", "openai", "https://api.cometapi.com/v1", "COMETAPI_KEY"),
    "litellm": _P("LiteLLM", "openai", "http://localhost:4000/v1", "LITELLM_API_KEY", key_required=False),
    "orcarouter": _P("OrcaRouter", "openai", "https://api.orcarouter.ai/v1", "ORCAROUTER_API_KEY"),
    "cloudflare workers ai": _P("Cloudflare Workers AI", "cloudflare", "https://api.cloudflare.com/client/v4/accounts", "CLOUDFLARE_API_TOKEN"),
    "fake embeddings": _P("Fake Embeddings", "fake", key_required=False),
    "azure openai": _P("Azure OpenAI", "azure", None, "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT"),
    "azure ai foundry": _P("Azure AI Foundry", "azure_foundry", None, "AZURE_AI_FOUNDRY_API_KEY", "AZURE_AI_FOUNDRY_ENDPOINT"),
    "google generative ai": _P("Google Generative AI", "gemini", "https://generativelanguage.googleapis.com", "GOOGLE_API_KEY"),
    "vertex ai": _P("Vertex AI", "vertex", None, key_required=False),
    "cohere": _P("Cohere", "cohere", "https://api.cohere.com", "COHERE_API_KEY"),
    "ibm watsonx": _P("IBM watsonx.ai", "watsonx", "https://us-south.ml.cloud.ibm.com", "WATSONX_APIKEY", "WATSONX_URL"),
    "hugging face": _P("Hugging Face", "huggingface", "https://router.huggingface.co/hf-inference", "HUGGINGFACEHUB_API_TOKEN"),
    "anthropic": _P("Anthropic", "anthropic", "https://api.anthropic.com", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"),
    "amazon bedrock": _P("Amazon Bedrock", "bedrock", key_required=False),
    "ollama": _P("Ollama", "ollama", "http://localhost:11434", "", "OLLAMA_BASE_URL", key_required=False),
}
ALIASES: dict[str, str] = {
    "lmstudio": "lm studio",
    "x ai": "xai",
    "grok": "xai",
    "mistralai": "mistral",
    "mistral ai": "mistral",
    "novita ai": "novita",
    "google": "google generative ai",
    "gemini": "google generative ai",
    "vertexai": "vertex ai",
    "google vertex ai": "vertex ai",
    "google gemini": "google generative ai",
    "ibm watsonx.ai": "ibm watsonx",
    "watsonx": "ibm watsonx",
    "watsonx.ai": "ibm watsonx",
    "ibm": "ibm watsonx",
    "huggingface": "hugging face",
    "hugging face inference api": "hugging face",
    "azure": "azure openai",
    "aws bedrock": "amazon bedrock",
    "bedrock": "amazon bedrock",
    "amazon bedrock converse": "amazon bedrock",
    "aiml api": "aiml",
    "ai/ml api": "aiml",
    "comet api": "cometapi",
    "litellm proxy": "litellm",
    "maritaca": "maritalk",
    "orca router": "orcarouter",
    "cloudflare": "cloudflare workers ai",
}


def normalise(name: str) -> str:
    return re.sub(r"[\s_-]+", " ", name or "").strip().casefold()


def find_provider(name: str) -> Provider | None:
    key = normalise(name)
    return PROVIDERS.get(ALIASES.get(key, key))


def provider_names() -> tuple[str, ...]:
    return tuple(p.name for p in PROVIDERS.values())
