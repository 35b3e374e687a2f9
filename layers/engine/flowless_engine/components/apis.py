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


def refused_status(exc: Exception) -> int | None:
    """The HTTP status a service answered with, for an error raised by `call_api`."""
    status = getattr(exc, "status", None)
    if status is None and isinstance(getattr(exc, "details", None), dict):
        status = exc.details.get("status")  # type: ignore[attr-defined]
    return status if isinstance(status, int) else None


def error_frame(message: str) -> "Any":
    """Langflow's one-row `{"error": ...}` table, what its API components answer on a failure."""
    from flowless_engine.schema import DataFrame

    return DataFrame(rows=[{"error": message}])


def google_error(exc: Exception) -> tuple[str, str]:
    """(message, reason) of Google's error JSON (`{"error": {"code", "message", "errors": [{"reason"}]}}`)
    from an error `call_api` raised; empty strings when the body is not that shape."""
    body = getattr(getattr(exc, "__cause__", None), "body", b"") or b""
    try:
        error = json.loads(body).get("error") or {}
    except (ValueError, AttributeError):
        return "", ""
    if not isinstance(error, dict):
        return str(error), ""
    reasons = [e.get("reason", "") for e in error.get("errors") or [] if isinstance(e, dict)]
    return str(error.get("message") or ""), (reasons[0] if reasons else str(error.get("status") or ""))


class FetchedRows:
    """Mix into a search node whose `fetch_content()` answers its rows (a list of Data): Langflow's
    `fetch_content_dataframe` (the Table output) and the older `run_model` (the JSON output)."""

    async def fetch_content_dataframe(self) -> "Any":
        from flowless_engine.schema import DataFrame

        return DataFrame(rows=[d.data for d in await self.fetch_content()])  # type: ignore[attr-defined]

    async def run_model(self) -> "Any":
        return await self.fetch_content()  # type: ignore[attr-defined]
