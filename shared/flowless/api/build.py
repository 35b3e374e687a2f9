"""`/build` routes: Langflow's asynchronous builds (start a job, read its events, cancel it),
the job's status, and `/monitor/builds` (the vertex builds the jobs logged)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict

from flowless.api.auth import Caller, requires
from flowless.api.errors import ApiError
from flowless.jobs import builds
from flowless.settings import get_settings

router = APIRouter(tags=["Chat"])
NDJSON = "application/x-ndjson"
JOB_HEADER = "X-Flowless-Job-Id"


class BuildInputs(BaseModel):
    """Langflow's InputValueRequest (unknown keys are refused)."""

    model_config = ConfigDict(extra="forbid")

    input_value: str | None = None
    session: str | None = None
    type: Literal["chat", "text", "any"] | None = "any"
    components: list[str] | None = []
    client_request_time: int | None = None


class BuildData(BaseModel):
    """An unsaved graph to build instead of the stored one (Langflow's FlowDataRequest)."""

    model_config = ConfigDict(extra="allow")

    nodes: list[dict[str, Any]]
    edges: list[dict[str, Any]]
    viewport: dict[str, Any] | None = None


class BuildBody(BaseModel):
    inputs: BuildInputs | None = None
    data: BuildData | None = None
    files: list[str] | None = None


def _owner(caller: Caller) -> bool:
    return bool({"write", "admin"} & caller.scopes)


@router.post("/build/{flow_id}/flow")
async def build_flow(
    flow_id: str,
    body: BuildBody | None = None,
    start_component_id: str | None = None,
    stop_component_id: str | None = None,
    log_builds: bool = True,
    flow_name: str | None = None,
    event_delivery: Literal["polling", "streaming", "direct"] = "polling",
    caller: Caller = Depends(requires("execute")),
) -> Any:
    body = body or BuildBody()
    request: dict[str, Any] = {
        "inputs": body.inputs.model_dump(exclude_none=True) if body.inputs else {},
        "files": body.files or [],
        "start_component_id": start_component_id,
        "stop_component_id": stop_component_id,
        "log_builds": log_builds,
        "flow_name": flow_name,
    }
    if body.data is not None and _owner(caller):  # only owners may run an unsaved graph
        request["data"] = body.data.model_dump()
    job_id = await builds.start_build(caller.tenant, flow_id, request)
    if event_delivery == "direct":
        # In-process builds stream to their end; behind API Gateway the answer is bounded like a
        # long poll, and the client resumes from /build/{job_id}/events with the job id header.
        settings = get_settings()
        bound = settings.events_long_poll_seconds if settings.build_state_machine_arn else settings.build_timeout_seconds
        return _stream(caller.tenant, job_id, 0, bound, headers={JOB_HEADER: job_id})
    return JSONResponse({"job_id": job_id})


@router.get("/build/{job_id}/events")
async def build_events(
    job_id: str,
    request: Request,
    event_delivery: Literal["streaming", "polling", "direct"] = "streaming",
    after: int | None = Query(None, ge=0),
    caller: Caller = Depends(requires("execute")),
) -> Response:
    job = await builds.settle_overdue(caller.tenant, builds.get_job(caller.tenant, job_id))
    start = after if after is not None else _last_event_id(request)
    if event_delivery == "polling":
        events = builds.events_after(caller.tenant, job.id, start)
        return Response("\n".join(builds.event_json(e) for e in events), media_type=NDJSON)
    return _stream(caller.tenant, job.id, start, get_settings().events_long_poll_seconds)


@router.post("/build/{job_id}/cancel")
async def cancel_build(job_id: str, caller: Caller = Depends(requires("execute"))) -> dict[str, Any]:
    job = builds.get_job(caller.tenant, job_id)
    if await builds.cancel_build(caller.tenant, job):
        return {"success": True, "message": "Flow build cancelled successfully"}
    return {"success": False, "message": "Failed to cancel flow build"}


@router.get("/build/{job_id}/status")
async def build_status(job_id: str, caller: Caller = Depends(requires("execute"))) -> dict[str, Any]:
    job = await builds.settle_overdue(caller.tenant, builds.get_job(caller.tenant, job_id))
    return builds.job_status(job)


@router.get("/monitor/builds")
async def vertex_builds(flow_id: str, caller: Caller = Depends(requires("read"))) -> dict[str, Any]:
    from flowless.store.vertex_builds import VertexBuildRepository

    return {"vertex_builds": VertexBuildRepository(caller.tenant).list(_flow_uuid(flow_id))}


@router.delete("/monitor/builds", status_code=204)
async def delete_vertex_builds(flow_id: str, caller: Caller = Depends(requires("write"))) -> Response:
    from flowless.store.vertex_builds import VertexBuildRepository

    VertexBuildRepository(caller.tenant).delete(_flow_uuid(flow_id))
    return Response(status_code=204)


def _flow_uuid(flow_id: str) -> str:
    from flowless.store.flows import canonical_flow_id

    canonical = canonical_flow_id(flow_id)
    if canonical is None:
        raise ApiError(422, [{"type": "uuid_parsing", "loc": ["query", "flow_id"], "msg": "Input should be a valid UUID"}])
    return canonical


def _last_event_id(request: Request) -> int:
    raw = request.headers.get("last-event-id", "").strip()
    return int(raw) if raw.isdigit() else 0


def _stream(tenant: str, job_id: str, after: int, bound: float, headers: dict[str, str] | None = None) -> StreamingResponse:
    async def frames() -> AsyncIterator[bytes]:
        async for event in builds.follow(tenant, job_id, after, bound):
            yield (builds.event_json(event) + "\n\n").encode()

    return StreamingResponse(frames(), media_type=NDJSON, headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no", **(headers or {})})
