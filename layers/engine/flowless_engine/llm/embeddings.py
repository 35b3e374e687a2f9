"""Text embeddings: OpenAI-compatible `/embeddings`, Amazon Bedrock (Titan, Cohere) and Ollama
(`/api/embed`).

Texts are sent in batches of `batch_size`, a few batches at a time (`concurrency`), and come back
in input order. HTTP retries (429, 5xx, dropped connections) are the shared HttpClient's;
Bedrock's are botocore's. Credentials and base URLs resolve like the chat models': an explicit
value, then the tenant's variable (OPENAI_API_KEY / OPENAI_BASE_URL...), then, for base URLs, the
environment (`resolve_embedding_config`).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from flowless_engine.errors import ConfigurationError, ProviderError
from flowless_engine.http import HttpClient
from flowless_engine.llm._wire import loads_object, malformed, provider_errors

DEFAULT_EMBEDDING_PROVIDER = "OpenAI"
DEFAULT_EMBEDDING_MODEL = "text-embedding-3-small"
OLLAMA_BASE_URL = "http://localhost:11434"

_BEDROCK = frozenset({"amazon bedrock", "aws bedrock", "bedrock", "amazon bedrock converse"})
# protocol → (module, class) of the embedders that are not OpenAI-shaped; each has
# `embed_batch(texts, query)` and a `batch_size`, and is batched by `_Protocol`.
_EMBEDDERS: dict[str, tuple[str, str]] = {
    "gemini": ("flowless_engine.llm.gemini", "GeminiEmbeddings"),
    "vertex": ("flowless_engine.llm.vertex", "VertexEmbeddings"),
    "cohere": ("flowless_engine.llm.cohere", "CohereEmbeddings"),
    "watsonx": ("flowless_engine.llm.watsonx", "WatsonxEmbeddings"),
    "huggingface": ("flowless_engine.llm.huggingface", "HuggingFaceEmbeddings"),
    "cloudflare": ("flowless_engine.llm.cloudflare", "CloudflareEmbeddings"),
}


@dataclass
class EmbeddingConfig:
    """Which embedding model to call, and how. Wired between components as the `Embeddings` value;
    its credentials never show in results (they are left out of the repr)."""

    provider: str
    model: str
    api_key: str | None = field(default=None, repr=False)
    base_url: str | None = None
    dimensions: int | None = None
    batch_size: int = 100  # texts per request (Langflow's `chunk_size`)
    concurrency: int = 4  # requests in flight at once
    timeout: float | None = None
    extra: dict[str, Any] = field(default_factory=dict, repr=False)  # region, endpoint_url, AWS credentials

    @property
    def identity(self) -> str:
        """What makes two configs produce comparable vectors: provider, model, dimensions."""
        key = f"{self.provider}/{self.model}"
        return f"{key}/{self.dimensions}" if self.dimensions else key


class Embeddings(Protocol):
    provider: str
    model: str

    async def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text, in order."""

    async def embed_query(self, text: str) -> list[float]:
        """The vector of a search query."""


def normalise_provider(name: str) -> str:
    return re.sub(r"[\s_-]+", " ", name or "").strip().casefold()


async def resolve_embedding_config(
    provider: str | None,
    model: str | None,
    lookup: Callable[[str], Awaitable[str | None]],
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    dimensions: int | None = None,
    batch_size: int | None = None,
    timeout: float | None = None,
    extra: dict[str, Any] | None = None,
) -> EmbeddingConfig:
    """An EmbeddingConfig with credentials filled in. `lookup(name)` reads a tenant variable."""
    from flowless_engine.llm.providers import find_provider

    provider = provider or DEFAULT_EMBEDDING_PROVIDER
    known = find_provider(provider)
    key_var, url_var = (known.key_variable, known.url_variable) if known else ("", "")
    if not api_key and key_var:
        api_key = await lookup(key_var)
    if not base_url and url_var:
        base_url = await lookup(url_var) or os.environ.get(url_var) or None
    extra = dict(extra or {})
    if known is not None and known.protocol == "watsonx" and not extra.get("project_id"):
        extra["project_id"] = await lookup("WATSONX_PROJECT_ID")  # a knowledge base names no project
    return EmbeddingConfig(
        provider=provider,
        model=model or DEFAULT_EMBEDDING_MODEL,
        api_key=api_key or None,
        base_url=base_url or None,
        dimensions=dimensions or None,
        batch_size=max(1, int(batch_size)) if batch_size else 100,
        timeout=timeout or None,
        extra=extra,
    )


def is_supported_provider(provider: str) -> bool:
    from flowless_engine.llm.providers import find_provider

    known = find_provider(provider)
    return known is not None and (known.protocol in ("openai", "azure", "ollama", "bedrock") or known.protocol in _EMBEDDERS)


