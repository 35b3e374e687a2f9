"""Idempotency-Key on /run and /build/{flow_id}/flow: a repeat returns the first answer, a
different request under the same key is a 422, a duplicate while the first runs is a 409, 5xx
answers are not kept, keys expire after FLOWLESS_IDEMPOTENCY_TTL_SECONDS, keys are per tenant,
and without the header nothing extra happens (no storage call)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from tests.hardening.conftest import CHAT_FLOW, ECHO_FLOW, TENANT, headers, messages_of, raw_items, run_body


def idem(key: str, api_key: str) -> dict[str, str]:
    return {**headers(api_key), "Idempotency-Key": key}


def idempotency_items() -> list[dict[str, Any]]:
    return [item for item in raw_items("jobs") if "#idem#" in item["pk"]["S"]]


def test_a_repeat_returns_the_first_answer_and_runs_nothing_again(app_client, api_env):
    flow_id = api_env["flows"][CHAT_FLOW]
    first = app_client.post(f"/api/v1/run/{flow_id}", json=run_body("hello once", session_id="idem-1"), headers=idem("order-1", api_env["key"]))
    assert first.status_code == 200, first.text
    calls = len(api_env["server"].requests)
    again = app_client.post(f"/api/v1/run/{flow_id}", json=run_body("hello once", session_id="idem-1"), headers=idem("order-1", api_env["key"]))
    assert again.status_code == 200
    assert again.content == first.content  # byte for byte, message ids and timestamps included
    assert again.headers["idempotent-replayed"] == "true"
    assert len(api_env["server"].requests) == calls  # the model was not asked again
    assert len(messages_of(app_client, api_env["key"], session_id="idem-1")) == 2  # stored once


def test_the_same_key_with_another_body_is_a_422_and_changes_nothing(app_client, api_env):
    flow_id = api_env["flows"][ECHO_FLOW]
    first = app_client.post(f"/api/v1/run/{flow_id}", json=run_body("a", session_id="idem-2"), headers=idem("k-2", api_env["key"]))
    assert first.status_code == 200
    other = app_client.post(f"/api/v1/run/{flow_id}", json=run_body("b", session_id="idem-2"), headers=idem("k-2", api_env["key"]))
    assert other.status_code == 422
    assert "different request" in other.json()["detail"]
    other_flow = app_client.post(f"/api/v1/run/{api_env['flows'][CHAT_FLOW]}", json=run_body("a", session_id="idem-2"), headers=idem("k-2", api_env["key"]))
    assert other_flow.status_code == 422  # the path is part of the request
    assert len(messages_of(app_client, api_env["key"], session_id="idem-2")) == 2


def test_a_duplicate_while_the_first_is_running_is_a_409(api_env, files_bucket):
    from flowless.api.app import create_app

    flow_id = api_env["flows"][CHAT_FLOW]
    api_env["server"].delay_s = 0.6

    async def both() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=create_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://flowless") as client:
            request = {"json": run_body("slow", session_id="idem-3"), "headers": idem("k-3", api_env["key"])}
            first = asyncio.create_task(client.post(f"/api/v1/run/{flow_id}", **request))
            await asyncio.sleep(0.2)  # the first holds the key by now
            second = await client.post(f"/api/v1/run/{flow_id}", **request)
            return [await first, second]

    first, second = asyncio.run(both())
    assert first.status_code == 200, first.text
    assert second.status_code == 409
    assert "still in progress" in second.json()["detail"]


def test_a_failed_run_is_not_kept_so_a_retry_runs(app_client, api_env):
    flow_id = api_env["flows"][CHAT_FLOW]
    api_env["server"].fail_next(1, status=500)  # not a retryable status: the run fails, 502
    failed = app_client.post(f"/api/v1/run/{flow_id}", json=run_body("retry me", session_id="idem-4"), headers=idem("k-4", api_env["key"]))
    assert failed.status_code == 502, failed.text
    retried = app_client.post(f"/api/v1/run/{flow_id}", json=run_body("retry me", session_id="idem-4"), headers=idem("k-4", api_env["key"]))
    assert retried.status_code == 200, retried.text
    assert "idempotent-replayed" not in retried.headers
    assert idempotency_items()[0]["status"]["S"] == "completed"


def test_a_client_error_is_kept_like_any_answer(app_client, api_env):
    missing = app_client.post("/api/v1/run/no-such-flow", json=run_body("x"), headers=idem("k-5", api_env["key"]))
    again = app_client.post("/api/v1/run/no-such-flow", json=run_body("x"), headers=idem("k-5", api_env["key"]))
    assert (missing.status_code, again.status_code) == (404, 404)
    assert again.headers["idempotent-replayed"] == "true"


def test_keys_expire_after_the_configured_window(app_client, api_env, monkeypatch):
    from flowless.settings import reset_settings_cache

    monkeypatch.setenv("FLOWLESS_IDEMPOTENCY_TTL_SECONDS", "1")
    reset_settings_cache()
    try:
        flow_id = api_env["flows"][ECHO_FLOW]
        first = app_client.post(f"/api/v1/run/{flow_id}", json=run_body("ttl", session_id="idem-6"), headers=idem("k-6", api_env["key"]))
        assert app_client.post(f"/api/v1/run/{flow_id}", json=run_body("ttl", session_id="idem-6"), headers=idem("k-6", api_env["key"])).headers.get("idempotent-replayed") == "true"
        time.sleep(2.1)  # TTLs are whole seconds
        later = app_client.post(f"/api/v1/run/{flow_id}", json=run_body("ttl", session_id="idem-6"), headers=idem("k-6", api_env["key"]))
        assert later.status_code == 200 and "idempotent-replayed" not in later.headers
        assert later.json() != first.json()  # ran again: new message ids
        assert len(messages_of(app_client, api_env["key"], session_id="idem-6")) == 4
    finally:
        monkeypatch.delenv("FLOWLESS_IDEMPOTENCY_TTL_SECONDS")
        reset_settings_cache()


def test_keys_belong_to_their_tenant(app_client, api_env):
    from tests.hardening.conftest import OTHER_TENANT, store_flow
    from tests.api.conftest import EXAMPLE_FLOWS
    import json

    echo = json.loads((EXAMPLE_FLOWS / "echo-prompt.json").read_text())
    other_flow = store_flow(OTHER_TENANT, echo)
    mine = app_client.post(f"/api/v1/run/{api_env['flows'][ECHO_FLOW]}", json=run_body("same"), headers=idem("shared-key", api_env["key"]))
    theirs = app_client.post(f"/api/v1/run/{other_flow}", json=run_body("same"), headers=idem("shared-key", api_env["other_key"]))
    assert (mine.status_code, theirs.status_code) == (200, 200)
    assert "idempotent-replayed" not in theirs.headers  # another tenant's key: not a repeat, not a 422
    assert sorted(item["tenant"]["S"] for item in idempotency_items()) == sorted([TENANT, OTHER_TENANT])
    assert all(item["pk"]["S"].startswith(f"{item['tenant']['S']}#idem#") for item in idempotency_items())


def test_streamed_runs_are_replayed_whole(app_client, api_env):
    flow_id = api_env["flows"][CHAT_FLOW]
    first = app_client.post(f"/api/v1/run/{flow_id}?stream=true", json=run_body("stream me", session_id="idem-8"), headers=idem("k-8", api_env["key"]))
    again = app_client.post(f"/api/v1/run/{flow_id}?stream=true", json=run_body("stream me", session_id="idem-8"), headers=idem("k-8", api_env["key"]))
    assert first.status_code == again.status_code == 200
    assert again.text == first.text and '"event": "end"' in again.text
    assert again.headers["content-type"].startswith("text/event-stream")


def test_build_starts_are_idempotent_too(app_client, api_env, monkeypatch):
    from flowless.settings import reset_settings_cache

    monkeypatch.delenv("BUILD_STATE_MACHINE_ARN", raising=False)
    reset_settings_cache()
    flow_id = api_env["flows"][ECHO_FLOW]
    body = {"inputs": {"input_value": "build once", "session": "idem-9"}}
    first = app_client.post(f"/api/v1/build/{flow_id}/flow", json=body, headers=idem("k-9", api_env["key"]))
    again = app_client.post(f"/api/v1/build/{flow_id}/flow", json=body, headers=idem("k-9", api_env["key"]))
    assert first.status_code == 200, first.text
    assert again.json()["job_id"] == first.json()["job_id"]  # one job, not two


@pytest.mark.parametrize("key", ["", "x" * 256])
def test_unusable_keys_are_refused(app_client, api_env, key):
    answer = app_client.post(f"/api/v1/run/{api_env['flows'][ECHO_FLOW]}", json=run_body("x"), headers=idem(key, api_env["key"]))
    assert answer.status_code == 422 and "Idempotency-Key" in answer.json()["detail"]


def test_without_the_header_nothing_is_stored_or_looked_up(app_client, api_env, monkeypatch):
    from flowless.store import idempotency

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the idempotency store was used without an Idempotency-Key")

    monkeypatch.setattr(idempotency.IdempotencyStore, "__init__", forbidden)
    answer = app_client.post(f"/api/v1/run/{api_env['flows'][ECHO_FLOW]}", json=run_body("plain"), headers=headers(api_env["key"]))
    assert answer.status_code == 200
    assert idempotency_items() == []
