"""Older agents and chains on the Agent's tool loop: Tool Calling Agent, OpenAI Tools Agent,
ConversationChain, and CrewAI's sequential and hierarchical crews."""

from __future__ import annotations

from typing import Any

import pytest

from flowless_engine.api import run_flow_from_json
from flowless_engine.components.base import Component, Input, Output, Tool
from flowless_engine.errors import ComponentError
from flowless_engine.settings import EngineSettings
from tests.support.engine_kit import FakeChatModel, component_node, edge, flow, register_components, run, tool_call
from tests.support.model_server import ModelServer


class Weather(Component):
    """A tool component: `weather(city)` answers "sunny in <city>"."""

    type_name = "TestWeather"
    inputs = (Input("city"),)
    outputs = (Output("component_as_tool", "to_toolkit", ("Tool",)),)

    def as_tools(self) -> list[Tool]:
        async def weather(args: dict[str, Any]) -> str:
            return f"sunny in {args.get('city')}"

        schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
        return [Tool(name="weather", description="Weather of a city.", parameters=schema, run=weather, source_id=self.id)]


@pytest.fixture(autouse=True)
def _weather(monkeypatch: pytest.MonkeyPatch) -> None:
    register_components(monkeypatch, Weather)


def tool_edge(source: str, target: str, field: str = "tools") -> dict:
    return edge(source, "component_as_tool", target, field, output_types=("Tool",), input_types=("Tool",))


def roles(call: dict) -> list[tuple[str, str | None]]:
    return [(m.role, m.content) for m in call["messages"]]


def tools_agent_flow(type_name: str, **values: Any) -> dict:
    values.setdefault("model", [{"name": "gpt-4o-mini", "provider": "OpenAI"}])
    nodes = [
        component_node("ChatInput-1", "ChatInput"),
        component_node("Agent-1", type_name, **values),
        component_node("Weather-1", "TestWeather"),
        component_node("ChatOutput-1", "ChatOutput"),
    ]
    edges = [
        edge("ChatInput-1", "message", "Agent-1", "input_value"),
        tool_edge("Weather-1", "Agent-1"),
        edge("Agent-1", "response", "ChatOutput-1", "input_value"),
    ]
    return flow(nodes, edges)


# ---- LangChain-era tools agents --------------------------------------------------------------


async def test_tool_calling_agent_calls_its_tools_and_answers() -> None:
    model = FakeChatModel([tool_call("weather", {"city": "Oslo"}), "It is sunny in Oslo."])
    ran = await run(tools_agent_flow("ToolCallingAgent", system_prompt="Be brief."), "Weather in Oslo?", model=model)
    assert ran.outputs[0]["results"]["message"]["text"] == "It is sunny in Oslo."
    first, second = model.calls
    assert roles(first) == [("system", "Be brief."), ("user", "Weather in Oslo?")]
    assert [t.name for t in first["tools"]] == ["weather"]
    assert ("tool", "sunny in Oslo") in roles(second)


async def test_tool_calling_agent_reads_chat_history_from_its_input_not_the_session() -> None:
    exported = tools_agent_flow("ToolCallingAgent", system_prompt="S")
    exported["data"]["nodes"].append(component_node("Memory-1", "Memory"))
    exported["data"]["edges"].append(edge("Memory-1", "messages", "Agent-1", "chat_history", output_types=("Data",), input_types=("Data", "JSON")))
    from flowless_engine.runtime.services import InMemoryMessageStore

    store = InMemoryMessageStore()
    await run(exported, "first", messages=store)
    ran = await run(exported, "second", messages=store)
    assert roles(ran.models.model.calls[0])[:3] == [("system", "S"), ("user", "first"), ("assistant", "Echo: first")]


