"""Reading request bodies the way Langflow's run routes do: JSON, or a multipart/urlencoded
form carrying the same fields (with `tweaks` as a JSON string). Empty → {}. JSON sent with a form
content type (what `curl -d '{...}'` does) is a 415 that says which header to send.

Whatever the content type, a body larger than `max_body_bytes` (Lambda's 6 MB by default) is a
413; `BodyLimit` refuses such requests on every route from their Content-Length before anything
reads them (file uploads excepted: their routes apply the upload limit).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import Request

from flowless.api.errors import ApiError

MAX_BODY_BYTES = 6 * 1024 * 1024  # Lambda's synchronous payload limit (the setting's default)
# JSON escapes of UTF-16 surrogates: only a body containing one can decode to an unpaired one.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def max_body_bytes() -> int:
    from flowless.settings import get_settings

    return get_settings().max_body_bytes


def not_json(content_type: str) -> ApiError:
    """415 for a JSON body sent as something else (`curl -d` sends a form content type): running
    it as a form would run the flow with none of its fields."""
    sent = content_type.split(";")[0].strip() or "none"
    return ApiError(415, f"This route takes a JSON body with 'Content-Type: application/json'; the request's Content-Type is {sent}. "
                         "With curl, add -H 'Content-Type: application/json'.")


def looks_like_json(raw: bytes) -> bool:
    return raw.lstrip()[:1] in (b"{", b"[")


def too_large(limit: int) -> ApiError:
    return ApiError(413, f"Request body exceeds {limit} bytes")


async def read_body(request: Request) -> dict[str, Any]:
    limit = max_body_bytes()
    raw = await request.body()  # read once: a form below parses this same (size-checked) body
    if len(raw) > limit:
        raise too_large(limit)
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith("application/x-www-form-urlencoded") and looks_like_json(raw):
        raise not_json(content_type)
    if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        form = await request.form()
        body: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
        if isinstance(body.get("tweaks"), str):
            try:
                body["tweaks"] = json.loads(body["tweaks"])
            except (ValueError, RecursionError):
                raise ApiError(400, "The 'tweaks' form field is not valid JSON") from None
        _refuse_unpaired_surrogates(body)
        return body
    if not raw.strip():
        return {}
    try:
        parsed = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "Request body is not valid JSON") from None
    except RecursionError:
        raise ApiError(400, "Request body is nested too deeply") from None
    if not isinstance(parsed, dict):
        raise ApiError(422, [{"type": "dict_type", "loc": ["body"], "msg": "Input should be a JSON object"}])
    if _SURROGATE_ESCAPE.search(raw):
        _refuse_unpaired_surrogates(parsed)
    return parsed


def _refuse_unpaired_surrogates(body: dict[str, Any]) -> None:
    """JSON may escape half a UTF-16 pair ("\\ud800"): such text cannot be stored or sent on."""
    try:
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ApiError(400, "Request body contains an unpaired Unicode surrogate") from None


Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]


class BodyLimit:
    """ASGI middleware: a declared Content-Length above `max_body_bytes` is answered 413 before
    the route runs. Multipart bodies pass (file uploads have their own, larger, limit; the run
    routes' forms are checked by `read_body`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = dict(scope.get("headers") or ())
            declared = headers.get(b"content-length", b"").strip()
            multipart = headers.get(b"content-type", b"").lower().startswith(b"multipart/form-data")
            limit = max_body_bytes()
            if declared.isdigit() and int(declared) > limit and not multipart:
                body = json.dumps({"detail": f"Request body exceeds {limit} bytes"}).encode()
                await send({"type": "http.response.start", "status": 413,
                            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
