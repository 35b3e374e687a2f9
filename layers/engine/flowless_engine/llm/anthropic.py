"""Anthropic Messages API. Structured output is obtained by forcing a tool whose input is the schema."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

from flowless_engine.errors import ConfigurationError, ProviderError
from flowless_engine.http import HttpClient
from flowless_engine.llm._wire import (
    alternating_turns,
    loads_object,
    malformed,
    new_call_id,
    parse_arguments,
    provider_errors,
    schema_tool_name,
    split_data_url,
    sse_data,
)
from flowless_engine.llm.base import ChatMessage, ChatResult, ModelConfig, ToolCall, ToolSpec
from flowless_engine.schema import Usage

ANTHROPIC_BASE_URL = "https://api.anthropic.com"
API_VERSION = "2023-06-01"
# The API requires max_tokens; used when the flow leaves it unset.
DEFAULT_MAX_TOKENS = 4096
# Anthropic's stop reasons in the OpenAI vocabulary the other providers use.
_FINISH_REASONS = {"end_turn": "stop", "stop_sequence": "stop", "tool_use": "tool_calls", "max_tokens": "length"}


class AnthropicChatModel:
    provider = "Anthropic"

    def __init__(self, config: ModelConfig, http: HttpClient) -> None:
        if not config.api_key and not config.base_url:
            raise ConfigurationError("Anthropic API key is missing", provider=self.provider)
        base = (config.base_url or ANTHROPIC_BASE_URL).rstrip("/")
        base = base.removesuffix("/v1")  # accept the base with or without the version segment
        self.model = config.model
        self.config = config
        self.http = http
        self.url = base + "/v1/messages"
        self.timeout: float | None = config.extra.get("timeout") or None

    async def complete(self, messages: list[ChatMessage], *, tools: list[ToolSpec] | None = None, json_schema: dict[str, Any] | None = None) -> ChatResult:
        body = self._body(messages, tools)
        forced = None
        if json_schema is not None:
            forced = schema_tool_name(json_schema)
            body["tools"] = [{"name": forced, "description": "Answer with this structure.", "input_schema": json_schema}]
            body["tool_choice"] = {"type": "tool", "name": forced}
        with provider_errors(self.provider):
            response = await self.http.request("POST", self.url, headers=self._headers(), json=body, timeout=self.timeout)
        payload = loads_object(self.provider, response.content)
        if not isinstance(payload.get("content"), list):
            raise malformed(self.provider, "no content blocks")
        texts: list[str] = []
        calls: list[ToolCall] = []
        for block in payload["content"]:
            if block.get("type") == "text":
                texts.append(block.get("text") or "")
            elif block.get("type") == "tool_use":
                if block.get("name") == forced:
                    texts.append(json.dumps(block.get("input") or {}))
                else:
                    calls.append(ToolCall(block.get("id") or new_call_id("toolu"), block.get("name", ""), json.dumps(block.get("input") or {})))
        stop = payload.get("stop_reason")
        return ChatResult(
            text="".join(texts),
            tool_calls=calls,
            usage=_usage(payload.get("usage") or {}),
            model=payload.get("model") or self.model,
            finish_reason="stop" if forced else _FINISH_REASONS.get(stop, stop),
        )

    async def stream(self, messages: list[ChatMessage], *, tools: list[ToolSpec] | None = None) -> AsyncIterator[str | ChatResult]:
        body = self._body(messages, tools)
        body["stream"] = True
        parts: list[str] = []
        blocks: dict[int, dict[str, str]] = {}  # tool_use blocks by content index
        usage_raw: dict[str, Any] = {}
        model = self.model
        stop: str | None = None
        finished = False
        with provider_errors(self.provider):
            lines = self.http.stream_lines("POST", self.url, headers=self._headers(), json=body, timeout=self.timeout)
            async with aclosing(lines):
                async for data in sse_data(lines):
                    event = loads_object(self.provider, data)
                    kind = event.get("type")
                    if kind == "message_start":
                        message = event.get("message") or {}
                        model = message.get("model") or model
                        usage_raw.update(message.get("usage") or {})
                    elif kind == "content_block_start":
                        block = event.get("content_block") or {}
                        if block.get("type") == "tool_use":
                            blocks[event.get("index", 0)] = {"id": block.get("id") or new_call_id("toolu"), "name": block.get("name", ""), "arguments": ""}
                    elif kind == "content_block_delta":
                        delta = event.get("delta") or {}
                        if delta.get("type") == "text_delta" and delta.get("text"):
                            parts.append(delta["text"])
                            yield delta["text"]
                        elif delta.get("type") == "input_json_delta" and event.get("index", 0) in blocks:
                            blocks[event.get("index", 0)]["arguments"] += delta.get("partial_json") or ""
                    elif kind == "message_delta":
                        stop = (event.get("delta") or {}).get("stop_reason") or stop
                        usage_raw.update(event.get("usage") or {})
                    elif kind == "message_stop":
                        finished = True  # nothing follows; reading on lets the connection be reused
                    elif kind == "error":
                        error = event.get("error") or {}
                        raise ProviderError(f"Anthropic stream failed: {error.get('message') or error}", provider=self.provider)
        if not finished:
            raise ProviderError("Anthropic stream ended before the answer was complete", provider=self.provider, retryable=True)
        calls = [ToolCall(b["id"], b["name"], b["arguments"] or "{}") for _, b in sorted(blocks.items())]
        yield ChatResult("".join(parts), calls, _usage(usage_raw), model, _FINISH_REASONS.get(stop or "", stop))

    def _headers(self) -> dict[str, str]:
        headers = {"anthropic-version": API_VERSION}
        if self.config.api_key:
            headers["x-api-key"] = self.config.api_key
        return headers

    def _body(self, messages: list[ChatMessage], tools: list[ToolSpec] | None) -> dict[str, Any]:
        system = "\n\n".join(m.content for m in messages if m.role == "system" and m.content)
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": self.config.max_tokens or DEFAULT_MAX_TOKENS,
            "messages": alternating_turns((m for m in messages if m.role != "system"), _blocks),
        }
        if system:
            body["system"] = system
        if self.config.temperature is not None:
            body["temperature"] = self.config.temperature
        if tools:
            body["tools"] = [{"name": t.name, "description": t.description, "input_schema": t.parameters} for t in tools]
            body["tool_choice"] = {"type": "auto"}
        return body


def _blocks(message: ChatMessage) -> list[dict[str, Any]]:
    if message.role == "tool":
        return [{"type": "tool_result", "tool_use_id": message.tool_call_id or "", "content": message.content or ""}]
    blocks: list[dict[str, Any]] = [_image(url) for url in message.images]
    if message.content:
        blocks.append({"type": "text", "text": message.content})
    blocks += [
        {"type": "tool_use", "id": c.id, "name": c.name, "input": parse_arguments(c.arguments)}
        for c in message.tool_calls
    ]
    return blocks


def _image(url: str) -> dict[str, Any]:
    inline = split_data_url(url)
    if inline is None:
        return {"type": "image", "source": {"type": "url", "url": url}}
    media_type, data = inline
    return {"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}}


def _usage(raw: dict[str, Any]) -> Usage:
    # Cached prompt tokens are reported apart from input_tokens; they are input all the same.
    prompt = sum(int(raw.get(k) or 0) for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"))
    completion = int(raw.get("output_tokens") or 0)
    return Usage(prompt, completion, prompt + completion)
