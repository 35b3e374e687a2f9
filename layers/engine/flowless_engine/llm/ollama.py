"""Ollama's native chat API (`/api/chat`), streamed as NDJSON."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

from flowless_engine.errors import ProviderError
from flowless_engine.http import HttpClient
from flowless_engine.llm._wire import loads_object, new_call_id, parse_arguments, provider_errors, split_data_url
from flowless_engine.llm.base import ChatMessage, ChatResult, ModelConfig, ToolCall, ToolSpec
from flowless_engine.schema import Usage

OLLAMA_BASE_URL = "http://localhost:11434"


class OllamaChatModel:
    provider = "Ollama"

    def __init__(self, config: ModelConfig, http: HttpClient) -> None:
        base = (config.base_url or OLLAMA_BASE_URL).rstrip("/")
        # People often paste the OpenAI-compatible address; the native API lives beside it.
        base = base.removesuffix("/v1").removesuffix("/api")
        self.model = config.model
        self.config = config
        self.http = http
        self.url = base + "/api/chat"
        self.timeout: float | None = config.extra.get("timeout") or None

    async def complete(self, messages: list[ChatMessage], *, tools: list[ToolSpec] | None = None, json_schema: dict[str, Any] | None = None) -> ChatResult:
        body = self._body(messages, tools, stream=False)
        if json_schema is not None:
            body["format"] = json_schema
        with provider_errors(self.provider):
            response = await self.http.request("POST", self.url, headers=self._headers(), json=body, timeout=self.timeout)
        payload = loads_object(self.provider, response.content)
        if "error" in payload:
            raise ProviderError(f"Ollama failed: {payload['error']}", provider=self.provider)
        message = payload.get("message") or {}
        return ChatResult(
            text=message.get("content") or "",
            tool_calls=_tool_calls(message),
            usage=_usage(payload),
            model=payload.get("model") or self.model,
            finish_reason=_finish_reason(payload, message),
        )

    async def stream(self, messages: list[ChatMessage], *, tools: list[ToolSpec] | None = None) -> AsyncIterator[str | ChatResult]:
        body = self._body(messages, tools, stream=True)
        parts: list[str] = []
        calls: list[ToolCall] = []
        final: dict[str, Any] | None = None
        with provider_errors(self.provider):
            lines = self.http.stream_lines("POST", self.url, headers=self._headers(), json=body, timeout=self.timeout)
            async with aclosing(lines):
                async for line in lines:
                    if not line.strip():
                        continue
                    chunk = loads_object(self.provider, line)
                    if "error" in chunk:
                        raise ProviderError(f"Ollama stream failed: {chunk['error']}", provider=self.provider)
                    message = chunk.get("message") or {}
                    if text := message.get("content"):
                        parts.append(text)
                        yield text
                    calls += _tool_calls(message)
                    if chunk.get("done"):
                        final = chunk  # the last line; reading on lets the connection be reused
        if final is None:
            raise ProviderError("Ollama stream ended before the answer was complete", provider=self.provider, retryable=True)
        finish = "tool_calls" if calls else final.get("done_reason") or "stop"
        yield ChatResult("".join(parts), calls, _usage(final), final.get("model") or self.model, finish)

    def _headers(self) -> dict[str, str]:
        # Local Ollama needs no key; hosted Ollama takes a bearer token.
        return {"authorization": f"Bearer {self.config.api_key}"} if self.config.api_key else {}

    def _body(self, messages: list[ChatMessage], tools: list[ToolSpec] | None, *, stream: bool) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model, "messages": [_message(m) for m in messages], "stream": stream}
        options: dict[str, Any] = {}
        if self.config.temperature is not None:
            options["temperature"] = self.config.temperature
        if self.config.max_tokens:
            options["num_predict"] = self.config.max_tokens
        options.update(self.config.extra.get("options") or {})  # the node's mirostat, num_ctx, top_k...
        if options:
            body["options"] = options
        if self.config.extra.get("format") is not None:  # the node's structured output: "json" or a schema
            body["format"] = self.config.extra["format"]
        if tools:
            body["tools"] = [t.as_function() for t in tools]
        return body


def _message(message: ChatMessage) -> dict[str, Any]:
    out: dict[str, Any] = {"role": message.role, "content": message.content or ""}
    if message.role == "tool" and message.name:
        out["tool_name"] = message.name
    if message.images:
        # Ollama takes bare base64 payloads, not data URLs.
        out["images"] = [inline[1] if (inline := split_data_url(url)) else url for url in message.images]
    if message.tool_calls:
        out["tool_calls"] = [{"function": {"name": c.name, "arguments": parse_arguments(c.arguments)}} for c in message.tool_calls]
    return out


def _tool_calls(message: dict[str, Any]) -> list[ToolCall]:
    calls = []
    for raw in message.get("tool_calls") or []:
        function = raw.get("function") or {}
        arguments = function.get("arguments")
        calls.append(ToolCall(
            id=raw.get("id") or new_call_id(),  # Ollama gives no ids; the agent loop needs them
            name=function.get("name", ""),
            arguments=arguments if isinstance(arguments, str) else json.dumps(arguments or {}),
        ))
    return calls


def _finish_reason(payload: dict[str, Any], message: dict[str, Any]) -> str:
    return "tool_calls" if message.get("tool_calls") else payload.get("done_reason") or "stop"


def _usage(payload: dict[str, Any]) -> Usage:
    prompt = int(payload.get("prompt_eval_count") or 0)
    completion = int(payload.get("eval_count") or 0)
    return Usage(prompt, completion, prompt + completion)
