"""`/mcp/project/{project_id}/...`: a project's flows as an MCP server (the transports).

- `POST /mcp/project/{id}/streamable` — Streamable HTTP, stateless: each POST carries JSON-RPC
  message(s) and gets the answer as JSON (202 for notifications), or as SSE with progress
  notifications when a tool call asks for progress; no session id, so GET (a server-initiated
  stream) and DELETE answer 405. Runs on any Lambda.
- `GET /mcp/project/{id}/sse` + `POST /mcp/project/{id}/?session_id=` — the older SSE transport:
  the GET stream announces the POST endpoint, each POST is answered on the stream. The session is
  a job record and the answers its events, so the POST and the stream may run in different
  Lambda instances (the stream needs a function that streams).
Tools need an API key with `execute`; another tenant's project is a 404 (`Project not found`).
The settings routes (`GET|PATCH /mcp/project/{id}`) are in mcp_settings.py, beside the flows routes.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from flowless.api.auth import Caller, requires
from flowless.api.errors import ApiError

router = APIRouter(tags=["MCP"])
SSE_SESSION_KIND = "mcp-sse"
_STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def project_of(caller: Caller, project_id: str) -> Any:
    from flowless.mcp_server import load_project

    project = load_project(caller.tenant, project_id)
    if project is None:
        raise ApiError(404, "Project not found")
    return project


def _server(caller: Caller, project_id: str, request: Request) -> Any:
    from flowless.api.run import request_variables
    from flowless.mcp_server import ProjectServer

    return ProjectServer(caller.tenant, project_of(caller, project_id), request_variables(request))


# --- Streamable HTTP ------------------------------------------------------------------------------


@router.head("/mcp/project/{project_id}/streamable", include_in_schema=False)
@router.head("/mcp/project/{project_id}/sse", include_in_schema=False)
async def transport_alive(project_id: str) -> Response:
    return Response()


@router.post("/mcp/project/{project_id}/streamable")
@router.post("/mcp/project/{project_id}/streamable/", include_in_schema=False)
async def streamable_post(project_id: str, request: Request, caller: Caller = Depends(requires("execute"))) -> Response:
    server = _server(caller, project_id, request)
    try:
        payload = json.loads(await request.body() or b"null")
    except ValueError:
        return JSONResponse({"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error"}}, status_code=400)
    if isinstance(payload, list):  # a JSON-RPC batch (protocol 2025-03-26)
        answers = [a for a in [await server.handle_message(m) for m in payload] if a is not None]
        return JSONResponse(answers) if answers else Response(status_code=202)
    token = _progress_token(payload, request)
    if token is not None:
        return StreamingResponse(_with_progress(server, payload, token), media_type="text/event-stream", headers=_STREAM_HEADERS)
    answer = await server.handle_message(payload)
    if answer is None:
        return Response(status_code=202)
    return JSONResponse(answer)


def _progress_token(payload: Any, request: Request) -> Any:
    """A tool call that asks for progress (`_meta.progressToken`) from a client that reads SSE."""
    if not isinstance(payload, dict) or payload.get("method") != "tools/call" or "id" not in payload:
        return None
    if "text/event-stream" not in request.headers.get("accept", ""):
        return None
    params = payload.get("params")
    meta = params.get("_meta") if isinstance(params, dict) else None
    return meta.get("progressToken") if isinstance(meta, dict) else None


async def _with_progress(server: Any, payload: dict[str, Any], token: Any) -> AsyncIterator[bytes]:
    """The call answered as SSE: `notifications/progress` each second while the flow runs (0, then
    steps of 0.1 up to 0.9, and 1 at the end, as Langflow sends them), then the result. Streamed
    where the function streams; behind API Gateway the client gets the same events at once."""
    import asyncio

    def frame(message: dict[str, Any]) -> bytes:
        return f"event: message\ndata: {json.dumps(message, default=str)}\n\n".encode()

    def progress(value: float) -> bytes:
        return frame({"jsonrpc": "2.0", "method": "notifications/progress",
                      "params": {"progressToken": token, "progress": value, "total": 1.0}})

    task = asyncio.create_task(server.handle_message(payload))
    steps = 0
    yield progress(0.0)
    while not (await asyncio.wait({task}, timeout=1.0))[0]:
        steps += 1
        yield progress(min(0.9, round(steps * 0.1, 1)))
    yield progress(1.0)
    yield frame(task.result())


@router.get("/mcp/project/{project_id}/streamable", include_in_schema=False)
@router.delete("/mcp/project/{project_id}/streamable", include_in_schema=False)
async def streamable_no_session(project_id: str, caller: Caller = Depends(requires("execute"))) -> Response:
    project_of(caller, project_id)
    return JSONResponse({"jsonrpc": "2.0", "id": None, "error": {"code": -32000, "message": "Method not allowed: this server is stateless"}},
                        status_code=405, headers={"Allow": "POST"})


# --- SSE ---------------------------------------------------------------------------------------


@router.get("/mcp/project/{project_id}/sse")
async def sse_stream(project_id: str, request: Request, caller: Caller = Depends(requires("execute"))) -> StreamingResponse:
    from flowless.store.jobs import JobRepository, JobStatus

    project = project_of(caller, project_id)
    jobs = JobRepository(caller.tenant)
    session = jobs.create(None, request={"kind": SSE_SESSION_KIND, "project_id": project.id})
    jobs.set_status(session.id, JobStatus.IN_PROGRESS)  # open until the stream ends
    path = request.scope.get("root_path", "") + request.url.path
    endpoint = f"{path[: -len('sse')]}?session_id={session.id}"
    return StreamingResponse(_sse_frames(caller.tenant, session.id, endpoint), media_type="text/event-stream", headers=_STREAM_HEADERS)


async def _sse_frames(tenant: str, session_id: str, endpoint: str) -> AsyncIterator[bytes]:
    import asyncio

    from flowless.jobs import builds
    from flowless.settings import get_settings
    from flowless.store.jobs import JobRepository, JobStatus

    yield f"event: endpoint\ndata: {endpoint}\n\n".encode()
    settings = get_settings()
    deadline = asyncio.get_running_loop().time() + settings.max_stream_seconds
    last = 0
    try:
        while asyncio.get_running_loop().time() < deadline:
            async for event in builds.follow(tenant, session_id, last, settings.events_long_poll_seconds):
                last = event.seq
                yield f"event: message\ndata: {json.dumps(event.data, default=str)}\n\n".encode()
            yield b": ping\n\n"
    finally:
        try:
            JobRepository(tenant).set_status(session_id, JobStatus.CANCELLED)  # later POSTs: no session
        except Exception:  # already closed, or the store is unreachable: the record expires anyway
            pass


@router.post("/mcp/project/{project_id}", include_in_schema=False)
@router.post("/mcp/project/{project_id}/")
async def sse_message(project_id: str, request: Request, session_id: str = Query(...), caller: Caller = Depends(requires("execute"))) -> Response:
    from flowless.store.flows import canonical_flow_id
    from flowless.store.jobs import JobRepository

    server = _server(caller, project_id, request)
    jobs = JobRepository(caller.tenant)
    canonical = canonical_flow_id(session_id)
    stored = jobs.get_request(canonical) if canonical else None
    job = jobs.get(canonical) if canonical else None
    if not isinstance(stored, dict) or stored.get("kind") != SSE_SESSION_KIND or stored.get("project_id") != server.project.id \
            or job is None or job.status.terminal:
        raise ApiError(404, "Could not find session")
    try:
        payload = json.loads(await request.body() or b"null")
    except ValueError:
        raise ApiError(400, "Could not parse message") from None
    answers = [await server.handle_message(m) for m in (payload if isinstance(payload, list) else [payload])]
    replies = [("message", a) for a in answers if a is not None]
    if replies:
        jobs.append_events(job.id, replies)
    return Response("Accepted", status_code=202)
