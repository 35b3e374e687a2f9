"""`/flows` through the ASGI app: Langflow's CRUD, batch, upload/download shapes, the engine
check on save, exports without secrets, tenant isolation and scopes."""

from __future__ import annotations

import copy
import io
import json
import re
import uuid
import zipfile
from typing import Any

import pytest

from flowless.store.tenancy import tenant_user_id
from tests.api.conftest import EXAMPLE_FLOWS, OTHER_TENANT, TENANT, shared_flow
from tests.support.engine_kit import SHARED_STARTERS

FLOWS = "/api/v1/flows/"
FLOW_READ_KEYS = {
    "id", "name", "description", "icon", "icon_bg_color", "gradient", "data", "is_component", "updated_at", "webhook",
    "endpoint_name", "tags", "locked", "mcp_enabled", "action_name", "action_description", "access_type", "flow_type",
    "a2a_enabled", "a2a_card_overrides", "user_id", "folder_id", "workspace_id", "version_token",
}
WHOLE_SECONDS_WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")


def auth(key: str) -> dict[str, str]:
    return {"x-api-key": key}


def echo_flow(name: str = "Mini", **fields: Any) -> dict[str, Any]:
    """The echo example (no model needed) as a new flow: no id, its own name."""
    flow = json.loads((EXAMPLE_FLOWS / "echo-prompt.json").read_text(encoding="utf-8"))
    del flow["id"]
    flow.update({"name": name, "endpoint_name": None, "tags": [], **fields})
    return flow


def set_template(data: dict[str, Any], text: str) -> dict[str, Any]:
    changed = copy.deepcopy(data)
    prompt = next(n for n in changed["nodes"] if n["id"] == "Prompt-ech02")
    prompt["data"]["node"]["template"]["template"]["value"] = text
    return changed


def run_text(client: Any, flow: str, key: str, text: str = "hi", **body: Any) -> str:
    response = client.post(f"/api/v1/run/{flow}", json={"input_value": text, **body}, headers=auth(key))
    assert response.status_code == 200, response.text
    return response.json()["outputs"][0]["outputs"][0]["results"]["message"]["text"]


