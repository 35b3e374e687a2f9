"""A loop whose body routes away from the feedback edge stops there (Langflow re-runs a loop only
through that edge): the retry-until-verified pattern real flows use."""

from __future__ import annotations

import json
from typing import Any

from flowless_engine.schema import DataFrame
from tests.support.component_runs import run_flow, value
from tests.support.flows import edge, flow, node
from tests.unit.engine.test_loop import feedback


def retry_flow(rows: int, accept: str) -> dict[str, Any]:
    """Items → Loop → Parser → If-Else (equals `accept`): true → Chat Output, false → back into the loop."""
    items = json.dumps([{"name": f"item-{i}"} for i in range(rows)])
    nodes = [
        node("TextInput-src", "TextInput", {"input_value": items}),
        node("ParseJSONData-p", "ParseJSONData", {"query": ".[]"}),
        node("LoopComponent-L", "LoopComponent"),
        node("ParserComponent-b", "ParserComponent", {"pattern": "{name}"}),
        node("ConditionalRouter-r", "ConditionalRouter", {"match_text": accept, "operator": "equals"}),
        node("ChatOutput-ok", "ChatOutput"),
        node("ChatOutput-done", "ChatOutput"),
    ]
    edges = [
        edge("TextInput-src", "text", "ParseJSONData-p", "input_value"),
        edge("ParseJSONData-p", "filtered_data", "LoopComponent-L", "data", output_types=["JSON"]),
        edge("LoopComponent-L", "item", "ParserComponent-b", "input_data", output_types=["Data"]),
        edge("ParserComponent-b", "parsed_text", "ConditionalRouter-r", "input_text"),
        edge("ConditionalRouter-r", "true_result", "ChatOutput-ok", "input_value"),
        feedback("ConditionalRouter-r", "false_result", "LoopComponent-L"),
        edge("LoopComponent-L", "done", "ChatOutput-done", "input_value", output_types=["DataFrame", "Table"]),
    ]
    return flow("retry", nodes, edges)


async def test_the_loop_stops_when_the_body_takes_the_other_branch() -> None:
    result = await run_flow(retry_flow(1000, accept="item-2"))
    assert value(result, "ChatOutput-ok").text == "item-2"  # the accepted answer flows on
    done = value(result, "LoopComponent-L", "done")
    assert isinstance(done, DataFrame) and [row["text"] for row in done.rows] == ["item-0", "item-1"]
    logs = result.all_results["LoopComponent-L"].logs
    assert any("Stopped at item 3 of 1000" in str(entry["message"]) for entries in logs.values() for entry in entries)


async def test_a_loop_whose_feedback_is_always_taken_runs_every_item() -> None:
    result = await run_flow(retry_flow(5, accept="never"))
    assert len(value(result, "LoopComponent-L", "done").rows) == 5
    assert "ChatOutput-ok" not in result.all_results
