"""JobRepository's build steps: one conditional transaction per step (record, event pages,
messages, session, job counter), replays, paging of events, and large payloads in S3."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from flowless.settings import Settings
from flowless.store import configure
from flowless.store.blobs import PayloadTooLarge
from flowless.store.jobs import JobMoved, JobRepository, JobStatus, StepWrite, checkpoint_sk
from flowless.store.messages import MessageRepository
from flowless.store.sessions import SessionRepository
from flowless_engine.schema import Message

TENANT = "tenant-a"


@pytest.fixture
def jobs(ddb: Settings) -> JobRepository:
    return JobRepository(TENANT)


def running(jobs: JobRepository) -> str:
    job = jobs.create("flow-1", request={"inputs": {"input_value": "hi"}})
    jobs.commit_step(job.id, StepWrite("PLAN", {"layer": 0}, 0, [("vertices_sorted", {"ids": []})], status=JobStatus.IN_PROGRESS,
                                       from_statuses=(JobStatus.QUEUED,)))
    return job.id


def test_the_request_is_kept_with_the_job(jobs: JobRepository) -> None:
    job = jobs.create("flow-1", request={"inputs": {"input_value": "x" * 1000}})
    assert jobs.get_request(job.id) == {"inputs": {"input_value": "x" * 1000}}
    assert jobs.get_request("missing") is None and jobs.get_request(jobs.create("f").id) is None


def test_a_step_commits_once_and_replays_its_output(jobs: JobRepository) -> None:
    job_id = running(jobs)
    step = StepWrite(checkpoint_sk(0), {"layer": 1}, 1, [("end_vertex", {"id": "a"}), ("end_vertex", {"id": "b"})], checkpoint={"vertices": {"a": 1}})
    first = jobs.commit_step(job_id, step)
    assert (first.output, first.replayed) == ({"layer": 1}, False)
    again = jobs.commit_step(job_id, dataclasses.replace(step, output={"layer": 99}, events=[("end_vertex", {"id": "other"})]))
    assert (again.output, again.replayed) == ({"layer": 1}, True)
    assert [(e.seq, e.event, e.data) for e in jobs.events_after(job_id)] == [
        (1, "vertices_sorted", {"ids": []}), (2, "end_vertex", {"id": "a"}), (3, "end_vertex", {"id": "b"})]
    job, steps = jobs.read_steps(job_id, "PLAN", checkpoint_sk(0), checkpoint_sk(1))
    assert job.event_count == 3 and job.status is JobStatus.IN_PROGRESS
    assert set(steps) == {"PLAN", checkpoint_sk(0)} and steps[checkpoint_sk(0)].checkpoint() == {"vertices": {"a": 1}}


def test_a_step_from_a_stale_base_or_status_is_refused(jobs: JobRepository) -> None:
    job_id = running(jobs)
    with pytest.raises(JobMoved) as moved:
        jobs.commit_step(job_id, StepWrite(checkpoint_sk(0), {}, 0, [("x", {})]))  # the count is 1, not 0
    assert moved.value.job.event_count == 1
    jobs.commit_step(job_id, StepWrite("END", {"cancelled": True}, 1, [("end", {})], status=JobStatus.CANCELLED,
                                       from_statuses=(JobStatus.QUEUED, JobStatus.IN_PROGRESS)))
    with pytest.raises(JobMoved) as moved:
        jobs.commit_step(job_id, StepWrite(checkpoint_sk(0), {}, 2, [("end_vertex", {})]))
    assert moved.value.job.status is JobStatus.CANCELLED
    assert [e.event for e in jobs.events_after(job_id)] == ["vertices_sorted", "end"]
    with pytest.raises(JobMoved):
        JobRepository("tenant-b").commit_step(job_id, StepWrite(checkpoint_sk(0), {}, 2, []))


def test_events_are_paged_and_read_from_any_sequence_number(jobs: JobRepository, monkeypatch: pytest.MonkeyPatch) -> None:
    from flowless.store import jobs as module

    monkeypatch.setattr(module, "PAGE_BYTES", 200)
    job_id = running(jobs)
    many = [("token", {"chunk": f"word {i}", "id": "m"}) for i in range(40)]
    jobs.commit_step(job_id, StepWrite(checkpoint_sk(0), {}, 1, many))
    jobs.append_events(job_id, [("legacy", {"n": 1})])  # single-event items and pages mix
    found = jobs.events_after(job_id)
    assert [e.seq for e in found] == list(range(1, 43)) and found[-1].event == "legacy"
    assert [e.data["chunk"] for e in jobs.events_after(job_id, 20, limit=3)] == ["word 19", "word 20", "word 21"]
    assert jobs.events_after(job_id, 42) == []
    assert JobRepository("tenant-b").events_after(job_id) == []


def test_messages_and_the_session_are_written_with_the_step(jobs: JobRepository, travel: Any) -> None:
    job_id = running(jobs)
    said = [Message(text="hi", sender="User", sender_name="User", session_id="s1", flow_id="flow-1", id="m-1"),
            Message(text="hello", sender="Machine", sender_name="AI", session_id="s1", flow_id="flow-1", id="m-2")]
    step = StepWrite(checkpoint_sk(0), {}, 1, [("add_message", {"id": "m-1"})], flow_id="flow-1", messages=said)
    jobs.commit_step(job_id, step)  # no session yet: a new epoch is started
    session = SessionRepository(TENANT).get("flow-1", "s1")
    assert session is not None
    assert [m.id for m in MessageRepository(TENANT).list(flow_id="flow-1")] == ["m-1", "m-2"]
    travel.advance(minutes=5)
    more = [Message(text="again", sender="User", sender_name="User", session_id="s1", flow_id="flow-1", id="m-3")]
    jobs.commit_step(job_id, StepWrite(checkpoint_sk(1), {}, 2, [], flow_id="flow-1", messages=more))
    extended = SessionRepository(TENANT).get("flow-1", "s1")
    assert extended.started_at == session.started_at and extended.last_activity > session.last_activity
    assert jobs.commit_step(job_id, StepWrite(checkpoint_sk(1), {}, 2, [], flow_id="flow-1", messages=more)).replayed
    assert len(MessageRepository(TENANT).list(flow_id="flow-1")) == 3


@pytest.fixture
def s3_bucket(ddb: Settings) -> Iterator[Settings]:
    """The jobs bucket on moto's in-process S3 (DynamoDB stays on the moto server)."""
    import boto3
    from moto import mock_aws

    mock = mock_aws()
    mock.start(reset=False)
    try:
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="flowless-jobs-test")
        settings = configure(dataclasses.replace(ddb, jobs_bucket="flowless-jobs-test"))
        yield settings
    finally:
        configure(ddb)
        mock.stop()


