"""`flowless.Client` and `flowless.AsyncClient`: Python clients for a Flowless (or Langflow) API.

    from flowless import Client

    client = Client("http://127.0.0.1:7860", api_key="sk-...")
    result = client.run_flow("echo-prompt", "Hello!", tweaks={"Prompt-ech02": {"template": "{question}"}})
    print(result.output, result.session_id, result.token_usage)

    for event in client.stream_flow("basic-chat", "Tell me a story"):
        if event["event"] == "token":
            print(event["data"]["chunk"], end="", flush=True)

`AsyncClient` has the same methods, awaited (`async for` for the streaming ones). Errors are
typed (`AuthError`, `NotFoundError`, `ValidationError`, `RateLimitError`, `ServerError`,
`ConnectionError`, all `FlowlessError`) and carry the HTTP status and Langflow's `detail`.
429 and 503 answers are retried with exponential backoff honouring `Retry-After`; network
failures are retried for idempotent calls (and for any call that never reached the server).

With `langflow_id`, paths take the hosted-Langflow form `/lf/<langflow_id>/api/v1/...` and the
key is sent as `Authorization: Bearer <key>`; otherwise as `x-api-key`.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import os
import random
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from flowless.results import main_text, token_usage

DEFAULT_URL = "http://127.0.0.1:7860"
DEFAULT_TIMEOUT = 120.0  # a run waits on models; connect failures still surface fast
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
RETRY_STATUSES = frozenset({429, 503})
USER_AGENT = "flowless-client/0.1.0"

__all__ = [
    "AsyncClient",
    "AuthError",
    "Client",
    "ConnectionError",
    "FlowRunError",
    "FlowlessError",
    "FrameParser",
    "NotFoundError",
    "RateLimitError",
    "RunResult",
    "ServerError",
    "ValidationError",
]


# --------------------------------------------------------------------------- errors


class FlowlessError(Exception):
    """Any failure of a call: `status` (None when no HTTP answer) and the server's `detail`."""

    def __init__(self, message: str, *, status: int | None = None, detail: Any = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.detail = detail
        self.headers = headers or {}

    def __str__(self) -> str:
        return f"{self.status} {self.message}" if self.status else self.message


class AuthError(FlowlessError):
    """401/403: missing, invalid or insufficient API key (or a `/lf/<id>/` of another tenant)."""


class NotFoundError(FlowlessError):
    """404: unknown flow, job, session, key..."""


class ValidationError(FlowlessError):
    """400/422: the request was refused (bad body, refused tweaks, an invalid flow)."""


class RateLimitError(FlowlessError):
    """429 after the retries: `retry_after` is the server's hint in seconds, when it gave one."""

    @property
    def retry_after(self) -> float | None:
        return parse_retry_after(self.headers.get("retry-after"))


class ServerError(FlowlessError):
    """5xx: the flow failed (500), a model failed (502/504) or the service is busy (503)."""


class ConnectionError(FlowlessError):  # noqa: A001 — the name users expect under flowless.
    """The server could not be reached, or the connection broke or timed out."""


class FlowRunError(FlowlessError):
    """A streamed run reported an `error` event (the HTTP status was already 200)."""


def error_for(status: int, detail: Any, headers: dict[str, str] | None = None) -> FlowlessError:
    """The typed error for an HTTP failure."""
    kind: type[FlowlessError]
    if status in (401, 403):
        kind = AuthError
    elif status == 404:
        kind = NotFoundError
    elif status in (400, 409, 413, 422, 423):
        kind = ValidationError
    elif status == 429:
        kind = RateLimitError
    elif status >= 500:
        kind = ServerError
    else:
        kind = FlowlessError
    return kind(describe(detail), status=status, detail=detail, headers=headers)


def describe(detail: Any) -> str:
    """A one-line message from Langflow's varied `detail` shapes."""
    if isinstance(detail, str):
        if detail.startswith("{"):
            try:  # a failing graph answers a JSON-encoded string of an error object
                return describe(json.loads(detail))
            except ValueError:
                pass
        return detail
    if isinstance(detail, dict):
        message = detail.get("message") or detail.get("error") or detail.get("detail")
        text = describe(message) if message else json.dumps(detail)
        if detail.get("fields"):
            text += f" (fields: {', '.join(map(str, detail['fields']))})"
        return text
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, dict) and "msg" in item:
                location = ".".join(str(p) for p in item.get("loc") or [])
                parts.append(f"{location}: {item['msg']}" if location else str(item["msg"]))
            else:
                parts.append(describe(item))
        return "; ".join(parts)
    return "" if detail is None else str(detail)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _detail_of(response: httpx.Response) -> Any:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip() or response.reason_phrase
    return body["detail"] if isinstance(body, dict) and "detail" in body else body


