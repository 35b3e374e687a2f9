"""Faults lose nothing and half-write nothing.

DynamoDB: throttling (ProvisionedThroughputExceededException, ThrottlingException) and timeouts
(botocore ReadTimeoutError, ConnectTimeoutError) injected into the store's one botocore client at
every step of a run (auth, flow read, the run's single TransactWriteItems) → 503 with
Retry-After, and a run that failed at its write left no message and no session behind.

The model provider failing, answering past its timeout, or breaking its stream mid-answer →
502 / 504 (an `error` event on streams). Decision, as in Langflow: the user message of a failed
run is kept (the question was asked; the client can see and retry it); the unfinished answer is
never stored, whole or in part.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError, ConnectTimeoutError, ReadTimeoutError

from tests.hardening.conftest import CHAT_FLOW, ECHO_FLOW, TENANT, headers, messages_of, raw_items, run_body, stream_frames

# (DynamoDB operation to fail, where in the run it is used)
RUN_STEPS = [("UpdateItem", "auth (the key is checked and its use recorded)"), ("GetItem", "flow read"), ("TransactWriteItems", "the run's write")]


def throttled(operation: str) -> ClientError:
    return ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "Rate of requests exceeds the allowed throughput."}}, operation)


def api_throttled(operation: str) -> ClientError:
    return ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, operation)


FAULTS = {
    "provisioned-throughput": throttled,
    "throttling": api_throttled,
    "read-timeout": lambda op: ReadTimeoutError(endpoint_url="http://dynamodb"),
    "connect-timeout": lambda op: ConnectTimeoutError(endpoint_url="http://dynamodb"),
}


class DynamoFaults:
    """Fails chosen operations of the store's botocore client (below PynamoDB, above botocore's
    own retries, as if every retry had failed too)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from flowless.store.connection import connection

        self.client = connection().client
        self.real = self.client._make_api_call
        self.failing: dict[str, Any] = {}
        self.injected = 0
        monkeypatch.setattr(self.client, "_make_api_call", self._call)

    def _call(self, operation: str, params: dict[str, Any]) -> Any:
        fault = self.failing.get(operation)
        if fault is not None:
            self.injected += 1
            raise fault(operation)
        return self.real(operation, params)

    def fail(self, operation: str, fault: Any) -> None:
        self.failing = {operation: fault}

    def heal(self) -> None:
        self.failing = {}


