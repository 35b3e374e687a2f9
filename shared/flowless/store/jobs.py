"""Build jobs and their ordered events, all expiring after `job_retention_hours`.

A job's record (sk JOB) holds a counter; appending events bumps it with one UpdateItem ADD,
which hands out a block of sequence numbers atomically, then the events are batch-written
under sk EV#<seq, zero-padded> so a range query returns them in order.

Builds write in steps (`commit_step`): one TransactWriteItems per step puts the step's record
(PLAN, CKPT#<i>, END) only if it does not exist, its events as pages (sk EV#<last seq>, events
first_seq..seq, compressed), its chat messages and session touch, and moves the record's counter
from the step's base to base + n only if it is still at base (and the status allows). A step that
is replayed finds its record and gets the stored output back; nothing is written twice. Events
of a step become visible all at once.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from flowless_engine.schema import Message
from pynamodb.exceptions import UpdateError
from pynamodb.expressions.update import Action

from flowless.store import blobs, clock
from flowless.store.connection import store_settings
from flowless.store.errors import Conflict, InvalidTransition, NotFound, StoreError
from flowless.store.messages import from_engine_message
from flowless.store.models import JobItem, MessageItem, SessionItem
from flowless.store.sessions import session_item, session_sk
from flowless.store.tenancy import check_tenant
from flowless.store.transact import MAX_ITEMS, ConditionsFailed, Transaction

RECORD_SK = "JOB"
EVENT_PREFIX = "EV#"
PLAN_SK = "PLAN"
END_SK = "END"
CHECKPOINT_PREFIX = "CKPT#"
_SEQ_WIDTH = 10
# Events are stored in pages of at most this much JSON (compressed, a page stays well under an item).
PAGE_BYTES = 256 * 1024
# Inline blobs of one step transaction together stay under DynamoDB's 4 MB per transaction.
TRANSACTION_BYTES = 3 * 1024 * 1024


class JobStatus(str, Enum):
    QUEUED = "queued"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)


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
    execution_arn: str | None = None
    expires_at: datetime | None = None


@dataclass
class JobEvent:
    seq: int
    event: str
    data: Any


def event_sk(seq: int) -> str:
    return f"{EVENT_PREFIX}{seq:0{_SEQ_WIDTH}d}"


def checkpoint_sk(step: int) -> str:
    return f"{CHECKPOINT_PREFIX}{step:05d}"


@dataclass
class StoredStep:
    """A committed build step: what it returned, and its checkpoint (compressed JSON, maybe in S3)."""

    sk: str
    output: dict[str, Any]
    _payload: bytes | None = None
    _payload_key: str | None = None

    def checkpoint(self) -> Any:
        return blobs.load(self._payload, self._payload_key)


@dataclass
class StepWrite:
    """Everything one build step writes, committed together by `JobRepository.commit_step`."""

    sk: str
    output: dict[str, Any]
    base_seq: int  # the job's event count this step started from
    events: list[tuple[str, Any]] = field(default_factory=list)
    checkpoint: Any = None
    status: JobStatus | None = None  # the status the job moves to (None: unchanged)
    from_statuses: tuple[JobStatus, ...] = (JobStatus.IN_PROGRESS,)
    error: str | None = None
    result: Any = None
    # Chat messages of the step (texts resolved, ids deterministic) for this flow; sessions touched.
    flow_id: str | None = None
    messages: list[Message] = field(default_factory=list)
    session_ttl_minutes: float | None = None
    # Extra items written in the same transaction (vertex build logs).
    items: list[JobItem] = field(default_factory=list)


@dataclass
class StepCommit:
    output: dict[str, Any]
    replayed: bool  # the step was committed before: this is its stored output


class JobMoved(Conflict):
    """The job is not where the step expected it (cancelled, finished, or another step won)."""

    def __init__(self, job: Job | None) -> None:
        super().__init__(f"job is {job.status.value if job else 'gone'}", field="job")
        self.job = job


class JobRepository:
    def __init__(self, tenant: str, *, retention_hours: float | None = None) -> None:
        self.tenant = check_tenant(tenant)
        self.retention_hours = retention_hours or store_settings().job_retention_hours

    def create(self, flow_id: str | None, *, job_id: str | None = None, request: Any = None) -> Job:
        """A queued job; `request` (any JSON, e.g. a build's inputs) is stored with it, compressed."""
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
        if request is not None:
            blob = blobs.place(request, self._blob_prefix(job_id))
            item.payload, item.payload_key = blob.inline, blob.key
        item.save(condition=JobItem.pk.does_not_exist())
        return _to_job(item)

    def get(self, job_id: str) -> Job | None:
        item = self._record(job_id)
        return _to_job(item) if item is not None else None

    def get_request(self, job_id: str) -> Any:
        """The `request` the job was created with (None when it had none or is gone)."""
        item = self._record(job_id)
        return blobs.load(item.payload, item.payload_key) if item is not None else None

    def set_execution(self, job_id: str, execution_arn: str) -> None:
        JobItem(self._pk(job_id), RECORD_SK).update([JobItem.execution_arn.set(execution_arn)], condition=JobItem.pk.exists())

    def _record(self, job_id: str) -> JobItem | None:
        try:
            item = JobItem.get(self._pk(job_id), RECORD_SK)
        except JobItem.DoesNotExist:
            return None
        return item if item.expires_at > clock.now() else None

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
        found: list[JobEvent] = []
        for item in items:
            if item.first_seq is None:
                found.append(JobEvent(seq=int(item.seq), event=item.event or "", data=item.data))
                continue
            for number, (name, data) in enumerate(blobs.load(item.payload, item.payload_key), start=int(item.first_seq)):
                if number > seq:
                    found.append(JobEvent(seq=number, event=name, data=data))
            if len(found) >= limit:
                break
        return found[:limit]

    # ---- build steps ---------------------------------------------------------------------------

    def read_steps(self, job_id: str, *sks: str) -> tuple[Job | None, dict[str, StoredStep]]:
        """The job and those of the step records `sks` that exist, in one BatchGetItem."""
        keys = [(self._pk(job_id), sk) for sk in dict.fromkeys((RECORD_SK, *sks))]
        now = clock.now()
        job: Job | None = None
        steps: dict[str, StoredStep] = {}
        for item in JobItem.batch_get(keys):
            if item.expires_at <= now:
                continue
            if item.sk == RECORD_SK:
                job = _to_job(item)
            else:
                steps[item.sk] = StoredStep(item.sk, dict(item.output or {}), item.payload, item.payload_key)
        return job, steps

    def commit_step(self, job_id: str, step: StepWrite) -> StepCommit:
        """Write a build step once (see the module docstring). Returns the stored output of an
        earlier commit of the same step instead of writing again; raises JobMoved when the job
        is no longer where the step expected it."""
        now = clock.now()
        expires = self._expiry(now)
        new_epochs: set[str] = set()
        prefix = self._blob_prefix(job_id)
        checkpoint = blobs.place(step.checkpoint, prefix) if step.checkpoint is not None else None
        pages = self._pages(job_id, step.base_seq, step.events, expires, prefix, inline_budget=TRANSACTION_BYTES - (checkpoint.size if checkpoint else 0))
        for _ in range(2):  # a second pass only to start new session epochs
            tx = Transaction()
            tx.update(JobItem(self._pk(job_id), RECORD_SK), self._advance(step, now, expires),
                      (JobItem.expires_at > now) & (JobItem.event_count == step.base_seq)
                      & JobItem.status.is_in(*[s.value for s in step.from_statuses]), "job")
            record = JobItem(self._pk(job_id), step.sk, job_id=job_id, tenant=self.tenant, output=step.output, expires_at=expires)
            if checkpoint is not None:
                record.payload, record.payload_key = checkpoint.inline, checkpoint.key
            tx.put(record, JobItem.pk.does_not_exist(), "step")
            for page in pages:
                tx.put(page, JobItem.pk.does_not_exist(), "events")
            for item in step.items:
                tx.put(item, JobItem.pk.does_not_exist(), "items")
            self._add_messages(tx, step, now, new_epochs)
            if len(tx) > MAX_ITEMS:
                raise StoreError(f"a build step writes {len(tx)} items, over the {MAX_ITEMS} of one transaction (too many chat messages in one layer)")
            try:
                tx.commit()
                return StepCommit(step.output, replayed=False)
            except ConditionsFailed as failure:
                failed = set(failure.labels)
            if "step" in failed:
                _, stored = self.read_steps(job_id, step.sk)
                if step.sk in stored:
                    return StepCommit(stored[step.sk].output, replayed=True)
            sessions = {label.split("#", 1)[1] for label in failed if label.startswith("session#")}
            if failed - {f"session#{s}" for s in sessions} or not sessions - new_epochs:
                raise JobMoved(self.get(job_id))
            new_epochs |= sessions
        raise JobMoved(self.get(job_id))

    def _advance(self, step: StepWrite, now: datetime, expires: datetime) -> list[Action]:
        actions: list[Action] = [
            JobItem.event_count.set(step.base_seq + len(step.events)),
            JobItem.updated_at.set(now),
            JobItem.expires_at.set(expires),
        ]
        if step.status is not None:
            actions.append(JobItem.status.set(step.status.value))
        if step.error is not None:
            actions.append(JobItem.error.set(step.error))
        if step.result is not None:
            actions.append(JobItem.result.set(step.result))
        return actions

    def _pages(self, job_id: str, base_seq: int, events: Sequence[tuple[str, Any]], expires: datetime, prefix: str, *, inline_budget: int) -> list[JobItem]:
        pages: list[list[tuple[str, Any]]] = [[]]
        size = 0
        for name, data in events:
            encoded = len(json.dumps(data, default=str, ensure_ascii=False)) + len(name) + 8
            if pages[-1] and size + encoded > PAGE_BYTES:
                pages.append([])
                size = 0
            pages[-1].append((name, data))
            size += encoded
        items = []
        first = base_seq + 1
        for page in pages:
            if not page:
                continue
            blob = blobs.place([list(e) for e in page], prefix, force_s3=inline_budget <= 0)
            inline_budget -= blob.size
            if inline_budget < 0 and blob.inline is not None:  # the transaction would be too large
                blob = blobs.Blob(key=blobs.offload(blob.inline, prefix))
            last = first + len(page) - 1
            items.append(JobItem(self._pk(job_id), event_sk(last), job_id=job_id, tenant=self.tenant, seq=last, first_seq=first,
                                 payload=blob.inline, payload_key=blob.key, expires_at=expires))
            first = last + 1
        return items

    def _add_messages(self, tx: Transaction, step: StepWrite, now: datetime, new_epochs: set[str]) -> None:
        if not step.messages:
            return
        settings = store_settings()
        ttl = step.session_ttl_minutes or settings.session_ttl_minutes
        flow_id = step.flow_id or ""
        # As in persist_run: messages stay for /monitor beyond the session, never shorter than it.
        message_expiry = clock.after(minutes=max(ttl, settings.message_retention_hours * 60), start=now)
        sessions: dict[str, list[Message]] = {}
        for message in step.messages:
            sessions.setdefault(message.session_id, []).append(message)
            tx.put(from_engine_message(self.tenant, message, message_expiry, flow_id=flow_id), MessageItem.pk.does_not_exist(), "messages")
        for session_id, messages in sessions.items():
            label = f"session#{session_id}"
            if session_id in new_epochs:
                started = min([clock.parse_timestamp(m.timestamp) for m in messages] + [now])
                tx.put(session_item(self.tenant, flow_id, session_id, started_at=started, at=now, ttl_minutes=ttl), label=label)
            else:
                extend: list[Action] = [SessionItem.last_activity.set(now), SessionItem.expires_at.set(clock.after(minutes=ttl, start=now))]
                tx.update(SessionItem(self.tenant, session_sk(flow_id, session_id)), extend, SessionItem.expires_at > now, label)

    def _blob_prefix(self, job_id: str) -> str:
        return f"{self.tenant}/jobs/{job_id}"

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
        execution_arn=item.execution_arn,
        expires_at=item.expires_at,
    )