def zip_of(files: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            # A fixed date: the same bytes in every process (test ids must match across xdist workers).
            entry = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            archive.writestr(entry, content if isinstance(content, (str, bytes)) else json.dumps(content))
    return buffer.getvalue()


def upload(client: Any, key: str, content: bytes, filename: str = "flows.zip", **params: Any) -> Any:
    return client.post(f"{FLOWS}upload/", files={"file": (filename, content)}, headers=auth(key), params=params)


# --- create -----------------------------------------------------------------------------------


def test_create_answers_flow_read_with_the_engine_check(client, api_env):
    response = client.post(FLOWS, json=echo_flow("Mini", description="d", tags=["t"], icon_bg_color="#a1b2c3"), headers=auth(api_env["key"]))
    assert response.status_code == 201
    body = response.json()
    assert set(body) == FLOW_READ_KEYS | {"flowless"}
    assert body["flowless"] == {"runnable": True, "unsupported": [], "problems": [], "code": []}
    assert body["name"] == "Mini" and body["description"] == "d" and body["tags"] == ["t"] and body["icon_bg_color"] == "#a1b2c3"
    assert body["user_id"] == tenant_user_id(TENANT) and body["access_type"] == "PRIVATE" and body["flow_type"] == "workflow"
    assert body["webhook"] is False and body["is_component"] is False and body["endpoint_name"] is None
    assert WHOLE_SECONDS_WITH_OFFSET.match(body["updated_at"])
    assert uuid.UUID(body["id"]) and body["data"]["nodes"][0]["id"] == "ChatInput-ech01"
    assert run_text(client, body["id"], api_env["key"], "new").startswith("You said: new")


def test_create_with_an_id_keeps_it(client, api_env):
    flow_id = str(uuid.uuid4())
    response = client.post(FLOWS, json=echo_flow("With id", id=flow_id), headers=auth(api_env["key"]))
    assert response.status_code == 201 and response.json()["id"] == flow_id
    taken = client.post(FLOWS, json=echo_flow("Same id", id=flow_id), headers=auth(api_env["key"]))
    assert taken.status_code == 409 and taken.json() == {"detail": "A flow with this id already exists"}


def test_name_and_endpoint_clashes_get_suffixes(client, api_env):
    first = client.post(FLOWS, json=echo_flow("Echo Prompt", endpoint_name="echo-prompt"), headers=auth(api_env["key"])).json()
    second = client.post(FLOWS, json=echo_flow("Echo Prompt", endpoint_name="echo-prompt"), headers=auth(api_env["key"])).json()
    assert (first["name"], first["endpoint_name"]) == ("Echo Prompt (1)", "echo-prompt-1")
    assert (second["name"], second["endpoint_name"]) == ("Echo Prompt (2)", "echo-prompt-2")


def test_unsupported_components_and_problems_are_reported_not_refused(client, api_env):
    exported = shared_flow("Memory Chatbot")
    memory = next(n for n in exported["data"]["nodes"] if n["data"]["type"] == "MemoryBase")
    memory["data"]["type"] = "Frobnicator"  # a type no native component serves
    agent = client.post(FLOWS, json=exported, headers=auth(api_env["key"])).json()
    assert agent["flowless"]["runnable"] is False
    assert {"type": "Frobnicator", "node_ids": [memory["id"]]} in agent["flowless"]["unsupported"]
    broken = echo_flow("Dangling")
    broken["data"]["edges"][0]["target"] = "Nowhere-1"
    body = client.post(FLOWS, json=broken, headers=auth(api_env["key"])).json()
    assert body["flowless"]["runnable"] is False and body["flowless"]["unsupported"] == []
    assert [p["kind"] for p in body["flowless"]["problems"]] == ["dangling_edge"]
    empty = client.post(FLOWS, json={"name": "Empty"}, headers=auth(api_env["key"])).json()
    assert empty["data"] is None and empty["flowless"]["problems"][0]["kind"] == "empty_flow"


def test_webhook_flag_follows_a_webhook_node(client, api_env):
    flow = echo_flow("Hooked")
    flow["data"]["nodes"].append({"id": "Webhook-w1", "type": "genericNode", "data": {"id": "Webhook-w1", "type": "Webhook", "node": {"template": {}}}})
    created = client.post(FLOWS, json=flow, headers=auth(api_env["key"])).json()
    assert created["webhook"] is True
    patched = client.patch(f"{FLOWS}{created['id']}", json={"data": echo_flow()["data"]}, headers=auth(api_env["key"])).json()
    assert patched["webhook"] is False


def test_malformed_data_is_422_with_the_loaders_problems(client, api_env):
    before = len(client.get(FLOWS, headers=auth(api_env["key"])).json())
    bad_node = client.post(FLOWS, json={"name": "Bad", "data": {"nodes": [{"id": "X-1"}], "edges": []}}, headers=auth(api_env["key"]))
    assert bad_node.status_code == 422
    detail = bad_node.json()["detail"]
    assert detail["code"] == "INVALID_FLOW" and detail["problems"][0]["kind"] == "malformed_node"
    no_edges = client.post(FLOWS, json={"name": "Bad", "data": {"nodes": []}}, headers=auth(api_env["key"]))
    assert no_edges.status_code == 422 and "Flow must have edges" in no_edges.json()["detail"][0]["msg"]
    assert client.post(FLOWS, json={"data": echo_flow()["data"]}, headers=auth(api_env["key"])).status_code == 422  # no name
    assert len(client.get(FLOWS, headers=auth(api_env["key"])).json()) == before


@pytest.mark.parametrize(
    "fields",
    [{"endpoint_name": "has space"}, {"endpoint_name": "slash/no"}, {"icon_bg_color": "red"}, {"access_type": "SHARED"}, {"flow_type": "x"}],
)
def test_invalid_fields_are_422(client, api_env, fields):
    response = client.post(FLOWS, json=echo_flow("Invalid", **fields), headers=auth(api_env["key"]))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][:2] == ["body", next(iter(fields))]


def test_too_large_flow_is_413(client, api_env, monkeypatch):
    from flowless.store import flows as store_flows

    monkeypatch.setattr(store_flows, "MAX_COMPRESSED_FLOW_BYTES", 200)
    response = client.post(FLOWS, json=echo_flow("Huge"), headers=auth(api_env["key"]))
    assert response.status_code == 413
    assert response.json()["detail"].startswith("The flow is too large to store")