def _checked(response: httpx.Response) -> httpx.Response:
    if response.status_code >= 400:
        raise error_for(response.status_code, _detail_of(response), dict(response.headers))
    return response


# --------------------------------------------------------------------------- results and frames


@dataclass(frozen=True)
class RunResult:
    """A `/run` answer: `output` is the main text (the Chat Output's, with Langflow's fallbacks),
    `outputs` Langflow's raw list, `token_usage` the summed `{input_tokens, output_tokens,
    total_tokens}` when the flow's models reported usage."""

    output: str | None
    session_id: str | None
    outputs: list[dict[str, Any]] = field(repr=False)
    token_usage: dict[str, int] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_response(cls, body: dict[str, Any]) -> RunResult:
        return cls(
            output=main_text(body),
            session_id=body.get("session_id"),
            outputs=list(body.get("outputs") or []),
            token_usage=token_usage(body),
            raw=body,
        )

    def __str__(self) -> str:
        return self.output or ""


class FrameParser:
    """Incremental parser for Langflow's stream framing: bare JSON objects separated by blank
    lines (`/run?stream=true`, build events). Also reads NDJSON and SSE `data:` lines."""

    def __init__(self) -> None:
        self._partial_line = ""
        self._pending: list[str] = []

    def feed(self, text: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        lines = (self._partial_line + text).split("\n")
        self._partial_line = lines.pop()  # the unfinished last line, if any
        for line in lines:
            event = self._line(line.rstrip("\r"))
            if event is not None:
                events.append(event)
        return events

    def close(self) -> list[dict[str, Any]]:
        events = self.feed("\n") if self._partial_line else []
        if self._pending:
            raise FlowlessError(f"the stream ended inside a frame: {''.join(self._pending)[:200]!r}")
        return events

    def _line(self, line: str) -> dict[str, Any] | None:
        if not line.strip():
            if self._pending:  # a blank line closes a frame: it must be whole by now
                raise FlowlessError(f"malformed stream frame: {''.join(self._pending)[:200]!r}")
            return None
        if not self._pending:
            if line.startswith("data:"):
                line = line[5:].lstrip()
            elif line.startswith(("event:", "id:", "retry:", ":")):
                return None  # SSE bookkeeping lines
        self._pending.append(line)
        try:
            value = json.loads("\n".join(self._pending))
        except ValueError:
            return None  # a frame spread over several lines: keep reading
        self._pending.clear()
        return value if isinstance(value, dict) else {"event": "data", "data": value}


# --------------------------------------------------------------------------- requests


@dataclass
class _Call:
    method: str
    path: str  # below /api/v1 (or with a leading /api/v2 or / for root routes)
    params: dict[str, Any] | None = None
    json: Any = None
    files: dict[str, tuple[str, bytes, str]] | None = None
    parse: Callable[[httpx.Response], Any] = lambda response: response.json() if response.content else None

    @property
    def idempotent(self) -> bool:
        return self.method in IDEMPOTENT_METHODS


def _run_body(input_value: str | None, tweaks: dict[str, Any] | None, session_id: str | None, output_type: str, input_type: str, output_component: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"input_value": input_value, "output_type": output_type, "input_type": input_type}
    if tweaks:
        body["tweaks"] = tweaks
    if session_id:
        body["session_id"] = session_id
    if output_component:
        body["output_component"] = output_component
    return body


def _seg(value: str) -> str:
    """One URL path segment (ids, endpoint names, session ids may hold any character)."""
    return quote(str(value), safe="")


def _flow_ref(flow: str | None, flow_id: str | None) -> str:
    if (flow is None) == (flow_id is None):
        raise TypeError("pass the flow (its id or endpoint name) once: run_flow(flow, ...) or run_flow(flow_id=...)")
    return str(flow if flow is not None else flow_id)


def _flow_file(source: str | os.PathLike[str] | dict[str, Any] | list[Any]) -> tuple[str, bytes, str]:
    if isinstance(source, (dict, list)):
        return ("flow.json", json.dumps(source).encode(), "application/json")
    path = Path(source)
    content_type = "application/zip" if path.suffix.lower() == ".zip" else "application/json"
    return (path.name, path.read_bytes(), content_type)


def _load_flow(source: str | os.PathLike[str] | dict[str, Any]) -> dict[str, Any]:
    if isinstance(source, dict):
        return source
    return json.loads(Path(source).read_text(encoding="utf-8-sig"))  # an editor's BOM is fine


class _Operations:
    """Every call, described once. `_execute` sends it: the sync client returns the value, the
    async client a coroutine of it — so both clients share these methods."""

    def _execute(self, call: _Call) -> Any:  # pragma: no cover - provided by the clients
        raise NotImplementedError

    # runs -------------------------------------------------------------------------------

    def run_flow(
        self,
        flow: str | None = None,
        input_value: str | None = None,
        tweaks: dict[str, Any] | None = None,
        session_id: str | None = None,
        output_type: str = "chat",
        input_type: str = "chat",
        *,
        flow_id: str | None = None,
        output_component: str | None = None,
    ) -> Any:
        """Run a flow (id or endpoint name) → `RunResult`. `flow_id=` is accepted too."""
        ref = _flow_ref(flow, flow_id)
        body = _run_body(input_value, tweaks, session_id, output_type, input_type, output_component)
        return self._execute(_Call("POST", f"/run/{_seg(ref)}", params={"stream": "false"}, json=body, parse=lambda r: RunResult.from_response(r.json())))

    # files ------------------------------------------------------------------------------

    def upload_file(self, flow_id: str, path: str | os.PathLike[str]) -> Any:
        """Upload a file for a flow → Langflow's `{"flowId", "file_path"}`; pass `file_path` to the
        flow as a tweak (e.g. `{"File-x": {"path": file_path}}`)."""
        file = Path(path)
        files = {"file": (file.name, file.read_bytes(), "application/octet-stream")}
        return self._execute(_Call("POST", f"/files/upload/{_seg(flow_id)}", files=files))

    # flows ------------------------------------------------------------------------------

    def list_flows(self, **params: Any) -> Any:
        """The tenant's flows (`GET /flows/`; Langflow's query parameters pass through)."""
        return self._execute(_Call("GET", "/flows/", params={"get_all": "true", **params} if params else None))

    def get_flow(self, flow_id: str) -> Any:
        return self._execute(_Call("GET", f"/flows/{_seg(flow_id)}"))

    def create_flow(self, flow: str | os.PathLike[str] | dict[str, Any]) -> Any:
        """Create a flow from a dict or an export file (`POST /flows/`; a clashing name gets a suffix)."""
        return self._execute(_Call("POST", "/flows/", json=_load_flow(flow)))

    def push_flow(self, source: str | os.PathLike[str] | dict[str, Any] | list[Any]) -> Any:
        """Upload an export (one flow, a `{"flows": [...]}` bundle or a ZIP) → list of flows.
        Flows carrying an id replace the stored flow of that id (`POST /flows/upload/`)."""
        return self._execute(_Call("POST", "/flows/upload/", files={"file": _flow_file(source)}))

    def update_flow(self, flow_id: str, **fields: Any) -> Any:
        return self._execute(_Call("PATCH", f"/flows/{_seg(flow_id)}", json=fields))

    def delete_flow(self, flow_id: str) -> Any:
        return self._execute(_Call("DELETE", f"/flows/{_seg(flow_id)}"))

    def download_flow(self, flow_id: str) -> Any:
        """The flow as an export file would hold it (secrets emptied) → dict."""
        return self._execute(_Call("POST", "/flows/download/", json=[flow_id]))

    # API keys ---------------------------------------------------------------------------

    def create_api_key(self, name: str, scopes: list[str] | None = None, expires_at: str | None = None) -> Any:
        """A new key for the caller's tenant; the plaintext is in `["api_key"]`, shown once."""
        body: dict[str, Any] = {"name": name}
        if scopes:
            body["scopes"] = scopes
        if expires_at:
            body["expires_at"] = expires_at
        return self._execute(_Call("POST", "/api_key/", json=body))

    def list_api_keys(self) -> Any:
        """The tenant's keys, masked (the `api_keys` list of Langflow's answer)."""
        return self._execute(_Call("GET", "/api_key/", parse=lambda r: r.json().get("api_keys", [])))

    def delete_api_key(self, key_id: str) -> Any:
        return self._execute(_Call("DELETE", f"/api_key/{_seg(key_id)}"))

    # approved custom code (admin) ---------------------------------------------------------

    def code_approvals(self) -> Any:
        """The tenant's approved code hashes, with who approved them and when."""
        return self._execute(_Call("GET", "/custom_code/approvals", parse=lambda r: r.json().get("approvals", [])))

    def approve_code(self, sha256: list[str], note: str | None = None) -> Any:
        return self._execute(_Call("POST", "/custom_code/approvals", json={"sha256": list(sha256), "note": note}, parse=lambda r: r.json().get("approvals", [])))

    def revoke_code(self, sha256: str) -> Any:
        return self._execute(_Call("DELETE", f"/custom_code/approvals/{_seg(sha256)}"))

    # messages ---------------------------------------------------------------------------

    def messages(self, flow_id: str | None = None, session_id: str | None = None, **params: Any) -> Any:
        """Stored messages (`GET /monitor/messages`: sender, sender_name, order_by, order, limit, offset)."""
        query = {k: v for k, v in {"flow_id": flow_id, "session_id": session_id, **params}.items() if v is not None}
        return self._execute(_Call("GET", "/monitor/messages", params=query or None))

    def sessions(self, flow_id: str | None = None) -> Any:
        return self._execute(_Call("GET", "/monitor/messages/sessions", params={"flow_id": flow_id} if flow_id else None))

    def delete_session(self, session_id: str) -> Any:
        """Forget a conversation: its messages and history."""
        return self._execute(_Call("DELETE", f"/monitor/messages/session/{_seg(session_id)}", parse=lambda r: None))

    def delete_messages(self, message_ids: list[str]) -> Any:
        return self._execute(_Call("DELETE", "/monitor/messages", json=list(message_ids), parse=lambda r: None))

    # build jobs -------------------------------------------------------------------------

    def build_flow(
        self,
        flow_id: str,
        input_value: str | None = None,
        *,
        session_id: str | None = None,
        files: list[str] | None = None,
        data: dict[str, Any] | None = None,
        start_component_id: str | None = None,
        stop_component_id: str | None = None,
    ) -> Any:
        """Start a build job (`POST /build/{flow_id}/flow`) → its job id; read it with `build_events`."""
        inputs: dict[str, Any] = {}
        if input_value is not None:
            inputs["input_value"] = input_value
        if session_id:
            inputs["session"] = session_id
        body: dict[str, Any] = {"inputs": inputs} if inputs else {}
        if files:
            body["files"] = files
        if data:
            body["data"] = data
        params = {k: v for k, v in {"start_component_id": start_component_id, "stop_component_id": stop_component_id}.items() if v}
        return self._execute(_Call("POST", f"/build/{_seg(flow_id)}/flow", params=params or None, json=body, parse=lambda r: r.json()["job_id"]))

    def cancel_build(self, job_id: str) -> Any:
        return self._execute(_Call("POST", f"/build/{_seg(job_id)}/cancel"))

    # misc -------------------------------------------------------------------------------

    def version(self) -> Any:
        return self._execute(_Call("GET", "/version"))

    def health(self) -> Any:
        return self._execute(_Call("GET", "/health"))

    # streaming requests (bodies shared by both clients) ----------------------------------

    @staticmethod
    def _stream_run_call(flow: str, input_value: str | None, tweaks: dict[str, Any] | None, session_id: str | None, output_type: str, input_type: str) -> _Call:
        return _Call("POST", f"/run/{_seg(flow)}", params={"stream": "true"}, json=_run_body(input_value, tweaks, session_id, output_type, input_type, None))

    @staticmethod
    def _build_events_call(job_id: str) -> _Call:
        return _Call("GET", f"/build/{_seg(job_id)}/events", params={"event_delivery": "streaming"})


class _Base(_Operations):
    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        langflow_id: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = 3,
        backoff: float = 0.5,
        max_wait: float = 60.0,
        headers: dict[str, str] | None = None,
    ) -> None:
        """`base_url` defaults to FLOWLESS_URL or http://127.0.0.1:7860, `api_key` to
        FLOWLESS_API_KEY. `retries` extra attempts for 429/503 and network failures, waiting
        `backoff`·2ⁿ seconds (or the server's Retry-After, up to `max_wait`)."""
        self.base_url = (base_url or os.environ.get("FLOWLESS_URL") or DEFAULT_URL).rstrip("/")
        self.api_key = api_key if api_key is not None else os.environ.get("FLOWLESS_API_KEY")
        self.langflow_id = langflow_id
        self.timeout = timeout
        self.retries = max(0, retries)
        self.backoff = backoff
        self.max_wait = max_wait
        self.headers = {"User-Agent": USER_AGENT, **(headers or {})}
        if self.api_key:
            if langflow_id:
                self.headers["Authorization"] = f"Bearer {self.api_key}"
            else:
                self.headers["x-api-key"] = self.api_key

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_url!r}, langflow_id={self.langflow_id!r})"

    def url(self, path: str) -> str:
        """The full URL of an API path (`/run/x` → `<base>[/lf/<id>]/api/v1/run/x`)."""
        if path in ("/health", "/health_check"):
            return f"{self.base_url}{path}"
        prefix = f"/lf/{self.langflow_id}" if self.langflow_id else ""
        api = "" if path.startswith("/api/") else "/api/v1"
        return f"{self.base_url}{prefix}{api}{path}"

    def _request_args(self, call: _Call) -> dict[str, Any]:
        return {"params": call.params, "json": call.json if call.files is None else None, "files": call.files}

    def _delay(self, attempt: int, response: httpx.Response | None) -> float | None:
        """Seconds to wait before retry `attempt` (0-based), or None not to retry."""
        if attempt >= self.retries:
            return None
        hinted = parse_retry_after(response.headers.get("retry-after")) if response is not None else None
        if hinted is not None:
            return hinted if hinted <= self.max_wait else None
        return min(self.max_wait, self.backoff * (2**attempt) * (1 + random.random() / 4))

    def _unreachable(self, exc: httpx.TransportError) -> ConnectionError:
        reason = "timed out" if isinstance(exc, httpx.TimeoutException) else (str(exc) or type(exc).__name__)
        return ConnectionError(f"cannot reach {self.base_url}: {reason}")

    @staticmethod
    def _may_resend(call: _Call, exc: httpx.TransportError) -> bool:
        # A refused connection never reached the server: any call is safe to send again.
        return call.idempotent or isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))


