"""Graph checks: every structural problem at once, then unsupported component types."""

from __future__ import annotations

import pytest

from flowless_engine.errors import InvalidFlowError, UnsupportedComponentsError
from flowless_engine.graph.loader import load_graph
from flowless_engine.graph.validate import find_problems, missing_required, validate
from tests.support.engine_kit import chat_flow, component_node, edge, field, flow, output, raw_node


def problems_of(exported: dict, **kwargs) -> list[tuple[str, str | None, str | None]]:
    return [(p.kind, p.node_id, p.field) for p in find_problems(load_graph(exported), **kwargs)]


def test_a_valid_flow_passes() -> None:
    graph = load_graph(chat_flow())
    assert validate(graph) is graph


def test_dangling_edges() -> None:
    exported = chat_flow(edges=[edge("ChatInput-1", "message", "Gone-1", "input_value"), edge("Missing-2", "out", "ChatOutput-1", "input_value")])
    assert problems_of(exported) == [("dangling_edge", "Gone-1", None), ("dangling_edge", "Missing-2", None)]


def test_unknown_field_and_output() -> None:
    exported = chat_flow(edges=[edge("ChatInput-1", "message", "ChatOutput-1", "nope"), edge("ChatInput-1", "nope", "ChatOutput-1", "input_value")])
    assert problems_of(exported) == [("unknown_field", "ChatOutput-1", "nope"), ("unknown_output", "ChatInput-1", "nope")]


def test_type_mismatch_names_both_ends() -> None:
    nodes = [
        raw_node("Src-1", "Src", outputs=[output("data", ("Data",))]),
        raw_node("Dst-1", "Dst", {"text": field("text", input_types=["Message"])}),
    ]
    bad = edge("Src-1", "data", "Dst-1", "text", output_types=("Data",), input_types=("Message",))
    (problem,) = find_problems(load_graph(flow(nodes, [bad])))
    assert (problem.kind, problem.node_id, problem.field) == ("type_mismatch", "Dst-1", "text")
    assert "Src-1.data" in problem.message and "Dst-1.text" in problem.message


def test_type_aliases_and_declared_types_are_used() -> None:
    nodes = [
        raw_node("Src-1", "Src", outputs=[output("text", ("Text",)), output("json", ("JSON",))]),
        raw_node("Dst-1", "Dst", {"m": field("m", input_types=["Message"]), "d": field("d", input_types=["Data"])}),
    ]
    edges = [
        edge("Src-1", "text", "Dst-1", "m", output_types=("Text",), input_types=("Message",)),
        # no types on the edge: the declared output types and field input types are compared
        edge("Src-1", "json", "Dst-1", "d", output_types=(), input_types=()),
    ]
    assert problems_of(flow(nodes, edges), check_required=False) == []
    edges[1] = edge("Src-1", "text", "Dst-1", "d", output_types=(), input_types=())
    assert problems_of(flow(nodes, edges), check_required=False) == [("type_mismatch", "Dst-1", "d")]


def test_cycles_are_reported_with_their_path() -> None:
    nodes = [raw_node(f"N-{i}", "N", {"x": field("x")}) for i in range(3)]
    edges = [edge("N-0", "out", "N-1", "x"), edge("N-1", "out", "N-2", "x"), edge("N-2", "out", "N-0", "x")]
    (problem,) = find_problems(load_graph(flow(nodes, edges)))
    assert problem.kind == "cycle"
    assert problem.extra["cycle"] == ["N-0", "N-1", "N-2", "N-0"]
    assert "N-0 -> N-1 -> N-2 -> N-0" in problem.message


def test_a_self_loop_is_a_cycle() -> None:
    nodes = [raw_node("N-0", "N", {"x": field("x")})]
    assert problems_of(flow(nodes, [edge("N-0", "out", "N-0", "x")])) == [("cycle", "N-0", None)]


def test_a_long_chain_does_not_exhaust_the_stack() -> None:
    nodes = [raw_node(f"N-{i}", "N", {"x": field("x")}) for i in range(5000)]
    edges = [edge(f"N-{i}", "out", f"N-{i + 1}", "x") for i in range(4999)]
    graph = load_graph(flow(nodes, edges))
    assert find_problems(graph) == []
    edges.append(edge("N-4999", "out", "N-0", "x"))
    (problem,) = find_problems(load_graph(flow(nodes, edges)))
    assert problem.kind == "cycle" and len(problem.extra["cycle"]) == 5001


