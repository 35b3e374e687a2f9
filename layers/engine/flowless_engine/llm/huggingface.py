"""Hugging Face inference. Models on the Hub go through the Inference Providers router, which
speaks OpenAI Chat Completions (`https://router.huggingface.co/v1`: tools, streaming, usage). A
dedicated endpoint or a self-hosted Text Generation Inference server gets the text-generation
protocol Langflow's node uses: `{"inputs": prompt, "parameters": {...}}` answered by
`[{"generated_text": ...}]`, or token events when streamed. Embeddings: feature extraction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any
from urllib.parse import quote, urlsplit

from flowless_engine.errors import ProviderError
from flowless_engine.http import HttpClient
from flowless_engine.llm._wire import loads_object, malformed, provider_errors, sse_data
from flowless_engine.llm.base import ChatMessage, ChatResult, ModelConfig, ToolSpec
from flowless_engine.schema import Usage

PROVIDER = "Hugging Face"
ROUTER_CHAT_URL = "https://router.huggingface.co/v1"
ROUTER_INFERENCE_URL = "https://router.huggingface.co/hf-inference/models"
# Langflow's text-generation parameters (its field names are the wire's).
_PARAMETERS = ("top_k", "top_p", "typical_p", "repetition_penalty")


def is_hub(url: str | None) -> bool:
    """Whether `url` is the Hub's serverless API (not a dedicated endpoint or a local server)."""
    host = (urlsplit(url or "").hostname or "").lower()
    return not url or host == "huggingface.co" or host.endswith(".huggingface.co")


def feature_extraction_url(endpoint: str | None, model: str) -> str:
    if is_hub(endpoint):
        return f"{ROUTER_INFERENCE_URL}/{quote(model, safe='/-._')}/pipeline/feature-extraction"
    return (endpoint or "").rstrip("/")


class HuggingFaceChatModel:
    provider = PROVIDER

    def __init__(self, config: ModelConfig, http: HttpClient) -> None:
        self.model = config.model
        self.config = config
        self.http = http
        self.timeout: float | None = config.extra.get("timeout") or None
        self._router: Any = None
        if is_hub(config.base_url):
            from flowless_engine.llm.openai_compat import OpenAICompatChatModel

            hub = ModelConfig(PROVIDER, config.model, config.api_key, ROUTER_CHAT_URL, config.temperature, config.max_tokens,
                              {**config.extra, "body": {k: config.extra[k] for k in ("top_p",) if config.extra.get(k) is not None}})
            self._router = OpenAICompatChatModel(hub, http, provider=PROVIDER, default_base_url=ROUTER_CHAT_URL)
        self.url = (config.base_url or "").rstrip("/")

    async def complete(self, messages: list[ChatMessage], *, tools: list[ToolSpec] | None = None, json_schema: dict[str, Any] | None = None) -> ChatResult:
        if self._router is not None:
            return await self._router.complete(messages, tools=tools, json_schema=json_schema)
        body = self._body(messages, stream=False)
        with provider_errors(self.provider):
            response = await self.http.request("POST", self.url, headers=self._headers(), json=body, timeout=self.timeout)
        try:
            payload = response.json()
            first = payload[0] if isinstance(payload, list) else payload
            text = first.get("generated_text", first.get("summary_text", first.get("translation_text")))
        except (ValueError, IndexError, KeyError, TypeError, AttributeError) as exc:
            raise malformed(self.provider, f"no generated_text ({exc!r})") from exc
        if not isinstance(text, str):
            raise malformed(self.provider, "no generated_text")
        details = first.get("details") or {}
        return ChatResult(text, [], _usage(details, text), self.model, details.get("finish_reason") or "stop")

    async def stream(self, messages: list[ChatMessage], *, tools: list[ToolSpec] | None = None) -> AsyncIterator[str | ChatResult]:
        if self._router is not None:
            async for item in self._router.stream(messages, tools=tools):
                yield item
            return
        body = self._body(messages, stream=True)
        parts: list[str] = []
        final: dict[str, Any] | None = None
        with provider_errors(self.provider):
            lines = self.http.stream_lines("POST", self.url, headers=self._headers(), json=body, timeout=self.timeout)
            async with aclosing(lines):
                async for data in sse_data(lines):
                    event = loads_object(self.provider, data)
                    if "error" in event:
                        raise ProviderError(f"{self.provider} stream failed: {event['error']}", provider=self.provider)
                    token = event.get("token") or {}
                    if token.get("text") and not token.get("special"):
                        parts.append(token["text"])
                        yield token["text"]
                    if event.get("generated_text") is not None:
                        final = event
        if final is None:
            raise ProviderError(f"{self.provider} stream ended before the answer was complete", provider=self.provider, retryable=True)
        text = "".join(parts)
        details = final.get("details") or {}
        yield ChatResult(text, [], _usage(details, text), self.model, details.get("finish_reason") or "stop")

    def _headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.config.api_key}"} if self.config.api_key else {}

    def _body(self, messages: list[ChatMessage], *, stream: bool) -> dict[str, Any]:
        config = self.config
        parameters: dict[str, Any] = {"return_full_text": False, "details": True}
        if config.temperature is not None and config.temperature > 0:
            parameters["temperature"] = config.temperature
        if config.max_tokens:
            parameters["max_new_tokens"] = config.max_tokens
        for key in _PARAMETERS:
            if config.extra.get(key) is not None:
                parameters[key] = config.extra[key]
        parameters.update(config.extra.get("model_kwargs") or {})
        return {"inputs": _prompt(messages), "parameters": parameters, "stream": stream}


