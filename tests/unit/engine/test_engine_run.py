"""run_graph: input injection, output selection, sessions, frozen vertices, concurrency,
inactive branches, events, token usage, failures and limits."""

from __future__ import annotations

import asyncio
import json
from typing import Any, ClassVar

import pytest

from flowless_engine.components.base import Component, Input, Output, to_text
from flowless_engine.errors import (
    ComponentError,
    ConfigurationError,
    InvalidFlowError,
    LimitExceededError,
    UnsupportedComponentsError,
)
from flowless_engine.graph.loader import load_graph
from flowless_engine.runtime.request import RunRequest
from flowless_engine.runtime.run import run_graph
from flowless_engine.schema import Message
from flowless_engine.settings import EngineSettings
from tests.support.engine_kit import (
    FakeChatModel,
    chat_flow,
    component_node,
    edge,
    event_names,
    flow,
    llm_flow,
    raw_node,
    register_components,
    run,
)

@pytest.fixture
def register(monkeypatch: pytest.MonkeyPatch):
    """Registers test-only component classes in the registry dict for one test."""
    return lambda *classes: register_components(monkeypatch, *classes)


class Echo(Component):
    """Appends its suffix to its input; counts builds."""

    type_name = "TestEcho"
    inputs = (Input("x", input_types=("Message",)), Input("suffix", value="!"))
    outputs = (Output("out", "build"),)
    builds: ClassVar[list[str]] = []

    async def build(self) -> Message:
        Echo.builds.append(self.id)
        return Message(text=to_text(self.params.get("x")) + to_text(self.param("suffix")))


class Router(Component):
    """Sends its input down `true_result` or `false_result`, stopping the other branch."""

    type_name = "TestRouter"
    inputs = (Input("x", input_types=("Message",)), Input("choice", "bool", value=True, type="bool"))
    outputs = (Output("true_result", "yes"), Output("false_result", "no"))

    async def yes(self) -> Message:
        if not self.param("choice"):
            self.stop("true_result")
        return Message(text=to_text(self.params.get("x")))

    async def no(self) -> Message:
        if self.param("choice"):
            self.stop("false_result")
        return Message(text=to_text(self.params.get("x")))


class Handshake(Component):
    """Completes only if its partner runs at the same time: each sets its own event and
    waits for the other's. Run one after the other, the first would time out."""

    type_name = "TestHandshake"
    inputs = (Input("me"), Input("partner"))
    outputs = (Output("out", "build"),)
    events: ClassVar[dict[str, asyncio.Event]] = {}

    async def build(self) -> Message:
        mine = self.events.setdefault(self.param("me"), asyncio.Event())
        theirs = self.events.setdefault(self.param("partner"), asyncio.Event())
        mine.set()
        await asyncio.wait_for(theirs.wait(), timeout=2)
        return Message(text=f"{self.param('me')} met {self.param('partner')}")


class Boom(Component):
    type_name = "TestBoom"
    inputs = (Input("x", input_types=("Message",)), Input("kind", value="bug"))
    outputs = (Output("out", "build"),)

    async def build(self) -> Message:
        kind = self.param("kind")
        if kind == "config":
            raise ConfigurationError("no credentials")
        if kind == "component":
            raise ComponentError(self.id, self.name, "gave up")
        raise RuntimeError("kaput")


@pytest.fixture(autouse=True)
def _reset_test_components() -> None:
    Echo.builds.clear()
    Handshake.events.clear()


# ---- input injection -----------------------------------------------------------------------


def two_inputs_flow() -> dict[str, Any]:
    nodes = [
        component_node("ChatInput-1", "ChatInput", input_value="stored chat"),
        component_node("TextInput-1", "TextInput", input_value="stored text"),
        component_node("ChatOutput-1", "ChatOutput"),
        component_node("TextOutput-1", "TextOutput"),
    ]
    edges = [edge("ChatInput-1", "message", "ChatOutput-1", "input_value"), edge("TextInput-1", "text", "TextOutput-1", "input_value")]
    return flow(nodes, edges)


def texts(ran) -> dict[str, str]:
    return {vid: r.values[next(iter(r.values))].plain_text for vid, r in ran.result.all_results.items() if vid.endswith("Output-1")}


