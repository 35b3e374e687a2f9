"""Notion's REST API (version 2022-06-28): search, database query and properties, page content,
create and update pages, list users. Each node has Langflow's `api_run_model` (Data) and
`api_build_tool` (Tool) outputs; in an Agent's tool list it offers its own arguments.

Auth: `Authorization: Bearer <integration token>` from the node's `notion_secret` (a tenant
variable when `load_from_db`), `Notion-Version: 2022-06-28`. The endpoint can be replaced
(`EngineSettings.service_urls`, name `notion`). Errors: a bad JSON argument is answered as
Langflow does (a Data whose text is the error, so an Agent can correct itself); Notion's own
errors (`{"object": "error", "status", "code", "message"}`) become a clear 4xx naming Notion
(401/403 refused token, 400/404 rejected request), 429/5xx are retried then 502, timeout 504.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from flowless_engine.components.apis import api_key, call_json, service_url
from flowless_engine.components.base import Component, Input, Output, to_text
from flowless_engine.components.toolmode import ToolModeMixin
from flowless_engine.schema import Data

NOTION_VERSION = "2022-06-28"
MAX_PAGES = 20  # cursor pages followed for block children and users (100 items each)


def _secret_input() -> Input:
    return Input("notion_secret", "Notion Secret", "str", "", required=True, password=True, load_from_db=True,
                 info="The Notion integration token.", input_kind="SecretStrInput")


def _row(text: str, data: dict[str, Any] | None = None) -> Data:
    """Langflow's `Data(text=..., data=...)`."""
    return Data(data={**(data or {}), "text": text})


class _NotionNode(ToolModeMixin, Component):
    category = "notion"
    icon = "NotionDirectoryLoader"
    outputs = (Output("api_run_model", "run_model", ("Data",), "Data"), Output("api_build_tool", "build_tool", ("Tool",), "Tool"))
    tool_outputs = ("api_run_model",)
    tool_name = ""  # Langflow's StructuredTool name (an Agent sees it)

    def as_tools(self) -> list[Any]:
        tools = super().as_tools()
        for tool in tools:
            if tool.name == "run_model" and self.tool_name:
                tool.name = self.tool_name
        return tools

    async def notion(self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None) -> Any:
        token = await api_key(self, "notion_secret", "Notion")
        headers = {"Authorization": f"Bearer {token}", "Notion-Version": NOTION_VERSION}
        url = service_url(self, "notion", "https://api.notion.com") + path
        return await call_json(self, "Notion", method, url, headers=headers, json_body=body, params=params)

    async def paged(self, path: str, limit: int = MAX_PAGES) -> list[dict[str, Any]]:
        """Every `results` item of a paginated GET (`start_cursor`/`next_cursor`/`has_more`)."""
        items: list[dict[str, Any]] = []
        cursor = None
        for _ in range(limit):
            page = await self.notion("GET", path, params={"page_size": 100, "start_cursor": cursor})
            items.extend(page.get("results") or [])
            cursor = page.get("next_cursor")
            if not page.get("has_more") or not cursor:
                break
        return items

    def text_param(self, name: str) -> str:
        return to_text(self.params.get(name)).strip()


class NotionSearch(_NotionNode):
    """`POST /v1/search` (object filter, last-edited sort): one row per page or database."""

    type_name = "NotionSearch"
    tool_name = "notion_search"
    display_name = "Search "
    description = "Searches all pages and databases that have been shared with an integration."
    inputs = (
        _secret_input(),
        Input("query", "Search Query", "str", "", info="The text that the API compares page and database titles against.", input_kind="StrInput"),
        Input("filter_value", "Filter Type", "str", "page", options=("page", "database"), input_kind="DropdownInput"),
        Input("sort_direction", "Sort Direction", "str", "descending", options=("ascending", "descending"), input_kind="DropdownInput"),
    )
    tool_fields = {"query": ("string", "The search query text."), "filter_value": ("string", "page or database."),
                   "sort_direction": ("string", "ascending or descending.")}

    async def run_model(self) -> list[Data]:
        body = {"query": to_text(self.params.get("query")), "filter": {"value": self.text_param("filter_value") or "page", "property": "object"},
                "sort": {"direction": self.text_param("sort_direction") or "descending", "timestamp": "last_edited_time"}}
        results = (await self.notion("POST", "/v1/search", body)).get("results") or []
        rows = []
        for item in results:
            kind = item.get("object")
            if kind == "page":
                title = item.get("url", "")
            else:
                titles = item.get("title") if isinstance(item.get("title"), list) else []
                title = titles[0].get("plain_text", "N/A") if titles else "N/A"
            text = f"id: {item.get('id')}\ntitle_or_url: {title}\ntype: {kind}\nlast_edited_time: {item.get('last_edited_time')}\n\n"
            rows.append(_row(text, {"id": item.get("id"), "type": kind, "last_edited_time": item.get("last_edited_time"), "title_or_url": title}))
        self.status = rows
        return rows


