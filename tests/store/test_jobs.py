from __future__ import annotations

import pytest
from flowless.settings import Settings
from flowless.store.errors import InvalidTransition, NotFound
from flowless.store.jobs import JobRepository, JobStatus


@pytest.fixture
def jobs(ddb: Settings) -> JobRepository:
    return JobRepository("tenant-a")


def test_create_and_get(jobs: JobRepository) -> None:
    job = jobs.create("flow-1")
    assert job.status is JobStatus.QUEUED and job.event_count == 0 and job.flow_id == "flow-1"
    assert jobs.get(job.id) == job
    assert jobs.get("missing") is None


def test_status_transitions(jobs: JobRepository) -> None:
    job = jobs.create("flow-1")
    running = jobs.set_status(job.id, JobStatus.IN_PROGRESS)
    assert running.status is JobStatus.IN_PROGRESS and running.updated_at >= job.updated_at
    done = jobs.set_status(job.id, "completed", result={"outputs": [1]})
    assert done.status is JobStatus.COMPLETED and jobs.get(job.id).result == {"outputs": [1]}
    with pytest.raises(InvalidTransition, match="completed"):
        jobs.set_status(job.id, JobStatus.CANCELLED)
    with pytest.raises(InvalidTransition):
        jobs.set_status(job.id, JobStatus.QUEUED)
    with pytest.raises(NotFound):
        jobs.set_status("missing", JobStatus.IN_PROGRESS)


def test_failure_records_the_error(jobs: JobRepository) -> None:
    job = jobs.create("flow-1")
    failed = jobs.set_status(job.id, JobStatus.FAILED, error="boom")
    assert (failed.status, failed.error) == (JobStatus.FAILED, "boom")


def test_events_are_numbered_in_order(jobs: JobRepository) -> None:
    job = jobs.create("flow-1")
    assert jobs.append_events(job.id, [("vertices_sorted", {"ids": ["a"]}), ("end_vertex", {"id": "a"})]) == [1, 2]
    assert jobs.append_events(job.id, [("end", {})]) == [3]
    assert jobs.append_events(job.id, []) == []
    events = jobs.events_after(job.id)
    assert [(e.seq, e.event) for e in events] == [(1, "vertices_sorted"), (2, "end_vertex"), (3, "end")]
    assert events[0].data == {"ids": ["a"]}
    assert [e.seq for e in jobs.events_after(job.id, 1)] == [2, 3]
    assert [e.seq for e in jobs.events_after(job.id, 0, limit=2)] == [1, 2]
    assert jobs.events_after(job.id, 3) == []
    assert jobs.get(job.id).event_count == 3


def test_many_events_in_one_append(jobs: JobRepository) -> None:
    job = jobs.create("flow-1")
    seqs = jobs.append_events(job.id, [("token", {"chunk": i}) for i in range(60)])
    assert seqs == list(range(1, 61))
    assert [e.data["chunk"] for e in jobs.events_after(job.id, 50)] == list(range(50, 60))


def test_expired_jobs_are_invisible(jobs: JobRepository, travel) -> None:
    job = jobs.create("flow-1")
    jobs.append_events(job.id, [("end", {})])
    travel.advance(hours=jobs.retention_hours + 1)
    assert jobs.get(job.id) is None
    assert jobs.events_after(job.id) == []
    with pytest.raises(NotFound):
        jobs.append_events(job.id, [("late", {})])
    with pytest.raises(NotFound):
        jobs.set_status(job.id, JobStatus.IN_PROGRESS)


def test_other_tenants_jobs_are_invisible(jobs: JobRepository) -> None:
    job = jobs.create("flow-1")
    jobs.append_events(job.id, [("end", {})])
    other = JobRepository("tenant-b")
    assert other.get(job.id) is None and other.events_after(job.id) == []
    with pytest.raises(NotFound):
        other.append_events(job.id, [("x", {})])
    with pytest.raises(NotFound):
        other.set_status(job.id, JobStatus.CANCELLED)
