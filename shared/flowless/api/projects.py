"""`/projects` routes (and the older `/folders` alias): Langflow's projects, per tenant.

Every tenant has a default project; flows saved without one land there. Creating a project with
`flows_list` moves those flows into it, deleting a project deletes its flows, a project downloads
as a ZIP of its flows and a ZIP (or Langflow's `{folder_name, flows}` file) uploads as a new one.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from flowless.api.auth import Caller, requires
from flowless.api.body import MAX_BODY_BYTES
from flowless.api.errors import ApiError
from flowless.api.flow_models import flow_read
from flowless.api.flows import checked, create, parsed, saved
from flowless.flow_export import UploadError, export_flow, read_upload, zip_flows
from flowless.store.errors import Conflict, NotFound
from flowless.store.flows import FlowRepository
from flowless.store.projects import Project, ProjectRepository

PROJECT_NOT_FOUND = "Project not found"
MAX_NAME_CHARS = 250
_EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf]")


def _project_name(value: str | None) -> str | None:
    """Langflow refuses names that cannot name an MCP server: emoji, or no letter or digit."""
    if value is None:
        return value
    if _EMOJI.search(value):
        raise ValueError("Project names cannot contain emoji")
    if not any(char.isalnum() for char in value):
        raise ValueError("Project names must contain at least one letter or number")
    return value


class ProjectCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str = Field(min_length=1, max_length=MAX_NAME_CHARS)
    description: str | None = None
    auth_settings: dict[str, Any] | None = None
    flows_list: list[UUID] | None = None
    components_list: list[UUID] | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return _project_name(value)


class ProjectUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str | None = Field(default=None, min_length=1, max_length=MAX_NAME_CHARS)
    description: str | None = None
    parent_id: UUID | None = None
    auth_settings: dict[str, Any] | None = None
    flows: list[UUID] = Field(default_factory=list)
    components: list[UUID] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return _project_name(value)


def project_read(project: Project) -> dict[str, Any]:
    """Langflow's FolderRead."""
    return {"name": project.name, "description": project.description, "auth_settings": None, "id": project.id, "parent_id": None}


def found(repo: ProjectRepository, project_id: UUID) -> Project:
    project = repo.get(str(project_id))
    if project is None:
        raise ApiError(404, PROJECT_NOT_FOUND)
    return project


def move(flows: FlowRepository, flow_ids: list[UUID], project_id: str) -> None:
    """Move the tenant's flows among `flow_ids` into the project (other ids are ignored)."""
    for flow_id in dict.fromkeys(str(f) for f in flow_ids):
        flow = flows.get(flow_id, include_data=False)
        if flow is not None and flow.folder_id != project_id:
            flows.update(flow_id, folder_id=project_id)


# --- routes -----------------------------------------------------------------------------------

projects = APIRouter(prefix="/projects", tags=["Projects"])
folders = APIRouter(prefix="/folders", tags=["Folders"], include_in_schema=False)  # Langflow's older name


def _route(method: str, path: str, **kwargs: Any) -> Any:
    """Register the endpoint on /projects and on the /folders alias."""

    def register(endpoint: Any) -> Any:
        for router in (projects, folders):
            router.add_api_route(path, endpoint, methods=[method], **kwargs)
        return endpoint

    return register


@_route("GET", "/")
def list_projects(caller: Caller = Depends(requires("read"))) -> list[dict[str, Any]]:
    return [{**project_read(p), "owner_username": caller.tenant, "is_owner": True} for p in ProjectRepository(caller.tenant).list()]


@_route("POST", "/", status_code=201)
def create_project(payload: ProjectCreate, caller: Caller = Depends(requires("write"))) -> dict[str, Any]:
    project = ProjectRepository(caller.tenant).create(payload.name, payload.description)
    move(FlowRepository(caller.tenant), [*(payload.flows_list or []), *(payload.components_list or [])], project.id)
    return project_read(project)


