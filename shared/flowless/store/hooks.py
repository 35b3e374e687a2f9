"""Outbound webhook subscriptions of a flow and the log of their deliveries.

  subscriptions  flows table  pk tenant             | HOOK#<flow_id>#<hook_id>
  deliveries     jobs table   pk <tenant>#HOOK#<id> | DLV#<enqueued, sortable>#<delivery_id>  (TTL)

A subscription's signing secret is encrypted like a variable's value (KMS, or the local key).
A delivery record is written by the delivery worker, one UpdateItem per attempt (the record is
created by the first), so enqueueing an event costs the run path no write.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pynamodb.attributes import (
    BinaryAttribute,
    ListAttribute,
    MapAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    TTLAttribute,
)

from flowless.store import clock
from flowless.store.companions import CompanionModel
from flowless.store.connection import store_settings
from flowless.store.crypto import Encryptor, get_encryptor
from flowless.store.flows import canonical_flow_id
from flowless.store.models import FlowItem, JobItem, _meta
from flowless.store.tenancy import check_tenant

HOOK_PREFIX = "HOOK#"
DELIVERY_PREFIX = "DLV#"
DEFAULT_DELIVERY_RETENTION_HOURS = 168


class SubscriptionItem(CompanionModel):
    host = FlowItem
    Meta = _meta("flows")

    tenant = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)  # HOOK#<flow_id>#<hook_id>
    hook_id = UnicodeAttribute()
    flow_id = UnicodeAttribute()
    url = UnicodeAttribute()
    events = ListAttribute(of=UnicodeAttribute)
    secret = BinaryAttribute(legacy_encoding=False)  # ciphertext from an Encryptor
    description = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()


class DeliveryItem(CompanionModel):
    host = JobItem
    Meta = _meta("jobs")

    pk = UnicodeAttribute(hash_key=True)  # <tenant>#HOOK#<hook_id>
    sk = UnicodeAttribute(range_key=True)  # DLV#<enqueued>#<delivery_id>
    delivery_id = UnicodeAttribute(null=True)
    flow_id = UnicodeAttribute(null=True)
    event = UnicodeAttribute(null=True)
    state = UnicodeAttribute(null=True)
    attempts = ListAttribute(of=MapAttribute, null=True)
    created_at = UTCDateTimeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)
    expires_at = TTLAttribute(null=True)


@dataclass
class Subscription:
    id: str
    flow_id: str
    url: str
    events: list[str]
    created_at: datetime
    description: str | None = None
    secret: str | None = None  # only when read with the secret


@dataclass
class Delivery:
    id: str
    flow_id: str
    event: str
    state: str
    attempts: list[dict[str, Any]] = field(default_factory=list)
    created_at: datetime | None = None
    updated_at: datetime | None = None


class SubscriptionRepository:
    def __init__(self, tenant: str, *, encryptor: Encryptor | None = None) -> None:
        self.tenant = check_tenant(tenant)
        self._encryptor = encryptor

    @property
    def encryptor(self) -> Encryptor:
        if self._encryptor is None:
            self._encryptor = get_encryptor(store_settings())
        return self._encryptor

    def create(self, flow_id: str, url: str, events: list[str], secret: str, description: str | None = None) -> Subscription:
        hook_id = str(uuid.uuid4())
        item = SubscriptionItem(
            self.tenant,
            _sk(flow_id, hook_id),
            hook_id=hook_id,
            flow_id=flow_id,
            url=url,
            events=list(events),
            secret=self.encryptor.encrypt(secret.encode(), self._context(hook_id)),
            description=description,
            created_at=clock.now(),
        )
        item.save(condition=SubscriptionItem.sk.does_not_exist())
        subscription = _subscription(item)
        subscription.secret = secret
        return subscription

    def list(self, flow_id: str) -> list[Subscription]:
        items = SubscriptionItem.query(self.tenant, SubscriptionItem.sk.startswith(f"{HOOK_PREFIX}{flow_id}#"))
        return sorted((_subscription(item) for item in items), key=lambda s: s.created_at)

    def get(self, flow_id: str, hook_id: str, *, with_secret: bool = False) -> Subscription | None:
        if canonical_flow_id(hook_id) is None or canonical_flow_id(flow_id) is None:
            return None
        try:
            item = SubscriptionItem.get(self.tenant, _sk(flow_id, hook_id))
        except SubscriptionItem.DoesNotExist:
            return None
        subscription = _subscription(item)
        if with_secret:
            subscription.secret = self.encryptor.decrypt(item.secret, self._context(item.hook_id)).decode()
        return subscription

    def delete(self, flow_id: str, hook_id: str) -> None:
        SubscriptionItem(self.tenant, _sk(flow_id, hook_id)).delete()

    def _context(self, hook_id: str) -> dict[str, str]:
        return {"tenant": self.tenant, "webhook": hook_id}


class DeliveryLog:
    """Attempts of the deliveries of one tenant's subscriptions (expire after a retention)."""

    def __init__(self, tenant: str, *, retention_hours: float | None = None) -> None:
        self.tenant = check_tenant(tenant)
        self.retention_hours = retention_hours or DEFAULT_DELIVERY_RETENTION_HOURS

    def record(self, hook_id: str, delivery_id: str, enqueued_at: str, *, flow_id: str, event: str, state: str,
               attempt: dict[str, Any] | None) -> None:
        """One attempt (or none, for a state change alone) and the delivery's state now."""
        now = clock.now()
        actions = [
            DeliveryItem.delivery_id.set(delivery_id),
            DeliveryItem.flow_id.set(flow_id),
            DeliveryItem.event.set(event),
            DeliveryItem.state.set(state),
            DeliveryItem.created_at.set(DeliveryItem.created_at | now),
            DeliveryItem.updated_at.set(now),
            DeliveryItem.expires_at.set(clock.after(hours=self.retention_hours, start=now)),
        ]
        if attempt is not None:
            actions.append(DeliveryItem.attempts.set((DeliveryItem.attempts | []).append([attempt])))
        DeliveryItem(self._pk(hook_id), f"{DELIVERY_PREFIX}{enqueued_at}#{delivery_id}").update(actions)

    def list(self, hook_id: str, limit: int = 50) -> list[Delivery]:
        """The latest deliveries first."""
        items = DeliveryItem.query(
            self._pk(hook_id),
            DeliveryItem.sk.startswith(DELIVERY_PREFIX),
            filter_condition=DeliveryItem.expires_at > clock.now(),
            scan_index_forward=False,
            limit=limit,
        )
        return [
            Delivery(
                id=item.delivery_id or "",
                flow_id=item.flow_id or "",
                event=item.event or "",
                state=item.state or "",
                attempts=[a.as_dict() if isinstance(a, MapAttribute) else dict(a) for a in item.attempts or []],
                created_at=item.created_at,
                updated_at=item.updated_at,
            )
            for item in items
        ]

    def _pk(self, hook_id: str) -> str:
        return f"{self.tenant}#{HOOK_PREFIX}{hook_id}"


def _sk(flow_id: str, hook_id: str) -> str:
    return f"{HOOK_PREFIX}{flow_id}#{hook_id}"


def _subscription(item: SubscriptionItem) -> Subscription:
    return Subscription(
        id=item.hook_id,
        flow_id=item.flow_id,
        url=item.url,
        events=list(item.events or []),
        created_at=item.created_at,
        description=item.description,
    )
