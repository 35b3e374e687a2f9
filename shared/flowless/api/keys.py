"""`/api_key` routes: the tenant's API keys (admin scope). The plaintext key is shown once."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from flowless.api.auth import Caller, requires
from flowless.api.errors import ApiError
from flowless.auth.keys import ApiKey, create_api_key, delete_api_key, list_api_keys
from flowless.store.errors import NotFound
from flowless.store.tenancy import tenant_user_id

router = APIRouter(prefix="/api_key", tags=["APIKey"])


class ApiKeyCreate(BaseModel):
    name: str | None = None
    expires_at: datetime | None = None
    scopes: list[Literal["read", "execute", "write", "admin"]] | None = None  # default: read, execute, write


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def key_read(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "name": key.name,
        "api_key": key.api_key,
        "created_at": iso(key.created_at),
        "last_used_at": iso(key.last_used_at),
        "total_uses": key.total_uses,
        "is_active": key.is_active,
        "expires_at": iso(key.expires_at),
        "user_id": tenant_user_id(key.tenant),
        "scopes": key.scopes,
    }


@router.post("/")
def create_key(body: ApiKeyCreate, caller: Caller = Depends(requires("admin"))) -> dict[str, Any]:
    expires_at = body.expires_at
    if expires_at is not None and expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=timezone.utc)
    plaintext, key = create_api_key(caller.tenant, body.name, scopes=body.scopes, expires_at=expires_at)
    return {**key_read(key), "api_key": plaintext}


@router.get("/")
def list_keys(caller: Caller = Depends(requires("admin"))) -> dict[str, Any]:
    keys = list_api_keys(caller.tenant)
    return {"total_count": len(keys), "user_id": tenant_user_id(caller.tenant), "api_keys": [key_read(k) for k in keys]}


@router.delete("/{key_id}")
def delete_key(key_id: str, caller: Caller = Depends(requires("admin"))) -> dict[str, str]:
    try:
        delete_api_key(caller.tenant, key_id)
    except NotFound:
        raise ApiError(404, "API Key not found") from None
    return {"detail": "API Key deleted"}
