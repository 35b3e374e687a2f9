"""Agent: chat history, the tool loop, its iteration limit, streaming and structured output."""

from __future__ import annotations

import json
from typing import Any

import pytest

from flowless_engine.components.agent import schema_from_table
from flowless_engine.components.base import Component, Input, Output, Tool
from flowless_engine.errors import ComponentError, LimitExceededError
from flowless_engine.llm.base import ChatResult, ToolCall
from flowless_engine.runtime.services import InMemoryMessageStore
from flowless_engine.settings import EngineSettings
from tests.support.engine_kit import (
    FakeChatModel,
    component_node,
    edge,
    event_names,
    flow,
    register_components,
    run,
    tool_call,
)


class Lookup(Component):
    """A tool component: `lookup(q)` answers "found <q>", or fails for q == "fail"."""

    type_name = "TestLookup"
    inputs = (Input("q"),)
    outputs = (Output("component_as_tool", "to_toolkit", ("Tool",)),)

    def as_tools(self) -> list[Tool]:
        async def lookup(args: dict[str, Any]) -> str:
            if args.get("q") == "fail":
                raise RuntimeError("lookup is down")
            return f"found {args.get('q')}"

        schema = {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}
        return [Tool(name="lookup", description="Looks things up.", parameters=schema, run=lookup, source_id=self.id)]


@pytest.fixture(autouse=True)
def _lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    register_components(monkeypatch, Lookup)


def agent_flow(*, tool: bool = False, flow_id: str = "flow-1", **agent_values: Any) -> dict:
    agent_values.setdefault("system_prompt", "You are terse.")
    agent_values.setdefault("add_current_date_tool", False)
    nodes = [
        component_node("ChatInput-1", "ChatInput"),
        component_node("Agent-1", "Agent", **agent_values),
        component_node("ChatOutput-1", "ChatOutput"),
    ]
    edges = [edge("ChatInput-1", "message", "Agent-1", "input_value"), edge("Agent-1", "response", "ChatOutput-1", "input_value")]
    if tool:
        nodes.append(component_node("Lookup-1", "TestLookup"))
        edges.append(edge("Lookup-1", "component_as_tool", "Agent-1", "tools", output_types=("Tool",), input_types=("Tool",)))
    return flow(nodes, edges, flow_id=flow_id)


def roles(call: dict) -> list[tuple[str, str | None]]:
    return [(m.role, m.content) for m in call["messages"]]


# ---- history ---------------------------------------------------------------------------------


async def test_history_of_the_session_is_sent() -> None:
    store = InMemoryMessageStore()
    await run(agent_flow(), "first", messages=store)
    ran = await run(agent_flow(), "second", messages=store)
    assert roles(ran.models.model.calls[0]) == [
        ("system", "You are terse."),
        ("user", "first"),
        ("assistant", "Echo: first"),
        ("user", "second"),  # the current run's stored message is not repeated as history
    ]


async def test_n_messages_limits_the_history() -> None:
    store = InMemoryMessageStore()
    await run(agent_flow(), "first", messages=store)
    await run(agent_flow(), "second", messages=store)
    ran = await run(agent_flow(n_messages=3), "third", messages=store)
    assert roles(ran.models.model.calls[0])[1:] == [("assistant", "Echo: first"), ("user", "second"), ("assistant", "Echo: second"), ("user", "third")]
    ran = await run(agent_flow(n_messages=0), "fourth", messages=store)
    assert roles(ran.models.model.calls[0]) == [("system", "You are terse."), ("user", "fourth")]


async def test_history_is_scoped_to_the_session_and_the_flow() -> None:
    store = InMemoryMessageStore()
    await run(agent_flow(), "mine", messages=store, session_id="s-1")
    other_session = await run(agent_flow(), "hi", messages=store, session_id="s-2")
    other_flow = await run(agent_flow(flow_id="flow-2"), "hi", messages=store, session_id="s-1")
    same = await run(agent_flow(), "hi", messages=store, session_id="s-1")
    assert len(other_session.models.model.calls[0]["messages"]) == 2
    assert len(other_flow.models.model.calls[0]["messages"]) == 2
    assert ("user", "mine") in roles(same.models.model.calls[0])


