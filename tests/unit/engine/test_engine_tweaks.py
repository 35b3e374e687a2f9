"""Tweaks: by node id or display name, top-level scalars, unknown keys ignored, protected fields
refused all-or-nothing, load_from_db reset, and the input clash rule."""

from __future__ import annotations

import pytest

from flowless_engine.errors import InputClashError, TweaksRefusedError
from flowless_engine.graph.loader import load_graph
from flowless_engine.runtime.tweaks import apply_tweaks, check_input_clash
from tests.support.engine_kit import chat_flow, component_node, field, flow, llm_flow, run


def value(graph, vertex_id: str, name: str):
    return graph.vertices[vertex_id].value(name)


def test_by_node_id() -> None:
    graph = load_graph(chat_flow())
    tweaked = apply_tweaks(graph, {"ChatInput-1": {"input_value": "tweaked"}})
    assert value(tweaked, "ChatInput-1", "input_value") == "tweaked"
    assert value(graph, "ChatInput-1", "input_value") == "stored hello"  # the parsed graph is untouched


def test_by_display_name() -> None:
    graph = load_graph(chat_flow())
    tweaked = apply_tweaks(graph, {"Chat Output": {"sender_name": "Bot"}})
    assert value(tweaked, "ChatOutput-1", "sender_name") == "Bot"


def test_node_id_wins_over_a_display_name() -> None:
    nodes = [component_node("A-1", "TextInput", display_name="B-1"), component_node("B-1", "TextInput", display_name="Other")]
    tweaked = apply_tweaks(load_graph(flow(nodes)), {"B-1": {"input_value": "x"}})
    assert value(tweaked, "B-1", "input_value") == "x"
    assert value(tweaked, "A-1", "input_value") == ""


def test_top_level_scalars_apply_to_every_node_having_the_field() -> None:
    graph = load_graph(chat_flow())
    tweaked = apply_tweaks(graph, {"sender_name": "Everyone", "should_store_message": False, "no_such_field": 1})
    for vid in ("ChatInput-1", "ChatOutput-1"):
        assert value(tweaked, vid, "sender_name") == "Everyone"
        assert value(tweaked, vid, "should_store_message") is False
        assert "no_such_field" not in tweaked.vertices[vid].fields


def test_unknown_nodes_and_fields_are_ignored() -> None:
    graph = load_graph(chat_flow())
    assert apply_tweaks(graph, {"Nope-1": {"input_value": "x"}, "ChatInput-1": {"nope": 1}}) is graph
    assert apply_tweaks(graph, None) is graph
    assert apply_tweaks(graph, {}) is graph
    assert apply_tweaks(graph, ["not", "a", "dict"]) is graph  # type: ignore[arg-type]


def test_untouched_vertices_are_shared_and_touched_ones_copied() -> None:
    graph = load_graph(chat_flow())
    tweaked = apply_tweaks(graph, {"ChatInput-1": {"input_value": "x"}})
    assert tweaked.vertices["ChatOutput-1"] is graph.vertices["ChatOutput-1"]
    assert tweaked.vertices["ChatInput-1"] is not graph.vertices["ChatInput-1"]
    assert tweaked.frozen_results is graph.frozen_results


def test_code_is_refused_wherever_it_is_aimed() -> None:
    graph = load_graph(chat_flow())
    with pytest.raises(TweaksRefusedError) as caught:
        apply_tweaks(graph, {"ChatInput-1": {"code": "import os"}})
    assert caught.value.fields == ["ChatInput-1.code"]
    assert caught.value.code == "TWEAKS_REFUSED"
    with pytest.raises(TweaksRefusedError) as caught:
        apply_tweaks(graph, {"code": "import os"})  # top-level: every node
    assert caught.value.fields == ["ChatInput-1.code", "ChatOutput-1.code"]


def test_code_typed_fields_are_refused_even_though_they_were_dropped() -> None:
    node = component_node("TextInput-1", "TextInput")
    node["data"]["node"]["template"]["script"] = field("script", "print(1)", type="code")
    graph = load_graph(flow([node]))
    with pytest.raises(TweaksRefusedError) as caught:
        apply_tweaks(graph, {"TextInput-1": {"script": "print(2)"}})
    assert caught.value.fields == ["TextInput-1.script"]


@pytest.mark.parametrize("name", ["allow_dangerous_code", "function_code", "python_code", "tool_code", "global_imports"])
def test_code_smuggling_fields_are_refused(name: str) -> None:
    with pytest.raises(TweaksRefusedError):
        apply_tweaks(load_graph(chat_flow()), {"ChatInput-1": {name: "x"}})


