"""`/api/v1/projects` (and the `/folders` alias): Langflow's projects, per tenant."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest

from flowless.store.tenancy import default_project_id
from tests.api.conftest import EXAMPLE_FLOWS, OTHER_TENANT, TENANT

PROJECTS = "/api/v1/projects/"
FLOWS = "/api/v1/flows/"
ECHO = json.loads((EXAMPLE_FLOWS / "echo-prompt.json").read_text(encoding="utf-8"))


def auth(key: str) -> dict[str, str]:
    return {"x-api-key": key}


def new_flow(client, key: str, name: str, **fields: Any) -> dict[str, Any]:
    response = client.post(FLOWS, json={"name": name, "data": ECHO["data"], **fields}, headers=auth(key))
    assert response.status_code == 201, response.text
    return response.json()


def test_every_tenant_has_a_default_project_holding_its_flows(client, api_env):
    listed = client.get(PROJECTS, headers=auth(api_env["key"])).json()
    assert listed[0] == {"name": "Starter Project", "description": "Manage your own flows. Download and upload projects.",
                         "auth_settings": None, "id": default_project_id(TENANT), "parent_id": None,
                         "owner_username": TENANT, "is_owner": True}
    read = client.get(PROJECTS + listed[0]["id"], headers=auth(api_env["key"])).json()
    assert {f["id"] for f in read["flows"]} == set(api_env["flows"].values())  # the example flows, loaded without a project
    theirs = client.get(PROJECTS, headers=auth(api_env["other_key"])).json()
    assert [p["id"] for p in theirs] == [default_project_id(OTHER_TENANT)] != [listed[0]["id"]]


def test_create_with_flows_list_moves_them_and_names_stay_unique(client, api_env):
    key = api_env["key"]
    flow = new_flow(client, key, "To move")
    created = client.post(PROJECTS, json={"name": "Work", "description": "d", "flows_list": [flow["id"], str(uuid.uuid4())]}, headers=auth(key))
    assert created.status_code == 201
    assert created.json() == {"name": "Work", "description": "d", "auth_settings": None, "id": created.json()["id"], "parent_id": None}
    assert client.get(FLOWS + flow["id"], headers=auth(key)).json()["folder_id"] == created.json()["id"]
    again = client.post(PROJECTS, json={"name": "Work"}, headers=auth(key)).json()
    assert again["name"] == "Work (1)"
    clash = client.patch(PROJECTS + again["id"], json={"name": "Work"}, headers=auth(key))
    assert clash.status_code == 409 and clash.json() == {"detail": "Project name must be unique"}
    assert client.patch(PROJECTS + again["id"], json={"name": "Play", "description": "x"}, headers=auth(key)).json()["name"] == "Play"
    assert client.post(PROJECTS, json={"name": "🚀"}, headers=auth(key)).status_code == 422


def test_a_flow_saved_with_an_unknown_project_lands_in_the_default_one(client, api_env):
    flow = new_flow(client, api_env["key"], "Stray", folder_id=str(uuid.uuid4()))
    assert flow["folder_id"] == default_project_id(TENANT)


def test_delete_deletes_the_projects_flows(client, api_env):
    key = api_env["key"]
    project = client.post(PROJECTS, json={"name": "Doomed"}, headers=auth(key)).json()
    inside = new_flow(client, key, "Inside", folder_id=project["id"])
    outside = new_flow(client, key, "Outside")
    assert client.delete(PROJECTS + project["id"], headers=auth(key)).status_code == 204
    assert client.get(PROJECTS + project["id"], headers=auth(key)).status_code == 404
    assert client.get(FLOWS + inside["id"], headers=auth(key)).status_code == 404
    assert client.get(FLOWS + outside["id"], headers=auth(key)).status_code == 200
    assert client.delete(PROJECTS + project["id"], headers=auth(key)).status_code == 404


def test_another_tenants_project_is_not_found(client, api_env):
    key, other = api_env["key"], api_env["other_key"]
    project = client.post(PROJECTS, json={"name": "Private"}, headers=auth(key)).json()
    new_flow(client, key, "Secret", folder_id=project["id"])
    pid = project["id"]
    for method, path in [("get", PROJECTS + pid), ("patch", PROJECTS + pid), ("delete", PROJECTS + pid), ("get", f"{PROJECTS}download/{pid}")]:
        response = client.request(method.upper(), path, headers=auth(other), json={"name": "x"} if method == "patch" else None)
        assert response.status_code == 404, (method, path, response.text)
    assert client.get(f"/lf/{OTHER_TENANT}/api/v1/projects/{pid}", headers=auth(key)).status_code == 404
    flow = new_flow(client, other, "Theirs", folder_id=pid)  # their flow cannot be put in it either
    assert flow["folder_id"] == default_project_id(OTHER_TENANT)
    moved = client.post(PROJECTS, json={"name": "Grab", "flows_list": [flow["id"]]}, headers=auth(key)).json()
    assert client.get(FLOWS + flow["id"], headers=auth(other)).json()["folder_id"] != moved["id"]
    assert [f["name"] for f in client.get(PROJECTS + pid, headers=auth(key)).json()["flows"]] == ["Secret"]


def test_download_and_upload(client, api_env, tmp_path: Path):
    key = api_env["key"]
    project = client.post(PROJECTS, json={"name": "Shipped"}, headers=auth(key)).json()
    assert client.get(f"{PROJECTS}download/{project['id']}", headers=auth(key)).status_code == 404  # no flows yet
    for name in ("a", "b"):
        new_flow(client, key, name, folder_id=project["id"])
    download = client.get(f"{PROJECTS}download/{project['id']}", headers=auth(key))
    assert download.status_code == 200 and download.headers["content-type"] == "application/x-zip-compressed"
    with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
        assert sorted(archive.namelist()) == ["a.json", "b.json"]
    uploaded = client.post(f"{PROJECTS}upload/", files={"file": ("Shipped copy.zip", download.content, "application/zip")}, headers=auth(key))
    assert uploaded.status_code == 201
    names = sorted(f["name"] for f in uploaded.json())
    assert names == ["a (1)", "b (1)"]  # copies: new ids, free names, in a new project named after the file
    target = uploaded.json()[0]["folder_id"]
    assert next(p for p in client.get(PROJECTS, headers=auth(key)).json() if p["id"] == target)["name"] == "Shipped copy"

    document = {"folder_name": "From a file", "folder_description": "Langflow's project file", "flows": [{"name": "c", "data": ECHO["data"]}]}
    from_file = client.post(f"{PROJECTS}upload/", files={"file": ("p.json", json.dumps(document).encode(), "application/json")}, headers=auth(key))
    assert from_file.status_code == 201
    project = client.get(PROJECTS + from_file.json()[0]["folder_id"], headers=auth(key)).json()
    assert (project["name"], project["description"], [f["name"] for f in project["flows"]]) == ("From a file", "Langflow's project file", ["c"])
    empty = client.post(f"{PROJECTS}upload/", files={"file": ("e.zip", b"", "application/zip")}, headers=auth(key))
    assert empty.status_code == 400


def test_paginated_read(client, api_env):
    key = api_env["key"]
    project = client.post(PROJECTS, json={"name": "Paged"}, headers=auth(key)).json()
    for name in ("p1", "p2", "other"):
        new_flow(client, key, name, folder_id=project["id"])
    page = client.get(PROJECTS + project["id"], params={"page": 1, "size": 2, "search": "p"}, headers=auth(key)).json()
    assert page["folder"]["id"] == project["id"]
    assert (page["flows"]["total"], page["flows"]["pages"], len(page["flows"]["items"])) == (2, 1, 2)


@pytest.mark.parametrize("prefix", ["/api/v1/folders/", f"/lf/{TENANT}/api/v1/projects/", f"/lf/{TENANT}/api/v1/folders/"])
def test_the_folders_alias_and_the_tenant_prefix_serve_the_same_projects(client, api_env, prefix):
    key = api_env["key"]
    created = client.post(prefix, json={"name": "Aliased"}, headers=auth(key))
    assert created.status_code == 201
    assert created.json()["id"] in {p["id"] for p in client.get(PROJECTS, headers=auth(key)).json()}
    assert client.get(prefix + created.json()["id"], headers=auth(key)).json()["name"] == "Aliased"


def test_scopes(client, scoped_keys):
    assert client.get(PROJECTS, headers=auth(scoped_keys["read"]["without"])).status_code == 403
    assert client.post(PROJECTS, json={"name": "n"}, headers=auth(scoped_keys["write"]["without"])).status_code == 403
    assert client.post(PROJECTS, json={"name": "n"}, headers=auth(scoped_keys["write"]["with"])).status_code == 201
