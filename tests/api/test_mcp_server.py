"""A project's flows as an MCP server, called with the official `mcp` SDK client over real HTTP
(Streamable HTTP and SSE, `/api/v1/...` and `/lf/<tenant>/...`), and its settings routes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from mcp.client import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from tests.support.live_app import LiveApp

TENANT = "acme"


@pytest.fixture
def live(api_env: dict[str, Any]) -> Iterator[LiveApp]:
    with LiveApp() as app:
        yield app


@pytest.fixture
def project(client, api_env) -> str:
    """The tenant's default project with Basic Chat exposed as `chat_tool` (Echo Prompt not exposed)."""
    from flowless.store.tenancy import default_project_id

    project_id = default_project_id(TENANT)
    answer = client.patch(f"/api/v1/mcp/project/{project_id}", headers={"x-api-key": api_env["key"]}, json={"settings": [
        {"id": api_env["flows"]["Basic Chat"], "mcp_enabled": True, "action_name": "chat_tool", "action_description": "Chats back"},
        {"id": api_env["flows"]["Echo Prompt"], "mcp_enabled": False},
    ]})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"message": "Updated MCP settings for 2 flows and project auth settings"}
    return project_id


def streamable(url: str, key: str) -> Client:
    return Client(streamable_http_client(url, http_client=httpx2.AsyncClient(headers={"x-api-key": key}, timeout=30)))


async def test_streamable_http_lists_and_calls_the_projects_tools(live, api_env, project):
    async with streamable(f"{live.base_url}/api/v1/mcp/project/{project}/streamable", api_env["key"]) as mcp:
        assert mcp.server_info.name == f"langflow-mcp-project-{project}"
        listed = await mcp.list_tools()
        assert [t.name for t in listed.tools] == ["chat_tool"]
        tool = listed.tools[0]
        assert tool.description == "Chats back"
        assert tool.input_schema["properties"]["session_id"]["type"] == "string"
        assert tool.input_schema["properties"]["input_value"]["type"] == "string"
        result = await mcp.call_tool("chat_tool", {"input_value": "over mcp", "session_id": "mcp-session"})
        assert result.is_error is False
        assert [c.text for c in result.content] == ["Echo: over mcp"]
        missing = await mcp.call_tool("not_a_tool", {})
        assert missing.is_error is True and "not found" in missing.content[0].text
    async with httpx2.AsyncClient() as http:
        stored = (await http.get(f"{live.base_url}/api/v1/monitor/messages", params={"session_id": "mcp-session"},
                                 headers={"x-api-key": api_env["key"]})).json()
    assert [m["text"] for m in stored] == ["over mcp", "Echo: over mcp"]


async def test_sse_transport_in_both_path_forms(live, api_env, project):
    for prefix in ("", f"/lf/{TENANT}"):
        transport = sse_client(f"{live.base_url}{prefix}/api/v1/mcp/project/{project}/sse", headers={"x-api-key": api_env["key"]})
        async with Client(transport) as mcp:
            assert [t.name for t in (await mcp.list_tools()).tools] == ["chat_tool"]
            result = await mcp.call_tool("chat_tool", {"input_value": f"sse {prefix or 'plain'}"})
            assert [c.text for c in result.content] == [f"Echo: sse {prefix or 'plain'}"]


async def test_tenant_path_form_of_streamable_http(live, api_env, project):
    async with streamable(f"{live.base_url}/lf/{TENANT}/api/v1/mcp/project/{project}/streamable", api_env["key"]) as mcp:
        result = await mcp.call_tool("chat_tool", {"input_value": "tenant form"})
        assert result.content[0].text == "Echo: tenant form"


