"""LLM Selector (a judge model picks the model that answers, OpenRouter's model list at a local
server) and Smart Transform (the model writes a jq filter; text is transformed by the model)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from flowless_engine.errors import ComponentError
from flowless_engine.settings import EngineSettings
from tests.support.engine_kit import FakeChatModel, component_node, edge, flow, run
from tests.support.openrouter_server import OpenRouterServer

MODEL_EDGE = {"output_types": ("LanguageModel",), "input_types": ("LanguageModel",)}


@pytest.fixture(scope="module")
def openrouter() -> Iterator[OpenRouterServer]:
    with OpenRouterServer() as server:
        yield server


def settings(server: OpenRouterServer | None) -> EngineSettings:
    urls = (("openrouter", server.base_url),) if server else (("openrouter", "http://127.0.0.1:9"),)
    return EngineSettings(allow_loopback=True, http_retries=0, service_urls=urls)


def selector_flow(**values: Any) -> dict[str, Any]:
    """Two candidate models and a judge wired into the selector; Chat Input → selector → Chat Output."""
    nodes = [
        component_node("ChatInput-1", "ChatInput"),
        component_node("LanguageModelComponent-a", "LanguageModelComponent", model=[{"name": "gpt-4o-mini", "provider": "OpenAI"}]),
        component_node("LanguageModelComponent-b", "LanguageModelComponent", model=[{"name": "claude-3.5-sonnet", "provider": "Anthropic"}]),
        component_node("LanguageModelComponent-j", "LanguageModelComponent", model=[{"name": "judge-model", "provider": "OpenAI"}]),
        component_node("LLMSelectorComponent-s", "LLMSelectorComponent", **values),
        component_node("ChatOutput-1", "ChatOutput"),
    ]
    edges = [
        edge("ChatInput-1", "message", "LLMSelectorComponent-s", "input_value"),
        edge("LanguageModelComponent-a", "model_output", "LLMSelectorComponent-s", "models", **MODEL_EDGE),
        edge("LanguageModelComponent-b", "model_output", "LLMSelectorComponent-s", "models", **MODEL_EDGE),
        edge("LanguageModelComponent-j", "model_output", "LLMSelectorComponent-s", "judge_llm", **MODEL_EDGE),
        edge("LLMSelectorComponent-s", "output", "ChatOutput-1", "input_value"),
    ]
    return flow(nodes, edges)


async def test_the_judge_picks_the_model_that_answers(openrouter: OpenRouterServer) -> None:
    model = FakeChatModel(["I pick 1", "A careful answer."])
    ran = await run(selector_flow(optimization="quality"), "Prove this theorem.", model=model, settings=settings(openrouter),
                    outputs=["LLMSelectorComponent-s"], output_type="debug")
    judge_call, answer_call = model.calls
    prompt = judge_call["messages"][1].content
    assert 'User Query: "Prove this theorem."' in prompt and "Optimization Preference: quality" in prompt
    listing = json.loads(prompt.split("Available Models (JSON list):\n", 1)[1].split("\n\nAnswer", 1)[0])
    assert [m["langflow_name"] for m in listing] == ["gpt-4o-mini", "claude-3.5-sonnet"]
    assert listing[0]["specs"]["id"] == "openai/gpt-4o-mini" and listing[0]["specs"]["context_length"] == 128000
    assert listing[1]["specs"]["description"].endswith("...") and len(listing[1]["specs"]["description"]) == 500
    assert [(m.role, m.content) for m in answer_call["messages"]] == [("user", "Prove this theorem.")]
    assert [c.model for c in ran.models.configs[-2:]] == ["judge-model", "claude-3.5-sonnet"]
    values = ran.vertex("LLMSelectorComponent-s").values
    assert values["output"].text == "A careful answer."
    assert ran.vertex("LLMSelectorComponent-s").usage == judge_call["result"].usage.add(answer_call["result"].usage)
    assert [r.path for r in openrouter.requests][-1] == "/api/v1/models"


async def test_all_outputs_read_one_decision(openrouter: OpenRouterServer) -> None:
    exported = selector_flow()
    exported["data"]["nodes"] += [component_node("ChatOutput-2", "ChatOutput"), component_node("DataToDataFrame-i", "DataToDataFrame")]
    exported["data"]["edges"] += [
        edge("LLMSelectorComponent-s", "routing_decision", "ChatOutput-2", "input_value"),
        edge("LLMSelectorComponent-s", "selected_model_info", "DataToDataFrame-i", "data_list", output_types=("Data",), input_types=("Data",)),
    ]
    model = FakeChatModel(["0", "fast answer"])
    ran = await run(exported, "hi", model=model, settings=settings(openrouter))
    assert len(model.calls) == 2  # one judgement, one answer, whatever the outputs asked
    decision = ran.vertex("ChatOutput-2").values["message"].text
    assert "Selected Model Index: 0" in decision and "Resolved OpenRouter ID: openai/gpt-4o-mini" in decision
    (info,) = ran.vertex("DataToDataFrame-i").values["dataframe"].rows
    assert info["id"] == "openai/gpt-4o-mini" and info["langflow_model_name_used_for_lookup"] == "gpt-4o-mini"


async def test_without_openrouter_and_with_a_bad_judgement() -> None:
    model = FakeChatModel(["seven", "first model answers"])
    ran = await run(selector_flow(use_openrouter_specs=False), "hi", model=model, settings=settings(None))
    listing = model.calls[0]["messages"][1].content
    assert "Specifications not available." in listing
    assert ran.text() == "first model answers" and ran.models.configs[-1].model == "gpt-4o-mini"
    # OpenRouter unreachable: names only, the run goes on
    model = FakeChatModel(["1", "second"])
    ran = await run(selector_flow(), "hi", model=model, settings=settings(None))
    assert ran.text() == "second"


async def test_missing_inputs_are_refused() -> None:
    exported = selector_flow()
    exported["data"]["edges"] = [e for e in exported["data"]["edges"] if "judge_llm" not in e["id"]]
    with pytest.raises(ComponentError, match="Missing required inputs"):
        await run(exported, "hi", model=FakeChatModel(), settings=settings(None))


# ---- Smart Transform ---------------------------------------------------------------------------

ORDERS = [{"name": "a", "status": "active", "total": 10}, {"name": "b", "status": "closed", "total": 5},
          {"name": "c", "status": "active", "total": 7}]


def transform_flow(rows: Any, output: str, **values: Any) -> dict[str, Any]:
    values.setdefault("model", [{"name": "gpt-4o-mini", "provider": "OpenAI"}])
    values.setdefault("filter_instruction", "Keep the active orders, names only")
    nodes = [
        component_node("TextInput-1", "TextInput", input_value=json.dumps(rows)),
        component_node("ParseJSONData-1", "ParseJSONData", query=".[]"),
        component_node("Smart Transform-1", "Smart Transform", **values),
    ]
    edges = [edge("TextInput-1", "text", "ParseJSONData-1", "input_value"),
             edge("ParseJSONData-1", "filtered_data", "Smart Transform-1", "data", output_types=("JSON",), input_types=("JSON",))]
    exported = flow(nodes, edges)
    exported["data"]["nodes"].append(component_node("ChatOutput-1", "ChatOutput"))
    exported["data"]["edges"].append(edge("Smart Transform-1", output, "ChatOutput-1", "input_value",
                                          output_types=("JSON", "Table", "Message"), input_types=("JSON", "Table", "Message")))
    return exported


async def test_the_model_writes_a_jq_filter_that_flowless_applies() -> None:
    model = FakeChatModel(['```jq\nmap(select(.status == "active")) | map({name})\n```'])
    ran = await run(transform_flow(ORDERS, "dataframe_output"), model=model, outputs=["Smart Transform-1"])
    prompt = model.calls[0]["messages"][0].content
    assert "Instruction: Keep the active orders, names only" in prompt
    assert 'Structure of the data: [{"name": "str", "status": "str", "total": "int"}]' in prompt
    assert ran.vertex("Smart Transform-1").values["dataframe_output"].rows == [{"name": "a"}, {"name": "c"}]


async def test_data_and_message_outputs_and_one_record() -> None:
    model = FakeChatModel(["`.total`"])
    ran = await run(transform_flow([ORDERS[0]], "message_output"), model=model)
    assert ran.text() == "10"
    model = FakeChatModel(["```\n{name, doubled: ([.total, .total] | add)}\n```"])
    ran = await run(transform_flow([ORDERS[0]], "data_output"), model=model, outputs=["Smart Transform-1"])
    assert ran.vertex("Smart Transform-1").values["data_output"].data == {"name": "a", "doubled": 20}
    model = FakeChatModel(["map(.name)"])
    ran = await run(transform_flow(ORDERS, "data_output"), model=model, outputs=["Smart Transform-1"])
    assert ran.vertex("Smart Transform-1").values["data_output"].data == {"_results": ["a", "b", "c"]}


async def test_large_data_is_sampled_and_a_bad_filter_is_a_clear_error() -> None:
    model = FakeChatModel(["import os"])
    with pytest.raises(ComponentError, match=r"the model's jq filter 'import os' cannot be applied"):
        await run(transform_flow(ORDERS * 20, "data_output", max_size=200, sample_size=50), model=model)
    prompt = model.calls[0]["messages"][0].content
    assert "The data is too long to show whole." in prompt and "First 50 characters" in prompt


async def test_text_is_transformed_by_the_model() -> None:
    nodes = [component_node("ChatInput-1", "ChatInput"),
             component_node("Smart Transform-1", "Smart Transform", model=[{"name": "gpt-4o-mini", "provider": "OpenAI"}],
                            filter_instruction="Uppercase it"),
             component_node("ChatOutput-1", "ChatOutput")]
    edges = [edge("ChatInput-1", "message", "Smart Transform-1", "data"),
             edge("Smart Transform-1", "message_output", "ChatOutput-1", "input_value")]
    model = FakeChatModel(["HELLO THERE"])
    ran = await run(flow(nodes, edges), "hello there", model=model)
    assert ran.text() == "HELLO THERE"
    assert "Instruction: Uppercase it" in model.calls[0]["messages"][0].content and "hello there" in model.calls[0]["messages"][0].content
