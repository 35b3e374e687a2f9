"""`/run` routes: Langflow's run contract, sync and streamed, plus the advanced variant."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, StreamingResponse

from flowless.api.auth import Caller, requires
from flowless.api.errors import ApiError
from flowless.api.body import read_body
from flowless.runs import load_flow_graph, run_stored_flow
from flowless.store.tenancy import check_session_id
from flowless_engine.runtime.request import RunRequest

router = APIRouter(tags=["Base"])
GLOBAL_VAR_HEADER = "x-langflow-global-var-"
# The bodies the run routes read themselves (wrong-typed fields fall back to defaults, as in
# Langflow), declared so the OpenAPI document (and what is fuzzed against it) shows them.
_TEXT = {"type": "string"}
_TWEAKS = {"type": "object", "additionalProperties": True}
RUN_BODY = {"requestBody": {"required": False, "content": {"application/json": {"schema": {
    "type": "object",
    "properties": {"input_value": _TEXT, "input_type": _TEXT, "output_type": _TEXT, "output_component": _TEXT,
                   "tweaks": _TWEAKS, "session_id": _TEXT, "user_id": _TEXT},
}}}}}
ADVANCED_RUN_BODY = {"requestBody": {"required": False, "content": {"application/json": {"schema": {
    "type": "object",
    "properties": {
        "inputs": {"type": "array", "items": {"type": "object", "properties": {
            "components": {"type": "array", "items": _TEXT}, "input_value": _TEXT, "session": _TEXT,
            "type": {"type": "string", "enum": ["chat", "text", "any"]}}}},
        "outputs": {"type": "array", "items": _TEXT}, "tweaks": _TWEAKS, "stream": {"type": "boolean"}, "session_id": _TEXT,
    },
}}}}}
# Events a `/run` stream forwards (Langflow's run event manager); build events stay internal.
RUN_STREAM_EVENTS = {"add_message", "token", "error", "build_start", "build_end", "log"}


def request_variables(request: Request) -> dict[str, str]:
    """`X-LANGFLOW-GLOBAL-VAR-<NAME>` headers → request-scoped variable overrides."""
    return {
        name[len(GLOBAL_VAR_HEADER):].upper(): value
        for name, value in request.headers.items()
        if name.lower().startswith(GLOBAL_VAR_HEADER) and len(name) > len(GLOBAL_VAR_HEADER)
    }


def simplified_request(body: dict[str, Any], stream: bool) -> RunRequest:
    """Langflow's SimplifiedAPIRequest. Like Langflow, fields of the wrong type fall back to
    their defaults rather than failing the run."""
    if isinstance(body.get("input_request"), dict):
        body = body["input_request"]
    tweaks = body.get("tweaks")
    session_id = body.get("session_id")
    input_value = body.get("input_value")
    return RunRequest(
        input_value=input_value if isinstance(input_value, str) else (None if input_value is None else json.dumps(input_value)),
        input_type=str(body.get("input_type") or "chat"),
        output_type=str(body.get("output_type") or "chat"),
        output_component=str(body.get("output_component") or ""),
        tweaks=tweaks if isinstance(tweaks, dict) else None,
        session_id=str(session_id) if isinstance(session_id, (str, int)) and session_id != "" else None,
        user_id=body.get("user_id") if isinstance(body.get("user_id"), str) else None,
        stream=stream,
    )


@router.post("/run/{flow_id_or_name}", openapi_extra=RUN_BODY)
async def run_flow(
    flow_id_or_name: str,
    request: Request,
    stream: bool = False,
    caller: Caller = Depends(requires("execute")),
) -> Any:
    body = await read_body(request)
    run_request = simplified_request(body, stream)
    variables = request_variables(request)
    if stream:
        # Resolve before streaming so an unknown flow (or an unusable session id) is a 4xx, not
        # a 200 with an error event.
        resolved = load_flow_graph(caller.tenant, flow_id_or_name)
        if run_request.session_id:
            check_session_id(run_request.session_id)
        return _stream_response(caller.tenant, flow_id_or_name, run_request, variables, resolved)
    outcome = await run_stored_flow(caller.tenant, flow_id_or_name, run_request, request_variables=variables)
    return JSONResponse(outcome.response)


@router.post("/run/advanced/{flow_id_or_name}", openapi_extra=ADVANCED_RUN_BODY)
async def run_flow_advanced(
    flow_id_or_name: str,
    request: Request,
    caller: Caller = Depends(requires("execute")),
) -> Any:
    body = await read_body(request)
    inputs = body.get("inputs") or [{}]
    if not isinstance(inputs, list) or not all(isinstance(i, dict) for i in inputs):
        raise ApiError(422, [{"type": "list_type", "loc": ["body", "inputs"], "msg": "inputs must be a list of objects"}])
    outputs = body.get("outputs") or []
    tweaks = body.get("tweaks") if isinstance(body.get("tweaks"), dict) else None
    session_id = body.get("session_id") if isinstance(body.get("session_id"), str) else None
    variables = request_variables(request)
    runs: list[dict[str, Any]] = []
    answer_session = session_id
    for item in inputs:
        components = item.get("components") or []
        run_request = RunRequest(
            input_value=item.get("input_value") if isinstance(item.get("input_value"), str) else None,
            input_type=str(item.get("type") or "any"),
            output_type="any",
            tweaks=tweaks,
            session_id=item.get("session") if isinstance(item.get("session"), str) else session_id,
            input_components=[str(c) for c in components] if isinstance(components, list) else [],
            outputs=[str(o) for o in outputs] if isinstance(outputs, list) else [],
        )
        outcome = await run_stored_flow(caller.tenant, flow_id_or_name, run_request, request_variables=variables)
        answer_session = answer_session or outcome.session_id
        runs.extend(outcome.response["outputs"])
    return JSONResponse({"session_id": answer_session, "outputs": runs})


def _frame(event: str, data: Any) -> bytes:
    """Langflow's `/run` stream framing: a bare JSON object, then a blank line."""
    return (json.dumps({"event": event, "data": data}, default=str) + "\n\n").encode()


def _stream_response(tenant: str, flow_ref: str, run_request: RunRequest, variables: dict[str, str], resolved: Any) -> StreamingResponse:
    from flowless.api.streaming import error_text, run_events

    async def frames() -> AsyncIterator[bytes]:
        # run_events: the duration limit (the run is stopped, what it stored so far is flushed), and a
        # client that goes away lets the run finish so its messages are still saved.
        async def start(sink: Any) -> Any:
            return await run_stored_flow(tenant, flow_ref, run_request, request_variables=variables, events=sink, resolved=resolved)

        async for item in run_events(start):
            if item.event == "done":  # after the messages are persisted, so a client that saw `end` can read them
                yield _frame("end", {"result": item.outcome.response})
            elif item.event == "failed":  # the status line is already sent: reported in-band
                yield _frame("error", {"error": error_text(item.error)})
            # The graph-level build_start ({}) belongs to the build path; tool calls carry an id.
            elif item.event in RUN_STREAM_EVENTS and (item.event not in {"build_start", "build_end"} or "id" in item.data):
                yield _frame(item.event, item.data)

    return StreamingResponse(frames(), media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