@pytest.mark.parametrize(
    "input_type, expected",
    [
        ("chat", {"ChatOutput-1": "new", "TextOutput-1": "stored text"}),
        ("text", {"ChatOutput-1": "stored chat", "TextOutput-1": "new"}),
        ("any", {"ChatOutput-1": "new", "TextOutput-1": "new"}),
        ("bogus", {"ChatOutput-1": "new", "TextOutput-1": "stored text"}),  # unknown types mean chat
    ],
)
async def test_input_type_selects_the_input_vertices(input_type: str, expected: dict[str, str]) -> None:
    ran = await run(two_inputs_flow(), "new", input_type=input_type, output_type="any")
    assert texts(ran) == expected


async def test_no_matching_input_uses_the_stored_value() -> None:
    ran = await run(chat_flow(), "new", input_type="text")
    assert ran.text() == "stored hello"


async def test_no_input_value_uses_the_stored_value_and_empty_inputs() -> None:
    ran = await run(chat_flow())
    assert ran.text() == "stored hello"
    assert ran.response["outputs"][0]["inputs"] == {}
    ran = await run(chat_flow(), "")
    assert ran.response["outputs"][0]["inputs"] == {"input_value": ""}


async def test_input_components_restrict_injection() -> None:
    flow_dict = two_inputs_flow()
    ran = await run(flow_dict, "new", input_type="any", output_type="any", input_components=["Text Input"])
    assert texts(ran) == {"ChatOutput-1": "stored chat", "TextOutput-1": "new"}


async def test_request_files_reach_the_chat_input() -> None:
    ran = await run(chat_flow(), "look", files=["a/b.png"])
    assert ran.vertex("ChatInput-1").values["message"].files == ["a/b.png"]


# ---- output selection ----------------------------------------------------------------------


def selected(ran) -> list[str]:
    return [o["component_id"] for o in ran.outputs]


@pytest.mark.parametrize(
    "request_args, expected",
    [
        ({"output_type": "chat"}, ["ChatOutput-1"]),
        ({"output_type": "text"}, ["TextOutput-1"]),
        ({"output_type": "any"}, ["ChatOutput-1", "TextOutput-1"]),
        ({"output_type": "debug"}, ["ChatInput-1", "TextInput-1", "ChatOutput-1", "TextOutput-1"]),
        ({"output_component": "TextOutput-1"}, ["TextOutput-1"]),
        ({"output_component": "Chat Output"}, ["ChatOutput-1"]),  # by display name
        ({"output_component": "ChatInput-1", "output_type": "text"}, ["ChatInput-1"]),  # wins over output_type
        ({"output_component": "Nope-1"}, ["ChatOutput-1", "TextOutput-1"]),  # nothing matches: all outputs
        ({"outputs": ["TextOutput-1", "Chat Input"]}, ["ChatInput-1", "TextOutput-1"]),  # advanced: graph order
    ],
)
async def test_output_selection(request_args: dict[str, Any], expected: list[str]) -> None:
    ran = await run(two_inputs_flow(), "hi", **request_args)
    assert selected(ran) == expected


async def test_all_outputs_fallback_when_the_type_matches_no_output_id() -> None:
    nodes = [component_node("TextInput-1", "TextInput", input_value="x"), component_node("TextOutput-1", "TextOutput")]
    ran = await run(flow(nodes, [edge("TextInput-1", "text", "TextOutput-1", "input_value")]), output_type="chat")
    assert selected(ran) == ["TextOutput-1"]


async def test_output_type_matches_the_lower_cased_vertex_id() -> None:
    # both are chat outputs by type, but only one id contains "chat"
    nodes = [component_node("Display-1", "ChatOutput", input_value="a"), component_node("ChatOutput-1", "ChatOutput", input_value="b")]
    ran = await run(flow(nodes), output_type="chat")
    assert selected(ran) == ["ChatOutput-1"]
    ran = await run(flow(nodes), output_type="any")
    assert selected(ran) == ["Display-1", "ChatOutput-1"]