# --- read and list ----------------------------------------------------------------------------


def test_get_flow_and_not_found(client, api_env):
    flow_id = api_env["flows"]["Echo Prompt"]
    body = client.get(f"{FLOWS}{flow_id}", headers=auth(api_env["key"])).json()
    assert set(body) == FLOW_READ_KEYS and body["name"] == "Echo Prompt" and body["endpoint_name"] == "echo-prompt"
    missing = client.get(f"{FLOWS}{uuid.uuid4()}", headers=auth(api_env["key"]))
    assert missing.status_code == 404 and missing.json() == {"detail": "Flow not found"}
    assert client.get(f"{FLOWS}not-a-uuid", headers=auth(api_env["key"])).status_code == 422


def test_list_all_headers_and_pages(client, api_env):
    key = api_env["key"]
    for index in range(3):
        client.post(FLOWS, json=echo_flow(f"Extra {index}"), headers=auth(key))
    everything = client.get(FLOWS, headers=auth(key)).json()
    assert len(everything) == 5 and all(set(f) == FLOW_READ_KEYS for f in everything)
    headers = client.get(FLOWS, params={"header_flows": "true"}, headers=auth(key)).json()
    assert {h["id"] for h in headers} == {f["id"] for f in everything}
    assert "data" not in headers[0] and {"id", "name", "folder_id", "is_component", "endpoint_name", "description"} <= set(headers[0])
    page = client.get(FLOWS, params={"get_all": "false", "page": 2, "size": 2}, headers=auth(key)).json()
    assert (page["total"], page["page"], page["size"], page["pages"]) == (5, 2, 2, 3)
    assert [f["id"] for f in page["items"]] == [f["id"] for f in everything[2:4]]
    assert client.get(FLOWS, params={"get_all": "false", "size": 0}, headers=auth(key)).status_code == 422


def test_list_filters(client, api_env):
    key = api_env["key"]
    folder = client.post("/api/v1/projects/", json={"name": "Filtered"}, headers=auth(key)).json()["id"]
    in_folder = client.post(FLOWS, json=echo_flow("In folder", folder_id=folder), headers=auth(key)).json()
    component = client.post(FLOWS, json=echo_flow("A component", is_component=True), headers=auth(key)).json()
    agent = client.post(FLOWS, json=echo_flow("An agent", flow_type="agent"), headers=auth(key)).json()

    def names(**params: Any) -> set[str]:
        return {f["name"] for f in client.get(FLOWS, params=params, headers=auth(key)).json()}

    assert names(folder_id=folder) == {in_folder["name"]}
    assert names(components_only="true") == {component["name"]}
    assert names(flow_type="agent") == {agent["name"]}
    # The example flows Flowless ships carry the "example" tag.
    assert names(remove_example_flows="true") == {in_folder["name"], component["name"], agent["name"]}
    assert names(header_flows="true", components_only="true") == {component["name"]}


# --- update -----------------------------------------------------------------------------------


def test_patch_is_partial_and_bumps_the_version_token(client, api_env):
    flow_id = api_env["flows"]["Echo Prompt"]
    before = client.get(f"{FLOWS}{flow_id}", headers=auth(api_env["key"])).json()
    response = client.patch(f"{FLOWS}{flow_id}", json={"description": "changed", "tags": ["new"]}, headers=auth(api_env["key"]))
    assert response.status_code == 200
    body = response.json()
    assert body["description"] == "changed" and body["tags"] == ["new"]
    assert body["name"] == before["name"] and body["endpoint_name"] == before["endpoint_name"] and body["data"] == before["data"]
    assert int(body["version_token"]) == int(before["version_token"]) + 1
    assert body["flowless"]["runnable"] is True


def test_patch_data_is_seen_by_the_next_run(client, api_env):
    flow_id = api_env["flows"]["Echo Prompt"]
    assert run_text(client, "echo-prompt", api_env["key"], "one").startswith("You said: one")  # graph now cached
    data = client.get(f"{FLOWS}{flow_id}", headers=auth(api_env["key"])).json()["data"]
    patched = client.patch(f"{FLOWS}{flow_id}", json={"data": set_template(data, "Patched {question}")}, headers=auth(api_env["key"]))
    assert patched.status_code == 200
    assert run_text(client, "echo-prompt", api_env["key"], "two") == "Patched two"


