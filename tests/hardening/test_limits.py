"""Limits: each refused with a clear 413 (or 422 for ids/names that cannot be stored), each
configurable. Service limits are in `flowless.settings` (FLOWLESS_MAX_BODY_BYTES,
FLOWLESS_MAX_STREAM_SECONDS), engine limits in `flowless_engine.settings` (FLOWLESS_MAX_NODES,
FLOWLESS_MAX_TWEAK_DEPTH, FLOWLESS_MAX_INPUT_CHARS, FLOWLESS_MAX_AGENT_ITERATIONS)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.hardening.conftest import CHAT_FLOW, ECHO_FLOW, headers, messages_of, run_body, stream_frames


@pytest.fixture
def limits(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Set limit variables for one test; both settings caches follow."""
    from flowless import runs
    from flowless.settings import reset_settings_cache

    def set_limits(**values: Any) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, str(value))
        reset_settings_cache()
        runs.engine_settings.cache_clear()

    yield set_limits
    monkeypatch.undo()
    reset_settings_cache()
    runs.engine_settings.cache_clear()


def test_defaults_are_lambdas_body_limit_and_bounded_runs():
    from flowless.settings import Settings
    from flowless_engine.settings import EngineSettings

    service, engine = Settings.from_env({}), EngineSettings()
    assert service.max_body_bytes == 6 * 1024 * 1024
    assert 0 < service.max_stream_seconds < 300  # ends before RunStreamFunction's timeout
    assert service.idempotency_ttl_seconds == 3600
    assert (engine.max_nodes, engine.max_tweak_depth, engine.max_input_chars, engine.max_agent_iterations) == (500, 16, 1_000_000, 25)


def test_a_body_over_the_limit_is_413_on_every_route(app_client, api_env):
    big = {"input_value": "x" * (6 * 1024 * 1024 + 10)}
    for method, path in [("POST", f"/api/v1/run/{api_env['flows'][ECHO_FLOW]}"), ("POST", "/api/v1/flows/"), ("PUT", "/api/v1/monitor/messages/m")]:
        answer = app_client.request(method, path, json=big, headers=headers(api_env["key"]))
        assert answer.status_code == 413, (path, answer.status_code)
        assert answer.json() == {"detail": "Request body exceeds 6291456 bytes"}


def test_the_body_limit_is_configurable_and_covers_forms(app_client, api_env, limits):
    limits(FLOWLESS_MAX_BODY_BYTES=2048)
    run = f"/api/v1/run/{api_env['flows'][ECHO_FLOW]}"
    assert app_client.post(run, json=run_body("x" * 100), headers=headers(api_env["key"])).status_code == 200
    assert app_client.post(run, json=run_body("x" * 4000), headers=headers(api_env["key"])).status_code == 413
    # Multipart (a form carrying the run's fields) and url-encoded forms are counted whole.
    form = app_client.post(run, data={"input_value": "hi"}, files={"attachment": ("a.bin", b"x" * 4000)}, headers=headers(api_env["key"]))
    assert form.status_code == 413, form.text
    encoded = app_client.post(run, data={"input_value": "x" * 4000}, headers=headers(api_env["key"]))
    assert encoded.status_code == 413


def test_a_chunked_body_without_length_is_still_counted(app_client, api_env, limits):
    limits(FLOWLESS_MAX_BODY_BYTES=2048)

    def chunks() -> Iterator[bytes]:
        yield b'{"input_value": "'
        for _ in range(10):
            yield b"x" * 1000
        yield b'"}'

    answer = app_client.post(f"/api/v1/run/{api_env['flows'][ECHO_FLOW]}", content=chunks(), headers={**headers(api_env["key"]), "content-type": "application/json"})
    assert answer.status_code == 413


def test_a_flow_too_large_to_store_is_413(app_client, api_env):
    noise = os.urandom(600 * 1024).hex()  # 1.2 MB of hex text: ~600 KB compressed, over the 350 KB an item holds
    from tests.api.conftest import EXAMPLE_FLOWS

    export = json.loads((EXAMPLE_FLOWS / "echo-prompt.json").read_text())
    export["data"]["nodes"][0]["data"]["node"]["description"] = noise
    answer = app_client.post("/api/v1/flows/", json={"name": "Huge", "data": export["data"]}, headers=headers(api_env["key"]))
    assert answer.status_code == 413
    assert "too large" in answer.json()["detail"]


def test_too_many_nodes_is_413(app_client, api_env, limits):
    limits(FLOWLESS_MAX_NODES=2)
    answer = app_client.post(f"/api/v1/run/{api_env['flows'][ECHO_FLOW]}", json=run_body("hi"), headers=headers(api_env["key"]))
    assert answer.status_code == 413
    assert answer.json()["detail"] == {"code": "LIMIT_EXCEEDED", "message": "Flow has 3 nodes; the limit is 2"}


