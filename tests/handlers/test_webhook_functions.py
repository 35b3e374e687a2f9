"""The webhook functions' handlers: the webhook function answering API Gateway and running its own
asynchronous task, and the delivery function on SQS events (moto's SQS) with partial batch failures."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.api.conftest import TENANT, api_env, client, model_server  # noqa: F401  (fixtures)
from tests.support.receiver import Receiver

REPO = Path(__file__).resolve().parents[2]


class Context:
    function_name = "flowless-test"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:flowless-test"
    memory_limit_in_mb = 1024
    aws_request_id = "00000000-0000-0000-0000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def function(group: str) -> ModuleType:
    """functions/<group>/app.py, imported under its own name."""
    name = f"flowless_function_{group}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO / "functions" / group / "app.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def rest_event(method: str, path: str, body: str, key: str) -> dict[str, Any]:
    headers = {"Content-Type": "application/json", "Host": "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com", "x-api-key": key}
    return {
        "resource": "/api/v1/webhook/{flow_id_or_name}", "path": path, "httpMethod": method, "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()}, "queryStringParameters": None,
        "multiValueQueryStringParameters": None, "pathParameters": {"flow_id_or_name": path.rsplit("/", 1)[1]},
        "stageVariables": None, "body": body, "isBase64Encoded": False,
        "requestContext": {"resourcePath": "/api/v1/webhook/{flow_id_or_name}", "httpMethod": method, "path": f"/dev{path}",
                           "stage": "dev", "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", "identity": {"sourceIp": "203.0.113.10"}},
    }


def test_webhook_function_answers_then_runs_its_own_task(api_env, monkeypatch):
    from flowless.store.jobs import JobRepository
    from flowless.tasks import LambdaAsyncRunner
    from tests.api.test_webhooks import webhook_flow
    from tests.api.conftest import store_flow

    store_flow(TENANT, webhook_flow())
    invoked: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "flowless-webhook")
    monkeypatch.setenv("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001")
    monkeypatch.setattr(LambdaAsyncRunner, "submit", lambda self, task, payload: invoked.append((self.function_name, {"flowless_task": task, **payload})))
    app = function("webhook")

    answer = app.handler(rest_event("POST", "/api/v1/webhook/order-hook", '{"order_id": "Z", "customer": "Eve"}', api_env["key"]), Context())
    assert answer["statusCode"] == 202
    job_id = json.loads(answer["body"])["job_id"]
    ((function_name, event),) = invoked
    assert function_name == "flowless-webhook" and event["job_id"] == job_id
    assert JobRepository(TENANT).get(job_id).status.value == "queued"

    assert app.handler(event, Context()) == {"job_id": job_id, "status": "completed"}  # the asynchronous invocation
    job = JobRepository(TENANT).get(job_id)
    assert job.status.value == "completed"
    assert job.result["outputs"][0]["outputs"][0]["results"]["message"]["text"] == "Order Z for Eve"


# --- delivery function on SQS ---------------------------------------------------------------------


@pytest.fixture
def sqs(api_env: dict[str, Any], moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    import boto3

    from flowless.webhooks import outbound

    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", moto_endpoint)
    client = boto3.client("sqs", region_name="us-east-1", endpoint_url=moto_endpoint)
    url = client.create_queue(QueueName="flowless-webhooks")["QueueUrl"]
    monkeypatch.setenv("FLOWLESS_WEBHOOK_QUEUE_URL", url)
    outbound._sqs_queue.cache_clear()
    yield client
    outbound._sqs_queue.cache_clear()


def sqs_event(messages: list[dict[str, Any]], *, receive_count: int | None = None) -> dict[str, Any]:
    """The Lambda SQS event for messages received from the queue."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                "attributes": {"ApproximateReceiveCount": str(receive_count or m["Attributes"]["ApproximateReceiveCount"])},
                "messageAttributes": {}, "eventSource": "aws:sqs", "awsRegion": "us-east-1",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:flowless-webhooks",
            }
            for m in messages
        ]
    }


