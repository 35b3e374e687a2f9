"""Run Flow, Sub Flow and Flow as Tool: another flow of the same tenant run with the node's
dynamic fields as tweaks, its outputs as the node's outputs, depth-limited."""

from __future__ import annotations

import json
from typing import Any

import pytest

from flowless_engine.errors import ComponentError, ConfigurationError, LimitExceededError
from flowless_engine.llm.base import ChatResult, ToolCall
from flowless_engine.runtime.services import DictFlowResolver
from tests.support.component_runs import run_flow, value
from tests.support.engine_kit import FakeChatModel
from tests.support.flows import edge, flow, node

CHILD_ID = "5d1c4e3a-0000-4000-8000-000000000001"


def child_flow() -> dict[str, Any]:
    """ChatInput → Prompt ("Summary of: {text}") → ChatOutput."""
    prompt = node("Prompt-p", "Prompt", {"template": "Summary of: {text}"}, extra_fields={"text": {"value": ""}})
    return flow("Summarizer", [node("ChatInput-in", "ChatInput"), prompt, node("ChatOutput-out", "ChatOutput")],
                [edge("ChatInput-in", "message", "Prompt-p", "text"), edge("Prompt-p", "prompt", "ChatOutput-out", "input_value")],
                flow_id=CHILD_ID, endpoint_name="summarizer")


def run_flow_node(node_id: str, ref_field: str, ref: str) -> dict[str, Any]:
    n = node(node_id, "RunFlow", {ref_field: ref})
    n["data"]["node"]["template"]["ChatInput-in~input_value"] = {"name": "ChatInput-in~input_value", "type": "str", "value": "",
                                                                 "input_types": ["Message"], "display_name": "Chat Input (Chat Input)", "show": True}
    n["data"]["node"]["outputs"] = [{"name": "ChatOutput-out~message", "method": "_dynamic", "types": ["Message"], "display_name": "Chat Output"}]
    return n


def parent_flow(ref_field: str = "flow_name_selected", ref: str = "Summarizer") -> dict[str, Any]:
    return flow("Parent", [node("ChatInput-c", "ChatInput"), run_flow_node("RunFlow-r", ref_field, ref), node("ChatOutput-o", "ChatOutput")],
                [edge("ChatInput-c", "message", "RunFlow-r", "ChatInput-in~input_value"),
                 edge("RunFlow-r", "ChatOutput-out~message", "ChatOutput-o", "input_value")])


async def test_run_flow_by_name_id_and_endpoint() -> None:
    flows = DictFlowResolver([child_flow()])
    for field, ref in (("flow_name_selected", "Summarizer"), ("flow_id_selected", CHILD_ID), ("flow_name_selected", "summarizer")):
        result = await run_flow(parent_flow(field, ref), "the quarterly report", flows=flows)
        assert value(result, "ChatOutput-o").text == "Summary of: the quarterly report"


async def test_unknown_flow_and_no_flow_store() -> None:
    with pytest.raises(ConfigurationError, match="flow 'Nope' not found"):
        await run_flow(parent_flow(ref="Nope"), "x", flows=DictFlowResolver([child_flow()]))
    with pytest.raises(ConfigurationError, match="cannot be run here"):
        await run_flow(parent_flow(), "x")


async def test_a_flow_calling_itself_stops_at_the_depth_limit() -> None:
    selfish = parent_flow(ref="Parent")
    selfish["id"] = "5d1c4e3a-0000-4000-8000-000000000002"
    with pytest.raises(LimitExceededError, match="at most 3 levels deep"):
        await run_flow(selfish, "x", flows=DictFlowResolver([selfish]))


async def test_sub_flow_and_flow_as_tool() -> None:
    flows = DictFlowResolver([child_flow()])
    f = flow("P", [node("SubFlow-s", "SubFlow", {"flow_name": "Summarizer"})], [])
    f["data"]["nodes"][0]["data"]["node"]["template"]["ChatInput-in~input_value"] = {"name": "ChatInput-in~input_value", "type": "str", "value": "notes"}
    result = await run_flow(f, flows=flows)
    assert [d.data["text"] for d in value(result, "SubFlow-s")] == ["Summary of: notes"]

    model = FakeChatModel([ChatResult(text="", tool_calls=[ToolCall(id="t1", name="summarize", arguments=json.dumps({"input_value": "the memo"}))]), "done"])
    nodes = [node("ChatInput-c", "ChatInput"), node("FlowTool-t", "FlowTool", {"flow_name": "Summarizer", "tool_name": "summarize", "tool_description": "Summarize text"}),
             node("Agent-a", "Agent", {"model": [{"name": "gpt-4o-mini", "provider": "OpenAI"}], "add_current_date_tool": False})]
    edges = [edge("ChatInput-c", "message", "Agent-a", "input_value"),
             edge("FlowTool-t", "api_build_tool", "Agent-a", "tools", output_types=["Tool"], input_types=["Tool"])]
    result = await run_flow(flow("A", nodes, edges), "go", flows=flows, model_factory=lambda c: model)
    assert value(result, "Agent-a", "response").text == "done"
    assert [t.name for t in model.calls[0]["tools"]] == ["summarize"]
    assert next(m for m in model.calls[1]["messages"] if m.role == "tool").content == "Summary of: the memo"


async def test_run_flow_as_an_agent_tool() -> None:
    flows = DictFlowResolver([child_flow()])
    model = FakeChatModel([ChatResult(text="", tool_calls=[ToolCall(id="t1", name="Summarizer", arguments=json.dumps({"ChatInput-in~input_value": "abc"}))]), "ok"])
    run_node = run_flow_node("RunFlow-r", "flow_name_selected", "Summarizer")
    run_node["data"]["node"]["outputs"] = [{"name": "component_as_tool", "method": "to_toolkit", "types": ["Tool"]}]
    nodes = [node("ChatInput-c", "ChatInput"), run_node, node("Agent-a", "Agent", {"model": [{"name": "gpt-4o-mini", "provider": "OpenAI"}], "add_current_date_tool": False})]
    edges = [edge("ChatInput-c", "message", "Agent-a", "input_value"),
             edge("RunFlow-r", "component_as_tool", "Agent-a", "tools", output_types=["Tool"], input_types=["Tool"])]
    result = await run_flow(flow("A", nodes, edges), "go", flows=flows, model_factory=lambda c: model)
    assert value(result, "Agent-a", "response").text == "ok"
    assert next(m for m in model.calls[1]["messages"] if m.role == "tool").content == "Summary of: abc"
