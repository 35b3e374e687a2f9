"""`POST /flows/{flow_id}/run`: the simplified run of Langflow's deployment docs.

Body `{"input_value", "tweaks"?, "session_id"?}` (also `input_type`/`output_type`), answer
`{"result": {"output": <main text>}, "session_id", "metadata": {"duration", "tokens_used"}}`.
Unlike `/run`, a request without `session_id` starts a fresh session (its id is in the answer):
each such request is independent, and sending the id back continues the conversation.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request

from flowless.api.auth import Caller, requires
from flowless.api.body import read_body
from flowless.api.run import RUN_BODY, request_variables, simplified_request
from flowless.results import main_text
from flowless.runs import run_stored_flow

router = APIRouter(tags=["Base"])


@router.post("/flows/{flow_id}/run", openapi_extra=RUN_BODY)
async def run_flow_simple(flow_id: str, request: Request, caller: Caller = Depends(requires("execute"))) -> dict[str, Any]:
    body = await read_body(request)
    run_request = simplified_request(body, stream=False)
    if run_request.session_id is None:
        run_request.session_id = str(uuid.uuid4())
    outcome = await run_stored_flow(caller.tenant, flow_id, run_request, request_variables=request_variables(request))
    tokens = (outcome.usage or {}).get("total_tokens")
    return {
        "result": {"output": main_text(outcome.response)},
        "session_id": outcome.session_id,
        "metadata": {"duration": round(outcome.duration_s, 3), "tokens_used": tokens if isinstance(tokens, int) else None},
    }