def _prompt(messages: list[ChatMessage]) -> str:
    """A text-generation model takes one prompt: a lone user message as is, else a transcript."""
    if len(messages) == 1 and messages[0].role == "user":
        return messages[0].content or ""
    names = {"system": "System", "user": "User", "assistant": "Assistant", "tool": "Tool"}
    lines = [f"{names.get(m.role, m.role)}: {m.content or ''}" for m in messages]
    return "\n".join(lines) + "\nAssistant:"


def _usage(details: dict[str, Any], text: str) -> Usage | None:
    generated = details.get("generated_tokens")
    if not isinstance(generated, int):
        return None
    prompt = len(details.get("prefill") or [])
    return Usage(prompt, generated, prompt + generated)


class HuggingFaceEmbeddings:
    """Feature extraction: `{"inputs": [texts]}` answered by one vector per text."""

    provider = PROVIDER
    batch_size = 32

    def __init__(self, config: Any, http: HttpClient) -> None:
        self.model = config.model
        self.config = config
        self.http = http
        self.url = feature_extraction_url(config.base_url, config.model)

    async def embed_batch(self, texts: list[str], query: bool) -> list[list[float]]:
        headers = {"authorization": f"Bearer {self.config.api_key}"} if self.config.api_key else {}
        with provider_errors(self.provider):
            response = await self.http.request("POST", self.url, headers=headers, json={"inputs": texts}, timeout=self.config.timeout)
        try:
            vectors = response.json()
        except ValueError as exc:
            raise malformed(self.provider, "invalid JSON") from exc
        if isinstance(vectors, dict) and "error" in vectors:
            raise ProviderError(f"{self.provider} failed: {vectors['error']}", provider=self.provider)
        if not isinstance(vectors, list):
            raise malformed(self.provider, "no embeddings")
        return [_pooled(v) for v in vectors]


def _pooled(vector: Any) -> list[float]:
    """A sentence vector; a model without pooling answers per-token vectors, averaged here."""
    if isinstance(vector, list) and vector and isinstance(vector[0], list):
        rows = [row for row in vector if isinstance(row, list)]
        return [sum(float(r[i]) for r in rows) / len(rows) for i in range(len(rows[0]))]
    if not isinstance(vector, list):
        raise malformed(PROVIDER, "an embedding is not a list")
    return [float(x) for x in vector]
