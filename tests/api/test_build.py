"""`/build` through the ASGI app with the in-process runner (no state machine configured): start a
build, follow its events (streaming, polling, resuming), cancel, tenants, the unsaved-graph
override, failures, and `/monitor/builds`."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from tests.api.conftest import OTHER_TENANT, TENANT, store_flow
from tests.support.flows import edge, flow, node

ECHO = "Echo Prompt"
ECHO_VERTICES = ["ChatInput-ech01", "Prompt-ech02", "ChatOutput-ech03"]
ECHO_ANSWER = "You said: ping\nFlowless answered without a model."


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    from flowless.settings import reset_settings_cache

    monkeypatch.setenv("FLOWLESS_EVENTS_POLL_INTERVAL_MS", "10")
    monkeypatch.setenv("FLOWLESS_EVENTS_LONG_POLL_SECONDS", "10")
    monkeypatch.delenv("BUILD_STATE_MACHINE_ARN", raising=False)
    reset_settings_cache()
    yield
    reset_settings_cache()


def headers(key: str) -> dict[str, str]:
    return {"x-api-key": key}


def start(client: Any, key: str, flow_id: str, body: Any = None, *, prefix: str = "/api/v1", **params: Any) -> Any:
    return client.post(f"{prefix}/build/{flow_id}/flow", json=body if body is not None else {"inputs": {"input_value": "ping"}},
                       headers=headers(key), params=params)


def frames(text: str) -> list[dict[str, Any]]:
    return [json.loads(chunk) for chunk in text.split("\n\n") if chunk.strip()]


def stream(client: Any, key: str, job_id: str, **params: Any) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/build/{job_id}/events", headers=headers(key), params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    return frames(response.text)


def poll_until_end(client: Any, key: str, job_id: str, timeout: float = 10) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        after = seen[-1]["seq"] if seen else 0
        response = client.get(f"/api/v1/build/{job_id}/events", headers=headers(key), params={"event_delivery": "polling", "after": after})
        assert response.status_code == 200
        seen += [json.loads(line) for line in response.text.split("\n") if line.strip()]
        if seen and seen[-1]["event"] in ("end", "error"):
            return seen
        time.sleep(0.02)
    raise AssertionError(f"no end after {timeout}s: {[e['event'] for e in seen]}")


def names(events: list[dict[str, Any]]) -> list[str]:
    return [e["event"] for e in events]


def status(client: Any, key: str, job_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/build/{job_id}/status", headers=headers(key))
    assert response.status_code == 200, response.text
    return response.json()


def test_a_build_streams_langflows_events_until_end(client, api_env):
    key, flow_id = api_env["key"], api_env["flows"][ECHO]
    response = start(client, key, flow_id)
    assert response.status_code == 200 and set(response.json()) == {"job_id"}
    job_id = response.json()["job_id"]
    events = stream(client, key, job_id)
    assert names(events) == ["vertices_sorted", "build_start", "add_message", "end_vertex", "end_vertex", "add_message", "end_vertex", "end"]
    assert [e["seq"] for e in events] == list(range(1, 9))
    assert events[0]["data"] == {"ids": ["ChatInput-ech01"], "to_run": ECHO_VERTICES, "run_id": job_id}
    assert [e["data"]["build_data"]["id"] for e in events if e["event"] == "end_vertex"] == ECHO_VERTICES
    last_vertex = events[6]["data"]
    assert last_vertex["build_data"]["valid"] and last_vertex["build_data"]["data"]["results"]["message"]["text"] == ECHO_ANSWER
    assert last_vertex["output_meta"]["is_terminal"] is True
    user, answer = events[2]["data"], events[5]["data"]
    assert (user["text"], user["sender"], answer["text"], answer["sender_name"]) == ("ping", "User", ECHO_ANSWER, "AI")
    assert events[-1]["data"]["build_duration"] > 0
    record = status(client, key, job_id)
    assert (record["status"], record["event_count"], record["flow_id"]) == ("completed", 8, flow_id)
    # The messages are stored under the ids the events announced, in the flow's default session.
    stored = client.get("/api/v1/monitor/messages", params={"flow_id": flow_id}, headers=headers(key)).json()
    assert [(m["id"], m["text"]) for m in stored] == [(user["id"], "ping"), (answer["id"], ECHO_ANSWER)]
    assert {m["session_id"] for m in stored} == {flow_id}


def test_polling_returns_what_is_there_and_resumes_after_a_sequence_number(client, api_env):
    key, flow_id = api_env["key"], api_env["flows"][ECHO]
    job_id = start(client, key, flow_id, {"inputs": {"input_value": "ping", "session": "s-poll"}}).json()["job_id"]
    events = poll_until_end(client, key, job_id)
    assert names(events)[-1] == "end" and [e["seq"] for e in events] == list(range(1, len(events) + 1))
    nothing = client.get(f"/api/v1/build/{job_id}/events", headers=headers(key), params={"event_delivery": "polling", "after": events[-1]["seq"]})
    assert nothing.status_code == 200 and nothing.text == ""
    tail = stream(client, key, job_id, after=5)
    assert [e["seq"] for e in tail] == [6, 7, 8] and tail == events[5:]
    by_header = client.get(f"/api/v1/build/{job_id}/events", headers={**headers(key), "Last-Event-ID": "6"})
    assert [e["seq"] for e in frames(by_header.text)] == [7, 8]
    assert events[2]["data"]["session_id"] == "s-poll"


def test_direct_delivery_answers_the_stream_itself(client, api_env):
    key, flow_id = api_env["key"], api_env["flows"][ECHO]
    response = start(client, key, flow_id, event_delivery="direct")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/x-ndjson")
    events = frames(response.text)
    assert names(events)[0] == "vertices_sorted" and names(events)[-1] == "end"
    assert events[0]["data"]["run_id"] == response.headers["x-flowless-job-id"]


def test_tenant_path_and_stop_component_id(client, api_env):
    key, flow_id = api_env["key"], api_env["flows"][ECHO]
    job_id = start(client, key, flow_id, prefix=f"/lf/{TENANT}/api/v1", stop_component_id="Prompt-ech02").json()["job_id"]
    events = stream(client, key, job_id)
    assert events[0]["data"]["to_run"] == ["ChatInput-ech01", "Prompt-ech02"]
    assert [e["data"]["build_data"]["id"] for e in events if e["event"] == "end_vertex"] == ["ChatInput-ech01", "Prompt-ech02"]
    assert names(events)[-1] == "end"


def test_another_tenant_sees_no_job_and_no_flow(client, api_env):
    key, other = api_env["key"], api_env["other_key"]
    flow_id = api_env["flows"][ECHO]
    job_id = start(client, key, flow_id).json()["job_id"]
    stream(client, key, job_id)
    for method, path in (("get", "events"), ("get", "status"), ("post", "cancel")):
        response = getattr(client, method)(f"/api/v1/build/{job_id}/{path}", headers=headers(other))
        assert (response.status_code, response.json()) == (404, {"detail": f"Job not found: {job_id}"}), path
    assert start(client, other, flow_id).json() == {"detail": f"Flow with id {flow_id} not found"}
    assert client.get(f"/lf/{OTHER_TENANT}/api/v1/build/{job_id}/status", headers=headers(key)).status_code == 404
    unknown = str(uuid.uuid4())
    assert client.get(f"/api/v1/build/{unknown}/events", headers=headers(key)).json() == {"detail": f"Job not found: {unknown}"}
    assert client.get("/api/v1/build/not-a-job/status", headers=headers(key)).status_code == 404


def test_flow_ids_must_be_uuids_of_the_tenant_and_inputs_are_checked(client, api_env):
    key = api_env["key"]
    assert start(client, key, "echo-prompt").json() == {"detail": "Flow with id echo-prompt not found"}
    flow_id = api_env["flows"][ECHO]
    refused = start(client, key, flow_id, {"inputs": {"input_value": "x", "tweaks": {}}})
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "inputs", "tweaks"]
    assert start(client, key, flow_id, event_delivery="sometimes").status_code == 422
    assert client.post(f"/api/v1/build/{flow_id}/flow").status_code == 403  # no key
    assert client.get("/api/v1/build/x/status", headers=headers("sk-wrong")).status_code == 403


def test_an_unsaved_graph_runs_for_owners_only(client, api_env):
    flow_id = api_env["flows"][ECHO]
    unsaved = flow("draft", [node("ChatInput-d1", "ChatInput"), node("ChatOutput-d2", "ChatOutput")],
                   [edge("ChatInput-d1", "message", "ChatOutput-d2", "input_value")])["data"]
    body = {"inputs": {"input_value": "draft run"}, "data": unsaved}
    owner_job = start(client, api_env["key"], flow_id, body).json()["job_id"]
    owner_events = stream(client, api_env["key"], owner_job)
    assert owner_events[0]["data"]["to_run"] == ["ChatInput-d1", "ChatOutput-d2"]
    assert [e["data"]["text"] for e in owner_events if e["event"] == "add_message"] == ["draft run", "draft run"]
    runner_job = start(client, api_env["run_only_key"], flow_id, body).json()["job_id"]
    runner_events = stream(client, api_env["run_only_key"], runner_job)
    assert runner_events[0]["data"]["to_run"] == ECHO_VERTICES  # the stored flow: data ignored


def test_a_model_failure_fails_the_job_with_an_error_event(client, api_env):
    key, flow_id = api_env["key"], api_env["flows"]["Basic Chat"]
    api_env["server"].fail_next(10, 401)
    job_id = start(client, key, flow_id, {"inputs": {"input_value": "hello"}}).json()["job_id"]
    events = stream(client, key, job_id)
    assert names(events)[-2:] == ["end_vertex", "error"]
    failed = events[-2]["data"]["build_data"]
    assert failed["id"] == "LanguageModelComponent-bc003" and failed["valid"] is False
    error = events[-1]["data"]
    assert error["category"] == "error" and error["error"] is True
    assert error["content_blocks"][0]["title"] == "Error" and error["content_blocks"][0]["contents"][0]["component"] == "Language Model"
    record = status(client, key, job_id)
    assert record["status"] == "failed" and error["text"] == record["error"]
    # What the failed layer's predecessors said is kept.
    stored = client.get("/api/v1/monitor/messages", params={"flow_id": flow_id}, headers=headers(key)).json()
    assert [m["text"] for m in stored] == ["hello"]


def test_a_model_answer_streams_its_tokens_in_the_build(client, api_env, monkeypatch):
    from flowless.store.flows import FlowRepository

    key, flow_id = api_env["key"], api_env["flows"]["Basic Chat"]
    stored = FlowRepository(TENANT).get(flow_id)
    for n in stored.data["nodes"]:
        if n["data"]["type"] == "LanguageModelComponent":
            n["data"]["node"]["template"]["stream"]["value"] = True
    FlowRepository(TENANT).update(flow_id, data=stored.data)
    monkeypatch.setenv("FLOWLESS_TOKEN_BATCH_MS", "0")  # one event per chunk
    from flowless.settings import reset_settings_cache

    reset_settings_cache()
    job_id = start(client, key, flow_id, {"inputs": {"input_value": "one two three four"}}).json()["job_id"]
    events = stream(client, key, job_id)
    tokens = [e["data"] for e in events if e["event"] == "token"]
    assert len(tokens) > 1
    final = [e["data"] for e in events if e["event"] == "add_message"][-1]
    assert {t["id"] for t in tokens} == {final["id"]}
    assert "".join(t["chunk"] for t in tokens) == final["text"]
    assert names(events)[-1] == "end"


def test_cancel_stops_a_running_build(client, api_env):
    key, flow_id = api_env["key"], api_env["flows"]["Basic Chat"]
    api_env["server"].delay_s = 3
    job_id = start(client, key, flow_id, {"inputs": {"input_value": "slow"}}).json()["job_id"]
    deadline = time.monotonic() + 5
    while status(client, key, job_id)["status"] != "in_progress" and time.monotonic() < deadline:
        time.sleep(0.02)
    response = client.post(f"/api/v1/build/{job_id}/cancel", headers=headers(key))
    assert response.json() == {"success": True, "message": "Flow build cancelled successfully"}
    assert status(client, key, job_id)["status"] == "cancelled"
    events = stream(client, key, job_id)
    assert names(events)[-1] == "end" and events[-1]["data"] == {}
    assert "LanguageModelComponent-bc003" not in [e["data"]["build_data"]["id"] for e in events if e["event"] == "end_vertex"]
    from flowless.jobs.starter import get_runner

    assert job_id not in get_runner().runs  # the task was cancelled
    again = client.post(f"/api/v1/build/{job_id}/cancel", headers=headers(key))
    assert again.json()["success"] is True
    assert stream(client, key, job_id) == events  # nothing more was written


def test_cancel_of_a_finished_build_changes_nothing(client, api_env):
    key, flow_id = api_env["key"], api_env["flows"][ECHO]
    job_id = start(client, key, flow_id).json()["job_id"]
    events = stream(client, key, job_id)
    assert client.post(f"/api/v1/build/{job_id}/cancel", headers=headers(key)).json()["success"] is True
    assert status(client, key, job_id)["status"] == "completed" and stream(client, key, job_id) == events


def test_monitor_builds_lists_and_deletes_vertex_builds(client, api_env):
    key, flow_id = api_env["key"], api_env["flows"][ECHO]
    job_id = start(client, key, flow_id).json()["job_id"]
    stream(client, key, job_id)
    quiet = start(client, key, flow_id, log_builds="false").json()["job_id"]
    stream(client, key, quiet)
    builds = client.get("/api/v1/monitor/builds", params={"flow_id": flow_id}, headers=headers(key)).json()["vertex_builds"]
    assert sorted(builds) == sorted(ECHO_VERTICES)
    entry = builds["ChatOutput-ech03"][0]
    assert set(entry) == {"timestamp", "id", "data", "artifacts", "params", "valid", "flow_id", "job_id", "build_id"}
    assert (entry["job_id"], entry["flow_id"], entry["valid"]) == (job_id, flow_id, True)
    assert entry["data"]["results"]["message"]["text"] == ECHO_ANSWER
    assert all(len(b) == 1 for b in builds.values())  # the log_builds=false build logged nothing
    other = client.get("/api/v1/monitor/builds", params={"flow_id": flow_id}, headers=headers(api_env["other_key"])).json()
    assert other == {"vertex_builds": {}}
    assert client.delete("/api/v1/monitor/builds", params={"flow_id": flow_id}, headers=headers(key)).status_code == 204
    assert client.get("/api/v1/monitor/builds", params={"flow_id": flow_id}, headers=headers(key)).json() == {"vertex_builds": {}}
    assert client.get("/api/v1/monitor/builds", params={"flow_id": "nope"}, headers=headers(key)).status_code == 422


def test_a_build_past_its_time_limit_is_reported_failed(client, api_env, monkeypatch):
    """An execution that timed out never reached MarkFailed: reading the job settles it."""
    from datetime import timedelta

    from flowless.store import clock
    from flowless.store.jobs import JobRepository

    key, flow_id = api_env["key"], api_env["flows"][ECHO]
    job_id = JobRepository(TENANT).create(flow_id, request={}).id  # queued, never started
    assert status(client, key, job_id)["status"] == "queued"
    real_now = clock.now
    monkeypatch.setattr(clock, "now", lambda: real_now() + timedelta(hours=2))
    record = status(client, key, job_id)
    assert (record["status"], record["error"]) == ("failed", "The build did not finish in time")
    events = stream(client, key, job_id)
    assert names(events) == ["error"] and events[0]["data"]["text"] == "The build did not finish in time"
