"""Batch Run (a model over each row, bounded concurrency, Langflow's row shape) and Smart Router
(the model's category picks the one branch that continues), through the engine."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from flowless_engine.components import llm_ops
from flowless_engine.llm.base import ChatResult
from tests.support.component_runs import run_flow, value
from tests.support.engine_kit import FakeChatModel
from tests.support.flows import edge, flow, node

MODEL = [{"name": "gpt-4o-mini", "provider": "OpenAI"}]


def batch_flow(rows: list[dict[str, Any]], **values: Any) -> dict[str, Any]:
    return flow("batch", [
        node("TextInput-t", "TextInput", {"input_value": json.dumps(rows)}),
        node("ParseJSONData-p", "ParseJSONData", {"query": ".[]"}),
        node("MergeDataComponent-m", "MergeDataComponent", {"operation": "Append"}),
        node("BatchRunComponent-b", "BatchRunComponent", {"model": MODEL, **values}),
    ], [
        edge("TextInput-t", "text", "ParseJSONData-p", "input_value"),
        edge("ParseJSONData-p", "filtered_data", "MergeDataComponent-m", "data_inputs"),
        edge("MergeDataComponent-m", "combined_data", "BatchRunComponent-b", "df"),
    ])


async def test_batch_run_over_a_column_keeps_order_and_bounds_concurrency() -> None:
    running = {"now": 0, "max": 0}

    class SlowModel(FakeChatModel):
        async def complete(self, messages, **kwargs):  # type: ignore[override]
            running["now"] += 1
            running["max"] = max(running["max"], running["now"])
            await asyncio.sleep(0.01 * (len(self.calls) % 3))
            try:
                return await super().complete(messages, **kwargs)
            finally:
                running["now"] -= 1

    model = SlowModel()
    rows = [{"id": i, "review": f"review {i}"} for i in range(10)]
    result = await run_flow(batch_flow(rows, column_name="review", system_message="Classify.", enable_metadata=True), model_factory=lambda c: model)
    out = value(result, "BatchRunComponent-b").rows
    assert [r["model_response"] for r in out] == [f"Echo: review {i}" for i in range(10)]
    assert [r["batch_index"] for r in out] == list(range(10)) and out[3]["id"] == 3
    assert out[0]["metadata"] == {"has_system_message": True, "input_length": 0, "response_length": len("Echo: review 0"), "processing_status": "success"}
    assert all(call["messages"][0].content == "Classify." for call in model.calls)
    assert 1 < running["max"] <= llm_ops.BATCH_CONCURRENCY


async def test_batch_run_without_a_column_sends_the_row_as_toml_and_checks_the_column() -> None:
    model = FakeChatModel()
    result = await run_flow(batch_flow([{"a": 1, "b c": "x\"y"}, {"a": 2, "b c": ""}], output_column_name="answer"), model_factory=lambda c: model)
    row = value(result, "BatchRunComponent-b").rows[0]
    assert model.calls[0]["messages"][-1].content == '[a]\nvalue = "1"\n\n["b c"]\nvalue = "x\\"y"\n\n'
    assert row["answer"].startswith("Echo: [a]")
    from flowless_engine.errors import ComponentError

    with pytest.raises(ComponentError, match="Column 'nope' not found"):
        await run_flow(batch_flow([{"a": 1}, {"a": 2}], column_name="nope"), model_factory=lambda c: model)


def router_flow(enable_else: bool = False) -> dict[str, Any]:
    router = node("SmartRouter-r", "SmartRouter", {"model": MODEL, "enable_else_output": enable_else,
                                                   "routes": [{"route_category": "Positive", "route_description": "praise", "output_value": ""},
                                                              {"route_category": "Negative", "route_description": "complaints", "output_value": "Sorry to hear that"}]})
    outputs = [{"name": "category_1_result", "method": "process_case", "types": ["Message"]},
               {"name": "category_2_result", "method": "process_case", "types": ["Message"]}]
    if enable_else:
        outputs.append({"name": "default_result", "method": "default_response", "types": ["Message"]})
    router["data"]["node"]["outputs"] = outputs
    nodes = [node("ChatInput-c", "ChatInput"), router, node("ChatOutput-pos", "ChatOutput"), node("ChatOutput-neg", "ChatOutput")]
    edges = [edge("ChatInput-c", "message", "SmartRouter-r", "input_text"),
             edge("SmartRouter-r", "category_1_result", "ChatOutput-pos", "input_value"),
             edge("SmartRouter-r", "category_2_result", "ChatOutput-neg", "input_value")]
    if enable_else:
        nodes.append(node("ChatOutput-else", "ChatOutput"))
        edges.append(edge("SmartRouter-r", "default_result", "ChatOutput-else", "input_value"))
    return flow("router", nodes, edges)


async def test_smart_router_runs_only_the_chosen_branch() -> None:
    model = FakeChatModel(["Negative"])
    result = await run_flow(router_flow(), "the app crashes", model_factory=lambda c: model)
    assert value(result, "ChatOutput-neg").text == "Sorry to hear that"
    assert "ChatOutput-pos" not in result.all_results
    prompt = model.calls[0]["messages"][0].content
    assert 'Text to classify: "the app crashes"' in prompt and '- "Positive": praise' in prompt and len(model.calls) == 1
    model = FakeChatModel(['"positive"'])
    result = await run_flow(router_flow(), "great app", model_factory=lambda c: model)
    assert value(result, "ChatOutput-pos").text == "great app" and "ChatOutput-neg" not in result.all_results


async def test_smart_router_else_branch() -> None:
    model = FakeChatModel([ChatResult(text="NONE")])
    result = await run_flow(router_flow(enable_else=True), "what time is it", model_factory=lambda c: model)
    assert value(result, "ChatOutput-else").text == "what time is it"
    assert "ChatOutput-pos" not in result.all_results and "ChatOutput-neg" not in result.all_results