async def test_openai_tools_agent_fills_its_prompt_and_refuses_one_without_input() -> None:
    model = FakeChatModel(["done"])
    ran = await run(tools_agent_flow("OpenAIToolsAgent", user_prompt="Question: {input}"), "why?", model=model)
    assert roles(model.calls[0])[-1] == ("user", "Question: why?")
    assert ran.outputs[0]["results"]["message"]["text"] == "done"
    with pytest.raises(ComponentError, match="must contain"):
        await run(tools_agent_flow("OpenAIToolsAgent", user_prompt="no placeholder"), "why?")


async def test_a_model_component_wired_into_llm_is_used_by_older_exports() -> None:
    exported = tools_agent_flow("ToolCallingAgent", model="")
    exported["data"]["nodes"].append(component_node("OpenAIModel-1", "OpenAIModel", model_name="gpt-4.1-nano"))
    exported["data"]["edges"].append(edge("OpenAIModel-1", "model_output", "Agent-1", "llm", output_types=("LanguageModel",), input_types=("LanguageModel",)))
    ran = await run(exported, "hi", variables={"OPENAI_API_KEY": "k"})
    assert ran.models.configs[-1].model == "gpt-4.1-nano"


async def test_conversation_chain_answers_with_the_wired_model() -> None:
    nodes = [
        component_node("ChatInput-1", "ChatInput"),
        component_node("OpenAIModel-1", "OpenAIModel", model_name="gpt-4.1-nano"),
        component_node("ConversationChain-1", "ConversationChain"),
        component_node("ChatOutput-1", "ChatOutput"),
    ]
    edges = [
        edge("ChatInput-1", "message", "ConversationChain-1", "input_value"),
        edge("OpenAIModel-1", "model_output", "ConversationChain-1", "llm", output_types=("LanguageModel",), input_types=("LanguageModel",)),
        edge("ConversationChain-1", "text", "ChatOutput-1", "input_value"),
    ]
    ran = await run(flow(nodes, edges), "hello chain", variables={"OPENAI_API_KEY": "k"})
    assert ran.outputs[0]["results"]["message"]["text"] == "Echo: hello chain"
    assert ran.models.configs[-1].model == "gpt-4.1-nano"


# ---- CrewAI -----------------------------------------------------------------------------------


def crew_agent(node_id: str, role: str, **values: Any) -> dict:
    return component_node(node_id, "CrewAIAgentComponent", role=role, goal=f"goal of {role}", backstory=f"backstory of {role}", **values)


def sequential_crew_flow(*, delegation: bool = False) -> dict:
    nodes = [
        crew_agent("CrewAIAgentComponent-r", "Researcher", allow_delegation=delegation),
        crew_agent("CrewAIAgentComponent-w", "Writer", allow_delegation=False),
        component_node("SequentialTaskComponent-1", "SequentialTaskComponent", task_description="Research Oslo weather", expected_output="facts"),
        component_node("SequentialTaskComponent-2", "SequentialTaskComponent", task_description="Write a post", expected_output="a short post"),
        component_node("SequentialCrewComponent-1", "SequentialCrewComponent"),
        component_node("Weather-1", "TestWeather"),
        component_node("ChatOutput-1", "ChatOutput"),
    ]
    agent_edge = lambda src, dst: edge(src, "output", dst, "agent", output_types=("Agent",), input_types=("Agent",))  # noqa: E731
    task_edge = lambda src, dst, fld: edge(src, "task_output", dst, fld, output_types=("SequentialTask",), input_types=("SequentialTask",))  # noqa: E731
    edges = [
        tool_edge("Weather-1", "CrewAIAgentComponent-r"),
        agent_edge("CrewAIAgentComponent-r", "SequentialTaskComponent-1"),
        agent_edge("CrewAIAgentComponent-w", "SequentialTaskComponent-2"),
        task_edge("SequentialTaskComponent-1", "SequentialTaskComponent-2", "task"),
        task_edge("SequentialTaskComponent-2", "SequentialCrewComponent-1", "tasks"),
        edge("SequentialCrewComponent-1", "output", "ChatOutput-1", "input_value"),
    ]
    return flow(nodes, edges)


