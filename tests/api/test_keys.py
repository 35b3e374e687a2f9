"""`/api_key` through the ASGI app: Langflow's shapes, the plaintext shown once, masking,
expiry, deletion, tenant isolation, the admin scope, and the local server's fixed dev key."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from flowless.store.tenancy import tenant_user_id
from tests.api.conftest import OTHER_TENANT, TENANT

KEYS = "/api/v1/api_key/"
CREATED_KEYS = {"id", "name", "api_key", "created_at", "last_used_at", "total_uses", "is_active", "expires_at", "user_id", "scopes"}


def auth(key: str) -> dict[str, str]:
    return {"x-api-key": key}


def test_create_shows_the_plaintext_once_and_lists_it_masked(client, api_env):
    response = client.post(KEYS, json={"name": "ci"}, headers=auth(api_env["key"]))
    assert response.status_code == 200
    created = response.json()
    assert set(created) == CREATED_KEYS
    assert re.fullmatch(r"sk-[A-Za-z0-9_-]{43}", created["api_key"])
    assert (created["name"], created["user_id"], created["is_active"], created["total_uses"]) == ("ci", tenant_user_id(TENANT), True, 0)
    assert created["scopes"] == ["execute", "read", "write"] and created["expires_at"] is None and created["last_used_at"] is None

    listing = client.get(KEYS, headers=auth(api_env["key"])).json()
    assert listing["user_id"] == tenant_user_id(TENANT) and listing["total_count"] == len(listing["api_keys"]) == 3  # tests, run-only, ci
    listed = next(k for k in listing["api_keys"] if k["id"] == created["id"])
    assert listed["api_key"] == created["api_key"][:8] + "*" * 38
    assert created["api_key"] not in str(listing)
    assert listed["created_at"] and listed["scopes"] == created["scopes"]

    # The new key works, within its scopes.
    assert client.get("/api/v1/flows/", headers=auth(created["api_key"])).status_code == 200
    assert client.get(KEYS, headers=auth(created["api_key"])).status_code == 403


def test_create_with_scopes_and_expiry(client, api_env):
    reader = client.post(KEYS, json={"name": "reader", "scopes": ["read"]}, headers=auth(api_env["key"])).json()
    assert reader["scopes"] == ["read"]
    assert client.get("/api/v1/flows/", headers=auth(reader["api_key"])).status_code == 200
    assert client.post("/api/v1/run/echo-prompt", json={}, headers=auth(reader["api_key"])).status_code == 403

    later = (datetime.now(timezone.utc) + timedelta(days=1)).replace(microsecond=0)
    expiring = client.post(KEYS, json={"name": "soon", "expires_at": later.isoformat()}, headers=auth(api_env["key"])).json()
    assert datetime.fromisoformat(expiring["expires_at"]) == later
    assert client.get("/api/v1/flows/", headers=auth(expiring["api_key"])).status_code == 200

    past = (datetime.now(timezone.utc) - timedelta(minutes=1)).replace(tzinfo=None).isoformat()  # naive → UTC
    expired = client.post(KEYS, json={"name": "old", "expires_at": past}, headers=auth(api_env["key"])).json()
    refused = client.get("/api/v1/flows/", headers=auth(expired["api_key"]))
    assert refused.status_code == 403 and refused.json() == {"detail": "Invalid or missing API key"}


@pytest.mark.parametrize("body", [{"name": "x", "scopes": ["root"]}, {"name": "x", "scopes": "read"}, {"name": "x", "expires_at": "soon"}])
def test_invalid_bodies_are_422(client, api_env, body):
    assert client.post(KEYS, json=body, headers=auth(api_env["key"])).status_code == 422


def test_delete_revokes_the_key(client, api_env):
    created = client.post(KEYS, json={"name": "temp"}, headers=auth(api_env["key"])).json()
    assert client.get("/api/v1/flows/", headers=auth(created["api_key"])).status_code == 200
    response = client.delete(f"{KEYS}{created['id']}", headers=auth(api_env["key"]))
    assert response.status_code == 200 and response.json() == {"detail": "API Key deleted"}
    assert client.get("/api/v1/flows/", headers=auth(created["api_key"])).status_code == 403
    assert created["id"] not in {k["id"] for k in client.get(KEYS, headers=auth(api_env["key"])).json()["api_keys"]}
    again = client.delete(f"{KEYS}{created['id']}", headers=auth(api_env["key"]))
    assert again.status_code == 404 and again.json() == {"detail": "API Key not found"}
    assert client.delete(f"{KEYS}{uuid.uuid4()}", headers=auth(api_env["key"])).status_code == 404


def test_other_tenants_cannot_list_or_delete_keys(client, api_env):
    listing = client.get(KEYS, headers=auth(api_env["key"])).json()
    assert len(listing["api_keys"]) == 2
    theirs = client.get(KEYS, headers=auth(api_env["other_key"])).json()
    assert theirs["user_id"] == tenant_user_id(OTHER_TENANT) and [k["name"] for k in theirs["api_keys"]] == ["other"]
    for key in listing["api_keys"]:
        response = client.delete(f"{KEYS}{key['id']}", headers=auth(api_env["other_key"]))
        assert response.status_code == 404 and response.json() == {"detail": "API Key not found"}
    assert client.get(f"/lf/{TENANT}/api/v1/api_key/", headers=auth(api_env["other_key"])).status_code == 404
    after = client.get(KEYS, headers=auth(api_env["key"])).json()["api_keys"]
    assert [(k["id"], k["name"], k["scopes"]) for k in after] == [(k["id"], k["name"], k["scopes"]) for k in listing["api_keys"]]
    assert client.post("/api/v1/run/echo-prompt", json={}, headers=auth(api_env["run_only_key"])).status_code == 200


@pytest.mark.parametrize(("method", "path", "kwargs", "ok"), [("GET", "", {}, 200), ("POST", "", {"json": {"name": "n"}}, 200), ("DELETE", "{id}", {}, 200)])
def test_key_routes_need_the_admin_scope(client, api_env, scoped_keys, method, path, kwargs, ok):
    from flowless.auth.keys import create_api_key

    def url() -> str:
        return KEYS + path.format(id=create_api_key(TENANT, "victim")[1].id)

    refused = client.request(method, url(), headers=auth(scoped_keys["admin"]["without"]), **kwargs)
    assert refused.status_code == 403 and refused.json() == {"detail": "This API key lacks the 'admin' scope"}
    assert client.request(method, url(), headers=auth(scoped_keys["admin"]["with"]), **kwargs).status_code == ok
    assert client.get(KEYS).status_code == 403


def test_admin_implies_every_scope(client, api_env, scoped_keys):
    admin = scoped_keys["admin"]["with"]
    assert client.get("/api/v1/flows/", headers=auth(admin)).status_code == 200
    assert client.post("/api/v1/run/echo-prompt", json={"input_value": "a"}, headers=auth(admin)).status_code == 200
    assert client.patch(f"/api/v1/flows/{api_env['flows']['Echo Prompt']}", json={"description": "x"}, headers=auth(admin)).status_code == 200


def test_local_dev_key_is_registered_once_and_works(client, api_env):
    from flowless.local.server import ensure_dev_key

    fixed = "sk-local-development-key-0001"
    assert ensure_dev_key(TENANT, fixed) == fixed
    assert ensure_dev_key(TENANT, fixed) == fixed
    names = [k["name"] for k in client.get(KEYS, headers=auth(fixed)).json()["api_keys"]]
    assert names.count("dev") == 1
    assert client.post("/api/v1/run/echo-prompt", json={"input_value": "dev"}, headers=auth(fixed)).status_code == 200
    with pytest.raises(ValueError):
        ensure_dev_key(TENANT, "sk-short")
    with pytest.raises(ValueError):
        ensure_dev_key(TENANT, "not-a-flowless-key-at-all")