class NotionListPages(_NotionNode):
    """`POST /v1/databases/{id}/query` with the node's filter/sort JSON: one row per page."""

    type_name = "NotionListPages"
    tool_name = "notion_list_pages"
    display_name = "List Pages "
    description = "Query a Notion database with filtering and sorting. The input should be a JSON string containing the 'filter' and 'sorts' objects."
    inputs = (
        _secret_input(),
        Input("database_id", "Database ID", "str", "", info="The ID of the Notion database to query.", input_kind="StrInput"),
        Input("query_json", "Database query (JSON)", "str", "", multiline=True,
              info="A JSON string containing the filters and sorts that will be used for querying the database.", input_kind="MultilineInput"),
    )
    tool_fields = {"database_id": ("string", "The ID of the Notion database to query."),
                   "query_json": ("string", "A JSON string with the 'filter' and 'sorts' of the query.")}

    async def run_model(self) -> list[Data]:
        raw = self.text_param("query_json")
        try:
            query = json.loads(raw) if raw else {}
        except ValueError as exc:
            return [_row(f"Invalid JSON format for query: {exc}")]
        result = await self.notion("POST", f"/v1/databases/{quote(self.text_param('database_id'), safe='')}/query", query)
        rows = []
        for page in result.get("results") or []:
            data = {k: page.get(k) for k in ("id", "url", "created_time", "last_edited_time", "properties")}
            text = (f"id: {data['id']}\nurl: {data['url']}\ncreated_time: {data['created_time']}\n"
                    f"last_edited_time: {data['last_edited_time']}\nproperties: {json.dumps(data['properties'], indent=2)}\n\n")
            rows.append(_row(text, data))
        self.status = rows
        return rows


def _rich(rich_text: list[dict[str, Any]] | None) -> str:
    return "".join(segment.get("plain_text", "") for segment in rich_text or [])


def blocks_text(blocks: list[dict[str, Any]]) -> str:
    """A page's blocks as plain text, as Langflow's viewer renders them."""
    out = ""
    for block in blocks:
        kind = block.get("type")
        body = block.get(kind) or {}
        if kind in ("paragraph", "heading_1", "heading_2", "heading_3", "quote", "code"):
            out += _rich(body.get("rich_text")) + "\n\n"
        elif kind in ("bulleted_list_item", "numbered_list_item", "to_do"):
            out += _rich(body.get("rich_text")) + "\n"
        elif kind == "image":
            out += f"[Image: {(body.get('external') or {}).get('url', 'No URL')}]\n\n"
        elif kind == "divider":
            out += "---\n\n"
    return out.strip()


class NotionPageContent(_NotionNode):
    """`GET /v1/blocks/{page}/children` (every cursor page): the page as plain text."""

    type_name = "NotionPageContent"
    tool_name = "notion_page_content"
    display_name = "Page Content Viewer "
    description = "Retrieve the content of a Notion page as plain text."
    inputs = (
        Input("page_id", "Page ID", "str", "", info="The ID of the Notion page to retrieve.", input_kind="StrInput"),
        _secret_input(),
    )
    tool_fields = {"page_id": ("string", "The ID of the Notion page to retrieve.")}

    async def run_model(self) -> Data:
        text = blocks_text(await self.paged(f"/v1/blocks/{quote(self.text_param('page_id'), safe='')}/children"))
        data = _row(text, {"content": text})
        self.status = data
        return data