class Client(_Base):
    """Synchronous client (httpx). Use as a context manager or call `close()`."""

    def __init__(self, base_url: str | None = None, api_key: str | None = None, langflow_id: str | None = None, **options: Any) -> None:
        super().__init__(base_url, api_key, langflow_id, **options)
        self._http = httpx.Client(headers=self.headers, timeout=self.timeout, follow_redirects=True)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _send(self, call: _Call, *, stream: bool = False) -> httpx.Response:
        attempt = 0
        while True:
            try:
                request = self._http.build_request(call.method, self.url(call.path), **self._request_args(call))
                response = self._http.send(request, stream=stream)
            except httpx.TransportError as exc:
                delay = self._delay(attempt, None) if self._may_resend(call, exc) else None
                if delay is None:
                    raise self._unreachable(exc) from exc
            else:
                delay = self._delay(attempt, response) if response.status_code in RETRY_STATUSES else None
                if delay is None:
                    if stream and response.status_code >= 400:
                        response.read()
                        response.close()
                    return _checked(response)
                response.close()
            time.sleep(delay)
            attempt += 1

    def _execute(self, call: _Call) -> Any:
        return _parsed(call, self._send(call))

    def _events(self, call: _Call, raise_on_error: bool) -> Iterator[dict[str, Any]]:
        response = self._send(call, stream=True)
        try:
            parser = FrameParser()
            try:
                for text in response.iter_text():
                    for event in parser.feed(text):
                        yield _check_event(event, raise_on_error)
            except httpx.TransportError as exc:
                raise ConnectionError(f"the stream from {self.base_url} broke: {exc or type(exc).__name__}") from exc
            for event in parser.close():
                yield _check_event(event, raise_on_error)
        finally:
            response.close()

    def stream_flow(
        self,
        flow: str,
        input_value: str | None = None,
        tweaks: dict[str, Any] | None = None,
        session_id: str | None = None,
        output_type: str = "chat",
        input_type: str = "chat",
        *,
        raise_on_error: bool = True,
    ) -> Iterator[dict[str, Any]]:
        """Run with `?stream=true`, yielding each event (`{"event", "data"}`) as it arrives:
        `add_message`, `token` (`data.chunk`), ..., `end` (`data.result` is the full answer;
        `RunResult.from_response(...)` reads it). An `error` event raises FlowRunError
        (or is yielded, with `raise_on_error=False`)."""
        return self._events(self._stream_run_call(flow, input_value, tweaks, session_id, output_type, input_type), raise_on_error)

    def build_events(self, job_id: str, *, raise_on_error: bool = False) -> Iterator[dict[str, Any]]:
        """A build job's events as they happen (`vertices_sorted`, `end_vertex`, `add_message`, ..., `end`)."""
        return self._events(self._build_events_call(job_id), raise_on_error)


