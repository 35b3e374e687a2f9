"""Flow JSON → Graph: export shapes, notes, `code` dropped, œ handles, old handles, groups."""

from __future__ import annotations

import json

import pytest

from flowless_engine.errors import InvalidFlowError
from flowless_engine.graph.loader import decode_handle, load_graph
from tests.support.engine_kit import chat_flow, component_node, edge, field, flow, group_node, note, oe, output, raw_node


def kinds(exc: InvalidFlowError) -> list[str]:
    return [p.kind for p in exc.problems]


def test_loads_an_export_dict_with_id_and_name() -> None:
    graph = load_graph(chat_flow(flow_id="abc"))
    assert graph.flow_id == "abc"
    assert graph.flow_name == "Test flow"
    assert list(graph.vertices) == ["ChatInput-1", "ChatOutput-1"]
    assert [(e.source, e.source_output, e.target, e.target_field) for e in graph.edges] == [
        ("ChatInput-1", "message", "ChatOutput-1", "input_value")
    ]
    assert graph.successors("ChatInput-1") == {"ChatOutput-1"}
    assert graph.predecessors("ChatOutput-1") == {"ChatInput-1"}


def test_loads_json_text_bytes_and_a_bare_graph() -> None:
    exported = chat_flow()
    assert list(load_graph(json.dumps(exported)).vertices) == ["ChatInput-1", "ChatOutput-1"]
    assert list(load_graph(json.dumps(exported).encode()).vertices) == ["ChatInput-1", "ChatOutput-1"]
    bare = load_graph(exported["data"], flow_id="given", flow_name="Given")
    assert (bare.flow_id, bare.flow_name, len(bare.vertices)) == ("given", "Given", 2)


def test_data_given_as_a_json_string_is_read() -> None:
    exported = chat_flow()
    exported["data"] = json.dumps(exported["data"])
    assert len(load_graph(exported).vertices) == 2


@pytest.mark.parametrize(
    "text, kind",
    [
        ("{not json", "malformed_json"),
        ("", "malformed_json"),
        ("[1, 2]", "malformed_flow"),
        ('{"data": {"nodes": "x", "edges": []}}', "malformed_flow"),
        ('{"data": {"edges": []}}', "malformed_flow"),
        ('{"data": {"nodes": [], "edges": {}}}', "malformed_flow"),
        ("[" * 100_000, "malformed_json"),  # nested too deeply for the JSON parser
    ],
    ids=["broken", "empty", "not-an-object", "nodes-not-a-list", "no-nodes", "edges-not-a-list", "deeply-nested"],
)
def test_malformed_json_is_a_clear_error(text: str, kind: str) -> None:
    with pytest.raises(InvalidFlowError) as caught:
        load_graph(text)
    assert kinds(caught.value) == [kind]
    assert caught.value.code == "INVALID_FLOW"
    assert caught.value.to_dict()["problems"][0]["kind"] == kind


def test_every_malformed_node_and_edge_is_reported_at_once() -> None:
    exported = flow(
        [
            "not a node",
            {"id": "NoData-1"},
            {"id": "NoType-1", "data": {"node": {"template": {}}}},
            {"id": "NoTemplate-1", "data": {"type": "ChatInput", "node": {"template": []}}},
            component_node("ChatInput-1", "ChatInput"),
            component_node("ChatInput-1", "ChatInput"),
        ],
        [{"id": "e1", "source": "a", "target": "b"}, "not an edge", {"id": "e3", "source": "a", "target": "b", "targetHandle": "{œbad"}],
    )
    with pytest.raises(InvalidFlowError) as caught:
        load_graph(exported)
    assert kinds(caught.value) == [
        "malformed_node", "malformed_node", "malformed_node", "malformed_node", "duplicate_node",
        "malformed_edge", "malformed_edge", "malformed_edge",
    ]
    assert caught.value.problems[2].node_id == "NoType-1"
    assert "(+" not in caught.value.message  # fewer than 10: all listed in the message


def test_notes_are_skipped() -> None:
    exported = chat_flow()
    exported["data"]["nodes"] += [note("note-1"), {"id": "undefined-Ua7t1", "type": "noteNode", "data": {"node": {}}}]
    exported["data"]["nodes"].append({"id": "note-2", "type": "genericNode", "data": {"type": "note", "node": {"template": {}}}})
    assert list(load_graph(exported).vertices) == ["ChatInput-1", "ChatOutput-1"]


