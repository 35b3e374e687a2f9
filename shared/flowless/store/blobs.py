"""Compressed JSON blobs kept inline in a DynamoDB item, or in S3 when too large for one.

A DynamoDB item holds at most 400 KB. A blob whose compressed size exceeds `INLINE_LIMIT` goes to
the jobs bucket (`JOBS_BUCKET`) under a key that is unique per write, so a write that loses a race
can never replace the object the winner points at; the bucket's lifecycle rule removes both.
Without a bucket, a large blob is refused with `PayloadTooLarge`.
"""

from __future__ import annotations

import json
import uuid
import zlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from flowless.store.connection import store_settings
from flowless.store.errors import StoreError

INLINE_LIMIT = 300 * 1024


class PayloadTooLarge(StoreError):
    code = "PAYLOAD_TOO_LARGE"


@dataclass
class Blob:
    """Where a blob lives: `inline` bytes, or an S3 `key` in the jobs bucket."""

    inline: bytes | None = None
    key: str | None = None

    @property
    def size(self) -> int:
        return len(self.inline or b"")


def pack(value: Any) -> bytes:
    return zlib.compress(json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str).encode(), 6)


def unpack(blob: bytes) -> Any:
    return json.loads(zlib.decompress(blob))


def place(value: Any, key_prefix: str, *, limit: int | None = None, force_s3: bool = False) -> Blob:
    """`value` packed, inline when it fits under `limit` (default INLINE_LIMIT), else put in S3."""
    data = pack(value)
    if not force_s3 and len(data) <= (INLINE_LIMIT if limit is None else limit):
        return Blob(inline=data)
    return Blob(key=offload(data, key_prefix))


def offload(data: bytes, key_prefix: str) -> str:
    bucket = store_settings().jobs_bucket
    if not bucket:
        raise PayloadTooLarge(
            f"A build payload is {len(data)} bytes compressed, over the {INLINE_LIMIT} bytes a DynamoDB item can hold; "
            "set JOBS_BUCKET to keep large checkpoints and events in S3"
        )
    key = f"{key_prefix}/{uuid.uuid4().hex}.json.z"
    s3_client().put_object(Bucket=bucket, Key=key, Body=data, ContentType="application/octet-stream")
    return key


def load(inline: bytes | None, key: str | None) -> Any:
    """The value stored by `place` (None when there is none)."""
    if inline is not None:
        return unpack(inline)
    if key:
        body = s3_client().get_object(Bucket=store_settings().jobs_bucket, Key=key)["Body"].read()
        return unpack(body)
    return None


@lru_cache(maxsize=4)
def _client(region: str) -> Any:
    import boto3

    return boto3.client("s3", region_name=region)


def s3_client() -> Any:
    return _client(store_settings().region)
