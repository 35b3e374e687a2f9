"""Every domain error mapped to an HTTP answer in one place. Bodies are always JSON with
`detail`, as Langflow's are; bad input never becomes a 500."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from flowless_engine import errors as engine

logger = logging.getLogger("flowless.api")


class ApiError(Exception):
    """An error with a status and a `detail` body, raised by routers and services."""

    def __init__(self, status: int, detail: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail if isinstance(detail, str) else json.dumps(detail))
        self.status = status
        self.detail = detail
        self.headers = headers


def not_found(detail: str) -> ApiError:
    return ApiError(404, detail)


def engine_error_response(exc: engine.FlowError) -> tuple[int, Any]:
    """Status and detail for an engine error (also used for the stream's `error` event)."""
    if isinstance(exc, engine.TweaksRefusedError):
        return 422, {"error": "Refused tweaks", "code": exc.code, "message": exc.message, "fields": exc.fields}
    if isinstance(exc, engine.InputClashError):
        return 400, exc.message
    if isinstance(exc, engine.ProviderTimeoutError):
        return 504, {"code": exc.code, "message": exc.message, "provider": exc.provider}
    if isinstance(exc, engine.ProviderAuthError):
        return 422, {"code": exc.code, "message": exc.message, "provider": exc.provider, "status": exc.status}
    if isinstance(exc, engine.ProviderError):
        return 502, {"code": exc.code, "message": exc.message, "provider": exc.provider, "status": exc.status}
    if isinstance(exc, engine.CustomCodeError):
        return 502, {"code": exc.code, "message": exc.message, "node_id": exc.node_id, "component": exc.display_name}
    if isinstance(exc, engine.ComponentError):
        # Langflow answers a failing graph with a JSON-encoded string of an error object.
        body = {"message": f"Error running graph: {exc.message}", "traceback": None, "description": None, "code": None, "suggestion": None}
        return 500, json.dumps(body)
    if isinstance(exc, engine.LimitExceededError):
        return 413, exc.to_dict()
    # Invalid flow, unsupported components, configuration, missing variables, blocked URLs.
    return 422, exc.to_dict()


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status, headers=exc.headers)

    @app.exception_handler(engine.FlowError)
    async def _flow_error(request: Request, exc: engine.FlowError) -> JSONResponse:
        status, detail = engine_error_response(exc)
        if status >= 500:
            logger.warning("flow failed: %s", exc.message)
        return JSONResponse({"detail": detail}, status_code=status)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        if _json_body_sent_as_something_else(request, exc):
            from flowless.api.body import not_json

            return JSONResponse({"detail": not_json(request.headers.get("content-type", "")).detail}, status_code=415)
        # Langflow's shape, without echoing submitted values back.
        errors = [{"type": e.get("type"), "loc": list(e.get("loc", ())), "msg": e.get("msg")} for e in exc.errors()]
        return JSONResponse({"detail": errors}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        status, detail, headers = classify_unexpected(exc)
        if status >= 500 and status != 503:
            logger.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def _json_body_sent_as_something_else(request: Request, exc: RequestValidationError) -> bool:
    """A JSON route's body came without a JSON content type (FastAPI then validates the raw bytes)."""
    from fastapi import params

    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json" or content_type.endswith("+json") or not isinstance(exc.body, (bytes, bytearray)):
        return False
    route = request.scope.get("route")
    body_params = getattr(getattr(route, "dependant", None), "body_params", [])
    return bool(body_params) and not any(isinstance(p.field_info, params.Form) for p in body_params)


def _chain(exc: BaseException) -> list[BaseException]:
    """`exc` and the exceptions it was raised from or during (PynamoDB wraps botocore's)."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    return any(isinstance(each, kind) for each in _chain(exc))


def classify_unexpected(exc: Exception) -> tuple[int, Any, dict[str, str] | None]:
    """Storage throttling/timeouts become 503 with Retry-After; anything else is a 500."""
    from flowless.store.errors import NotFound, Conflict, InvalidKey

    if isinstance(exc, NotFound):
        return 404, str(exc), None
    if isinstance(exc, Conflict):
        return 409, str(exc), None
    if isinstance(exc, InvalidKey):
        return 422, str(exc), None
    if _caused_by(exc, UnicodeEncodeError):
        return 400, "Text contains an unpaired Unicode surrogate", None
    text = " | ".join(f"{type(each).__name__}: {each}" for each in _chain(exc))
    transient = ("ProvisionedThroughputExceeded", "ThrottlingException", "RequestLimitExceeded", "ConnectTimeout",
                 "ReadTimeout", "EndpointConnectionError", "ServiceUnavailable", "InternalServerError")
    if any(marker in text for marker in transient):
        return 503, "The service is busy; please retry shortly.", {"Retry-After": "1"}
    return 500, "Internal server error", None
