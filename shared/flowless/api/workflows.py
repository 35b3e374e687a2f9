"""`/api/v2/workflows`: Langflow 1.13's workflow API.

- `POST /workflows` `{"flow_id", "input_value", "tweaks", "session_id", "mode", "globals", ...}`:
  `sync` runs now and answers `{"object": "response", "outputs": {<component id>: ...}, "output":
  {"reason", "text", "source"}, ...}`; `stream` answers the run's events as SSE (`data: {"event",
  "data"}`) with an `output` event per terminal component; `background` starts a build job (the
  BuildJob state machine on AWS) and answers `{"object": "job", "job_id", "links": ...}`.
- `GET /workflows?job_id=` the job's status, or its full response once completed.
- `POST /workflows/stop` `{"job_id"}` cancels a background job.
- `GET /workflows/{job_id}/events` replays the job's events after `Last-Event-ID` and follows it.
Outputs come from the engine's `end_vertex` events of terminal components (no successors), the
same in the three modes. `globals` are request-scoped variables (Langflow's global variables).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from flowless.api.auth import Caller, requires
from flowless.api.errors import ApiError

v2_router = APIRouter(tags=["Workflow"])
WORKFLOW_KIND = "workflow"
_STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


class WorkflowRunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    flow_id: str
    input_value: str = ""
    tweaks: dict[str, Any] = Field(default_factory=dict)
    session_id: str | None = None
    mode: Literal["sync", "stream", "background"] = "sync"
    stream_protocol: str = "langflow"
    expose_graph_state: bool | None = None
    data: dict[str, Any] | None = None
    files: list[str] | None = None
    start_component_id: str | None = None
    stop_component_id: str | None = None
    output_ids: list[str] | None = None
    globals: dict[str, str] = Field(default_factory=dict)
    idempotency_key: str | None = None


class WorkflowStopRequest(BaseModel):
    job_id: str


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def _flow_not_found(flow_id: str) -> ApiError:
    return ApiError(404, {"error": "Flow not found", "code": "FLOW_NOT_FOUND",
                          "message": f"Flow '{flow_id}' does not exist. Verify the flow_id and try again.", "flow_id": flow_id})


def _job_not_found(job_id: str) -> ApiError:
    return ApiError(404, {"error": "Workflow job not found", "code": "JOB_NOT_FOUND", "message": f"Workflow job {job_id} not found",
                          "job_id": job_id})


# --- outputs ----------------------------------------------------------------------------------


def _message_text(content: Any) -> str | None:
    for path in (("message", "message"), ("text", "message"), ("message", "text"), ("message",), ("text", "text"), ("text",)):
        value = content
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, str):
            return value
    return None


def component_output(end_vertex: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """(component id, Langflow's ComponentOutput) of a terminal component's `end_vertex` event."""
    meta = end_vertex.get("output_meta") or {}
    build = end_vertex.get("build_data") or {}
    component_id = meta.get("component_id") or build.get("id")
    if not meta.get("is_terminal") or not component_id:
        return None
    vertex_type = meta.get("vertex_type")
    types = meta.get("output_types") or []
    output_type = (types[0] or "").lower() if types else (vertex_type or "unknown").lower()
    data = build.get("data") or {}
    raw = data.get("outputs") if data.get("outputs") is not None else data.get("results")
    content = None
    if raw is not None and (meta.get("is_output") or output_type in {"data", "dataframe"}):
        content = raw
        if isinstance(raw, dict) and output_type in {"message", "text"}:
            text = _message_text(raw)
            content = text if text is not None else raw
        elif isinstance(raw, dict) and output_type in {"data", "dataframe"}:
            for path in (("result", "message"), ("results", "message")):
                found = raw.get(path[0], {}).get(path[1]) if isinstance(raw.get(path[0]), dict) else None
                if found is not None:
                    content = found
                    break
    valid = build.get("valid", True) and output_type != "error"
    return component_id, {"type": output_type, "status": "completed" if valid else "failed",
                          "display_name": meta.get("display_name") or vertex_type, "content": content,
                          "metadata": {"component_type": vertex_type}}


def resolve_output(outputs: dict[str, dict[str, Any]], selected: list[str] | None = None) -> dict[str, Any]:
    considered = {k: v for k, v in outputs.items() if k in set(selected)} if selected else outputs
    texts = [(k, v["content"]) for k, v in considered.items() if v["type"] in {"message", "text"} and isinstance(v["content"], str)]
    if len(texts) == 1:
        return {"reason": "single", "text": texts[0][1], "source": texts[0][0]}
    if texts:
        return {"reason": "multiple", "text": None, "source": None}
    has_text = any(v["type"] in {"message", "text"} for v in considered.values())
    return {"reason": "non_string" if has_text else "none", "text": None, "source": None}


def response_body(*, flow_id: str, session_id: str | None, job_id: str, status: str, outputs: dict[str, dict[str, Any]],
                  inputs: dict[str, Any], globals_: dict[str, str], errors: list[dict[str, Any]] | None = None,
                  selected: list[str] | None = None, created: str | None = None) -> dict[str, Any]:
    errors = errors or []
    output = {"reason": "failed", "text": None, "source": None} if status == "failed" else resolve_output(outputs, selected)
    return {"flow_id": flow_id, "session_id": session_id, "job_id": job_id, "object": "response", "created_timestamp": created or _now(),
            "status": status, "output": output, "errors": errors, "warnings": [], "inputs": inputs, "globals": globals_,
            "outputs": outputs, "human_request": None, "has_errors": bool(errors)}


def job_body(job_id: str, flow_id: str, status: str, globals_: dict[str, str], created: str | None = None) -> dict[str, Any]:
    return {"job_id": job_id, "flow_id": flow_id, "object": "job", "created_timestamp": created or _now(), "status": status,
            "links": {"status": f"/api/v2/workflows?job_id={job_id}", "events": f"/api/v2/workflows/{job_id}/events",
                      "stop": "/api/v2/workflows/stop"},
            "errors": [], "globals": globals_}


class _Collector:
    def __init__(self) -> None:
        self.outputs: dict[str, dict[str, Any]] = {}

    def emit(self, event: str, data: dict[str, Any]) -> None:
        if event == "end_vertex":
            found = component_output(data)
            if found:
                self.outputs[found[0]] = found[1]


def translate(event: str, data: Any, expose_graph_state: bool) -> list[tuple[str, Any]]:
    """An engine event as the `langflow` stream protocol frames it (passthrough, plus an
    `output` event after a terminal component's `end_vertex`)."""
    frames: list[tuple[str, Any]] = []
    graph_state = event in {"vertices_sorted", "end_vertex", "log"} or (event in {"build_start", "build_end"} and bool((data or {}).get("id")))
    if expose_graph_state or not graph_state:
        frames.append((event, data if expose_graph_state or event not in {"add_message", "error"} else _redacted(data)))
    if event == "end_vertex" and (expose_graph_state or (data.get("output_meta") or {}).get("is_output")):
        found = component_output(data)
        if found:
            frames.append(("output", {"component_id": found[0], **found[1]}))
    return frames


def _redacted(data: Any) -> Any:
    def strip(payload: dict[str, Any]) -> dict[str, Any]:
        properties = payload.get("properties")
        if isinstance(properties, dict) and isinstance(properties.get("source"), dict):
            return {**payload, "properties": {**properties, "source": dict.fromkeys(properties["source"])}}
        return payload

    if not isinstance(data, dict):
        return data
    out = strip(data)
    return {**out, "data": strip(out["data"])} if isinstance(out.get("data"), dict) else out


def _sse(event: str, data: Any, event_id: int | None = None) -> bytes:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}data: {json.dumps({'event': event, 'data': data}, default=str)}\n\n".encode()


# --- POST /workflows ----------------------------------------------------------------------------


@v2_router.post("/workflows")
async def run_workflow(body: WorkflowRunRequest, caller: Caller = Depends(requires("execute"))) -> Any:
    from flowless.store.flows import FlowRepository, canonical_flow_id

    canonical = canonical_flow_id(body.flow_id)
    flow = FlowRepository(caller.tenant).get(canonical, include_data=False) if canonical else None
    if flow is None:
        raise _flow_not_found(body.flow_id)
    if body.stream_protocol != "langflow":
        raise ApiError(422, {"error": "Unknown stream_protocol", "code": "UNKNOWN_STREAM_PROTOCOL",
                             "message": f"Unknown stream_protocol {body.stream_protocol!r}.", "available": ["langflow"]})
    if body.mode == "background":
        return await _start_background(caller, flow.id, body)
    expose = True if body.expose_graph_state is None else body.expose_graph_state
    if body.mode == "stream":
        return StreamingResponse(_stream(caller.tenant, flow.id, body, expose, _canvas(caller, flow, body)),
                                 media_type="text/event-stream", headers=_STREAM_HEADERS)
    return JSONResponse(await _run_sync(caller.tenant, flow.id, body, _canvas(caller, flow, body)))


def _canvas(caller: Caller, flow: Any, body: WorkflowRunRequest) -> tuple[Any, Any] | None:
    """`data` (an unsaved canvas) run in place of the stored graph, for keys that may write flows."""
    if body.data is None or not {"write", "admin"} & caller.scopes:
        return None
    from flowless_engine.graph.loader import load_graph

    return flow, load_graph({"data": body.data}, flow_id=flow.id, flow_name=flow.name)


def _run_request(body: WorkflowRunRequest) -> Any:
    from flowless_engine.runtime.request import RunRequest

    return RunRequest(input_value=body.input_value, input_type="chat", output_type="any", tweaks=body.tweaks or None,
                      stream=body.mode == "stream",  # models stream tokens on a streamed run
                      session_id=body.session_id or None, start_component_id=body.start_component_id,
                      stop_component_id=body.stop_component_id, files=list(body.files or []))


async def _run_sync(tenant: str, flow_id: str, body: WorkflowRunRequest, resolved: tuple[Any, Any] | None) -> dict[str, Any]:
    from flowless.api.streaming import error_text
    from flowless.runs import run_stored_flow
    from flowless_engine.errors import ComponentError, ProviderError

    job_id = str(uuid.uuid4())
    collector = _Collector()
    common = {"flow_id": flow_id, "job_id": job_id, "inputs": body.tweaks, "globals_": body.globals}
    try:
        outcome = await run_stored_flow(tenant, flow_id, _run_request(body), request_variables=body.globals, events=collector,
                                        resolved=resolved)
    except (ComponentError, ProviderError) as exc:  # the run failed: a failed response, as Langflow answers it
        error = {"error": error_text(exc), "code": "EXECUTION_ERROR", "details": {"flow_id": flow_id, "error_type": type(exc).__name__}}
        return response_body(session_id=body.session_id or flow_id, status="failed", outputs={}, errors=[error], **common)
    return response_body(session_id=outcome.session_id, status="completed", outputs=collector.outputs, selected=body.output_ids, **common)


async def _stream(tenant: str, flow_id: str, body: WorkflowRunRequest, expose: bool, resolved: tuple[Any, Any] | None) -> AsyncIterator[bytes]:
    from flowless.api.streaming import error_text, run_events
    from flowless.runs import run_stored_flow

    started = time.monotonic()

    async def start(sink: Any) -> Any:
        return await run_stored_flow(tenant, flow_id, _run_request(body), request_variables=body.globals, events=sink, resolved=resolved)

    async for item in run_events(start):
        if item.event == "done":
            yield _sse("end", {"build_duration": round(time.monotonic() - started, 3)})
        elif item.event == "failed":
            yield _sse("error", {"error": error_text(item.error)})
        else:
            for name, data in translate(item.event, item.data, expose):
                yield _sse(name, data)


async def _start_background(caller: Caller, flow_id: str, body: WorkflowRunRequest) -> dict[str, Any]:
    from flowless.jobs import builds
    from flowless.runs import load_flow_graph
    from flowless_engine.runtime.tweaks import apply_tweaks

    if body.tweaks:  # refused tweaks are a 422 now, not a failed job later
        apply_tweaks(load_flow_graph(caller.tenant, flow_id)[1], body.tweaks)
    request = {
        "inputs": {"input_value": body.input_value, **({"session": body.session_id} if body.session_id else {})},
        "tweaks": body.tweaks, "globals": body.globals, "files": body.files or [],
        "start_component_id": body.start_component_id, "stop_component_id": body.stop_component_id,
        WORKFLOW_KIND: {"mode": "background", "output_ids": body.output_ids, "session_id": body.session_id,
                        "expose_graph_state": body.expose_graph_state},
    }
    if body.data is not None and {"write", "admin"} & caller.scopes:
        request["data"] = body.data
    job_id = await builds.start_build(caller.tenant, flow_id, request)
    return job_body(job_id, flow_id, "queued", body.globals)


# --- jobs -------------------------------------------------------------------------------------------


def _workflow_job(caller: Caller, job_id: str) -> tuple[Any, dict[str, Any]]:
    from flowless.jobs import builds
    from flowless.store.jobs import JobRepository

    try:
        job = builds.get_job(caller.tenant, job_id)
    except ApiError:
        raise _job_not_found(job_id) from None
    request = JobRepository(caller.tenant).get_request(job.id) or {}
    if not isinstance(request, dict) or WORKFLOW_KIND not in request:
        raise _job_not_found(job_id)
    return job, request


def _job_uuid(job_id: str | None, where: str) -> str:
    from flowless.store.flows import canonical_flow_id

    if not job_id:
        raise ApiError(400, {"error": "Missing required parameter", "code": "MISSING_PARAMETER", "message": "Job ID must be provided"})
    canonical = canonical_flow_id(job_id)
    if canonical is None:
        raise ApiError(422, [{"type": "value_error", "loc": [where, "job_id"], "msg": "Invalid job_id, must be a UUID"}])
    return canonical


def _all_events(tenant: str, job_id: str) -> list[Any]:
    from flowless.jobs import builds

    events, after = [], 0
    while True:
        page = builds.events_after(tenant, job_id, after)
        if not page:
            return events
        events.extend(page)
        after = page[-1].seq


@v2_router.get("/workflows")
async def workflow_status(job_id: str | None = Query(None), caller: Caller = Depends(requires("execute"))) -> Any:
    from flowless.jobs import builds

    job_id = _job_uuid(job_id, "query")
    job, request = _workflow_job(caller, job_id)
    job = await builds.settle_overdue(caller.tenant, job)
    status = job.status.value
    created = job.created_at.isoformat()
    globals_ = request.get("globals") or {}
    if status == "completed":
        outputs: dict[str, dict[str, Any]] = {}
        for event in _all_events(caller.tenant, job.id):
            if event.event == "end_vertex":
                found = component_output(event.data)
                if found:
                    outputs[found[0]] = found[1]
        workflow = request.get(WORKFLOW_KIND) or {}
        return response_body(flow_id=job.flow_id, session_id=workflow.get("session_id") or job.flow_id, job_id=job.id, status="completed",
                             outputs=outputs, inputs=request.get("tweaks") or {}, globals_=globals_, selected=workflow.get("output_ids"),
                             created=created)
    if status == "failed":
        raise ApiError(500, {"error": "Job failed", "code": "JOB_FAILED", "message": f"Job {job.id} has failed execution.",
                             "job_id": job.id, "error_detail": job.error})
    return job_body(job.id, job.flow_id, status, globals_, created)


@v2_router.post("/workflows/stop")
async def stop_workflow(body: WorkflowStopRequest, caller: Caller = Depends(requires("execute"))) -> dict[str, Any]:
    from flowless.jobs import builds

    job_id = _job_uuid(body.job_id, "body")
    job, _ = _workflow_job(caller, job_id)
    if job.status.value == "cancelled":
        return {"job_id": job.id, "message": f"Job {job.id} is already cancelled."}
    if job.status.terminal:
        return {"job_id": job.id, "message": f"Job {job.id} already finished ({job.status.value})."}
    await builds.cancel_build(caller.tenant, job)
    return {"job_id": job.id, "message": f"Job {job.id} cancelled successfully."}


@v2_router.get("/workflows/{job_id}/events")
async def workflow_events(job_id: str, request: Request, caller: Caller = Depends(requires("execute"))) -> StreamingResponse:
    job_id = _job_uuid(job_id, "path")
    job, stored = _workflow_job(caller, job_id)
    raw = request.headers.get("last-event-id", "").strip()
    after = int(raw) if raw.isdigit() else 0
    expose = (stored.get(WORKFLOW_KIND) or {}).get("expose_graph_state")
    return StreamingResponse(_replay(caller.tenant, job.id, after, True if expose is None else bool(expose)),
                             media_type="text/event-stream", headers=_STREAM_HEADERS)


async def _replay(tenant: str, job_id: str, after: int, expose: bool) -> AsyncIterator[bytes]:
    from flowless.jobs import builds
    from flowless.settings import get_settings
    from flowless.store.jobs import JobRepository

    async for event in builds.follow(tenant, job_id, after, get_settings().events_long_poll_seconds):
        if event.event == "end" and not event.data:  # a stop ends the job's events with `end` {}
            job = JobRepository(tenant).get(job_id)
            if job is not None and job.status.value == "cancelled":
                yield _sse("cancelled", {"reason": "Job cancelled by user"}, event.seq)
                continue
        for name, data in translate(event.event, event.data, expose):
            yield _sse(name, data, event.seq)
