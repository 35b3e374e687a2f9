"""Build jobs and their ordered events, all expiring after `job_retention_hours`.

A job's record (sk JOB) holds a counter; appending events bumps it with one UpdateItem ADD,
which hands out a block of sequence numbers atomically, then the events are batch-written
under sk EV#<seq, zero-padded> so a range query returns them in order.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.update import Action

from flowless.store import clock
from flowless.store.connection import store_settings
from flowless.store.errors import InvalidTransition, NotFound
from flowless.store.models import JobItem
from flowless.store.tenancy import check_tenant

RECORD_SK = "JOB"
EVENT_PREFIX = "EV#"
_SEQ_WIDTH = 10


class JobStatus(str, Enum):
    QUEUED = "queued"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


# Status -> the statuses it may move to. Terminal statuses move nowhere.
TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.QUEUED: frozenset({JobStatus.IN_PROGRESS, JobStatus.FAILED, JobStatus.CANCELLED}),
    JobStatus.IN_PROGRESS: frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED}),
}


@dataclass
class Job:
    id: str
    flow_id: str | None
    status: JobStatus
    created_at: datetime
    updated_at: datetime
    error: str | None = None
    result: Any = None
    event_count: int = 0


@dataclass
class JobEvent:
    seq: int
    event: str
    data: Any


def event_sk(seq: int) -> str:
    return f"{EVENT_PREFIX}{seq:0{_SEQ_WIDTH}d}"


class JobRepository:
    def __init__(self, tenant: str, *, retention_hours: float | None = None) -> None:
        self.tenant = check_tenant(tenant)
        self.retention_hours = retention_hours or store_settings().job_retention_hours

    def create(self, flow_id: str | None, *, job_id: str | None = None) -> Job:
        now = clock.now()
        job_id = job_id or str(uuid.uuid4())
        item = JobItem(
            self._pk(job_id),
            RECORD_SK,
            job_id=job_id,
            tenant=self.tenant,
            status=JobStatus.QUEUED.value,
            flow_id=flow_id,
            created_at=now,
            updated_at=now,
            event_count=0,
            expires_at=self._expiry(now),
        )
        item.save(condition=JobItem.pk.does_not_exist())
        return _to_job(item)

    def get(self, job_id: str) -> Job | None:
        try:
            item = JobItem.get(self._pk(job_id), RECORD_SK)
        except JobItem.DoesNotExist:
            return None
        return _to_job(item) if item.expires_at > clock.now() else None

    def set_status(self, job_id: str, status: JobStatus | str, *, error: str | None = None, result: Any = None) -> Job:
        """Move the job to `status` if its current status allows it (checked by DynamoDB)."""
        target = JobStatus(status)
        allowed_from = [source.value for source, targets in TRANSITIONS.items() if target in targets]
        if not allowed_from:
            raise InvalidTransition(f"no job can move to {target.value}")
        now = clock.now()
        actions: list[Action] = [
            JobItem.status.set(target.value),
            JobItem.updated_at.set(now),
            JobItem.expires_at.set(self._expiry(now)),
        ]
        if error is not None:
            actions.append(JobItem.error.set(error))
        if result is not None:
            actions.append(JobItem.result.set(result))
        item = JobItem(self._pk(job_id), RECORD_SK)
        try:
            item.update(actions, condition=(JobItem.expires_at > now) & JobItem.status.is_in(*allowed_from))
        except UpdateError as failure:
            if failure.cause_response_code != "ConditionalCheckFailedException":
                raise
            current = self.get(job_id)
            if current is None:
                raise NotFound("Job not found") from failure
            raise InvalidTransition(f"job is {current.status.value}, it cannot become {target.value}") from failure
        return _to_job(item)

    def append_events(self, job_id: str, events: Sequence[tuple[str, Any]]) -> list[int]:
        """Store events in order; returns their sequence numbers (1-based, gap-free per job)."""
        if not events:
            return []
        now = clock.now()
        counter = JobItem(self._pk(job_id), RECORD_SK)
        try:
            counter.update(
                [JobItem.event_count.add(len(events)), JobItem.updated_at.set(now)],
                condition=JobItem.expires_at > now,
            )
        except UpdateError as failure:
            if failure.cause_response_code == "ConditionalCheckFailedException":
                raise NotFound("Job not found") from failure
            raise
        last = int(counter.event_count)
        seqs = list(range(last - len(events) + 1, last + 1))
        with JobItem.batch_write() as batch:
            for seq, (name, data) in zip(seqs, events):
                batch.save(
                    JobItem(
                        self._pk(job_id),
                        event_sk(seq),
                        job_id=job_id,
                        tenant=self.tenant,
                        seq=seq,
                        event=name,
                        data=data,
                        expires_at=self._expiry(now),
                    )
                )
        return seqs

    def events_after(self, job_id: str, seq: int = 0, limit: int = 100) -> list[JobEvent]:
        """Events with a sequence number above `seq`, oldest first, at most `limit`."""
        items = JobItem.query(
            self._pk(job_id),
            JobItem.sk.between(event_sk(seq + 1), event_sk(10**_SEQ_WIDTH - 1)),
            filter_condition=JobItem.expires_at > clock.now(),
            limit=limit,
        )
        return [JobEvent(seq=int(item.seq), event=item.event or "", data=item.data) for item in items]

    def _pk(self, job_id: str) -> str:
        return f"{self.tenant}#{job_id}"

    def _expiry(self, at: datetime) -> datetime:
        return clock.after(hours=self.retention_hours, start=at)


def _to_job(item: JobItem) -> Job:
    return Job(
        id=item.job_id,
        flow_id=item.flow_id,
        status=JobStatus(item.status),
        created_at=item.created_at,
        updated_at=item.updated_at,
        error=item.error,
        result=item.result,
        event_count=int(item.event_count or 0),
    )
