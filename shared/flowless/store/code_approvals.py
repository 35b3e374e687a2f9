"""Code a tenant's admin approved to run in the sandbox, by SHA-256, with who and when.

  approvals  flows table  pk tenant | CODE#<sha256>

An approval is the tenant's own: another tenant approving the same code approves nothing here.
Revoking deletes the item; the next run of a flow holding that code is refused again (in another
warm container, within FLOWLESS_READ_CACHE_SECONDS: the approved set is read once per that time,
store/read_cache.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute

from flowless.store import clock, read_cache
from flowless.store.companions import CompanionModel
from flowless.store.models import FlowItem, _meta
from flowless.store.tenancy import check_tenant

CODE_PREFIX = "CODE#"
SHA256 = re.compile(r"^[0-9a-f]{64}$")


class ApprovalItem(CompanionModel):
    host = FlowItem
    Meta = _meta("flows")

    tenant = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)  # CODE#<sha256>
    sha256 = UnicodeAttribute()
    approved_by = UnicodeAttribute()  # the API key (id and name) or CLI user that approved
    approved_at = UTCDateTimeAttribute()
    note = UnicodeAttribute(null=True)  # e.g. the node type and flow it was approved for


@dataclass(frozen=True)
class Approval:
    sha256: str
    approved_by: str
    approved_at: datetime
    note: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {"sha256": self.sha256, "approved_by": self.approved_by, "approved_at": self.approved_at.isoformat(), "note": self.note}


def check_sha256(value: str) -> str:
    if not isinstance(value, str) or not SHA256.match(value):
        raise ValueError(f"not a SHA-256 (64 lowercase hex digits): {value!r}")
    return value


class ApprovalRepository:
    def __init__(self, tenant: str) -> None:
        self.tenant = check_tenant(tenant)

    def approve(self, sha256: str, approved_by: str, note: str | None = None) -> Approval:
        item = ApprovalItem(self.tenant, CODE_PREFIX + check_sha256(sha256), sha256=sha256, approved_by=approved_by or "unknown", approved_at=clock.now(), note=note)
        item.save()
        read_cache.APPROVALS.invalidate()
        return _approval(item)

    def revoke(self, sha256: str) -> bool:
        try:
            item = ApprovalItem.get(self.tenant, CODE_PREFIX + check_sha256(sha256))
        except ApprovalItem.DoesNotExist:
            return False
        item.delete()
        read_cache.APPROVALS.invalidate()
        return True

    def list(self) -> list[Approval]:
        items = ApprovalItem.query(self.tenant, ApprovalItem.sk.startswith(CODE_PREFIX))
        return sorted((_approval(item) for item in items), key=lambda a: a.approved_at)

    def approved_set(self) -> frozenset[str]:
        """Every hash this tenant approved (one query, kept briefly by the warm process)."""
        return read_cache.APPROVALS.get_or_load((self.tenant,), lambda: frozenset(a.sha256 for a in self.list()))

    def approved(self, hashes: set[str]) -> set[str]:
        """Which of `hashes` this tenant approved."""
        return set(self.approved_set() & hashes) if hashes else set()


def _approval(item: ApprovalItem) -> Approval:
    return Approval(item.sha256, item.approved_by, item.approved_at, item.note)
