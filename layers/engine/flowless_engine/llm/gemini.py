"""Google's Gemini API (`generateContent`, `streamGenerateContent?alt=sse`, `batchEmbedContents`),
key in `x-goog-api-key`. Structured output through `responseSchema`; tools as function declarations."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable
from contextlib import aclosing
from typing import Any
from urllib.parse import quote

from flowless_engine.errors import ConfigurationError, ProviderError
from flowless_engine.http import HttpClient
from flowless_engine.llm._wire import loads_object, malformed, new_call_id, parse_arguments, provider_errors, split_data_url, sse_data
from flowless_engine.llm.base import ChatMessage, ChatResult, ModelConfig, ToolCall, ToolSpec
from flowless_engine.schema import Usage

GEMINI_BASE_URL = "https://generativelanguage.googleapis.com"
API_VERSION = "v1beta"
_FINISH_REASONS = {"STOP": "stop", "MAX_TOKENS": "length", "SAFETY": "content_filter", "RECITATION": "content_filter"}
# JSON-schema keywords Gemini's OpenAPI-subset schemas refuse.
# A tool call's id carries the model's thought signature, when it gave one (Gemini calls have no ids).
_SIGNED = "gemini-signed:"
_UNSUPPORTED_SCHEMA_KEYS = frozenset({"additionalProperties", "$schema", "$id", "title", "default", "examples", "$defs", "definitions", "strict"})


def _base(config_base_url: str | None) -> str:
    base = (config_base_url or GEMINI_BASE_URL).rstrip("/")
    for suffix in ("/v1beta", "/v1"):
        base = base.removesuffix(suffix)
    return base


def _model_path(model: str) -> str:
    return quote(model.removeprefix("models/"), safe="-._")


class GeminiChatModel:
    provider = "Google Generative AI"

    def __init__(self, config: ModelConfig, http: HttpClient) -> None:
        if not config.api_key:
            raise ConfigurationError("Google Generative AI API key is missing (GOOGLE_API_KEY)", provider=self.provider)
        if not config.model:
            raise ConfigurationError("Google Generative AI needs a model name", provider=self.provider)
        self.model = config.model.removeprefix("models/")
        self.config = config
        self.http = http
        root = f"{_base(config.base_url)}/{API_VERSION}/models/{_model_path(config.model)}"
        self.url = root + ":generateContent"
        self.stream_url = root + ":streamGenerateContent?alt=sse"
        self.timeout: float | None = config.extra.get("timeout") or None

    async def complete(self, messages: list[ChatMessage], *, tools: list[ToolSpec] | None = None, json_schema: dict[str, Any] | None = None) -> ChatResult:
        body = self._body(messages, tools)
        if json_schema is not None:
            generation = body.setdefault("generationConfig", {})
            generation["responseMimeType"] = "application/json"
            generation["responseSchema"] = gemini_schema(json_schema)
        with provider_errors(self.provider):
            response = await self.http.request("POST", self.url, headers=self._headers(), json=body, timeout=self.timeout)
        payload = loads_object(self.provider, response.content)
        texts: list[str] = []
        calls: list[ToolCall] = []
        finish = self._read(payload, texts, calls)
        if finish is None and not texts and not calls:
            raise malformed(self.provider, "no candidates")
        return ChatResult("".join(texts), calls, _usage(payload.get("usageMetadata")), payload.get("modelVersion") or self.model, _finish(finish, calls))

    async def stream(self, messages: list[ChatMessage], *, tools: list[ToolSpec] | None = None) -> AsyncIterator[str | ChatResult]:
        body = self._body(messages, tools)
        parts: list[str] = []
        calls: list[ToolCall] = []
        usage: Usage | None = None
        model = self.model
        finish: str | None = None
        with provider_errors(self.provider):
            lines = self.http.stream_lines("POST", self.stream_url, headers=self._headers(), json=body, timeout=self.timeout)
            async with aclosing(lines):
                async for data in sse_data(lines):
                    chunk = loads_object(self.provider, data)
                    if "error" in chunk:
                        error = chunk["error"]
                        raise ProviderError(f"{self.provider} stream failed: {error.get('message') if isinstance(error, dict) else error}", provider=self.provider)
                    texts: list[str] = []
                    finish = self._read(chunk, texts, calls) or finish
                    for text in texts:
                        parts.append(text)
                        yield text
                    usage = _usage(chunk.get("usageMetadata")) or usage
                    model = chunk.get("modelVersion") or model
        if finish is None:
            raise ProviderError(f"{self.provider} stream ended before the answer was complete", provider=self.provider, retryable=True)
        yield ChatResult("".join(parts), calls, usage, model, _finish(finish, calls))

    def _read(self, payload: dict[str, Any], texts: list[str], calls: list[ToolCall]) -> str | None:
        """Collect the first candidate's text and function calls; its finish reason, if any."""
        candidates = payload.get("candidates")
        if not candidates:
            blocked = (payload.get("promptFeedback") or {}).get("blockReason")
            if blocked:
                raise ProviderError(f"{self.provider} refused the prompt ({blocked})", provider=self.provider)
            return None
        candidate = candidates[0] if isinstance(candidates[0], dict) else {}
        for part in (candidate.get("content") or {}).get("parts") or []:
            if part.get("thought"):
                continue  # a thinking model's reasoning summary is not the answer
            if isinstance(part.get("text"), str):
                texts.append(part["text"])
            elif isinstance(part.get("functionCall"), dict):
                call = part["functionCall"]
                # A thinking model signs its call; the signature must come back with it in the next turn.
                call_id = _SIGNED + part["thoughtSignature"] if part.get("thoughtSignature") else call.get("id") or new_call_id()
                calls.append(ToolCall(call_id, call.get("name", ""), json.dumps(call.get("args") or {})))
        return candidate.get("finishReason")

    def _headers(self) -> dict[str, str]:
        return {"x-goog-api-key": self.config.api_key or ""}

    def _body(self, messages: list[ChatMessage], tools: list[ToolSpec] | None) -> dict[str, Any]:
        config = self.config
        system = "\n\n".join(m.content for m in messages if m.role == "system" and m.content)
        body: dict[str, Any] = {"contents": _contents(m for m in messages if m.role != "system")}
        if system:
            body["systemInstruction"] = {"parts": [{"text": system}]}
        generation: dict[str, Any] = {}
        if config.temperature is not None:
            generation["temperature"] = config.temperature
        if config.max_tokens:
            generation["maxOutputTokens"] = config.max_tokens
        for key, wire in (("top_p", "topP"), ("top_k", "topK"), ("n", "candidateCount")):
            if config.extra.get(key) is not None:
                generation[wire] = config.extra[key]
        if generation:
            body["generationConfig"] = generation
        if tools:
            body["tools"] = [{"functionDeclarations": [_declaration(t) for t in tools]}]
        return body


