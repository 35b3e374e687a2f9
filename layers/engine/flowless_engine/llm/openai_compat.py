"""OpenAI Chat Completions, and every server that speaks it (Groq, DeepSeek, vLLM...)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any
from urllib.parse import quote

from flowless_engine.errors import ConfigurationError, ProviderError
from flowless_engine.http import HttpClient
from flowless_engine.llm._wire import loads_object, malformed, new_call_id, provider_errors, schema_tool_name, sse_data
from flowless_engine.llm.base import ChatMessage, ChatResult, ModelConfig, ToolCall, ToolSpec
from flowless_engine.schema import Usage

OPENAI_BASE_URL = "https://api.openai.com/v1"
AZURE_API_VERSION = "2024-10-21"
# Reasoning models refuse `temperature` and `max_tokens` (they take max_completion_tokens).
_REASONING_MODEL = re.compile(r"^(o\d|gpt-5)", re.IGNORECASE)


class OpenAICompatChatModel:
    def __init__(
        self,
        config: ModelConfig,
        http: HttpClient,
        *,
        provider: str = "OpenAI",
        default_base_url: str | None = OPENAI_BASE_URL,
        key_required: bool = True,
    ) -> None:
        base_url = config.base_url or default_base_url
        if not base_url:
            raise ConfigurationError(f"{provider} needs a base URL", provider=provider)
        if key_required and not config.api_key and base_url == default_base_url:
            raise ConfigurationError(f"{provider} API key is missing", provider=provider)
        self.provider = provider
        self.model = config.model
        self.config = config
        self.http = http
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.timeout: float | None = config.extra.get("timeout") or None

    @property
    def stream_url(self) -> str:
        return self.url

    async def complete(self, messages: list[ChatMessage], *, tools: list[ToolSpec] | None = None, json_schema: dict[str, Any] | None = None) -> ChatResult:
        body = self._body(messages, tools, json_schema)
        with provider_errors(self.provider):
            response = await self.http.request("POST", self.url, headers=self._headers(), json=body, timeout=self.timeout)
        payload = loads_object(self.provider, response.content)
        try:
            choice = payload["choices"][0]
            message = choice["message"]
            tool_calls = [
                ToolCall(id=c.get("id") or new_call_id(), name=c["function"]["name"], arguments=c["function"].get("arguments") or "{}")
                for c in message.get("tool_calls") or []
            ]
        except (KeyError, IndexError, TypeError) as exc:
            raise malformed(self.provider, f"no choice/message ({exc!r})") from exc
        return ChatResult(
            text=message.get("content") or "",
            tool_calls=tool_calls,
            usage=_usage(payload.get("usage")),
            model=payload.get("model") or self.model,
            finish_reason=choice.get("finish_reason"),
        )

    async def stream(self, messages: list[ChatMessage], *, tools: list[ToolSpec] | None = None) -> AsyncIterator[str | ChatResult]:
        body = self._stream_body(self._body(messages, tools, None))
        parts: list[str] = []
        calls: dict[int, dict[str, str]] = {}
        usage: Usage | None = None
        model = self.model
        finish_reason: str | None = None
        finished = False
        with provider_errors(self.provider):
            lines = self.http.stream_lines("POST", self.stream_url, headers=self._headers(), json=body, timeout=self.timeout)
            async with aclosing(lines):
                async for data in sse_data(lines):
                    if data == "[DONE]":
                        # Read on to the end of the body so the connection goes back to the pool.
                        finished = True
                        continue
                    chunk = loads_object(self.provider, data)
                    if "error" in chunk:
                        raise ProviderError(f"{self.provider} stream failed: {_error_text(chunk['error'])}", provider=self.provider)
                    model = chunk.get("model") or model
                    usage = _usage(chunk.get("usage") or (chunk.get("x_groq") or {}).get("usage")) or usage
                    for choice in chunk.get("choices") or []:
                        delta = choice.get("delta") or {}
                        if text := delta.get("content"):
                            parts.append(text)
                            yield text
                        for position, piece in enumerate(delta.get("tool_calls") or []):
                            _merge_tool_call(calls, piece, position)
                        if choice.get("finish_reason"):
                            finish_reason = choice["finish_reason"]
        if not finished and finish_reason is None:
            raise ProviderError(f"{self.provider} stream ended before the answer was complete", provider=self.provider, retryable=True)
        tool_calls = [
            ToolCall(id=c["id"] or new_call_id(), name=c["name"], arguments=c["arguments"] or "{}")
            for _, c in sorted(calls.items())
        ]
        yield ChatResult(text="".join(parts), tool_calls=tool_calls, usage=usage, model=model, finish_reason=finish_reason)

    def _stream_body(self, body: dict[str, Any]) -> dict[str, Any]:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
        return body

    def _headers(self) -> dict[str, str]:
        headers = dict(self.config.extra.get("headers") or {})  # OpenRouter's HTTP-Referer / X-Title...
        if self.config.api_key:
            headers["authorization"] = f"Bearer {self.config.api_key}"
        return headers

    def _body(self, messages: list[ChatMessage], tools: list[ToolSpec] | None, json_schema: dict[str, Any] | None) -> dict[str, Any]:
        config = self.config
        reasoning = bool(_REASONING_MODEL.match(self.model))
        body: dict[str, Any] = {"model": self.model, "messages": [_message(m) for m in messages]}
        if config.temperature is not None and not reasoning:
            body["temperature"] = config.temperature
        if config.max_tokens:
            body["max_completion_tokens" if reasoning else "max_tokens"] = config.max_tokens
        # Langflow's OpenAI component options that reach the wire as they are.
        for key in ("seed", "top_p"):
            if config.extra.get(key) is not None:
                body[key] = config.extra[key]
        # Other providers' sampling options (n, top_k, stop, safe_prompt...), as their components set them.
        body.update(config.extra.get("body") or {})
        if tools:
            body["tools"] = [t.as_function() for t in tools]
            body["tool_choice"] = "auto"
        if json_schema is not None:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": schema_tool_name(json_schema, "response"), "schema": json_schema, "strict": False},
            }
        elif config.extra.get("json_mode"):
            body["response_format"] = {"type": "json_object"}
        return body


def _message(message: ChatMessage) -> dict[str, Any]:
    if message.role == "tool":
        return {"role": "tool", "tool_call_id": message.tool_call_id or "", "content": message.content or ""}
    out: dict[str, Any] = {"role": message.role}
    if message.images:
        parts: list[dict[str, Any]] = [{"type": "text", "text": message.content}] if message.content else []
        parts += [{"type": "image_url", "image_url": {"url": url}} for url in message.images]
        out["content"] = parts
    else:
        # An assistant turn that only calls tools has null content; every other turn has text.
        out["content"] = message.content or (None if message.tool_calls else "")
    if message.tool_calls:
        out["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in message.tool_calls
        ]
    if message.name:
        out["name"] = message.name
    return out


def _merge_tool_call(calls: dict[int, dict[str, str]], piece: dict[str, Any], position: int) -> None:
    """Tool calls arrive in fragments keyed by index: the id and name once, the arguments in pieces."""
    call = calls.setdefault(piece.get("index", position), {"id": "", "name": "", "arguments": ""})
    function = piece.get("function") or {}
    call["id"] = call["id"] or piece.get("id") or ""
    call["name"] = call["name"] or function.get("name") or ""
    call["arguments"] += function.get("arguments") or ""


def _usage(raw: Any) -> Usage | None:
    if not isinstance(raw, dict):
        return None
    prompt = int(raw.get("prompt_tokens") or 0)
    completion = int(raw.get("completion_tokens") or 0)
    return Usage(prompt, completion, int(raw.get("total_tokens") or prompt + completion))


def _error_text(error: Any) -> str:
    if isinstance(error, dict):
        return str(error.get("message") or error)
    return json.dumps(error) if not isinstance(error, str) else error


class AzureOpenAIChatModel(OpenAICompatChatModel):
    """Azure OpenAI: the deployment is in the URL, the API version in the query, the key in `api-key`."""

    def __init__(self, config: ModelConfig, http: HttpClient) -> None:
        provider = "Azure OpenAI"
        endpoint = (config.base_url or "").rstrip("/")
        deployment = config.extra.get("deployment") or config.model
        if not endpoint:
            raise ConfigurationError(f"{provider} needs an endpoint (azure_endpoint)", provider=provider)
        if not deployment:
            raise ConfigurationError(f"{provider} needs a deployment name", provider=provider)
        if not config.api_key:
            raise ConfigurationError(f"{provider} API key is missing", provider=provider)
        super().__init__(config, http, provider=provider, default_base_url=endpoint)
        version = config.extra.get("api_version") or AZURE_API_VERSION
        self.url = f"{endpoint.removesuffix('/openai')}/openai/deployments/{quote(deployment, safe='')}/chat/completions?api-version={quote(version)}"

    def _headers(self) -> dict[str, str]:
        return {"api-key": self.config.api_key or ""}


class AzureAIFoundryChatModel(OpenAICompatChatModel):
    """Azure AI Foundry's model inference API: `{endpoint}/models/chat/completions?api-version=`,
    the key in `api-key`, the model named in the body."""

    def __init__(self, config: ModelConfig, http: HttpClient) -> None:
        provider = "Azure AI Foundry"
        endpoint = (config.base_url or "").rstrip("/").removesuffix("/models")
        if not endpoint:
            raise ConfigurationError(f"{provider} needs an endpoint (AZURE_AI_FOUNDRY_ENDPOINT)", provider=provider)
        if not config.api_key:
            raise ConfigurationError(f"{provider} API key is missing", provider=provider)
        super().__init__(config, http, provider=provider, default_base_url=endpoint)
        version = config.extra.get("api_version") or "2024-05-01-preview"
        self.url = f"{endpoint}/models/chat/completions?api-version={quote(version)}"

    def _headers(self) -> dict[str, str]:
        return {"api-key": self.config.api_key or ""}
