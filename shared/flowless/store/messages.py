"""Chat messages of one tenant, stored per (flow, session) in time order.

Reads never return items whose `expires_at` has passed: DynamoDB deletes them lazily and the
emulators never do. History for a run is further bounded by the session epoch (see sessions.py).
"""

from __future__ import annotations

import builtins  # the repository's own `list` method shadows the type in its class body
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from flowless_engine.schema import Message
from pynamodb.expressions.condition import Condition

from flowless.store import clock
from flowless.store.errors import NotFound
from flowless.store.models import MessageItem
from flowless.store.sessions import SessionRepository
from flowless.store.tenancy import check_session_id, check_tenant
from flowless.store.transact import Transaction

ORDER_BY_FIELDS = ("timestamp", "sender", "sender_name", "session_id", "text")
EDITABLE_FIELDS = frozenset(
    {
        "text",
        "sender",
        "sender_name",
        "session_id",
        "context_id",
        "files",
        "edit",
        "error",
        "properties",
        "session_metadata",
        "category",
        "content_blocks",
    }
)


def message_pk(tenant: str, flow_id: str, session_id: str) -> str:
    return f"{tenant}#{flow_id}#{session_id}"


def session_key(tenant: str, session_id: str) -> str:
    return f"{tenant}#{session_id}"


def message_sk(timestamp: datetime, message_id: str) -> str:
    return f"{clock.sortable_timestamp(timestamp)}#{message_id}"


def from_engine_message(tenant: str, msg: Message, expires_at: datetime, *, flow_id: str | None = None) -> MessageItem:
    """A storable item for an engine message (its text must already be resolved)."""
    flow = msg.flow_id or flow_id or ""
    timestamp = clock.parse_timestamp(msg.timestamp)
    return MessageItem(
        message_pk(tenant, flow, msg.session_id),
        message_sk(timestamp, msg.id),
        tenant=tenant,
        session_key=session_key(tenant, msg.session_id),
        id=msg.id,
        flow_id=flow,
        session_id=msg.session_id,
        sender=msg.sender,
        sender_name=msg.sender_name,
        text=msg.plain_text,
        files=list(msg.files) or None,
        error=msg.error,
        edit=msg.edit,
        properties=msg.properties or None,
        category=msg.category,
        content_blocks=msg.content_blocks or None,
        context_id=msg.context_id or None,
        run_id=msg.run_id,
        timestamp=timestamp,
        duration=msg.duration,
        session_metadata=msg.session_metadata,
        expires_at=expires_at,
    )


def to_engine_message(item: MessageItem) -> Message:
    return Message(
        text=item.text or "",
        sender=item.sender,
        sender_name=item.sender_name,
        session_id=item.session_id,
        context_id=item.context_id or "",
        flow_id=item.flow_id or None,
        files=list(item.files or []),
        id=item.id,
        timestamp=clock.langflow_timestamp(item.timestamp),
        run_id=item.run_id,
        error=bool(item.error),
        edit=bool(item.edit),
        category=item.category or "message",
        properties=dict(item.properties or {}),
        content_blocks=list(item.content_blocks or []),
        duration=int(item.duration) if item.duration is not None else None,
        session_metadata=item.session_metadata,
    )


