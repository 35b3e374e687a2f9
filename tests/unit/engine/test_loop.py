"""Loop: items out one by one through the body (a Parser and a model), results gathered on
`done` in Langflow's shape; the body's other inputs are built per iteration; nested loops;
the iteration bound; the Research Translation Loop starter's wiring."""

from __future__ import annotations

import json
from typing import Any

import pytest

from flowless_engine.errors import LimitExceededError
from flowless_engine.schema import DataFrame
from flowless_engine.settings import EngineSettings
from tests.support.component_runs import run_flow, value
from tests.support.engine_kit import FakeChatModel
from tests.support.flows import edge, flow, node


def feedback(source: str, output: str, loop: str) -> dict[str, Any]:
    """An edge into the loop's `item` output handle (how Langflow exports the loop back-edge)."""
    e = edge(source, output, loop, "item")
    handle = {"dataType": "LoopComponent", "id": loop, "name": "item", "output_types": ["Data", "Message"]}
    e["data"]["targetHandle"] = handle
    e["targetHandle"] = json.dumps(handle, separators=(",", ":")).replace('"', "œ")
    return e


def loop_flow(rows: int) -> dict[str, Any]:
    items = json.dumps([{"n": i, "name": f"item-{i}"} for i in range(rows)])
    nodes = [
        node("TextInput-src", "TextInput", {"input_value": items}),
        node("ParseJSONData-p", "ParseJSONData", {"query": ".[]"}),
        node("LoopComponent-L", "LoopComponent"),
        node("ParserComponent-b1", "ParserComponent", {"pattern": "Row {n}: {name}"}),
        node("TextInput-sys", "TextInput", {"input_value": "Be brief."}),
        node("LanguageModelComponent-m", "LanguageModelComponent", {"model": [{"name": "gpt-4o-mini", "provider": "OpenAI"}]}),
        node("ChatOutput-out", "ChatOutput"),
    ]
    edges = [
        edge("TextInput-src", "text", "ParseJSONData-p", "input_value"),
        edge("ParseJSONData-p", "filtered_data", "LoopComponent-L", "data", output_types=["JSON"]),
        edge("LoopComponent-L", "item", "ParserComponent-b1", "input_data", output_types=["Data"]),
        edge("ParserComponent-b1", "parsed_text", "LanguageModelComponent-m", "input_value"),
        edge("TextInput-sys", "text", "LanguageModelComponent-m", "system_message"),
        feedback("LanguageModelComponent-m", "text_output", "LoopComponent-L"),
        edge("LoopComponent-L", "done", "ChatOutput-out", "input_value", output_types=["DataFrame", "Table"]),
    ]
    return flow("loop", nodes, edges)


async def test_loop_over_fifty_rows_gathers_every_result_on_done() -> None:
    model = FakeChatModel()
    result = await run_flow(loop_flow(50), model_factory=lambda config: model)
    done = value(result, "LoopComponent-L", "done")
    assert isinstance(done, DataFrame) and len(done.rows) == 50
    assert [row["text"] for row in done.rows[:3]] == ["Echo: Row 0: item-0", "Echo: Row 1: item-1", "Echo: Row 2: item-2"]
    assert done.rows[49]["text"] == "Echo: Row 49: item-49"
    # Langflow's row for a Message fed back: the message's data fields.
    assert {"text", "sender", "sender_name", "session_id", "timestamp"} <= set(done.rows[0])
    assert len(model.calls) == 50
    assert model.calls[7]["messages"][0].content == "Be brief."  # the body's other input, every time
    item = value(result, "LoopComponent-L", "item")
    assert item.data["count"] == 50 and item.data["items"][3] == {"n": 3, "name": "item-3"}
    out = value(result, "ChatOutput-out")
    assert "Echo: Row 49: item-49" in out.text
    # The body's vertices ran inside the loop, never again after it.
    assert value(result, "ParserComponent-b1").text == "Row 49: item-49"


