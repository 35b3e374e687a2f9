"""Cloudflare Workers AI text embeddings: `POST {base}/{account_id}/ai/run/{model}` with
`{"text": [...]}`, bearer API token; the vectors come back in `result.data`."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flowless_engine.errors import ConfigurationError, ProviderError
from flowless_engine.http import HttpClient
from flowless_engine.llm._wire import loads_object, malformed, provider_errors

PROVIDER = "Cloudflare Workers AI"
CLOUDFLARE_BASE_URL = "https://api.cloudflare.com/client/v4/accounts"


class CloudflareEmbeddings:
    provider = PROVIDER
    batch_size = 100

    def __init__(self, config: Any, http: HttpClient) -> None:
        account = config.extra.get("account_id")
        if not account:
            raise ConfigurationError(f"{PROVIDER} needs an account ID", provider=PROVIDER)
        if not config.api_key:
            raise ConfigurationError(f"{PROVIDER} API token is missing", provider=PROVIDER)
        self.model = config.model
        self.config = config
        self.http = http
        base = (config.base_url or CLOUDFLARE_BASE_URL).rstrip("/")
        self.url = f"{base}/{quote(str(account), safe='')}/ai/run/{quote(config.model, safe='@/-._')}"
        self.batch_size = max(1, int(config.extra.get("batch_size") or 100))

    async def embed_batch(self, texts: list[str], query: bool) -> list[list[float]]:
        if self.config.extra.get("strip_new_lines", True):
            texts = [t.replace("\n", " ") for t in texts]
        headers = {str(k): str(v) for k, v in (self.config.extra.get("headers") or {}).items()}
        headers["authorization"] = f"Bearer {self.config.api_key}"
        with provider_errors(self.provider):
            response = await self.http.request("POST", self.url, headers=headers, json={"text": texts}, timeout=self.config.timeout)
        payload = loads_object(self.provider, response.content)
        if payload.get("success") is False:
            raise ProviderError(f"{PROVIDER} failed: {payload.get('errors')}", provider=PROVIDER)
        try:
            return [[float(x) for x in row] for row in payload["result"]["data"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise malformed(self.provider, f"no embeddings ({exc!r})") from exc
