"""An Agent in tool mode: another agent calls it with an input and gets its answer back."""

from __future__ import annotations

from typing import Any

import pytest

from flowless_engine.components import agent as agent_module
from flowless_engine.components.base import Component, Input, Output, Tool
from flowless_engine.llm.base import ChatResult, ToolCall
from tests.support.engine_kit import FakeChatModel, component_node, edge, flow, register_components, run, tool_call

TOOL_EDGE = {"output_types": ("Tool",), "input_types": ("Tool",)}


class Lookup(Component):
    type_name = "TestRowCount"
    outputs = (Output("component_as_tool", "to_toolkit", ("Tool",)),)

    def as_tools(self) -> list[Tool]:
        async def count(args: dict[str, Any]) -> str:
            return f"{args.get('table')} has 42 rows"

        schema = {"type": "object", "properties": {"table": {"type": "string"}}}
        return [Tool(name="count_rows", description="Counts rows.", parameters=schema, run=count, source_id=self.id)]


@pytest.fixture(autouse=True)
def _lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    register_components(monkeypatch, Lookup)


def specialist(node_id: str, name: str, *, older: bool = True, **values: Any) -> dict[str, Any]:
    values.setdefault("add_current_date_tool", False)
    node = component_node(node_id, "Agent", display_name=name, **values)
    if older:  # pre-1.13 Agent nodes carry `agent_description`
        node["data"]["node"]["template"]["agent_description"] = {"name": "agent_description", "type": "str", "value": values.get("agent_description", "")}
    node["data"]["node"]["outputs"] = [{"name": "component_as_tool", "method": "to_toolkit", "types": ["Tool"]}]
    return node


def team(*specialists: dict[str, Any], lookup_for: str = "") -> dict[str, Any]:
    """Chat Input → Manager (specialists wired to its tools) → Chat Output."""
    nodes = [
        component_node("ChatInput-1", "ChatInput"),
        component_node("Agent-manager", "Agent", display_name="Manager", system_prompt="You route.", add_current_date_tool=False),
        component_node("ChatOutput-1", "ChatOutput"),
        *specialists,
    ]
    edges = [edge("ChatInput-1", "message", "Agent-manager", "input_value"), edge("Agent-manager", "response", "ChatOutput-1", "input_value")]
    edges += [edge(s["id"], "component_as_tool", "Agent-manager", "tools", **TOOL_EDGE) for s in specialists]
    if lookup_for:
        nodes.append(component_node("TestRowCount-1", "TestRowCount"))
        edges.append(edge("TestRowCount-1", "component_as_tool", lookup_for, "tools", **TOOL_EDGE))
    return flow(nodes, edges)


def system_of(call: dict[str, Any]) -> str:
    return call["messages"][0].content


async def test_the_manager_calls_a_specialist_that_runs_its_own_loop() -> None:
    sql = specialist("Agent-sql", "SQL Specialist", system_prompt="You write SQL.", agent_description="Answers data questions. ")
    docs = specialist("Agent-docs", "Docs Specialist", system_prompt="You read docs.")
    model = FakeChatModel([
        tool_call("Call_Agent_SQL_Specialist", {"input_value": "How many orders?"}, call_id="m1"),
        tool_call("count_rows", {"table": "orders"}, call_id="s1"),
        "orders has 42 rows.",
        "There are 42 orders.",
    ])
    ran = await run(team(sql, docs, lookup_for="Agent-sql"), "How many orders are there?", model=model)
    manager_first, sql_first, sql_second, manager_second = model.calls

    # two agents wired as tools: both `Call_Agent`, told apart by their display names
    offered = {t.name: t for t in manager_first["tools"]}
    assert sorted(offered) == ["Call_Agent_Docs_Specialist", "Call_Agent_SQL_Specialist"]
    assert offered["Call_Agent_SQL_Specialist"].description == "Answers data questions. count_rows"
    assert offered["Call_Agent_Docs_Specialist"].description == agent_module.DEFAULT_TOOLS_DESCRIPTION
    assert offered["Call_Agent_SQL_Specialist"].parameters["required"] == ["input_value"]

    # the specialist: its own instructions, the manager's question as its input, its own tools
    assert [(m.role, m.content) for m in sql_first["messages"]] == [("system", "You write SQL."), ("user", "How many orders?")]
    assert [t.name for t in sql_first["tools"]] == ["count_rows"]
    assert sql_second["messages"][-1].content == "orders has 42 rows"
    # its answer is the tool result the manager reads
    assert (system_of(manager_second), manager_second["messages"][-1].role) == ("You route.", "tool")
    assert manager_second["messages"][-1].content == "orders has 42 rows."
    assert ran.text() == "There are 42 orders."

    # the specialist's model calls count toward the manager's usage
    total = manager_first["result"].usage
    for call in (sql_first, sql_second, manager_second):
        total = total.add(call["result"].usage)
    assert ran.vertex("Agent-manager").usage == total
    # tool events name the node that ran
    around = [e["data"]["id"] for e in ran.events if e["event"] in {"build_start", "build_end"} and e["data"]]
    assert around == ["Agent-sql", "TestRowCount-1", "TestRowCount-1", "Agent-sql"]