async def test_loop_past_its_bound_stops_with_a_clear_error() -> None:
    model = FakeChatModel()
    with pytest.raises(LimitExceededError, match="has 12 items; the limit is 10 iterations"):
        await run_flow(loop_flow(12), settings=EngineSettings(allow_loopback=True, max_loop_iterations=10), model_factory=lambda c: model)
    assert model.calls == []


async def test_empty_input_and_message_input() -> None:
    model = FakeChatModel()
    result = await run_flow(loop_flow(0), model_factory=lambda config: model)
    assert value(result, "LoopComponent-L", "done").rows == [] and model.calls == []


async def test_nested_loops() -> None:
    outer_items = json.dumps([{"group": g, "members": [f"{g}{i}" for i in range(3)]} for g in "ab"])
    nodes = [
        node("TextInput-src", "TextInput", {"input_value": outer_items}),
        node("ParseJSONData-p", "ParseJSONData", {"query": ".[]"}),
        node("LoopComponent-outer", "LoopComponent"),
        node("ParseJSONData-members", "ParseJSONData", {"query": ".members[] | {text: .}"}),
        node("LoopComponent-inner", "LoopComponent"),
        node("ParserComponent-up", "ParserComponent", {"pattern": "<{text}>"}),
        node("ParserComponent-join", "ParserComponent", {"pattern": "{text}", "sep": ","}),
        node("ChatOutput-o", "ChatOutput"),
    ]
    edges = [
        edge("TextInput-src", "text", "ParseJSONData-p", "input_value"),
        edge("ParseJSONData-p", "filtered_data", "LoopComponent-outer", "data"),
        edge("LoopComponent-outer", "item", "ParseJSONData-members", "input_value"),
        edge("ParseJSONData-members", "filtered_data", "LoopComponent-inner", "data"),
        edge("LoopComponent-inner", "item", "ParserComponent-up", "input_data"),
        feedback("ParserComponent-up", "parsed_text", "LoopComponent-inner"),
        edge("LoopComponent-inner", "done", "ParserComponent-join", "input_data"),
        feedback("ParserComponent-join", "parsed_text", "LoopComponent-outer"),
        edge("LoopComponent-outer", "done", "ChatOutput-o", "input_value"),
    ]
    result = await run_flow(flow("nested", nodes, edges))
    done = value(result, "LoopComponent-outer", "done")
    assert [row["text"] for row in done.rows] == ["<a0>,<a1>,<a2>", "<b0>,<b1>,<b2>"]


async def test_listen_runs_after_notify_of_its_key() -> None:
    # Listen comes first in the export and has no input: it still waits for Notify.
    nodes = [node("Listen-l", "Listen", {"context_key": "topic"}), node("ChatInput-c", "ChatInput"),
             node("Notify-n", "Notify", {"context_key": "topic"}), node("Notify-a1", "Notify", {"context_key": "log", "append": True}),
             node("Notify-a2", "Notify", {"context_key": "log", "append": True}), node("Listen-log", "Listen", {"context_key": "log"})]
    edges = [edge("ChatInput-c", "message", "Notify-n", "input_value"), edge("Notify-n", "result", "Notify-a1", "input_value"),
             edge("Notify-a1", "result", "Notify-a2", "input_value")]
    result = await run_flow(flow("state", nodes, edges), "hello")
    assert value(result, "Listen-l").data == {"text": "hello"}
    assert [d.data for d in value(result, "Listen-log")] == [{"text": "hello"}, {"text": "hello"}]
    missing = await run_flow(flow("s", [node("Listen-l", "Listen", {"context_key": "nobody"})], []))
    assert value(missing, "Listen-l").data == {"text": ""}


async def test_a_loop_in_a_resumable_build_runs_its_body_once_per_item() -> None:
    from tests.unit.test_build_checkpoint import build

    model = FakeChatModel()
    built = await build(loop_flow(4), None, model=model)
    done = built.value("LoopComponent-L", "done")
    assert [row["text"] for row in done.rows] == [f"Echo: Row {i}: item-{i}" for i in range(4)]
    assert len(model.calls) == 4  # the body never runs again in a later step
    assert "Echo: Row 3: item-3" in built.value("ChatOutput-out", "message").text
