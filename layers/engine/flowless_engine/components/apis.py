"""Calling a hosted service's HTTP API from a component: one place for the endpoint (public by
default, replaceable per service through `EngineSettings.service_urls`), the guarded client
(timeouts, retries on 429/5xx, SSRF guard) and the error mapping every service shares:

- the service refuses the credential (401/403)  → ConfigurationError (a clear 4xx naming it);
- other 4xx                                     → ConfigurationError with the service's message;
- 429/5xx after the client's retries, transport → ProviderError (502);
- no answer in time                             → ProviderTimeoutError (504).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from flowless_engine.errors import ConfigurationError, ProviderError, ProviderTimeoutError
from flowless_engine.http import HttpError, HttpResponse, HttpTimeout

if TYPE_CHECKING:
    from flowless_engine.components.base import Component


def service_url(component: "Component", service: str, default: str) -> str:
    """The base URL of `service` (e.g. "tavily"): the configured replacement, else `default`."""
    for name, url in component.ctx.settings.service_urls:
        if name == service.lower():
            return url.rstrip("/")
    return default.rstrip("/")


def with_query(url: str, params: dict[str, Any] | None) -> str:
    if not params:
        return url
    clean = {k: ("true" if v is True else "false" if v is False else v) for k, v in params.items() if v is not None and v != ""}
    if not clean:
        return url
    return f"{url}{'&' if '?' in url else '?'}{urlencode(clean, doseq=True)}"


def _service_message(body: bytes) -> str:
    """The error message a service put in its body (JSON `error`/`message`/`detail`), short."""
    text = body.decode("utf-8", errors="replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return text[:300]
    if isinstance(data, dict):
        for key in ("error", "message", "detail", "errors"):
            value = data.get(key)
            if isinstance(value, dict):
                value = value.get("message") or value.get("error") or json.dumps(value)
            if value:
                return str(value)[:300]
    return text[:300]


async def call_api(
    component: "Component",
    provider: str,
    method: str,
    url: str,
    *,
    params: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    json_body: Any = None,
    content: bytes | str | None = None,
    timeout: float | None = None,
) -> HttpResponse:
    """One request to `provider`'s API; raises the engine errors described above."""
    try:
        return await component.ctx.http.request(method, with_query(url, params), headers=headers, json=json_body,
                                                 content=content, timeout=timeout)
    except HttpTimeout as exc:
        raise ProviderTimeoutError(f"{provider} did not answer in time: {exc}", provider=provider) from exc
    except HttpError as exc:
        raise api_error(provider, exc) from exc


def api_error(provider: str, exc: HttpError) -> Exception:
    status = exc.status
    if status in (401, 403):
        return ConfigurationError(f"{provider} refused the credentials ({status}): {_service_message(exc.body)}", provider=provider, status=status)
    if status is not None and 400 <= status < 500 and status != 429:
        return ConfigurationError(f"{provider} rejected the request ({status}): {_service_message(exc.body)}", provider=provider, status=status)
    detail = _service_message(exc.body) if exc.body else str(exc)
    return ProviderError(f"{provider} failed: {detail}", provider=provider, status=status, retryable=status in (429, 500, 502, 503, 504))


async def call_json(component: "Component", provider: str, method: str, url: str, **kwargs: Any) -> Any:
    response = await call_api(component, provider, method, url, **kwargs)
    try:
        return response.json()
    except ValueError as exc:
        raise ProviderError(f"{provider} answered with something that is not JSON", provider=provider, status=response.status) from exc


async def api_key(component: "Component", field: str, provider: str) -> str:
    """A required credential field (a tenant variable when `load_from_db`)."""
    value = await component.secret(field)
    if not value:
        raise ConfigurationError(f"{component.name}: the {provider} API key ('{field}') is empty")
    return value
