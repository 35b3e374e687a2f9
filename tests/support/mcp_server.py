"""A real MCP server built with the official `mcp` SDK, served by uvicorn on 127.0.0.1:
Streamable HTTP at `/mcp` (stateful: the SDK hands out session ids) and SSE at `/sse`
(messages at `/messages/`). Tools: `shout(text)`, `add(a, b)`, `lookup(key)` (JSON text) and
`broken()` (always fails). `.requests` records (method, path, headers) of every request.

    with McpTestServer() as server:
        server.base_url + "/mcp"
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass
class McpTestServer:
    base_url: str = ""
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    _server: Any = None
    _thread: threading.Thread | None = None

    def app(self) -> Any:
        from mcp.server.mcpserver import MCPServer
        from mcp.server.mcpserver.exceptions import ToolError

        mcp = MCPServer("flowless-test-tools", version="1.0", log_level="WARNING")

        @mcp.tool(description="Return the text in upper case.")
        def shout(text: str) -> str:
            return text.upper()

        @mcp.tool(description="Add two integers.")
        def add(a: int, b: int) -> int:
            return a + b

        @mcp.tool(description="Look a key up in a small table.")
        def lookup(key: str) -> str:
            return json.dumps({"key": key, "value": len(key)})

        @mcp.tool(description="Always fails.")
        def broken() -> str:
            raise ToolError("the tool is broken on purpose")

        app = mcp.streamable_http_app()
        app.router.routes.extend(mcp.sse_app().routes)
        recorded = self.requests

        class Record:
            def __init__(self, inner: Any) -> None:
                self.inner = inner

            async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
                if scope["type"] == "http":
                    headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
                    recorded.append((scope["method"], scope["path"], headers))
                await self.inner(scope, receive, send)

        return Record(app), app

    def __enter__(self) -> "McpTestServer":
        from tests.support.live_app import serve_in_thread

        recording, app = self.app()
        self._server, self._thread, self.base_url = serve_in_thread(recording, lifespan="on", what="the MCP test server")
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)

    def paths(self) -> list[str]:
        return [f"{method} {path}" for method, path, _ in self.requests]
