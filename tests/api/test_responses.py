"""`POST /api/v1/responses` through the official openai SDK against the app served on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import json

import openai
import pytest

from tests.support.live_app import LiveApp


@pytest.fixture
def live(api_env: dict[str, Any]) -> Iterator[LiveApp]:
    with LiveApp() as app:
        yield app


def sdk(live: LiveApp, key: str, prefix: str = "") -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{live.base_url}{prefix}/api/v1", api_key="unused",
                         default_headers={"x-api-key": key}, max_retries=0)


def test_responses_create_answers_with_the_flows_output(live, api_env):
    client = sdk(live, api_env["key"])
    response = client.responses.create(model="basic-chat", input="hello responses")
    assert response.output_text == "Echo: hello responses"
    assert response.status == "completed" and response.object == "response"
    assert response.model == "basic-chat"
    assert response.usage is not None and response.usage.total_tokens == response.usage.input_tokens + response.usage.output_tokens > 0
    # the model server saw the input through the flow's prompt
    assert "hello responses" in str(api_env["server"].requests[-1].body)


def test_model_by_flow_id_and_message_items(live, api_env):
    client = sdk(live, api_env["key"])
    response = client.responses.create(model=api_env["flows"]["Echo Prompt"],
                                       input=[{"role": "system", "content": "ignored"},
                                              {"role": "user", "content": [{"type": "input_text", "text": "items"}]}])
    assert response.output_text == "You said: items\nFlowless answered without a model."


def test_previous_response_id_continues_the_session(live, api_env, client):
    sdk_client = sdk(live, api_env["key"])
    first = sdk_client.responses.create(model="basic-chat", input="first turn")
    second = sdk_client.responses.create(model="basic-chat", input="second turn", previous_response_id=first.id)
    assert second.id == first.id and second.previous_response_id == first.id
    stored = client.get("/api/v1/monitor/messages", params={"session_id": first.id}, headers={"x-api-key": api_env["key"]}).json()
    assert [m["text"] for m in stored] == ["first turn", "Echo: first turn", "second turn", "Echo: second turn"]
    third = sdk_client.responses.create(model="basic-chat", input="fresh")
    assert third.id != first.id


def test_stream_is_openais_event_stream(live, api_env):
    api_env["server"].chunk_delay_s = 0.01
    client = sdk(live, api_env["key"])
    events = list(client.responses.create(model="basic-chat", input="one two three four", stream=True))
    types = [e.type for e in events]
    assert types[:4] == ["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added"]
    assert types[-1] == "response.completed"
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    assert len(deltas) > 1 and "".join(deltas) == "Echo: one two three four"
    assert events[-1].response.output_text == "Echo: one two three four"
    assert [e.sequence_number for e in events] == list(range(len(events)))


def test_stream_of_a_flow_without_tokens_sends_the_text_once(live, api_env):
    client = sdk(live, api_env["key"])
    with client.responses.stream(model="echo-prompt", input="streamed") as stream:
        text = "".join(e.delta for e in stream if e.type == "response.output_text.delta")
        final = stream.get_final_response()
    assert text == final.output_text == "You said: streamed\nFlowless answered without a model."


def test_errors_are_openais(live, api_env):
    client = sdk(live, api_env["key"])
    with pytest.raises(openai.NotFoundError) as missing:
        client.responses.create(model="no-such-flow", input="x")
    assert missing.value.body == {"message": "Flow with id 'no-such-flow' not found", "type": "invalid_request_error",
                                  "param": "model", "code": "flow_not_found"}
    with pytest.raises(openai.BadRequestError) as tools:
        client.responses.create(model="basic-chat", input="x", tools=[{"type": "function", "name": "f", "parameters": {}}])
    assert tools.value.code == "tools_not_supported"
    with pytest.raises(openai.PermissionDeniedError) as bad_key:
        sdk(live, "sk-wrong").responses.create(model="basic-chat", input="x")
    assert bad_key.value.code == "invalid_api_key"
    # another tenant's flow is a missing flow
    with pytest.raises(openai.NotFoundError):
        sdk(live, api_env["other_key"]).responses.create(model="basic-chat", input="x")


def test_a_failing_model_is_a_502_and_a_failed_stream(live, api_env):
    client = sdk(live, api_env["key"])
    api_env["server"].fail_next(10, status=500)
    with pytest.raises(openai.APIStatusError) as failed:
        client.responses.create(model="basic-chat", input="x")
    assert failed.value.status_code == 502 and failed.value.body["type"] == "processing_error"
    api_env["server"].fail_next(10, status=500)
    events = list(client.responses.create(model="basic-chat", input="x", stream=True))
    assert events[-1].type == "response.failed" and events[-1].response.error.message


def test_a_flow_without_chat_input_is_refused(client, api_env):
    from tests.api.conftest import store_flow

    flow = {"id": "1f0c7a52-8d3e-4b6a-9c1e-0a2b3c4d5e6f", "name": "no chat", "data": {"nodes": [], "edges": []}}
    store_flow("acme", flow)
    answer = client.post("/api/v1/responses", json={"model": flow["id"], "input": "x"}, headers={"x-api-key": api_env["key"]})
    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == "Flow must have a ChatInput component to be compatible with OpenAI Responses API"


def test_tenant_path_form(live, api_env):
    assert sdk(live, api_env["key"], "/lf/acme").responses.create(model="basic-chat", input="hi").output_text == "Echo: hi"
    with pytest.raises(openai.NotFoundError):
        sdk(live, api_env["key"], "/lf/globex").responses.create(model="basic-chat", input="hi")


@pytest.fixture
def calculator_agent(api_env: dict[str, Any]) -> str:
    from tests.api.conftest import store_flow
    from tests.support.flows import agent_chat_flow

    return store_flow("acme", agent_chat_flow("Calc Agent", add_calculator_tool=True))


def test_the_agents_tool_calls_are_output_items(live, api_env, calculator_agent):
    client = sdk(live, api_env["key"])
    response = client.responses.create(model="calc-agent", input="What is 6 * 7?")
    call, message = response.output
    assert (call.type, call.name, call.call_id, json.loads(call.arguments)) == ("function_call", "evaluate_expression", "call_1", {"expression": "6 * 7"})
    assert message.type == "message" and response.output_text == 'The answer is {"result": "42"}.'
    raw = client.responses.with_raw_response.create(model="calc-agent", input="What is 6 * 7?", include=["tool_call.results"])
    tool_item = json.loads(raw.http_response.text)["output"][0]  # Langflow's item shape when results are asked for
    assert tool_item == {"id": "evaluate_expression_1", "queries": ["6 * 7"], "status": "completed", "tool_name": "evaluate_expression",
                         "type": "tool_call", "results": '{"result": "42"}'}
    events = list(client.responses.create(model="calc-agent", input="What is 6 * 7?", stream=True))
    types = [e.type for e in events]
    assert types.index("response.function_call_arguments.done") < types.index("response.output_text.delta")
    final = events[-1].response
    assert [o.type for o in final.output] == ["function_call", "message"] and final.output_text == 'The answer is {"result": "42"}.'
