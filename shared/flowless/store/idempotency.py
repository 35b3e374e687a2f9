"""Idempotency keys: one item per (tenant, key) in the jobs table, pk `<tenant>#idem#<sha256(key)>`.

`claim` puts an in-progress marker with a conditional put (absent, or expired: DynamoDB deletes
TTL items late, so an expired one counts as absent). A claim that finds the key taken returns
what is there: the stored answer of a completed request, or an in-progress marker. `complete`
stores the answer (zlib-compressed) for `ttl_seconds`; `release` drops a claim whose request
must not be replayed (a 5xx, a crash), so a retry runs again.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from dataclasses import dataclass
from datetime import timedelta

from pynamodb.exceptions import PutError

from flowless.store import clock
from flowless.store.models import JobItem
from flowless.store.tenancy import check_tenant

IDEMPOTENCY_SK = "IDEM"
IN_PROGRESS = "in_progress"
COMPLETED = "completed"
# An in-progress marker outlives no request: after this, a crashed request's key is free again.
IN_PROGRESS_LEASE_SECONDS = 900
# DynamoDB items hold 400 KB; an answer compressing to more than this is not kept.
MAX_STORED_BYTES = 350 * 1024


@dataclass(frozen=True)
class StoredAnswer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(frozen=True)
class Claimed:
    """The key was free: this request owns it now."""


@dataclass(frozen=True)
class Taken:
    """The key is held by an earlier request: its fingerprint, and its answer once completed
    (`answer` None and `in_progress` False: completed, but too large to keep)."""

    fingerprint: str
    in_progress: bool
    answer: StoredAnswer | None


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class IdempotencyStore:
    def __init__(self, tenant: str, ttl_seconds: int) -> None:
        self.tenant = check_tenant(tenant)
        self.ttl_seconds = ttl_seconds

    def _pk(self, key: str) -> str:
        return f"{self.tenant}#idem#{key_hash(key)}"

    def claim(self, key: str, fingerprint: str) -> Claimed | Taken:
        """Take the key for this request, or say who holds it."""
        for _ in range(3):  # the holder may release or expire between our put and our read
            now = clock.now()
            marker = JobItem(
                self._pk(key),
                IDEMPOTENCY_SK,
                job_id=key_hash(key),
                tenant=self.tenant,
                status=IN_PROGRESS,
                created_at=now,
                data={"fingerprint": fingerprint},
                expires_at=now + timedelta(seconds=min(self.ttl_seconds, IN_PROGRESS_LEASE_SECONDS)),
            )
            try:
                marker.save(condition=JobItem.pk.does_not_exist() | (JobItem.expires_at <= now))
                return Claimed()
            except PutError as error:
                if error.cause_response_code != "ConditionalCheckFailedException":
                    raise
            taken = self._read(key)
            if taken is not None:
                return taken
        raise RuntimeError("idempotency key could not be claimed")  # pragma: no cover - three lost races

    def complete(self, key: str, fingerprint: str, answer: StoredAnswer) -> None:
        now = clock.now()
        document = json.dumps({"status": answer.status, "headers": answer.headers}).encode()
        body = zlib.compress(answer.body)
        kept = len(body) + len(document) <= MAX_STORED_BYTES
        JobItem(
            self._pk(key),
            IDEMPOTENCY_SK,
            job_id=key_hash(key),
            tenant=self.tenant,
            status=COMPLETED,
            created_at=now,
            data={"fingerprint": fingerprint, "status": answer.status, "headers": answer.headers, "kept": kept},
            payload=body if kept else None,
            expires_at=now + timedelta(seconds=self.ttl_seconds),
        ).save()

    def release(self, key: str) -> None:
        JobItem(self._pk(key), IDEMPOTENCY_SK).delete()

    def _read(self, key: str) -> Taken | None:
        try:
            item = JobItem.get(self._pk(key), IDEMPOTENCY_SK, consistent_read=True)
        except JobItem.DoesNotExist:
            return None
        if item.expires_at <= clock.now():
            return None
        data = item.data or {}
        fingerprint = str(data.get("fingerprint", ""))
        if item.status != COMPLETED:
            return Taken(fingerprint, in_progress=True, answer=None)
        if not data.get("kept") or item.payload is None:
            return Taken(fingerprint, in_progress=False, answer=None)
        headers = [(str(name), str(value)) for name, value in data.get("headers") or []]
        return Taken(fingerprint, in_progress=False, answer=StoredAnswer(int(data["status"]), headers, zlib.decompress(item.payload)))