def test_patch_unique_clashes_are_400(client, api_env):
    other = client.post(FLOWS, json=echo_flow("Other", endpoint_name="other"), headers=auth(api_env["key"])).json()
    name_clash = client.patch(f"{FLOWS}{other['id']}", json={"name": "Echo Prompt"}, headers=auth(api_env["key"]))
    assert name_clash.status_code == 400 and name_clash.json() == {"detail": "Name must be unique"}
    endpoint_clash = client.patch(f"{FLOWS}{other['id']}", json={"endpoint_name": "echo-prompt"}, headers=auth(api_env["key"]))
    assert endpoint_clash.status_code == 400 and endpoint_clash.json() == {"detail": "Endpoint name must be unique"}
    unchanged = client.get(f"{FLOWS}{other['id']}", headers=auth(api_env["key"])).json()
    assert (unchanged["name"], unchanged["endpoint_name"], unchanged["version_token"]) == ("Other", "other", other["version_token"])


@pytest.mark.parametrize("cleared", [None, ""])
def test_patch_clears_the_endpoint_name(client, api_env, cleared):
    flow_id = api_env["flows"]["Echo Prompt"]
    body = client.patch(f"{FLOWS}{flow_id}", json={"endpoint_name": cleared}, headers=auth(api_env["key"])).json()
    assert body["endpoint_name"] is None
    assert client.post("/api/v1/run/echo-prompt", json={}, headers=auth(api_env["key"])).status_code == 404
    # Omitted → unchanged; the freed endpoint can be taken again.
    again = client.patch(f"{FLOWS}{flow_id}", json={"endpoint_name": "echo-again"}, headers=auth(api_env["key"])).json()
    assert client.patch(f"{FLOWS}{flow_id}", json={"description": "x"}, headers=auth(api_env["key"])).json()["endpoint_name"] == again["endpoint_name"] == "echo-again"


def test_patch_errors(client, api_env):
    flow_id = api_env["flows"]["Echo Prompt"]
    key = api_env["key"]
    assert client.patch(f"{FLOWS}{flow_id}", json={"endpoint_name": "bad name"}, headers=auth(key)).status_code == 422
    assert client.patch(f"{FLOWS}{flow_id}", json={"name": ""}, headers=auth(key)).status_code == 422
    assert client.patch(f"{FLOWS}{flow_id}", json={"data": {"nodes": "x", "edges": []}}, headers=auth(key)).json()["detail"]["code"] == "INVALID_FLOW"
    missing = client.patch(f"{FLOWS}{uuid.uuid4()}", json={"description": "x"}, headers=auth(key))
    assert missing.status_code == 404 and missing.json() == {"detail": "Flow not found"}


def test_patch_if_match_guards_against_lost_updates(client, api_env):
    flow_id = api_env["flows"]["Echo Prompt"]
    token = client.get(f"{FLOWS}{flow_id}", headers=auth(api_env["key"])).json()["version_token"]
    fresh = client.patch(f"{FLOWS}{flow_id}", json={"description": "first"}, headers={**auth(api_env["key"]), "If-Match": f'"{token}"'})
    assert fresh.status_code == 200
    stale = client.patch(f"{FLOWS}{flow_id}", json={"description": "second"}, headers={**auth(api_env["key"]), "If-Match": token})
    assert stale.status_code == 412
    assert client.get(f"{FLOWS}{flow_id}", headers=auth(api_env["key"])).json()["description"] == "first"


def test_locked_flow_refuses_data_changes(client, api_env):
    flow = client.post(FLOWS, json=echo_flow("Locked", locked=True), headers=auth(api_env["key"])).json()
    new_data = set_template(flow["data"], "Other {question}")
    refused = client.patch(f"{FLOWS}{flow['id']}", json={"data": new_data}, headers=auth(api_env["key"]))
    assert refused.status_code == 423
    assert client.patch(f"{FLOWS}{flow['id']}", json={"description": "metadata is fine"}, headers=auth(api_env["key"])).status_code == 200
    unlocked = client.patch(f"{FLOWS}{flow['id']}", json={"data": new_data, "locked": False}, headers=auth(api_env["key"]))
    assert unlocked.status_code == 200 and unlocked.json()["locked"] is False