class AsyncClient(_Base):
    """Asynchronous twin of `Client` (httpx.AsyncClient): the same methods, awaited; the
    streaming ones (`stream_flow`, `build_events`) are async iterators."""

    def __init__(self, base_url: str | None = None, api_key: str | None = None, langflow_id: str | None = None, **options: Any) -> None:
        super().__init__(base_url, api_key, langflow_id, **options)
        self._http = httpx.AsyncClient(headers=self.headers, timeout=self.timeout, follow_redirects=True)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _send(self, call: _Call, *, stream: bool = False) -> httpx.Response:
        attempt = 0
        while True:
            try:
                request = self._http.build_request(call.method, self.url(call.path), **self._request_args(call))
                response = await self._http.send(request, stream=stream)
            except httpx.TransportError as exc:
                delay = self._delay(attempt, None) if self._may_resend(call, exc) else None
                if delay is None:
                    raise self._unreachable(exc) from exc
            else:
                delay = self._delay(attempt, response) if response.status_code in RETRY_STATUSES else None
                if delay is None:
                    if stream and response.status_code >= 400:
                        await response.aread()
                        await response.aclose()
                    return _checked(response)
                await response.aclose()
            await asyncio.sleep(delay)
            attempt += 1

    async def _execute(self, call: _Call) -> Any:
        return _parsed(call, await self._send(call))

    async def _events(self, call: _Call, raise_on_error: bool) -> AsyncIterator[dict[str, Any]]:
        response = await self._send(call, stream=True)
        try:
            parser = FrameParser()
            try:
                async for text in response.aiter_text():
                    for event in parser.feed(text):
                        yield _check_event(event, raise_on_error)
            except httpx.TransportError as exc:
                raise ConnectionError(f"the stream from {self.base_url} broke: {exc or type(exc).__name__}") from exc
            for event in parser.close():
                yield _check_event(event, raise_on_error)
        finally:
            await response.aclose()

    def stream_flow(
        self,
        flow: str,
        input_value: str | None = None,
        tweaks: dict[str, Any] | None = None,
        session_id: str | None = None,
        output_type: str = "chat",
        input_type: str = "chat",
        *,
        raise_on_error: bool = True,
    ) -> AsyncIterator[dict[str, Any]]:
        """`async for event in client.stream_flow(...)`: see `Client.stream_flow`."""
        return self._events(self._stream_run_call(flow, input_value, tweaks, session_id, output_type, input_type), raise_on_error)

    def build_events(self, job_id: str, *, raise_on_error: bool = False) -> AsyncIterator[dict[str, Any]]:
        return self._events(self._build_events_call(job_id), raise_on_error)


def _parsed(call: _Call, response: httpx.Response) -> Any:
    try:
        return call.parse(response)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:  # not the API we expected
        preview = response.text[:120].replace("\n", " ")
        raise FlowlessError(f"unexpected answer to {call.method} {response.url}: {preview!r}", status=response.status_code) from exc


def _check_event(event: dict[str, Any], raise_on_error: bool) -> dict[str, Any]:
    if raise_on_error and event.get("event") == "error":
        data = event.get("data")
        detail = data.get("error", data) if isinstance(data, dict) else data
        raise FlowRunError(describe(detail), detail=detail)
    return event
