"""`/api/v2/workflows`: sync, stream and background runs (the build jobs, in-process here),
status, stop and event replay, in Langflow 1.13's v2 shapes."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

ECHO = "8f0a4c1e-2b7d-4e49-9a51-0c6f1d2e3a01"
CHAT = "5b3e9d72-6c1a-4f0e-8d2b-7a4c9e1f0b02"
ECHO_TEXT = "You said: {}\nFlowless answered without a model."


def headers(api_env: dict[str, Any], key: str = "key") -> dict[str, str]:
    return {"x-api-key": api_env[key]}


def sse(body: str) -> list[dict[str, Any]]:
    frames = []
    for chunk in body.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in chunk.splitlines() if ": " in line)
        if "data" in fields:
            frames.append({"id": fields.get("id"), **json.loads(fields["data"])})
    return frames


def wait_for(client, api_env, job_id: str, *, done: set[str] = frozenset({"completed", "failed", "cancelled"})) -> Any:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        answer = client.get("/api/v2/workflows", params={"job_id": job_id}, headers=headers(api_env))
        if answer.status_code != 200 or answer.json()["status"] in done:
            return answer
        time.sleep(0.05)
    raise AssertionError("the job did not finish")


def test_sync_answers_the_v2_response(client, api_env):
    answer = client.post("/api/v2/workflows", headers=headers(api_env), json={"flow_id": ECHO, "input_value": "sync run"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["object"] == "response" and body["status"] == "completed" and body["has_errors"] is False
    assert body["flow_id"] == ECHO and body["session_id"] == ECHO and body["errors"] == [] and body["inputs"] == {}
    assert body["output"] == {"reason": "single", "text": ECHO_TEXT.format("sync run"), "source": "ChatOutput-ech03"}
    assert body["outputs"] == {"ChatOutput-ech03": {"type": "message", "status": "completed", "display_name": "Chat Output",
                                                   "content": ECHO_TEXT.format("sync run"), "metadata": {"component_type": "ChatOutput"}}}
    assert set(body) >= {"job_id", "created_timestamp", "warnings", "globals", "human_request"}


def test_sync_with_tweaks_session_and_globals(client, api_env):
    tweaks = {"Prompt-ech02": {"template": "Tweaked: {question}"}}
    body = client.post("/api/v2/workflows", headers=headers(api_env), json={
        "flow_id": ECHO, "input_value": "hi", "tweaks": tweaks, "session_id": "v2-session", "globals": {"TENANT_NAME": "acme"},
    }).json()
    assert body["output"]["text"] == "Tweaked: hi" and body["session_id"] == "v2-session"
    assert body["inputs"] == tweaks and body["globals"] == {"TENANT_NAME": "acme"}
    stored = client.get("/api/v1/monitor/messages", params={"session_id": "v2-session"}, headers=headers(api_env)).json()
    assert [m["text"] for m in stored] == ["hi", "Tweaked: hi"]


def test_sync_failure_is_a_failed_response(client, api_env):
    api_env["server"].fail_next(10, status=401)
    body = client.post("/api/v2/workflows", headers=headers(api_env), json={"flow_id": CHAT, "input_value": "x"}).json()
    assert body["status"] == "failed" and body["has_errors"] is True and body["output"]["reason"] == "failed"
    assert body["errors"][0]["code"] == "EXECUTION_ERROR" and body["errors"][0]["details"]["flow_id"] == CHAT


def test_refusals(client, api_env):
    h = headers(api_env)
    missing = client.post("/api/v2/workflows", headers=h, json={"flow_id": "00000000-0000-4000-8000-000000000000"})
    assert missing.status_code == 404 and missing.json()["detail"]["code"] == "FLOW_NOT_FOUND"
    assert client.post("/api/v2/workflows", headers=headers(api_env, "other_key"), json={"flow_id": ECHO}).status_code == 404
    assert client.post("/api/v2/workflows", headers=h, json={"flow_id": ECHO, "surprise": 1}).status_code == 422
    assert client.post("/api/v2/workflows", headers=h, json={"flow_id": ECHO, "mode": "later"}).status_code == 422
    agui = client.post("/api/v2/workflows", headers=h, json={"flow_id": ECHO, "mode": "stream", "stream_protocol": "agui"})
    assert agui.status_code == 422 and agui.json()["detail"]["code"] == "UNKNOWN_STREAM_PROTOCOL"
    refused = client.post("/api/v2/workflows", headers=h, json={"flow_id": ECHO, "mode": "background", "tweaks": {"Prompt-ech02": {"code": "x"}}})
    assert refused.status_code == 422 and refused.json()["detail"]["code"] == "TWEAKS_REFUSED"
    assert client.get("/api/v2/workflows", headers=h).json()["detail"]["code"] == "MISSING_PARAMETER"
    assert client.get("/api/v2/workflows", params={"job_id": "nope"}, headers=h).status_code == 422
    unknown = client.get("/api/v2/workflows", params={"job_id": "00000000-0000-4000-8000-000000000000"}, headers=h)
    assert unknown.status_code == 404 and unknown.json()["detail"]["code"] == "JOB_NOT_FOUND"
    assert client.post("/api/v2/workflows", json={"flow_id": ECHO}).status_code == 403


def test_stream_sends_events_outputs_and_end(client, api_env):
    answer = client.post("/api/v2/workflows", headers=headers(api_env), json={"flow_id": CHAT, "input_value": "one two three", "mode": "stream"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/event-stream")
    frames = sse(answer.text)
    names = [f["event"] for f in frames]
    assert names[-1] == "end" and "token" in names and "add_message" in names and "end_vertex" in names
    outputs = [f["data"] for f in frames if f["event"] == "output"]
    assert outputs == [{"component_id": "ChatOutput-bc004", "type": "message", "status": "completed", "display_name": "Chat Output",
                        "content": "Echo: one two three", "metadata": {"component_type": "ChatOutput"}}]
    narrowed = sse(client.post("/api/v2/workflows", headers=headers(api_env),
                               json={"flow_id": ECHO, "input_value": "n", "mode": "stream", "expose_graph_state": False}).text)
    assert "end_vertex" not in [f["event"] for f in narrowed] and [f["data"]["content"] for f in narrowed if f["event"] == "output"] == [ECHO_TEXT.format("n")]


def test_background_job_status_result_and_event_replay(client, api_env):
    h = headers(api_env)
    started = client.post("/api/v2/workflows", headers=h, json={"flow_id": ECHO, "input_value": "later", "mode": "background",
                                                                 "session_id": "bg-session", "globals": {"X": "1"}})
    assert started.status_code == 200, started.text
    job = started.json()
    assert job["object"] == "job" and job["status"] == "queued" and job["flow_id"] == ECHO and job["globals"] == {"X": "1"}
    assert job["links"] == {"status": f"/api/v2/workflows?job_id={job['job_id']}", "events": f"/api/v2/workflows/{job['job_id']}/events",
                            "stop": "/api/v2/workflows/stop"}
    done = wait_for(client, api_env, job["job_id"]).json()
    assert done["object"] == "response" and done["status"] == "completed" and done["session_id"] == "bg-session"
    assert done["output"]["text"] == ECHO_TEXT.format("later") and done["outputs"]["ChatOutput-ech03"]["content"] == ECHO_TEXT.format("later")
    events = client.get(f"/api/v2/workflows/{job['job_id']}/events", headers=h)
    frames = sse(events.text)
    assert frames[-1]["event"] == "end" and any(f["event"] == "output" for f in frames)
    ids = [int(f["id"]) for f in frames]
    assert ids == sorted(ids)
    middle = ids[len(ids) // 2]
    replay = sse(client.get(f"/api/v2/workflows/{job['job_id']}/events", headers={**h, "Last-Event-ID": str(middle)}).text)
    assert [int(f["id"]) for f in replay] == [i for i in ids if i > middle]
    assert client.get(f"/api/v2/workflows/{job['job_id']}/events", headers=headers(api_env, "other_key")).status_code == 404
    again = client.post("/api/v2/workflows/stop", headers=h, json={"job_id": job["job_id"]}).json()
    assert again == {"job_id": job["job_id"], "message": f"Job {job['job_id']} already finished (completed)."}


def test_stop_cancels_a_running_background_job(client, api_env):
    api_env["server"].delay_s = 1.5
    h = headers(api_env)
    job = client.post("/api/v2/workflows", headers=h, json={"flow_id": CHAT, "input_value": "slow", "mode": "background"}).json()
    wait_for(client, api_env, job["job_id"], done={"in_progress", "completed", "failed", "cancelled"})
    stopped = client.post("/api/v2/workflows/stop", headers=h, json={"job_id": job["job_id"]})
    assert stopped.json() == {"job_id": job["job_id"], "message": f"Job {job['job_id']} cancelled successfully."}
    status = client.get("/api/v2/workflows", params={"job_id": job["job_id"]}, headers=h).json()
    assert status["object"] == "job" and status["status"] == "cancelled"
    frames = sse(client.get(f"/api/v2/workflows/{job['job_id']}/events", headers=h).text)
    assert frames[-1]["event"] == "cancelled"
    assert client.post("/api/v2/workflows/stop", headers=h, json={"job_id": job["job_id"]}).json()["message"].endswith("is already cancelled.")
    api_env["server"].delay_s = 0


def test_a_v1_build_job_is_not_a_workflow_job(client, api_env):
    h = headers(api_env)
    build = client.post(f"/api/v1/build/{ECHO}/flow", headers=h, json={"inputs": {"input_value": "b"}}).json()
    answer = client.get("/api/v2/workflows", params={"job_id": build["job_id"]}, headers=h)
    assert answer.status_code == 404 and answer.json()["detail"]["code"] == "JOB_NOT_FOUND"


def test_an_unsaved_canvas_runs_for_keys_that_write(client, api_env):
    from tests.support.flows import edge, flow, node

    canvas = flow("canvas", [node("ChatInput-c1", "ChatInput"), node("ChatOutput-c2", "ChatOutput")],
                  [edge("ChatInput-c1", "message", "ChatOutput-c2", "input_value")])["data"]
    body = {"flow_id": ECHO, "input_value": "from the canvas", "data": canvas}
    ran = client.post("/api/v2/workflows", headers=headers(api_env), json=body).json()
    assert ran["output"] == {"reason": "single", "text": "from the canvas", "source": "ChatOutput-c2"}
    stored = client.post("/api/v2/workflows", headers=headers(api_env, "run_only_key"), json=body).json()
    assert stored["output"]["text"] == ECHO_TEXT.format("from the canvas")  # an execute-only key runs the saved flow


def test_idempotency_key_starts_one_background_job(client, api_env):
    h = {**headers(api_env), "Idempotency-Key": "wf-1"}
    body = {"flow_id": ECHO, "input_value": "once", "mode": "background"}
    first = client.post("/api/v2/workflows", headers=h, json=body)
    again = client.post("/api/v2/workflows", headers=h, json=body)
    assert again.headers.get("idempotent-replayed") == "true" and again.json()["job_id"] == first.json()["job_id"]
    wait_for(client, api_env, first.json()["job_id"])
