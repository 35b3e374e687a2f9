"""Cohere's v2 API: `/v2/chat` (SSE events when streamed) and `/v2/embed`, bearer key."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

from flowless_engine.errors import ConfigurationError, ProviderError
from flowless_engine.http import HttpClient
from flowless_engine.llm._wire import loads_object, malformed, new_call_id, provider_errors, sse_data
from flowless_engine.llm.base import ChatMessage, ChatResult, ModelConfig, ToolCall, ToolSpec
from flowless_engine.schema import Usage

COHERE_BASE_URL = "https://api.cohere.com"
DEFAULT_MODEL = "command-r-plus-08-2024"
_FINISH_REASONS = {"COMPLETE": "stop", "STOP_SEQUENCE": "stop", "MAX_TOKENS": "length", "TOOL_CALL": "tool_calls", "ERROR": "error"}


def _base(base_url: str | None) -> str:
    return (base_url or COHERE_BASE_URL).rstrip("/").removesuffix("/v2").removesuffix("/v1")


class CohereChatModel:
    provider = "Cohere"

    def __init__(self, config: ModelConfig, http: HttpClient) -> None:
        if not config.api_key:
            raise ConfigurationError("Cohere API key is missing (COHERE_API_KEY)", provider=self.provider)
        self.model = config.model or DEFAULT_MODEL
        self.config = config
        self.http = http
        self.url = _base(config.base_url) + "/v2/chat"
        self.timeout: float | None = config.extra.get("timeout") or None

    async def complete(self, messages: list[ChatMessage], *, tools: list[ToolSpec] | None = None, json_schema: dict[str, Any] | None = None) -> ChatResult:
        body = self._body(messages, tools)
        if json_schema is not None:
            body["response_format"] = {"type": "json_object", "json_schema": json_schema}
        with provider_errors(self.provider):
            response = await self.http.request("POST", self.url, headers=self._headers(), json=body, timeout=self.timeout)
        payload = loads_object(self.provider, response.content)
        message = payload.get("message")
        if not isinstance(message, dict):
            raise malformed(self.provider, "no message")
        text = "".join(block.get("text") or "" for block in message.get("content") or [] if block.get("type") == "text")
        calls = [
            ToolCall(call.get("id") or new_call_id(), (call.get("function") or {}).get("name", ""), (call.get("function") or {}).get("arguments") or "{}")
            for call in message.get("tool_calls") or []
        ]
        reason = payload.get("finish_reason")
        return ChatResult(text, calls, _usage(payload.get("usage")), self.model, _FINISH_REASONS.get(reason, reason))

    async def stream(self, messages: list[ChatMessage], *, tools: list[ToolSpec] | None = None) -> AsyncIterator[str | ChatResult]:
        body = self._body(messages, tools)
        body["stream"] = True
        parts: list[str] = []
        calls: dict[int, dict[str, str]] = {}
        usage: Usage | None = None
        reason: str | None = None
        finished = False
        with provider_errors(self.provider):
            lines = self.http.stream_lines("POST", self.url, headers=self._headers(), json=body, timeout=self.timeout)
            async with aclosing(lines):
                async for data in sse_data(lines):
                    if data == "[DONE]":
                        continue
                    event = loads_object(self.provider, data)
                    kind = event.get("type")
                    delta = event.get("delta") or {}
                    message = delta.get("message") or {}
                    if kind == "content-delta":
                        text = (message.get("content") or {}).get("text") or ""
                        if text:
                            parts.append(text)
                            yield text
                    elif kind == "tool-call-start":
                        call = message.get("tool_calls") or {}
                        function = call.get("function") or {}
                        calls[event.get("index", len(calls))] = {"id": call.get("id") or new_call_id(), "name": function.get("name", ""), "arguments": function.get("arguments") or ""}
                    elif kind == "tool-call-delta":
                        piece = ((message.get("tool_calls") or {}).get("function") or {}).get("arguments") or ""
                        if event.get("index", 0) in calls:
                            calls[event.get("index", 0)]["arguments"] += piece
                    elif kind == "message-end":
                        reason = delta.get("finish_reason")
                        usage = _usage(delta.get("usage"))
                        finished = True
                        if reason == "ERROR":
                            raise ProviderError(f"{self.provider} stream failed: {delta.get('error') or 'error'}", provider=self.provider)
        if not finished:
            raise ProviderError(f"{self.provider} stream ended before the answer was complete", provider=self.provider, retryable=True)
        tool_calls = [ToolCall(c["id"], c["name"], c["arguments"] or "{}") for _, c in sorted(calls.items())]
        yield ChatResult("".join(parts), tool_calls, usage, self.model, _FINISH_REASONS.get(reason or "", reason))

    def _headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.config.api_key}", "accept": "application/json"}

    def _body(self, messages: list[ChatMessage], tools: list[ToolSpec] | None) -> dict[str, Any]:
        config = self.config
        body: dict[str, Any] = {"model": self.model, "messages": [_message(m) for m in messages]}
        if config.temperature is not None:
            body["temperature"] = config.temperature
        if config.max_tokens:
            body["max_tokens"] = config.max_tokens
        for key, wire in (("top_p", "p"), ("top_k", "k"), ("seed", "seed")):
            if config.extra.get(key) is not None:
                body[wire] = config.extra[key]
        if tools:
            body["tools"] = [t.as_function() for t in tools]
        return body


def _message(message: ChatMessage) -> dict[str, Any]:
    if message.role == "tool":
        return {"role": "tool", "tool_call_id": message.tool_call_id or "", "content": message.content or ""}
    if message.role == "assistant" and message.tool_calls:
        out: dict[str, Any] = {
            "role": "assistant",
            "tool_calls": [{"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}} for c in message.tool_calls],
        }
        if message.content:
            out["tool_plan"] = message.content
        return out
    if message.images and message.role == "user":
        parts: list[dict[str, Any]] = [{"type": "text", "text": message.content}] if message.content else []
        parts += [{"type": "image_url", "image_url": {"url": url}} for url in message.images]
        return {"role": "user", "content": parts}
    return {"role": message.role, "content": message.content or ""}


def _usage(raw: Any) -> Usage | None:
    if not isinstance(raw, dict):
        return None
    counts = raw.get("tokens") or raw.get("billed_units") or {}
    prompt = int(counts.get("input_tokens") or 0)
    completion = int(counts.get("output_tokens") or 0)
    return Usage(prompt, completion, prompt + completion)


class CohereEmbeddings:
    """`/v2/embed`: up to 96 texts a request, float vectors."""

    provider = "Cohere"
    batch_size = 96

    def __init__(self, config: Any, http: HttpClient) -> None:
        if not config.api_key:
            raise ConfigurationError("Cohere API key is missing (COHERE_API_KEY)", provider=self.provider)
        self.model = config.model
        self.config = config
        self.http = http
        self.url = _base(config.base_url) + "/v2/embed"

    async def embed_batch(self, texts: list[str], query: bool) -> list[list[float]]:
        body: dict[str, Any] = {
            "model": self.model,
            "texts": texts,
            "input_type": "search_query" if query else "search_document",
            "embedding_types": ["float"],
        }
        if self.config.extra.get("truncate"):
            body["truncate"] = str(self.config.extra["truncate"]).upper()
        if self.config.dimensions:
            body["output_dimension"] = self.config.dimensions
        headers = {"authorization": f"Bearer {self.config.api_key}"}
        if self.config.extra.get("user_agent"):
            headers["x-client-name"] = str(self.config.extra["user_agent"])
        with provider_errors(self.provider):
            response = await self.http.request("POST", self.url, headers=headers, json=body, timeout=self.config.timeout)
        payload = loads_object(self.provider, response.content)
        embeddings = payload.get("embeddings")
        if isinstance(embeddings, dict):
            embeddings = embeddings.get("float")
        if not isinstance(embeddings, list):
            raise malformed(self.provider, "no embeddings")
        return [[float(x) for x in vector] for vector in embeddings]