async def test_sequential_crew_runs_tasks_in_order_with_personas_tools_and_context() -> None:
    model = FakeChatModel([tool_call("weather", {"city": "Oslo"}), "Oslo: sunny", "Post: Oslo is sunny!"])
    ran = await run(sequential_crew_flow(), None, model=model)
    assert ran.outputs[0]["results"]["message"]["text"] == "Post: Oslo is sunny!"
    research, after_tool, writing = model.calls
    system, user = research["messages"][0].content, research["messages"][1].content
    assert "You are Researcher." in system and "backstory of Researcher" in system and "goal of Researcher" in system
    assert "Research Oslo weather" in user and "facts" in user
    assert [t.name for t in research["tools"]] == ["weather"]
    assert ("tool", "sunny in Oslo") in roles(after_tool)
    assert "You are Writer." in writing["messages"][0].content
    assert "Write a post" in writing["messages"][1].content and "Oslo: sunny" in writing["messages"][1].content
    assert writing["tools"] is None  # the writer has no tools and may not delegate


async def test_an_agent_allowed_to_delegate_can_hand_work_to_a_coworker() -> None:
    model = FakeChatModel([
        tool_call("delegate_work_to_coworker", {"task": "draft a line", "context": "about Oslo", "coworker": "Writer"}),
        "Writer's line",  # the coworker answers
        "Research with help: Writer's line",
        "final post",
    ])
    ran = await run(sequential_crew_flow(delegation=True), None, model=model)
    assert ran.outputs[0]["results"]["message"]["text"] == "final post"
    delegated = model.calls[1]
    assert "You are Writer." in delegated["messages"][0].content
    assert "draft a line" in delegated["messages"][1].content and "about Oslo" in delegated["messages"][1].content
    assert delegated["tools"] is None  # a coworker does not delegate further


async def test_hierarchical_crew_has_a_manager_that_delegates_each_task() -> None:
    nodes = [
        crew_agent("CrewAIAgentComponent-a", "Analyst"),
        component_node("HierarchicalTaskComponent-1", "HierarchicalTaskComponent", task_description="Assess risk", expected_output="a rating"),
        component_node("HierarchicalCrewComponent-1", "HierarchicalCrewComponent"),
        component_node("ChatOutput-1", "ChatOutput"),
    ]
    edges = [
        edge("CrewAIAgentComponent-a", "output", "HierarchicalCrewComponent-1", "agents", output_types=("Agent",), input_types=("Agent",)),
        edge("HierarchicalTaskComponent-1", "task_output", "HierarchicalCrewComponent-1", "tasks", output_types=("HierarchicalTask",), input_types=("HierarchicalTask",)),
        edge("HierarchicalCrewComponent-1", "output", "ChatOutput-1", "input_value"),
    ]
    model = FakeChatModel([tool_call("ask_question_to_coworker", {"question": "risk?", "context": "bank", "coworker": "Analyst"}), "low", "Rating: low"])
    ran = await run(flow(nodes, edges), None, model=model)
    assert ran.outputs[0]["results"]["message"]["text"] == "Rating: low"
    manager = model.calls[0]
    assert "Crew Manager" in manager["messages"][0].content and "Assess risk" in manager["messages"][1].content
    assert {t.name for t in manager["tools"]} == {"delegate_work_to_coworker", "ask_question_to_coworker"}
    assert "You are Analyst." in model.calls[1]["messages"][0].content


async def test_a_task_without_an_agent_and_code_execution_are_refused_clearly() -> None:
    exported = sequential_crew_flow()
    exported["data"]["edges"] = [e for e in exported["data"]["edges"] if not (e["target"] == "SequentialTaskComponent-2" and "agent" in e["targetHandle"])]
    with pytest.raises(ComponentError, match="needs a CrewAI Agent"):
        await run(exported, None)
    coder = sequential_crew_flow()
    coder["data"]["nodes"][0]["data"]["node"]["template"]["allow_code_execution"]["value"] = True
    with pytest.raises(ComponentError, match="never execute"):
        await run(coder, None)


