"""`POST /api/v1/flows/{flow_id}/run`: the simplified run of Langflow's deployment docs."""

from __future__ import annotations

from tests.api.conftest import TENANT

ECHO_TEXT = "You said: {}\nFlowless answered without a model."


def test_answers_output_session_and_metadata(client, api_env):
    flow_id = api_env["flows"]["Echo Prompt"]
    response = client.post(f"/api/v1/flows/{flow_id}/run", json={"input_value": "Hello, how are you?"}, headers={"x-api-key": api_env["key"]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"result", "session_id", "metadata"}
    assert body["result"] == {"output": ECHO_TEXT.format("Hello, how are you?")}
    assert set(body["metadata"]) == {"duration", "tokens_used"}
    assert isinstance(body["metadata"]["duration"], float) and body["metadata"]["duration"] >= 0
    assert body["metadata"]["tokens_used"] is None  # no model in this flow


def test_tokens_used_counts_the_model_usage(client, api_env):
    response = client.post("/api/v1/flows/basic-chat/run", json={"input_value": "one two three"}, headers={"x-api-key": api_env["key"]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["result"]["output"] == "Echo: one two three"
    # The fake model counts words: the prompt's and the answer's.
    assert isinstance(body["metadata"]["tokens_used"], int) and body["metadata"]["tokens_used"] > 4


def test_tweaks_and_bearer_on_the_tenant_path(client, api_env):
    response = client.post(
        f"/lf/{TENANT}/api/v1/flows/echo-prompt/run",
        json={"input_value": "Summarize", "tweaks": {"Prompt-ech02": {"template": "Tweaked: {question}"}}},
        headers={"Authorization": f"Bearer {api_env['key']}"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["result"]["output"] == "Tweaked: Summarize"


def test_without_session_each_request_is_independent_and_the_id_continues_it(client, api_env):
    headers = {"x-api-key": api_env["key"]}
    first = client.post("/api/v1/flows/basic-chat/run", json={"input_value": "My name is Alice"}, headers=headers).json()
    second = client.post("/api/v1/flows/basic-chat/run", json={"input_value": "Hello"}, headers=headers).json()
    assert first["session_id"] != second["session_id"]
    flow_id = api_env["flows"]["Basic Chat"]
    assert first["session_id"] != flow_id  # not /run's default, which every caller would share
    again = client.post("/api/v1/flows/basic-chat/run", json={"input_value": "What is my name?", "session_id": first["session_id"]}, headers=headers)
    assert again.json()["session_id"] == first["session_id"]
    stored = client.get("/api/v1/monitor/messages", params={"session_id": first["session_id"]}, headers=headers).json()
    assert [m["text"] for m in stored if m["sender"] == "User"] == ["My name is Alice", "What is my name?"]


def test_errors_are_langflows(client, api_env):
    assert client.post("/api/v1/flows/echo-prompt/run", json={"input_value": "x"}).status_code == 403
    missing = client.post("/api/v1/flows/no-such-flow/run", json={"input_value": "x"}, headers={"x-api-key": api_env["key"]})
    assert missing.status_code == 404 and missing.json() == {"detail": "Flow identifier no-such-flow not found"}
    refused = client.post(
        "/api/v1/flows/echo-prompt/run", json={"input_value": "x", "tweaks": {"Prompt-ech02": {"code": "import os"}}}, headers={"x-api-key": api_env["key"]}
    )
    assert refused.status_code == 422 and refused.json()["detail"]["code"] == "TWEAKS_REFUSED"


def test_needs_the_execute_scope(client, scoped_keys):
    assert client.post("/api/v1/flows/echo-prompt/run", json={"input_value": "x"}, headers={"x-api-key": scoped_keys["execute"]["with"]}).status_code == 200
    assert client.post("/api/v1/flows/echo-prompt/run", json={"input_value": "x"}, headers={"x-api-key": scoped_keys["execute"]["without"]}).status_code == 403