async def test_only_built_vertices_are_returned(register) -> None:
    register(Router)
    nodes = [
        component_node("ChatInput-1", "ChatInput"),
        component_node("Router-1", "TestRouter", choice=True),
        component_node("ChatOutput-yes", "ChatOutput"),
        component_node("ChatOutput-no", "ChatOutput"),
    ]
    edges = [
        edge("ChatInput-1", "message", "Router-1", "x"),
        edge("Router-1", "true_result", "ChatOutput-yes", "input_value"),
        edge("Router-1", "false_result", "ChatOutput-no", "input_value"),
    ]
    ran = await run(flow(nodes, edges), "hi")
    assert selected(ran) == ["ChatOutput-yes"]


# ---- sessions --------------------------------------------------------------------------------


async def test_session_defaults_to_the_flow_id() -> None:
    ran = await run(chat_flow(flow_id="the-flow"), "hi")
    assert ran.response["session_id"] == "the-flow"
    assert {m.session_id for m in ran.ctx.messages.messages} == {"the-flow"}
    assert ran.outputs[0]["results"]["message"]["session_id"] == "the-flow"


async def test_a_session_id_overrides_every_session_id_field() -> None:
    exported = chat_flow()
    for node in exported["data"]["nodes"]:
        node["data"]["node"]["template"]["session_id"]["value"] = "stored-session"
    ran = await run(exported, "hi", session_id="s-1")
    assert ran.response["session_id"] == "s-1"
    assert [m.session_id for m in ran.ctx.messages.messages] == ["s-1", "s-1"]


async def test_a_wired_session_id_field_keeps_its_edge_value() -> None:
    nodes = [
        component_node("ChatInput-1", "ChatInput"),
        component_node("TextInput-1", "TextInput", input_value="wired-session"),
        component_node("ChatOutput-1", "ChatOutput"),
    ]
    edges = [edge("ChatInput-1", "message", "ChatOutput-1", "input_value"), edge("TextInput-1", "text", "ChatOutput-1", "session_id")]
    ran = await run(flow(nodes, edges), "hi", session_id="s-1")
    assert [m.session_id for m in ran.ctx.messages.messages] == ["s-1", "wired-session"]


# ---- frozen vertices ---------------------------------------------------------------------------


async def test_frozen_vertices_are_built_once_and_reused(register) -> None:
    register(Echo)
    exported = chat_flow(
        component_node("Echo-1", "TestEcho", frozen=True),
        edges=[edge("ChatInput-1", "message", "Echo-1", "x"), edge("Echo-1", "out", "ChatOutput-1", "input_value")],
    )
    graph = load_graph(exported)
    first = await run(graph, "one")
    second = await run(graph, "two", tweaks={"ChatOutput-1": {"sender_name": "Bot"}})  # tweaked copies share the cache
    assert Echo.builds == ["Echo-1"]
    assert first.text() == "one!" and second.text() == "one!"
    assert first.vertex("Echo-1").used_frozen_result is False
    assert second.vertex("Echo-1").used_frozen_result is True
    (echo_end,) = [e for e in second.named("end_vertex") if e["build_data"]["id"] == "Echo-1"]
    assert echo_end["build_data"]["data"]["used_frozen_result"] is True
    debug = await run(graph, "three", output_type="debug")
    assert [o["used_frozen_result"] for o in debug.outputs] == [False, True, False]


async def test_a_fresh_parse_does_not_reuse_frozen_results(register) -> None:
    register(Echo)
    exported = chat_flow(
        component_node("Echo-1", "TestEcho", frozen=True),
        edges=[edge("ChatInput-1", "message", "Echo-1", "x"), edge("Echo-1", "out", "ChatOutput-1", "input_value")],
    )
    await run(exported, "one")
    ran = await run(exported, "two")
    assert ran.text() == "two!" and Echo.builds == ["Echo-1", "Echo-1"]


# ---- scheduling -----------------------------------------------------------------------------


async def test_independent_vertices_of_a_layer_run_concurrently(register) -> None:
    register(Handshake, Echo)
    nodes = [
        component_node("Handshake-a", "TestHandshake", me="a", partner="b"),
        component_node("Handshake-b", "TestHandshake", me="b", partner="a"),
        component_node("Echo-1", "TestEcho"),
    ]
    edges = [edge("Handshake-a", "out", "Echo-1", "x"), edge("Handshake-b", "out", "Echo-1", "suffix")]
    ran = await run(flow(nodes, edges), output_type="debug")
    assert ran.vertex("Echo-1").values["out"].text == "a met bb met a"
    sorted_event = ran.named("vertices_sorted")[0]
    assert sorted_event["ids"] == ["Handshake-a", "Handshake-b"]
    assert sorted_event["to_run"] == ["Handshake-a", "Handshake-b", "Echo-1"]