def test_missing_required_inputs() -> None:
    nodes = [
        raw_node("A-1", "A", {
            "needed": field("needed", "", required=True),
            "given": field("given", "x", required=True),
            "empty_list": field("empty_list", [], required=True),
            "hidden": field("hidden", "", required=True, show=False),
            "model": field("model", "", type="model", required=True),  # a default model applies
            "flag": field("flag", False, type="bool", required=True),
            "fed": field("fed", "", required=True),
        }),
        raw_node("ChatInput-1", "ChatInput", {"input_value": field("input_value", "", required=True)}),
    ]
    problems = problems_of(flow(nodes, [edge("ChatInput-1", "out", "A-1", "fed")]))
    assert problems == [("missing_required", "A-1", "needed"), ("missing_required", "A-1", "empty_list")]


def test_tool_mode_fields_of_a_tool_component_are_not_required() -> None:
    nodes = [
        raw_node("Tool-1", "T", {"query": field("query", "", required=True, tool_mode=True)}, outputs=[output("component_as_tool", ("Tool",))]),
        raw_node("Agent-1", "Agent", {"tools": field("tools", "", type="other", list=True, input_types=["Tool"])}),
    ]
    wired = edge("Tool-1", "component_as_tool", "Agent-1", "tools", output_types=("Tool",), input_types=("Tool",))
    assert problems_of(flow(nodes, [wired])) == []
    assert [p.field for p in missing_required(load_graph(flow(nodes, [])))] == ["query"]


def test_all_structural_problems_come_in_one_error() -> None:
    nodes = [raw_node(f"N-{i}", "N", {"x": field("x"), "y": field("y", "", required=True)}) for i in range(2)]
    edges = [edge("N-0", "out", "N-1", "x"), edge("N-1", "out", "N-0", "x"), edge("N-0", "out", "Gone", "x")]
    with pytest.raises(InvalidFlowError) as caught:
        validate(load_graph(flow(nodes, edges)))
    assert [p["kind"] for p in caught.value.to_dict()["problems"]] == ["dangling_edge", "cycle", "missing_required", "missing_required"]


def test_validate_can_skip_required_checks() -> None:
    nodes = [raw_node("ChatInput-1", "ChatInput", {"needed": field("needed", "", required=True)})]
    assert validate(load_graph(flow(nodes)), check_required=False)


def test_unsupported_types_are_listed_in_one_error_with_node_ids() -> None:
    nodes = [
        component_node("ChatInput-1", "ChatInput"),
        raw_node("Zorblax-a", "Zorblax"),
        raw_node("Widget-ca", "LegacyMagicWidget"),
        raw_node("Zorblax-b", "Zorblax"),
    ]
    with pytest.raises(UnsupportedComponentsError) as caught:
        validate(load_graph(flow(nodes)))
    error = caught.value
    assert error.unsupported == {"LegacyMagicWidget": ["Widget-ca"], "Zorblax": ["Zorblax-a", "Zorblax-b"]}
    assert error.code == "UNSUPPORTED_COMPONENTS"
    assert "Zorblax (Zorblax-a, Zorblax-b)" in error.message and "LegacyMagicWidget (Widget-ca)" in error.message
    assert error.to_dict()["unsupported"] == [
        {"type": "LegacyMagicWidget", "node_ids": ["Widget-ca"]},
        {"type": "Zorblax", "node_ids": ["Zorblax-a", "Zorblax-b"]},
    ]


def test_structural_problems_are_reported_before_unsupported_types() -> None:
    nodes = [raw_node("Knowledge-a", "Knowledge", {"x": field("x")})]
    with pytest.raises(InvalidFlowError):
        validate(load_graph(flow(nodes, [edge("Gone-1", "out", "Knowledge-a", "x")])))


def test_loop_feedback_edges_are_not_cycles_or_unknown_fields() -> None:
    nodes = [raw_node("Loop-1", "Loop", outputs=[output("item"), output("done")]), raw_node("Body-1", "Body", {"x": field("x")})]
    feedback = edge("Body-1", "out", "Loop-1", "item")
    feedback["data"]["targetHandle"] = {"dataType": "Loop", "id": "Loop-1", "name": "item", "output_types": ["Message"]}
    assert problems_of(flow(nodes, [edge("Loop-1", "item", "Body-1", "x"), feedback])) == []
