"""Sessions over `/run`: history is persisted and seen by the next call, expires when idle,
and `DELETE /monitor/messages/session/{id}` clears it."""

from __future__ import annotations

import json
from datetime import timedelta

from tests.api.conftest import TENANT, store_flow
from tests.support.flows import agent_chat_flow


def ask(client, key, text, session_id=None):
    body = {"input_value": text}
    if session_id:
        body["session_id"] = session_id
    response = client.post("/api/v1/run/agent-chat", json=body, headers={"x-api-key": key})
    assert response.status_code == 200, response.text
    return response.json()


def sent_history(server) -> list[tuple[str, str]]:
    """The (role, content) turns the model received in its last call, system prompt excluded."""
    return [(m["role"], m["content"]) for m in server.requests[-1].body["messages"] if m["role"] != "system"]


def test_second_call_sees_the_history_of_the_session(client, api_env):
    store_flow(TENANT, agent_chat_flow())
    server = api_env["server"]
    first = ask(client, api_env["key"], "My name is Alice", "s-1")
    assert first["session_id"] == "s-1"
    ask(client, api_env["key"], "What is my name?", "s-1")
    assert sent_history(server) == [("user", "My name is Alice"), ("assistant", "Echo: My name is Alice"), ("user", "What is my name?")]
    ask(client, api_env["key"], "Fresh start", "s-2")
    assert sent_history(server) == [("user", "Fresh start")]


def test_messages_are_stored_and_listed_by_session(client, api_env):
    flow_id = store_flow(TENANT, agent_chat_flow())
    ask(client, api_env["key"], "hello", "s-list")
    listed = client.get("/api/v1/monitor/messages", params={"session_id": "s-list"}, headers={"x-api-key": api_env["key"]}).json()
    assert [(m["sender"], m["text"]) for m in listed] == [("User", "hello"), ("Machine", "Echo: hello")]
    assert all(m["flow_id"] == flow_id and m["files"] == "[]" for m in listed)
    sessions = client.get("/api/v1/monitor/messages/sessions", params={"flow_id": flow_id}, headers={"x-api-key": api_env["key"]}).json()
    assert sessions == ["s-list"]


def test_idle_session_expires_and_history_is_invisible(client, api_env, monkeypatch):
    from flowless.store import clock

    store_flow(TENANT, agent_chat_flow())
    ask(client, api_env["key"], "remember me", "s-idle")
    later = clock.now() + timedelta(minutes=31)
    monkeypatch.setattr(clock, "now", lambda: later)
    ask(client, api_env["key"], "do you?", "s-idle")
    assert sent_history(api_env["server"]) == [("user", "do you?")]


def test_delete_session_clears_history(client, api_env):
    store_flow(TENANT, agent_chat_flow())
    ask(client, api_env["key"], "first", "s-del")
    response = client.delete("/api/v1/monitor/messages/session/s-del", headers={"x-api-key": api_env["key"]})
    assert response.status_code == 204
    ask(client, api_env["key"], "second", "s-del")
    assert sent_history(api_env["server"]) == [("user", "second")]


def test_sessions_do_not_leak_across_tenants(client, api_env):
    store_flow(TENANT, agent_chat_flow())
    ask(client, api_env["key"], "secret", "shared-name")
    other = client.get("/api/v1/monitor/messages", params={"session_id": "shared-name"}, headers={"x-api-key": api_env["other_key"]})
    assert other.status_code == 200 and other.json() == []


def test_agent_tool_loop_uses_the_calculator(client, api_env):
    store_flow(TENANT, agent_chat_flow("Calc Agent", add_calculator_tool=True))
    response = client.post("/api/v1/run/calc-agent", json={"input_value": "what is 12 * (3 + 4)?"}, headers={"x-api-key": api_env["key"]})
    assert response.status_code == 200, response.text
    # The model asked for the calculator, got Langflow's result shape back, and used it.
    tool_turns = [m for m in api_env["server"].requests[-1].body["messages"] if m["role"] == "tool"]
    assert json.loads(tool_turns[0]["content"]) == {"result": "84"}
    assert response.json()["outputs"][0]["outputs"][0]["results"]["message"]["text"] == 'The answer is {"result": "84"}.'
