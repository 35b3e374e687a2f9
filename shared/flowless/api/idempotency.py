"""`Idempotency-Key` on the run routes (`/run`, `/run/advanced`, `/flows/{id}/run`), on
`/build/{flow_id}/flow` and on `POST /api/v2/workflows`: a repeat of a request returns the first request's answer instead of
running the flow again.

- Same key, same request (method, path, query and body, byte for byte): the first answer,
  replayed with `Idempotent-Replayed: true` (streamed answers are replayed whole).
- Same key, another request: 422. Same key while the first is still running: 409.
- Answers with a 5xx status are not kept (the key is released so a retry runs); anything else is
  kept for FLOWLESS_IDEMPOTENCY_TTL_SECONDS (default 3600), then the key is free again.
- Keys are per tenant (another tenant's identical key is another key) and at most 255 characters.

An ASGI middleware, so the routes stay as they are. Without the header it costs one header
lookup: no body is read twice, no DynamoDB call is made. The storage is `store.idempotency`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.requests import Request

HEADER = b"idempotency-key"
REPLAYED = "idempotent-replayed"
MAX_KEY_CHARS = 255
ROUTES = re.compile(r"^(?:/lf/(?P<langflow_id>[^/]+))?/api/(?:v1/(?:run/(?:advanced/)?[^/]+|flows/[^/]+/run|build/[^/]+/flow)|v2/workflows)/?$")
# Response headers not replayed (recomputed, or about the first response's transport).
_NOT_REPLAYED = {"content-length", "transfer-encoding", "date", "server", "connection"}

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]


class Idempotency:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        raw_key = next((value for name, value in scope.get("headers") or () if name == HEADER), None)
        match = ROUTES.match(scope["path"]) if raw_key is not None else None
        if match is None:
            await self.app(scope, receive, send)
            return
        try:
            await self._idempotent(scope, receive, send, raw_key.decode("latin-1").strip(), match.group("langflow_id"))
        except _Answer as answer:
            await answer.send(send)

    async def _idempotent(self, scope: Scope, receive: Any, send: Any, key: str, langflow_id: str | None) -> None:
        from flowless.settings import get_settings
        from flowless.store.idempotency import Claimed, IdempotencyStore, StoredAnswer

        if not key or len(key) > MAX_KEY_CHARS:
            raise _Answer(422, f"The Idempotency-Key header must have 1 to {MAX_KEY_CHARS} characters")
        tenant = _tenant(scope, langflow_id)
        if tenant is None:  # no usable key, or one without the scope: the route answers it
            await self.app(scope, receive, send)
            return
        settings = get_settings()
        body = await _read_body(receive, settings.max_body_bytes)
        fingerprint = hashlib.sha256(b"\n".join([scope["method"].encode(), scope["path"].encode(), scope.get("query_string", b""), body])).hexdigest()
        store = IdempotencyStore(tenant, settings.idempotency_ttl_seconds)
        claim = _stored(lambda: store.claim(key, fingerprint))
        if not isinstance(claim, Claimed):
            if claim.fingerprint != fingerprint:
                raise _Answer(422, "This Idempotency-Key was already used with a different request")
            if claim.in_progress:
                raise _Answer(409, "A request with this Idempotency-Key is still in progress")
            if claim.answer is None:
                raise _Answer(409, "A request with this Idempotency-Key completed, but its answer was too large to keep")
            await _replay(send, claim.answer)
            return

        captured: dict[str, Any] = {"status": 500, "headers": [], "chunks": [], "complete": False}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in message.get("headers") or ()
                                       if n.decode("latin-1").lower() not in _NOT_REPLAYED]
            elif message["type"] == "http.response.body":
                captured["chunks"].append(message.get("body", b""))
                captured["complete"] = not message.get("more_body", False)
            await send(message)

        try:
            await self.app(scope, _replaying(body, receive), capture)
        finally:
            if captured["complete"] and captured["status"] < 500:
                answer = StoredAnswer(captured["status"], captured["headers"], b"".join(captured["chunks"]))
                _stored(lambda: store.complete(key, fingerprint, answer), answered=True)
            else:
                _stored(lambda: store.release(key), answered=True)


class _Answer(Exception):
    """A JSON error answered by the middleware itself."""

    def __init__(self, status: int, detail: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, headers or {}

    async def send(self, send: Any) -> None:
        body = json.dumps({"detail": self.detail}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        headers += [(name.lower().encode(), value.encode()) for name, value in self.headers.items()]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _stored(call: Callable[[], Any], *, answered: bool = False) -> Any:
    """A storage call; a failure is answered like the routes' (503 + Retry-After when throttled).
    Once the response is sent (`answered`), a failure to record it only leaves the key to expire."""
    from flowless.api.errors import classify_unexpected, logger

    try:
        return call()
    except Exception as exc:
        if answered:
            logger.warning("idempotency record not written: %s", type(exc).__name__)
            return None
        status, detail, headers = classify_unexpected(exc)
        raise _Answer(status, detail, headers) from exc


def _tenant(scope: Scope, langflow_id: str | None) -> str | None:
    """The caller's tenant when the request carries a usable key with the execute scope."""
    from flowless.api.auth import api_key_from
    from flowless.auth.keys import authenticate

    raw = api_key_from(Request(scope))
    principal = _stored(lambda: authenticate(raw)) if raw else None
    if principal is None or (langflow_id is not None and langflow_id != principal.tenant):
        return None
    return principal.tenant if {"execute", "admin"} & set(map(str, principal.scopes)) else None


async def _read_body(receive: Any, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _Answer(413, f"Request body exceeds {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replaying(body: bytes, receive: Any) -> Callable[[], Awaitable[Message]]:
    """A `receive` that hands the app the body already read, then the client's later messages."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _replay(send: Any, answer: Any) -> None:
    headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in answer.headers]
    headers += [(b"content-length", str(len(answer.body)).encode()), (REPLAYED.encode(), b"true")]
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})