def _properties_text(prefix: str, page: dict[str, Any]) -> str:
    return prefix + "".join(f"{name}: {value}\n" for name, value in (page.get("properties") or {}).items())


class NotionPageCreator(_NotionNode):
    """`POST /v1/pages` with `parent.database_id` and the node's properties JSON."""

    type_name = "NotionPageCreator"
    tool_name = "create_notion_page"
    display_name = "Create Page "
    description = "A component for creating Notion pages."
    inputs = (
        Input("database_id", "Database ID", "str", "", info="The ID of the Notion database.", input_kind="StrInput"),
        _secret_input(),
        Input("properties_json", "Properties (JSON)", "str", "", multiline=True, info="The properties of the new page as a JSON string.",
              input_kind="MultilineInput"),
    )
    tool_fields = {"database_id": ("string", "The ID of the Notion database."),
                   "properties_json": ("string", "The properties of the new page as a JSON string.")}

    async def run_model(self) -> Data:
        database, raw = self.text_param("database_id"), self.text_param("properties_json")
        if not database or not raw:
            return _row("Invalid input. Please provide 'database_id' and 'properties_json'.")
        try:
            properties = json.loads(raw)
        except ValueError as exc:
            return _row(f"Invalid properties format. Please provide a valid JSON string. Error: {exc}")
        page = await self.notion("POST", "/v1/pages", {"parent": {"database_id": database}, "properties": properties})
        data = Data(data={**page, "text": _properties_text("Created page properties:\n", page)})
        self.status = data
        return data


class NotionPageUpdate(_NotionNode):
    """`PATCH /v1/pages/{id}` with the node's properties (JSON text or an object)."""

    type_name = "NotionPageUpdate"
    tool_name = "update_notion_page"
    display_name = "Update Page Property "
    description = "Update the properties of a Notion page."
    inputs = (
        Input("page_id", "Page ID", "str", "", info="The ID of the Notion page to update.", input_kind="StrInput"),
        Input("properties", "Properties", "str", "", multiline=True, info="The properties to update on the page (as a JSON string or a dictionary).",
              input_kind="MultilineInput"),
        _secret_input(),
    )
    tool_fields = {"page_id": ("string", "The ID of the Notion page to update."),
                   "properties": ("string", "The properties to update, as a JSON string.")}

    async def run_model(self) -> Data:
        raw = self.params.get("properties")
        if isinstance(raw, Data):
            raw = raw.data
        if isinstance(raw, dict):
            properties = raw
        else:
            try:
                properties = json.loads(to_text(raw) or "{}")
            except ValueError as exc:
                return _row(f"Invalid JSON format for properties: {exc}")
        page = await self.notion("PATCH", f"/v1/pages/{quote(self.text_param('page_id'), safe='')}", {"properties": properties})
        data = Data(data={**page, "text": _properties_text("Updated page properties:\n", page)})
        self.status = data
        return data


class NotionDatabaseProperties(_NotionNode):
    """`GET /v1/databases/{id}`: its `properties` schema."""

    type_name = "NotionDatabaseProperties"
    tool_name = "notion_database_properties"
    display_name = "List Database Properties "
    description = "Retrieve properties of a Notion database."
    inputs = (
        Input("database_id", "Database ID", "str", "", info="The ID of the Notion database.", input_kind="StrInput"),
        _secret_input(),
    )
    tool_fields = {"database_id": ("string", "The ID of the Notion database.")}

    async def run_model(self) -> Data:
        database = await self.notion("GET", f"/v1/databases/{quote(self.text_param('database_id'), safe='')}")
        properties = database.get("properties") or {}
        data = Data(data={**properties, "text": str(properties)})
        self.status = data
        return data


class NotionUserList(_NotionNode):
    """`GET /v1/users` (every cursor page): id, type, name, avatar per user."""

    type_name = "NotionUserList"
    tool_name = "notion_list_users"
    display_name = "List Users "
    description = "Retrieve users from Notion."
    inputs = (_secret_input(),)
    tool_fields = {}

    async def run_model(self) -> list[Data]:
        rows = []
        for user in await self.paged("/v1/users"):
            data = {"id": user.get("id"), "type": user.get("type"), "name": user.get("name", ""), "avatar_url": user.get("avatar_url", "")}
            text = "User:\n" + "".join(f"{k.replace('_', ' ').title()}: {v}\n" for k, v in data.items()) + "________________________\n"
            rows.append(_row(text, data))
        self.status = rows
        return rows


