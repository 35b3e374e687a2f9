"""Flowless: Langflow flows served as a Langflow-compatible API on AWS serverless.

The service side (storage, auth, API). Kept import-free on purpose: Lambda cold starts pay only
for the subpackages a function actually uses. The client names below (`flowless.Client`, ...)
are resolved lazily, so `import flowless` never imports httpx.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_CLIENT_NAMES = frozenset({
    "Client", "AsyncClient", "RunResult", "FlowlessError", "AuthError", "NotFoundError",
    "ValidationError", "RateLimitError", "ServerError", "ConnectionError", "FlowRunError",
})
__all__ = sorted(_CLIENT_NAMES)

if TYPE_CHECKING:  # pragma: no cover
    from flowless.client import (
        AsyncClient, AuthError, Client, ConnectionError, FlowlessError, FlowRunError, NotFoundError,
        RateLimitError, RunResult, ServerError, ValidationError,
    )


def __getattr__(name: str) -> Any:
    if name in _CLIENT_NAMES:
        from flowless import client

        return getattr(client, name)
    raise AttributeError(f"module 'flowless' has no attribute {name!r}")
