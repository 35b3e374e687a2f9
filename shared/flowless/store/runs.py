"""The hot path's storage: one run's history reads and its single write.

`RunMessageStore` is the engine's `MessageStore` for one run: history is read once per session
(session-epoch aware) and cached, new messages are buffered, and `flush()` writes them together
with the session touch in one TransactWriteItems call (`persist_run`).

The methods are async for the engine's protocol but call DynamoDB synchronously: a Lambda
container serves one request at a time, so there is nothing to overlap with.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from flowless_engine.schema import Message
from pynamodb.expressions.update import Action

from flowless.store import clock
from flowless.store.connection import store_settings
from flowless.store.errors import Conflict
from flowless.store.messages import MessageRepository, from_engine_message
from flowless.store.models import MessageItem, SessionItem
from flowless.store.sessions import Session, SessionRepository, session_item, session_sk, to_session
from flowless.store.tenancy import check_session_id, check_tenant
from flowless.store.transact import MAX_ITEMS, ConditionsFailed, Transaction


def persist_run(
    tenant: str,
    flow_id: str,
    session_id: str,
    messages: Sequence[Message],
    ttl_minutes: float | None = None,
    *,
    session_live: bool | None = None,
    at: datetime | None = None,
) -> Session | None:
    """Write a run's messages and touch its session in one DynamoDB call (chunked past 99 messages).

    `session_live` is what the caller already knows: True/None try to extend the live session
    (keeping its epoch); if it is expired or missing after all, the write is redone as a new epoch
    starting at the run's first message (a second call). False goes straight to a new epoch.
    Returns the new session when an epoch started, None when a live session was extended.

    Concurrent runs of one session: a new epoch is only started where no live session exists
    (conditional put), and a live session whose epoch a concurrent run started after this run's
    first message has its start moved back to it, so no run's messages fall outside the epoch.
    """
    check_tenant(tenant)
    check_session_id(session_id)
    if any(msg.session_id != session_id for msg in messages):
        raise ValueError("every message of a run must belong to its session")
    settings = store_settings()
    ttl = ttl_minutes or settings.session_ttl_minutes
    at = at or clock.now()
    # Messages stay for /monitor well beyond the session; never shorter than the session itself.
    expires_at = clock.after(minutes=max(ttl, settings.message_retention_hours * 60), start=at)
    items = [from_engine_message(tenant, msg, expires_at, flow_id=flow_id) for msg in messages]

    # The last chunk shares its transaction with the session item; any earlier ones go first.
    head, tail = items[: -(MAX_ITEMS - 1)], items[-(MAX_ITEMS - 1) :]
    for start in range(0, len(head), MAX_ITEMS):
        _puts(head[start : start + MAX_ITEMS]).commit()

    first = min([clock.parse_timestamp(m.timestamp) for m in messages] + [at])
    key = SessionItem(tenant, session_sk(flow_id, session_id))
    extend: list[Action] = [
        SessionItem.last_activity.set(at),
        SessionItem.expires_at.set(clock.after(minutes=ttl, start=at)),
    ]
    live = SessionItem.expires_at > at
    for _ in range(_SESSION_ATTEMPTS):
        if session_live is not False and _committed(tail, lambda tx: tx.update(key, extend, live & (SessionItem.started_at <= first), "session")):
            return None
        new = session_item(tenant, flow_id, session_id, started_at=first, at=at, ttl_minutes=ttl)
        if _committed(tail, lambda tx: tx.put(new, SessionItem.sk.does_not_exist() | (SessionItem.expires_at <= at), "session")):
            return to_session(new)
        # Live, but its epoch began after this run's first message (a concurrent run started it).
        if _committed(tail, lambda tx: tx.update(key, [*extend, SessionItem.started_at.set(first)], live & (SessionItem.started_at > first), "session")):
            return None
        session_live = None  # the session changed between our attempts: look again
    raise Conflict(f"session {session_id} kept changing while this run's messages were written", field="session")


# Attempts at the session write before giving up (each is one TransactWriteItems that failed a
# condition, because concurrent runs of the session changed it in between).
_SESSION_ATTEMPTS = 5


def _committed(items: Sequence[MessageItem], session_write: Any) -> bool:
    """Commit `items` with the session write added by `session_write(tx)`; False if a condition failed."""
    tx = _puts(items)
    session_write(tx)
    try:
        tx.commit()
    except ConditionsFailed:
        return False
    return True


def _puts(items: Sequence[MessageItem]) -> Transaction:
    tx = Transaction()
    for item in items:
        tx.put(item)
    return tx


class RunMessageStore:
    """The engine's MessageStore for one run of `flow_id` (see the module docstring)."""

    def __init__(
        self,
        tenant: str,
        flow_id: str,
        session_ttl_minutes: float | None = None,
        *,
        messages: MessageRepository | None = None,
        sessions: SessionRepository | None = None,
    ) -> None:
        self.tenant = check_tenant(tenant)
        self.flow_id = flow_id
        self.session_ttl_minutes = session_ttl_minutes or store_settings().session_ttl_minutes
        self._messages = messages or MessageRepository(tenant)
        self._sessions = sessions or SessionRepository(tenant)
        self._pending: list[Message] = []
        # What this run has learnt, keyed by (flow id, session id): the live session or None.
        self._known_sessions: dict[tuple[str, str], Session | None] = {}
        # (flow scope, session, sender, sender_name) -> (limit asked, messages returned)
        self._history: dict[tuple[str | None, str, str | None, str | None], tuple[int, list[Message]]] = {}

    async def get_messages(
        self,
        *,
        flow_id: str | None,
        session_id: str,
        limit: int = 100,
        sender: str | None = None,
        sender_name: str | None = None,
        order: str = "ASC",
    ) -> list[Message]:
        """Stored history of the live session plus this run's unsaved messages, newest `limit`."""
        stored = self._stored_history(flow_id, session_id, limit, sender, sender_name)
        unsaved = [
            m
            for m in self._pending
            if m.session_id == session_id
            and (flow_id is None or (m.flow_id or self.flow_id) == flow_id)
            and (sender is None or m.sender == sender)
            and (sender_name is None or m.sender_name == sender_name)
        ]
        found = (stored + unsaved)[-limit:] if limit > 0 else []
        return found if order.upper() == "ASC" else list(reversed(found))

    async def add_messages(self, messages: Iterable[Message]) -> None:
        self._pending.extend(messages)

    async def session_ids(self, flow_id: str) -> list[str]:
        """The flow's sessions with live messages, oldest first, then this run's new ones."""
        stored = self._messages.sessions(flow_id)
        return list(dict.fromkeys([*stored, *(m.session_id for m in self._pending if m.session_id)]))

    async def flush(self) -> None:
        """Persist the buffered messages, one `persist_run` per session id they belong to."""
        if not self._pending:
            return
        by_session: dict[str, list[Message]] = {}
        for msg in self._pending:
            await msg.resolve()
            msg.session_id = msg.session_id or self.flow_id
            msg.flow_id = msg.flow_id or self.flow_id
            by_session.setdefault(msg.session_id, []).append(msg)
        for session_id, messages in by_session.items():
            key = (self.flow_id, session_id)
            live = (self._known_sessions[key] is not None) if key in self._known_sessions else None
            started = persist_run(
                self.tenant, self.flow_id, session_id, messages, self.session_ttl_minutes, session_live=live
            )
            if started is not None:
                self._known_sessions[key] = started
        self._pending.clear()
        self._history.clear()

    def _stored_history(
        self, flow_id: str | None, session_id: str, limit: int, sender: str | None, sender_name: str | None
    ) -> list[Message]:
        # The epoch comes from this run's session even when history spans all flows (flow_id None).
        session = self._session(flow_id or self.flow_id, session_id)
        if session is None or limit <= 0:
            return []
        key = (flow_id, session_id, sender, sender_name)
        cached = self._history.get(key)
        if cached is not None and (cached[0] >= limit or len(cached[1]) < cached[0]):
            return cached[1][-limit:]
        found = self._messages.history(
            flow_id, session_id, since=session.started_at, limit=limit, sender=sender, sender_name=sender_name
        )
        self._history[key] = (limit, found)
        return found

    def _session(self, flow_id: str, session_id: str) -> Session | None:
        key = (flow_id, session_id)
        if key not in self._known_sessions:
            self._known_sessions[key] = self._sessions.get(flow_id, session_id)
        return self._known_sessions[key]
