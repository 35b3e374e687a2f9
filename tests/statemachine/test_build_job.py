"""statemachine/build_job.asl.json executed by moto's interpreter, its tasks served by the real
build worker (see conftest.py): a multi-layer build, a failing vertex, a transient error retried,
a crash after a step committed, cancellation, replays, and the API starting executions."""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

import pytest

from flowless_engine.components.base import Component, Input, Output
from flowless_engine.schema import Message
from tests.statemachine.conftest import Machine
from tests.support.engine_kit import chat_flow, edge, field, raw_node, register_components

TENANT = "acme"
ECHO_VERTICES = ["ChatInput-1", "TestSlow-1", "ChatOutput-1"]


class Slow(Component):
    """Passes its input on; `gate` (a threading.Event) holds it while a test acts."""

    type_name = "TestSlow"
    inputs = (Input("x", input_types=("Message",)),)
    outputs = (Output("out", "build"),)
    gate: threading.Event | None = None
    fail_with: str | None = None

    async def build(self) -> Message:
        if Slow.fail_with:
            raise RuntimeError(Slow.fail_with)
        if Slow.gate is not None:
            Slow.gate.wait(10)
        return Message(text=f"slow: {self.params.get('x').text}")


@pytest.fixture(autouse=True)
def slow_component(monkeypatch: pytest.MonkeyPatch) -> None:
    register_components(monkeypatch, Slow)
    Slow.gate, Slow.fail_with = None, None


def store_flow() -> str:
    from flowless.store.flows import FlowRepository

    exported = chat_flow(
        raw_node("TestSlow-1", "TestSlow", {"x": field("x", input_types=["Message"])}),
        edges=[edge("ChatInput-1", "message", "TestSlow-1", "x"), edge("TestSlow-1", "out", "ChatOutput-1", "input_value")],
    )
    flow_id = str(uuid.uuid4())
    FlowRepository(TENANT).upsert(flow_id, name=f"slow {flow_id[:8]}", data=exported["data"])
    return flow_id


def new_job(flow_id: str, text: str = "hello", **request: Any) -> str:
    from flowless.store.jobs import JobRepository

    return JobRepository(TENANT).create(flow_id, request={"inputs": {"input_value": text}, "log_builds": True, **request}).id


def events(job_id: str) -> list[dict[str, Any]]:
    from flowless.store.jobs import JobRepository

    return [{"seq": e.seq, "event": e.event, "data": e.data} for e in JobRepository(TENANT).events_after(job_id, 0, limit=1000)]


def names(found: list[dict[str, Any]]) -> list[str]:
    return [e["event"] for e in found]


def job(job_id: str) -> Any:
    from flowless.store.jobs import JobRepository

    return JobRepository(TENANT).get(job_id)


def messages(flow_id: str) -> list[Any]:
    from flowless.store.messages import MessageRepository

    return MessageRepository(TENANT).list(flow_id=flow_id)


COMPLETE = ["vertices_sorted", "build_start", "add_message", "end_vertex", "end_vertex", "add_message", "end_vertex", "end"]


def test_a_multi_layer_build_completes_with_its_events_in_order(machine: Machine):
    flow_id = store_flow()
    job_id = new_job(flow_id)
    execution = machine.start(TENANT, job_id)
    assert machine.wait(execution)["status"] == "SUCCEEDED"
    assert machine.actions() == ["prepare", "run_layer#0", "run_layer#1", "run_layer#2", "finish"]
    found = events(job_id)
    assert names(found) == COMPLETE and [e["seq"] for e in found] == list(range(1, 9))
    assert found[0]["data"]["to_run"] == ECHO_VERTICES
    assert [e["data"]["build_data"]["id"] for e in found if e["event"] == "end_vertex"] == ECHO_VERTICES
    assert found[5]["data"]["text"] == "slow: hello"
    assert job(job_id).status.value == "completed" and job(job_id).event_count == 8
    assert [m.text for m in messages(flow_id)] == ["hello", "slow: hello"]
    states = [e["stateEnteredEventDetails"]["name"] for e in machine.history(execution) if e["type"] == "TaskStateEntered"]
    assert states == ["Prepare", "RunLayer", "RunLayer", "RunLayer", "Finish"]