def _declaration(tool: ToolSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"name": tool.name, "description": tool.description}
    parameters = gemini_schema(tool.parameters)
    if parameters.get("properties"):  # a function without arguments declares no parameters
        out["parameters"] = parameters
    return out


def gemini_schema(schema: Any) -> Any:
    """A JSON schema in the subset Gemini accepts (no additionalProperties, titles, $defs...)."""
    if isinstance(schema, dict):
        return {k: gemini_schema(v) for k, v in schema.items() if k not in _UNSUPPORTED_SCHEMA_KEYS}
    if isinstance(schema, list):
        return [gemini_schema(v) for v in schema]
    return schema


def _contents(messages: Iterable[ChatMessage]) -> list[dict[str, Any]]:
    """Turns as Gemini wants them: roles `user` and `model`; a tool result is a user turn's
    functionResponse part; consecutive turns of one role are merged."""
    contents: list[dict[str, Any]] = []
    for message in messages:
        role = "model" if message.role == "assistant" else "user"
        parts = _parts(message)
        if not parts:
            continue
        if contents and contents[-1]["role"] == role:
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": role, "parts": parts})
    return contents


def _parts(message: ChatMessage) -> list[dict[str, Any]]:
    if message.role == "tool":
        return [{"functionResponse": {"name": message.name or "tool", "response": {"result": message.content or ""}}}]
    parts: list[dict[str, Any]] = []
    for url in message.images:
        inline = split_data_url(url)
        if inline is not None:
            parts.append({"inlineData": {"mimeType": inline[0], "data": inline[1]}})
        else:
            parts.append({"fileData": {"fileUri": url}})
    if message.content:
        parts.append({"text": message.content})
    for call in message.tool_calls:
        part: dict[str, Any] = {"functionCall": {"name": call.name, "args": parse_arguments(call.arguments)}}
        if call.id.startswith(_SIGNED):
            part["thoughtSignature"] = call.id[len(_SIGNED):]
        parts.append(part)
    return parts


def _finish(reason: str | None, calls: list[ToolCall]) -> str | None:
    if calls:
        return "tool_calls"
    return _FINISH_REASONS.get(reason or "", (reason or "").lower() or None)


def _usage(raw: Any) -> Usage | None:
    if not isinstance(raw, dict):
        return None
    prompt = int(raw.get("promptTokenCount") or 0)
    completion = int(raw.get("candidatesTokenCount") or 0) + int(raw.get("thoughtsTokenCount") or 0)
    return Usage(prompt, completion, int(raw.get("totalTokenCount") or prompt + completion))


class GeminiEmbeddings:
    """`batchEmbedContents`: up to 100 texts a request."""

    provider = "Google Generative AI"
    batch_size = 100

    def __init__(self, config: Any, http: HttpClient) -> None:
        if not config.api_key:
            raise ConfigurationError("Google Generative AI API key is missing (GOOGLE_API_KEY)", provider=self.provider)
        self.model = config.model.removeprefix("models/")
        self.config = config
        self.http = http
        self.url = f"{_base(config.base_url)}/{API_VERSION}/models/{_model_path(config.model)}:batchEmbedContents"

    async def embed_batch(self, texts: list[str], query: bool) -> list[list[float]]:
        task = self.config.extra.get("task_type") or ("RETRIEVAL_QUERY" if query else "RETRIEVAL_DOCUMENT")
        request: dict[str, Any] = {"model": f"models/{self.model}", "taskType": task}
        if self.config.dimensions:
            request["outputDimensionality"] = self.config.dimensions
        body = {"requests": [{**request, "content": {"parts": [{"text": text}]}} for text in texts]}
        with provider_errors(self.provider):
            response = await self.http.request("POST", self.url, headers={"x-goog-api-key": self.config.api_key}, json=body, timeout=self.config.timeout)
        payload = loads_object(self.provider, response.content)
        try:
            return [[float(x) for x in row["values"]] for row in payload["embeddings"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise malformed(self.provider, f"no embeddings ({exc!r})") from exc
