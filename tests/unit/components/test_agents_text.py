"""XML Agent (tools asked for in XML tags) and OpenAPI Agent (an API from a spec in the tenant's
files, called through the guarded HTTP client), through the engine against the model server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from flowless_engine.api import arun_flow_from_json
from flowless_engine.components.base import Component, Input, Output, Tool
from flowless_engine.errors import ComponentError, ConfigurationError
from flowless_engine.settings import EngineSettings
from tests.support.echo_server import EchoServer
from tests.support.engine_kit import component_node, edge, flow, register_components
from tests.support.model_server import ModelServer

SETTINGS = EngineSettings(allow_loopback=True, http_retries=0)
LM = {"output_types": ("LanguageModel",), "input_types": ("LanguageModel",)}


class Weather(Component):
    type_name = "TestWeatherXml"
    inputs = (Input("city"),)
    outputs = (Output("component_as_tool", "to_toolkit", ("Tool",)),)

    def as_tools(self) -> list[Tool]:
        async def weather(args: dict[str, Any]) -> str:
            return f"sunny in {args.get('city')}"

        schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
        return [Tool(name="weather", description="Weather of a city.", parameters=schema, run=weather, source_id=self.id)]


@pytest.fixture(scope="module")
def models() -> Iterator[ModelServer]:
    with ModelServer() as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh(models: ModelServer, monkeypatch: pytest.MonkeyPatch) -> None:
    models.reset()
    register_components(monkeypatch, Weather)


def agent_flow(models: ModelServer, type_name: str, *, tool: bool = True, **values: Any) -> dict:
    nodes = [component_node("ChatInput-1", "ChatInput"), component_node("Agent-1", type_name, **values),
             component_node("OpenAIModel-1", "OpenAIModel", model_name="gpt-4o-mini", openai_api_base=models.base_url),
             component_node("ChatOutput-1", "ChatOutput")]
    edges = [edge("ChatInput-1", "message", "Agent-1", "input_value"), edge("OpenAIModel-1", "model_output", "Agent-1", "llm", **LM),
             edge("Agent-1", "response", "ChatOutput-1", "input_value")]
    if tool:
        nodes.append(component_node("Weather-1", "TestWeatherXml"))
        edges.append(edge("Weather-1", "component_as_tool", "Agent-1", "tools", output_types=("Tool",), input_types=("Tool",)))
    return flow(nodes, edges)


async def answer(exported: dict, text: str, **kwargs: Any) -> str:
    outputs = await arun_flow_from_json(exported, text, variables={"OPENAI_API_KEY": "sk-test"}, settings=kwargs.pop("settings", SETTINGS), **kwargs)
    return outputs[0]["outputs"][0]["results"]["message"]["text"]


def chats(models: ModelServer) -> list[Any]:
    return [r.body for r in models.requests if r.path == "/v1/chat/completions"]


async def test_xml_agent_runs_tools_asked_for_in_tags(models: ModelServer) -> None:
    models.script(["<tool>weather</tool><tool_input>Oslo</tool_input>", "<final_answer>Sunny in Oslo.</final_answer>"])
    assert await answer(agent_flow(models, "XMLAgent"), "Weather in Oslo?") == "Sunny in Oslo."
    first, second = chats(models)
    assert "tools" not in first  # plain text: no native tool calling
    system = first["messages"][0]["content"]
    assert "weather: Weather of a city." in system and "Question: Weather in Oslo?" in system
    assert first["messages"][-1] == {"role": "user", "content": "Weather in Oslo?"}
    assert second["messages"][-1]["role"] == "assistant"
    assert second["messages"][-1]["content"] == "<tool>weather</tool><tool_input>Oslo</tool_input><observation>sunny in Oslo</observation>"


async def test_xml_agent_unknown_tools_parse_errors_and_prompt_check(models: ModelServer) -> None:
    models.script(["<tool>nope</tool><tool_input>x</tool_input>", "plain words"])
    assert await answer(agent_flow(models, "XMLAgent"), "hi") == "plain words"
    assert "unknown tool 'nope'" in chats(models)[1]["messages"][-1]["content"]
    models.script(["plain words"])
    with pytest.raises(ComponentError, match="neither"):
        await answer(agent_flow(models, "XMLAgent", handle_parsing_errors=False), "hi")
    with pytest.raises(ConfigurationError, match="must contain 'input'"):
        await answer(agent_flow(models, "XMLAgent", user_prompt="no key"), "hi")


@pytest.fixture(scope="module")
def api() -> Iterator[EchoServer]:
    with EchoServer() as server:
        yield server


def write_spec(root: Any, base_url: str) -> None:
    spec = {
        "openapi": "3.0.0", "info": {"title": "Pets", "version": "1"}, "servers": [{"url": base_url}],
        "paths": {"/pets/{id}": {"get": {"summary": "One pet", "parameters": [{"$ref": "#/components/parameters/Id"}]}},
                  "/pets": {"post": {"summary": "Add a pet"}}},
        "components": {"parameters": {"Id": {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}}},
    }
    (root / "pets.json").write_text(json.dumps(spec))


async def test_openapi_agent_lists_describes_and_calls_the_api(models: ModelServer, api: EchoServer, tmp_path: Any) -> None:
    write_spec(tmp_path, api.base_url)
    models.script([
        {"tool_calls": [{"name": "list_endpoints", "arguments": {}}]},
        {"tool_calls": [{"name": "describe_endpoint", "arguments": {"method": "GET", "path": "/pets/{id}"}}]},
        {"tool_calls": [{"name": "request", "arguments": {"method": "GET", "path": "/pets/7", "params": {"fields": "name"}}}]},
        {"tool_calls": [{"name": "request", "arguments": {"method": "GET", "path": "/../admin"}}]},
        "Pet 7 found.",
    ])
    exported = agent_flow(models, "OpenAPIAgent", tool=False, path="pets.json", allow_dangerous_requests=True)
    assert await answer(exported, "Show pet 7", files_root=tmp_path) == "Pet 7 found."
    results = [c["messages"][-1]["content"] for c in chats(models)[1:]]
    assert results[0] == "GET /pets/{id}: One pet\nPOST /pets: Add a pet"
    assert '"name": "id"' in results[1]  # the $ref is inlined
    assert results[2].startswith("HTTP 200")
    assert "not an endpoint" in results[3]
    (call,) = api.requests[-1:]
    assert (call.method, call.path, call.query) == ("GET", "/pets/7", {"fields": ["name"]})


async def test_openapi_agent_refuses_without_consent_and_guards_egress(models: ModelServer, tmp_path: Any) -> None:
    write_spec(tmp_path, "http://169.254.169.254/latest")  # cloud metadata: never reachable
    exported = agent_flow(models, "OpenAPIAgent", tool=False, path="pets.json")
    with pytest.raises(ConfigurationError, match="Allow Dangerous Requests"):
        await answer(exported, "x", files_root=tmp_path)
    models.script([{"tool_calls": [{"name": "request", "arguments": {"method": "GET", "path": "/pets/1"}}]}, "done"])
    exported = agent_flow(models, "OpenAPIAgent", tool=False, path="pets.json", allow_dangerous_requests=True)
    assert await answer(exported, "x", files_root=tmp_path) == "done"
    assert chats(models)[1]["messages"][-1]["content"].startswith("Error: BlockedURLError: Refusing to connect to '169.254.169.254'")
