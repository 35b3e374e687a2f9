"""API key records. The table is keyed by the key's SHA-256 (how a request finds its tenant);
a GSI on tenant lists and deletes a tenant's keys. Key generation and caching live in flowless.auth.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pynamodb.exceptions import PutError, UpdateError

from flowless.store.errors import Conflict, NotFound
from flowless.store.models import ApiKeyItem
from flowless.store.tenancy import check_tenant


@dataclass
class ApiKeyRecord:
    key_hash: str
    key_id: str
    tenant: str
    name: str | None
    prefix: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None = None
    total_uses: int = 0
    is_active: bool = True
    expires_at: datetime | None = None


def _to_record(item: ApiKeyItem) -> ApiKeyRecord:
    return ApiKeyRecord(
        key_hash=item.key_hash,
        key_id=item.key_id,
        tenant=item.tenant,
        name=item.name,
        prefix=item.prefix,
        scopes=list(item.scopes or []),
        created_at=item.created_at,
        last_used_at=item.last_used_at,
        total_uses=int(item.total_uses or 0),
        is_active=bool(item.is_active),
        expires_at=item.expires_at,
    )


def record_use(key_hash: str, uses: int, at: datetime) -> ApiKeyRecord | None:
    """Count `uses` of a usable key and return it, in one UpdateItem; None if unknown/inactive/expired."""
    item = ApiKeyItem(key_hash)
    usable = (
        ApiKeyItem.key_hash.exists()
        & (ApiKeyItem.is_active == True)  # noqa: E712 (a DynamoDB condition, not a Python test)
        & (ApiKeyItem.expires_at.does_not_exist() | (ApiKeyItem.expires_at > at))
    )
    try:
        item.update([ApiKeyItem.total_uses.add(uses), ApiKeyItem.last_used_at.set(at)], condition=usable)
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return None
        raise
    return _to_record(item)


class ApiKeyRepository:
    def __init__(self, tenant: str) -> None:
        self.tenant = check_tenant(tenant)

    def add(self, record: ApiKeyRecord) -> None:
        if record.tenant != self.tenant:
            raise ValueError("the record belongs to another tenant")
        item = ApiKeyItem(
            record.key_hash,
            key_id=record.key_id,
            tenant=record.tenant,
            name=record.name,
            prefix=record.prefix,
            scopes=list(record.scopes),
            created_at=record.created_at,
            last_used_at=record.last_used_at,
            total_uses=record.total_uses,
            is_active=record.is_active,
            expires_at=record.expires_at,
        )
        try:
            item.save(condition=ApiKeyItem.key_hash.does_not_exist())
        except PutError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                raise Conflict("API key already exists") from error
            raise

    def list(self) -> list[ApiKeyRecord]:
        records = [_to_record(item) for item in ApiKeyItem.by_tenant.query(self.tenant)]
        return sorted(records, key=lambda r: r.created_at)

    def get(self, key_id: str) -> ApiKeyRecord | None:
        item = next(iter(ApiKeyItem.by_tenant.query(self.tenant, ApiKeyItem.key_id == key_id)), None)
        return _to_record(item) if item else None

    def delete(self, key_id: str) -> ApiKeyRecord:
        """Delete one of this tenant's keys; another tenant's key id is NotFound."""
        record = self.get(key_id)
        if record is None:
            raise NotFound("API Key not found")
        ApiKeyItem(record.key_hash).delete(condition=ApiKeyItem.tenant == self.tenant)
        return record