def get_embeddings(config: EmbeddingConfig, http: HttpClient) -> Embeddings:
    import importlib

    from flowless_engine.llm.providers import find_provider

    known = find_provider(config.provider)
    protocol = known.protocol if known else ""
    if protocol == "openai":
        assert known is not None
        return OpenAIEmbeddings(config, http, provider=known.name, default_base_url=known.base_url, key_required=known.key_required)
    if protocol == "azure":
        return AzureOpenAIEmbeddings(config, http)
    if protocol == "ollama":
        return OllamaEmbeddings(config, http)
    if protocol == "bedrock":
        return BedrockEmbeddings(config, http)
    if protocol == "fake":
        return FakeEmbeddings(config)
    if protocol in _EMBEDDERS:
        module, cls = _EMBEDDERS[protocol]
        return _Protocol(getattr(importlib.import_module(module), cls)(config, http), config)
    raise ConfigurationError(
        f"Embedding provider '{config.provider}' is not supported by Flowless; supported: OpenAI and OpenAI-compatible services "
        "(Azure OpenAI, Mistral, NVIDIA, LM Studio...), Google Generative AI, Cohere, IBM watsonx.ai, Hugging Face, Amazon Bedrock, Ollama",
        provider=config.provider,
    )


class _Batched:
    """Batching, bounded concurrency and order for providers that embed a list per request."""

    config: EmbeddingConfig
    provider: str
    batch_size: int = 0  # texts per request when the provider caps it (else the config's)

    async def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        return await self._embed(texts, query=False)

    async def embed_query(self, text: str) -> list[float]:
        return (await self._embed([text], query=True))[0]

    async def _embed(self, texts: Sequence[str], *, query: bool) -> list[list[float]]:
        if not texts:
            return []
        size = max(1, self.batch_size or self.config.batch_size)
        batches = [list(texts[i : i + size]) for i in range(0, len(texts), size)]
        gate = asyncio.Semaphore(max(1, self.config.concurrency))

        async def run(batch: list[str]) -> list[list[float]]:
            async with gate:
                vectors = await self._embed_batch(batch, query)
            if len(vectors) != len(batch):
                raise malformed(self.provider, f"{len(vectors)} embeddings for {len(batch)} texts")
            return vectors

        results = await asyncio.gather(*(run(b) for b in batches))
        return [vector for batch in results for vector in batch]

    async def _embed_batch(self, texts: list[str], query: bool) -> list[list[float]]:
        raise NotImplementedError


class _Protocol(_Batched):
    """Batching for an embedder that speaks its own protocol (Gemini, Cohere, watsonx, Hugging Face)."""

    def __init__(self, embedder: Any, config: EmbeddingConfig) -> None:
        self.embedder = embedder
        self.provider = embedder.provider
        self.model = embedder.model
        self.config = config
        self.batch_size = min(embedder.batch_size, config.batch_size)

    async def _embed_batch(self, texts: list[str], query: bool) -> list[list[float]]:
        return await self.embedder.embed_batch(texts, query)


class OpenAIEmbeddings(_Batched):
    def __init__(
        self,
        config: EmbeddingConfig,
        http: HttpClient,
        *,
        provider: str = "OpenAI",
        default_base_url: str | None = "https://api.openai.com/v1",
        key_required: bool = True,
    ) -> None:
        base_url = config.base_url or default_base_url
        if not base_url:
            raise ConfigurationError(f"{provider} embeddings need a base URL", provider=provider)
        if key_required and not config.api_key and base_url == default_base_url:
            raise ConfigurationError(f"{provider} API key is missing", provider=provider)
        self.provider = provider
        self.model = config.model
        self.config = config
        self.http = http
        self.url = base_url.rstrip("/") + "/embeddings"

    async def _embed_batch(self, texts: list[str], query: bool) -> list[list[float]]:
        # OpenAI refuses empty strings; a blank keeps positions aligned.
        body: dict[str, Any] = {"model": self.model, "input": [t if t.strip() else " " for t in texts], "encoding_format": "float"}
        if self.config.dimensions:
            body["dimensions"] = self.config.dimensions
        with provider_errors(self.provider):
            response = await self.http.request("POST", self.url, headers=self._headers(), json=body, timeout=self.config.timeout)
        payload = loads_object(self.provider, response.content)
        try:
            rows = sorted(payload["data"], key=lambda row: row.get("index", 0))
            return [[float(x) for x in row["embedding"]] for row in rows]
        except (KeyError, TypeError, ValueError) as exc:
            raise malformed(self.provider, f"no embeddings ({exc!r})") from exc

    def _headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.config.api_key}"} if self.config.api_key else {}


class AzureOpenAIEmbeddings(OpenAIEmbeddings):
    """Azure OpenAI: the deployment in the URL, the API version in the query, the key in `api-key`."""

    def __init__(self, config: EmbeddingConfig, http: HttpClient) -> None:
        from urllib.parse import quote

        from flowless_engine.llm.openai_compat import AZURE_API_VERSION

        provider = "Azure OpenAI"
        endpoint = (config.base_url or "").rstrip("/").removesuffix("/openai")
        deployment = config.extra.get("deployment") or config.model
        if not endpoint or not deployment:
            raise ConfigurationError(f"{provider} embeddings need an endpoint and a deployment name", provider=provider)
        if not config.api_key:
            raise ConfigurationError(f"{provider} API key is missing", provider=provider)
        super().__init__(config, http, provider=provider, default_base_url=endpoint)
        version = config.extra.get("api_version") or AZURE_API_VERSION
        self.url = f"{endpoint}/openai/deployments/{quote(deployment, safe='')}/embeddings?api-version={quote(version)}"

    def _headers(self) -> dict[str, str]:
        return {"api-key": self.config.api_key or ""}