def test_put_upserts(client, api_env):
    flow_id = str(uuid.uuid4())
    created = client.put(f"{FLOWS}{flow_id}", json=echo_flow("Put"), headers=auth(api_env["key"]))
    assert created.status_code == 201 and created.json()["id"] == flow_id and created.json()["flowless"]["runnable"] is True
    updated = client.put(f"{FLOWS}{flow_id}", json=echo_flow("Put renamed", description="v2"), headers=auth(api_env["key"]))
    assert updated.status_code == 200
    assert (updated.json()["name"], updated.json()["description"], updated.json()["version_token"]) == ("Put renamed", "v2", "2")
    clash = client.put(f"{FLOWS}{flow_id}", json=echo_flow("Echo Prompt"), headers=auth(api_env["key"]))
    assert clash.status_code == 400 and clash.json() == {"detail": "Name must be unique"}
    assert client.put(f"{FLOWS}nope", json=echo_flow("x"), headers=auth(api_env["key"])).status_code == 422


# --- delete -----------------------------------------------------------------------------------


def test_delete_one(client, api_env):
    flow_id = api_env["flows"]["Echo Prompt"]
    response = client.delete(f"{FLOWS}{flow_id}", headers=auth(api_env["key"]))
    assert response.status_code == 200 and response.json() == {"message": "Flow deleted successfully"}
    assert client.get(f"{FLOWS}{flow_id}", headers=auth(api_env["key"])).status_code == 404
    assert client.post("/api/v1/run/echo-prompt", json={}, headers=auth(api_env["key"])).status_code == 404
    again = client.delete(f"{FLOWS}{flow_id}", headers=auth(api_env["key"]))
    assert again.status_code == 404 and again.json() == {"detail": "Flow not found"}
    # The name and endpoint are free again.
    assert client.post(FLOWS, json=echo_flow("Echo Prompt", endpoint_name="echo-prompt"), headers=auth(api_env["key"])).json()["endpoint_name"] == "echo-prompt"


def test_delete_many(client, api_env):
    ids = list(api_env["flows"].values())
    response = client.request("DELETE", FLOWS, json=[*ids, str(uuid.uuid4())], headers=auth(api_env["key"]))
    assert response.status_code == 200 and response.json() == {"deleted": 2}
    assert client.get(FLOWS, headers=auth(api_env["key"])).json() == []
    assert client.request("DELETE", FLOWS, json=["not-a-uuid"], headers=auth(api_env["key"])).status_code == 422


# --- batch, upload, download ------------------------------------------------------------------


def test_batch_creates_all_or_refuses(client, api_env):
    key = api_env["key"]
    response = client.post(f"{FLOWS}batch/", json={"flows": [echo_flow("B1"), echo_flow("B2", endpoint_name="b2")]}, headers=auth(key))
    assert response.status_code == 201
    assert [f["name"] for f in response.json()] == ["B1", "B2"] and all(f["flowless"]["runnable"] for f in response.json())
    count = len(client.get(FLOWS, headers=auth(key)).json())
    existing_id = client.post(f"{FLOWS}batch/", json={"flows": [echo_flow("B3"), echo_flow("B4", id=api_env["flows"]["Echo Prompt"])]}, headers=auth(key))
    assert existing_id.status_code == 422
    duplicate = client.post(f"{FLOWS}batch/", json={"flows": [echo_flow("B5"), echo_flow("B5")]}, headers=auth(key))
    assert duplicate.status_code == 409 and duplicate.json() == {"detail": "Name must be unique"}
    taken = client.post(f"{FLOWS}batch/", json={"flows": [echo_flow("B6", endpoint_name="b2")]}, headers=auth(key))
    assert taken.status_code == 409 and taken.json() == {"detail": "Endpoint name must be unique"}
    malformed = client.post(f"{FLOWS}batch/", json={"flows": [echo_flow("B7"), {"name": "B8", "data": {"nodes": [1], "edges": []}}]}, headers=auth(key))
    assert malformed.status_code == 422 and malformed.json()["detail"]["message"].startswith("B8: ")
    assert len(client.get(FLOWS, headers=auth(key)).json()) == count


