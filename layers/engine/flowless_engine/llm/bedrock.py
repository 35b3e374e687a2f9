"""Amazon Bedrock through the Converse API (botocore, imported only when a model runs).

botocore is blocking, so every call runs in a worker thread; a streamed answer is read one
event per thread hop. Structured output forces a tool whose input is the schema.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

from flowless_engine.errors import ConfigurationError, ProviderAuthError, ProviderError, ProviderTimeoutError
from flowless_engine.http import HttpClient
from flowless_engine.llm._wire import alternating_turns, new_call_id, parse_arguments, schema_tool_name, split_data_url
from flowless_engine.llm.base import ChatMessage, ChatResult, ModelConfig, ToolCall, ToolSpec
from flowless_engine.schema import Usage

PROVIDER = "Amazon Bedrock"
_FINISH_REASONS = {"end_turn": "stop", "stop_sequence": "stop", "tool_use": "tool_calls", "max_tokens": "length"}
_RETRYABLE_CODES = frozenset({"ThrottlingException", "ServiceUnavailableException", "InternalServerException", "ModelNotReadyException"})
_CREDENTIAL_KEYS = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token")

# Building a botocore client costs tens of milliseconds: keep one per (region, credentials, endpoint).
_clients: dict[tuple[Any, ...], Any] = {}
_clients_lock = threading.Lock()


class BedrockChatModel:
    provider = PROVIDER

    def __init__(self, config: ModelConfig, http: HttpClient, *, client: Any = None) -> None:
        extra = config.extra
        self.region = extra.get("region") or extra.get("region_name") or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        if not self.region and client is None:
            raise ConfigurationError("Amazon Bedrock needs a region (set the component's region or AWS_REGION)", provider=PROVIDER)
        self.model = config.model
        self.config = config
        self.http = http
        self.endpoint_url: str | None = extra.get("endpoint_url") or None
        self._client = client

    async def complete(self, messages: list[ChatMessage], *, tools: list[ToolSpec] | None = None, json_schema: dict[str, Any] | None = None) -> ChatResult:
        request = self._request(messages, tools)
        forced = None
        if json_schema is not None:
            forced = schema_tool_name(json_schema)
            request["toolConfig"] = {
                "tools": [{"toolSpec": {"name": forced, "description": "Answer with this structure.", "inputSchema": {"json": json_schema}}}],
                "toolChoice": {"tool": {"name": forced}},
            }
        client = await self._get_client()
        with _botocore_errors():
            response = await asyncio.to_thread(client.converse, **request)
        texts: list[str] = []
        calls: list[ToolCall] = []
        for block in ((response.get("output") or {}).get("message") or {}).get("content") or []:
            if "text" in block:
                texts.append(block["text"])
            elif "toolUse" in block:
                use = block["toolUse"]
                if use.get("name") == forced:
                    texts.append(json.dumps(use.get("input") or {}))
                else:
                    calls.append(ToolCall(use.get("toolUseId") or new_call_id("tooluse"), use.get("name", ""), json.dumps(use.get("input") or {})))
        stop = response.get("stopReason")
        return ChatResult("".join(texts), calls, _usage(response.get("usage")), self.model, "stop" if forced else _FINISH_REASONS.get(stop, stop))

    async def stream(self, messages: list[ChatMessage], *, tools: list[ToolSpec] | None = None) -> AsyncIterator[str | ChatResult]:
        request = self._request(messages, tools)
        client = await self._get_client()
        parts: list[str] = []
        blocks: dict[int, dict[str, str]] = {}
        usage: Usage | None = None
        stop: str | None = None
        with _botocore_errors():
            response = await asyncio.to_thread(client.converse_stream, **request)
            stream = response["stream"]
            events = iter(stream)
            try:
                while (event := await asyncio.to_thread(next, events, None)) is not None:
                    if "contentBlockStart" in event:
                        start = event["contentBlockStart"]
                        use = (start.get("start") or {}).get("toolUse")
                        if use:
                            blocks[start.get("contentBlockIndex", 0)] = {"id": use.get("toolUseId") or new_call_id("tooluse"), "name": use.get("name", ""), "arguments": ""}
                    elif "contentBlockDelta" in event:
                        delta_event = event["contentBlockDelta"]
                        delta = delta_event.get("delta") or {}
                        if delta.get("text"):
                            parts.append(delta["text"])
                            yield delta["text"]
                        elif "toolUse" in delta and delta_event.get("contentBlockIndex", 0) in blocks:
                            blocks[delta_event.get("contentBlockIndex", 0)]["arguments"] += delta["toolUse"].get("input") or ""
                    elif "messageStop" in event:
                        stop = event["messageStop"].get("stopReason")
                    elif "metadata" in event:
                        usage = _usage(event["metadata"].get("usage"))
            finally:
                close = getattr(stream, "close", None)
                if close is not None:
                    close()
        if stop is None:
            raise ProviderError("Amazon Bedrock stream ended before the answer was complete", provider=PROVIDER, retryable=True)
        calls = [ToolCall(b["id"], b["name"], b["arguments"] or "{}") for _, b in sorted(blocks.items())]
        yield ChatResult("".join(parts), calls, usage, self.model, _FINISH_REASONS.get(stop, stop))

    async def _get_client(self) -> Any:
        if self._client is None:
            if self.endpoint_url:
                await self.http.check_url(self.endpoint_url)  # a flow-supplied endpoint is outbound traffic too
            self._client = await asyncio.to_thread(self._build_client)
        return self._client

    def _build_client(self) -> Any:
        credentials = tuple(self.config.extra.get(k) or None for k in _CREDENTIAL_KEYS)
        key = (self.region, self.endpoint_url, self.http.timeout_s, self.http.retries, credentials)
        with _clients_lock:
            if key not in _clients:
                import botocore.session
                from botocore.config import Config

                _clients[key] = botocore.session.get_session().create_client(
                    "bedrock-runtime",
                    region_name=self.region,
                    endpoint_url=self.endpoint_url,
                    config=Config(
                        connect_timeout=min(10.0, self.http.timeout_s),
                        read_timeout=self.http.timeout_s,
                        retries={"total_max_attempts": self.http.retries + 1, "mode": "standard"},
                    ),
                    **{k: v for k, v in zip(_CREDENTIAL_KEYS, credentials) if v},
                )
            return _clients[key]

    def _request(self, messages: list[ChatMessage], tools: list[ToolSpec] | None) -> dict[str, Any]:
        request: dict[str, Any] = {"modelId": self.model, "messages": alternating_turns((m for m in messages if m.role != "system"), _blocks)}
        system = [{"text": m.content} for m in messages if m.role == "system" and m.content]
        if system:
            request["system"] = system
        inference: dict[str, Any] = {}
        if self.config.max_tokens:
            inference["maxTokens"] = self.config.max_tokens
        if self.config.temperature is not None:
            inference["temperature"] = self.config.temperature
        if self.config.extra.get("top_p") is not None:
            inference["topP"] = float(self.config.extra["top_p"])
        if inference:
            request["inferenceConfig"] = inference
        # Model-specific fields (top_k for Claude...), as the Converse node's additional_model_fields gives them.
        additional = dict(self.config.extra.get("additional_model_fields") or {})
        if self.config.extra.get("top_k") is not None:
            additional.setdefault("top_k", self.config.extra["top_k"])
        if additional:
            request["additionalModelRequestFields"] = additional
        if tools:
            request["toolConfig"] = {
                "tools": [{"toolSpec": {"name": t.name, "description": t.description, "inputSchema": {"json": t.parameters}}} for t in tools],
                "toolChoice": {"auto": {}},
            }
        return request


def _blocks(message: ChatMessage) -> list[dict[str, Any]]:
    if message.role == "tool":
        return [{"toolResult": {"toolUseId": message.tool_call_id or "", "content": [{"text": message.content or ""}]}}]
    blocks: list[dict[str, Any]] = []
    for url in message.images:
        inline = split_data_url(url)
        if inline is None:
            raise ConfigurationError("Amazon Bedrock accepts images only as data URLs", provider=PROVIDER)
        media_type, data = inline
        image_format = media_type.split("/")[-1].replace("jpg", "jpeg")
        blocks.append({"image": {"format": image_format, "source": {"bytes": base64.b64decode(data)}}})
    if message.content:
        blocks.append({"text": message.content})
    blocks += [{"toolUse": {"toolUseId": c.id, "name": c.name, "input": parse_arguments(c.arguments)}} for c in message.tool_calls]
    return blocks


def _usage(raw: Any) -> Usage | None:
    if not isinstance(raw, dict):
        return None
    prompt = int(raw.get("inputTokens") or 0)
    completion = int(raw.get("outputTokens") or 0)
    return Usage(prompt, completion, int(raw.get("totalTokens") or prompt + completion))


@contextmanager
def _botocore_errors() -> Iterator[None]:
    """botocore's failures as the engine's provider errors."""
    from botocore import exceptions as boto

    try:
        yield
    except (boto.ReadTimeoutError, boto.ConnectTimeoutError) as exc:
        raise ProviderTimeoutError(f"Amazon Bedrock did not answer in time: {exc}", provider=PROVIDER, retryable=True) from exc
    except (boto.NoCredentialsError, boto.PartialCredentialsError) as exc:
        raise ConfigurationError(f"Amazon Bedrock credentials are missing: {exc}", provider=PROVIDER) from exc
    except boto.ClientError as exc:  # EventStreamError (a failure mid-stream) included
        error = exc.response.get("Error") or {}
        status = (exc.response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
        code = error.get("Code", "Error")
        outcome = f"returned {status}" if status else "failed"
        if status in (401, 403) or code in ("AccessDeniedException", "UnrecognizedClientException"):
            raise ProviderAuthError(f"Amazon Bedrock refused the credentials ({status}): {code}: {error.get('Message', '')}".rstrip(": "),
                                    provider=PROVIDER, status=status) from exc
        raise ProviderError(
            f"Amazon Bedrock {outcome}: {code}: {error.get('Message', '')}".rstrip(": "),
            provider=PROVIDER,
            status=status,
            retryable=code in _RETRYABLE_CODES or (status or 0) >= 500,
        ) from exc
    except boto.BotoCoreError as exc:
        raise ProviderError(f"Amazon Bedrock request failed: {exc}", provider=PROVIDER, retryable=True) from exc