async def test_history_is_full_even_when_this_run_stored_several_messages() -> None:
    store = InMemoryMessageStore()
    await run(agent_flow(), "earlier", messages=store)
    exported = agent_flow(n_messages=2)
    # a second chat input stores another message of this run before the agent starts
    exported["data"]["nodes"].append(component_node("ChatInput-2", "ChatInput"))
    exported["data"]["edges"].append(edge("ChatInput-2", "message", "Agent-1", "context_id"))
    ran = await run(exported, "now", messages=store)
    assert len([m for m in store.messages if m.run_id == ran.ctx.run_id]) >= 2
    assert roles(ran.models.model.calls[0])[1:] == [("user", "earlier"), ("assistant", "Echo: earlier"), ("user", "now")]


# ---- tools -------------------------------------------------------------------------------------


async def test_the_tool_loop() -> None:
    model = FakeChatModel([tool_call("lookup", {"q": "cats"}, call_id="c1"), "Cats were found."])
    ran = await run(agent_flow(tool=True), "find cats", model=model, output_type="debug")
    first, second = model.calls
    assert [t.name for t in first["tools"]] == ["lookup"]
    assert second["messages"][-2].role == "assistant" and second["messages"][-2].tool_calls[0].name == "lookup"
    tool_message = second["messages"][-1]
    assert (tool_message.role, tool_message.content, tool_message.tool_call_id, tool_message.name) == ("tool", "found cats", "c1", "lookup")
    assert ran.vertex("ChatOutput-1").values["message"].text == "Cats were found."
    around = [e for e in ran.events if e["event"] in {"build_start", "build_end"} and e["data"]]
    assert around == [{"event": "build_start", "data": {"id": "Lookup-1"}}, {"event": "build_end", "data": {"id": "Lookup-1"}}]
    (agent,) = [o for o in ran.outputs if o["component_id"] == "Agent-1"]
    logged = agent["logs"]["response"]
    assert logged[0]["message"] == {"tool": "lookup", "arguments": '{"q": "cats"}', "output": "found cats"}
    # usage of both model calls
    assert ran.vertex("Agent-1").usage == first["result"].usage.add(second["result"].usage)
    assert agent["token_usage"] == ran.vertex("Agent-1").usage.to_dict()


async def test_tool_failures_are_shown_to_the_model() -> None:
    not_json = ChatResult(text="", tool_calls=[ToolCall(id="c3", name="lookup", arguments="{not json")])
    model = FakeChatModel([tool_call("lookup", {"q": "fail"}), tool_call("nope", {}), not_json, "done"])
    ran = await run(agent_flow(tool=True), "go", model=model)
    tool_results = [m.content for m in model.calls[-1]["messages"] if m.role == "tool"]
    assert tool_results[0] == "Error: RuntimeError: lookup is down"
    assert tool_results[1] == "Error: unknown tool 'nope'"
    assert tool_results[2].startswith("Error: JSONDecodeError")
    assert ran.text() == "done"


async def test_max_iterations_limits_model_calls() -> None:
    always_a_tool = lambda messages: tool_call("lookup", {"q": "again"})  # noqa: E731
    model = FakeChatModel([always_a_tool] * 50)
    with pytest.raises(LimitExceededError) as caught:
        await run(agent_flow(tool=True, max_iterations=3), "loop", model=model)
    assert len(model.calls) == 3
    assert "max_iterations (3)" in caught.value.message
    model = FakeChatModel([always_a_tool] * 50)
    with pytest.raises(LimitExceededError):
        await run(agent_flow(tool=True, max_iterations=100), "loop", model=model, settings=EngineSettings(max_agent_iterations=4))
    assert len(model.calls) == 4


async def test_built_in_tools() -> None:
    model = FakeChatModel([tool_call("evaluate_expression", {"expression": "12 * (3 + 4)"}), "It is 84."])
    ran = await run(agent_flow(add_calculator_tool=True, add_current_date_tool=True), "12 * (3 + 4)?", model=model)
    assert sorted(t.name for t in model.calls[0]["tools"]) == ["evaluate_expression", "get_current_date"]
    assert [json.loads(m.content) for m in model.calls[1]["messages"] if m.role == "tool"] == [{"result": "84"}]
    assert ran.text() == "It is 84."


async def test_no_tools_means_none_offered() -> None:
    model = FakeChatModel()
    await run(agent_flow(), "hi", model=model)
    assert model.calls[0]["tools"] is None


