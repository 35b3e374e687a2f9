"""The resumable build API (flowless_engine.runtime.build): plans, steps with JSON checkpoints
between them, values restored exactly, non-data outputs re-built, same results as run_graph."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from flowless_engine.errors import ComponentError
from flowless_engine.graph.loader import load_graph
from flowless_engine.runtime.build import (
    announce,
    checkpoint_results,
    from_checkpoint,
    new_checkpoint,
    plan_build,
    prepare_build,
    run_layer,
    to_checkpoint,
    NotCheckpointable,
)
from flowless_engine.runtime.context import RunContext
from flowless_engine.runtime.request import RunRequest
from flowless_engine.runtime.services import InMemoryMessageStore, ListEventSink
from flowless_engine.schema import Data, DataFrame, Message, Usage
from flowless_engine.components.base import Component, Input, Output
from tests.support.engine_kit import (
    FakeChatModel, FakeModels, chat_flow, component_node, edge, event_names, field, flow, llm_flow, raw_node, register_components, run,
)

MODEL = [{"name": "gpt-4o-mini", "provider": "OpenAI"}]


class Built:
    def __init__(self, plan: Any, checkpoints: list[dict[str, Any]], events: list[dict[str, Any]], store: InMemoryMessageStore, models: FakeModels) -> None:
        self.plan, self.checkpoints, self.events, self.store, self.models = plan, checkpoints, events, store, models

    @property
    def checkpoint(self) -> dict[str, Any]:
        return self.checkpoints[-1]

    def value(self, vertex_id: str, output: str) -> Any:
        return from_checkpoint(self.checkpoint["vertices"][vertex_id]["outputs"][output])


async def build(source: dict[str, Any], input_value: str | None = "hi", *, model: FakeChatModel | None = None, **request: Any) -> Built:
    """Every step in a fresh context (as separate Lambda invocations), the checkpoint through JSON."""
    graph = load_graph(source)
    run_request = RunRequest(input_value=input_value, **request)
    models = FakeModels(model)
    sink, store = ListEventSink(), InMemoryMessageStore()

    def context() -> RunContext:
        return RunContext(flow_id=graph.flow_id, session_id="", flow_name=graph.flow_name, run_id="job-1", events=sink, messages=store, model_factory=models)

    ctx = context()
    prepared = prepare_build(graph, run_request, ctx)
    plan = plan_build(prepared, run_request)
    announce(plan, ctx)
    checkpoint = new_checkpoint()
    checkpoints = []
    for step in plan.steps:
        checkpoint = json.loads(json.dumps(await run_layer(prepared, run_request, context(), step, checkpoint)))
        checkpoints.append(checkpoint)
    return Built(plan, checkpoints, sink.events, store, models)


async def test_steps_give_the_same_answer_and_events_as_run_graph():
    built = await build(llm_flow(model=MODEL), "hello")
    ran = await run(llm_flow(model=MODEL), "hello")
    assert built.plan.layers == [["ChatInput-1"], ["LanguageModelComponent-1"], ["ChatOutput-1"]]
    assert built.plan.steps == built.plan.layers
    answer = built.value("ChatOutput-1", "message")
    assert isinstance(answer, Message) and answer.text == ran.text() == "Echo: hello"
    assert answer.usage == Usage(1, 2, 3)
    assert event_names(built.events) == event_names(ran.events)[:-1]  # run_graph adds its `end`
    assert [m.text for m in built.store.messages] == ["hello", "Echo: hello"]
    assert built.checkpoint["usage"] == {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3}
    assert set(built.checkpoint["vertices"]) == {"ChatInput-1", "LanguageModelComponent-1", "ChatOutput-1"}
    assert built.checkpoint["build_duration"] > 0


async def test_a_streaming_model_shares_a_step_with_its_consumer_and_streams_tokens():
    built = await build(llm_flow(model=MODEL, stream=True), "one two three")
    assert built.plan.steps == [["ChatInput-1"], ["LanguageModelComponent-1", "ChatOutput-1"]]
    tokens = [e["data"]["chunk"] for e in built.events if e["event"] == "token"]
    assert "".join(tokens) == "Echo: one two three" and len(tokens) > 1
    assert built.value("ChatOutput-1", "message").text == "Echo: one two three"
    assert built.value("LanguageModelComponent-1", "text_output").text == "Echo: one two three"  # resolved before the checkpoint


async def test_start_and_stop_component_ids_shape_the_plan():
    exported = llm_flow(model=MODEL)
    graph = load_graph(exported)
    assert plan_build(graph, RunRequest(stop_component_id="LanguageModelComponent-1")).to_run == ["ChatInput-1", "LanguageModelComponent-1"]
    assert plan_build(graph, RunRequest(start_component_id="ChatOutput-1")).layers == [["ChatInput-1"], ["LanguageModelComponent-1"], ["ChatOutput-1"]]
    built = await build(exported, "x", stop_component_id="LanguageModelComponent-1")
    assert "ChatOutput-1" not in built.checkpoint["vertices"]


async def test_a_model_config_is_rebuilt_not_stored():
    """LanguageModel → Agent: the wired ModelConfig (with its API key) never enters the checkpoint."""
    exported = flow(
        [
            component_node("ChatInput-1", "ChatInput"),
            component_node("LanguageModelComponent-1", "LanguageModelComponent", model=MODEL, api_key="sk-secret"),
            component_node("Agent-1", "Agent", model=MODEL, add_current_date_tool=False),
            component_node("ChatOutput-1", "ChatOutput"),
        ],
        [
            edge("ChatInput-1", "message", "Agent-1", "input_value"),
            edge("LanguageModelComponent-1", "model_output", "Agent-1", "model", output_types=("LanguageModel",), input_types=("LanguageModel",)),
            edge("Agent-1", "response", "ChatOutput-1", "input_value"),
        ],
    )
    built = await build(exported, "hi agent")
    entry = built.checkpoints[0]["vertices"]["LanguageModelComponent-1"]
    assert entry["rebuild"] == ["model_output"] and entry["outputs"] == {}
    assert "sk-secret" not in json.dumps(built.checkpoints)
    assert built.value("ChatOutput-1", "message").text == "Echo: hi agent"
    assert [c.api_key for c in built.models.configs] == ["sk-secret"]  # the agent's model, from the rebuilt config


async def test_inactive_branches_stay_skipped_across_steps():
    exported = chat_flow(
        component_node("ConditionalRouter-1", "ConditionalRouter", match_text="yes", operator="equals"),
        component_node("ChatOutput-2", "ChatOutput"),
        edges=[
            edge("ChatInput-1", "message", "ConditionalRouter-1", "input_text"),
            edge("ConditionalRouter-1", "true_result", "ChatOutput-1", "input_value"),
            edge("ConditionalRouter-1", "false_result", "ChatOutput-2", "input_value"),
        ],
    )
    built = await build(exported, "no")
    assert built.checkpoint["vertices"]["ConditionalRouter-1"]["inactive_outputs"] == ["true_result"]
    assert built.checkpoint["skipped"] == ["ChatOutput-1"]
    assert built.value("ChatOutput-2", "message").text == "no"


class Boom(Component):
    type_name = "TestBoom"
    inputs = (Input("x", input_types=("Message",)),)
    outputs = (Output("out", "build"),)

    async def build(self) -> Message:
        raise RuntimeError("kaput")


async def test_a_failing_vertex_raises_after_its_failed_end_vertex(monkeypatch):
    register_components(monkeypatch, Boom)
    exported = chat_flow(
        raw_node("TestBoom-1", "TestBoom", {"x": field("x", input_types=["Message"])}),
        edges=[edge("ChatInput-1", "message", "TestBoom-1", "x"), edge("TestBoom-1", "out", "ChatOutput-1", "input_value")],
    )
    graph = load_graph(exported)
    request = RunRequest(input_value="hi")
    sink = ListEventSink()
    ctx = RunContext(flow_id=graph.flow_id, session_id="", events=sink)
    plan = plan_build(prepare_build(graph, request), request)
    assert plan.steps == [["ChatInput-1"], ["TestBoom-1"], ["ChatOutput-1"]]
    first = await run_layer(graph, request, ctx, plan.steps[0], new_checkpoint())
    with pytest.raises(ComponentError, match="kaput"):
        await run_layer(graph, request, ctx, plan.steps[1], first)
    failed = [e["data"]["build_data"] for e in sink.events if e["event"] == "end_vertex" and not e["data"]["build_data"]["valid"]]
    assert [b["id"] for b in failed] == ["TestBoom-1"]
    assert failed[0]["data"]["outputs"]["out"]["type"] == "error"


async def test_a_replayed_step_builds_nothing_twice():
    exported = llm_flow(model=MODEL)
    graph = load_graph(exported)
    request = RunRequest(input_value="hi")
    model = FakeModels()
    ctx = RunContext(flow_id=graph.flow_id, session_id="", events=ListEventSink(), model_factory=model)
    plan = plan_build(prepare_build(graph, request), request)
    done = new_checkpoint()
    for step in plan.steps:
        done = await run_layer(graph, request, ctx, step, done)
    again = await run_layer(graph, request, ctx, plan.steps[1], done)
    assert again == done and len(model.model.calls) == 1


def test_values_round_trip_through_json():
    message = Message(text="hi", sender="User", sender_name="User", session_id="s", files=["a.png"], properties={"source": {"id": "x"}},
                      content_blocks=[{"title": "t"}], usage=Usage(1, 2, 3), session_metadata={"k": 1})
    value = {"message": message, "data": Data({"text": "t", "n": [1, 2.5, None]}), "frame": DataFrame([{"a": 1}]),
             "nested": [{"$type": "sneaky"}, (1, 2)], "inf": math.inf}
    restored = from_checkpoint(json.loads(json.dumps(to_checkpoint(value))))
    assert restored["message"] == message
    assert restored["data"] == value["data"] and restored["frame"] == value["frame"]
    assert restored["nested"] == [{"$type": "sneaky"}, [1, 2]] and restored["inf"] == math.inf


def test_non_data_values_are_refused():
    from flowless_engine.llm.base import ModelConfig

    for value in (ModelConfig("OpenAI", "gpt", api_key="k"), {1: "x"}, object()):
        with pytest.raises(NotCheckpointable):
            to_checkpoint(value)


async def test_checkpoint_results_restore_vertex_results():
    built = await build(llm_flow(model=MODEL), "hello")
    results = checkpoint_results(load_graph(llm_flow(model=MODEL)), built.checkpoint)
    assert list(results) == ["ChatInput-1", "LanguageModelComponent-1", "ChatOutput-1"]
    assert results["ChatOutput-1"].result_data()["results"]["message"]["text"] == "Echo: hello"


async def test_tools_are_rebuilt_for_the_agent_of_a_later_step():
    from tests.support.engine_kit import tool_call

    from tests.support.engine_kit import output

    calculator = component_node("CalculatorComponent-1", "CalculatorComponent")
    calculator["data"]["node"]["outputs"] = [output("component_as_tool", ("Tool",), "to_toolkit")]  # tool mode
    exported = flow(
        [
            component_node("ChatInput-1", "ChatInput"),
            calculator,
            component_node("Agent-1", "Agent", model=MODEL, add_current_date_tool=False),
            component_node("ChatOutput-1", "ChatOutput"),
        ],
        [
            edge("ChatInput-1", "message", "Agent-1", "input_value"),
            edge("CalculatorComponent-1", "component_as_tool", "Agent-1", "tools", output_types=("Tool",), input_types=("Tool",)),
            edge("Agent-1", "response", "ChatOutput-1", "input_value"),
        ],
    )
    model = FakeChatModel([tool_call("evaluate_expression", {"expression": "6 * 7"}), "It is 42."])
    built = await build(exported, "6 * 7?", model=model)
    assert built.checkpoints[0]["vertices"]["CalculatorComponent-1"]["rebuild"] == ["component_as_tool"]
    assert [t.name for t in model.calls[0]["tools"]] == ["evaluate_expression"]
    assert json.loads([m.content for m in model.calls[1]["messages"] if m.role == "tool"][0]) == {"result": "42"}
    assert built.value("ChatOutput-1", "message").text == "It is 42."