def test_a_failing_vertex_ends_the_job_failed_with_an_error_event(machine: Machine):
    flow_id = store_flow()
    job_id = new_job(flow_id)
    Slow.fail_with = "kaput"
    execution = machine.start(TENANT, job_id)
    described = machine.wait(execution)
    assert (described["status"], described.get("error")) == ("FAILED", "BuildFailed")
    assert machine.actions() == ["prepare", "run_layer#0", "run_layer#1"]  # not retried; the Choice ends it: no function error
    found = events(job_id)
    assert names(found) == ["vertices_sorted", "build_start", "add_message", "end_vertex", "end_vertex", "error"]
    failed = found[4]["data"]["build_data"]
    assert (failed["id"], failed["valid"]) == ("TestSlow-1", False)
    error = found[-1]["data"]
    assert error["category"] == "error" and "kaput" in error["text"]
    assert error["content_blocks"][0]["contents"][0]["component"] == "TestSlow"
    record = job(job_id)
    assert record.status.value == "failed" and "kaput" in record.error
    assert [m.text for m in messages(flow_id)] == ["hello"]


def test_a_transient_error_is_retried(machine: Machine):
    flow_id = store_flow()
    job_id = new_job(flow_id)
    attempts: list[int] = []

    def flaky(event: dict[str, Any]) -> None:
        from flowless.jobs.worker import TransientError

        if event["layer"] == 1 and not attempts:
            attempts.append(1)
            raise TransientError("throttled")

    machine.before["run_layer"] = flaky
    execution = machine.start(TENANT, job_id)
    assert machine.wait(execution)["status"] == "SUCCEEDED"
    assert machine.actions() == ["prepare", "run_layer#0", "run_layer#1", "run_layer#1", "run_layer#2", "finish"]
    assert names(events(job_id)) == COMPLETE
    failures = [e for e in machine.history(execution) if e["type"] == "TaskFailed"]
    assert [e["taskFailedEventDetails"]["error"] for e in failures] == ["TransientError"]


def test_a_step_that_crashed_after_committing_is_not_repeated(machine: Machine, monkeypatch: pytest.MonkeyPatch):
    """The worker dies after its commit (as if the Lambda timed out): the retry finds the step."""
    from flowless.jobs.worker import TransientError
    from flowless.store.jobs import JobRepository

    flow_id = store_flow()
    job_id = new_job(flow_id)
    original = JobRepository.commit_step
    crashed: list[str] = []

    def commit_then_crash(self: JobRepository, job: str, step: Any) -> Any:
        committed = original(self, job, step)
        if step.sk == "CKPT#00000" and not crashed:
            crashed.append(step.sk)
            raise TransientError("the worker died after committing")
        return committed

    monkeypatch.setattr(JobRepository, "commit_step", commit_then_crash)
    execution = machine.start(TENANT, job_id)
    assert machine.wait(execution)["status"] == "SUCCEEDED"
    assert machine.actions() == ["prepare", "run_layer#0", "run_layer#0", "run_layer#1", "run_layer#2", "finish"]
    assert names(events(job_id)) == COMPLETE
    assert [m.text for m in messages(flow_id)] == ["hello", "slow: hello"]


def test_cancel_stops_the_execution_and_the_job(machine: Machine, monkeypatch: pytest.MonkeyPatch):
    import asyncio

    from flowless.jobs import builds
    from flowless.settings import reset_settings_cache

    monkeypatch.setenv("BUILD_STATE_MACHINE_ARN", machine.arn)
    reset_settings_cache()
    flow_id = store_flow()
    Slow.gate = threading.Event()
    entered = threading.Event()
    machine.before["run_layer"] = lambda event: entered.set() if event["layer"] == 1 else None
    job_id = asyncio.run(builds.start_build(TENANT, flow_id, {"inputs": {"input_value": "hi"}}))
    execution = job(job_id).execution_arn
    assert execution and execution.endswith(f":{job_id}")
    assert entered.wait(10)
    assert asyncio.run(builds.cancel_build(TENANT, job(job_id))) is True
    Slow.gate.set()  # the running layer finishes, but may not commit: the job is cancelled
    assert machine.wait(execution)["status"] == "ABORTED"
    time.sleep(0.3)
    found = events(job_id)
    assert names(found) == ["vertices_sorted", "build_start", "add_message", "end_vertex", "end"] and found[-1]["data"] == {}
    assert job(job_id).status.value == "cancelled"
    assert [m.text for m in messages(flow_id)] == ["hi"]
    reset_settings_cache()