def test_code_fields_are_dropped_on_load() -> None:
    node = component_node("ChatInput-1", "ChatInput")
    template = node["data"]["node"]["template"]
    template["code"] = field("code", "import os; os.system('rm -rf /')", type="code")
    template["script"] = field("script", "print(1)", type="code")
    template["is_refresh"] = False  # non-dict template entries are not fields
    vertex = load_graph(flow([node])).vertices["ChatInput-1"]
    assert "code" not in vertex.fields and "script" not in vertex.fields and "is_refresh" not in vertex.fields
    assert "_type" not in vertex.fields
    assert "input_value" in vertex.fields
    assert vertex.code_fields == {"code", "script"}


def test_node_attributes() -> None:
    exported = flow(
        [
            raw_node("ChatInput-x", "ChatInput", display_name="My input", frozen=True),
            raw_node("ChatOutput-custom", "SomethingElse"),  # output by id prefix
            raw_node("weird-id", "TextOutput"),  # output by type
            raw_node("Webhook-1", "Webhook"),
            {"id": "Flagged-1", "data": {"type": "Custom", "is_output": True, "node": {"template": {}, "outputs": []}}},
        ]
    )
    vertices = load_graph(exported).vertices
    assert vertices["ChatInput-x"].display_name == "My input"
    assert vertices["ChatInput-x"].frozen and vertices["ChatInput-x"].is_input
    assert vertices["ChatOutput-custom"].is_output and not vertices["ChatOutput-custom"].is_input
    assert vertices["weird-id"].is_output
    assert vertices["Webhook-1"].is_input
    assert vertices["Flagged-1"].is_output
    assert vertices["Flagged-1"].display_name == "Custom"  # falls back to the type


def test_oe_string_handles_alone_are_enough() -> None:
    exported = chat_flow(edges=[edge("ChatInput-1", "message", "ChatOutput-1", "input_value", strings_only=True)])
    assert exported["data"]["edges"][0]["data"] == {}
    (only,) = load_graph(exported).edges
    assert (only.source, only.source_output, only.target, only.target_field) == ("ChatInput-1", "message", "ChatOutput-1", "input_value")
    assert only.output_types == ("Message",)
    assert only.input_types == ("Message",)


def test_oe_handle_format_matches_langflow() -> None:
    handle = {"dataType": "ChatInput", "id": "ChatInput-b6UCc", "name": "message", "output_types": ["Message"]}
    text = oe(handle)
    assert text == "{œdataTypeœ: œChatInputœ, œidœ: œChatInput-b6UCcœ, œnameœ: œmessageœ, œoutput_typesœ: [œMessageœ]}"
    assert decode_handle(text) == handle
    assert decode_handle(handle) is handle
    assert decode_handle("{œbroken") is None
    assert decode_handle("[œaœ]") is None
    assert decode_handle(None) is None


def test_edge_without_source_and_target_keys_uses_handle_ids() -> None:
    raw = edge("ChatInput-1", "message", "ChatOutput-1", "input_value")
    del raw["source"], raw["target"]
    (only,) = load_graph(chat_flow(edges=[raw])).edges
    assert (only.source, only.target) == ("ChatInput-1", "ChatOutput-1")


def test_pre_1_0_pipe_target_handle() -> None:
    raw = {
        "id": "old",
        "source": "ChatInput-1",
        "target": "ChatOutput-1",
        "sourceHandle": oe({"baseClasses": ["Message", "str"], "dataType": "ChatInput", "id": "ChatInput-1", "name": "message"}),
        "targetHandle": "Message,str|input_value|ChatOutput-1",
        "data": {},
    }
    (only,) = load_graph(chat_flow(edges=[raw])).edges
    assert only.target_field == "input_value"
    assert only.input_types == ("Message", "str")
    assert only.output_types == ("Message", "str")


