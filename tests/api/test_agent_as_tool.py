"""Through the API: a manager Agent calls a specialist Agent wired as its tool (models over real
HTTP at the local OpenAI-compatible server)."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import store_flow, stream_frames
from tests.support.flows import agent_chat_flow, edge, node

MODEL = [{"name": "gpt-4o-mini", "provider": "OpenAI"}]


def team_flow() -> dict[str, Any]:
    flow = agent_chat_flow("Team", system_prompt="You are the manager.")
    specialist = node("Agent-s1", "Agent", {"model": MODEL, "system_prompt": "You are the math specialist.", "add_current_date_tool": False,
                                            "add_calculator_tool": True})
    specialist["data"]["node"]["display_name"] = "Math Specialist"
    specialist["data"]["node"]["description"] = "Solves arithmetic."
    specialist["data"]["node"]["outputs"] = [{"name": "component_as_tool", "method": "to_toolkit", "types": ["Tool"]}]
    flow["data"]["nodes"].append(specialist)
    flow["data"]["edges"].append(edge("Agent-s1", "component_as_tool", "Agent-a2", "tools", output_types=["Tool"], input_types=["Tool"]))
    return flow


def chats(server: Any) -> list[dict[str, Any]]:
    return [r.body for r in server.requests if r.path.endswith("/chat/completions")]


def test_the_manager_gets_the_specialists_answer(client, api_env):
    store_flow("acme", team_flow())
    server = api_env["server"]
    server.script([{"tool_calls": [{"name": "Call_Agent", "arguments": {"input_value": "What is 6 * 7?"}}]}])
    answer = client.post("/api/v1/run/team", headers={"x-api-key": api_env["key"]}, json={"input_value": "Ask the specialist."})
    assert answer.status_code == 200, answer.text
    manager, specialist, specialist_again, manager_again = chats(server)
    (offered,) = manager["tools"]
    assert offered["function"]["name"] == "Call_Agent" and offered["function"]["description"] == "Solves arithmetic."
    assert specialist["messages"] == [{"role": "system", "content": "You are the math specialist."}, {"role": "user", "content": "What is 6 * 7?"}]
    assert [t["function"]["name"] for t in specialist["tools"]] == ["evaluate_expression"]  # its own calculator
    assert specialist_again["messages"][-1]["role"] == "tool" and "42" in specialist_again["messages"][-1]["content"]
    assert manager_again["messages"][0]["content"] == "You are the manager."
    sub_answer = manager_again["messages"][-1]["content"]
    assert sub_answer.startswith("The answer is") and "42" in sub_answer
    message = answer.json()["outputs"][0]["outputs"][0]["results"]["message"]
    assert message["text"] == f"The answer is {sub_answer}."


def test_streamed_run_reports_the_tool_and_its_answer(client, api_env):
    store_flow("acme", team_flow())
    server = api_env["server"]
    server.script([{"tool_calls": [{"name": "Call_Agent", "arguments": {"input_value": "What is 2 + 3?"}}]}])
    answer = client.post("/api/v1/run/team?stream=true", headers={"x-api-key": api_env["key"]}, json={"input_value": "Ask."})
    assert answer.status_code == 200, answer.text
    frames = stream_frames(answer.text)
    assert frames[-1]["event"] == "end"
    final = frames[-1]["data"]["result"]["outputs"][0]["outputs"][0]["results"]["message"]["text"]
    assert final.startswith("The answer is The answer is") and "5" in final
    assert len(chats(server)) == 4


def test_a_playground_build_runs_the_specialist_through_the_manager(client, api_env):
    exported = team_flow()
    flow_id = store_flow("acme", exported)
    server = api_env["server"]
    server.script([{"tool_calls": [{"name": "Call_Agent", "arguments": {"input_value": "What is 3 * 5?"}}]}])
    response = client.post(f"/api/v1/build/{flow_id}/flow", json={"inputs": {"input_value": "Ask."}}, headers={"x-api-key": api_env["key"]},
                           params={"event_delivery": "direct"})
    assert response.status_code == 200, response.text
    events = stream_frames(response.text)
    assert events[-1]["event"] == "end"
    built = {e["data"]["build_data"]["id"]: e["data"]["build_data"] for e in events if e["event"] == "end_vertex"}
    assert built["Agent-s1"]["valid"] and built["Agent-a2"]["valid"]
    answer = built["ChatOutput-a3"]["data"]["results"]["message"]["text"]
    assert answer.startswith("The answer is The answer is") and "15" in answer
    assert len(chats(server)) == 4
