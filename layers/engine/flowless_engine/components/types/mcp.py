"""MCP clients: a remote MCP server's tools (Streamable HTTP or SSE); stdio servers refused."""

TYPES: dict[str, str] = {
    "MCPTools": "mcp:MCPToolsComponent",
    "MCP": "mcp:MCPToolsComponent",
    "MCPSse": "mcp:MCPSseComponent",
    "MCPStdio": "mcp:MCPStdioComponent",
}
