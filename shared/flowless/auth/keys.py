"""API keys: `sk-` + 43 url-safe characters, stored only as a SHA-256 hash.

`authenticate` keeps results in the warm container for `auth_cache_seconds`, so the hot path
usually makes no DynamoDB call for auth. A cache miss costs one conditional UpdateItem that both
checks the key (exists, active, not expired) and records its use; uses served from the cache are
counted and added on the next refresh, so a key's usage is written at most once per window.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import datetime

from flowless.auth.scopes import Principal, parse_scopes
from flowless.store import clock
from flowless.store.api_keys import ApiKeyRecord, ApiKeyRepository, record_use
from flowless.store.connection import store_settings

KEY_PREFIX = "sk-"
KEY_LENGTH = len(KEY_PREFIX) + 43  # token_urlsafe(32) gives 43 characters
MIN_CHOSEN_LENGTH = 24
SHOWN_CHARS = 8  # like Langflow: the first 8 characters stay readable in listings
_CACHE_LIMIT = 4096


@dataclass
class ApiKey:
    """A key as listed: never the secret, only its masked form."""

    id: str
    tenant: str
    name: str | None
    api_key: str  # masked
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None
    total_uses: int
    is_active: bool
    expires_at: datetime | None


@dataclass
class _CacheEntry:
    principal: Principal | None
    expires_at: datetime | None
    loaded: float  # time.monotonic()
    unrecorded_uses: int = 0


_cache: dict[str, _CacheEntry] = {}


def hash_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def mask(prefix: str) -> str:
    return prefix + "*" * (KEY_LENGTH - len(prefix))


def create_api_key(
    tenant: str,
    name: str | None,
    scopes: list[str] | None = None,
    expires_at: datetime | None = None,
    *,
    plaintext: str | None = None,
) -> tuple[str, ApiKey]:
    """A new key for `tenant`; the plaintext is returned here and never again.

    `plaintext` registers a key chosen by the caller (a fixed local/CI key) instead of a random one.
    """
    if plaintext is not None and (not plaintext.startswith(KEY_PREFIX) or len(plaintext) < MIN_CHOSEN_LENGTH):
        raise ValueError(f"a chosen API key must start with '{KEY_PREFIX}' and have at least {MIN_CHOSEN_LENGTH} characters")
    raw = plaintext or KEY_PREFIX + secrets.token_urlsafe(32)
    record = ApiKeyRecord(
        key_hash=hash_key(raw),
        key_id=str(uuid.uuid4()),
        tenant=tenant,
        name=name,
        prefix=raw[:SHOWN_CHARS],
        scopes=parse_scopes(scopes),
        created_at=clock.now(),
        expires_at=expires_at,
    )
    ApiKeyRepository(tenant).add(record)
    _cache.pop(record.key_hash, None)  # a chosen key may have been tried (and cached as unknown)
    return raw, _listed(record)


def list_api_keys(tenant: str) -> list[ApiKey]:
    return [_listed(record) for record in ApiKeyRepository(tenant).list()]


def delete_api_key(tenant: str, key_id: str) -> None:
    """Raises NotFound for an unknown key or another tenant's key."""
    record = ApiKeyRepository(tenant).delete(key_id)
    _cache.pop(record.key_hash, None)  # other warm containers forget it within the cache window


def authenticate(raw_key: str | None) -> Principal | None:
    """The principal for a usable key, or None (unknown, inactive, deleted or expired)."""
    if not raw_key or not raw_key.startswith(KEY_PREFIX):
        return None
    key_hash = hash_key(raw_key)
    window = store_settings().auth_cache_seconds
    now = time.monotonic()
    entry = _cache.get(key_hash)
    if entry is not None and now - entry.loaded < window:
        if entry.principal is None or (entry.expires_at is not None and entry.expires_at <= clock.now()):
            return None
        entry.unrecorded_uses += 1
        return entry.principal
    uses = 1 + (entry.unrecorded_uses if entry and entry.principal else 0)
    record = record_use(key_hash, uses, clock.now())
    principal = (
        Principal(tenant=record.tenant, key_id=record.key_id, name=record.name, scopes=frozenset(record.scopes))
        if record
        else None
    )
    if window > 0:
        if len(_cache) >= _CACHE_LIMIT:
            _cache.pop(next(iter(_cache)))  # oldest inserted first
        _cache[key_hash] = _CacheEntry(principal, record.expires_at if record else None, now)
    return principal


def clear_auth_cache() -> None:
    _cache.clear()


def _listed(record: ApiKeyRecord) -> ApiKey:
    return ApiKey(
        id=record.key_id,
        tenant=record.tenant,
        name=record.name,
        api_key=mask(record.prefix),
        scopes=list(record.scopes),
        created_at=record.created_at,
        last_used_at=record.last_used_at,
        total_uses=record.total_uses,
        is_active=record.is_active,
        expires_at=record.expires_at,
    )