async def test_a_successor_starts_as_soon_as_its_own_predecessors_are_done(register) -> None:
    """Dynamic scheduling, not layer by layer: Echo-fast (after ChatInput) runs while the
    handshake pair of the same layer is still waiting for it."""
    register(Echo)

    class WaitsForEcho(Component):
        type_name = "TestWaitsForEcho"
        inputs = (Input("x"),)
        outputs = (Output("out", "build"),)

        async def build(self) -> Message:
            for _ in range(200):
                if "Echo-fast" in Echo.builds:
                    return Message(text="saw echo")
                await asyncio.sleep(0.005)
            raise AssertionError("Echo-fast never ran")

    register(WaitsForEcho)
    nodes = [
        component_node("ChatInput-1", "ChatInput"),
        component_node("Slow-1", "TestWaitsForEcho"),
        component_node("Echo-fast", "TestEcho"),
    ]
    ran = await run(flow(nodes, [edge("ChatInput-1", "message", "Echo-fast", "x")]), "hi", output_type="debug")
    assert ran.vertex("Slow-1").values["out"].text == "saw echo"


async def test_inactive_branches_are_skipped(register) -> None:
    register(Router, Echo)
    nodes = [
        component_node("ChatInput-1", "ChatInput"),
        component_node("Router-1", "TestRouter", choice=False),
        component_node("Echo-yes", "TestEcho"),
        component_node("Echo-no", "TestEcho"),
        component_node("Echo-after-yes", "TestEcho"),
        component_node("Echo-join", "TestEcho"),
    ]
    edges = [
        edge("ChatInput-1", "message", "Router-1", "x"),
        edge("Router-1", "true_result", "Echo-yes", "x"),
        edge("Router-1", "false_result", "Echo-no", "x"),
        edge("Echo-yes", "out", "Echo-after-yes", "x"),
        # one active and one inactive input: the join still runs
        edge("Echo-after-yes", "out", "Echo-join", "x"),
        edge("Echo-no", "out", "Echo-join", "suffix"),
    ]
    ran = await run(flow(nodes, edges), "hi", output_type="debug")
    assert sorted(Echo.builds) == ["Echo-join", "Echo-no"]
    assert "Echo-yes" not in ran.result.all_results and "Echo-after-yes" not in ran.result.all_results
    assert ran.vertex("Echo-join").values["out"].text == "hi!"
    (router_end,) = [e for e in ran.named("end_vertex") if e["build_data"]["id"] == "Router-1"]
    assert router_end["build_data"]["inactivated_vertices"] == ["Echo-yes"]


async def test_stop_component_runs_only_its_ancestors() -> None:
    ran = await run(llm_flow(), "hi", stop_component_id="LanguageModelComponent-1", output_type="debug")
    assert set(ran.result.all_results) == {"ChatInput-1", "LanguageModelComponent-1"}


async def test_start_component_runs_what_it_reaches_and_their_ancestors(register) -> None:
    register(Echo)
    nodes = [
        component_node("ChatInput-1", "ChatInput"),
        component_node("Echo-a", "TestEcho"),
        component_node("Echo-b", "TestEcho"),
        component_node("Echo-other", "TestEcho"),
    ]
    edges = [edge("ChatInput-1", "message", "Echo-a", "x"), edge("Echo-a", "out", "Echo-b", "x")]
    ran = await run(flow(nodes, edges), "hi", start_component_id="Echo-a", output_type="debug")
    assert set(ran.result.all_results) == {"ChatInput-1", "Echo-a", "Echo-b"}


async def test_run_graph_without_a_context() -> None:
    result = await run_graph(load_graph(chat_flow(flow_id="f")), RunRequest(input_value="hi"))
    assert result.response()["session_id"] == "f"
    assert result.results[0].values["message"].text == "hi"


# ---- events -----------------------------------------------------------------------------------