def _block(kind: str, text: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"rich_text": [{"type": "text", "text": {"content": text}}]}
    body.update(extra)
    return {"object": "block", "type": kind, kind: body}


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def markdown_blocks(markdown: str) -> list[dict[str, Any]]:
    """Markdown as Notion blocks: headings 1-3, paragraphs (a run of lines), bulleted and numbered
    items, fenced code (its language), quotes, dividers and pipe tables (a `table` block with
    `table_row` children, the first row a header)."""
    import re

    blocks: list[dict[str, Any]] = []
    lines = markdown.replace("\r\n", "\n").split("\n")
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append(_block("paragraph", " ".join(paragraph)))
            paragraph.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith("```"):
            flush()
            language = stripped[3:].strip() or "plain text"
            code: list[str] = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith("```"):
                code.append(lines[i])
                i += 1
            blocks.append(_block("code", "\n".join(code), language=language))
        elif not stripped:
            flush()
        elif heading := re.match(r"^(#{1,6})\s+(.*)$", stripped):
            flush()
            level = min(len(heading.group(1)), 3)
            blocks.append(_block(f"heading_{level}", heading.group(2).strip()))
        elif re.fullmatch(r"(-{3,}|\*{3,}|_{3,})", stripped):
            flush()
            blocks.append({"object": "block", "type": "divider", "divider": {}})
        elif item := re.match(r"^[-*+]\s+(.*)$", stripped):
            flush()
            blocks.append(_block("bulleted_list_item", item.group(1)))
        elif item := re.match(r"^\d+[.)]\s+(.*)$", stripped):
            flush()
            blocks.append(_block("numbered_list_item", item.group(1)))
        elif stripped.startswith(">"):
            flush()
            blocks.append(_block("quote", stripped.lstrip(">").strip()))
        elif stripped.startswith("|") and i + 1 < len(lines) and re.fullmatch(r"\|?[\s:|-]+\|?", lines[i + 1].strip()) and "-" in lines[i + 1]:
            flush()
            rows = [_cells(stripped)]
            i += 2
            while i < len(lines) and lines[i].strip().startswith("|"):
                rows.append(_cells(lines[i]))
                i += 1
            width = max(len(r) for r in rows)
            children = [{"object": "block", "type": "table_row",
                         "table_row": {"cells": [[{"type": "text", "text": {"content": c}}] for c in r + [""] * (width - len(r))]}}
                        for r in rows]
            blocks.append({"object": "block", "type": "table",
                           "table": {"table_width": width, "has_column_header": True, "has_row_header": False, "children": children}})
            continue
        else:
            paragraph.append(stripped)
        i += 1
    flush()
    return blocks


class AddContentToPage(_NotionNode):
    """`PATCH /v1/blocks/{id}/children` with the node's markdown as blocks: Notion's answer."""

    type_name = "AddContentToPage"
    tool_name = "add_content_to_notion_page"
    display_name = "Add Content to Page "
    description = "Convert markdown text to Notion blocks and append them to a Notion page."
    inputs = (
        Input("markdown_text", "Markdown Text", "str", "", multiline=True, info="The markdown text to convert to Notion blocks.",
              input_kind="MultilineInput"),
        Input("block_id", "Page/Block ID", "str", "", info="The ID of the page/block to add the content.", input_kind="StrInput"),
        _secret_input(),
    )
    tool_fields = {"markdown_text": ("string", "The markdown text to convert to Notion blocks."),
                   "block_id": ("string", "The ID of the page/block to add the content.")}

    async def run_model(self) -> Data:
        blocks = markdown_blocks(to_text(self.params.get("markdown_text")))
        result = await self.notion("PATCH", f"/v1/blocks/{quote(self.text_param('block_id'), safe='')}/children", {"children": blocks})
        data = Data(data={**result, "text": json.dumps(result)})
        self.status = data
        return data