def _noise(size: int) -> str:
    import random

    rng = random.Random(7)
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(size))


def test_large_checkpoints_and_events_go_to_s3(s3_bucket: Settings) -> None:
    import boto3

    jobs = JobRepository(TENANT)
    job_id = running(jobs)
    big = {"text": _noise(600_000)}
    jobs.commit_step(job_id, StepWrite(checkpoint_sk(0), {"layer": 1}, 1, [("end_vertex", big)], checkpoint=big))
    _, steps = jobs.read_steps(job_id, checkpoint_sk(0))
    assert steps[checkpoint_sk(0)]._payload is None and steps[checkpoint_sk(0)]._payload_key
    assert steps[checkpoint_sk(0)].checkpoint() == big
    assert jobs.events_after(job_id, 1)[0].data == big
    keys = [o["Key"] for o in boto3.client("s3", region_name="us-east-1").list_objects_v2(Bucket="flowless-jobs-test")["Contents"]]
    assert len(keys) == 2 and all(k.startswith(f"{TENANT}/jobs/{job_id}/") for k in keys)


def test_large_payloads_without_a_bucket_are_refused_clearly(jobs: JobRepository) -> None:
    job_id = running(jobs)
    with pytest.raises(PayloadTooLarge, match="JOBS_BUCKET"):
        jobs.commit_step(job_id, StepWrite(checkpoint_sk(0), {}, 1, [], checkpoint={"text": _noise(600_000)}))
    assert jobs.get(job_id).event_count == 1  # nothing was written
