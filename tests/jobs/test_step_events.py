"""The worker's step-level pieces: events kept per vertex in plan order, tokens coalesced,
deterministic message ids, errors of the state machine's Catch turned into text."""

from __future__ import annotations

import asyncio
import json

from flowless.jobs.worker import StepEvents, _caught_error_text, _replace, error_event
from flowless_engine.runtime.run import current_vertex


async def emit_as(vertex: str | None, sink: StepEvents, *events: tuple[str, dict]) -> None:
    async def task() -> None:
        current_vertex.set(vertex)
        for name, data in events:
            sink.emit(name, data)
            await asyncio.sleep(0)

    await asyncio.create_task(task())


async def test_events_are_grouped_per_vertex_in_plan_order() -> None:
    sink = StepEvents(window_ms=50)
    await asyncio.gather(
        emit_as("B", sink, ("end_vertex", {"id": "B"})),
        emit_as("A", sink, ("add_message", {"id": "m"}), ("end_vertex", {"id": "A"})),
    )
    sink.emit("vertices_sorted", {})  # outside any vertex: first
    assert sink.ordered({"A": 0, "B": 1}) == [("vertices_sorted", {}), ("add_message", {"id": "m"}), ("end_vertex", {"id": "A"}), ("end_vertex", {"id": "B"})]


async def test_consecutive_tokens_of_a_message_are_coalesced_within_the_window() -> None:
    sink = StepEvents(window_ms=10_000)
    await emit_as("C", sink, ("token", {"chunk": "Hel", "id": "m1"}), ("token", {"chunk": "lo", "id": "m1"}),
                  ("token", {"chunk": "!", "id": "m2"}), ("add_message", {"id": "m1"}), ("token", {"chunk": "x", "id": "m1"}))
    assert sink.ordered({}) == [("token", {"chunk": "Hello", "id": "m1"}), ("token", {"chunk": "!", "id": "m2"}),
                                ("add_message", {"id": "m1"}), ("token", {"chunk": "x", "id": "m1"})]
    separate = StepEvents(window_ms=0)
    await emit_as("C", separate, ("token", {"chunk": "a", "id": "m"}), ("token", {"chunk": "b", "id": "m"}))
    assert len(separate.ordered({})) == 2


def test_message_ids_are_replaced_everywhere() -> None:
    value = {"events": [("token", {"id": "old"})], "data": {"id": "old", "text": "old but not an id"}}
    assert _replace(value, {"old": "new"}) == {"events": [("token", {"id": "new"})], "data": {"id": "new", "text": "old but not an id"}}


def test_caught_errors_become_text() -> None:
    cause = json.dumps({"errorType": "MemoryError", "errorMessage": "out of memory"})
    assert _caught_error_text({"Error": "MemoryError", "Cause": cause}) == "MemoryError: out of memory"
    assert _caught_error_text({"Error": "States.Timeout", "Cause": ""}) == "The build did not finish in time"
    assert _caught_error_text({"Error": "Lambda.Unknown", "Cause": "not json"}) == "Lambda.Unknown: not json"


def test_error_events_have_langflows_error_message_shape() -> None:
    event = error_event("boom", flow_id="f", session_id="s", component="Calculator")
    assert (event["text"], event["category"], event["error"], event["session_id"]) == ("boom", "error", True, "s")
    assert event["properties"]["icon"] == "error" and event["properties"]["source"]["display_name"] == "Calculator"
    block = event["content_blocks"][0]
    assert block["title"] == "Error" and block["contents"][0] == {"type": "error", "component": "Calculator", "field": None,
                                                                   "reason": "boom", "solution": None, "traceback": None}
