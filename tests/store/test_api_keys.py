from __future__ import annotations

import dataclasses
import re
from datetime import timedelta

import pytest
from flowless.auth import keys
from flowless.auth.keys import authenticate, create_api_key, delete_api_key, hash_key, list_api_keys
from flowless.auth.scopes import Forbidden, Principal, Scope, require
from flowless.settings import Settings
from flowless.store import clock, configure
from flowless.store.errors import NotFound
from flowless.store.models import ApiKeyItem


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def monotonic(monkeypatch: pytest.MonkeyPatch) -> FakeMonotonic:
    fake = FakeMonotonic()
    monkeypatch.setattr(keys, "time", fake)
    return fake


def test_create_returns_the_key_once_and_stores_only_its_hash(ddb: Settings) -> None:
    raw, key = create_api_key("tenant-a", "ci")
    assert re.fullmatch(r"sk-[A-Za-z0-9_-]{43}", raw)
    assert key.scopes == ["execute", "read", "write"] and key.is_active and key.total_uses == 0
    assert key.api_key == raw[:8] + "*" * 38
    (item,) = list(ApiKeyItem.scan())
    assert item.key_hash == hash_key(raw)
    assert raw not in repr(item.attribute_values)


def test_admin_scope_only_when_asked(ddb: Settings) -> None:
    _, key = create_api_key("tenant-a", "ops", scopes=["admin", "read"])
    assert key.scopes == ["admin", "read"]
    with pytest.raises(ValueError):
        create_api_key("tenant-a", "bad", scopes=["root"])


def test_list_is_masked_and_per_tenant(ddb: Settings) -> None:
    raw1, _ = create_api_key("tenant-a", "one")
    raw2, _ = create_api_key("tenant-a", "two")
    create_api_key("tenant-b", "theirs")
    listed = list_api_keys("tenant-a")
    assert [k.name for k in listed] == ["one", "two"]
    assert [k.api_key[:8] for k in listed] == [raw1[:8], raw2[:8]]
    assert all(k.api_key.endswith("*****") and raw1 != k.api_key for k in listed)


def test_authenticate(ddb: Settings) -> None:
    raw, key = create_api_key("tenant-a", "ci", scopes=["execute"])
    principal = authenticate(raw)
    assert principal == Principal(tenant="tenant-a", key_id=key.id, name="ci", scopes=frozenset({"execute"}))
    assert authenticate(raw[:-1] + ("A" if raw[-1] != "A" else "B")) is None
    assert authenticate("not-a-key") is None and authenticate("") is None and authenticate(None) is None


def test_cached_auth_makes_no_calls_and_usage_is_written_once_per_window(
    ddb: Settings, ddb_calls: list[str], monotonic: FakeMonotonic
) -> None:
    raw, key = create_api_key("tenant-a", "ci")
    ddb_calls.clear()
    assert authenticate(raw) is not None
    assert ddb_calls == ["UpdateItem"]  # lookup and usage in one conditional update
    for _ in range(4):
        assert authenticate(raw) is not None
    assert ddb_calls == ["UpdateItem"]
    assert list_api_keys("tenant-a")[0].total_uses == 1
    monotonic.now += ddb.auth_cache_seconds
    assert authenticate(raw) is not None
    (listed,) = list_api_keys("tenant-a")
    assert listed.total_uses == 6 and listed.last_used_at is not None


def test_no_caching_when_the_window_is_zero(ddb: Settings, ddb_calls: list[str]) -> None:
    configure(dataclasses.replace(ddb, auth_cache_seconds=0))
    raw, _ = create_api_key("tenant-a", "ci")
    ddb_calls.clear()
    authenticate(raw)
    authenticate(raw)
    assert ddb_calls == ["UpdateItem", "UpdateItem"]


def test_unknown_keys_are_cached_too(ddb: Settings, ddb_calls: list[str]) -> None:
    assert authenticate("sk-" + "x" * 43) is None
    assert authenticate("sk-" + "x" * 43) is None
    assert ddb_calls == ["UpdateItem"]
    assert list(ApiKeyItem.scan()) == []  # the failed conditional update created nothing


def test_expired_keys_do_not_authenticate(ddb: Settings, travel) -> None:
    raw, _ = create_api_key("tenant-a", "old", expires_at=clock.now() - timedelta(seconds=1))
    assert authenticate(raw) is None
    soon, _ = create_api_key("tenant-a", "soon", expires_at=clock.now() + timedelta(seconds=10))
    assert authenticate(soon) is not None
    travel.advance(seconds=11)
    assert authenticate(soon) is None  # even while cached
    assert [k.name for k in list_api_keys("tenant-a")] == ["old", "soon"]  # still listed


def test_inactive_keys_do_not_authenticate(ddb: Settings) -> None:
    raw, _ = create_api_key("tenant-a", "off")
    ApiKeyItem(hash_key(raw)).update([ApiKeyItem.is_active.set(False)])
    assert authenticate(raw) is None


def test_delete(ddb: Settings) -> None:
    raw, key = create_api_key("tenant-a", "ci")
    assert authenticate(raw) is not None
    with pytest.raises(NotFound):
        delete_api_key("tenant-b", key.id)
    assert authenticate(raw) is not None
    delete_api_key("tenant-a", key.id)
    assert authenticate(raw) is None  # this container's cache forgets it at once
    assert list_api_keys("tenant-a") == []
    with pytest.raises(NotFound):
        delete_api_key("tenant-a", key.id)


def test_scopes() -> None:
    runner = Principal("t", "k", None, frozenset({"execute"}))
    require(runner, Scope.EXECUTE)
    require(runner, "execute")
    with pytest.raises(Forbidden, match="write"):
        require(runner, Scope.WRITE)
    admin = Principal("t", "k", None, frozenset({"admin"}))
    for scope in Scope:
        require(admin, scope)
