"""A Model Context Protocol client over the engine's guarded HTTP client (no MCP SDK: the
protocol is a few JSON-RPC messages, and the guard must see every connection).

Two transports: Streamable HTTP (each JSON-RPC request a POST answered with JSON or an SSE
body; the server's `mcp-session-id` is kept and re-initialised when it expires) and the older
SSE transport (a GET event stream announces a POST endpoint; answers arrive on the stream).
`auto` tries Streamable HTTP and falls back to SSE when the server does not speak it, as
Langflow does. Sessions and tool lists are kept per warm container (SSE streams per event loop).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from flowless_engine.errors import BlockedURLError, ProviderError, ProviderTimeoutError
from flowless_engine.http import HttpError, HttpTimeout

if TYPE_CHECKING:  # pragma: no cover
    from flowless_engine.http import HttpClient

PROTOCOL_VERSION = "2025-06-18"
CLIENT_INFO = {"name": "flowless", "version": "0.1.0"}
TOOLS_TTL_S = 30.0  # Langflow's TOOL_TTL_SECS
CONNECT_TIMEOUT_S = 30.0
_ids = itertools.count(1)


@dataclass(frozen=True)
class ServerSpec:
    name: str
    url: str
    headers: tuple[tuple[str, str], ...] = ()
    transport: str = "auto"  # "auto" | "streamable_http" | "sse"
    timeout_s: float = 60.0

    def provider(self) -> str:
        return f"MCP server '{self.name}'"


@dataclass
class ToolResult:
    content: list[dict[str, Any]]
    is_error: bool = False
    structured: Any = None

    def text(self) -> str:
        """The content as text for a model: text items as they are, other items as JSON."""
        return "\n".join(item["text"] if item.get("type") == "text" and isinstance(item.get("text"), str)
                         else json.dumps(item, ensure_ascii=False) for item in self.content)


class McpProtocolError(ProviderError):
    """The server answered a JSON-RPC error or something that is not MCP."""


class _SessionExpired(Exception):
    pass


class _NotStreamable(Exception):
    pass


def _error(spec: ServerSpec, message: str, status: int | None = None) -> ProviderError:
    return ProviderError(f"{spec.provider()}: {message}", provider=spec.provider(), status=status)


def _answer(spec: ServerSpec, message: Any, request_id: int) -> Any:
    """The `result` of the response to `request_id` in a JSON-RPC message or batch."""
    for item in message if isinstance(message, list) else [message]:
        if isinstance(item, dict) and item.get("id") == request_id:
            if isinstance(item.get("error"), dict):
                error = item["error"]
                raise McpProtocolError(f"{spec.provider()}: {error.get('message', 'error')} (code {error.get('code')})", provider=spec.provider())
            return item.get("result")
    return _MISSING


_MISSING = object()


class _SseParser:
    """Server-sent events, a line at a time: `feed` answers (event, data) at the blank line ending one."""

    def __init__(self) -> None:
        self.name, self.data = "message", []

    def feed(self, line: str) -> tuple[str, str] | None:
        if not line:
            event = (self.name, "\n".join(self.data)) if self.data else None
            self.name, self.data = "message", []
            return event
        if not line.startswith(":"):  # a comment otherwise
            key, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if key == "event":
                self.name = value
            elif key == "data":
                self.data.append(value)
        return None


def _sse_events(lines: list[str]) -> list[tuple[str, str]]:
    """(event, data) of an SSE body."""
    parser = _SseParser()
    return [event for event in map(parser.feed, [*lines, ""]) if event is not None]


def _request(method: str, params: dict[str, Any] | None) -> tuple[int, dict[str, Any]]:
    request_id = next(_ids)
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
    if params is not None:
        message["params"] = params
    return request_id, message


def _initialize_params() -> dict[str, Any]:
    return {"protocolVersion": PROTOCOL_VERSION, "capabilities": {}, "clientInfo": CLIENT_INFO}


class StreamableHttpSession:
    """Not bound to an event loop: the HTTP client keeps one connection pool per loop."""

    def __init__(self, spec: ServerSpec, http: "HttpClient") -> None:
        self.spec, self.http = spec, http
        self.session_id: str | None = None
        self.protocol: str | None = None

    def _headers(self) -> dict[str, str]:
        headers = {**dict(self.spec.headers), "Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
        if self.session_id:
            headers["mcp-session-id"] = self.session_id
        if self.protocol:
            headers["mcp-protocol-version"] = self.protocol
        return headers

    async def _post(self, message: dict[str, Any], request_id: int | None) -> Any:
        try:
            response = await self.http.request("POST", self.spec.url, headers=self._headers(), content=json.dumps(message),
                                               timeout=self.spec.timeout_s, raise_for_status=False)
        except HttpTimeout as exc:
            raise ProviderTimeoutError(f"{self.spec.provider()} did not answer in time", provider=self.spec.provider()) from exc
        except HttpError as exc:
            raise _error(self.spec, str(exc), exc.status) from exc
        if response.status == 404 and self.session_id:
            raise _SessionExpired()
        if request_id is not None and message.get("method") == "initialize" and response.status in (400, 404, 405):
            raise _NotStreamable()
        if not 200 <= response.status < 300:
            raise _error(self.spec, f"answered HTTP {response.status}", response.status)
        if request_id is None:
            return None
        if message.get("method") == "initialize":
            self.session_id = response.headers.get("mcp-session-id") or None
        content_type = response.headers.get("content-type", "")
        try:
            if content_type.startswith("text/event-stream"):
                for _, data in _sse_events(response.text.splitlines()):
                    found = _answer(self.spec, json.loads(data), request_id)
                    if found is not _MISSING:
                        return found
                raise _error(self.spec, "the event stream ended without an answer")
            found = _answer(self.spec, response.json(), request_id)
        except ValueError as exc:
            raise _error(self.spec, "answered something that is not JSON-RPC") from exc
        if found is _MISSING:
            raise _error(self.spec, "answered without a response to the request")
        return found

    async def _initialize(self) -> None:
        self.session_id = self.protocol = None
        request_id, message = _request("initialize", _initialize_params())
        result = await self._post(message, request_id)
        self.protocol = (result or {}).get("protocolVersion") or PROTOCOL_VERSION
        await self._post({"jsonrpc": "2.0", "method": "notifications/initialized"}, None)

    async def request(self, method: str, params: dict[str, Any] | None = None) -> Any:
        if self.protocol is None:
            await self._initialize()
        request_id, message = _request(method, params)
        try:
            return await self._post(message, request_id)
        except _SessionExpired:
            await self._initialize()
            request_id, message = _request(method, params)
            return await self._post(message, request_id)


class SseSession:
    """The SSE transport: bound to the event loop that reads its stream."""

    def __init__(self, spec: ServerSpec, http: "HttpClient") -> None:
        self.spec, self.http = spec, http
        self.endpoint: str | None = None
        self.pending: dict[int, asyncio.Future[Any]] = {}
        self.reader: asyncio.Task[None] | None = None
        self._ready: asyncio.Future[str] | None = None
        self._opening: asyncio.Lock = asyncio.Lock()

    @property
    def alive(self) -> bool:
        return self.reader is not None and not self.reader.done()

    async def _read(self) -> None:
        headers = {**dict(self.spec.headers), "Accept": "text/event-stream"}
        parser = _SseParser()
        failure: BaseException | None = None
        try:
            async for line in self.http.stream_lines("GET", self.spec.url, headers=headers, timeout=max(self.spec.timeout_s, 300)):
                event = parser.feed(line)
                if event is not None:
                    self._dispatch(*event)
        except Exception as exc:
            failure = exc
        finally:
            error = failure or _error(self.spec, "the event stream closed")
            if self._ready is not None and not self._ready.done():
                self._ready.set_exception(_wrap(self.spec, error))
            for future in self.pending.values():
                if not future.done():
                    future.set_exception(_wrap(self.spec, error))
            self.pending.clear()

    def _dispatch(self, name: str, data: str) -> None:
        if name == "endpoint":
            if self._ready is not None and not self._ready.done():
                self._ready.set_result(urljoin(self.spec.url, data.strip()))
            return
        try:
            message = json.loads(data)
        except ValueError:
            return
        for item in message if isinstance(message, list) else [message]:
            future = self.pending.pop(item.get("id"), None) if isinstance(item, dict) else None
            if future is not None and not future.done():
                future.set_result(item)

    async def _open(self) -> None:
        async with self._opening:
            if self.alive and self.endpoint:
                return
            self._ready = asyncio.get_running_loop().create_future()
            self.reader = asyncio.create_task(self._read())
            try:
                endpoint = await asyncio.wait_for(asyncio.shield(self._ready), CONNECT_TIMEOUT_S)
            except TimeoutError as exc:
                self.reader.cancel()
                raise ProviderTimeoutError(f"{self.spec.provider()} did not announce its message endpoint", provider=self.spec.provider()) from exc
            if urlsplit(endpoint)[:2] != urlsplit(self.spec.url)[:2]:
                self.reader.cancel()
                raise BlockedURLError(f"{self.spec.provider()} announced a message endpoint on another origin: {endpoint}")
            self.endpoint = endpoint
            await self._call("initialize", _initialize_params())
            await self._send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    async def _send(self, message: dict[str, Any]) -> None:
        assert self.endpoint is not None
        headers = {**dict(self.spec.headers), "Content-Type": "application/json"}
        try:
            await self.http.request("POST", self.endpoint, headers=headers, content=json.dumps(message), timeout=self.spec.timeout_s)
        except HttpTimeout as exc:
            raise ProviderTimeoutError(f"{self.spec.provider()} did not answer in time", provider=self.spec.provider()) from exc
        except HttpError as exc:
            raise _error(self.spec, str(exc), exc.status) from exc

    async def _call(self, method: str, params: dict[str, Any] | None) -> Any:
        request_id, message = _request(method, params)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending[request_id] = future
        await self._send(message)
        try:
            answer = await asyncio.wait_for(future, self.spec.timeout_s)
        except TimeoutError as exc:
            self.pending.pop(request_id, None)
            raise ProviderTimeoutError(f"{self.spec.provider()} did not answer in time", provider=self.spec.provider()) from exc
        return _answer(self.spec, answer, request_id)

    async def request(self, method: str, params: dict[str, Any] | None = None) -> Any:
        if not (self.alive and self.endpoint):
            self.endpoint = None
            await self._open()
        return await self._call(method, params)


def _wrap(spec: ServerSpec, exc: BaseException) -> BaseException:
    if isinstance(exc, ProviderError | BlockedURLError):
        return exc
    if isinstance(exc, HttpTimeout):
        return ProviderTimeoutError(f"{spec.provider()} stopped sending", provider=spec.provider())
    return _error(spec, str(exc) or type(exc).__name__, getattr(exc, "status", None))


@dataclass
class _Cache:
    streamable: dict[ServerSpec, StreamableHttpSession] = field(default_factory=dict)
    sse: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[ServerSpec, SseSession]] = field(default_factory=weakref.WeakKeyDictionary)
    transports: dict[ServerSpec, str] = field(default_factory=dict)  # what "auto" found
    tools: dict[ServerSpec, tuple[float, list[dict[str, Any]]]] = field(default_factory=dict)


_cache = _Cache()


def clear_cache() -> None:
    global _cache
    _cache = _Cache()


class McpClient:
    """list_tools / call_tool on one server, reusing the container's sessions."""

    def __init__(self, spec: ServerSpec, http: "HttpClient") -> None:
        self.spec, self.http = spec, http

    def _session(self, transport: str) -> StreamableHttpSession | SseSession:
        if transport == "sse":
            per_loop = _cache.sse.setdefault(asyncio.get_running_loop(), {})
            if self.spec not in per_loop:
                per_loop[self.spec] = SseSession(self.spec, self.http)
            return per_loop[self.spec]
        if self.spec not in _cache.streamable:
            _cache.streamable[self.spec] = StreamableHttpSession(self.spec, self.http)
        return _cache.streamable[self.spec]

    @property
    def transport(self) -> str:
        """The transport in use: the configured one, or what `auto` found (Streamable HTTP first)."""
        return self.spec.transport if self.spec.transport != "auto" else _cache.transports.get(self.spec, "streamable_http")

    async def request(self, method: str, params: dict[str, Any] | None = None) -> Any:
        await self.http.check_url(self.spec.url)  # the guard, before anything is sent
        try:
            return await self._session(self.transport).request(method, params)
        except _NotStreamable:
            if self.spec.transport != "auto":
                raise _error(self.spec, "does not answer the Streamable HTTP transport") from None
            _cache.transports[self.spec] = "sse"
            return await self._session("sse").request(method, params)

    async def list_tools(self, use_cache: bool = True) -> list[dict[str, Any]]:
        cached = _cache.tools.get(self.spec)
        if use_cache and cached is not None and time.monotonic() - cached[0] < TOOLS_TTL_S:
            return cached[1]
        tools: list[dict[str, Any]] = []
        cursor: str | None = None
        for _ in range(100):  # pages
            result = await self.request("tools/list", {"cursor": cursor} if cursor else {})
            if not isinstance(result, dict) or not isinstance(result.get("tools"), list):
                raise _error(self.spec, "answered tools/list without a tool list")
            tools.extend(t for t in result["tools"] if isinstance(t, dict) and isinstance(t.get("name"), str))
            cursor = result.get("nextCursor")
            if not cursor:
                break
        _cache.tools[self.spec] = (time.monotonic(), tools)
        return tools

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        result = await self.request("tools/call", {"name": name, "arguments": arguments})
        if not isinstance(result, dict):
            raise _error(self.spec, f"answered tools/call of '{name}' without a result")
        content = [c for c in result.get("content") or [] if isinstance(c, dict)]
        return ToolResult(content, bool(result.get("isError")), result.get("structuredContent"))
