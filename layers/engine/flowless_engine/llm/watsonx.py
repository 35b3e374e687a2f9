"""IBM watsonx.ai: `/ml/v1/text/chat` (OpenAI-shaped messages, tools and answers, with `model_id`
and `project_id`), `/ml/v1/text/chat_stream` (SSE) and `/ml/v1/text/embeddings`. The API key is
exchanged at IBM Cloud IAM for a bearer token, cached per key until shortly before it expires."""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

from flowless_engine.errors import ConfigurationError
from flowless_engine.http import HttpClient
from flowless_engine.llm._wire import credential_exchange, loads_object, malformed, provider_errors
from flowless_engine.llm.base import ChatMessage, ChatResult, ModelConfig, ToolSpec
from flowless_engine.llm.openai_compat import OpenAICompatChatModel

PROVIDER = "IBM watsonx.ai"
WATSONX_URL = "https://us-south.ml.cloud.ibm.com"
IAM_URL = "https://iam.cloud.ibm.com/identity/token"
API_VERSION = "2024-10-08"
_TOKENS: dict[str, tuple[str, float]] = {}  # sha256(IAM URL, key) → (token, expiry), per warm container


async def bearer_token(http: HttpClient, api_key: str, timeout: float | None = None) -> str:
    cache_key = hashlib.sha256(f"{IAM_URL}\0{api_key}".encode()).hexdigest()
    cached = _TOKENS.get(cache_key)
    if cached and cached[1] > time.time():
        return cached[0]
    # Two runs racing for a token both fetch one: harmless, and no lock outlives its event loop.
    form = urlencode({"grant_type": "urn:ibm:params:oauth:grant-type:apikey", "apikey": api_key})
    headers = {"content-type": "application/x-www-form-urlencoded", "accept": "application/json"}
    with credential_exchange(PROVIDER + " IAM"):
        response = await http.request("POST", IAM_URL, headers=headers, content=form, timeout=timeout)
    payload = loads_object(PROVIDER, response.content)
    token = payload.get("access_token")
    if not isinstance(token, str) or not token:
        raise malformed(PROVIDER, "IAM answered without an access_token")
    lifetime = float(payload.get("expires_in") or 3600)
    _TOKENS[cache_key] = (token, time.time() + max(30.0, lifetime - 300.0))
    return token


def _check(config: Any) -> tuple[str, str]:
    if not config.api_key:
        raise ConfigurationError(f"{PROVIDER} API key is missing (WATSONX_APIKEY)", provider=PROVIDER)
    project = config.extra.get("project_id")
    if not project:
        raise ConfigurationError(f"{PROVIDER} needs a project ID (WATSONX_PROJECT_ID)", provider=PROVIDER)
    return (config.base_url or WATSONX_URL).rstrip("/"), str(project)


class WatsonxChatModel(OpenAICompatChatModel):
    def __init__(self, config: ModelConfig, http: HttpClient) -> None:
        base, self.project_id = _check(config)
        super().__init__(config, http, provider=PROVIDER, default_base_url=base)
        version = config.extra.get("api_version") or API_VERSION
        self.url = f"{base}/ml/v1/text/chat?version={version}"
        self._stream_url = f"{base}/ml/v1/text/chat_stream?version={version}"
        self._token = ""

    @property
    def stream_url(self) -> str:
        return self._stream_url

    async def complete(self, messages: list[ChatMessage], *, tools: list[ToolSpec] | None = None, json_schema: dict[str, Any] | None = None) -> ChatResult:
        self._token = await bearer_token(self.http, self.config.api_key or "", self.timeout)
        return await super().complete(messages, tools=tools, json_schema=json_schema)

    async def stream(self, messages: list[ChatMessage], *, tools: list[ToolSpec] | None = None) -> AsyncIterator[str | ChatResult]:
        self._token = await bearer_token(self.http, self.config.api_key or "", self.timeout)
        async for item in super().stream(messages, tools=tools):
            yield item

    def _headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self._token}", "accept": "application/json"}

    def _body(self, messages: list[ChatMessage], tools: list[ToolSpec] | None, json_schema: dict[str, Any] | None) -> dict[str, Any]:
        body = super()._body(messages, tools, json_schema)
        body["model_id"] = body.pop("model")
        body["project_id"] = self.project_id
        if "max_completion_tokens" in body:
            body["max_tokens"] = body.pop("max_completion_tokens")
        if body.pop("tool_choice", None):
            body["tool_choice_option"] = "auto"
        return body

    def _stream_body(self, body: dict[str, Any]) -> dict[str, Any]:
        return body  # the stream endpoint streams; it takes no flag


class WatsonxEmbeddings:
    """`/ml/v1/text/embeddings`: up to 1000 inputs a request."""

    provider = PROVIDER
    batch_size = 1000

    def __init__(self, config: Any, http: HttpClient) -> None:
        base, self.project_id = _check(config)
        self.model = config.model
        self.config = config
        self.http = http
        self.url = f"{base}/ml/v1/text/embeddings?version={config.extra.get('api_version') or API_VERSION}"

    async def embed_batch(self, texts: list[str], query: bool) -> list[list[float]]:
        token = await bearer_token(self.http, self.config.api_key, self.config.timeout)
        body: dict[str, Any] = {"inputs": texts, "model_id": self.model, "project_id": self.project_id}
        truncate = self.config.extra.get("truncate_input_tokens")
        if truncate:
            body["parameters"] = {"truncate_input_tokens": int(truncate)}
        headers = {"authorization": f"Bearer {token}", "accept": "application/json"}
        with provider_errors(self.provider):
            response = await self.http.request("POST", self.url, headers=headers, json=body, timeout=self.config.timeout)
        payload = loads_object(self.provider, response.content)
        try:
            return [[float(x) for x in row["embedding"]] for row in payload["results"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise malformed(self.provider, f"no embeddings ({exc!r})") from exc
