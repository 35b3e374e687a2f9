"""Langflow's starter projects (from the pinned langflow-base wheel, read in place under .cache/):
every one loads; the eight the engine was first written against (once read from ../shared/flows,
the same files) validate as recorded here, the supported ones run end to end against the
OpenAI-compatible test server over real HTTP, the others are refused naming their unsupported
component types and nodes. `make conformance` (tests/conformance/runner.py) runs every corpus."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flowless_engine.api import run_flow_from_json
from flowless_engine.errors import BlockedURLError, InvalidFlowError, UnsupportedComponentsError
from flowless_engine.graph.loader import load_graph
from flowless_engine.graph.validate import validate
from flowless_engine.runtime.services import InMemoryMessageStore, ListEventSink
from flowless_engine.settings import EngineSettings
from tests.support.engine_kit import shared_flow, shared_flow_names
from tests.support.starters import STARTERS, starter_flow, starter_names, starter_path, starters_dir
from tests.support.model_server import ModelServer

UNSUPPORTED = {
}
# Supported, but their Knowledge node names no knowledge base until a tweak does (tests/api/test_knowledge.py).
NEEDS_KNOWLEDGE_BASE = {"Knowledge Retrieval": "Knowledge-Y8gm2", "Vector Store RAG": "Knowledge-vLJOb"}
# Supported, but its Memory Base node names no memory base until a tweak does (as Langflow asks for one).
NEEDS_MEMORY_BASE = {"Memory Chatbot": "MemoryBase-xePih"}
RESULT_DATA_KEYS = {
    "results", "artifacts", "outputs", "logs", "messages", "timedelta", "duration", "component_display_name",
    "component_id", "used_frozen_result", "token_usage",
}
MESSAGE_KEYS = {
    "text_key", "data", "default_value", "text", "sender", "sender_name", "files", "session_id", "context_id",
    "run_id", "timestamp", "flow_id", "error", "edit", "properties", "category", "content_blocks", "duration",
    "session_metadata",
}
PROPERTY_KEYS = {
    "text_color", "background_color", "edited", "source", "icon", "allow_markdown", "positive_feedback", "state",
    "targets", "usage", "build_duration",
}
MESSAGES_ENTRY_KEYS = {"message", "sender", "sender_name", "session_id", "stream_url", "component_id", "files", "type"}


@pytest.fixture(scope="module")
def server() -> Iterator[ModelServer]:
    with ModelServer() as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh(server: ModelServer) -> None:
    server.reset()
    server.chunk_delay_s = 0


def run_shared(name: str, input_value: str | None, server: ModelServer, **kwargs: Any) -> list[Any]:
    return run_flow_from_json(
        starter_path(name),
        input_value,
        variables={"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "test"},
        settings=EngineSettings(allow_loopback=True),
        **kwargs,
    )


def test_the_starters_come_from_the_pinned_wheel_and_are_read_in_place() -> None:
    repo = Path(__file__).resolve().parents[2]
    assert starters_dir() == STARTERS and STARTERS.is_relative_to(repo / ".cache")
    assert ".cache/" in (repo / ".gitignore").read_text(encoding="utf-8").splitlines()  # never committed
    assert not (repo / "tests" / "conformance" / "flows").exists()
    assert len(starter_names()) == 27 and set(shared_flow_names()) <= set(starter_names())


@pytest.mark.parametrize("name", starter_names())
def test_every_starter_loads_without_its_code(name: str) -> None:
    exported = json.loads(starter_path(name).read_text(encoding="utf-8"))
    graph = load_graph(exported)
    assert graph.flow_id == exported["id"] and graph.flow_name == exported["name"]
    assert len(graph.edges) == len(exported["data"]["edges"])
    assert graph.vertices and all("code" not in v.fields for v in graph.vertices.values())


@pytest.mark.parametrize("name", shared_flow_names())
def test_every_shared_flow_loads(name: str) -> None:
    exported = shared_flow(name)
    graph = load_graph(exported)
    assert graph.flow_id == exported["id"] and graph.flow_name == exported["name"]
    genuine = [n for n in exported["data"]["nodes"] if n.get("type") != "noteNode"]
    assert list(graph.vertices) == [n["id"] for n in genuine]
    assert len(graph.edges) == len(exported["data"]["edges"])
    for vertex in graph.vertices.values():
        assert "code" not in vertex.fields
    if name in UNSUPPORTED:
        with pytest.raises(UnsupportedComponentsError) as caught:
            validate(graph, check_required=False)
        assert caught.value.unsupported == UNSUPPORTED[name]
    elif name in NEEDS_KNOWLEDGE_BASE:
        with pytest.raises(InvalidFlowError) as refused:
            validate(graph)
        assert [(p.node_id, p.field) for p in refused.value.problems] == [(NEEDS_KNOWLEDGE_BASE[name], "knowledge_base")]
    elif name in NEEDS_MEMORY_BASE:
        with pytest.raises(InvalidFlowError) as refused:
            validate(graph)
        assert [(p.node_id, p.field) for p in refused.value.problems] == [(NEEDS_MEMORY_BASE[name], "memory_base")]
    else:
        validate(graph)


def test_every_starter_is_supported() -> None:
    """Every 1.13 starter's component types are native (the list below grows only when Langflow's do)."""
    from flowless_engine.components.registry import resolve_type

    missing = {name: sorted({n["data"]["type"] for n in starter_flow(name)["data"]["nodes"] if "type" in n["data"]
                             and n.get("type") == "genericNode" and resolve_type(n["data"]["type"]) is None})
               for name in starter_names()}
    assert {name: types for name, types in missing.items() if types} == UNSUPPORTED


def test_a_starter_with_an_unknown_type_is_refused_naming_type_and_nodes(server: ModelServer) -> None:
    exported = starter_flow("Basic Prompting")
    renamed = [n["id"] for n in exported["data"]["nodes"] if n["data"].get("type") in {"Prompt", "Prompt Template"}]
    assert renamed
    for node in exported["data"]["nodes"]:
        if node["id"] in renamed:
            node["data"]["type"] = "Frobnicator"
    with pytest.raises(UnsupportedComponentsError) as caught:
        run_flow_from_json(exported, "hello", variables={"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "test"},
                           settings=EngineSettings(allow_loopback=True))
    assert caught.value.unsupported == {"Frobnicator": renamed}
    assert "Frobnicator" in caught.value.message and all(node_id in caught.value.message for node_id in renamed)
    assert server.requests == []


# ---- Basic Prompting -------------------------------------------------------------------------


def test_basic_prompting_end_to_end(server: ModelServer) -> None:
    store = InMemoryMessageStore()
    outputs = run_shared("Basic Prompting", "Hello there", server, message_store=store)
    flow_id = shared_flow("Basic Prompting")["id"]

    (run_outputs,) = outputs
    assert run_outputs["inputs"] == {"input_value": "Hello there"}
    (result,) = run_outputs["outputs"]
    assert set(result) == RESULT_DATA_KEYS
    message = result["results"]["message"]
    assert set(message) == MESSAGE_KEYS and set(message["properties"]) == PROPERTY_KEYS
    assert set(message["data"]) == MESSAGE_KEYS - {"text_key", "data", "default_value"} | {"id"}
    # the four places clients read the answer from
    assert message["text"] == "Echo: Hello there"
    assert result["outputs"]["message"] == {"message": "Echo: Hello there", "type": "text"}
    assert result["messages"][0]["message"] == "Echo: Hello there"
    assert set(result["messages"][0]) == MESSAGES_ENTRY_KEYS
    assert result["artifacts"]["message"] == "Echo: Hello there"
    # attribute access as on Langflow's objects
    assert outputs[0].outputs[0].results["message"].text == "Echo: Hello there"
    assert (message["sender"], message["sender_name"], message["session_id"], message["flow_id"]) == ("Machine", "AI", flow_id, flow_id)
    assert message["properties"]["source"] == {"id": "LanguageModelComponent-FLeYF", "display_name": "Language Model", "source": "gpt-4o-mini"}
    assert message["properties"]["usage"]["total_tokens"] > 0
    assert (result["component_id"], result["component_display_name"]) == ("ChatOutput-yK0AU", "Chat Output")
    json.dumps(outputs)

    (request,) = server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer test"
    body = request.body
    assert body["model"] == "gpt-4o-mini"
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert body["messages"][0]["content"].startswith("Answer the user as if you were a GenAI expert")
    assert body["messages"][1]["content"] == "Hello there"

    assert [(m.sender, m.text, m.session_id) for m in store.messages] == [("User", "Hello there", flow_id), ("Machine", "Echo: Hello there", flow_id)]


def test_basic_prompting_streams_in_langflows_event_order(server: ModelServer) -> None:
    server.chunk_delay_s = 0.001
    sink = ListEventSink()
    outputs = run_shared("Basic Prompting", "tell me more please", server, events=sink, stream=True, session_id="s-1")
    relevant = [e for e in sink.events if e["event"] in {"add_message", "token", "end"}]
    names = [e["event"] for e in relevant]
    tokens = names.count("token")
    assert tokens >= 3
    assert names == ["add_message", "add_message"] + ["token"] * tokens + ["add_message", "end"]
    user, partial, *token_events, complete, end = [e["data"] for e in relevant]
    assert (user["sender"], user["text"], user["session_id"]) == ("User", "tell me more please", "s-1")
    assert partial["properties"]["state"] == "partial" and partial["text"] == token_events[0]["chunk"]
    assert "".join(t["chunk"] for t in token_events) == complete["text"] == "Echo: tell me more please"
    assert {t["id"] for t in token_events} == {partial["id"], complete["id"]}
    assert complete["properties"]["state"] == "complete"
    assert complete["properties"]["usage"]["total_tokens"] > 0
    assert end["result"]["session_id"] == "s-1"
    assert end["result"]["outputs"] == json.loads(json.dumps(outputs))
    assert server.requests[0].body["stream"] is True


def test_basic_prompting_model_field_tweak(server: ModelServer) -> None:
    tweaks = {"LanguageModelComponent-FLeYF": {"model": [{"name": "gpt-4.1-mini", "provider": "OpenAI"}], "temperature": 0.3}}
    outputs = run_shared("Basic Prompting", "hi", server, tweaks=tweaks)
    assert outputs[0]["outputs"][0]["results"]["message"]["properties"]["source"]["source"] == "gpt-4.1-mini"
    assert (server.requests[0].body["model"], server.requests[0].body["temperature"]) == ("gpt-4.1-mini", 0.3)


def test_loopback_is_refused_unless_allowed(server: ModelServer) -> None:
    with pytest.raises(BlockedURLError):
        run_flow_from_json(
            starter_path("Basic Prompting"), "hi",
            variables={"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "test"}, settings=EngineSettings(),
        )
    assert server.requests == []


def test_a_session_keeps_its_history_across_calls(server: ModelServer) -> None:
    store = InMemoryMessageStore()
    for text in ("first", "second"):
        run_shared("Multi Agent Flow", text, server, message_store=store, session_id="chat-1")
    # the first agent of the second run saw the first run's user message and final answer
    second_run_first_call = server.requests[3].body["messages"]
    assert [m["role"] for m in second_run_first_call] == ["system", "user", "assistant", "user"]
    assert second_run_first_call[1]["content"] == "first"
    assert second_run_first_call[-1]["content"] == "second"


def test_memory_chatbot_recalls_across_sessions(server: ModelServer) -> None:
    """The 1.13 starter: the Agent searches its Memory Base (a tool); with 'Filter by Session' off
    (as its README suggests) the memory spans every session of the flow."""
    store = InMemoryMessageStore()
    tweaks = {NEEDS_MEMORY_BASE["Memory Chatbot"]: {"memory_base": "chat-memory", "filter_by_session": False}}
    run_shared("Memory Chatbot", "My name is Ada Lovelace", server, message_store=store, session_id="monday", tweaks=tweaks)
    server.script([{"tool_calls": [{"name": "retrieve_memory", "arguments": {"search_query": "my name"}}]}, "You are Ada."])
    outputs = run_shared("Memory Chatbot", "What is my name?", server, message_store=store, session_id="tuesday", tweaks=tweaks)
    assert outputs[0]["outputs"][0]["results"]["message"]["text"] == "You are Ada."
    tool_message = next(m for m in server.requests[-1].body["messages"] if m["role"] == "tool")
    recalled = json.loads(tool_message["content"])
    assert recalled[0]["content"] == "My name is Ada Lovelace" and recalled[0]["session_id"] == "monday"
    assert {"_score", "sender", "sender_name", "timestamp", "id"} <= set(recalled[0])
    # As shipped (filter on), a new session recalls nothing from another one.
    tweaks[NEEDS_MEMORY_BASE["Memory Chatbot"]]["filter_by_session"] = True
    server.script([{"tool_calls": [{"name": "retrieve_memory", "arguments": {"search_query": "my name"}}]}, "I do not know."])
    run_shared("Memory Chatbot", "What is my name?", server, message_store=store, session_id="wednesday", tweaks=tweaks)
    tool_message = next(m for m in server.requests[-1].body["messages"] if m["role"] == "tool")
    assert json.loads(tool_message["content"]) == []


# ---- Agents -----------------------------------------------------------------------------------


def test_multi_agent_flow_chains_three_agents(server: ModelServer) -> None:
    outputs = run_shared("Multi Agent Flow", "a smart kettle", server)
    assert outputs[0]["outputs"][0]["results"]["message"]["text"] == "Echo: Echo: Echo: a smart kettle"
    assert [r.body["messages"][-1]["content"] for r in server.requests] == ["a smart kettle", "Echo: a smart kettle", "Echo: Echo: a smart kettle"]
    assert all("tools" not in r.body for r in server.requests)


def test_agent_tool_loop_calls_the_calculator_and_uses_the_result(server: ModelServer) -> None:
    sink = ListEventSink()
    outputs = run_shared(
        "Multi Agent Flow", "What is 12 * (3 + 4)?", server,
        tweaks={"Agent-maf-1": {"add_calculator_tool": True}}, events=sink, stream=True,
    )
    first, second = server.requests[0].body, server.requests[1].body
    assert [t["function"]["name"] for t in first["tools"]] == ["evaluate_expression"]
    (call,) = [m for m in second["messages"] if m["role"] == "assistant"][-1]["tool_calls"]
    assert call["function"]["name"] == "evaluate_expression"
    assert json.loads(call["function"]["arguments"]) == {"expression": "12 * (3 + 4)"}
    tool_message = second["messages"][-1]
    assert tool_message["role"] == "tool" and json.loads(tool_message["content"]) == {"result": "84"}
    assert tool_message["tool_call_id"] == call["id"]
    # agent 1 used the result; agents 2 and 3 (no tools) passed it on
    assert server.requests[2].body["messages"][-1]["content"] == 'The answer is {"result": "84"}.'
    assert outputs[0]["outputs"][0]["results"]["message"]["text"] == 'Echo: Echo: The answer is {"result": "84"}.'
    names = [e["event"] for e in sink.events]
    assert names.index("build_start", 2) < names.index("build_end") < names.index("token")
    assert [e["data"] for e in sink.events if e["event"] == "build_end"] == [{"id": "Agent-maf-1"}]


def test_agent_json_with_the_calculator_on(server: ModelServer) -> None:
    """A flow built from Agent JSON: Chat Input → Agent (calculator on) → Chat Output."""
    exported = shared_flow("Multi Agent Flow")
    data = exported["data"]
    data["nodes"] = [n for n in data["nodes"] if n["id"] in {"ChatInput-pNKvO", "Agent-maf-1", "ChatOutput-WSW39"}]
    data["nodes"][[n["id"] for n in data["nodes"]].index("Agent-maf-1")]["data"]["node"]["template"]["add_calculator_tool"]["value"] = True
    chain = [e for e in data["edges"] if e["source"] == "ChatInput-pNKvO"]
    out = json.loads(json.dumps([e for e in data["edges"] if e["target"] == "ChatOutput-WSW39"]))
    for e in out:
        e["source"] = "Agent-maf-1"
        e["data"]["sourceHandle"]["id"] = "Agent-maf-1"
    data["edges"] = chain + out
    outputs = run_flow_from_json(
        exported, "Compute 7 * 6 please", variables={"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "test"},
        settings=EngineSettings(allow_loopback=True),
    )
    assert outputs[0]["outputs"][0]["results"]["message"]["text"] == 'The answer is {"result": "42"}.'
    assert len(server.requests) == 2


# ---- Files -------------------------------------------------------------------------------------

REPORT = """Acme Corp annual report.
COMPANY: Acme
REVENUE: 120M
GROSS_PROFIT: 60M
EBITDA: 30M
EBIT: 25M
NET_INCOME: 18M
NET_MARGIN: 15%
"""


def test_financial_report_parser_with_a_file(server: ModelServer, tmp_path: Path) -> None:
    (tmp_path / "report.txt").write_text(REPORT, encoding="utf-8")
    outputs = run_shared("Financial Report Parser", None, server, files_root=tmp_path, tweaks={"File-NGW2N": {"path": ["report.txt"]}})
    (request,) = server.requests
    body = request.body
    schema = body["response_format"]["json_schema"]["schema"]
    table = {row["name"] for row in shared_flow("Financial Report Parser")["data"]["nodes"][3]["data"]["node"]["template"]["output_schema"]["value"]}
    assert set(schema["properties"]) == table
    assert "Acme Corp annual report." in body["messages"][-1]["content"]
    assert body["messages"][0]["content"].startswith("You are a financial report parser.")
    text = outputs[0]["outputs"][0]["results"]["message"]["text"]
    assert text.splitlines()[0] == "## 📊 Acme"
    for row in ("| Revenue | 120M |", "| Gross Profit | 60M |", "| EBITDA | 30M |", "| Operating Income (EBIT) | 25M |", "| Net Income | 18M |"):
        assert row in text


def test_text_sentiment_analysis_with_a_file(server: ModelServer, tmp_path: Path) -> None:
    (tmp_path / "messages.txt").write_text("Loving the new release, but the docs need work.", encoding="utf-8")
    outputs = run_shared("Text Sentiment Analysis", None, server, files_root=tmp_path, tweaks={"File-a3YoT": {"path": ["messages.txt"]}})
    results = outputs[0]["outputs"]
    assert [r["component_id"] for r in results] == ["ChatOutput-DVXkn", "ChatOutput-h5fAd"]
    analysis, recommendation = (r["results"]["message"]["text"] for r in results)
    assert analysis == "Echo: Loving the new release, but the docs need work."
    assert recommendation.startswith("Echo: Based on the following summary")
    assert "Echo: Loving the new release" in recommendation  # agent a's answer went through the prompt
    assert len(server.requests) == 3
