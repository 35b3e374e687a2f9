"""`/monitor` routes: the tenant's messages and sessions, in Langflow's MessageRead shape."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from fastapi import APIRouter, Body, Depends, Query, Response

from flowless.api.auth import Caller, requires
from flowless.api.errors import ApiError
from flowless_engine.schema import Message

router = APIRouter(prefix="/monitor", tags=["Monitor"])
MAX_LIMIT = 200
EDITABLE = {"text", "sender", "sender_name", "session_id", "context_id", "files", "edit", "error", "properties", "session_metadata", "category", "content_blocks"}


def message_read(message: Message) -> dict[str, Any]:
    """Langflow's MessageRead; note `files` is a JSON-encoded string there."""
    return {
        "id": message.id,
        "flow_id": message.flow_id,
        "timestamp": message.timestamp,
        "sender": message.sender,
        "sender_name": message.sender_name,
        "session_id": message.session_id,
        "context_id": message.context_id or None,
        "text": message.plain_text,
        "files": json.dumps(list(message.files)),
        "edit": message.edit,
        "duration": message.duration,
        "properties": message.properties,
        "category": message.category,
        "content_blocks": message.content_blocks,
        "session_metadata": message.session_metadata,
    }


def _messages(tenant: str) -> Any:
    from flowless.store.messages import MessageRepository

    return MessageRepository(tenant)


@router.get("/messages")
async def list_messages(
    flow_id: str | None = None,
    session_id: str | None = None,
    sender: str | None = None,
    sender_name: str | None = None,
    order_by: str = "timestamp",
    order: str = "ASC",
    limit: int = Query(100, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0),
    caller: Caller = Depends(requires("read")),
) -> list[dict[str, Any]]:
    try:
        found = _messages(caller.tenant).list(
            flow_id=flow_id,
            session_id=unquote(session_id) if session_id else None,
            sender=sender,
            sender_name=sender_name,
            order_by=order_by,
            order=order.upper(),
            limit=limit,
            offset=offset,
        )
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None
    return [message_read(m) for m in found]


@router.get("/messages/sessions")
async def list_sessions(flow_id: str | None = None, caller: Caller = Depends(requires("read"))) -> list[str]:
    return [s for s in _messages(caller.tenant).sessions(flow_id) if not s.startswith("agentic_")]


@router.put("/messages/{message_id}")
async def update_message(message_id: str, changes: dict[str, Any] = Body(...), caller: Caller = Depends(requires("write"))) -> dict[str, Any]:
    unknown = set(changes) - EDITABLE
    if unknown:
        raise ApiError(422, [{"type": "extra_forbidden", "loc": ["body", name], "msg": "Extra inputs are not permitted"} for name in sorted(unknown)])
    if isinstance(changes.get("files"), str):
        try:
            changes["files"] = json.loads(changes["files"])
        except ValueError:
            raise ApiError(422, [{"type": "json_invalid", "loc": ["body", "files"], "msg": "files must be a list"}]) from None
    from flowless.store.errors import NotFound

    try:
        return message_read(_messages(caller.tenant).update(message_id, **changes))
    except NotFound:
        raise ApiError(404, "Message not found") from None


@router.patch("/messages/session/{old_session_id}")
async def rename_session(old_session_id: str, new_session_id: str, caller: Caller = Depends(requires("write"))) -> list[dict[str, Any]]:
    moved = _messages(caller.tenant).rename_session(unquote(old_session_id), new_session_id)
    if not moved:
        raise ApiError(404, "No messages found with the given session ID")
    return [message_read(m) for m in moved]


@router.delete("/messages", status_code=204)
async def delete_messages(message_ids: list[str] = Body(...), caller: Caller = Depends(requires("write"))) -> Response:
    _messages(caller.tenant).delete_ids(message_ids)
    return Response(status_code=204)


@router.delete("/messages/session/{session_id}", status_code=204)
async def delete_session(session_id: str, caller: Caller = Depends(requires("write"))) -> Response:
    _messages(caller.tenant).delete_session(unquote(session_id))
    return Response(status_code=204)


@router.delete("/messages/sessions")
async def delete_sessions(session_ids: list[str] = Body(...), caller: Caller = Depends(requires("write"))) -> dict[str, Any]:
    if len(session_ids) > 500:
        raise ApiError(422, "At most 500 sessions can be deleted at once")
    repo = _messages(caller.tenant)
    deleted = sum(repo.delete_session(s) for s in session_ids)
    return {"message": f"Messages of {len(session_ids)} sessions deleted", "deleted_count": deleted}
