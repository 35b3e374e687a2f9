"""The example flows in ./flows as a new user meets them: `basic-chat` remembers the conversation
(Message History feeds the prompt), so a session's second turn reaches the model with the first."""

from __future__ import annotations

import json


def model_request_text(request) -> str:
    return json.dumps(request.body["messages"])


def test_basic_chat_sends_the_earlier_turns_of_the_session_to_the_model(client, api_env):
    server, headers = api_env["server"], {"x-api-key": api_env["key"]}
    first = client.post("/api/v1/run/basic-chat", json={"input_value": "My name is Alice", "session_id": "s-memory"}, headers=headers)
    assert first.status_code == 200
    second = client.post("/api/v1/run/basic-chat", json={"input_value": "What is my name?", "session_id": "s-memory"}, headers=headers)
    assert second.status_code == 200
    chats = [r for r in server.requests if r.path == "/v1/chat/completions"]
    assert len(chats) == 2
    earlier = model_request_text(chats[1])
    assert "User: My name is Alice" in earlier and "AI: Echo: My name is Alice" in earlier
    assert chats[1].body["messages"][-1] == {"role": "user", "content": "What is my name?"}
    assert "AI:" not in model_request_text(chats[0])  # the first turn had nothing earlier (only itself, as in Langflow)


def test_another_session_starts_with_no_history(client, api_env):
    server, headers = api_env["server"], {"x-api-key": api_env["key"]}
    client.post("/api/v1/run/basic-chat", json={"input_value": "My name is Alice", "session_id": "one"}, headers=headers)
    client.post("/api/v1/run/basic-chat", json={"input_value": "Who am I?", "session_id": "two"}, headers=headers)
    assert "Alice" not in model_request_text(server.requests[-1])