async def test_another_tenants_key_is_refused(live, api_env, project):
    for url in (f"{live.base_url}/api/v1/mcp/project/{project}/streamable",
                f"{live.base_url}/lf/{TENANT}/api/v1/mcp/project/{project}/streamable"):
        with pytest.raises(Exception):
            async with streamable(url, api_env["other_key"]) as mcp:
                await mcp.list_tools()
    async with httpx2.AsyncClient() as http:
        answer = await http.post(f"{live.base_url}/api/v1/mcp/project/{project}/streamable", headers={"x-api-key": api_env["other_key"]},
                                 json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        assert answer.status_code == 404 and answer.json() == {"detail": "Project not found"}
        answer = await http.post(f"{live.base_url}/api/v1/mcp/project/{project}/streamable", headers={"x-api-key": "sk-wrong"},
                                 json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        assert answer.status_code == 403


def test_settings_list_and_scopes(client, api_env, project):
    headers = {"x-api-key": api_env["key"]}
    listed = client.get(f"/api/v1/mcp/project/{project}", headers=headers).json()
    assert listed["server_name"] == "lf-starter_project" and listed["auth_settings"] is None
    assert listed["tools"] == [{"id": api_env["flows"]["Basic Chat"], "mcp_enabled": True, "action_name": "chat_tool",
                                "action_description": "Chats back", "name": "Basic Chat", "description": listed["tools"][0]["description"]}]
    every = client.get(f"/api/v1/mcp/project/{project}", params={"mcp_enabled": "false"}, headers=headers).json()
    assert {t["name"] for t in every["tools"]} == {"Basic Chat", "Echo Prompt"}
    echo = next(t for t in every["tools"] if t["name"] == "Echo Prompt")
    assert echo["action_name"] == "echo_prompt" and echo["mcp_enabled"] is False
    # the run-only key may call tools but not change settings
    refused = client.patch(f"/api/v1/mcp/project/{project}", headers={"x-api-key": api_env["run_only_key"]}, json={"settings": []})
    assert refused.status_code == 403
    assert client.get(f"/api/v1/mcp/project/{project}", headers={"x-api-key": api_env["other_key"]}).status_code == 404
    assert client.get("/api/v1/mcp/project/not-a-uuid", headers=headers).status_code == 404


def test_stateless_transport_answers_notifications_and_refuses_get(client, api_env, project):
    headers = {"x-api-key": api_env["key"]}
    url = f"/api/v1/mcp/project/{project}/streamable"
    note = client.post(url, headers=headers, json={"jsonrpc": "2.0", "method": "notifications/initialized"})
    assert note.status_code == 202 and note.content == b""
    assert client.get(url, headers=headers).status_code == 405
    unknown = client.post(url, headers=headers, json={"jsonrpc": "2.0", "id": 7, "method": "server/discover"}).json()
    assert unknown == {"jsonrpc": "2.0", "id": 7, "error": {"code": -32601, "message": "Method not found: server/discover"}}
    batch = client.post(url, headers=headers, json=[{"jsonrpc": "2.0", "id": 1, "method": "ping"},
                                                    {"jsonrpc": "2.0", "method": "notifications/initialized"}]).json()
    assert batch == [{"jsonrpc": "2.0", "id": 1, "result": {}}]
    assert client.post(url, headers=headers, content=b"{not json").status_code == 400


async def test_a_long_tool_call_reports_progress_over_sse(live, api_env, project):
    api_env["server"].delay_s = 1.3
    seen: list[float] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append(progress)

    try:
        async with streamable(f"{live.base_url}/api/v1/mcp/project/{project}/streamable", api_env["key"]) as mcp:
            result = await mcp.call_tool("chat_tool", {"input_value": "slowly"}, progress_callback=on_progress)
    finally:
        api_env["server"].delay_s = 0
    assert result.content[0].text == "Echo: slowly"
    assert seen[0] == 0.0 and seen[-1] == 1.0 and any(0 < p < 1 for p in seen)


def test_the_tools_of_another_project(client, api_env, project):
    headers = {"x-api-key": api_env["key"]}
    created = client.post("/api/v1/projects/", headers=headers, json={"name": "Support", "description": "",
                                                                     "flows_list": [api_env["flows"]["Basic Chat"]]})
    assert created.status_code == 201, created.text
    support = created.json()["id"]
    listed = client.get(f"/api/v1/mcp/project/{support}", headers=headers).json()
    assert listed["server_name"] == "lf-support" and [t["action_name"] for t in listed["tools"]] == ["chat_tool"]
    assert client.get(f"/api/v1/mcp/project/{project}", headers=headers).json()["tools"] == []  # moved out of the default project
    url = f"/api/v1/mcp/project/{support}/streamable"
    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "chat_tool", "arguments": {"input_value": "moved"}}}
    assert client.post(url, headers=headers, json=call).json()["result"]["content"][0]["text"] == "Echo: moved"
    assert client.post(url, headers={"x-api-key": api_env["other_key"]}, json=call).status_code == 404
