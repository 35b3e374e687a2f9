"""`flowless run` in a subprocess called by the official SDKs: openai's Responses API client and
the mcp client (Streamable HTTP and SSE) against the local server's example flows."""

from __future__ import annotations

import asyncio

import httpx2
import openai
import requests
from mcp.client import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from flowless.store.tenancy import default_project_id


def test_openai_sdk_responses(local_server):
    client = openai.OpenAI(base_url=f"{local_server['base']}/api/v1", api_key=local_server["key"], max_retries=0,
                           default_headers={"x-api-key": local_server["key"]})
    answer = client.responses.create(model="basic-chat", input="e2e responses")
    assert answer.output_text == "Echo: e2e responses"
    streamed = list(client.responses.create(model="basic-chat", input="e2e stream", stream=True))
    assert streamed[-1].type == "response.completed" and streamed[-1].response.output_text == "Echo: e2e stream"
    assert "".join(e.delta for e in streamed if e.type == "response.output_text.delta") == "Echo: e2e stream"


def test_mcp_sdk_lists_and_calls_the_local_projects_tools(local_server):
    base, key = local_server["base"], local_server["key"]
    flows = requests.get(f"{base}/api/v1/flows/", headers={"x-api-key": key}, timeout=10).json()
    echo = next(f for f in flows if f["endpoint_name"] == "echo-prompt")
    project = default_project_id("local")  # flows saved without a project are in the tenant's default project
    patched = requests.patch(f"{base}/api/v1/mcp/project/{project}", headers={"x-api-key": key}, timeout=10,
                             json={"settings": [{"id": echo["id"], "mcp_enabled": True, "action_name": "echo"}]})
    assert patched.status_code == 200, patched.text

    async def call() -> list[list[str]]:
        seen = []
        transports = [streamable_http_client(f"{base}/api/v1/mcp/project/{project}/streamable",
                                             http_client=httpx2.AsyncClient(headers={"x-api-key": key}, timeout=30)),
                      sse_client(f"{base}/lf/local/api/v1/mcp/project/{project}/sse", headers={"x-api-key": key})]
        for transport in transports:
            async with Client(transport) as mcp:
                names = [t.name for t in (await mcp.list_tools()).tools]
                result = await mcp.call_tool("echo", {"input_value": "over mcp"})
                seen.append([*names, result.content[0].text])
        return seen

    expected = ["echo", "You said: over mcp\nFlowless answered without a model."]
    assert asyncio.run(call()) == [expected, expected]

