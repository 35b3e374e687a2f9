"""`/api/v2/mcp/servers`: the tenant's MCP server configs (Langflow's shapes), which MCPTools nodes
of exported flows (that name a server only) use at run time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.conftest import store_flow
from tests.support.flows import agent_chat_flow, edge, node
from tests.support.mcp_server import McpTestServer


@pytest.fixture(scope="module")
def mcp_server() -> Iterator[McpTestServer]:
    with McpTestServer() as server:
        yield server


def h(api_env: dict[str, Any], key: str = "key") -> dict[str, str]:
    return {"x-api-key": api_env[key]}


def test_add_read_patch_list_delete(client, api_env, mcp_server):
    url = mcp_server.base_url + "/mcp"
    added = client.post("/api/v2/mcp/servers/test-tools", headers=h(api_env), json={"url": url, "headers": {"Authorization": "Bearer s3cret"}})
    assert added.status_code == 200 and added.json() == {"url": url, "headers": {"Authorization": "********"}}
    assert client.post("/api/v2/mcp/servers/test-tools", headers=h(api_env), json={"url": url}).status_code == 409
    assert client.get("/api/v2/mcp/servers/test-tools", headers=h(api_env)).json() == {"url": url, "headers": {"Authorization": "********"}}
    assert "s3cret" not in client.get("/api/v1/variables/", headers=h(api_env)).text
    patched = client.patch("/api/v2/mcp/servers/test-tools", headers=h(api_env), json={"headers": {"Authorization": "********", "X-Team": "a"}})
    assert patched.json()["headers"] == {"Authorization": "********", "X-Team": "********"}
    assert client.get("/api/v2/mcp/servers", headers=h(api_env)).json() == [{"name": "test-tools", "mode": None, "toolsCount": None}]
    counted = client.get("/api/v2/mcp/servers", params={"action_count": "true"}, headers=h(api_env)).json()
    assert counted == [{"name": "test-tools", "mode": "streamable_http", "toolsCount": 4}]
    assert all(headers.get("authorization") == "Bearer s3cret" for _, _, headers in mcp_server.requests)  # the kept secret
    assert client.get("/api/v2/mcp/servers/test-tools", headers=h(api_env, "other_key")).status_code == 404
    assert client.delete("/api/v2/mcp/servers/test-tools", headers=h(api_env)).status_code == 200
    assert client.get("/api/v2/mcp/servers/test-tools", headers=h(api_env)).json() == {"detail": "Server not found."}


def test_stdio_configs_and_read_only_keys_are_refused(client, api_env):
    refused = client.post("/api/v2/mcp/servers/local-fs", headers=h(api_env), json={"command": "npx", "args": ["server-filesystem"]})
    assert refused.status_code == 422 and "never executes local programs" in refused.json()["detail"]
    assert client.post("/api/v2/mcp/servers/x", headers=h(api_env, "run_only_key"), json={"url": "http://x"}).status_code == 403


def test_an_exported_flow_naming_the_server_runs_with_it(client, api_env, mcp_server):
    client.post("/api/v2/mcp/servers/test-tools", headers=h(api_env), json={"url": mcp_server.base_url + "/mcp"})
    flow = agent_chat_flow("MCP Agent")
    tools = node("MCPTools-t1", "MCPTools", {"mcp_server": {"name": "test-tools", "config": {}}})
    tools["data"]["node"]["outputs"] = [{"name": "component_as_tool", "method": "to_toolkit", "types": ["Tool"]}]
    flow["data"]["nodes"].append(tools)
    flow["data"]["edges"].append(edge("MCPTools-t1", "component_as_tool", "Agent-a2", "tools", output_types=["Tool"], input_types=["Tool"]))
    store_flow("acme", flow)
    api_env["server"].script([{"tool_calls": [{"name": "shout", "arguments": {"text": "registered"}}]}])
    answer = client.post("/api/v1/run/mcp-agent", headers=h(api_env), json={"input_value": "go"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["outputs"][0]["outputs"][0]["results"]["message"]["text"] == "The answer is REGISTERED."
