"""Logging, tracing and metrics: the only place Powertools' Logger, Tracer and Metrics are created.

A function's composition root calls `lambda_handler(app)` (API Gateway through Mangum) or
`instrument(app, flush_metrics=True)` (a long-running server, e.g. behind the Lambda Web Adapter).
Both add one ASGI middleware that

- makes every log record of the request carry `tenant`, `flow`, `session_id` and `langflow_id`
  as soon as they are known (the tenant after authentication, the flow and session from the path,
  the query or the JSON body), including records of the stdlib loggers under `flowless.*`;
- writes one `request` log line per request (method, route, status, duration);
- records `RunLatency` for `/run` requests, split into `ModelLatency` (time spent in the engine's
  outbound HTTP calls: model providers, URL fetches) and `EngineLatency` (the rest).

Powertools is imported here only, when a handler is built: importing `flowless` or the API
routers never pays for it. X-Ray's SDK (the costly import) is loaded only where Powertools would
trace at all: in Lambda, outside SAM local, unless POWERTOOLS_TRACE_DISABLED.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import time
import warnings
from collections.abc import Awaitable, Callable, MutableMapping
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "flowless"
DEFAULT_NAMESPACE = "Flowless"
# The correlation id of an API Gateway REST (v1) event: its request id.
API_GATEWAY_REST_CORRELATION = "requestContext.requestId"
# Logger name of the service's own stdlib loggers (flowless.api, flowless.store, ...).
APP_LOGGER = "flowless"
RUN_PATH = re.compile(r"/api/v1/run/(?:advanced/)?[^/]+$")
MAX_PEEKED_BODY = 64 * 1024  # JSON bodies up to this size are read for their session_id

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


# --- the three Powertools objects ---------------------------------------------------------------


def service_name() -> str:
    return os.environ.get("POWERTOOLS_SERVICE_NAME") or SERVICE


@cache
def logger() -> Logger:
    from aws_lambda_powertools import Logger

    log = Logger(service=service_name())
    log.registered_handler.addFilter(RequestKeysFilter())
    _route_app_loggers(log)
    return log


@cache
def metrics() -> Metrics:
    from aws_lambda_powertools import Metrics

    # Requests that record nothing (most routes) are normal, not worth a warning each.
    warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)
    return Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_NAMESPACE, service=service_name())


@cache
def tracer(patch_modules: tuple[str, ...] = ("botocore",)) -> Tracer:
    """X-Ray through Powertools; only botocore (every DynamoDB call) is patched by default."""
    from aws_lambda_powertools import Tracer

    return Tracer(service=service_name(), patch_modules=list(patch_modules))


def tracing_enabled(environ: MutableMapping[str, str] | None = None) -> bool:
    """Powertools' own rule: trace in Lambda only, never under SAM local or when disabled."""
    env = os.environ if environ is None else environ
    disabled = env.get("POWERTOOLS_TRACE_DISABLED", "false").strip().lower() in {"1", "true", "yes", "on"}
    return bool(env.get("LAMBDA_TASK_ROOT")) and not env.get("AWS_SAM_LOCAL") and not disabled


def _route_app_loggers(log: Logger) -> None:
    """`flowless.*` stdlib loggers write through the Powertools handler (JSON, same keys)."""
    app_logger = logging.getLogger(APP_LOGGER)
    if app_logger is log._logger:  # the service is named "flowless": children already propagate to it
        return
    app_logger.handlers = [log.registered_handler]
    app_logger.setLevel(log.log_level)
    app_logger.propagate = False


# --- composition-root helpers --------------------------------------------------------------------


def lambda_handler(app: ASGIApp, *, patch_modules: tuple[str, ...] = ("botocore",)) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda handler for an API Gateway (REST) function: Mangum around the instrumented app,
    Logger context (correlation id = API Gateway request id), metrics flushed per invocation with
    a cold-start metric, and X-Ray without response capture."""
    from mangum import Mangum

    asgi = Mangum(instrument(app), lifespan="off")

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return asgi(event, context)

    wrapped: Callable[..., Any] = metrics().log_metrics(handler, capture_cold_start_metric=True)
    wrapped = logger().inject_lambda_context(wrapped, correlation_id_path=API_GATEWAY_REST_CORRELATION, clear_state=True)
    if tracing_enabled():
        wrapped = tracer(patch_modules).capture_lambda_handler(wrapped, capture_response=False)
    return wrapped


def instrument(app: ASGIApp, *, flush_metrics: bool = False) -> ASGIApp:
    """`app` wrapped in the request middleware; `flush_metrics` where no Lambda handler flushes
    them (a server behind the Lambda Web Adapter)."""
    logger()  # configure logging before the first request
    _watch_outbound_calls()
    return RequestMiddleware(app, flush_metrics=flush_metrics)


# --- per-request context -------------------------------------------------------------------------


class RequestInfo:
    """What the middleware knows about the current request; read lazily by the log filter."""

    __slots__ = ("scope", "_body", "_body_size", "_session_from_body", "model_seconds")

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self._body: list[bytes] | None = [] if _is_json(scope) else None
        self._body_size = 0
        self._session_from_body: str | None | bool = False  # False: not parsed yet
        self.model_seconds = 0.0

    def add_body(self, chunk: bytes) -> None:
        if self._body is None:
            return
        self._body_size += len(chunk)
        if self._body_size > MAX_PEEKED_BODY:
            self._body = None
        else:
            self._body.append(chunk)

    def keys(self) -> dict[str, str]:
        scope = self.scope
        params = scope.get("path_params") or {}
        state = scope.get("state") or {}
        found: dict[str, str] = {}
        tenant = state.get("tenant") if isinstance(state, dict) else None
        if tenant:
            found["tenant"] = str(tenant)
        if params.get("langflow_id"):
            found["langflow_id"] = str(params["langflow_id"])
        if params.get("flow_id_or_name"):
            found["flow"] = str(params["flow_id_or_name"])
        session = params.get("session_id") or params.get("old_session_id") or self._query("session_id") or self._body_session()
        if session:
            found["session_id"] = str(session)
        flow = self._query("flow_id")
        if flow and "flow" not in found:
            found["flow"] = flow
        return found

    def _query(self, name: str) -> str | None:
        from urllib.parse import parse_qs

        raw = self.scope.get("query_string") or b""
        if not raw:
            return None
        values = parse_qs(raw.decode("latin-1")).get(name)
        return values[0] if values else None

    def _body_session(self) -> str | None:
        if self._session_from_body is False:
            self._session_from_body = None
            if self._body:
                try:
                    body = json.loads(b"".join(self._body))
                except ValueError:
                    body = None
                if isinstance(body, dict) and isinstance(body.get("input_request"), dict):
                    body = body["input_request"]
                if isinstance(body, dict) and isinstance(body.get("session_id"), (str, int)) and body["session_id"] != "":
                    self._session_from_body = str(body["session_id"])
        return self._session_from_body or None


_current: contextvars.ContextVar[RequestInfo | None] = contextvars.ContextVar("flowless_request", default=None)


def current_request_keys() -> dict[str, str]:
    """tenant / flow / session_id / langflow_id of the request being served, as far as known."""
    info = _current.get()
    return info.keys() if info is not None else {}


class RequestKeysFilter(logging.Filter):
    """Adds the current request's keys to every record (Powertools prints extra attributes)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in current_request_keys().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