async def test_events_of_a_run() -> None:
    ran = await run(llm_flow(), "hi")
    names = event_names(ran.events)
    assert names[:2] == ["vertices_sorted", "build_start"]
    assert names[-1] == "end"
    assert ran.named("build_start")[0] == {}
    assert names.count("end_vertex") == 3
    assert ran.named("vertices_sorted")[0]["ids"] == ["ChatInput-1"]
    ends = {e["build_data"]["id"]: e for e in ran.named("end_vertex")}
    assert list(ends) == ["ChatInput-1", "LanguageModelComponent-1", "ChatOutput-1"]
    llm = ends["LanguageModelComponent-1"]
    assert llm["build_data"]["valid"] is True
    assert llm["build_data"]["next_vertices_ids"] == ["ChatOutput-1"]
    assert llm["output_meta"] == {
        "component_id": "LanguageModelComponent-1",
        "display_name": "Language Model",
        "vertex_type": "LanguageModelComponent",
        "is_output": False,
        "is_terminal": False,
        "output_types": ["LanguageModel", "Message"],
    }
    assert set(llm["build_data"]["data"]) == {
        "results", "outputs", "logs", "message", "artifacts", "timedelta", "duration", "used_frozen_result", "token_usage"
    }
    assert llm["build_data"]["data"]["token_usage"] == {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3}
    assert isinstance(llm["build_data"]["data"]["timedelta"], float)
    assert ends["ChatOutput-1"]["output_meta"]["is_terminal"] is True
    assert ran.named("end")[0] == {"result": ran.response}
    # user message stored by ChatInput, answer by ChatOutput
    assert [m["sender"] for m in ran.named("add_message")] == ["User", "Machine"]


async def test_a_vertex_failure_is_a_component_error_with_an_invalid_end_vertex(register) -> None:
    register(Boom)
    exported = chat_flow(
        component_node("Boom-1", "TestBoom"),
        edges=[edge("ChatInput-1", "message", "Boom-1", "x"), edge("Boom-1", "out", "ChatOutput-1", "input_value")],
    )
    with pytest.raises(ComponentError) as caught:
        await run(exported, "hi")
    assert caught.value.node_id == "Boom-1"
    assert caught.value.to_dict()["node_id"] == "Boom-1"
    assert "kaput" in caught.value.message


@pytest.mark.parametrize("kind, error", [("bug", ComponentError), ("config", ConfigurationError), ("component", ComponentError)])
async def test_every_failure_emits_an_invalid_end_vertex(register, kind: str, error: type[Exception]) -> None:
    register(Boom)
    from flowless_engine.runtime.services import ListEventSink
    from flowless_engine.runtime.context import RunContext

    exported = chat_flow(
        component_node("Boom-1", "TestBoom", kind=kind),
        edges=[edge("ChatInput-1", "message", "Boom-1", "x"), edge("Boom-1", "out", "ChatOutput-1", "input_value")],
    )
    graph = load_graph(exported)
    sink = ListEventSink()
    with pytest.raises(error):
        await run_graph(graph, RunRequest(input_value="hi"), RunContext(flow_id="f", session_id="", events=sink))
    failed = [e["data"]["build_data"] for e in sink.events if e["event"] == "end_vertex" and not e["data"]["build_data"]["valid"]]
    assert [f["id"] for f in failed] == ["Boom-1"]
    assert failed[0]["data"]["outputs"]["out"]["type"] == "error"
    assert failed[0]["data"]["outputs"]["out"]["message"]["errorMessage"]
    assert "end" not in event_names(sink.events)


# ---- token usage --------------------------------------------------------------------------------


async def test_token_usage_per_vertex() -> None:
    ran = await run(llm_flow(), "one two three", output_type="debug")
    by_id = {o["component_id"]: o for o in ran.outputs}
    # the fake model counts words: 3 in, "Echo: one two three" out
    assert by_id["LanguageModelComponent-1"]["token_usage"] == {"input_tokens": 3, "output_tokens": 4, "total_tokens": 7}
    assert by_id["ChatInput-1"]["token_usage"] is None
    assert by_id["ChatOutput-1"]["token_usage"] is None  # output vertices carry none
    assert by_id["ChatOutput-1"]["results"]["message"]["properties"]["usage"] == {"input_tokens": 3, "output_tokens": 4, "total_tokens": 7}


