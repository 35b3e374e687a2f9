"""Inputs that answered 500 before the hardening fixes (found by probing past what the OpenAPI
schemas declare), each now a clear 4xx with a JSON `detail`: ids and names too long for
DynamoDB's key limits, bodies nested past the JSON parser, unpaired UTF-16 surrogates, and a
multipart body over Lambda's limit that was read whole."""

from __future__ import annotations

from typing import Any

import pytest

from tests.hardening.conftest import ECHO_FLOW, headers, run_body

LONG = "s" * 3000
JSON = {"content-type": "application/json"}
DEEP = b'{"input_value": "x", "tweaks": ' + b'{"a": ' * 100_000 + b"1" + b"}" * 100_000 + b"}"


def edge_requests(flow_id: str) -> list[tuple[str, str, str, dict[str, Any], int]]:
    """(case, method, path, request arguments, status now)."""
    run = f"/api/v1/run/{flow_id}"
    return [
        ("session id over the sort key limit", "POST", run, {"json": run_body("hi", session_id=LONG)}, 422),
        ("session id of 4-byte characters", "POST", run, {"json": run_body("hi", session_id="ü" * 1500)}, 422),
        ("streamed run, session id too long", "POST", run + "?stream=true", {"json": run_body("hi", session_id=LONG)}, 422),
        ("advanced run, session too long", "POST", f"/api/v1/run/advanced/{flow_id}", {"json": {"inputs": [{"input_value": "hi", "session": LONG}]}}, 422),
        ("variable name over the sort key limit", "POST", "/api/v1/variables/", {"json": {"name": LONG, "value": "v"}}, 422),
        ("flow name over the sort key limit", "POST", "/api/v1/flows/", {"json": {"name": LONG, "data": {"nodes": [], "edges": []}}}, 422),
        ("endpoint name over the sort key limit", "POST", "/api/v1/flows/", {"json": {"name": "ok", "endpoint_name": "e" * 3000, "data": {"nodes": [], "edges": []}}}, 422),
        ("run body nested 100,000 deep", "POST", run, {"content": DEEP, "headers": JSON}, 400),
        ("run body with an unpaired surrogate", "POST", run, {"content": b'{"input_value": "\\ud800"}', "headers": JSON}, 400),
        ("tweak with an unpaired surrogate", "POST", run, {"content": b'{"input_value": "hi", "tweaks": {"ChatInput-ech01": {"sender_name": "\\udfff"}}}', "headers": JSON}, 400),
        ("variable value with an unpaired surrogate", "POST", "/api/v1/variables/", {"content": b'{"name": "V", "value": "v\\udfff", "type": "Generic"}', "headers": JSON}, 400),
        ("multipart run body over 6 MB", "POST", run, {"data": {"input_value": "hi"}, "files": {"f": ("a.bin", b"x" * 7_000_000)}}, 413),
    ]


CASES = [case for case, *_ in edge_requests("flow")]


@pytest.mark.parametrize("case", CASES)
def test_edge_inputs_are_clear_client_errors(app_client, api_env, case):
    _, method, path, arguments, status = next(r for r in edge_requests(api_env["flows"][ECHO_FLOW]) if r[0] == case)
    arguments = dict(arguments)
    answer = app_client.request(method, path, headers={**headers(api_env["key"]), **arguments.pop("headers", {})}, **arguments)
    assert answer.status_code == status, answer.text[:300]
    assert "detail" in answer.json()


def test_moving_messages_to_a_session_id_too_long_is_422_and_moves_nothing(app_client, api_env):
    flow_id = api_env["flows"][ECHO_FLOW]
    app_client.post(f"/api/v1/run/{flow_id}", json=run_body("hi", session_id="short"), headers=headers(api_env["key"]))
    listed = app_client.get("/api/v1/monitor/messages", params={"session_id": "short"}, headers=headers(api_env["key"])).json()
    rename = app_client.patch("/api/v1/monitor/messages/session/short", params={"new_session_id": LONG}, headers=headers(api_env["key"]))
    edit = app_client.put(f"/api/v1/monitor/messages/{listed[0]['id']}", json={"session_id": LONG}, headers=headers(api_env["key"]))
    assert (rename.status_code, edit.status_code) == (422, 422)
    assert app_client.get("/api/v1/monitor/messages", params={"session_id": "short"}, headers=headers(api_env["key"])).json() == listed
