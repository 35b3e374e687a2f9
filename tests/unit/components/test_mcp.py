"""MCP Tools in flows against a real MCP server built with the `mcp` SDK (tests/support/mcp_server.py):
its tools offered to an Agent whose model (tests/support/model_server.py) calls them, one tool
called directly, both transports, the server config from tenant variables, stdio refused, the guard."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from flowless_engine.api import arun_flow_from_json
from flowless_engine.errors import BlockedURLError, ConfigurationError, MissingVariableError
from flowless_engine.mcp_client import clear_cache
from flowless_engine.settings import EngineSettings
from tests.support.flows import edge, flow, node
from tests.support.mcp_server import McpTestServer
from tests.support.model_server import ModelServer

LOOPBACK = EngineSettings(allow_loopback=True)


@pytest.fixture(scope="module")
def mcp_server() -> Iterator[McpTestServer]:
    with McpTestServer() as server:
        yield server


@pytest.fixture(scope="module")
def models() -> Iterator[ModelServer]:
    with ModelServer() as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh(models: ModelServer, mcp_server: McpTestServer, monkeypatch: pytest.MonkeyPatch) -> None:
    models.reset()
    mcp_server.requests.clear()
    clear_cache()
    monkeypatch.setenv("OPENAI_BASE_URL", models.base_url)


def agent_with_mcp(mcp_values: dict[str, Any] | None = None, mcp_type: str = "MCPTools") -> dict[str, Any]:
    values = {"mcp_server": {"name": "test-tools", "config": {}}, **(mcp_values or {})}
    extra = {"tools_metadata": {"type": "tools", "value": values.pop("tools_metadata")}} if "tools_metadata" in values else None
    nodes = [
        node("ChatInput-m1", "ChatInput"),
        node("Agent-m2", "Agent", {"model": [{"name": "gpt-4o-mini", "provider": "OpenAI"}], "add_current_date_tool": False}),
        node("ChatOutput-m3", "ChatOutput"),
        as_tool(node("MCPTools-m4", mcp_type, values, extra_fields=extra)),
    ]
    edges = [
        edge("ChatInput-m1", "message", "Agent-m2", "input_value", input_types=["Message"]),
        edge("Agent-m2", "response", "ChatOutput-m3", "input_value"),
        edge("MCPTools-m4", "component_as_tool", "Agent-m2", "tools", output_types=["Tool"], input_types=["Tool"]),
    ]
    return flow("MCP agent", nodes, edges)


def as_tool(mcp_node: dict[str, Any]) -> dict[str, Any]:
    """The node in tool mode, as Langflow exports it: its one output is the toolkit."""
    mcp_node["data"]["node"]["outputs"] = [{"name": "component_as_tool", "method": "to_toolkit", "types": ["Tool"]}]
    return mcp_node


def answer(records: list[Any]) -> str:
    return records[0].outputs[0].results["message"].text


def server_config(mcp_server: McpTestServer, path: str = "/mcp", **extra: Any) -> dict[str, str]:
    return {"MCP_SERVER_TEST_TOOLS": json.dumps({"url": mcp_server.base_url + path, **extra})}


def tools_offered(models: ModelServer) -> list[dict[str, Any]]:
    return models.requests[0].body.get("tools") or []


async def test_agent_calls_a_tool_of_a_streamable_http_server(models, mcp_server):
    models.script([{"tool_calls": [{"name": "shout", "arguments": {"text": "hello mcp"}}]}])
    records = await arun_flow_from_json(agent_with_mcp(), "shout it", settings=LOOPBACK,
                                        variables={**server_config(mcp_server, headers={"Authorization": "Bearer {{MCP_TOKEN}}"}),
                                                   "MCP_TOKEN": "t0ken"})
    assert answer(records) == "The answer is HELLO MCP."
    offered = {t["function"]["name"]: t["function"] for t in tools_offered(models)}
    assert set(offered) == {"shout", "add", "lookup", "broken"}
    assert offered["add"]["parameters"]["properties"]["a"]["type"] == "integer"
    assert offered["shout"]["description"] == "Return the text in upper case."
    assert {path for _, path, _ in mcp_server.requests} == {"/mcp"}
    assert all(headers.get("authorization") == "Bearer t0ken" for _, _, headers in mcp_server.requests)


async def test_session_and_tools_are_reused_in_a_warm_container(models, mcp_server):
    variables = server_config(mcp_server)
    for text in ("one", "two"):
        models.script([{"tool_calls": [{"name": "shout", "arguments": {"text": text}}]}])
        records = await arun_flow_from_json(agent_with_mcp(), "go", settings=LOOPBACK, variables=variables)
        assert answer(records) == f"The answer is {text.upper()}."
    sessions = [headers.get("mcp-session-id") for _, _, headers in mcp_server.requests]
    assert sessions[0] is None and len(set(sessions[1:])) == 1  # one initialize, then the same session
    assert len(mcp_server.requests) == 5  # initialize, initialized, tools/list, call, call


async def test_sse_transport_explicit_and_found_by_fallback(models, mcp_server):
    for extra in ({"type": "sse"}, {}):
        clear_cache()
        mcp_server.requests.clear()
        models.reset()
        models.script([{"tool_calls": [{"name": "add", "arguments": {"a": 2, "b": 3}}]}])
        records = await arun_flow_from_json(agent_with_mcp(), "add", settings=LOOPBACK, variables=server_config(mcp_server, "/sse", **extra))
        assert answer(records) == "The answer is 5."
        assert "GET /sse" in mcp_server.paths() and any(p.startswith("POST /messages/") for p in mcp_server.paths())


async def test_a_failing_tool_is_reported_to_the_agent(models, mcp_server):
    models.script([{"tool_calls": [{"name": "broken", "arguments": {}}]}])
    records = await arun_flow_from_json(agent_with_mcp(), "break it", settings=LOOPBACK, variables=server_config(mcp_server))
    assert answer(records).startswith("The answer is Error: RuntimeError: MCP tool 'broken' failed: ")
    assert "broken on purpose" in answer(records)


async def test_tools_metadata_renames_and_disables(models, mcp_server):
    metadata = [{"name": "yell", "description": "Yells.", "status": True, "tags": ["shout"]},
                {"name": "add", "status": False, "tags": ["add"]}]
    models.script([{"tool_calls": [{"name": "yell", "arguments": {"text": "quiet"}}]}])
    flow_json = agent_with_mcp(extra_tools_metadata(metadata))
    records = await arun_flow_from_json(flow_json, "x", settings=LOOPBACK, variables=server_config(mcp_server))
    assert answer(records) == "The answer is QUIET."
    offered = {t["function"]["name"]: t["function"]["description"] for t in tools_offered(models)}
    assert offered == {"yell": "Yells.", "lookup": "Look a key up in a small table.", "broken": "Always fails."}


def extra_tools_metadata(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"tools_metadata": rows}


def direct_flow(tool: str, **arguments: Any) -> dict[str, Any]:
    mcp = node("MCPTools-d1", "MCPTools", {"mcp_server": {"name": "test-tools", "config": {}}, "tool": tool},
               extra_fields={name: {"value": value} for name, value in arguments.items()})
    return flow("MCP direct", [mcp, node("ChatOutput-d2", "ChatOutput")],
                [edge("MCPTools-d1", "response", "ChatOutput-d2", "input_value", output_types=["DataFrame"])])


async def test_the_selected_tool_is_called_directly(mcp_server):
    records = await arun_flow_from_json(direct_flow("lookup", key="abcd"), None, settings=LOOPBACK, variables=server_config(mcp_server))
    assert answer(records) == "| key | value |\n| --- | --- |\n| abcd | 4 |"  # the JSON text became a table row
    records = await arun_flow_from_json(direct_flow("shout", text="direct"), None, settings=LOOPBACK, variables=server_config(mcp_server))
    assert "DIRECT" in answer(records)
    with pytest.raises(ConfigurationError, match="MCP tool 'broken' failed"):
        await arun_flow_from_json(direct_flow("broken"), None, settings=LOOPBACK, variables=server_config(mcp_server))


async def test_config_in_the_node_and_the_older_node_types(models, mcp_server):
    config = {"name": "inline", "config": {"url": mcp_server.base_url + "/mcp"}}
    models.script([{"tool_calls": [{"name": "shout", "arguments": {"text": "inline"}}]}])
    records = await arun_flow_from_json(agent_with_mcp({"mcp_server": config}, mcp_type="MCP"), "x", settings=LOOPBACK)
    assert answer(records) == "The answer is INLINE."
    models.reset()
    models.script([{"tool_calls": [{"name": "shout", "arguments": {"text": "legacy"}}]}])
    legacy = agent_with_mcp()
    legacy["data"]["nodes"][3] = node("MCPSse-m4", "MCPSse", {"url": mcp_server.base_url + "/sse"})
    legacy["data"]["edges"][2] = edge("MCPSse-m4", "tools", "Agent-m2", "tools", output_types=["Tool"], input_types=["Tool"])
    records = await arun_flow_from_json(legacy, "x", settings=LOOPBACK)
    assert answer(records) == "The answer is LEGACY."


async def test_stdio_servers_are_refused_without_running_anything(mcp_server):
    stdio = {"MCP_SERVER_TEST_TOOLS": json.dumps({"command": "uvx", "args": ["mcp-server-fetch"]})}
    with pytest.raises(ConfigurationError, match="local command \\(stdio\\): Flowless never executes local programs"):
        await arun_flow_from_json(agent_with_mcp(), "x", settings=LOOPBACK, variables=stdio)
    with pytest.raises(ConfigurationError, match="never executes local programs"):
        legacy = flow("stdio", [node("MCPStdio-s1", "MCPStdio"), node("Agent-s2", "Agent", {"model": [{"name": "m", "provider": "OpenAI"}]})],
                      [edge("MCPStdio-s1", "tools", "Agent-s2", "tools", output_types=["Tool"], input_types=["Tool"])])
        await arun_flow_from_json(legacy, "x", settings=LOOPBACK)


async def test_the_guard_and_a_missing_server_config(mcp_server):
    with pytest.raises(BlockedURLError):
        await arun_flow_from_json(agent_with_mcp(), "x", settings=EngineSettings(), variables=server_config(mcp_server))
    assert mcp_server.requests == []
    with pytest.raises(MissingVariableError, match="MCP_SERVER_TEST_TOOLS"):
        await arun_flow_from_json(agent_with_mcp(), "x", settings=LOOPBACK)


async def test_an_unreachable_server_is_a_provider_error(models):
    from flowless_engine.errors import ProviderError

    with pytest.raises(ProviderError, match="MCP server 'test-tools'"):
        await arun_flow_from_json(agent_with_mcp(), "x", settings=LOOPBACK, variables={"MCP_SERVER_TEST_TOOLS": "http://127.0.0.1:9/mcp"})
