"""Langflow's official Python SDK (`langflow-sdk`, pinned) against `flowless run` over real HTTP,
at `/api/v1/...` and at the tenant's `/lf/<id>/api/v1/...`: every method real Langflow 1.13
answers, unchanged."""

from __future__ import annotations

import asyncio
import io
import json
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest
from langflow_sdk import AsyncClient, Client
from langflow_sdk.exceptions import LangflowNotFoundError
from langflow_sdk.models import FlowCreate, FlowUpdate, ProjectCreate, ProjectUpdate, RunRequest

from tests.e2e.conftest import REPO

ECHO_FLOW = json.loads((REPO / "flows" / "echo-prompt.json").read_text(encoding="utf-8"))
ECHO_TEXT = "You said: {}\nFlowless answered without a model."


@pytest.fixture(params=["api", "lf"])
def base_url(request: pytest.FixtureRequest, local_server: dict[str, Any]) -> str:
    return local_server["base"] + ("/lf/local" if request.param == "lf" else "")


@pytest.fixture
def sdk(base_url: str, local_server: dict[str, Any]) -> Client:
    with Client(base_url, api_key=local_server["key"]) as client:
        yield client


def unique(name: str) -> str:
    return f"{name} {uuid.uuid4().hex[:8]}"


def echo(name: str, **fields: Any) -> FlowCreate:
    return FlowCreate(name=name, data=ECHO_FLOW["data"], **fields)


def test_flows_crud_returns_flows_with_uuid_owner_and_project(sdk: Client) -> None:
    created = sdk.create_flow(echo(unique("SDK flow"), description="made by the SDK"))
    assert isinstance(created.user_id, uuid.UUID) and isinstance(created.folder_id, uuid.UUID)
    assert sdk.get_flow(created.id).name == created.name
    listed = sdk.list_flows(get_all=True)
    assert created.id in {f.id for f in listed} and all(f.user_id == created.user_id for f in listed)
    updated = sdk.update_flow(created.id, FlowUpdate(description="changed", tags=["sdk"]))
    assert (updated.description, updated.tags) == ("changed", ["sdk"])
    sdk.delete_flow(created.id)
    with pytest.raises(LangflowNotFoundError):
        sdk.get_flow(created.id)


def test_upsert_push_and_pull(sdk: Client, tmp_path: Path) -> None:
    flow_id = uuid.uuid4()
    flow, created = sdk.upsert_flow(flow_id, echo(unique("Upserted")))
    assert created and flow.id == flow_id
    flow, created = sdk.upsert_flow(flow_id, echo(flow.name, description="second write"))
    assert not created and flow.description == "second write"

    path = tmp_path / "pushed.json"
    path.write_text(json.dumps({"id": str(uuid.uuid4()), "name": unique("Pushed"), "data": ECHO_FLOW["data"]}), encoding="utf-8")
    pushed, created = sdk.push(path)
    assert created and str(pushed.id) == json.loads(path.read_text())["id"]
    pulled = sdk.pull(pushed.id, output=tmp_path / "pulled.json")
    assert pulled["name"] == pushed.name and "user_id" not in pulled and (tmp_path / "pulled.json").exists()
    assert [n["id"] for n in pulled["data"]["nodes"]] == [n["id"] for n in ECHO_FLOW["data"]["nodes"]]


def test_projects_create_move_read_update_delete(sdk: Client) -> None:
    projects = sdk.list_projects()
    default = projects[0]
    assert default.name == "Starter Project"
    loose = sdk.create_flow(echo(unique("Loose")))
    assert loose.folder_id == default.id  # a flow without a project lands in the default one

    project = sdk.create_project(ProjectCreate(name=unique("SDK project"), description="d", flows_list=[loose.id]))
    assert project.id in {p.id for p in sdk.list_projects()}
    assert sdk.get_flow(loose.id).folder_id == project.id  # moved by flows_list
    inside = sdk.create_flow(echo(unique("Inside"), folder_id=project.id))
    read = sdk.get_project(project.id)
    assert {f.id for f in read.flows} == {loose.id, inside.id} and all(f.folder_id == project.id for f in read.flows)
    assert {f.id for f in sdk.list_flows(get_all=True, folder_id=project.id)} == {loose.id, inside.id}

    moved = sdk.update_flow(inside.id, FlowUpdate(folder_id=default.id))  # flows move between projects
    assert moved.folder_id == default.id
    renamed = sdk.update_project(project.id, ProjectUpdate(name=project.name + " renamed"))
    assert renamed.name == project.name + " renamed"

    sdk.delete_project(project.id)  # deletes the flows in it, as Langflow does
    with pytest.raises(LangflowNotFoundError):
        sdk.get_project(project.id)
    with pytest.raises(LangflowNotFoundError):
        sdk.get_flow(loose.id)
    assert sdk.get_flow(inside.id).folder_id == default.id


def test_download_upload_and_pull_push_project(sdk: Client, tmp_path: Path) -> None:
    project = sdk.create_project(ProjectCreate(name=unique("Exported")))
    names = {unique("one"), unique("two")}
    for name in names:
        sdk.create_flow(echo(name, folder_id=project.id))
    files = sdk.download_project(project.id)
    assert {json.loads(raw)["name"] for raw in files.values()} == names

    written = sdk.pull_project(project.id, output_dir=tmp_path / "project")
    assert set(written) == names and all(path.exists() for path in written.values())
    pushed = sdk.push_project(tmp_path / "project")  # the pulled files carry their ids: updates
    assert len(pushed) == 2 and not any(created for _, created in pushed)

    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        for name, raw in files.items():
            zf.writestr(name, raw)
    uploaded = sdk.upload_project(archive.getvalue())  # a new project holding copies of the flows
    assert len(uploaded) == 2 and {f.folder_id for f in uploaded} != {project.id}
    assert len({f.folder_id for f in uploaded}) == 1
    assert {f.id for f in sdk.get_project(uploaded[0].folder_id).flows} == {f.id for f in uploaded}


def test_run_and_run_flow(sdk: Client) -> None:
    response = sdk.run("echo-prompt", input_value="Hello, SDK")
    assert response.first_text_output() == ECHO_TEXT.format("Hello, SDK")
    response = sdk.run_flow(ECHO_FLOW["id"], RunRequest(input_value="By id", tweaks={"Prompt-ech02": {"template": "Tweaked: {question}"}}))
    assert response.get_chat_output() == "Tweaked: By id" and response.is_completed()


def test_async_client_and_run_background(base_url: str, local_server: dict[str, Any]) -> None:
    async def scenario() -> tuple[str | None, list[str]]:
        async with AsyncClient(base_url, api_key=local_server["key"]) as client:
            job = await client.run_background("echo-prompt", input_value="In the background")
            response = await job.wait_for_completion(timeout=30)
            flows = await client.list_flows(get_all=True)
            return response.first_text_output(), [str(f.id) for f in flows]

    text, ids = asyncio.run(scenario())
    assert text == ECHO_TEXT.format("In the background") and ECHO_FLOW["id"] in ids


def test_another_tenants_project_is_not_found(local_server: dict[str, Any]) -> None:
    with Client(local_server["base"] + "/lf/local", api_key=local_server["key"]) as sdk:
        project = sdk.create_project(ProjectCreate(name=unique("Mine")))
    with Client(local_server["base"] + "/lf/someone-else", api_key=local_server["key"]) as wrong_prefix:
        with pytest.raises(LangflowNotFoundError):
            wrong_prefix.get_project(project.id)