def test_upload_one_flow_a_bundle_and_a_bare_graph(client, api_env):
    key = api_env["key"]
    single = upload(client, key, json.dumps(echo_flow("Single")).encode(), "single.json")
    assert single.status_code == 201 and [f["name"] for f in single.json()] == ["Single"]
    bundle = upload(client, key, json.dumps({"flows": [echo_flow("U1"), echo_flow("U2")]}).encode(), "bundle.json")
    assert [f["name"] for f in bundle.json()] == ["U1", "U2"]
    bare = upload(client, key, json.dumps(echo_flow()["data"]).encode(), "Bare graph.json")
    assert bare.status_code == 201 and bare.json()[0]["name"] == "Bare graph"


def test_upload_with_ids_upserts_and_renames_clashes(client, api_env):
    key = api_env["key"]
    echo_id = api_env["flows"]["Echo Prompt"]
    export = client.post(f"{FLOWS}download/", json=[echo_id], headers=auth(key)).json()
    export["description"] = "re-imported"
    again = upload(client, key, json.dumps(export).encode(), "echo.json")
    assert again.status_code == 201
    assert (again.json()[0]["id"], again.json()[0]["name"], again.json()[0]["description"]) == (echo_id, "Echo Prompt", "re-imported")
    assert len(client.get(FLOWS, headers=auth(key)).json()) == 2
    copy_without_id = {k: v for k, v in export.items() if k != "id"}
    fresh = upload(client, key, json.dumps(copy_without_id).encode(), "copy.json").json()[0]
    assert fresh["id"] != echo_id and fresh["name"] == "Echo Prompt (1)" and fresh["endpoint_name"] == "echo-prompt-1"


def test_upload_into_a_folder(client, api_env):
    folder = client.post("/api/v1/projects/", json={"name": "Uploads"}, headers=auth(api_env["key"])).json()["id"]
    created = upload(client, api_env["key"], json.dumps(echo_flow("Foldered")).encode(), "f.json", folder_id=folder).json()
    assert created[0]["folder_id"] == folder


@pytest.mark.parametrize(
    ("content", "filename", "status"),
    [
        (b"{not json", "x.json", 400),
        (b"[1, 2]", "x.json", 400),
        (zip_of({"readme.txt": "no flows here"}), "x.zip", 400),
        (json.dumps({"name": "No data", "data": {"nodes": []}}).encode(), "x.json", 422),
        (json.dumps({"name": "Bad", "data": {"nodes": [{"id": "A-1"}], "edges": []}}).encode(), "x.json", 422),
    ],
)
def test_upload_errors(client, api_env, content, filename, status):
    before = len(client.get(FLOWS, headers=auth(api_env["key"])).json())
    response = upload(client, api_env["key"], content, filename)
    assert response.status_code == status and "detail" in response.json()
    assert len(client.get(FLOWS, headers=auth(api_env["key"])).json()) == before


def test_upload_too_large_is_413(client, api_env, monkeypatch):
    from flowless.api import flows

    monkeypatch.setattr(flows, "MAX_BODY_BYTES", 100)
    assert upload(client, api_env["key"], json.dumps(echo_flow("Big")).encode(), "big.json").status_code == 413


def test_download_one_as_json_and_several_as_zip(client, api_env):
    key = api_env["key"]
    ids = list(api_env["flows"].values())
    one = client.post(f"{FLOWS}download/", json=[ids[0]], headers=auth(key))
    assert one.status_code == 200 and one.headers["content-type"] == "application/json"
    assert one.json()["id"] == ids[0]
    several = client.post(f"{FLOWS}download/", json=[*ids, str(uuid.uuid4())], headers=auth(key))
    assert several.status_code == 200 and several.headers["content-type"] == "application/x-zip-compressed"
    assert re.match(r'attachment; filename="\d{8}_\d{6}_langflow_flows\.zip"', several.headers["content-disposition"])
    with zipfile.ZipFile(io.BytesIO(several.content)) as archive:
        assert sorted(archive.namelist()) == ["Basic Chat.json", "Echo Prompt.json"]
    missing = client.post(f"{FLOWS}download/", json=[str(uuid.uuid4())], headers=auth(key))
    assert missing.status_code == 404


