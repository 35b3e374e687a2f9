"""`/run` through the ASGI app: Langflow's shapes, auth, tenants, streaming, tweaks, errors."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.api.conftest import OTHER_TENANT, TENANT, shared_flow, store_flow, stream_frames

ECHO = "echo-prompt"
CHAT = "basic-chat"
ALL_RESULT_KEYS = {"results", "artifacts", "outputs", "logs", "messages", "timedelta", "duration",
                   "component_display_name", "component_id", "used_frozen_result", "token_usage"}


def run(client: Any, flow: str, key: str | None, body: Any = None, *, prefix: str = "/api/v1", **params: Any) -> Any:
    headers = {"x-api-key": key} if key else {}
    return client.post(f"{prefix}/run/{flow}", json=body if body is not None else {"input_value": "hello"}, headers=headers, params=params)


def test_sync_run_has_langflow_shape_in_all_four_places(client, api_env):
    response = run(client, ECHO, api_env["key"], {"input_value": "ping", "output_type": "chat", "input_type": "chat"})
    assert response.status_code == 200
    body = response.json()
    flow_id = api_env["flows"]["Echo Prompt"]
    assert body["session_id"] == flow_id  # defaults to the flow id
    assert body["outputs"][0]["inputs"] == {"input_value": "ping"}
    result = body["outputs"][0]["outputs"][0]
    assert set(result) == ALL_RESULT_KEYS
    expected = "You said: ping\nFlowless answered without a model."
    assert result["results"]["message"]["text"] == expected
    assert result["outputs"]["message"] == {"message": expected, "type": "text"}
    assert result["messages"][0]["message"] == expected
    assert result["artifacts"]["message"] == expected
    message = result["results"]["message"]
    assert message["sender"] == "Machine" and message["sender_name"] == "AI"
    assert message["data"]["id"] and message["flow_id"] == flow_id
    assert result["component_id"] == "ChatOutput-ech03" and result["component_display_name"] == "Chat Output"


def test_run_by_id_and_by_endpoint_name(client, api_env):
    flow_id = api_env["flows"]["Echo Prompt"]
    by_id = run(client, flow_id, api_env["key"]).json()
    by_name = run(client, ECHO, api_env["key"]).json()
    assert by_id["outputs"][0]["outputs"][0]["results"]["message"]["text"] == by_name["outputs"][0]["outputs"][0]["results"]["message"]["text"]


def test_tenant_path_with_bearer_key(client, api_env):
    response = client.post(f"/lf/{TENANT}/api/v1/run/{ECHO}", json={"input_value": "hi"}, headers={"Authorization": f"Bearer {api_env['key']}"})
    assert response.status_code == 200
    assert response.json()["outputs"][0]["outputs"][0]["results"]["message"]["text"].startswith("You said: hi")


def test_tenant_path_of_another_tenant_is_404(client, api_env):
    response = client.post(f"/lf/{OTHER_TENANT}/api/v1/run/{ECHO}", json={"input_value": "hi"}, headers={"x-api-key": api_env["key"]})
    assert response.status_code == 404


def test_key_in_query_string(client, api_env):
    response = client.post(f"/api/v1/run/{ECHO}", params={"x-api-key": api_env["key"]}, json={"input_value": "q"})
    assert response.status_code == 200


def test_missing_and_invalid_keys_are_403(client, api_env):
    missing = run(client, ECHO, None)
    assert missing.status_code == 403
    assert missing.json() == {"detail": "An API key must be passed as query or header"}
    invalid = run(client, ECHO, "sk-not-a-real-key")
    assert invalid.status_code == 403
    assert invalid.json() == {"detail": "Invalid or missing API key"}


def test_unknown_and_other_tenants_flows_are_404(client, api_env):
    unknown = run(client, "no-such-flow", api_env["key"])
    assert unknown.status_code == 404
    assert unknown.json() == {"detail": "Flow identifier no-such-flow not found"}
    flow_id = api_env["flows"]["Echo Prompt"]
    foreign = run(client, flow_id, api_env["other_key"])
    assert foreign.status_code == 404
    assert foreign.json() == {"detail": f"Flow identifier {flow_id} not found"}


def test_key_without_execute_scope_is_refused(client, api_env):
    from flowless.auth.keys import create_api_key

    read_only, _ = create_api_key(TENANT, "reader", scopes=["read"])
    assert run(client, ECHO, read_only).status_code == 403
    assert run(client, ECHO, api_env["run_only_key"]).status_code == 200


def test_llm_flow_reaches_the_model_over_http(client, api_env):
    response = run(client, CHAT, api_env["key"], {"input_value": "what is flowless?"})
    assert response.status_code == 200
    result = response.json()["outputs"][0]["outputs"][0]
    assert result["results"]["message"]["text"] == "Echo: what is flowless?"
    sent = api_env["server"].requests[-1].body
    assert sent["model"] == "gpt-4o-mini"
    # The prompt carries the session's conversation (Message History): here only this first turn.
    assert sent["messages"][0] == {"role": "system", "content": "You are a concise, friendly assistant.\n\nThe conversation so far:\nUser: what is flowless?"}
    assert result["results"]["message"]["properties"]["source"]["source"] == "gpt-4o-mini"


def test_stream_frames_are_bare_json_with_tokens_before_end(client, api_env):
    response = run(client, CHAT, api_env["key"], {"input_value": "stream these words please"}, stream="true")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert not response.text.startswith("data:")
    frames = stream_frames(response.text)
    names = [f["event"] for f in frames]
    assert names[0] == "add_message" and frames[0]["data"]["sender"] == "User"
    assert frames[1]["event"] == "add_message" and frames[1]["data"]["properties"]["state"] == "partial"
    assert names.count("token") >= 3
    assert names[-2] == "add_message" and frames[-2]["data"]["properties"]["state"] == "complete"
    assert names[-1] == "end"
    tokens = "".join(f["data"]["chunk"] for f in frames if f["event"] == "token")
    assert tokens == "Echo: stream these words please"
    assert frames[-2]["data"]["text"] == tokens
    assert {f["data"]["id"] for f in frames if f["event"] == "token"} == {frames[-2]["data"]["id"]}
    end = frames[-1]["data"]["result"]
    assert end["outputs"][0]["outputs"][0]["results"]["message"]["text"] == tokens


def test_stream_of_an_unknown_flow_is_404_before_streaming(client, api_env):
    response = run(client, "no-such-flow", api_env["key"], stream="true")
    assert response.status_code == 404
    assert response.json() == {"detail": "Flow identifier no-such-flow not found"}


def test_stream_error_is_an_in_band_event(client, api_env):
    api_env["server"].fail_next(5, status=500)
    response = run(client, CHAT, api_env["key"], {"input_value": "x"}, stream="true")
    frames = stream_frames(response.text)
    assert frames[-1]["event"] == "error"
    assert "500" in frames[-1]["data"]["error"]


def test_tweaks_by_id_and_display_name(client, api_env):
    by_id = run(client, ECHO, api_env["key"], {"input_value": "a", "tweaks": {"Prompt-ech02": {"template": "ID {question}"}}})
    assert by_id.json()["outputs"][0]["outputs"][0]["results"]["message"]["text"] == "ID a"
    by_name = run(client, ECHO, api_env["key"], {"input_value": "b", "tweaks": {"Prompt Template": {"template": "NAME {question}"}}})
    assert by_name.json()["outputs"][0]["outputs"][0]["results"]["message"]["text"] == "NAME b"
    ui_template = run(client, ECHO, api_env["key"], {"input_value": "c", "tweaks": {"ChatInput-ech01": {}, "Prompt-ech02": {}, "Unknown-x": {"a": 1}}})
    assert ui_template.status_code == 200


def test_code_tweak_is_refused_with_the_fields(client, api_env):
    response = run(client, ECHO, api_env["key"], {"input_value": "a", "tweaks": {"Prompt-ech02": {"code": "import os", "template": "x"}}})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail["code"] == "TWEAKS_REFUSED" and detail["error"] == "Refused tweaks"
    assert detail["fields"] == ["Prompt-ech02.code"]


def test_input_value_with_chat_input_tweak_is_400(client, api_env):
    response = run(client, ECHO, api_env["key"], {"input_value": "a", "tweaks": {"ChatInput-ech01": {"input_value": "b"}}})
    assert response.status_code == 400
    assert "cannot pass a tweak with the same name" in response.json()["detail"]


def test_unsupported_components_are_named(client, api_env):
    flow = shared_flow("Memory Chatbot")
    next(n for n in flow["data"]["nodes"] if n["id"] == "MemoryBase-xePih")["data"]["type"] = "Frobnicator"
    flow_id = store_flow(TENANT, flow)
    response = run(client, flow_id, api_env["key"])
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail["code"] == "UNSUPPORTED_COMPONENTS"
    assert {"type": "Frobnicator", "node_ids": ["MemoryBase-xePih"]} in detail["unsupported"]


def test_model_failure_is_502_and_timeout_504(client, api_env, monkeypatch):
    api_env["server"].fail_next(5, status=500)
    failed = run(client, CHAT, api_env["key"])
    assert failed.status_code == 502
    assert failed.json()["detail"]["code"] == "PROVIDER_ERROR"

    from flowless import runs

    monkeypatch.setenv("FLOWLESS_HTTP_TIMEOUT", "0.2")
    monkeypatch.setenv("FLOWLESS_HTTP_RETRIES", "0")
    runs.engine_settings.cache_clear()
    api_env["server"].delay_s = 1.0
    slow = run(client, CHAT, api_env["key"])
    assert slow.status_code == 504
    assert slow.json()["detail"]["code"] == "PROVIDER_TIMEOUT"


@pytest.mark.parametrize(
    ("raw", "content_type", "status"),
    [("{not json", "application/json", 400), ("[1, 2]", "application/json", 422)],
)
def test_malformed_bodies_are_clear_4xx(client, api_env, raw, content_type, status):
    response = client.post(f"/api/v1/run/{ECHO}", content=raw, headers={"x-api-key": api_env["key"], "content-type": content_type})
    assert response.status_code == status
    assert "detail" in response.json()


def test_fields_of_the_wrong_type_fall_back_to_defaults(client, api_env):
    response = run(client, ECHO, api_env["key"], {"input_value": "ok", "tweaks": ["not", "a", "dict"], "session_id": {"bad": 1}})
    assert response.status_code == 200


def test_empty_body_runs_with_stored_values(client, api_env):
    response = client.post(f"/api/v1/run/{ECHO}", headers={"x-api-key": api_env["key"]})
    assert response.status_code == 200
    assert response.json()["outputs"][0]["inputs"] == {}


def test_huge_input_is_413(client, api_env, monkeypatch):
    from flowless import runs

    monkeypatch.setenv("FLOWLESS_MAX_INPUT_CHARS", "1000")
    runs.engine_settings.cache_clear()
    response = run(client, ECHO, api_env["key"], {"input_value": "x" * 1001})
    assert response.status_code == 413
    assert response.json()["detail"]["code"] == "LIMIT_EXCEEDED"


def test_form_body_with_json_tweaks(client, api_env):
    response = client.post(
        f"/api/v1/run/{ECHO}",
        data={"input_value": "form", "tweaks": json.dumps({"Prompt-ech02": {"template": "F {question}"}})},
        headers={"x-api-key": api_env["key"]},
    )
    assert response.status_code == 200
    assert response.json()["outputs"][0]["outputs"][0]["results"]["message"]["text"] == "F form"


def test_global_variable_header_overrides_the_model_endpoint(client, api_env, monkeypatch):
    from flowless import runs

    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # nothing listens there
    runs.engine_settings.cache_clear()
    response = client.post(
        f"/api/v1/run/{CHAT}",
        json={"input_value": "via header"},
        headers={"x-api-key": api_env["key"], "X-LANGFLOW-GLOBAL-VAR-OPENAI_BASE_URL": api_env["server"].base_url},
    )
    assert response.status_code == 200
    assert response.json()["outputs"][0]["outputs"][0]["results"]["message"]["text"] == "Echo: via header"


def test_advanced_run_selects_inputs_and_outputs(client, api_env):
    response = client.post(
        f"/api/v1/run/advanced/{ECHO}",
        json={"inputs": [{"components": ["ChatInput-ech01"], "input_value": "one", "type": "chat"}, {"input_value": "two", "type": "chat"}],
              "outputs": ["ChatOutput-ech03"]},
        headers={"x-api-key": api_env["key"]},
    )
    assert response.status_code == 200
    outputs = response.json()["outputs"]
    assert [o["outputs"][0]["results"]["message"]["text"].split("\n")[0] for o in outputs] == ["You said: one", "You said: two"]
    bad = client.post(f"/api/v1/run/advanced/{ECHO}", json={"inputs": "nope"}, headers={"x-api-key": api_env["key"]})
    assert bad.status_code == 422


def test_health_and_version(client, api_env):
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/health_check").json() == {"status": "ok", "chat": "ok", "db": "ok"}
    version = client.get("/api/v1/version").json()
    assert version["version"] == "1.13.0" and version["package"] == "Flowless"