async def test_token_usage_of_a_streamed_answer_arrives_after_the_stream() -> None:
    ran = await run(llm_flow(), "one two three", stream=True, output_type="debug")
    by_id = {o["component_id"]: o for o in ran.outputs}
    assert by_id["LanguageModelComponent-1"]["token_usage"] == {"input_tokens": 3, "output_tokens": 4, "total_tokens": 7}
    assert by_id["ChatOutput-1"]["results"]["message"]["properties"]["usage"]["total_tokens"] == 7


# ---- limits and refusals -----------------------------------------------------------------------


async def test_input_longer_than_the_limit() -> None:
    with pytest.raises(LimitExceededError) as caught:
        await run(chat_flow(), "x" * 101, settings=EngineSettings(max_input_chars=100))
    assert caught.value.code == "LIMIT_EXCEEDED" and "101" in caught.value.message
    ran = await run(chat_flow(), "x" * 100, settings=EngineSettings(max_input_chars=100))
    assert ran.text() == "x" * 100


async def test_a_flow_with_too_many_nodes() -> None:
    nodes = [component_node(f"TextInput-{i}", "TextInput") for i in range(11)]
    with pytest.raises(LimitExceededError):
        await run(flow(nodes), settings=EngineSettings(max_nodes=10))


async def test_a_huge_flow_is_refused_before_any_deep_work() -> None:
    nodes = [raw_node(f"N-{i}", "Unknown") for i in range(3000)]
    edges = [edge(f"N-{i}", "out", f"N-{i + 1}", "x") for i in range(2999)]
    with pytest.raises(LimitExceededError):
        await run(flow(nodes, edges))


async def test_unsupported_components_are_refused_by_a_run() -> None:
    nodes = [component_node("ChatInput-1", "ChatInput"), raw_node("Frobnicator-1", "Frobnicator")]  # a type no component serves
    with pytest.raises(UnsupportedComponentsError):
        await run(flow(nodes), "hi")


async def test_required_fields_emptied_by_a_tweak_are_refused() -> None:
    exported = chat_flow()
    exported["data"]["nodes"][0]["data"]["node"]["template"]["sender"]["required"] = True
    with pytest.raises(InvalidFlowError) as caught:
        await run(exported, "hi", tweaks={"ChatInput-1": {"sender": ""}})
    assert caught.value.problems[0].field == "sender"


# ---- values shared between consumers --------------------------------------------------------


async def test_a_streamed_answer_can_feed_two_consumers() -> None:
    exported = llm_flow()
    exported["data"]["nodes"].append(component_node("ChatOutput-2", "ChatOutput"))
    exported["data"]["edges"].append(edge("LanguageModelComponent-1", "text_output", "ChatOutput-2", "input_value"))
    ran = await run(exported, "hello world", stream=True)
    assert [o["results"]["message"]["text"] for o in ran.outputs] == ["Echo: hello world", "Echo: hello world"]
    assert len(ran.models.model.calls) == 1


async def test_a_model_output_never_leaks_its_api_key() -> None:
    nodes = [
        component_node("ChatInput-1", "ChatInput"),
        component_node("LanguageModelComponent-1", "LanguageModelComponent", api_key="sk-very-secret"),
        component_node("StructuredOutput-1", "StructuredOutput"),
    ]
    edges = [
        edge("ChatInput-1", "message", "StructuredOutput-1", "input_value"),
        edge("LanguageModelComponent-1", "model_output", "StructuredOutput-1", "llm", output_types=("LanguageModel",), input_types=("LanguageModel",)),
    ]
    model = FakeChatModel(['{"objects": [{"a": 1}]}'])
    ran = await run(flow(nodes, edges), "hi", model=model, output_type="debug")
    assert ran.models.configs[0].api_key == "sk-very-secret"
    dumped = json.dumps(ran.events) + json.dumps(ran.response)
    assert "sk-very-secret" not in dumped
    (llm,) = [o for o in ran.outputs if o["component_id"] == "LanguageModelComponent-1"]
    assert "gpt-4o-mini" in json.dumps(llm["results"]["model_output"])