def test_export_strips_secrets_and_installation_fields(client, api_env):
    flow = shared_flow("Memory Chatbot")
    agent = next(n for n in flow["data"]["nodes"] if n["data"].get("type") == "Agent")
    agent["data"]["node"]["template"]["api_key"].update(value="OPENAI_API_KEY", load_from_db=True)
    model = shared_flow("Basic Prompting")
    llm = next(n for n in model["data"]["nodes"] if n["data"].get("type") == "LanguageModelComponent")
    llm["data"]["node"]["template"]["api_key"]["value"] = "sk-literal-secret"
    llm["data"]["node"]["template"]["pin"] = {"type": "str", "value": "1234", "password": True, "show": False}
    key = api_env["key"]
    ids = [client.post(FLOWS, json=f, headers=auth(key)).json()["id"] for f in (flow, model)]
    stored = client.get(f"{FLOWS}{ids[1]}", headers=auth(key)).json()
    assert "sk-literal-secret" in json.dumps(stored)  # the owner's own read keeps it: runs need it

    exported = client.post(f"{FLOWS}download/", json=[ids[1]], headers=auth(key)).json()
    text = json.dumps(exported)
    assert "sk-literal-secret" not in text and '"1234"' not in text
    assert not {"user_id", "folder_id", "access_type", "gradient", "updated_at", "created_at", "flowless"} & set(exported)
    for node in exported["data"]["nodes"]:
        assert not {"positionAbsolute", "dragging", "selected"} & set(node)
    exported_agent = client.post(f"{FLOWS}download/", json=[ids[0]], headers=auth(key)).json()
    agent_key = next(n for n in exported_agent["data"]["nodes"] if n["data"].get("type") == "Agent")["data"]["node"]["template"]["api_key"]
    assert agent_key["value"] == "OPENAI_API_KEY" and agent_key["load_from_db"] is True  # a variable name, not a secret


def test_export_strips_secrets_inside_group_nodes():
    from flowless.flow_export import export_flow

    secret = {"type": "str", "value": "hunter2", "_input_type": "SecretStrInput"}
    inner = {"id": "Inner-1", "selected": True, "data": {"type": "X", "node": {"template": {"token": dict(secret)}}}}
    group = {"id": "Group-1", "data": {"type": "Group", "node": {"template": {}, "flow": {"data": {"nodes": [inner], "edges": []}}}}}
    flow = {"id": "f", "name": "g", "user_id": "acme", "data": {"nodes": [group], "edges": []}}
    exported = export_flow(flow)
    exported_inner = exported["data"]["nodes"][0]["data"]["node"]["flow"]["data"]["nodes"][0]
    assert exported_inner["data"]["node"]["template"]["token"]["value"] == "" and "selected" not in exported_inner
    assert "user_id" not in exported and inner["data"]["node"]["template"]["token"]["value"] == "hunter2"  # a copy


def test_shared_flows_round_trip_through_zip_upload_and_download(client, api_env):
    key = api_env["key"]
    originals = {f"{name}.json": shared_flow(name) for name in SHARED_STARTERS}
    basic = originals["Basic Prompting.json"]
    llm = next(n for n in basic["data"]["nodes"] if n["data"].get("type") == "LanguageModelComponent")
    llm["data"]["node"]["template"]["api_key"]["value"] = "sk-literal-secret"

    uploaded = upload(client, key, zip_of(originals), "starters.zip")
    assert uploaded.status_code == 201
    saved = {f["name"]: f for f in uploaded.json()}
    assert {(f["id"], f["name"]) for f in originals.values()} == {(f["id"], f["name"]) for f in saved.values()}
    assert saved["Basic Prompting"]["flowless"] == {"runnable": True, "unsupported": [], "problems": [], "code": []}
    assert saved["Memory Chatbot"]["flowless"]["unsupported"] == []  # Memory Base is native now

    download = client.post(f"{FLOWS}download/", json=[f["id"] for f in saved.values()], headers=auth(key))
    assert download.status_code == 200
    with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
        exported = {name: json.loads(archive.read(name)) for name in archive.namelist()}
    assert sorted(exported) == sorted(originals)
    assert {(f["id"], f["name"]) for f in exported.values()} == {(f["id"], f["name"]) for f in originals.values()}
    assert "sk-literal-secret" not in json.dumps(exported)
    node_ids = {name: {n["id"] for n in f["data"]["nodes"]} for name, f in exported.items()}
    assert node_ids == {name: {n["id"] for n in f["data"]["nodes"]} for name, f in originals.items()}

    tweaks = {llm["id"]: {"model": [{"name": "gpt-4o-mini", "provider": "OpenAI"}]}}
    answer = run_text(client, basic["id"], key, "round trip", tweaks=tweaks)
    assert answer == "Echo: round trip"
    assert api_env["server"].requests[-1].body["model"] == "gpt-4o-mini"