def receive(sqs: Any, count: int) -> list[dict[str, Any]]:
    url = sqs.get_queue_url(QueueName="flowless-webhooks")["QueueUrl"]
    found: list[dict[str, Any]] = []
    for _ in range(10):
        answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], WaitTimeSeconds=0)
        found += answer.get("Messages", [])
        if len(found) >= count:
            break
    return found


def subscribe(client: Any, key: str, flow_id: str, url: str, events: list[str]) -> dict[str, Any]:
    answer = client.post(f"/api/v1/flows/{flow_id}/webhooks", json={"url": url, "events": events}, headers={"x-api-key": key})
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_run_events_go_through_sqs_to_the_delivery_function(client, api_env, sqs):
    from flowless.webhooks.signing import verify

    flow_id = api_env["flows"]["Echo Prompt"]
    with Receiver() as receiver:
        hook = subscribe(client, api_env["key"], flow_id, receiver.url, ["flow_started", "flow_completed"])
        assert client.post("/api/v1/run/echo-prompt", json={"input_value": "via sqs"}, headers={"x-api-key": api_env["key"]}).status_code == 200
        messages = receive(sqs, 2)
        assert len(messages) == 2
        queued = [json.loads(m["Body"]) for m in messages]
        assert sorted(q["event"] for q in queued) == ["flow_completed", "flow_started"]
        assert all(q["hook_id"] == hook["id"] and q["tenant"] == TENANT for q in queued)
        assert hook["secret"] not in json.dumps(queued)  # the secret never travels through the queue

        answer = function("webhook_delivery").handler(sqs_event(messages), Context())
        assert answer == {"batchItemFailures": []}
        assert sorted(receiver.events()) == ["flow_completed", "flow_started"]
        for received in receiver.received:
            assert verify(hook["secret"], received.body, received.headers["x-flowless-signature"], received.headers["x-flowless-timestamp"])


def test_delivery_function_reports_partial_batch_failures(client, api_env, sqs, monkeypatch):
    from flowless.store.hooks import DeliveryLog

    monkeypatch.setenv("FLOWLESS_WEBHOOK_BACKOFF_S", "0")  # the failed message is visible again at once
    flow_id = api_env["flows"]["Echo Prompt"]
    handler = function("webhook_delivery").handler
    with Receiver() as good, Receiver() as bad:
        bad.always_fail()
        ok_hook = subscribe(client, api_env["key"], flow_id, good.url, ["flow_completed"])
        bad_hook = subscribe(client, api_env["key"], flow_id, bad.url, ["flow_completed"])
        client.post("/api/v1/run/echo-prompt", json={"input_value": "x"}, headers={"x-api-key": api_env["key"]})
        messages = receive(sqs, 2)
        failing = next(m for m in messages if json.loads(m["Body"])["hook_id"] == bad_hook["id"])
        malformed = {**failing, "MessageId": "not-json", "Body": "{oops"}

        answer = handler(sqs_event([*messages, malformed]), Context())
        assert sorted(f["itemIdentifier"] for f in answer["batchItemFailures"]) == sorted([failing["MessageId"], "not-json"])
        assert len(good.received) == 1 and len(bad.received) == 1
        (first,) = DeliveryLog(TENANT).list(bad_hook["id"])
        assert first.state == "retrying" and first.attempts[0]["status_code"] == 500

        # Its visibility was set to the backoff (0 s here): SQS hands it out again, second receive.
        (again,) = receive(sqs, 1)
        assert again["MessageId"] == failing["MessageId"] and again["Attributes"]["ApproximateReceiveCount"] == "2"
        answer = handler(sqs_event([again], receive_count=3), Context())  # the last allowed receive
        assert answer == {"batchItemFailures": [{"itemIdentifier": failing["MessageId"]}]}  # → SQS moves it to the DLQ
        (last,) = DeliveryLog(TENANT).list(bad_hook["id"])
        assert last.state == "dead_letter" and [a["attempt"] for a in last.attempts] == [1, 3]
        (delivered,) = DeliveryLog(TENANT).list(ok_hook["id"])
        assert delivered.state == "delivered"
