"""Layered topological order (Kahn), ancestors and descendants."""

from __future__ import annotations

import pytest

from flowless_engine.graph.loader import load_graph
from flowless_engine.graph.order import ancestors, descendants, find_cycle, layers
from tests.support.engine_kit import edge, field, flow, output, raw_node


def graph_of(names: list[str], links: list[tuple[str, str]]):
    nodes = [raw_node(n, "N", {"x": field("x", list=True)}) for n in names]
    return load_graph(flow(nodes, [edge(a, "out", b, "x") for a, b in links]))


def test_layers_of_a_diamond() -> None:
    graph = graph_of(["D", "B", "C", "A"], [("A", "B"), ("A", "C"), ("B", "D"), ("C", "D")])
    assert layers(graph) == [["A"], ["B", "C"], ["D"]]


def test_layer_zero_is_every_vertex_without_predecessors_in_export_order() -> None:
    # inputs are not forced first: a prompt with no inputs sits in layer 0 beside the chat input
    graph = graph_of(["Prompt", "ChatInput", "LLM", "ChatOutput"], [("ChatInput", "LLM"), ("Prompt", "LLM"), ("LLM", "ChatOutput")])
    assert layers(graph) == [["Prompt", "ChatInput"], ["LLM"], ["ChatOutput"]]


def test_a_vertex_waits_for_its_deepest_predecessor() -> None:
    graph = graph_of(["A", "B", "C", "D"], [("A", "B"), ("B", "C"), ("A", "D"), ("C", "D")])
    assert layers(graph) == [["A"], ["B"], ["C"], ["D"]]


def test_duplicate_edges_count_once() -> None:
    graph = graph_of(["A", "B"], [("A", "B"), ("A", "B")])
    assert layers(graph) == [["A"], ["B"]]


def test_layers_of_a_subset() -> None:
    graph = graph_of(["A", "B", "C"], [("A", "B"), ("B", "C")])
    assert layers(graph, {"B", "C"}) == [["B"], ["C"]]
    assert layers(graph, set()) == []


def test_a_cycle_cannot_be_layered() -> None:
    graph = graph_of(["A", "B", "C"], [("A", "B"), ("B", "C"), ("C", "B")])
    assert find_cycle(graph) == ["B", "C", "B"]
    with pytest.raises(ValueError):
        layers(graph)


def test_loop_feedback_edges_are_ignored() -> None:
    nodes = [raw_node("Loop", "Loop", outputs=[output("item")]), raw_node("Body", "Body", {"x": field("x")})]
    back = edge("Body", "out", "Loop", "item")
    back["data"]["targetHandle"] = {"dataType": "Loop", "id": "Loop", "name": "item", "output_types": ["Message"]}
    graph = load_graph(flow(nodes, [edge("Loop", "item", "Body", "x"), back]))
    assert layers(graph) == [["Loop"], ["Body"]]
    assert find_cycle(graph) is None


def test_ancestors_and_descendants() -> None:
    graph = graph_of(["A", "B", "C", "D", "E"], [("A", "B"), ("B", "C"), ("D", "C"), ("C", "E")])
    assert ancestors(graph, "C") == {"A", "B", "D"}
    assert ancestors(graph, "A") == set()
    assert descendants(graph, "B") == {"C", "E"}
    assert descendants(graph, "E") == set()


def test_a_long_chain_is_layered() -> None:
    names = [f"N{i}" for i in range(3000)]
    graph = graph_of(names, list(zip(names, names[1:])))
    assert [layer[0] for layer in layers(graph)] == names