# --- tenants and scopes -----------------------------------------------------------------------


def test_other_tenants_cannot_see_or_change_flows(client, api_env):
    key, other = api_env["key"], api_env["other_key"]
    flow_id = api_env["flows"]["Echo Prompt"]
    before = client.get(f"{FLOWS}{flow_id}", headers=auth(key)).json()

    assert client.get(f"{FLOWS}{flow_id}", headers=auth(other)).status_code == 404
    assert client.patch(f"{FLOWS}{flow_id}", json={"name": "Stolen"}, headers=auth(other)).status_code == 404
    assert client.delete(f"{FLOWS}{flow_id}", headers=auth(other)).status_code == 404
    assert client.request("DELETE", FLOWS, json=[flow_id], headers=auth(other)).json() == {"deleted": 0}
    assert client.post(f"{FLOWS}download/", json=[flow_id], headers=auth(other)).status_code == 404
    assert client.get(FLOWS, headers=auth(other)).json() == []
    assert client.get(f"/lf/{TENANT}/api/v1/flows/{flow_id}", headers=auth(other)).status_code == 404
    # PUT and uploads with A's id create B's own flow; A's is untouched.
    put = client.put(f"{FLOWS}{flow_id}", json=echo_flow("Mine now"), headers=auth(other))
    assert put.status_code == 201 and put.json()["user_id"] == tenant_user_id(OTHER_TENANT)
    export = client.post(f"{FLOWS}download/", json=[flow_id], headers=auth(key)).json()
    assert upload(client, other, json.dumps({**export, "name": "Imported"}).encode(), "e.json").json()[0]["user_id"] == tenant_user_id(OTHER_TENANT)

    after = client.get(f"{FLOWS}{flow_id}", headers=auth(key)).json()
    assert after == before
    assert client.get(f"/lf/{TENANT}/api/v1/flows/{flow_id}", headers=auth(key)).json() == before
    assert run_text(client, "echo-prompt", key, "still mine").startswith("You said: still mine")


def _flow_routes(api_env: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any], int]]:
    echo = api_env["flows"]["Echo Prompt"]
    return [
        ("GET", FLOWS, "read", {}, 200),
        ("GET", f"{FLOWS}{echo}", "read", {}, 200),
        ("POST", f"{FLOWS}download/", "read", {"json": [echo]}, 200),
        ("POST", FLOWS, "write", {"json": echo_flow("Scoped")}, 201),
        ("PATCH", f"{FLOWS}{echo}", "write", {"json": {"description": "x"}}, 200),
        ("PUT", f"{FLOWS}{echo}", "write", {"json": echo_flow("Echo Prompt")}, 200),
        ("DELETE", f"{FLOWS}{echo}", "write", {}, 200),
        ("DELETE", FLOWS, "write", {"json": [echo]}, 200),
        ("POST", f"{FLOWS}batch/", "write", {"json": {"flows": [echo_flow("Scoped")]}}, 201),
        ("POST", f"{FLOWS}upload/", "write", {"files": {"file": ("f.json", json.dumps(echo_flow("Scoped")).encode())}}, 201),
    ]


@pytest.mark.parametrize("index", range(10))
def test_each_flow_route_needs_its_scope(client, api_env, scoped_keys, index):
    method, url, scope, kwargs, ok = _flow_routes(api_env)[index]
    refused = client.request(method, url, headers=auth(scoped_keys[scope]["without"]), **kwargs)
    assert refused.status_code == 403 and refused.json() == {"detail": f"This API key lacks the '{scope}' scope"}
    assert client.request(method, url, headers=auth(scoped_keys[scope]["with"]), **kwargs).status_code == ok


def test_flow_routes_need_a_key(client, api_env):
    assert client.get(FLOWS).status_code == 403
    assert client.post(FLOWS, json=echo_flow()).status_code == 403