class FakeEmbeddings(_Batched):
    """Langflow's "Fake Embeddings" node: vectors for wiring and testing flows, no model. Each is
    a hashed bag of the text's words, normalised (equal texts, equal vectors), `dimensions` long."""

    provider = "Fake Embeddings"

    def __init__(self, config: EmbeddingConfig) -> None:
        self.model = config.model
        self.config = config

    async def _embed_batch(self, texts: list[str], query: bool) -> list[list[float]]:
        import hashlib
        import math

        size = max(1, self.config.dimensions or 5)
        vectors = []
        for text in texts:
            vector = [0.0] * size
            for word in re.findall(r"\w+", text.lower()):
                digest = hashlib.sha256(word.encode()).digest()
                vector[int.from_bytes(digest[:4], "little") % size] += 1.0 if digest[4] & 1 else -1.0
            norm = math.sqrt(sum(v * v for v in vector)) or 1.0
            vectors.append([v / norm for v in vector])
        return vectors


class OllamaEmbeddings(_Batched):
    provider = "Ollama"

    def __init__(self, config: EmbeddingConfig, http: HttpClient) -> None:
        base = (config.base_url or OLLAMA_BASE_URL).rstrip("/").removesuffix("/v1").removesuffix("/api")
        self.model = config.model
        self.config = config
        self.http = http
        self.url = base + "/api/embed"

    async def _embed_batch(self, texts: list[str], query: bool) -> list[list[float]]:
        body: dict[str, Any] = {"model": self.model, "input": texts}
        if self.config.dimensions:
            body["dimensions"] = self.config.dimensions
        headers = {"authorization": f"Bearer {self.config.api_key}"} if self.config.api_key else {}
        with provider_errors(self.provider):
            response = await self.http.request("POST", self.url, headers=headers, json=body, timeout=self.config.timeout)
        payload = loads_object(self.provider, response.content)
        if "error" in payload:
            raise ProviderError(f"Ollama failed: {payload['error']}", provider=self.provider)
        embeddings = payload.get("embeddings")
        if not isinstance(embeddings, list):
            raise malformed(self.provider, "no embeddings")
        return [[float(x) for x in vector] for vector in embeddings]


class BedrockEmbeddings(_Batched):
    """Titan text embeddings (one text per call) and Cohere embed models (a batch per call) through
    InvokeModel. botocore blocks, so calls run in worker threads, `concurrency` at a time."""

    provider = "Amazon Bedrock"

    def __init__(self, config: EmbeddingConfig, http: HttpClient, *, client: Any = None) -> None:
        from flowless_engine.llm.base import ModelConfig
        from flowless_engine.llm.bedrock import BedrockChatModel

        self.model = config.model
        self.config = config
        self.cohere = config.model.split(".", 1)[-1].startswith("cohere") or config.model.startswith("cohere")
        self.batch_size = min(96, config.batch_size) if self.cohere else 1  # Cohere takes up to 96 texts per call, Titan one
        # The chat model owns region resolution, the SSRF check of a custom endpoint and the client cache.
        self._runtime = BedrockChatModel(ModelConfig(self.provider, config.model, extra=config.extra), http, client=client)

    async def _embed_batch(self, texts: list[str], query: bool) -> list[list[float]]:
        from flowless_engine.llm.bedrock import _botocore_errors

        client = await self._runtime._get_client()
        if self.cohere:
            body: dict[str, Any] = {"texts": texts, "input_type": "search_query" if query else "search_document", "truncate": "END"}
        else:
            body = {"inputText": texts[0]}
            if self.model.startswith("amazon.titan-embed-text-v2"):
                body["normalize"] = True
                if self.config.dimensions:
                    body["dimensions"] = self.config.dimensions
        with _botocore_errors():
            response = await asyncio.to_thread(
                client.invoke_model, modelId=self.model, body=json.dumps(body), contentType="application/json", accept="application/json"
            )
            raw = await asyncio.to_thread(response["body"].read)
        payload = loads_object(self.provider, raw)
        if self.cohere:
            embeddings = payload.get("embeddings")
            if isinstance(embeddings, dict):  # embedding_types requested: float vectors under "float"
                embeddings = embeddings.get("float")
            if not isinstance(embeddings, list):
                raise malformed(self.provider, "no embeddings")
            return [[float(x) for x in vector] for vector in embeddings]
        vector = payload.get("embedding")
        if not isinstance(vector, list):
            raise malformed(self.provider, "no embedding")
        return [[float(x) for x in vector]]


__all__ = [
    "DEFAULT_EMBEDDING_MODEL",
    "DEFAULT_EMBEDDING_PROVIDER",
    "EmbeddingConfig",
    "Embeddings",
    "get_embeddings",
    "resolve_embedding_config",
]