async def test_a_streaming_agent_streams_its_final_answer() -> None:
    model = FakeChatModel([tool_call("lookup", {"q": "x"}), "final answer here"])
    ran = await run(agent_flow(tool=True), "go", model=model, stream=True)
    assert [c["stream"] for c in model.calls] == [True, True]
    assert [e["data"]["chunk"] for e in ran.events if e["event"] == "token"] == ["final", " answer", " here"]
    assert ran.text() == "final answer here"
    # the tool ran while the answer streamed, after the agent's vertex was recorded: still logged
    assert [entry["message"]["tool"] for entry in ran.vertex("Agent-1").logs["response"]] == ["lookup"]
    complete = [e["data"] for e in ran.events if e["event"] == "add_message"][-1]
    assert complete["properties"]["usage"]["total_tokens"] == ran.vertex("Agent-1").usage.total_tokens > 0
    assert event_names(ran.events)[-1] == "end"


async def test_a_streaming_agent_respects_max_iterations() -> None:
    always_a_tool = lambda messages: tool_call("lookup", {"q": "again"})  # noqa: E731
    model = FakeChatModel([always_a_tool] * 10)
    with pytest.raises(LimitExceededError):
        await run(agent_flow(tool=True, max_iterations=2), "loop", model=model, stream=True)
    assert len(model.calls) == 2


# ---- structured output ---------------------------------------------------------------------------

TABLE = [
    {"name": "revenue", "description": "Total revenue", "type": "float", "multiple": "False"},
    {"name": "tags", "description": "", "type": "str", "multiple": "True"},
]


def structured_flow(**agent_values: Any) -> dict:
    """Text Input → Agent.structured_response → Chat Output (only wired outputs are built)."""
    nodes = [
        component_node("TextInput-1", "TextInput", input_value="Revenue was 12."),
        component_node("Agent-1", "Agent", output_schema=TABLE, **agent_values),
        component_node("ChatOutput-1", "ChatOutput"),
    ]
    edges = [
        edge("TextInput-1", "text", "Agent-1", "input_value"),
        edge("Agent-1", "structured_response", "ChatOutput-1", "input_value", output_types=("Data",), input_types=("Data",)),
    ]
    return flow(nodes, edges)


def test_schema_from_table() -> None:
    assert schema_from_table(TABLE) == {
        "type": "object",
        "properties": {
            "revenue": {"type": "number", "description": "Total revenue"},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["revenue", "tags"],
    }
    assert schema_from_table([]) is None
    assert schema_from_table([{"description": "no name"}]) is None
    assert schema_from_table("nope") is None


@pytest.mark.parametrize(
    "reply, expected",
    [
        ('{"revenue": 12, "tags": ["a"]}', {"revenue": 12, "tags": ["a"]}),
        ('```json\n{"revenue": 12, "tags": []}\n```', {"revenue": 12, "tags": []}),
        ('[{"revenue": 1, "tags": []}]', {"revenue": 1, "tags": []}),
        ('[{"revenue": 1}, {"revenue": 2}]', {"results": [{"revenue": 1}, {"revenue": 2}]}),
        ("42", {"result": 42}),
    ],
)
async def test_structured_response(reply: str, expected: dict) -> None:
    model = FakeChatModel([reply])
    ran = await run(structured_flow(format_instructions="Numbers only."), model=model, outputs=["Agent-1"])
    (call,) = model.calls
    assert call["json_schema"] == schema_from_table(TABLE)
    assert call["messages"][0].content == "You are a helpful assistant that can use tools to answer questions and perform tasks.\n\nNumbers only."
    assert call["messages"][1].content == "Revenue was 12."
    assert ran.vertex("Agent-1").values["structured_response"].data == expected
    assert ran.outputs[0]["outputs"]["structured_response"] == {"message": expected, "type": "object"}


async def test_structured_response_without_a_schema_asks_for_any_object() -> None:
    model = FakeChatModel(['{"x": 1}'])
    await run(structured_flow(), model=model, outputs=["Agent-1"], tweaks={"Agent-1": {"output_schema": []}})
    assert model.calls[0]["json_schema"] == {"type": "object", "additionalProperties": True}


async def test_structured_response_that_is_not_json_is_a_component_error() -> None:
    model = FakeChatModel(["sorry, no"])
    with pytest.raises(ComponentError) as caught:
        await run(structured_flow(), model=model, outputs=["Agent-1"])
    assert caught.value.node_id == "Agent-1" and "valid JSON" in caught.value.message


async def test_only_wired_outputs_are_built() -> None:
    model = FakeChatModel()
    await run(agent_flow(output_schema=TABLE), "hi", model=model)
    assert [c["json_schema"] for c in model.calls] == [None]
    model = FakeChatModel(['{"revenue": 1, "tags": []}'])
    await run(structured_flow(), model=model)
    assert [c["json_schema"] is not None for c in model.calls] == [True]