def test_loop_feedback_edge_targets_an_output() -> None:
    nodes = [raw_node("Loop-1", "LoopComponent", outputs=[output("item"), output("done")]), raw_node("Body-1", "Body", {"x": field("x")})]
    feedback = edge("Body-1", "out", "Loop-1", "item")
    feedback["data"]["targetHandle"] = {"dataType": "LoopComponent", "id": "Loop-1", "name": "item", "output_types": ["Data"]}
    graph = load_graph(flow(nodes, [edge("Loop-1", "item", "Body-1", "x"), feedback]))
    loop_edge, back = graph.edges
    assert not loop_edge.targets_output
    assert back.targets_output and back.target_field == "item"
    # feedback edges are not dependencies
    assert graph.predecessors("Loop-1") == set()


def test_edge_without_a_target_field_is_refused() -> None:
    raw = edge("ChatInput-1", "message", "ChatOutput-1", "input_value")
    raw["data"]["targetHandle"] = {"id": "ChatOutput-1", "inputTypes": ["Message"]}
    raw["targetHandle"] = oe(raw["data"]["targetHandle"])
    with pytest.raises(InvalidFlowError) as caught:
        load_graph(chat_flow(edges=[raw]))
    assert kinds(caught.value) == ["malformed_edge"]


def test_groups_are_flattened_and_edges_rerouted_through_proxies() -> None:
    inner = [component_node("Prompt-in", "Prompt", template="Q: {question}"), component_node("TextInput-in", "TextInput")]
    inner[0]["data"]["node"]["template"]["question"] = field("question", "", input_types=["Message"])
    group = group_node(inner, [edge("TextInput-in", "text", "Prompt-in", "question")])
    exported = flow(
        [component_node("ChatInput-1", "ChatInput"), group, component_node("ChatOutput-1", "ChatOutput")],
        [
            edge("ChatInput-1", "message", "Group-1", "input_value_Prompt-in"),
            edge("Group-1", "prompt_Prompt-in", "ChatOutput-1", "input_value"),
        ],
    )
    graph = load_graph(exported)
    assert set(graph.vertices) == {"ChatInput-1", "ChatOutput-1", "Prompt-in", "TextInput-in"}
    routes = {(e.source, e.source_output, e.target, e.target_field) for e in graph.edges}
    assert routes == {
        ("TextInput-in", "text", "Prompt-in", "question"),
        ("ChatInput-1", "message", "Prompt-in", "question"),
        ("Prompt-in", "prompt", "ChatOutput-1", "input_value"),
    }


def test_nested_groups_are_flattened() -> None:
    innermost = [component_node("Prompt-in", "Prompt", template="x")]
    inner_group = group_node(innermost, [])
    inner_group["id"] = inner_group["data"]["id"] = "Group-inner"
    outer = group_node([inner_group, component_node("TextInput-deep", "TextInput")], [])
    outer["data"]["node"]["template"]["input_value_Prompt-in"]["proxy"] = {"id": "Prompt-in", "field": "template"}
    exported = flow([component_node("ChatInput-1", "ChatInput"), outer], [edge("ChatInput-1", "message", "Group-1", "input_value_Prompt-in")])
    graph = load_graph(exported)
    assert set(graph.vertices) == {"ChatInput-1", "Prompt-in", "TextInput-deep"}
    assert [(e.target, e.target_field) for e in graph.edges] == [("Prompt-in", "template")]


def test_group_field_without_proxy_is_reported() -> None:
    group = group_node([component_node("Prompt-in", "Prompt", template="x")], [], proxy_field=False, proxy_output=False)
    exported = flow(
        [component_node("ChatInput-1", "ChatInput"), group, component_node("ChatOutput-1", "ChatOutput")],
        [
            edge("ChatInput-1", "message", "Group-1", "input_value_Prompt-in"),
            edge("Group-1", "prompt_Prompt-in", "ChatOutput-1", "input_value"),
        ],
    )
    with pytest.raises(InvalidFlowError) as caught:
        load_graph(exported)
    assert kinds(caught.value) == ["group_proxy", "group_proxy"]
    assert {p.node_id for p in caught.value.problems} == {"Group-1"}


def test_graph_find_by_id_then_display_name() -> None:
    graph = load_graph(chat_flow())
    assert graph.find("ChatInput-1").id == "ChatInput-1"
    assert graph.find("Chat Output").id == "ChatOutput-1"
    assert graph.find("nothing") is None