@_route("GET", "/{project_id}")
def read_project(
    project_id: UUID,
    page: int | None = Query(None, ge=1),
    size: int | None = Query(None, ge=1, le=100),
    is_component: bool = False,
    is_flow: bool = False,
    search: str = "",
    caller: Caller = Depends(requires("read")),
) -> dict[str, Any]:
    project = found(ProjectRepository(caller.tenant), project_id)
    flows = FlowRepository(caller.tenant).list(folder_id=project.id).items
    if page is None or size is None:
        return {**project_read(project), "flows": [flow_read(f) for f in flows]}
    # Langflow's paginated form: newest first, optional filters.
    flows = [
        f for f in flows
        if (not is_component or f.is_component) and (not is_flow or not f.is_component) and search.casefold() in f.name.casefold()
    ]
    flows.sort(key=lambda f: f.updated_at or datetime.min.replace(tzinfo=timezone.utc), reverse=True)
    start = (page - 1) * size
    return {
        "folder": project_read(project),
        "flows": {"items": [flow_read(f) for f in flows[start : start + size]], "total": len(flows), "page": page, "size": size,
                  "pages": -(-len(flows) // size)},
    }


@_route("PATCH", "/{project_id}")
def update_project(project_id: UUID, payload: ProjectUpdate, caller: Caller = Depends(requires("write"))) -> dict[str, Any]:
    repo = ProjectRepository(caller.tenant)
    found(repo, project_id)
    try:
        return project_read(repo.update(str(project_id), name=payload.name, description=payload.description))
    except Conflict as exc:
        raise ApiError(409, exc.message) from None


@_route("DELETE", "/{project_id}", status_code=204)
def delete_project(project_id: UUID, caller: Caller = Depends(requires("write"))) -> Response:
    try:
        ProjectRepository(caller.tenant).delete(str(project_id))
    except NotFound:
        raise ApiError(404, PROJECT_NOT_FOUND) from None
    return Response(status_code=204)


@_route("GET", "/download/{project_id}", response_class=Response)
def download_project(project_id: UUID, caller: Caller = Depends(requires("read"))) -> Response:
    project = found(ProjectRepository(caller.tenant), project_id)
    flows = FlowRepository(caller.tenant).list(folder_id=project.id).items
    if not flows:
        raise ApiError(404, "No flows found in project")
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d_%H%M%S")
    filename = re.sub(r'[^\w .()-]', "_", f"{stamp}_{project.name}_flows.zip")
    return Response(
        zip_flows([export_flow(flow_read(f)) for f in flows]),
        media_type="application/x-zip-compressed",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@_route("POST", "/upload/", status_code=201, openapi_extra={
    "requestBody": {"content": {"multipart/form-data": {"schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}},
                                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
})
async def upload_project(request: Request, caller: Caller = Depends(requires("write"))) -> list[dict[str, Any]]:
    """A new project from a ZIP of flows (named after the file) or from Langflow's project file
    `{"folder_name", "folder_description", "flows"}`. Takes a multipart `file`, as Langflow does,
    or the file as the raw body, as Langflow's SDK sends it."""
    filename, content = await _uploaded(request)
    if not content:
        raise ApiError(400, "The uploaded file is empty")
    try:
        flows = read_upload(filename or "Imported Project.zip", content)
    except UploadError as exc:
        raise ApiError(400, str(exc)) from None
    name, description = (filename.rsplit(".", 1)[0] if filename else "") or "Imported Project", ""
    document = _project_document(content)
    if document is not None:
        name, description = str(document["folder_name"]) or name, str(document.get("folder_description") or "")
    payloads = checked(parsed(flows))
    try:
        _project_name(name)
    except ValueError as exc:
        raise ApiError(422, str(exc)) from None
    project = ProjectRepository(caller.tenant).create(name[:MAX_NAME_CHARS], description)
    repo = FlowRepository(caller.tenant)
    answers = []
    for payload, check in payloads:
        if payload.id and repo.get(str(payload.id), include_data=False) is not None:
            payload = payload.model_copy(update={"id": None})  # a copy of a flow this tenant has: a new flow
        answers.append(saved(create(repo, payload, check, folder_id=project.id), check))
    return answers


async def _uploaded(request: Request) -> tuple[str, bytes]:
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form()
        file = form.get("file")
        if file is None or isinstance(file, str):
            raise ApiError(400, "No file provided")
        content = await file.read(MAX_BODY_BYTES + 1)
        filename = file.filename or ""
    else:
        content, filename = await request.body(), ""
    if len(content) > MAX_BODY_BYTES:
        raise ApiError(413, f"The file exceeds {MAX_BODY_BYTES} bytes")
    return filename, content


def _project_document(content: bytes) -> dict[str, Any] | None:
    import json

    try:
        document = json.loads(content)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if isinstance(document, dict) and "folder_name" in document and "flows" in document:
        return document
    return None


router = APIRouter()
router.include_router(projects)
router.include_router(folders)
