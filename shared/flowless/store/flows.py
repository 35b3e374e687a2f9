"""Flows of one tenant: CRUD with per-tenant unique names and endpoint names.

Uniqueness lives in guard items of the same partition (sk NAME#<name>, ENDPOINT#<endpoint>),
written in the same transaction as the flow with `attribute_not_exists`, so two concurrent
creates cannot both win. Renames move the guards in that transaction too.
"""

from __future__ import annotations

import builtins  # the repository's own `list` method shadows the type in its class body
import json
import math
import re
import uuid
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any

from pynamodb.expressions.condition import Condition

from flowless.store import clock, read_cache
from flowless.store.errors import Conflict, FlowTooLargeError, NotFound
from flowless.store.models import FlowItem
from flowless.store.tenancy import check_tenant, default_project_id
from flowless.store.transact import MAX_ITEMS, ConditionsFailed, Transaction

# A DynamoDB item is at most 400 KB; leave room for the other attributes.
MAX_COMPRESSED_FLOW_BYTES = 350 * 1024

FLOW_PREFIX = "FLOW#"
NAME_PREFIX = "NAME#"
ENDPOINT_PREFIX = "ENDPOINT#"

# Transaction label (the field that clashed) -> the message Langflow uses for it.
_CONFLICT_MESSAGES = {
    "id": "A flow with this id already exists",
    "version": "The flow was changed by another request",
    "name": "Name must be unique",
    "endpoint_name": "Endpoint name must be unique",
}


def _conflict(label: str) -> Conflict:
    return Conflict(_CONFLICT_MESSAGES[label], field=label)


@dataclass
class Flow:
    id: str
    name: str
    tenant: str = ""
    data: dict[str, Any] | None = None  # None when read with include_data=False
    description: str | None = None
    endpoint_name: str | None = None
    folder_id: str | None = None
    tags: list[str] = field(default_factory=list)
    icon: str | None = None
    icon_bg_color: str | None = None
    gradient: str | None = None
    is_component: bool = False
    webhook: bool = False
    access_type: str = "PRIVATE"
    locked: bool = False
    mcp_enabled: bool = False
    flow_type: str | None = None
    action_name: str | None = None
    action_description: str | None = None
    session_ttl_minutes: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int = 0  # bumped on every write; a cache key for parsed graphs


# Fields a caller may set; the rest (id, tenant, timestamps, version) belong to the store.
EDITABLE_FIELDS = frozenset(f.name for f in fields(Flow)) - {"id", "tenant", "created_at", "updated_at", "version"}


@dataclass
class FlowPage:
    items: list[Flow]
    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        return math.ceil(self.total / self.size) if self.size else 0


def canonical_flow_id(value: str) -> str | None:
    """The canonical UUID string, or None when `value` is not a UUID."""
    try:
        return str(uuid.UUID(value))
    except (ValueError, AttributeError, TypeError):
        return None


def compress_flow_data(data: dict[str, Any]) -> bytes:
    blob = zlib.compress(json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode())
    if len(blob) > MAX_COMPRESSED_FLOW_BYTES:
        raise FlowTooLargeError(
            f"Flow data is {len(blob)} bytes after compression; the limit is {MAX_COMPRESSED_FLOW_BYTES} bytes "
            "(larger flows need S3 storage, which is not supported yet)"
        )
    return blob


def decompress_flow_data(blob: bytes) -> dict[str, Any]:
    return json.loads(zlib.decompress(blob))