@pytest.fixture
def dynamo(api_env: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[DynamoFaults]:
    from flowless.auth.keys import clear_auth_cache

    faults = DynamoFaults(monkeypatch)
    clear_auth_cache()
    yield faults
    faults.heal()


@pytest.fixture
def no_auth_cache(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from flowless.settings import reset_settings_cache
    from flowless.store import configure
    from flowless.store.connection import store_settings
    import dataclasses

    previous = store_settings()
    configure(dataclasses.replace(previous, auth_cache_seconds=0))
    yield
    configure(previous)
    reset_settings_cache()


@pytest.mark.parametrize("fault", sorted(FAULTS))
@pytest.mark.parametrize("operation,step", RUN_STEPS, ids=[s for s, _ in RUN_STEPS])
def test_dynamodb_faults_answer_503_with_retry_after_and_write_nothing(app_client, api_env, dynamo, no_auth_cache, fault, operation, step):
    flow_id = api_env["flows"][ECHO_FLOW]
    session = f"fault-{fault}-{operation}"
    dynamo.fail(operation, FAULTS[fault])
    answer = app_client.post(f"/api/v1/run/{flow_id}", json=run_body("hello", session_id=session), headers=headers(api_env["key"]))
    dynamo.heal()
    assert dynamo.injected >= 1, f"{operation} is not used by a run ({step})"
    assert answer.status_code == 503, (step, answer.text)
    assert answer.headers["retry-after"] == "1"
    assert answer.json() == {"detail": "The service is busy; please retry shortly."}
    # Nothing half-written: no message and no session for the failed run.
    assert messages_of(app_client, api_env["key"], session_id=session) == []
    assert not [item for item in raw_items("sessions") if item["sk"]["S"].endswith(f"#{session}")]
    # And the retry the client is told to make works, once.
    retried = app_client.post(f"/api/v1/run/{flow_id}", json=run_body("hello", session_id=session), headers=headers(api_env["key"]))
    assert retried.status_code == 200
    assert [m["sender"] for m in messages_of(app_client, api_env["key"], session_id=session)] == ["User", "Machine"]


@pytest.mark.parametrize("fault", ["provisioned-throughput", "read-timeout"])
def test_dynamodb_faults_on_the_management_routes_are_503_too(app_client, api_env, dynamo, fault):
    dynamo.fail("Query", FAULTS[fault])
    assert app_client.get("/api/v1/flows/", headers=headers(api_env["key"])).status_code == 503
    assert app_client.get("/api/v1/monitor/messages", headers=headers(api_env["key"])).status_code == 503
    dynamo.fail("PutItem", FAULTS[fault])
    created = app_client.post("/api/v1/variables/", json={"name": "V", "value": "x", "type": "Generic"}, headers=headers(api_env["key"]))
    assert created.status_code == 503 and created.headers["retry-after"] == "1"
    dynamo.heal()
    assert app_client.get("/api/v1/variables/", headers=headers(api_env["key"])).json() == []


def test_a_throttled_stream_reports_an_error_event_and_writes_nothing(app_client, api_env, dynamo):
    flow_id = api_env["flows"][CHAT_FLOW]
    dynamo.fail("TransactWriteItems", throttled)
    answer = app_client.post(f"/api/v1/run/{flow_id}?stream=true", json=run_body("hi", session_id="fault-stream"), headers=headers(api_env["key"]))
    dynamo.heal()
    frames = stream_frames(answer.text)
    assert frames[-1]["event"] == "error"
    assert "end" not in [f["event"] for f in frames]  # `end` only follows a persisted run
    assert messages_of(app_client, api_env["key"], session_id="fault-stream") == []


# ---- the model provider ----------------------------------------------------------------------------


@pytest.fixture
def quick_model_timeouts(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from flowless import runs

    monkeypatch.setenv("FLOWLESS_HTTP_TIMEOUT", "0.5")
    monkeypatch.setenv("FLOWLESS_HTTP_RETRIES", "0")
    runs.engine_settings.cache_clear()
    yield
    runs.engine_settings.cache_clear()


def senders(client: Any, key: str, session: str) -> list[str]:
    return [m["sender"] for m in messages_of(client, key, session_id=session)]


def test_a_failing_model_is_a_502_and_keeps_only_the_question(app_client, api_env, quick_model_timeouts):
    api_env["server"].fail_next(1, status=500)
    answer = app_client.post(f"/api/v1/run/{api_env['flows'][CHAT_FLOW]}", json=run_body("will fail", session_id="model-500"), headers=headers(api_env["key"]))
    assert answer.status_code == 502
    assert answer.json()["detail"]["code"] == "PROVIDER_ERROR"
    assert senders(app_client, api_env["key"], "model-500") == ["User"]


def test_a_model_slower_than_its_timeout_is_a_504_and_keeps_only_the_question(app_client, api_env, quick_model_timeouts):
    api_env["server"].delay_s = 1.5
    answer = app_client.post(f"/api/v1/run/{api_env['flows'][CHAT_FLOW]}", json=run_body("too slow", session_id="model-slow"), headers=headers(api_env["key"]))
    assert answer.status_code == 504, answer.text
    assert answer.json()["detail"]["code"] == "PROVIDER_TIMEOUT"
    assert senders(app_client, api_env["key"], "model-slow") == ["User"]


@pytest.mark.parametrize("clean", [False, True], ids=["dropped-connection", "truncated-body"])
def test_a_model_stream_broken_mid_answer_is_an_error_event_and_stores_no_partial_answer(app_client, api_env, quick_model_timeouts, clean):
    session = f"model-break-{clean}"
    api_env["server"].break_stream_next(clean=clean)
    answer = app_client.post(f"/api/v1/run/{api_env['flows'][CHAT_FLOW]}?stream=true", json=run_body("stream and break", session_id=session), headers=headers(api_env["key"]))
    assert answer.status_code == 200  # the status line went out before the break
    frames = stream_frames(answer.text)
    assert frames[-1]["event"] == "error", frames[-3:]
    assert "end" not in [f["event"] for f in frames]
    stored = messages_of(app_client, api_env["key"], session_id=session)
    assert [m["sender"] for m in stored] == ["User"]  # no half-written AI message
    # The session is consistent: the next turn runs and is stored whole.
    again = app_client.post(f"/api/v1/run/{api_env['flows'][CHAT_FLOW]}", json=run_body("again", session_id=session), headers=headers(api_env["key"]))
    assert again.status_code == 200
    assert senders(app_client, api_env["key"], session) == ["User", "User", "Machine"]