async def test_a_1_13_agent_node_is_described_by_its_node_description() -> None:
    node = specialist("Agent-sql", "SQL Specialist", older=False)
    node["data"]["node"]["description"] = "Answers questions about the orders database."
    model = FakeChatModel([tool_call("Call_Agent", {"input_value": "hi"}), "sub answer", "done"])
    ran = await run(team(node), "hello", model=model)
    (tool,) = model.calls[0]["tools"]
    assert (tool.name, tool.description) == ("Call_Agent", "Answers questions about the orders database.")
    assert model.calls[2]["messages"][-1].content == "sub answer"
    assert ran.text() == "done"


async def test_tools_metadata_names_the_agent_tool() -> None:
    node = specialist("Agent-sql", "SQL Specialist", tools_metadata=[{"name": "ask_sql", "description": "SQL expert.", "tags": ["Call_Agent"]}])
    model = FakeChatModel([tool_call("ask_sql", {"input_value": "q"}), "a", "b"])
    await run(team(node), "hello", model=model)
    (tool,) = model.calls[0]["tools"]
    assert (tool.name, tool.description) == ("ask_sql", "SQL expert.")


async def test_each_call_is_independent_and_keeps_the_wired_input_when_none_is_given() -> None:
    sql = specialist("Agent-sql", "SQL Specialist")
    model = FakeChatModel([
        ChatResult(text="", tool_calls=[ToolCall(id="a", name="Call_Agent", arguments='{"input_value": "first"}'),
                                         ToolCall(id="b", name="Call_Agent", arguments='{"input_value": "second"}')]),
        "one", "two", "both done",
    ])
    ran = await run(team(sql), "go", model=model)
    assert [m.content for m in model.calls[1]["messages"]][-1] == "first"
    assert [m.content for m in model.calls[2]["messages"]][-1] == "second"
    assert [m.content for m in model.calls[3]["messages"] if m.role == "tool"] == ["one", "two"]
    assert ran.text() == "both done"


async def test_nesting_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Manager → middle → leaf, with a bound of one level: the middle agent's call to the leaf
    fails, and the middle agent's model reads why."""
    monkeypatch.setattr(agent_module, "MAX_AGENT_DEPTH", 1)
    middle = specialist("Agent-middle", "Middle")
    leaf = specialist("Agent-leaf", "Leaf")
    exported = team(middle)
    exported["data"]["nodes"].append(leaf)
    exported["data"]["edges"].append(edge("Agent-leaf", "component_as_tool", "Agent-middle", "tools", **TOOL_EDGE))
    model = FakeChatModel([tool_call("Call_Agent", {"input_value": "ask"}), tool_call("Call_Agent", {"input_value": "deeper"}), "middle gave up", "final"])
    ran = await run(exported, "go", model=model)
    refused = model.calls[2]["messages"][-1]
    assert refused.role == "tool" and "nest deeper than 1" in refused.content
    assert len(model.calls) == 4 and ran.text() == "final"


async def test_a_streaming_manager_counts_the_specialists_usage() -> None:
    sql = specialist("Agent-sql", "SQL Specialist", stream=True)  # a call as a tool never streams
    model = FakeChatModel([tool_call("Call_Agent", {"input_value": "q"}), "sub answer", "final answer"])
    ran = await run(team(sql), "go", model=model, stream=True, tweaks={"Agent-manager": {"stream": True}})
    assert [c["stream"] for c in model.calls] == [True, False, True]
    assert ran.text() == "final answer"
    total = model.calls[0]["result"].usage.add(model.calls[1]["result"].usage).add(model.calls[2]["result"].usage)
    assert ran.vertex("Agent-manager").usage == total


async def test_same_named_tools_of_other_components_are_all_offered() -> None:
    exported = team()
    exported["data"]["nodes"] += [component_node("TestRowCount-1", "TestRowCount"), component_node("TestRowCount-2", "TestRowCount")]
    exported["data"]["edges"] += [edge(f"TestRowCount-{i}", "component_as_tool", "Agent-manager", "tools", **TOOL_EDGE) for i in (1, 2)]
    model = FakeChatModel([tool_call("count_rows_2", {"table": "t"}), "done"])
    ran = await run(exported, "count", model=model)
    assert [t.name for t in model.calls[0]["tools"]] == ["count_rows", "count_rows_2"]
    around = [e["data"]["id"] for e in ran.events if e["event"] == "build_start" and e["data"]]
    assert around == ["TestRowCount-2"]
