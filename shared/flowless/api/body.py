"""Reading request bodies the way Langflow's run routes do: JSON, or a multipart/urlencoded
form carrying the same fields (with `tweaks` as a JSON string). Empty → {}."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from flowless.api.errors import ApiError

MAX_BODY_BYTES = 6 * 1024 * 1024  # Lambda's synchronous payload limit


async def read_body(request: Request) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        form = await request.form()
        body: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
        if isinstance(body.get("tweaks"), str):
            try:
                body["tweaks"] = json.loads(body["tweaks"])
            except ValueError:
                raise ApiError(400, "The 'tweaks' form field is not valid JSON") from None
        return body
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(413, f"Request body exceeds {MAX_BODY_BYTES} bytes")
    if not raw.strip():
        return {}
    try:
        parsed = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "Request body is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise ApiError(422, [{"type": "dict_type", "loc": ["body"], "msg": "Input should be a JSON object"}])
    return parsed
