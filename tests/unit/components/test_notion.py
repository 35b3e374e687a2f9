"""Notion nodes through the engine against tests/support/notion_server.py (Bearer token from a
tenant variable, Notion-Version header, cursor pagination, Notion's error JSON, tool mode)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from flowless_engine.errors import ConfigurationError, MissingVariableError, ProviderError
from flowless_engine.settings import EngineSettings
from tests.support.component_runs import run_flow, value
from tests.support.flows import flow, node
from tests.support.notion_server import API_KEY, DATABASE, PAGE, NotionServer


@pytest.fixture(scope="module")
def server() -> Iterator[NotionServer]:
    with NotionServer() as s:
        yield s


@pytest.fixture
def settings(server: NotionServer) -> EngineSettings:
    server.reset()
    return EngineSettings(allow_loopback=True, service_urls=server.service_urls(), http_retries=2)


async def run_one(type_name: str, values: dict, settings: EngineSettings, variables: dict | None = None):
    n = node(f"{type_name}-n1", type_name, {"notion_secret": "NOTION_TOKEN", **values})
    result = await run_flow(flow("t", [n], []), settings=settings, variables={"NOTION_TOKEN": API_KEY} if variables is None else variables)
    return value(result, f"{type_name}-n1", "api_run_model")


async def test_search_pages_and_databases(server: NotionServer, settings: EngineSettings) -> None:
    rows = await run_one("NotionSearch", {"query": "plan"}, settings)
    assert [r.data["title_or_url"] for r in rows] == [f"https://www.notion.so/Plan-{PAGE}"]
    assert rows[0].data["text"].startswith(f"id: {PAGE}\ntitle_or_url: https://www.notion.so/Plan-") and rows[0].data["type"] == "page"
    request = server.requests[-1]
    assert request.headers["authorization"] == f"Bearer {API_KEY}" and request.headers["notion-version"] == "2022-06-28"
    assert request.json() == {"query": "plan", "filter": {"value": "page", "property": "object"},
                              "sort": {"direction": "descending", "timestamp": "last_edited_time"}}
    databases = await run_one("NotionSearch", {"query": "", "filter_value": "database", "sort_direction": "ascending"}, settings)
    assert [(r.data["title_or_url"], r.data["type"]) for r in databases] == [("Tasks", "database")]


async def test_list_pages_properties_and_content(server: NotionServer, settings: EngineSettings) -> None:
    pages = await run_one("NotionListPages", {"database_id": DATABASE, "query_json": '{"filter": {"property": "Status", "select": {"equals": "Done"}}}'}, settings)
    assert [p.data["id"] for p in pages] == [PAGE] and pages[0].data["properties"]["Name"]["type"] == "title"
    assert server.requests[-1].path == f"/v1/databases/{DATABASE}/query" and "filter" in server.requests[-1].json()
    bad = await run_one("NotionListPages", {"database_id": DATABASE, "query_json": "{oops"}, settings)
    assert bad[0].data["text"].startswith("Invalid JSON format for query")  # Langflow answers it as a row
    props = await run_one("NotionDatabaseProperties", {"database_id": DATABASE}, settings)
    assert set(props.data) == {"Name", "Status", "text"} and props.data["Status"]["type"] == "select"
    content = await run_one("NotionPageContent", {"page_id": PAGE}, settings)
    text = content.data["content"]
    assert text.startswith("Plan\n\nFirst step.\n\n---\n\nitem 0\nitem 1\n") and text.endswith("item 149")  # both cursor pages
    assert [r.q.get("start_cursor") for r in server.requests[-2:]] == [None, "100"]


async def test_create_and_update_pages(server: NotionServer, settings: EngineSettings) -> None:
    props = {"Name": {"title": [{"text": {"content": "Ship it"}}]}}
    created = await run_one("NotionPageCreator", {"database_id": DATABASE, "properties_json": json.dumps(props)}, settings)
    assert created.data["parent"] == {"database_id": DATABASE} and created.data["text"].startswith("Created page properties:\nName: ")
    assert server.requests[-1].json() == {"parent": {"database_id": DATABASE}, "properties": props}
    missing = await run_one("NotionPageCreator", {"database_id": DATABASE, "properties_json": ""}, settings)
    assert missing.data["text"] == "Invalid input. Please provide 'database_id' and 'properties_json'."
    updated = await run_one("NotionPageUpdate", {"page_id": created.data["id"], "properties": '{"Status": {"select": {"name": "Done"}}}'}, settings)
    assert updated.data["properties"]["Status"] == {"select": {"name": "Done"}} and server.requests[-1].method == "PATCH"
    with pytest.raises(ConfigurationError, match=r"Notion rejected the request \(404\): Could not find page"):
        await run_one("NotionPageUpdate", {"page_id": "nope", "properties": "{}"}, settings)


async def test_users_and_errors(server: NotionServer, settings: EngineSettings) -> None:
    users = await run_one("NotionUserList", {}, settings)
    assert [u.data["name"] for u in users] == ["User 0", "User 1", "User 2"] and users[0].data["text"].startswith("User:\nId: u0\n")
    with pytest.raises(ConfigurationError, match=r"Notion refused the credentials \(401\): API token is invalid"):
        await run_one("NotionUserList", {}, settings, variables={"NOTION_TOKEN": "secret_wrong"})
    with pytest.raises(MissingVariableError):
        await run_one("NotionUserList", {}, settings, variables={})
    server.fail_next(2, 429)  # rate limited: retried
    assert len(await run_one("NotionUserList", {}, settings)) == 3
    server.fail_next(3, 502)
    with pytest.raises(ProviderError, match="Notion failed"):
        await run_one("NotionUserList", {}, settings)


async def test_tool_mode_names_and_arguments(server: NotionServer, settings: EngineSettings) -> None:
    from flowless_engine.components.notion import NotionSearch
    from flowless_engine.graph.model import Vertex
    from flowless_engine.runtime.context import RunContext
    from flowless_engine.runtime.services import DictVariableResolver

    ctx = RunContext(flow_id="f", session_id="s", settings=settings, variables=DictVariableResolver({}))
    component = NotionSearch(Vertex(id="NotionSearch-1", type="NotionSearch", display_name="Search", fields={}, outputs=[]),
                             {"notion_secret": API_KEY, "filter_value": "page", "sort_direction": "descending"}, ctx)
    try:
        (tool,) = component.as_tools()
        assert tool.name == "notion_search" and set(tool.parameters["properties"]) == {"query", "filter_value", "sort_direction"}
        answer = await tool.run({"query": "tasks", "filter_value": "database"})
        assert '"title_or_url": "Tasks"' in answer and '"type": "database"' in answer
        component.params["notion_secret"] = "secret_wrong"  # a failing call is read back by the model, not raised
        assert await tool.run({"query": "x"}) == "Error: Notion refused the credentials (401): API token is invalid."
    finally:
        if ctx.http_client is not None:
            await ctx.http_client.aclose()


async def test_add_content_converts_markdown(server: NotionServer, settings: EngineSettings) -> None:
    markdown = ("# Plan\n\nFirst line\ncontinued.\n\n- one\n- two\n1. first\n> quoted\n\n---\n"
                "```python\nprint('hi')\n```\n| A | B |\n|---|---|\n| 1 | 2 |\n")
    data = await run_one("AddContentToPage", {"markdown_text": markdown, "block_id": PAGE}, settings)
    children = server.requests[-1].json()["children"]
    assert [c["type"] for c in children] == ["heading_1", "paragraph", "bulleted_list_item", "bulleted_list_item", "numbered_list_item",
                                             "quote", "divider", "code", "table"]
    assert children[1]["paragraph"]["rich_text"][0]["text"]["content"] == "First line continued."
    assert children[7]["code"] == {"rich_text": [{"type": "text", "text": {"content": "print('hi')"}}], "language": "python"}
    table = children[8]["table"]
    assert table["table_width"] == 2 and [[cell[0]["text"]["content"] for cell in row["table_row"]["cells"]] for row in table["children"]] == [["A", "B"], ["1", "2"]]
    assert data.data["object"] == "list" and json.loads(data.data["text"])["results"][0]["type"] == "heading_1"
