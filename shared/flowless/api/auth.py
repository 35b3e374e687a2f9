"""Who is calling: the API key (header, query or Bearer) → tenant and scopes.

`/lf/<langflow_id>/...` paths must name the key's own tenant; another tenant answers 404,
exactly like an unknown resource, so ids cannot be probed across tenants.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Depends, Request

from flowless.api.errors import ApiError

MISSING_KEY = "An API key must be passed as query or header"
INVALID_KEY = "Invalid or missing API key"


@dataclass(frozen=True)
class Caller:
    tenant: str
    key_id: str
    scopes: frozenset[str]


def api_key_from(request: Request) -> str | None:
    key = request.headers.get("x-api-key") or request.query_params.get("x-api-key")
    if key:
        return key.strip()
    authorization = request.headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def authenticate(request: Request) -> Caller:
    from flowless.auth.keys import authenticate as lookup

    raw = api_key_from(request)
    if not raw:
        raise ApiError(403, MISSING_KEY)
    principal = lookup(raw)
    if principal is None:
        raise ApiError(403, INVALID_KEY)
    langflow_id = request.path_params.get("langflow_id")
    if langflow_id is not None and langflow_id != principal.tenant:
        raise ApiError(404, "Not Found")
    request.state.tenant = principal.tenant
    return Caller(tenant=principal.tenant, key_id=principal.key_id, scopes=frozenset(str(getattr(s, "value", s)) for s in principal.scopes))


def requires(scope: str) -> Callable[..., Caller]:
    """A dependency: the caller, after checking the key carries `scope` (admin implies all)."""

    def dependency(caller: Caller = Depends(authenticate)) -> Caller:
        if scope not in caller.scopes and "admin" not in caller.scopes:
            raise ApiError(403, f"This API key lacks the '{scope}' scope")
        return caller

    dependency.__name__ = f"requires_{scope}"
    return dependency