class FlowRepository:
    def __init__(self, tenant: str, *, page_size: int | None = None) -> None:
        self.tenant = check_tenant(tenant)
        self.page_size = page_size  # DynamoDB query page size; None lets DynamoDB decide (1 MB)

    # --- reads -------------------------------------------------------------------------------

    def get(self, flow_id: str, *, include_data: bool = True) -> Flow | None:
        canonical = canonical_flow_id(flow_id)
        if canonical is None:
            return None
        try:
            item = FlowItem.get(self.tenant, FLOW_PREFIX + canonical, attributes_to_get=self._projection(include_data))
        except FlowItem.DoesNotExist:
            return None
        return self._to_flow(item)

    def get_by_endpoint(self, endpoint_name: str, *, include_data: bool = True) -> Flow | None:
        guard = self._guard(ENDPOINT_PREFIX, endpoint_name)
        return self.get(guard.flow_id, include_data=include_data) if guard else None

    def resolve(self, id_or_endpoint: str, *, include_data: bool = True) -> Flow | None:
        """Like Langflow's run route: a UUID is only ever a flow id, anything else an endpoint name."""
        if canonical_flow_id(id_or_endpoint) is not None:
            return self.get(id_or_endpoint, include_data=include_data)
        return self.get_by_endpoint(id_or_endpoint, include_data=include_data)

    def list(
        self,
        page: int | None = None,
        size: int | None = None,
        *,
        include_data: bool = True,
        folder_id: str | None = None,
    ) -> FlowPage:
        """All flows (page None) or one page of them, in a stable order, with the total count."""
        flows = self._iter(include_data=include_data, folder_id=folder_id)
        if page is None or size is None:
            items = list(flows)
            return FlowPage(items=items, total=len(items), page=1, size=len(items))
        if page < 1 or size < 1:
            raise ValueError("page and size must be positive")
        start = (page - 1) * size
        items, total = [], 0
        for flow in flows:
            if start <= total < start + size:
                items.append(flow)
            total += 1
        return FlowPage(items=items, total=total, page=page, size=size)

    def name_exists(self, name: str) -> bool:
        return self._guard(NAME_PREFIX, name) is not None

    def endpoint_exists(self, endpoint_name: str) -> bool:
        return self._guard(ENDPOINT_PREFIX, endpoint_name) is not None

    def free_name(self, name: str) -> str:
        """`name` if unused, else `"<name> (N)"` with N one above the highest taken."""
        return self._free(NAME_PREFIX, name, f"{name} (", re.compile(rf"^{re.escape(name)} \((\d+)\)$"), "{} ({})")

    def free_endpoint_name(self, endpoint_name: str) -> str:
        """`endpoint_name` if unused, else `"<endpoint>-N"` with N one above the highest taken."""
        return self._free(
            ENDPOINT_PREFIX, endpoint_name, f"{endpoint_name}-", re.compile(rf"^{re.escape(endpoint_name)}-(\d+)$"), "{}-{}"
        )

    # --- writes ------------------------------------------------------------------------------

    def create(
        self,
        *,
        name: str,
        data: dict[str, Any] | None = None,
        flow_id: str | None = None,
        endpoint_name: str | None = None,
        **fields: Any,
    ) -> Flow:
        """Create a flow; raises Conflict when the id, name or endpoint name is taken."""
        canonical = canonical_flow_id(flow_id) if flow_id else str(uuid.uuid4())
        if canonical is None:
            raise ValueError(f"flow id must be a UUID: {flow_id!r}")
        _check_fields(fields)
        now = clock.now()
        flow = Flow(id=canonical, name=name, tenant=self.tenant, data=data, endpoint_name=endpoint_name or None)
        _apply(flow, fields)
        flow.folder_id = flow.folder_id or default_project_id(self.tenant)
        flow.created_at = flow.updated_at = now
        flow.version = 1
        tx = Transaction()
        tx.put(self._to_item(flow), condition=FlowItem.sk.does_not_exist(), label="id")
        self._reserve(tx, flow)
        self._commit(tx)
        return flow

    def update(self, flow_id: str, *, expected_version: int | None = None, **changes: Any) -> Flow:
        """Apply `changes`; `endpoint_name` None or "" clears it. Raises NotFound or Conflict."""
        _check_fields(changes)
        if "name" in changes and not changes["name"]:
            raise ValueError("a flow needs a name")
        current = self.get(flow_id)
        if current is None:
            raise NotFound("Flow not found")
        if expected_version is not None and expected_version != current.version:
            raise _conflict("version")
        updated = replace(current)
        _apply(updated, changes)
        updated.endpoint_name = updated.endpoint_name or None
        updated.updated_at = clock.now()
        updated.version = current.version + 1
        tx = Transaction()
        tx.put(self._to_item(updated), condition=FlowItem.version == current.version, label="version")
        if updated.name != current.name:
            self._release(tx, NAME_PREFIX, current.name, current.id)
        if updated.endpoint_name != current.endpoint_name and current.endpoint_name:
            self._release(tx, ENDPOINT_PREFIX, current.endpoint_name, current.id)
        self._reserve(tx, updated, previous=current)
        self._commit(tx)
        return updated

    def upsert(self, flow_id: str, *, name: str, **fields: Any) -> tuple[Flow, bool]:
        """Update the flow if it exists, else create it with this id. Returns (flow, created)."""
        if self.get(flow_id, include_data=False) is None:
            return self.create(flow_id=flow_id, name=name, **fields), True
        return self.update(flow_id, name=name, **fields), False

    def delete(self, flow_id: str) -> None:
        flow = self.get(flow_id, include_data=False)
        if flow is None:
            raise NotFound("Flow not found")
        tx = Transaction()
        self._remove(tx, flow)
        try:
            tx.commit()
        finally:
            read_cache.FLOWS.invalidate()

    def delete_many(self, flow_ids: Iterable[str]) -> int:
        """Delete the tenant's flows among `flow_ids` (others are ignored); returns the count."""
        keys = {canonical for fid in flow_ids if (canonical := canonical_flow_id(fid))}
        if not keys:
            return 0
        found = list(
            FlowItem.batch_get(
                [(self.tenant, FLOW_PREFIX + fid) for fid in keys],
                attributes_to_get=["tenant", "sk", "flow_id", "name", "endpoint_name"],
            )
        )
        tx = Transaction()
        for item in found:
            if len(tx) + 3 > MAX_ITEMS:
                tx.commit()
                read_cache.FLOWS.invalidate()
                tx = Transaction()
            self._remove(tx, self._to_flow(item))
        tx.commit()
        read_cache.FLOWS.invalidate()
        return len(found)

    # --- helpers -----------------------------------------------------------------------------

    def _iter(self, *, include_data: bool, folder_id: str | None) -> Iterator[Flow]:
        condition: Condition | None = FlowItem.folder_id == folder_id if folder_id else None
        if folder_id and folder_id == default_project_id(self.tenant):  # flows saved before projects existed
            condition = condition | FlowItem.folder_id.does_not_exist()
        items = FlowItem.query(
            self.tenant,
            FlowItem.sk.startswith(FLOW_PREFIX),
            filter_condition=condition,
            page_size=self.page_size,
            attributes_to_get=self._projection(include_data),
        )
        return (self._to_flow(item) for item in items)

    def _guard(self, prefix: str, value: str) -> FlowItem | None:
        try:
            return FlowItem.get(self.tenant, prefix + value)
        except FlowItem.DoesNotExist:
            return None

    def _free(self, prefix: str, value: str, stem: str, pattern: re.Pattern[str], form: str) -> str:
        if self._guard(prefix, value) is None:
            return value
        taken = FlowItem.query(self.tenant, FlowItem.sk.startswith(prefix + stem), page_size=self.page_size)
        numbers = [int(m.group(1)) for item in taken if (m := pattern.match(item.sk[len(prefix) :]))]
        return form.format(value, max(numbers, default=0) + 1)

    def _reserve(self, tx: Transaction, flow: Flow, previous: Flow | None = None) -> None:
        if previous is None or flow.name != previous.name:
            tx.put(self._guard_item(NAME_PREFIX, flow.name, flow.id), FlowItem.sk.does_not_exist(), "name")
        if flow.endpoint_name and (previous is None or flow.endpoint_name != previous.endpoint_name):
            tx.put(self._guard_item(ENDPOINT_PREFIX, flow.endpoint_name, flow.id), FlowItem.sk.does_not_exist(), "endpoint_name")

    def _release(self, tx: Transaction, prefix: str, value: str, flow_id: str) -> None:
        # Only remove a guard that is ours (or already gone), never another flow's.
        tx.delete(self._guard_item(prefix, value, flow_id), FlowItem.sk.does_not_exist() | (FlowItem.flow_id == flow_id))

    def _remove(self, tx: Transaction, flow: Flow) -> None:
        tx.delete(FlowItem(self.tenant, FLOW_PREFIX + flow.id))
        self._release(tx, NAME_PREFIX, flow.name, flow.id)
        if flow.endpoint_name:
            self._release(tx, ENDPOINT_PREFIX, flow.endpoint_name, flow.id)

    def _guard_item(self, prefix: str, value: str, flow_id: str) -> FlowItem:
        return FlowItem(self.tenant, prefix + value, flow_id=flow_id)

    @staticmethod
    def _commit(tx: Transaction) -> None:
        try:
            tx.commit()
        except ConditionsFailed as failed:
            raise _conflict(failed.labels[0]) from failed
        finally:
            read_cache.FLOWS.invalidate()

    @staticmethod
    def _projection(include_data: bool) -> builtins.list[str] | None:
        if include_data:
            return None
        return [name for name in FlowItem.get_attributes() if name != "data"]

    def _to_item(self, flow: Flow) -> FlowItem:
        return FlowItem(
            self.tenant,
            FLOW_PREFIX + flow.id,
            flow_id=flow.id,
            name=flow.name,
            description=flow.description,
            endpoint_name=flow.endpoint_name,
            data=compress_flow_data(flow.data) if flow.data is not None else None,
            folder_id=flow.folder_id,
            tags=list(flow.tags) or None,
            icon=flow.icon,
            icon_bg_color=flow.icon_bg_color,
            gradient=flow.gradient,
            is_component=flow.is_component,
            webhook=flow.webhook,
            access_type=flow.access_type,
            locked=flow.locked,
            mcp_enabled=flow.mcp_enabled,
            flow_type=flow.flow_type,
            action_name=flow.action_name,
            action_description=flow.action_description,
            session_ttl_minutes=flow.session_ttl_minutes,
            created_at=flow.created_at,
            updated_at=flow.updated_at,
            version=flow.version,
        )

    def _to_flow(self, item: FlowItem) -> Flow:
        ttl = item.session_ttl_minutes
        return Flow(
            id=item.flow_id,
            name=item.name or "",
            tenant=self.tenant,
            data=decompress_flow_data(item.data) if item.data is not None else None,
            description=item.description,
            endpoint_name=item.endpoint_name,
            folder_id=item.folder_id or default_project_id(self.tenant),
            tags=list(item.tags or []),
            icon=item.icon,
            icon_bg_color=item.icon_bg_color,
            gradient=item.gradient,
            is_component=bool(item.is_component),
            webhook=bool(item.webhook),
            access_type=item.access_type or "PRIVATE",
            locked=bool(item.locked),
            mcp_enabled=bool(item.mcp_enabled),
            flow_type=item.flow_type,
            action_name=item.action_name,
            action_description=item.action_description,
            session_ttl_minutes=int(ttl) if ttl is not None else None,
            created_at=item.created_at,
            updated_at=item.updated_at,
            version=int(item.version or 0),
        )


def _check_fields(values: dict[str, Any]) -> None:
    unknown = set(values) - EDITABLE_FIELDS
    if unknown:
        raise TypeError(f"unknown flow fields: {sorted(unknown)}")


def _apply(flow: Flow, values: dict[str, Any]) -> None:
    for name, value in values.items():
        setattr(flow, name, value)