def _is_json(scope: Scope) -> bool:
    if scope.get("method") not in {"POST", "PUT", "PATCH"}:
        return False
    for name, value in scope.get("headers") or ():
        if name == b"content-type":
            return b"json" in value.lower()
    return True  # Langflow clients often omit it; the run route parses JSON anyway


class RequestMiddleware:
    """Pure ASGI (streaming responses pass through untouched)."""

    def __init__(self, app: ASGIApp, *, flush_metrics: bool) -> None:
        self.app = app
        self.flush_metrics = flush_metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        info = RequestInfo(scope)
        token = _current.set(info)
        _adopt_lambda_web_adapter_context(scope)
        status = 500
        started = time.perf_counter()

        async def receive_and_peek() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                info.add_body(message.get("body", b""))
            return message

        async def send_and_watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive_and_peek, send_and_watch)
        finally:
            self._record(scope, info, status, time.perf_counter() - started)
            _current.reset(token)

    def _record(self, scope: Scope, info: RequestInfo, status: int, seconds: float) -> None:
        path = scope.get("path", "")
        route = getattr(scope.get("route"), "path", None) or path
        logger().info("request", extra={"method": scope.get("method"), "path": path, "route": route, "status": status, "duration_ms": round(seconds * 1000, 2)})
        if RUN_PATH.search(path) and scope.get("method") == "POST":
            from aws_lambda_powertools.metrics import MetricUnit

            recorder = metrics()
            model = min(info.model_seconds, seconds)
            recorder.add_metric(name="RunLatency", unit=MetricUnit.Milliseconds, value=seconds * 1000)
            recorder.add_metric(name="ModelLatency", unit=MetricUnit.Milliseconds, value=model * 1000)
            recorder.add_metric(name="EngineLatency", unit=MetricUnit.Milliseconds, value=(seconds - model) * 1000)
            if status >= 500:
                recorder.add_metric(name="RunErrors", unit=MetricUnit.Count, value=1)
            if self.flush_metrics:
                recorder.flush_metrics()


def _adopt_lambda_web_adapter_context(scope: Scope) -> None:
    """Behind the Lambda Web Adapter the request context arrives as a header: use its request id
    as the correlation id (Mangum-served functions get it from the event instead)."""
    for name, value in scope.get("headers") or ():
        if name == b"x-amzn-request-context":
            try:
                request_id = json.loads(value).get("requestId")
            except (ValueError, AttributeError):
                return
            if request_id:
                logger().set_correlation_id(str(request_id))
            return


# --- model vs engine time ------------------------------------------------------------------------


def _watch_outbound_calls() -> None:
    """Time the engine's outbound HTTP calls (model providers, URL fetches) per request.

    The engine makes every network call through `flowless_engine.http.HttpClient`; its two
    public entry points are wrapped once. Overlapping calls (parallel tools) are summed."""
    try:
        from flowless_engine.http import HttpClient
    except ImportError:  # pragma: no cover - the engine layer is always present in our functions
        return
    if getattr(HttpClient, "_flowless_timed", False):
        return

    def timed(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await method(self, *args, **kwargs)
            finally:
                _add_model_time(time.perf_counter() - started)

        call.__wrapped__ = method  # type: ignore[attr-defined]
        return call

    def timed_stream(method: Callable[..., Any]) -> Callable[..., Any]:
        async def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                async for item in method(self, *args, **kwargs):
                    yield item
            finally:
                _add_model_time(time.perf_counter() - started)

        call.__wrapped__ = method  # type: ignore[attr-defined]
        return call

    if hasattr(HttpClient, "request"):
        HttpClient.request = timed(HttpClient.request)  # type: ignore[method-assign]
    if hasattr(HttpClient, "stream_lines"):
        HttpClient.stream_lines = timed_stream(HttpClient.stream_lines)  # type: ignore[method-assign]
    HttpClient._flowless_timed = True  # type: ignore[attr-defined]


def _add_model_time(seconds: float) -> None:
    info = _current.get()
    if info is not None:
        info.model_seconds += seconds