def test_tweaks_nested_too_deep_are_413(app_client, api_env, limits):
    limits(FLOWLESS_MAX_TWEAK_DEPTH=4)
    flow_id = api_env["flows"][ECHO_FLOW]
    fine = {"ChatInput-ech01": {"sender_name": {"value": "me"}}}  # 3 levels
    deep = {"ChatInput-ech01": {"sender_name": {"value": {"a": {"b": "c"}}}}}  # 5 levels
    assert app_client.post(f"/api/v1/run/{flow_id}", json=run_body("hi", tweaks=fine), headers=headers(api_env["key"])).status_code == 200
    answer = app_client.post(f"/api/v1/run/{flow_id}", json=run_body("hi", tweaks=deep), headers=headers(api_env["key"]))
    assert answer.status_code == 413
    assert answer.json()["detail"]["message"] == "Tweaks are nested more than 4 levels deep"


def test_a_body_nested_past_the_parser_is_400_not_a_crash(app_client, api_env):
    deep = b'{"tweaks": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5000 + b"}"
    answer = app_client.post(f"/api/v1/run/{api_env['flows'][ECHO_FLOW]}", content=deep, headers={**headers(api_env["key"]), "content-type": "application/json"})
    assert answer.status_code in (400, 413)
    assert "detail" in answer.json()


def test_input_longer_than_the_limit_is_413(app_client, api_env, limits):
    limits(FLOWLESS_MAX_INPUT_CHARS=10)
    flow_id = api_env["flows"][ECHO_FLOW]
    answer = app_client.post(f"/api/v1/run/{flow_id}", json=run_body("x" * 11), headers=headers(api_env["key"]))
    assert answer.status_code == 413
    assert "the limit is 10" in answer.json()["detail"]["message"]
    tweak = app_client.post(f"/api/v1/run/{flow_id}", json=run_body("hi", tweaks={"ChatInput-ech01": {"sender_name": "y" * 11}}), headers=headers(api_env["key"]))
    assert tweak.status_code == 413


def test_a_stream_past_its_duration_limit_ends_with_an_error_and_stores_no_partial_answer(app_client, api_env, limits):
    limits(FLOWLESS_MAX_STREAM_SECONDS=0.5)
    api_env["server"].delay_s = 2.0
    answer = app_client.post(f"/api/v1/run/{api_env['flows'][CHAT_FLOW]}?stream=true", json=run_body("slow", session_id="too-long"), headers=headers(api_env["key"]))
    frames = stream_frames(answer.text)
    assert frames[-1] == {"event": "error", "data": {"error": "The run exceeded the stream's duration limit of 0.5 s"}}
    assert [m["sender"] for m in messages_of(app_client, api_env["key"], session_id="too-long")] == ["User"]


def test_agent_iterations_are_bounded_413(app_client, api_env, limits):
    from tests.support.flows import agent_chat_flow

    limits(FLOWLESS_MAX_AGENT_ITERATIONS=3)
    agent = agent_chat_flow("Looping agent", add_calculator_tool=True, max_iterations=50)
    made = app_client.post("/api/v1/flows/", json={"name": agent["name"], "data": agent["data"]}, headers=headers(api_env["key"]))
    api_env["server"].script([{"tool_calls": [{"name": "evaluate_expression", "arguments": {"expression": "1+1"}}]}] * 10)
    answer = app_client.post(f"/api/v1/run/{made.json()['id']}", json=run_body("loop"), headers=headers(api_env["key"]))
    assert answer.status_code == 413
    assert "max_iterations (3)" in answer.json()["detail"]["message"]


@pytest.mark.parametrize("case", ["run", "stream", "advanced", "rename"])
def test_ids_too_long_to_be_stored_are_422(app_client, api_env, case):
    flow_id, long_id = api_env["flows"][ECHO_FLOW], "s" * 201
    answer = {
        "run": lambda: app_client.post(f"/api/v1/run/{flow_id}", json=run_body("hi", session_id=long_id), headers=headers(api_env["key"])),
        "stream": lambda: app_client.post(f"/api/v1/run/{flow_id}?stream=true", json=run_body("hi", session_id=long_id), headers=headers(api_env["key"])),
        "advanced": lambda: app_client.post(f"/api/v1/run/advanced/{flow_id}", json={"inputs": [{"input_value": "hi", "session": long_id}]}, headers=headers(api_env["key"])),
        "rename": lambda: app_client.patch("/api/v1/monitor/messages/session/any", params={"new_session_id": long_id}, headers=headers(api_env["key"])),
    }[case]()
    if case == "rename":  # nothing to rename: the session is checked only when it has messages
        app_client.post(f"/api/v1/run/{flow_id}", json=run_body("hi", session_id="any"), headers=headers(api_env["key"]))
        answer = app_client.patch("/api/v1/monitor/messages/session/any", params={"new_session_id": long_id}, headers=headers(api_env["key"]))
    assert answer.status_code == 422, answer.text
    assert answer.json() == {"detail": "session_id has 201 characters; the limit is 200"}


@pytest.mark.parametrize("path,body", [
    ("/api/v1/flows/", {"name": "n" * 251, "data": {"nodes": [], "edges": []}}),
    ("/api/v1/flows/", {"name": "ok", "endpoint_name": "e" * 251, "data": {"nodes": [], "edges": []}}),
    ("/api/v1/variables/", {"name": "n" * 251, "value": "v"}),
])
def test_names_too_long_to_be_stored_are_422(app_client, api_env, path, body):
    answer = app_client.post(path, json=body, headers=headers(api_env["key"]))
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["type"] == "string_too_long"
