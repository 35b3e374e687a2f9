"""Chat sessions: last activity and an idle TTL per (flow, session id).

Session epoch rule: messages outlive their session (they stay for /monitor), so history must not
resurrect an expired conversation. A session touched after it expired (or before it ever existed)
starts a new epoch: `started_at` is reset, and history only returns messages from `started_at` on.
"""

from __future__ import annotations

import builtins  # the repository's own `list` method shadows the type in its class body
from dataclasses import dataclass
from datetime import datetime

from flowless.store import clock
from flowless.store.models import SessionItem
from flowless.store.tenancy import check_tenant


@dataclass
class Session:
    flow_id: str
    session_id: str
    started_at: datetime
    last_activity: datetime
    expires_at: datetime

    def is_live(self, at: datetime | None = None) -> bool:
        return self.expires_at > (at or clock.now())


def session_sk(flow_id: str, session_id: str) -> str:
    return f"{flow_id}#{session_id}"


def session_item(
    tenant: str, flow_id: str, session_id: str, *, started_at: datetime, at: datetime, ttl_minutes: float
) -> SessionItem:
    return SessionItem(
        tenant,
        session_sk(flow_id, session_id),
        flow_id=flow_id,
        session_id=session_id,
        started_at=started_at,
        last_activity=at,
        expires_at=clock.after(minutes=ttl_minutes, start=at),
    )


def to_session(item: SessionItem) -> Session:
    return Session(
        flow_id=item.flow_id,
        session_id=item.session_id,
        started_at=item.started_at,
        last_activity=item.last_activity,
        expires_at=item.expires_at,
    )


class SessionRepository:
    def __init__(self, tenant: str) -> None:
        self.tenant = check_tenant(tenant)

    def get(self, flow_id: str, session_id: str) -> Session | None:
        """The live session, or None when it never existed or has expired."""
        try:
            item = SessionItem.get(self.tenant, session_sk(flow_id, session_id))
        except SessionItem.DoesNotExist:
            return None
        session = to_session(item)
        return session if session.is_live() else None

    def touch(self, flow_id: str, session_id: str, ttl_minutes: float, *, at: datetime | None = None) -> Session:
        """Record activity now; starts a new epoch if the session is not live."""
        at = at or clock.now()
        live = self.get(flow_id, session_id)
        started_at = live.started_at if live else at
        item = session_item(self.tenant, flow_id, session_id, started_at=started_at, at=at, ttl_minutes=ttl_minutes)
        item.save()
        return to_session(item)

    def list(self, flow_id: str | None = None) -> list[Session]:
        condition = SessionItem.sk.startswith(f"{flow_id}#") if flow_id else None
        now = clock.now()
        items = SessionItem.query(self.tenant, condition, filter_condition=SessionItem.expires_at > now)
        return [to_session(item) for item in items]

    def delete(self, session_id: str, flow_id: str | None = None) -> int:
        """Forget a session id (in one flow, or in all of them); returns how many were removed."""
        items = self._records(session_id, flow_id)
        with SessionItem.batch_write() as batch:
            for item in items:
                batch.delete(item)
        return len(items)

    def rename(self, old_session_id: str, new_session_id: str, flow_id: str | None = None) -> None:
        """Move session records to a new id, keeping their epoch and expiry."""
        items = self._records(old_session_id, flow_id)
        with SessionItem.batch_write() as batch:
            for item in items:
                batch.save(
                    SessionItem(
                        self.tenant,
                        session_sk(item.flow_id, new_session_id),
                        flow_id=item.flow_id,
                        session_id=new_session_id,
                        started_at=item.started_at,
                        last_activity=item.last_activity,
                        expires_at=item.expires_at,
                    )
                )
                batch.delete(item)

    def _records(self, session_id: str, flow_id: str | None) -> builtins.list[SessionItem]:
        if flow_id is not None:
            try:
                return [SessionItem.get(self.tenant, session_sk(flow_id, session_id))]
            except SessionItem.DoesNotExist:
                return []
        return list(SessionItem.query(self.tenant, filter_condition=SessionItem.session_id == session_id))
