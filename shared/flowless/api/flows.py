"""`/flows` routes: Langflow's flows CRUD, batch, upload and download, per tenant.

Every save checks the flow against the engine (parse and validate, never run) and adds the
verdict to the answer as `flowless`. Writes bump the flow's version, which is the run path's
graph-cache key, so nothing needs invalidating here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Body, Depends, File, Header, Query, Response, UploadFile
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from flowless.api.auth import Caller, requires
from flowless.api.body import MAX_BODY_BYTES
from flowless.api.errors import ApiError
from flowless.api.flow_models import FlowBatch, FlowCreate, FlowUpdate, flow_header, flow_read, stored_fields
from flowless.flow_check import FlowCheck, check_flow, report_flow
from flowless.flow_export import UploadError, export_flow, read_upload, zip_flows
from flowless.store.errors import Conflict, FlowTooLargeError, NotFound
from flowless.store.flows import Flow, FlowRepository
from flowless.store.projects import ProjectRepository
from flowless.store.tenancy import default_project_id
from flowless_engine.errors import InvalidFlowError

router = APIRouter(prefix="/flows", tags=["Flows"])
FLOW_NOT_FOUND = "Flow not found"
EXAMPLE_TAG = "example"  # the tag of the example flows Flowless ships (`remove_example_flows`)
MAX_PAGE_SIZE = 100


def saved(flow: Flow, check: FlowCheck) -> dict[str, Any]:
    return {**flow_read(flow), "flowless": check.to_dict()}


@contextmanager
def writing(unique_status: int) -> Iterator[None]:
    """Store errors of a write as HTTP answers; name/endpoint clashes answer `unique_status`."""
    try:
        yield
    except Conflict as exc:
        status = {"name": unique_status, "endpoint_name": unique_status, "version": 412}.get(exc.field or "", 409)
        raise ApiError(status, exc.message) from None
    except FlowTooLargeError as exc:
        raise ApiError(413, f"The flow is too large to store: {exc.message}") from None


def create(repo: FlowRepository, payload: FlowCreate, check: FlowCheck, *, flow_id: str | None = None, rename: bool = True, folder_id: str | None = None) -> Flow:
    """A new flow; with `rename`, a taken name becomes "<name> (N)" and a taken endpoint "<endpoint>-N"."""
    fields = stored_fields(payload, exclude={"name", "endpoint_name"}, unset=False)
    fields["folder_id"] = ProjectRepository(repo.tenant).resolve(folder_id or fields.get("folder_id"))
    name, endpoint = payload.name, payload.endpoint_name
    if rename:
        name = repo.free_name(name)
        endpoint = repo.free_endpoint_name(endpoint) if endpoint else None
    with writing(409):
        return repo.create(name=name, endpoint_name=endpoint, flow_id=flow_id or (str(payload.id) if payload.id else None), webhook=check.webhook, **fields)


def update(repo: FlowRepository, flow_id: str, changes: dict[str, Any], *, expected_version: int | None = None, rename: bool = False) -> tuple[Flow, FlowCheck]:
    """Apply `changes`; clashes answer 400, unless `rename` picks free names as on create."""
    current = repo.get(flow_id, include_data=False)
    if current is None:
        raise ApiError(404, FLOW_NOT_FOUND)
    if current.locked and "data" in changes and changes.get("locked") is not False:
        raise ApiError(423, "Flow is locked")
    check = check_flow(changes["data"], repo.tenant) if "data" in changes else None
    if changes.get("folder_id"):
        changes["folder_id"] = ProjectRepository(repo.tenant).resolve(changes["folder_id"])
    if check is not None:
        changes["webhook"] = check.webhook
    if rename:
        if changes.get("name", current.name) != current.name:
            changes["name"] = repo.free_name(changes["name"])
        if changes.get("endpoint_name") and changes["endpoint_name"] != current.endpoint_name:
            changes["endpoint_name"] = repo.free_endpoint_name(changes["endpoint_name"])
    with writing(400):
        flow = repo.update(flow_id, expected_version=expected_version, **changes)
    return flow, check or report_flow(flow.data, repo.tenant)


def parsed(flows: list[dict[str, Any]]) -> list[FlowCreate]:
    """Uploaded flows as FlowCreate; the first invalid one answers 422."""
    out = []
    for index, raw in enumerate(flows):
        try:
            out.append(FlowCreate.model_validate(raw))
        except ValidationError as exc:
            raise ApiError(422, [{"type": e["type"], "loc": ["file", index, *e["loc"]], "msg": e["msg"]} for e in exc.errors()]) from None
    return out


def checked(payloads: list[FlowCreate], tenant: str) -> list[tuple[FlowCreate, FlowCheck]]:
    """Every flow checked before anything is written; a malformed one answers 422, named."""
    out = []
    for payload in payloads:
        try:
            out.append((payload, check_flow(payload.data, tenant)))
        except InvalidFlowError as exc:
            raise ApiError(422, {**exc.to_dict(), "message": f"{payload.name}: {exc.message}"}) from None
    return out


def if_match_version(if_match: str | None) -> int | None:
    if if_match is None:
        return None
    token = if_match.strip().removeprefix("W/").strip('"')
    if not token.isdigit():
        raise ApiError(412, "The If-Match token does not match the flow's version_token")
    return int(token)


def keep(flow: Flow, *, remove_example_flows: bool, components_only: bool, flow_type: str | None) -> bool:
    if remove_example_flows and EXAMPLE_TAG in flow.tags:
        return False
    if components_only and not flow.is_component:
        return False
    return flow_type is None or (flow.flow_type or "workflow") == flow_type


# --- routes -----------------------------------------------------------------------------------


@router.post("/", status_code=201)
def create_flow(payload: FlowCreate, caller: Caller = Depends(requires("write"))) -> dict[str, Any]:
    check = check_flow(payload.data, caller.tenant)
    return saved(create(FlowRepository(caller.tenant), payload, check), check)


@router.get("/")
def list_flows(
    get_all: bool = True,
    header_flows: bool = False,
    folder_id: UUID | None = None,
    remove_example_flows: bool = False,
    components_only: bool = False,
    flow_type: str | None = None,
    page: int = Query(1, ge=1),
    size: int = Query(50, ge=1, le=MAX_PAGE_SIZE),
    caller: Caller = Depends(requires("read")),
) -> Any:
    light = get_all and header_flows
    folder = str(folder_id) if folder_id else None
    if folder is None and not get_all:  # Langflow pages through the default project
        folder = default_project_id(caller.tenant)
    found = FlowRepository(caller.tenant).list(include_data=not light, folder_id=folder).items
    flows = [f for f in found if keep(f, remove_example_flows=remove_example_flows, components_only=components_only, flow_type=flow_type)]
    if light:
        return [flow_header(f) for f in flows]
    if get_all:
        return [flow_read(f) for f in flows]
    start = (page - 1) * size
    return {
        "items": [flow_read(f) for f in flows[start : start + size]],
        "total": len(flows),
        "page": page,
        "size": size,
        "pages": -(-len(flows) // size),
    }


@router.get("/{flow_id}")
def read_flow(flow_id: UUID, caller: Caller = Depends(requires("read"))) -> dict[str, Any]:
    flow = FlowRepository(caller.tenant).get(str(flow_id))
    if flow is None:
        raise ApiError(404, FLOW_NOT_FOUND)
    return flow_read(flow)


@router.patch("/{flow_id}")
def update_flow(
    flow_id: UUID,
    payload: FlowUpdate,
    if_match: str | None = Header(None),
    caller: Caller = Depends(requires("write")),
) -> dict[str, Any]:
    flow, check = update(FlowRepository(caller.tenant), str(flow_id), stored_fields(payload), expected_version=if_match_version(if_match))
    return saved(flow, check)


@router.put("/{flow_id}")
def upsert_flow(flow_id: UUID, payload: FlowCreate, response: Response, caller: Caller = Depends(requires("write"))) -> dict[str, Any]:
    repo = FlowRepository(caller.tenant)
    if repo.get(str(flow_id), include_data=False) is not None:
        flow, check = update(repo, str(flow_id), stored_fields(payload))
        return saved(flow, check)
    check = check_flow(payload.data, repo.tenant)
    response.status_code = 201
    return saved(create(repo, payload, check, flow_id=str(flow_id)), check)


@router.delete("/{flow_id}")
def delete_flow(flow_id: UUID, caller: Caller = Depends(requires("write"))) -> dict[str, str]:
    try:
        FlowRepository(caller.tenant).delete(str(flow_id))
    except NotFound:
        raise ApiError(404, FLOW_NOT_FOUND) from None
    return {"message": "Flow deleted successfully"}


@router.delete("/")
def delete_flows(flow_ids: list[UUID] = Body(...), caller: Caller = Depends(requires("write"))) -> dict[str, int]:
    return {"deleted": FlowRepository(caller.tenant).delete_many(str(fid) for fid in flow_ids)}


@router.post("/batch/", status_code=201)
def create_flows(batch: FlowBatch, caller: Caller = Depends(requires("write"))) -> list[dict[str, Any]]:
    repo = FlowRepository(caller.tenant)
    names: set[str] = set()
    endpoints: set[str] = set()
    for payload in batch.flows:
        if payload.id and repo.get(str(payload.id), include_data=False) is not None:
            raise ApiError(422, f"A flow with id {payload.id} already exists")
        if payload.name in names or repo.name_exists(payload.name):
            raise ApiError(409, "Name must be unique")
        if payload.endpoint_name and (payload.endpoint_name in endpoints or repo.endpoint_exists(payload.endpoint_name)):
            raise ApiError(409, "Endpoint name must be unique")
        names.add(payload.name)
        endpoints.add(payload.endpoint_name or "")
    return [saved(create(repo, payload, check, rename=False), check) for payload, check in checked(batch.flows, repo.tenant)]


@router.post("/upload/", status_code=201)
def upload_flows(
    file: UploadFile = File(...),
    folder_id: UUID | None = None,
    caller: Caller = Depends(requires("write")),
) -> list[dict[str, Any]]:
    content = file.file.read(MAX_BODY_BYTES + 1)
    if len(content) > MAX_BODY_BYTES:
        raise ApiError(413, f"The file exceeds {MAX_BODY_BYTES} bytes")
    try:
        flows = read_upload(file.filename or "", content)
    except UploadError as exc:
        raise ApiError(400, str(exc)) from None
    repo = FlowRepository(caller.tenant)
    folder = str(folder_id) if folder_id else None
    answers = []
    for payload, check in checked(parsed(flows), repo.tenant):
        if payload.id and repo.get(str(payload.id), include_data=False) is not None:
            changes = stored_fields(payload) | ({"folder_id": folder} if folder else {})
            flow, check = update(repo, str(payload.id), changes, rename=True)
        else:
            flow = create(repo, payload, check, folder_id=folder)
        answers.append(saved(flow, check))
    return answers


@router.post("/download/")
def download_flows(flow_ids: list[UUID] = Body(...), caller: Caller = Depends(requires("read"))) -> Response:
    repo = FlowRepository(caller.tenant)
    flows = [flow for fid in dict.fromkeys(str(f) for f in flow_ids) if (flow := repo.get(fid)) is not None]
    if not flows:
        raise ApiError(404, "No flows found")
    exports = [export_flow(flow_read(flow)) for flow in flows]
    if len(exports) == 1:
        return JSONResponse(exports[0])
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d_%H%M%S")
    return Response(
        zip_flows(exports),
        media_type="application/x-zip-compressed",
        headers={"Content-Disposition": f'attachment; filename="{stamp}_langflow_flows.zip"'},
    )

