"""MCP Tools (`MCPTools`, its older name `MCP`, and the deprecated `MCPSse`): a remote MCP
server's tools offered to an Agent, or one selected tool called directly.

The server is named by the node's `mcp_server` (`{"name", "config"}`). Exports carry the name
only (Langflow keeps server configs per user), so an empty config is read from the tenant
variable `MCP_SERVER_<NAME>` (name upper-cased, other characters `_`): JSON `{"url", "headers",
"type"}` or a bare URL. Header values may name variables as `{{NAME}}`; the node's `headers`
override the config's. Servers started as a local command (stdio) are refused: running them would
execute a program. Connections go through the engine's guarded HTTP client (flowless_engine.mcp_client).
"""

from __future__ import annotations

import json
import re
from typing import Any

from flowless_engine.components.base import Component, Input, Output, Tool, to_bool
from flowless_engine.errors import ConfigurationError, MissingVariableError
from flowless_engine.schema import DataFrame

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_\-]*)\s*\}\}")
STDIO_REFUSED = ("MCP server '{name}' is started as a local command (stdio): Flowless never executes local programs. "
                 "Serve it over Streamable HTTP or SSE and give its URL instead.")


def variable_name(server_name: str) -> str:
    """The tenant variable holding a server's config: MCP_SERVER_<NAME>."""
    return "MCP_SERVER_" + re.sub(r"[^A-Za-z0-9]", "_", server_name).upper()


def _header_pairs(value: Any) -> dict[str, str]:
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return {str(i["key"]): str(i.get("value", "")) for i in value if isinstance(i, dict) and i.get("key")}
    return {}


class MCPToolsComponent(Component):
    type_name = "MCPTools"
    display_name = "MCP Tools"
    description = "Connect to an MCP server to use its tools."
    category = "models_and_agents"
    icon = "Mcp"
    inputs = (
        Input("mcp_server", "MCP Server", "mcp", {}, info="Select the MCP Server that will be used by this component", input_kind="McpInput"),
        Input("use_cache", "Use Cached Server", "bool", False, advanced=True, input_kind="BoolInput",
              info="Enable caching of MCP Server and tools to improve performance. Disable to always fetch fresh tools and server updates."),
        Input("verify_ssl", "Verify SSL Certificate", "bool", True, advanced=True, input_kind="BoolInput",
              info="Enable SSL certificate verification for HTTPS connections."),
        Input("headers", "Headers", "dict", {}, advanced=True, is_list=True, input_kind="DictInput",
              info="HTTP headers to include with MCP server requests. These headers override any headers configured in the MCP server settings."),
        Input("tool_execution_timeout", "Tool Execution Timeout (seconds)", "float", 0.0, advanced=True, input_kind="FloatInput",
              info="Maximum time to wait for tool execution before timing out. Set to 0 to use the system-configured MCP timeout."),
        Input("tool", "Tool", "str", "", info="Select the tool to execute", input_kind="DropdownInput"),
        Input("tool_placeholder", "Tool Placeholder", "str", "", info="Placeholder for the tool", input_kind="MessageTextInput"),
    )
    outputs = (Output("response", "build_output", ("DataFrame",), "Response"),)

    # ---- the server -------------------------------------------------------------------------

    async def server(self) -> Any:
        from flowless_engine.mcp_client import ServerSpec

        value = self.param("mcp_server", {})
        name, config = self._named_config(value)
        if not config:
            config = await self._tenant_config(name)
        if config.get("command"):
            raise ConfigurationError(STDIO_REFUSED.format(name=name), node_id=self.id)
        url = config.get("url")
        if not isinstance(url, str) or not url.strip():
            raise ConfigurationError(f"MCP server '{name}' has no URL", node_id=self.id)
        headers = {**_header_pairs(config.get("headers")), **_header_pairs(self.params.get("headers"))}
        headers = {k: await self._expand(v) for k, v in headers.items()}
        kind = str(config.get("type") or config.get("transport") or "").lower().replace("-", "_")
        transport = "sse" if kind == "sse" else "streamable_http" if kind in {"streamable_http", "http"} else "auto"
        timeout = self._timeout()
        return ServerSpec(name=name, url=url.strip(), headers=tuple(sorted(headers.items())), transport=transport,
                          timeout_s=timeout or float(self.ctx.settings.http_timeout_s))

    def _named_config(self, value: Any) -> tuple[str, dict[str, Any]]:
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                value = {"name": value}
        if not isinstance(value, dict) or not value.get("name") and not value.get("config"):
            raise ConfigurationError(f"Component '{self.name}' has no MCP server selected", node_id=self.id)
        config = value.get("config")
        return str(value.get("name") or "mcp"), dict(config) if isinstance(config, dict) else {}

    async def _tenant_config(self, name: str) -> dict[str, Any]:
        variable = variable_name(name)
        raw = await self.ctx.variables.get(variable)  # the tenant's own, never a caller's override
        if not raw:
            raise MissingVariableError(variable, field="mcp_server")
        try:
            config = json.loads(raw)
        except ValueError:
            return {"url": raw.strip()}
        if isinstance(config, str):
            return {"url": config}
        if not isinstance(config, dict):
            raise ConfigurationError(f"Variable '{variable}' must hold a URL or a JSON object with 'url'")
        return config

    async def _expand(self, value: str) -> str:
        for name in set(_PLACEHOLDER.findall(value)):
            resolved = await self.ctx.variable(name)
            if resolved is None:
                raise MissingVariableError(name, field="headers")
            value = re.sub(r"\{\{\s*" + re.escape(name) + r"\s*\}\}", lambda _: resolved, value)
        return value

    def _timeout(self) -> float | None:
        try:
            timeout = float(self.params.get("tool_execution_timeout") or 0)
        except (TypeError, ValueError):
            return None
        if timeout < 0:
            raise ConfigurationError("Tool Execution Timeout must be greater than or equal to 0.", node_id=self.id)
        return timeout or None

    async def client(self) -> Any:
        from flowless_engine.mcp_client import McpClient

        return McpClient(await self.server(), self.ctx.http)

    # ---- tools for an Agent ---------------------------------------------------------------

    async def build_tools(self) -> list[Tool]:
        client = await self.client()
        listed = await client.list_tools(use_cache=True)
        rows = self.params.get("tools_metadata")
        renamed = _metadata_by_tool(rows if isinstance(rows, list) else [])
        tools = []
        for spec in listed:
            original = spec["name"]
            row = renamed.get(original)
            if row is not None and row.get("status", True) is False:
                continue
            name = str(row.get("name") or original) if row else original
            description = str(row.get("description") or spec.get("description") or "") if row else str(spec.get("description") or "")
            schema = spec.get("inputSchema") if isinstance(spec.get("inputSchema"), dict) else {"type": "object", "properties": {}}
            tools.append(Tool(name=name, description=description or name, parameters=schema, run=_runner(client, original), source_id=self.id))
        return tools

    # ---- one tool, directly ------------------------------------------------------------

    async def build_output(self) -> DataFrame:
        tool = self.param("tool", "")
        if not tool:
            return DataFrame([{"error": "You must select a tool"}])
        client = await self.client()
        listed = {t["name"]: t for t in await client.list_tools(use_cache=to_bool(self.param("use_cache", False)))}
        if tool not in listed:
            raise ConfigurationError(f"MCP server '{client.spec.name}' has no tool '{tool}'", node_id=self.id)
        properties = (listed[tool].get("inputSchema") or {}).get("properties") or {}
        arguments = {name: self.params[name] for name in properties if self.params.get(name) not in (None, "")}
        result = await client.call_tool(tool, arguments)
        if result.is_error:
            raise ConfigurationError(f"MCP tool '{tool}' failed: {result.text() or 'no error detail provided'}", node_id=self.id)
        rows = [_row(item) for item in result.content]
        self.status = rows
        return DataFrame(rows)


