"""`/variables` through the ASGI app: Langflow's shapes, Credential values never returned,
values encrypted at rest, resolution at run time, tenant isolation and scopes."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.api.conftest import OTHER_TENANT, TENANT

VARIABLES = "/api/v1/variables/"


def auth(key: str) -> dict[str, str]:
    return {"x-api-key": key}


def create(client: Any, key: str, name: str, value: str, type: str = "Generic", **extra: Any) -> Any:
    return client.post(VARIABLES, json={"name": name, "value": value, "type": type, "default_fields": [], **extra}, headers=auth(key))


def test_create_and_list_never_return_credential_values(client, api_env):
    key = api_env["key"]
    generic = create(client, key, "REGION", "eu-west-1", default_fields=["region"])
    assert generic.status_code == 201
    body = generic.json()
    assert set(body) == {"id", "name", "type", "value", "default_fields"} and uuid.UUID(body["id"])
    assert (body["name"], body["type"], body["value"], body["default_fields"]) == ("REGION", "Generic", "eu-west-1", ["region"])
    credential = create(client, key, "OPENAI_API_KEY", "sk-very-secret", "Credential")
    assert credential.status_code == 201 and credential.json()["value"] is None and credential.json()["type"] == "Credential"

    listing = client.get(VARIABLES, headers=auth(key))
    assert listing.status_code == 200
    by_name = {v["name"]: v for v in listing.json()}
    assert by_name["REGION"]["value"] == "eu-west-1" and by_name["OPENAI_API_KEY"]["value"] is None
    assert "sk-very-secret" not in listing.text
    untyped = client.post(VARIABLES, json={"name": "UNTYPED", "value": "hidden"}, headers=auth(key)).json()
    assert untyped["type"] == "Credential" and untyped["value"] is None


def test_values_are_encrypted_at_rest(client, api_env):
    from flowless.store.models import VariableItem

    create(client, api_env["key"], "TOKEN", "plain-token-value", "Credential")
    stored = VariableItem.get(TENANT, "TOKEN").value
    assert isinstance(stored, bytes) and b"plain-token-value" not in stored


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"name": "", "value": ""}, "Variable name and value cannot be empty"),
        ({"name": "", "value": "v"}, "Variable name cannot be empty"),
        ({"name": "N", "value": ""}, "Variable value cannot be empty"),
    ],
)
def test_create_refuses_empty_names_and_values(client, api_env, body, detail):
    response = client.post(VARIABLES, json=body, headers=auth(api_env["key"]))
    assert response.status_code == 400 and response.json() == {"detail": detail}


def test_create_errors(client, api_env):
    key = api_env["key"]
    create(client, key, "DUP", "1")
    duplicate = create(client, key, "DUP", "2")
    assert duplicate.status_code == 400 and duplicate.json() == {"detail": "Variable name already exists"}
    assert create(client, key, "T", "v", "Secret").status_code == 422
    # The same name in another tenant is another variable.
    assert create(client, api_env["other_key"], "DUP", "theirs").status_code == 201


def test_update(client, api_env):
    key = api_env["key"]
    variable = create(client, key, "MODEL", "small").json()
    response = client.patch(f"{VARIABLES}{variable['id']}", json={"id": variable["id"], "value": "large", "default_fields": ["model"]}, headers=auth(key))
    assert response.status_code == 200
    assert response.json() == {**variable, "value": "large", "default_fields": ["model"]}
    renamed = client.patch(f"{VARIABLES}{variable['id']}", json={"name": "MODEL_NAME"}, headers=auth(key)).json()
    assert (renamed["id"], renamed["name"], renamed["value"]) == (variable["id"], "MODEL_NAME", "large")
    secret = client.patch(f"{VARIABLES}{variable['id']}", json={"type": "Credential"}, headers=auth(key)).json()
    assert secret["type"] == "Credential" and secret["value"] is None

    create(client, key, "TAKEN", "x")
    clash = client.patch(f"{VARIABLES}{variable['id']}", json={"name": "TAKEN"}, headers=auth(key))
    assert clash.status_code == 400 and clash.json() == {"detail": "Variable name already exists"}
    missing = client.patch(f"{VARIABLES}{uuid.uuid4()}", json={"value": "x"}, headers=auth(key))
    assert missing.status_code == 404 and missing.json() == {"detail": "Variable not found"}
    assert client.patch(f"{VARIABLES}not-a-uuid", json={"value": "x"}, headers=auth(key)).status_code == 422
    assert client.patch(f"{VARIABLES}{variable['id']}", json={"value": ""}, headers=auth(key)).status_code == 422


def test_delete(client, api_env):
    key = api_env["key"]
    variable = create(client, key, "GONE", "soon").json()
    response = client.delete(f"{VARIABLES}{variable['id']}", headers=auth(key))
    assert response.status_code == 204 and response.content == b""
    assert client.get(VARIABLES, headers=auth(key)).json() == []
    again = client.delete(f"{VARIABLES}{variable['id']}", headers=auth(key))
    assert again.status_code == 404 and again.json() == {"detail": "Variable not found"}


def test_other_tenants_cannot_see_or_change_variables(client, api_env):
    key, other = api_env["key"], api_env["other_key"]
    variable = create(client, key, "MINE", "value").json()
    assert client.get(VARIABLES, headers=auth(other)).json() == []
    patched = client.patch(f"{VARIABLES}{variable['id']}", json={"value": "stolen"}, headers=auth(other))
    assert patched.status_code == 404 and patched.json() == {"detail": "Variable not found"}
    deleted = client.delete(f"{VARIABLES}{variable['id']}", headers=auth(other))
    assert deleted.status_code == 404
    assert client.get(f"/lf/{TENANT}/api/v1/variables/", headers=auth(other)).status_code == 404
    assert client.get(VARIABLES, headers=auth(key)).json() == [variable]
    assert client.get(f"/lf/{OTHER_TENANT}/api/v1/variables/", headers=auth(other)).json() == []


def test_flows_resolve_variables_created_through_the_api(client, api_env, monkeypatch):
    from flowless import runs

    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # nothing listens there
    runs.engine_settings.cache_clear()
    key = api_env["key"]
    failing = client.post("/api/v1/run/basic-chat", json={"input_value": "before"}, headers=auth(key))
    assert failing.status_code in (502, 504)

    assert create(client, key, "OPENAI_BASE_URL", api_env["server"].base_url).status_code == 201
    assert create(client, key, "OPENAI_API_KEY", "sk-from-a-variable", "Credential").status_code == 201
    response = client.post("/api/v1/run/basic-chat", json={"input_value": "via variable"}, headers=auth(key))
    assert response.status_code == 200
    assert response.json()["outputs"][0]["outputs"][0]["results"]["message"]["text"] == "Echo: via variable"
    assert api_env["server"].requests[-1].headers["authorization"] == "Bearer sk-from-a-variable"
    # Tenant B's flows do not see tenant A's variables.
    from flowless.store.variables import VariableRepository

    assert VariableRepository(OTHER_TENANT).get("OPENAI_BASE_URL") is None


@pytest.mark.parametrize(
    ("method", "scope", "body", "ok"),
    [("GET", "read", None, 200), ("POST", "write", {"name": "S", "value": "v"}, 201), ("PATCH", "write", {"value": "w"}, 200), ("DELETE", "write", None, 204)],
)
def test_each_variable_route_needs_its_scope(client, api_env, scoped_keys, method, scope, body, ok):
    variable = create(client, api_env["key"], "EXISTING", "v").json()
    url = VARIABLES if method in ("GET", "POST") else f"{VARIABLES}{variable['id']}"
    kwargs = {"json": body} if body is not None else {}
    refused = client.request(method, url, headers=auth(scoped_keys[scope]["without"]), **kwargs)
    assert refused.status_code == 403 and refused.json() == {"detail": f"This API key lacks the '{scope}' scope"}
    assert client.request(method, url, headers=auth(scoped_keys[scope]["with"]), **kwargs).status_code == ok
    assert client.request(method, url, **kwargs).status_code == 403
