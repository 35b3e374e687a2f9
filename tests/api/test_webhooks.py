"""Webhooks through the ASGI app on moto: inbound runs followed through their job, and outbound
subscriptions delivered (signed, retried, dead-lettered) off the request path."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.conftest import OTHER_TENANT, TENANT, store_flow
from tests.support.flows import edge, flow, node
from tests.support.receiver import Receiver

ECHO = "echo-prompt"
ALL_EVENTS = ["flow_started", "flow_completed", "flow_error", "component_completed"]


def headers(key: str) -> dict[str, str]:
    return {"x-api-key": key}


def webhook_flow(pattern: str = "Order {order_id} for {customer}", *, agent: bool = False) -> dict[str, Any]:
    """Webhook → Parser (→ Agent) → Chat Output."""
    nodes = [node("Webhook-w1", "Webhook"), node("ParserComponent-w2", "ParserComponent", {"mode": "Parser", "pattern": pattern}),
             node("ChatOutput-w3", "ChatOutput")]
    edges = [edge("Webhook-w1", "output_data", "ParserComponent-w2", "input_data", output_types=["Data"])]
    if agent:
        nodes.append(node("Agent-w4", "Agent", {"model": [{"name": "gpt-4o-mini", "provider": "OpenAI"}], "add_current_date_tool": False}))
        edges += [edge("ParserComponent-w2", "parsed_text", "Agent-w4", "input_value", input_types=["Message"]),
                  edge("Agent-w4", "response", "ChatOutput-w3", "input_value")]
    else:
        edges.append(edge("ParserComponent-w2", "parsed_text", "ChatOutput-w3", "input_value"))
    return flow("Order Hook", nodes, edges, endpoint_name="order-hook")


def follow(client: Any, job_id: str, key: str, timeout: float = 10.0) -> dict[str, Any]:
    """Poll the job until it ends."""
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/api/v1/webhook/jobs/{job_id}", headers=headers(key))
        assert job.status_code == 200, job.text
        body = job.json()
        if body["status"] in ("completed", "failed") or time.monotonic() > deadline:
            return body
        time.sleep(0.02)


def answer_text(response: dict[str, Any]) -> str:
    return response["outputs"][0]["outputs"][0]["results"]["message"]["text"]


# --- inbound ------------------------------------------------------------------------------------


def test_webhook_body_reaches_the_flow_and_the_job_has_the_result(client, api_env):
    flow_id = store_flow(TENANT, webhook_flow())
    started = client.post("/api/v1/webhook/order-hook", json={"order_id": "A-17", "customer": "Ada"}, headers=headers(api_env["run_only_key"]))
    assert started.status_code == 202
    body = started.json()
    assert {k: body[k] for k in ("message", "status")} == {"message": "Task started in the background", "status": "in progress"}

    job = follow(client, body["job_id"], api_env["run_only_key"])
    assert job["status"] == "completed", job
    assert job["job_id"] == body["job_id"] and job["flow_id"] == flow_id and "error" not in job
    assert job["result"]["session_id"] == flow_id  # the session is the flow id
    assert answer_text(job["result"]) == "Order A-17 for Ada"

    by_id = client.post(f"/lf/{TENANT}/api/v1/webhook/{flow_id}", content=b'{"order_id": 9, "customer": "Bo"}',
                        params={"x-api-key": api_env["key"]})
    assert by_id.status_code == 202
    assert answer_text(follow(client, by_id.json()["job_id"], api_env["key"])["result"]) == "Order 9 for Bo"


def test_a_body_that_is_not_json_arrives_as_payload(client, api_env):
    store_flow(TENANT, webhook_flow("Got: {payload}"))
    started = client.post("/api/v1/webhook/order-hook", content=b"plain text ping", headers=headers(api_env["key"]))
    assert answer_text(follow(client, started.json()["job_id"], api_env["key"])["result"]) == "Got: plain text ping"


def test_a_failing_run_fails_its_job(client, api_env):
    store_flow(TENANT, webhook_flow(agent=True))
    api_env["server"].fail_next(10, status=500)
    started = client.post("/api/v1/webhook/order-hook", json={"order_id": 1, "customer": "C"}, headers=headers(api_env["key"]))
    job = follow(client, started.json()["job_id"], api_env["key"])
    assert job["status"] == "failed" and "result" not in job
    assert "PROVIDER_ERROR" in job["error"]


def test_webhook_auth_body_and_tenants(client, api_env, scoped_keys):
    flow_id = store_flow(TENANT, webhook_flow())
    url = f"/api/v1/webhook/{flow_id}"
    missing = client.post(url, json={"a": 1})
    assert missing.status_code == 403 and missing.json() == {"detail": "API key required when webhook authentication is enabled"}
    assert client.post(url, content=b"").status_code == 403  # the key is checked before the body
    bad = client.post(url, json={"a": 1}, headers=headers("sk-wrong"))
    assert bad.status_code == 403 and bad.json() == {"detail": "Invalid API key"}
    assert client.post(url, json={"a": 1}, headers=headers(scoped_keys["execute"]["without"])).status_code == 403
    for empty in (b"", b"  \n"):
        answer = client.post(url, content=empty, headers=headers(api_env["key"]))
        assert answer.status_code == 400
        assert answer.json() == {"detail": "Request body is empty. You should provide a JSON payload containing the flow ID."}
    for ref in (flow_id, "order-hook", "no-such-flow"):
        foreign = client.post(f"/api/v1/webhook/{ref}", json={"a": 1}, headers=headers(api_env["other_key"]))
        assert foreign.status_code == 404 and foreign.json() == {"detail": "Flow not found"}
    job_id = client.post(url, json={"order_id": 1, "customer": "C"}, headers=headers(api_env["key"])).json()["job_id"]
    follow(client, job_id, api_env["key"])
    assert client.get(f"/api/v1/webhook/jobs/{job_id}", headers=headers(api_env["other_key"])).status_code == 404
    assert client.get("/api/v1/webhook/jobs/no-such-job", headers=headers(api_env["key"])).status_code == 404


def test_lambda_runner_invokes_the_function_asynchronously(api_env):
    from flowless.tasks import TASK_KEY, LambdaAsyncRunner, LocalTaskRunner, handle_task_event, task_runner
    from flowless.store.jobs import JobRepository
    from flowless.webhooks.inbound import start_webhook_run

    in_lambda = {"AWS_LAMBDA_FUNCTION_NAME": "flowless-webhook", "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001"}
    assert isinstance(task_runner({}), LocalTaskRunner)
    assert task_runner(in_lambda).function_name == "flowless-webhook"
    assert task_runner({**in_lambda, "FLOWLESS_ASYNC_FUNCTION_NAME": "y"}).function_name == "y"
    assert isinstance(task_runner({"AWS_LAMBDA_FUNCTION_NAME": "WebhookFunction"}), LocalTaskRunner)  # flowless invoke

    class FakeLambda:
        calls: list[dict[str, Any]] = []

        def invoke(self, **kwargs: Any) -> dict[str, Any]:
            self.calls.append(kwargs)
            return {"StatusCode": 202}

    fake = FakeLambda()
    flow_id = store_flow(TENANT, webhook_flow())
    job_id = start_webhook_run(TENANT, "order-hook", '{"order_id": 3, "customer": "Di"}', runner=LambdaAsyncRunner("flowless-webhook", client=fake))
    (call,) = fake.calls
    assert call["FunctionName"] == "flowless-webhook" and call["InvocationType"] == "Event"
    event = json.loads(call["Payload"])
    assert event == {TASK_KEY: "webhook_run", "tenant": TENANT, "flow_id": flow_id, "job_id": job_id, "body": '{"order_id": 3, "customer": "Di"}'}
    assert JobRepository(TENANT).get(job_id).status.value == "queued"

    # What the invoked function does with that event (functions/webhook/app.py hands it here).
    assert handle_task_event(event) == {"job_id": job_id, "status": "completed"}
    job = JobRepository(TENANT).get(job_id)
    assert job.status.value == "completed" and answer_text(job.result) == "Order 3 for Di"
    # A repeated invocation (Lambda retries asynchronous events) does not run the flow again.
    assert handle_task_event(event) == {"job_id": job_id, "status": "skipped"}

    class BrokenLambda:
        def invoke(self, **kwargs: Any) -> None:
            raise RuntimeError("throttled")

    from flowless.api.errors import ApiError

    with pytest.raises(ApiError) as refused:
        start_webhook_run(TENANT, "order-hook", "{}", runner=LambdaAsyncRunner("f", client=BrokenLambda()))
    assert refused.value.status == 503


# --- outbound subscriptions ---------------------------------------------------------------------


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as server:
        yield server


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWLESS_WEBHOOK_BACKOFF_S", "0.05")
    monkeypatch.setenv("FLOWLESS_WEBHOOK_TIMEOUT_S", "5")


def subscribe(client: Any, key: str, flow_id: str, url: str, **fields: Any) -> Any:
    return client.post(f"/api/v1/flows/{flow_id}/webhooks", json={"url": url, **fields}, headers=headers(key))


def deliveries(client: Any, key: str, flow_id: str, hook_id: str) -> list[dict[str, Any]]:
    answer = client.get(f"/api/v1/flows/{flow_id}/webhooks/{hook_id}/deliveries", headers=headers(key))
    assert answer.status_code == 200, answer.text
    return answer.json()["deliveries"]


def settled(client: Any, key: str, flow_id: str, hook_id: str, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
    """The delivery log once `count` deliveries reached a final state."""
    deadline = time.monotonic() + timeout
    while True:
        log = deliveries(client, key, flow_id, hook_id)
        done = [d for d in log if d["state"] in ("delivered", "failed", "dead_letter")]
        if len(done) >= count or time.monotonic() > deadline:
            return log
        time.sleep(0.05)


def run(client: Any, key: str, flow: str = ECHO, text: str = "ping") -> Any:
    return client.post(f"/api/v1/run/{flow}", json={"input_value": text}, headers=headers(key))


def test_subscription_routes(client, api_env, receiver, scoped_keys):
    flow_id = api_env["flows"]["Echo Prompt"]
    key = api_env["key"]
    created = subscribe(client, key, flow_id, receiver.url, description="orders")
    assert created.status_code == 201
    hook = created.json()
    assert hook["events"] == ["flow_started", "flow_completed", "flow_error"] and hook["secret"].startswith("whsec_")
    assert hook["flow_id"] == flow_id and hook["url"] == receiver.url and hook["description"] == "orders"
    mine = subscribe(client, key, flow_id, receiver.url, events=["flow_completed"], secret="s" * 20).json()
    assert mine["secret"] == "s" * 20

    listed = client.get(f"/api/v1/flows/{flow_id}/webhooks", headers=headers(scoped_keys["read"]["with"])).json()["webhooks"]
    assert [h["id"] for h in listed] == [hook["id"], mine["id"]]
    assert all("secret" not in h for h in listed)  # shown once, at creation
    one = client.get(f"/api/v1/flows/{flow_id}/webhooks/{hook['id']}", headers=headers(key)).json()
    assert one["id"] == hook["id"] and "secret" not in one

    assert subscribe(client, scoped_keys["write"]["without"], flow_id, receiver.url).status_code == 403
    assert client.delete(f"/api/v1/flows/{flow_id}/webhooks/{hook['id']}", headers=headers(scoped_keys["write"]["without"])).status_code == 403
    other = headers(api_env["other_key"])
    assert subscribe(client, api_env["other_key"], flow_id, receiver.url).status_code == 404
    assert client.get(f"/api/v1/flows/{flow_id}/webhooks", headers=other).status_code == 404
    assert client.get(f"/api/v1/flows/{flow_id}/webhooks/{hook['id']}/deliveries", headers=other).status_code == 404
    assert client.delete(f"/api/v1/flows/{flow_id}/webhooks/{hook['id']}", headers=other).status_code == 404

    deleted = client.delete(f"/api/v1/flows/{flow_id}/webhooks/{hook['id']}", headers=headers(key))
    assert deleted.status_code == 200 and deleted.json() == {"detail": "Webhook deleted"}
    assert client.get(f"/api/v1/flows/{flow_id}/webhooks/{hook['id']}", headers=headers(key)).status_code == 404
    assert [h["id"] for h in client.get(f"/api/v1/flows/{flow_id}/webhooks", headers=headers(key)).json()["webhooks"]] == [mine["id"]]


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://169.254.169.254/latest/meta-data", "URL_BLOCKED"),
        ("http://10.1.2.3/hook", "URL_BLOCKED"),
        ("file:///etc/passwd", "URL_BLOCKED"),
        ("http://metadata.google.internal/", "URL_BLOCKED"),
    ],
)
def test_subscription_urls_pass_the_ssrf_guard(client, api_env, url, code):
    answer = subscribe(client, api_env["key"], api_env["flows"]["Echo Prompt"], url)
    assert answer.status_code == 422 and answer.json()["detail"]["code"] == code


def test_subscription_validation(client, api_env, receiver):
    flow_id = api_env["flows"]["Echo Prompt"]
    for fields in ({"events": ["flow_exploded"]}, {"events": []}, {"secret": "short"}, {"colour": "red"}):
        assert subscribe(client, api_env["key"], flow_id, receiver.url, **fields).status_code == 422, fields


def test_each_subscribed_event_arrives_once_signed(client, api_env, receiver, fast_retries):
    from flowless.webhooks.signing import verify

    flow_id = api_env["flows"]["Echo Prompt"]
    key = api_env["key"]
    everything = subscribe(client, key, flow_id, receiver.url, events=ALL_EVENTS).json()
    with Receiver() as second:
        completed_only = subscribe(client, key, flow_id, second.url, events=["flow_completed"]).json()
        response = run(client, key, text="hello hooks")
        assert response.status_code == 200
        expected_components = len(response.json()["outputs"][0]["outputs"])  # at least the chat output
        log = settled(client, key, flow_id, everything["id"], 2 + 3)  # started, completed, three components
        second_log = settled(client, key, flow_id, completed_only["id"], 1)
        assert [d["event"] for d in second_log] == ["flow_completed"]
        (only,) = second.received
        assert only.json()["event"] == "flow_completed"

    assert expected_components == 1
    got = receiver.received
    events = sorted(r.headers["x-flowless-event"] for r in got)
    assert events == ["component_completed"] * 3 + ["flow_completed", "flow_started"]
    assert len({r.headers["x-flowless-delivery"] for r in got}) == len(got)
    for received in got:
        assert verify(everything["secret"], received.body, received.headers["x-flowless-signature"], received.headers["x-flowless-timestamp"])
        assert not verify("whsec_wrong", received.body, received.headers["x-flowless-signature"], received.headers["x-flowless-timestamp"])
        payload = received.json()
        assert payload["event"] == received.headers["x-flowless-event"]
        assert payload["flow_id"] == flow_id and payload["session_id"] == flow_id
        assert payload["timestamp"].endswith("Z")
    by_event = {r.json()["event"]: r.json() for r in got}
    assert by_event["flow_completed"]["result"] == {"output": "You said: hello hooks\nFlowless answered without a model."}
    assert by_event["flow_started"]["result"] == {"output": None}
    components = sorted(r.json()["component_id"] for r in got if r.json()["event"] == "component_completed")
    assert components == ["ChatInput-ech01", "ChatOutput-ech03", "Prompt-ech02"]
    assert all(d["state"] == "delivered" and [a["status_code"] for a in d["attempts"]] == [200] for d in log)
    assert len(receiver.received) == 5  # nothing arrived twice


def test_flow_error_event_carries_the_error(client, api_env, receiver, fast_retries):
    flow_id = api_env["flows"]["Basic Chat"]
    hook = subscribe(client, api_env["key"], flow_id, receiver.url, events=["flow_error", "flow_completed"]).json()
    api_env["server"].fail_next(10, status=500)
    assert run(client, api_env["key"], "basic-chat").status_code == 502
    (delivery,) = settled(client, api_env["key"], flow_id, hook["id"], 1)
    assert delivery["event"] == "flow_error" and delivery["state"] == "delivered"
    (received,) = receiver.received
    payload = received.json()
    assert payload["event"] == "flow_error" and payload["result"] == {"output": None}
    assert "500" in payload["error"] or "returned" in payload["error"]


def test_a_receiver_failing_twice_gets_the_event_on_the_third_try(client, api_env, receiver, fast_retries):
    flow_id = api_env["flows"]["Echo Prompt"]
    hook = subscribe(client, api_env["key"], flow_id, receiver.url, events=["flow_completed"]).json()
    receiver.fail_next(2)
    assert run(client, api_env["key"]).status_code == 200
    (delivery,) = settled(client, api_env["key"], flow_id, hook["id"], 1)
    assert delivery["state"] == "delivered"
    assert [(a["attempt"], a["status_code"]) for a in delivery["attempts"]] == [(1, 500), (2, 500), (3, 200)]
    assert delivery["attempts"][0]["error"] == "The receiver answered 500" and delivery["attempts"][2]["error"] is None
    assert [r.status for r in receiver.received] == [500, 500, 200]
    assert len({r.headers["x-flowless-delivery"] for r in receiver.received}) == 1  # one delivery, three attempts
    assert len({r.body for r in receiver.received}) == 1


def test_a_receiver_that_always_fails_ends_dead_lettered_and_the_run_is_unaffected(client, api_env, receiver, monkeypatch):
    from flowless.webhooks.delivery import local_queue

    backoff = 0.5
    monkeypatch.setenv("FLOWLESS_WEBHOOK_BACKOFF_S", str(backoff))
    flow_id = api_env["flows"]["Echo Prompt"]
    baseline = run(client, api_env["key"], text="same")

    hook = subscribe(client, api_env["key"], flow_id, receiver.url, events=ALL_EVENTS).json()
    receiver.always_fail()
    started = time.perf_counter()
    answer = run(client, api_env["key"], text="same")
    elapsed = time.perf_counter() - started

    assert answer.status_code == baseline.status_code == 200
    assert elapsed < backoff  # delivery (3 attempts, 0.5 s + 1 s of backoff) is off the request path
    assert _stable(answer.json()) == _stable(baseline.json())

    log = settled(client, api_env["key"], flow_id, hook["id"], 5)
    assert sorted(d["event"] for d in log) == ["component_completed"] * 3 + ["flow_completed", "flow_started"]
    for delivery in log:
        assert delivery["state"] == "dead_letter"
        assert [a["status_code"] for a in delivery["attempts"]] == [500, 500, 500]
    assert len(receiver.received) == 15
    dead = {m["delivery_id"] for m in local_queue().dead_letters}
    assert {d["id"] for d in log} <= dead


def test_a_deleted_subscription_is_not_delivered(client, api_env, receiver, monkeypatch):
    monkeypatch.setenv("FLOWLESS_WEBHOOK_BACKOFF_S", "0.3")
    flow_id = api_env["flows"]["Echo Prompt"]
    hook = subscribe(client, api_env["key"], flow_id, receiver.url, events=["flow_completed"]).json()
    receiver.fail_next(1)
    run(client, api_env["key"])
    receiver.wait_for(1)
    client.delete(f"/api/v1/flows/{flow_id}/webhooks/{hook['id']}", headers=headers(api_env["key"]))
    time.sleep(0.6)
    assert [r.status for r in receiver.received] == [500]  # the retry found no subscription


def _stable(response: dict[str, Any]) -> Any:
    """The response without what differs between two identical runs (ids, times)."""
    volatile = {"id", "timestamp", "duration", "timedelta", "run_id", "message_id", "created_at"}

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in volatile}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return strip(response)


def test_other_tenant_cannot_see_jobs_or_hooks_by_prefix(client, api_env, receiver):
    flow_id = api_env["flows"]["Echo Prompt"]
    subscribe(client, api_env["key"], flow_id, receiver.url)
    answer = client.get(f"/lf/{OTHER_TENANT}/api/v1/flows/{flow_id}/webhooks", headers=headers(api_env["key"]))
    assert answer.status_code == 404


def test_receivers_reject_stale_or_tampered_deliveries():
    from flowless.webhooks.signing import signed_headers, verify

    body = b'{"event":"flow_completed"}'
    sent = signed_headers("whsec_x", body, event="flow_completed", delivery_id="d1", now=1_700_000_000)
    signature, timestamp = sent["X-Flowless-Signature"], sent["X-Flowless-Timestamp"]
    assert verify("whsec_x", body, signature, timestamp, now=1_700_000_000 + 299)
    assert not verify("whsec_x", body, signature, timestamp, now=1_700_000_000 + 301)  # older than five minutes
    assert not verify("whsec_x", body + b" ", signature, timestamp, now=1_700_000_000)
    assert not verify("whsec_x", body, signature, str(1_700_000_001), now=1_700_000_000)  # timestamp is signed too
    assert not verify("whsec_x", body, None, timestamp)
