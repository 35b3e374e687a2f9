"""Helpers the HTTP providers share: error translation, SSE framing, data URLs, ids."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from flowless_engine.errors import ProviderAuthError, ProviderError, ProviderTimeoutError
from flowless_engine.http import HttpError, HttpTimeout

_RETRYABLE = frozenset({408, 409, 425, 429})
_DATA_URL = re.compile(r"^data:(?P<media>[\w.+-]+/[\w.+-]+)?(?:;[^,]*)?;base64,(?P<data>.*)$", re.DOTALL)


def short_error(body: str, limit: int = 300) -> str:
    """The provider's own error message when the body is a JSON error, else the body cut short."""
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        error = parsed.get("error", parsed.get("message", parsed.get("errorMessage")))
        if isinstance(error, dict):
            error = error.get("message") or error.get("type")
        if isinstance(error, str) and error:
            body = error
            if isinstance(parsed.get("error_description"), str):  # OAuth 2.0 token endpoints
                body = f"{error}: {parsed['error_description']}"
    body = " ".join(body.split())
    return body if len(body) <= limit else body[: limit - 1] + "…"


def to_provider_error(provider: str, exc: HttpError | HttpTimeout) -> ProviderError:
    if isinstance(exc, HttpTimeout):
        return ProviderTimeoutError(f"{provider} timed out: {exc}", provider=provider, retryable=True)
    if exc.status is None:
        return ProviderError(f"{provider} call failed: {exc}", provider=provider, retryable=True)
    detail = short_error(exc.text) or "(empty body)"
    if exc.status in (401, 403):
        return ProviderAuthError(f"{provider} refused the credentials ({exc.status}): {detail}", provider=provider, status=exc.status)
    return ProviderError(
        f"{provider} returned {exc.status}: {detail}",
        provider=provider,
        status=exc.status,
        retryable=exc.status in _RETRYABLE or exc.status >= 500,
    )


@contextmanager
def provider_errors(provider: str) -> Iterator[None]:
    """Turn the HTTP client's errors into ProviderError / ProviderTimeoutError."""
    try:
        yield
    except (HttpError, HttpTimeout) as exc:
        raise to_provider_error(provider, exc) from exc


@contextmanager
def credential_exchange(provider: str) -> Iterator[None]:
    """A token endpoint (IBM IAM, Google OAuth) that refuses the key or the signed assertion
    (400 invalid_grant, 401, 403): the credentials are wrong, a ProviderAuthError."""
    try:
        with provider_errors(provider):
            yield
    except ProviderError as exc:
        if exc.status in (400, 401, 403) and not isinstance(exc, ProviderAuthError):
            raise ProviderAuthError(f"{provider} refused the credentials ({exc.status}): {exc.message.split(': ', 1)[-1]}",
                                    provider=exc.provider, status=exc.status) from exc
        raise


def malformed(provider: str, what: str) -> ProviderError:
    return ProviderError(f"{provider} sent a malformed response: {what}", provider=provider, retryable=True)


def loads_object(provider: str, text: str | bytes) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise malformed(provider, f"invalid JSON ({exc})") from exc
    if not isinstance(value, dict):
        raise malformed(provider, "expected a JSON object")
    return value


async def sse_data(lines: AsyncIterator[str]) -> AsyncIterator[str]:
    """The `data` payload of each server-sent event (multi-line data joined with newlines)."""
    data: list[str] = []
    async for line in lines:
        if not line:
            if data:
                yield "\n".join(data)
                data = []
        elif line.startswith("data:"):
            value = line[5:]
            data.append(value[1:] if value.startswith(" ") else value)
        # `event:`, `id:`, `retry:` and comments carry nothing the payload does not repeat.
    if data:
        yield "\n".join(data)


def split_data_url(url: str) -> tuple[str, str] | None:
    """(media type, base64 payload) of a base64 data URL, else None."""
    match = _DATA_URL.match(url)
    if match is None:
        return None
    return match.group("media") or "application/octet-stream", match.group("data")


def new_call_id(prefix: str = "call") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:24]}"


def parse_arguments(arguments: str) -> dict[str, Any]:
    """Tool-call arguments as an object (providers that want objects, not JSON text)."""
    try:
        value = json.loads(arguments or "{}")
    except ValueError:
        return {"input": arguments}
    return value if isinstance(value, dict) else {"input": value}


def schema_tool_name(schema: dict[str, Any], default: str = "structured_output") -> str:
    """A name the providers accept (^[a-zA-Z0-9_-]{1,64}$) for a JSON schema."""
    title = schema.get("title")
    name = re.sub(r"[^a-zA-Z0-9_-]", "_", title)[:64] if isinstance(title, str) and title else default
    return name or default


def alternating_turns(messages: Iterable[Any], to_blocks: Callable[[Any], list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Anthropic and Bedrock Converse want alternating user/assistant turns: consecutive
    same-role messages (several tool results answering one assistant turn, say) become one."""
    turns: list[dict[str, Any]] = []
    for message in messages:
        role = "assistant" if message.role == "assistant" else "user"
        blocks = to_blocks(message)
        if not blocks:
            continue
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    return turns