def test_refusal_is_all_or_nothing_and_lists_every_field() -> None:
    graph = load_graph(chat_flow())
    with pytest.raises(TweaksRefusedError) as caught:
        apply_tweaks(graph, {"ChatInput-1": {"input_value": "fine", "code": "x"}, "Chat Output": {"python_code": "y"}})
    assert caught.value.fields == ["ChatInput-1.code", "ChatOutput-1.python_code"]
    assert "ChatInput-1.code" in caught.value.message
    assert value(graph, "ChatInput-1", "input_value") == "stored hello"


async def test_a_refused_run_applies_nothing_and_runs_nothing() -> None:
    graph = load_graph(llm_flow())
    with pytest.raises(TweaksRefusedError):
        await run(graph, "hi", tweaks={"LanguageModelComponent-1": {"system_message": "x"}, "ChatInput-1": {"code": "x"}})
    ran = await run(graph, "hi")
    assert ran.models.model.calls[0]["messages"][0].role == "user"  # no system message crept in


def test_a_tweak_resets_load_from_db() -> None:
    node = component_node("LanguageModelComponent-1", "LanguageModelComponent")
    node["data"]["node"]["template"]["api_key"].update(value="OPENAI_API_KEY", load_from_db=True)
    graph = load_graph(flow([node]))
    tweaked = apply_tweaks(graph, {"LanguageModelComponent-1": {"api_key": "sk-literal"}})
    spec = tweaked.vertices["LanguageModelComponent-1"].fields["api_key"]
    assert spec["value"] == "sk-literal" and spec["load_from_db"] is False
    assert graph.vertices["LanguageModelComponent-1"].fields["api_key"]["load_from_db"] is True


def test_a_dict_tweak_merges_into_the_field_and_may_keep_load_from_db() -> None:
    graph = load_graph(flow([component_node("LanguageModelComponent-1", "LanguageModelComponent")]))
    kept = apply_tweaks(graph, {"LanguageModelComponent-1": {"api_key": {"value": "MY_KEY", "load_from_db": True}}})
    spec = kept.vertices["LanguageModelComponent-1"].fields["api_key"]
    assert (spec["value"], spec["load_from_db"]) == ("MY_KEY", True)
    merged = apply_tweaks(graph, {"LanguageModelComponent-1": {"api_key": {"value": "sk"}}})
    assert merged.vertices["LanguageModelComponent-1"].fields["api_key"]["load_from_db"] is False
    assert merged.vertices["LanguageModelComponent-1"].fields["api_key"]["password"] is True  # other keys kept


def test_dict_and_file_fields() -> None:
    node = component_node("TextInput-1", "TextInput")
    template = node["data"]["node"]["template"]
    template["headers"] = field("headers", {}, type="dict")
    template["nested"] = field("nested", {}, type="NestedDict")
    template["path"] = field("path", "", type="file", file_path="")
    graph = load_graph(flow([node]))
    tweaked = apply_tweaks(graph, {"TextInput-1": {"headers": {"value": {"a": 1}}, "nested": {"b": 2}, "path": ["report.txt"]}})
    fields = tweaked.vertices["TextInput-1"].fields
    assert fields["headers"]["value"] == {"a": 1}  # a lone {"value": x} is unwrapped
    assert fields["nested"]["value"] == {"b": 2}
    assert fields["path"]["value"] == ["report.txt"] and fields["path"]["file_path"] == ["report.txt"]


def test_model_list_tweak_sets_the_value() -> None:
    graph = load_graph(llm_flow())
    choice = [{"name": "gpt-4o", "provider": "OpenAI"}]
    tweaked = apply_tweaks(graph, {"LanguageModelComponent-1": {"model": choice}})
    assert value(tweaked, "LanguageModelComponent-1", "model") == choice


@pytest.mark.parametrize(
    "key, input_type",
    [("ChatInput-1", "chat"), ("Chat Input", "chat"), ("TextInput-abc", "text"), ("Text Input", "text")],
)
def test_input_value_clash(key: str, input_type: str) -> None:
    with pytest.raises(InputClashError):
        check_input_clash({key: {"input_value": "a"}}, "b", input_type)


def test_no_clash_without_input_or_for_other_fields() -> None:
    check_input_clash({"ChatInput-1": {"input_value": "a"}}, None, "chat")
    check_input_clash({"ChatInput-1": {"sender": "a"}}, "b", "chat")
    check_input_clash({"TextInput-1": {"input_value": "a"}}, "b", "chat")
    check_input_clash({"ChatInput-1": {"input_value": "a"}}, "b", "any")
    check_input_clash(None, "b", "chat")


async def test_clash_is_refused_by_a_run() -> None:
    with pytest.raises(InputClashError):
        await run(chat_flow(), "hi", tweaks={"ChatInput-1": {"input_value": "other"}})


async def test_stream_flag_is_injected_into_every_stream_field() -> None:
    ran = await run(llm_flow(stream=False), "hi", stream=True)
    assert ran.models.model.calls[0]["stream"] is True
    ran = await run(llm_flow(stream=True), "hi", stream=False)
    assert ran.models.model.calls[0]["stream"] is False