def test_a_sequential_crew_runs_over_real_http() -> None:
    """The whole crew against the OpenAI-compatible test server: two tasks, two model calls."""
    with ModelServer() as server:
        server.script(["Oslo is sunny.", "A post: Oslo is sunny!"])
        exported = sequential_crew_flow()
        exported["data"]["nodes"] = [n for n in exported["data"]["nodes"] if n["id"] != "Weather-1"]
        exported["data"]["edges"] = [e for e in exported["data"]["edges"] if e["source"] != "Weather-1"]
        outputs = run_flow_from_json(
            exported, None, variables={"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "test"}, settings=EngineSettings(allow_loopback=True)
        )
        assert outputs[0]["outputs"][0]["results"]["message"]["text"] == "A post: Oslo is sunny!"
        chats = [r for r in server.requests if r.path == "/v1/chat/completions"]
        assert len(chats) == 2
        assert "Oslo is sunny." in chats[1].body["messages"][-1]["content"]
        assert chats[0].headers.get("authorization") == "Bearer test"


# ---- SQL agent ----------------------------------------------------------------------------------


def sql_agent_flow(uri: str) -> dict:
    nodes = [
        component_node("ChatInput-1", "ChatInput"),
        component_node("SQLAgent-1", "SQLAgent", database_uri=uri, model=[{"name": "gpt-4o-mini", "provider": "OpenAI"}]),
        component_node("ChatOutput-1", "ChatOutput"),
    ]
    edges = [edge("ChatInput-1", "message", "SQLAgent-1", "input_value"), edge("SQLAgent-1", "response", "ChatOutput-1", "input_value")]
    return flow(nodes, edges)


async def test_sql_agent_explores_and_queries_a_read_only_database(tmp_path: Any) -> None:
    import sqlite3

    with sqlite3.connect(tmp_path / "shop.db") as db:
        db.execute("create table products (name text, price real)")
        db.executemany("insert into products values (?, ?)", [("tea", 3.5), ("coffee", 4.0)])
    model = FakeChatModel([
        tool_call("sql_db_list_tables", {}),
        tool_call("sql_db_schema", {"table_names": "products"}),
        tool_call("sql_db_query", {"query": "select name from products order by price desc limit 1"}),
        tool_call("sql_db_query", {"query": "delete from products"}),
        "coffee is the dearest",
    ])
    ran = await run(sql_agent_flow("sqlite:///shop.db"), "What is the dearest product?", model=model, settings=EngineSettings(sqlite_root=str(tmp_path)))
    assert ran.outputs[0]["results"]["message"]["text"] == "coffee is the dearest"
    results = [m.content for call in model.calls[1:] for m in call["messages"][-1:] if m.role == "tool"]
    assert results[0] == "products"
    assert "CREATE TABLE products" in results[1] and '"tea"' in results[1]
    assert results[2] == '[{"name": "coffee"}]'
    assert results[3].startswith("Error:") and "readonly" in results[3]
    with sqlite3.connect(tmp_path / "shop.db") as db:
        assert db.execute("select count(*) from products").fetchone()[0] == 2
    assert "sqlite" in model.calls[0]["messages"][0].content


async def test_sql_agent_refuses_table_names_that_are_not_identifiers_and_files_outside_its_root(tmp_path: Any) -> None:
    import sqlite3

    sqlite3.connect(tmp_path / "a.db").close()
    model = FakeChatModel([tool_call("sql_db_schema", {"table_names": "x'; drop table y; --"}), "ok"])
    await run(sql_agent_flow("sqlite:///a.db"), "q", model=model, settings=EngineSettings(sqlite_root=str(tmp_path)))
    assert model.calls[1]["messages"][-1].content.startswith("Error: give table names")
    outside = FakeChatModel([tool_call("sql_db_list_tables", {}), "x"])
    await run(sql_agent_flow("sqlite:///../../etc/passwd"), "q", model=outside, settings=EngineSettings(sqlite_root=str(tmp_path)))
    assert "inside the configured SQLite folder" in outside.calls[1]["messages"][-1].content