class MessageRepository:
    def __init__(self, tenant: str, *, page_size: int | None = None) -> None:
        self.tenant = check_tenant(tenant)
        self.page_size = page_size

    def history(
        self,
        flow_id: str | None,
        session_id: str,
        *,
        since: datetime | None = None,
        limit: int = 100,
        sender: str | None = None,
        sender_name: str | None = None,
    ) -> list[Message]:
        """The newest `limit` live messages of a session (all flows when flow_id is None), oldest first."""
        if limit <= 0:
            return []
        items = self._session_items(
            flow_id,
            session_id,
            MessageItem.sk >= clock.sortable_timestamp(since) if since else None,
            self._filter(sender=sender, sender_name=sender_name),
            newest_first=True,
            limit=limit,
        )
        return [to_engine_message(item) for item in reversed(list(items))]

    def list(
        self,
        flow_id: str | None = None,
        session_id: str | None = None,
        sender: str | None = None,
        sender_name: str | None = None,
        order_by: str = "timestamp",
        order: str = "ASC",
        limit: int = 100,
        offset: int = 0,
    ) -> list[Message]:
        """The /monitor listing: the newest window (`offset`, `limit`), then sorted as asked."""
        if order_by not in ORDER_BY_FIELDS:
            raise ValueError(f"order_by must be one of {', '.join(ORDER_BY_FIELDS)}")
        if order.upper() not in ("ASC", "DESC"):
            raise ValueError("order must be ASC or DESC")
        if session_id is not None:
            filter_condition = self._filter(sender=sender, sender_name=sender_name)
            items: Iterable[MessageItem] = self._session_items(
                flow_id, session_id, None, filter_condition, newest_first=True, limit=offset + limit
            )
        else:
            filter_condition = self._filter(flow_id=flow_id, sender=sender, sender_name=sender_name)
            items = self._tenant_items(filter_condition, newest_first=True, limit=offset + limit)
        window = list(items)[offset : offset + limit]
        if order_by == "timestamp":
            window.sort(key=lambda item: item.sk)
        else:
            window.sort(key=lambda item: (getattr(item, order_by) or "", item.sk))
        if order.upper() == "DESC":
            window.reverse()
        return [to_engine_message(item) for item in window]

    def get(self, message_id: str) -> Message | None:
        item = self._find_one(message_id)
        return to_engine_message(item) if item else None

    def update(self, message_id: str, **changes: Any) -> Message:
        """Edit a message; changing its text marks it edited. Raises NotFound."""
        unknown = set(changes) - EDITABLE_FIELDS
        if unknown:
            raise TypeError(f"unknown message fields: {sorted(unknown)}")
        item = self._find_one(message_id)
        if item is None:
            raise NotFound("Message not found")
        if isinstance(changes.get("session_id"), str):
            check_session_id(changes["session_id"])
        msg = to_engine_message(item)
        if "text" in changes and changes["text"] != msg.text:
            changes.setdefault("edit", True)
        for name, value in changes.items():
            setattr(msg, name, value)
        updated = from_engine_message(self.tenant, msg, item.expires_at)
        tx = Transaction()
        if updated.pk != item.pk:  # a new session id moves the message to another partition
            tx.delete(item)
        tx.put(updated)
        tx.commit()
        return msg

    def delete_ids(self, message_ids: Iterable[str]) -> int:
        """Delete the tenant's messages among `message_ids`; foreign or unknown ids are ignored."""
        wanted = set(message_ids)
        if not wanted:
            return 0
        found = [item for item in self._tenant_items(None, keys_only=True) if item.id in wanted]
        self._delete_items(found)
        return len(found)

    def delete_session(self, session_id: str, flow_id: str | None = None) -> int:
        """Delete a session's messages (in one flow or all) and its session records."""
        found = list(self._session_items(flow_id, session_id, None, None, keys_only=True, live_only=False))
        self._delete_items(found)
        SessionRepository(self.tenant).delete(session_id, flow_id)
        return len(found)

    def rename_session(self, old_session_id: str, new_session_id: str) -> builtins.list[Message]:
        """Move every message (and session record) of a session id to a new id; returns the live ones."""
        if old_session_id == new_session_id:
            return [to_engine_message(item) for item in self._session_items(None, old_session_id, None, None)]
        check_session_id(new_session_id)
        moved = []
        items = list(self._session_items(None, old_session_id, None, None, live_only=False))
        with MessageItem.batch_write() as batch:
            for item in items:
                msg = to_engine_message(item)
                msg.session_id = new_session_id
                batch.save(from_engine_message(self.tenant, msg, item.expires_at))
                batch.delete(item)
                if item.expires_at > clock.now():
                    moved.append(msg)
        SessionRepository(self.tenant).rename(old_session_id, new_session_id)
        return moved

    def sessions(self, flow_id: str | None = None) -> builtins.list[str]:
        """Distinct session ids with live messages, in order of first message."""
        seen: dict[str, None] = {}
        for item in self._tenant_items(self._filter(flow_id=flow_id), attributes=["session_id"]):
            seen.setdefault(item.session_id)
        return list(seen)

    # --- queries -----------------------------------------------------------------------------

    def _filter(self, **equals: str | None) -> Condition | None:
        condition: Condition | None = None
        for name, value in equals.items():
            if value is not None:
                clause = getattr(MessageItem, name) == value
                condition = clause if condition is None else condition & clause
        return condition

    def _live(self, condition: Condition | None) -> Condition:
        live = MessageItem.expires_at > clock.now()
        return live if condition is None else live & condition

    def _session_items(
        self,
        flow_id: str | None,
        session_id: str,
        range_condition: Condition | None,
        filter_condition: Condition | None,
        *,
        newest_first: bool = False,
        limit: int | None = None,
        keys_only: bool = False,
        live_only: bool = True,
    ) -> Iterator[MessageItem]:
        options: dict[str, Any] = {
            "filter_condition": self._live(filter_condition) if live_only else filter_condition,
            "scan_index_forward": not newest_first,
            "limit": limit,
            "page_size": self.page_size,
            "attributes_to_get": ["pk", "sk", "id"] if keys_only else None,
        }
        if flow_id is None:
            return MessageItem.by_session.query(session_key(self.tenant, session_id), range_condition, **options)
        return MessageItem.query(message_pk(self.tenant, flow_id, session_id), range_condition, **options)

    def _tenant_items(
        self,
        filter_condition: Condition | None,
        *,
        newest_first: bool = False,
        limit: int | None = None,
        keys_only: bool = False,
        attributes: builtins.list[str] | None = None,
    ) -> Iterator[MessageItem]:
        return MessageItem.by_tenant.query(
            self.tenant,
            filter_condition=self._live(filter_condition),
            scan_index_forward=not newest_first,
            limit=limit,
            page_size=self.page_size,
            attributes_to_get=["pk", "sk", "id"] if keys_only else attributes,
        )

    def _find_one(self, message_id: str) -> MessageItem | None:
        # Ids are not keys; the tenant index with a filter finds one (monitor edits are rare).
        return next(iter(self._tenant_items(MessageItem.id == message_id)), None)

    @staticmethod
    def _delete_items(items: Iterable[MessageItem]) -> None:
        with MessageItem.batch_write() as batch:
            for item in items:
                batch.delete(item)
