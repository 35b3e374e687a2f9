"""Builds for the API: start one (a queued job plus an execution), follow its events, cancel it.

Events are read from the jobs table by sequence number; a follower polls the table until the
build's `end` or `error`, a bound, or the job ending without either (a cancelled job).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from flowless.api.errors import ApiError
from flowless.settings import get_settings
from flowless.store import clock
from flowless.store.flows import canonical_flow_id
from flowless.store.jobs import Job, JobEvent, JobRepository, JobStatus

FINAL_EVENTS = ("end", "error")
EVENTS_PER_READ = 500


def job_not_found(job_id: str) -> ApiError:
    return ApiError(404, f"Job not found: {job_id}")


async def start_build(tenant: str, flow_id: str, request: dict[str, Any]) -> str:
    """Queue a build of the tenant's flow `flow_id` and start its execution; returns the job id."""
    from flowless.jobs.starter import get_runner
    from flowless.store.flows import FlowRepository

    flow = FlowRepository(tenant).get(flow_id, include_data=False)
    if flow is None:
        raise ApiError(404, f"Flow with id {flow_id} not found")
    jobs = JobRepository(tenant)
    job = jobs.create(flow.id, request=request)
    try:
        execution_arn = await get_runner().start(tenant, job.id)
    except Exception as exc:
        jobs.set_status(job.id, JobStatus.FAILED, error=f"The build could not be started: {type(exc).__name__}")
        raise
    if execution_arn:
        jobs.set_execution(job.id, execution_arn)
    return job.id


def get_job(tenant: str, job_id: str) -> Job:
    """The tenant's job (another tenant's, an unknown or expired one: 404). A job left running
    past the state machine's timeout is recorded failed here."""
    job = JobRepository(tenant).get(job_id) if canonical_flow_id(job_id) == job_id.lower() else None
    if job is None:
        raise job_not_found(job_id)
    return job


async def settle_overdue(tenant: str, job: Job) -> Job:
    """A build past its time limit (the execution timed out without reaching MarkFailed) fails."""
    limit = get_settings().build_timeout_seconds + 60
    if job.status.terminal or clock.now() - job.created_at < timedelta(seconds=limit):
        return job
    from flowless.jobs.worker import BuildSteps

    await BuildSteps(tenant, job.id).fail({"Error": "States.Timeout", "Cause": "The build did not finish in time"})
    return JobRepository(tenant).get(job.id) or job


async def cancel_build(tenant: str, job: Job) -> bool:
    from flowless.jobs.starter import get_runner
    from flowless.jobs.worker import BuildSteps

    cancelled = await BuildSteps(tenant, job.id).cancel()
    if cancelled is None:
        return False
    if cancelled.status is JobStatus.CANCELLED:
        await get_runner().stop(tenant, job.id, cancelled.execution_arn)
    return True


def events_after(tenant: str, job_id: str, after: int) -> list[JobEvent]:
    return JobRepository(tenant).events_after(job_id, after, limit=EVENTS_PER_READ)


async def follow(tenant: str, job_id: str, after: int, bound_seconds: float) -> AsyncIterator[JobEvent]:
    """Events after `after` as they are committed, until `end`/`error`, the job ending, or the bound."""
    jobs = JobRepository(tenant)
    interval = get_settings().events_poll_interval_ms / 1000
    deadline = time.monotonic() + bound_seconds
    last = after
    while True:
        job = jobs.get(job_id)  # read before the events: a job that ended has committed all of them
        events = jobs.events_after(job_id, last, limit=EVENTS_PER_READ)
        for event in events:
            last = event.seq
            yield event
            if event.event in FINAL_EVENTS:
                return
        if events:
            continue
        if job is None or job.status.terminal or time.monotonic() >= deadline:
            return
        await asyncio.sleep(interval)


def event_json(event: JobEvent) -> str:
    """One event as Langflow frames it, with its sequence number (`after` resumes from it)."""
    return json.dumps({"event": event.event, "data": event.data, "seq": event.seq}, default=str)


def job_status(job: Job) -> dict[str, Any]:
    return {
        "job_id": job.id,
        "flow_id": job.flow_id,
        "status": job.status.value,
        "created_at": job.created_at.isoformat(),
        "updated_at": job.updated_at.isoformat(),
        "error": job.error,
        "result": job.result,
        "event_count": job.event_count,
    }