def _metadata_by_tool(rows: list[Any]) -> dict[str, dict[str, Any]]:
    """tools_metadata rows (what the user renamed or disabled in Langflow) by the server's tool name."""
    found: dict[str, dict[str, Any]] = {}
    for row in rows:
        if isinstance(row, dict):
            tags = row.get("tags") if isinstance(row.get("tags"), list) else []
            key = tags[0] if tags else row.get("name")
            if isinstance(key, str):
                found[key] = row
    return found


def _runner(client: Any, tool: str) -> Any:
    async def run(arguments: dict[str, Any]) -> str:
        result = await client.call_tool(tool, arguments)
        if result.is_error:
            raise RuntimeError(f"MCP tool '{tool}' failed: {result.text() or 'no error detail provided'}")
        return result.text()

    return run


def _row(item: dict[str, Any]) -> dict[str, Any]:
    """A content item as a table row; text holding a JSON object becomes that object (as Langflow)."""
    if item.get("type") == "text" and isinstance(item.get("text"), str):
        try:
            parsed = json.loads(item["text"])
        except ValueError:
            return item
        return parsed if isinstance(parsed, dict) else {"text": item["text"], "parsed_value": parsed, "type": "text"}
    return item


class MCPSseComponent(MCPToolsComponent):
    """The deprecated `MCPSse` node: a URL, and its tools as the `tools` output."""

    type_name = "MCPSse"
    display_name = "MCP Tools (SSE) [DEPRECATED]"
    inputs = (Input("url", "mcp sse url", "str", "http://localhost:7860/api/v1/mcp/sse", info="sse url", input_kind="MessageTextInput"),)
    outputs = (Output("tools", "build_output", ("Tool",), "Tools"),)

    async def server(self) -> Any:
        from flowless_engine.mcp_client import ServerSpec

        url = str(self.param("url", "")).strip()
        if not url:
            raise ConfigurationError(f"Component '{self.name}' has no MCP server URL", node_id=self.id)
        return ServerSpec(name=url, url=url, timeout_s=float(self.ctx.settings.http_timeout_s))

    async def build_output(self) -> list[Tool]:
        return await self.build_tools()


class MCPStdioComponent(Component):
    """The deprecated `MCPStdio` node: refused, it would start a local program."""

    type_name = "MCPStdio"
    display_name = "MCP Tools (stdio) [DEPRECATED]"
    inputs = (Input("command", "mcp command", "str", "uvx mcp-sse-shim@latest", info="mcp command", input_kind="MessageTextInput"),)
    outputs = (Output("tools", "build_output", ("Tool",), "Tools"),)

    async def build_output(self) -> list[Tool]:
        raise ConfigurationError(STDIO_REFUSED.format(name=self.param("command", "")), node_id=self.id)

    async def build_tools(self) -> list[Tool]:
        return await self.build_output()
