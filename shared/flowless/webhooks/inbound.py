"""Runs started by `POST /webhook/{flow}`: Langflow's webhook contract, with a job to follow.

The request is answered at once (202) with a job id; the run happens in a task (another
invocation of the function in AWS, the in-process background loop locally). As in Langflow, the
raw body goes to every node whose id contains "Webhook" as its `data` field; no input value is
injected, chat outputs are returned and the session is the flow id. The job records the status
and, when the run ends, its Langflow response or its error.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from flowless.api.errors import ApiError, engine_error_response
from flowless.store.errors import InvalidTransition
from flowless.store.flows import FlowRepository
from flowless.store.jobs import JobRepository, JobStatus
from flowless.tasks import TaskRunner, task_runner

logger = logging.getLogger("flowless.webhooks")

TASK = "webhook_run"
# An asynchronous Lambda invocation carries at most 256 KB; the body travels inside one.
MAX_BODY_BYTES = 240 * 1024
# A job's result lives in one DynamoDB item (400 KB at most, with the job's other attributes).
MAX_RESULT_BYTES = 300 * 1024
FLOW_NOT_FOUND = "Flow not found"


def start_webhook_run(tenant: str, flow_ref: str, body: str, *, runner: TaskRunner | None = None) -> str:
    """Create the job and start the run; returns the job id. 404 when the flow is not the tenant's."""
    from flowless.custom_code import check_flow_code
    from flowless.runs import load_flow_graph

    flow = FlowRepository(tenant).resolve(flow_ref, include_data=False)
    if flow is None:
        raise ApiError(404, FLOW_NOT_FOUND)
    check_flow_code(tenant, load_flow_graph(tenant, flow.id)[1])  # 422 before a job exists
    job_id = str(uuid.uuid4())
    jobs = JobRepository(tenant)
    jobs.create(flow.id, job_id=job_id)
    try:
        (runner or task_runner()).submit(TASK, {"tenant": tenant, "flow_id": flow.id, "job_id": job_id, "body": body})
    except Exception as exc:
        logger.exception("could not start the webhook run of flow %s", flow.id)
        jobs.set_status(job_id, JobStatus.FAILED, error=f"The run could not be started: {type(exc).__name__}")
        raise ApiError(503, "The run could not be started; please retry.", headers={"Retry-After": "1"}) from exc
    return job_id


def webhook_tweaks(vertex_ids: Any, body: str) -> dict[str, dict[str, str]]:
    return {vertex_id: {"data": body} for vertex_id in vertex_ids if "Webhook" in vertex_id}


async def run_webhook_task(event: dict[str, Any]) -> dict[str, Any]:
    """The task: run the flow with the body and record the outcome on the job. Never raises
    (an asynchronous invocation that failed would be retried, running the flow twice)."""
    from flowless.runs import load_flow_graph, run_stored_flow
    from flowless_engine.errors import FlowError
    from flowless_engine.runtime.request import RunRequest

    tenant, flow_id, job_id, body = event["tenant"], event["flow_id"], event["job_id"], event.get("body") or ""
    jobs = JobRepository(tenant)
    try:
        jobs.set_status(job_id, JobStatus.IN_PROGRESS)
    except InvalidTransition:
        logger.warning("webhook job %s was already started; not running it again", job_id)
        return {"job_id": job_id, "status": "skipped"}
    try:
        _, graph = load_flow_graph(tenant, flow_id)
        request = RunRequest(input_value=None, input_type="chat", output_type="chat", tweaks=webhook_tweaks(graph.vertices, body))
        outcome = await run_stored_flow(tenant, flow_id, request)
    except FlowError as exc:
        _, detail = engine_error_response(exc)
        return _finish(jobs, job_id, JobStatus.FAILED, error=detail if isinstance(detail, str) else json.dumps(detail))
    except ApiError as exc:
        return _finish(jobs, job_id, JobStatus.FAILED, error=exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail))
    except Exception as exc:
        logger.exception("webhook job %s failed", job_id)
        return _finish(jobs, job_id, JobStatus.FAILED, error=f"Internal error: {type(exc).__name__}")
    return _finish(jobs, job_id, JobStatus.COMPLETED, result=_storable(outcome.response))


def _finish(jobs: JobRepository, job_id: str, status: JobStatus, **outcome: Any) -> dict[str, Any]:
    try:
        jobs.set_status(job_id, status, **outcome)
    except Exception:
        logger.exception("could not record the end of webhook job %s", job_id)
    return {"job_id": job_id, "status": status.value}


def _storable(response: dict[str, Any]) -> dict[str, Any]:
    """The response, or its main text when the whole would not fit in the job's item."""
    if len(json.dumps(response, default=str).encode()) <= MAX_RESULT_BYTES:
        return response
    from flowless.results import main_text

    text = main_text(response) or ""
    return {"session_id": response.get("session_id"), "truncated": True, "output": text[: MAX_RESULT_BYTES // 4]}