def test_replayed_steps_write_nothing_twice(machine: Machine):
    """Every step called twice with the same input: same output, no new events or messages."""
    from tests.statemachine.conftest import LambdaContext, worker_handler

    handler = worker_handler()
    flow_id = store_flow()
    job_id = new_job(flow_id)
    base = {"tenant": TENANT, "job_id": job_id}
    steps = [{**base, "action": "prepare"}] + [{**base, "action": "run_layer", "layer": i} for i in range(3)] + [{**base, "action": "finish", "layers": 3}]
    for step in steps:
        first = handler(step, LambdaContext())
        count, stored = len(events(job_id)), len(messages(flow_id))
        assert handler(step, LambdaContext()) == first
        assert (len(events(job_id)), len(messages(flow_id))) == (count, stored)
    assert names(events(job_id)) == COMPLETE
    assert len(messages(flow_id)) == 2
    # A step replayed after later steps ran changes nothing either, and MarkFailed of a finished job is a no-op.
    assert handler(steps[1], LambdaContext())["layer"] == 1
    handler({**base, "action": "fail", "error": {"Error": "States.Timeout", "Cause": ""}}, LambdaContext())
    assert names(events(job_id)) == COMPLETE and job(job_id).status.value == "completed"


def test_markfailed_records_a_crash_once(machine: Machine):
    """An error the worker did not handle reaches the Catch; MarkFailed writes one error event."""
    flow_id = store_flow()
    job_id = new_job(flow_id)

    def crash(event: dict[str, Any]) -> None:
        if event["layer"] == 2:
            raise MemoryError("out of memory")

    machine.before["run_layer"] = crash
    execution = machine.start(TENANT, job_id)
    assert machine.wait(execution)["status"] == "FAILED"
    assert machine.actions() == ["prepare", "run_layer#0", "run_layer#1", "run_layer#2", "fail"]
    found = events(job_id)
    assert names(found) == ["vertices_sorted", "build_start", "add_message", "end_vertex", "end_vertex", "error"]
    assert found[-1]["data"]["text"] == "MemoryError: out of memory"
    assert job(job_id).status.value == "failed"


def test_the_api_starts_executions_on_the_state_machine(machine: Machine, monkeypatch: pytest.MonkeyPatch, api_env: dict[str, Any]):
    from fastapi.testclient import TestClient

    from flowless.api.app import create_app
    from flowless.settings import reset_settings_cache

    monkeypatch.setenv("BUILD_STATE_MACHINE_ARN", machine.arn)
    monkeypatch.setenv("FLOWLESS_EVENTS_POLL_INTERVAL_MS", "20")
    reset_settings_cache()
    flow_id = api_env["flows"]["Echo Prompt"]
    with TestClient(create_app(("build",))) as client:
        started = client.post(f"/api/v1/build/{flow_id}/flow", json={"inputs": {"input_value": "ping"}}, headers={"x-api-key": api_env["key"]})
        job_id = started.json()["job_id"]
        body = client.get(f"/api/v1/build/{job_id}/events", headers={"x-api-key": api_env["key"]}).text
        found = [json.loads(chunk) for chunk in body.split("\n\n") if chunk.strip()]
        assert names(found)[-1] == "end" and len(found) == 8
        assert client.get(f"/api/v1/build/{job_id}/status", headers={"x-api-key": api_env["key"]}).json()["status"] == "completed"
    assert machine.wait(job(job_id).execution_arn)["status"] == "SUCCEEDED"
    reset_settings_cache()
