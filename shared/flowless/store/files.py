"""Uploaded files on S3, always under the tenant's prefix, and their records (files v2).

Layout of the bucket (`Settings.files_bucket`):
  <tenant>/flows/<flow_id>/<YYYY-MM-DD_HH-MM-SS>_<name>   files v1, path "<flow_id>/<stamped name>"
  <tenant>/files/<file_id>/<name>                        files v2, path "files/<file_id>/<name>"

A path handed out by the files API is relative to the tenant: `object_key` maps it to a key
inside the tenant's prefix and refuses anything else (absolute paths, `..`, other shapes), so
neither the API nor a flow's File component can reach another tenant's objects.
Files v2 records live in the flows table (pk tenant, sk FILE#<id>).
"""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import IO, Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from flowless.store import clock
from flowless.store.companions import CompanionModel
from flowless.store.connection import store_settings
from flowless.store.flows import canonical_flow_id
from flowless.store.models import FlowItem, _meta
from flowless.store.tenancy import check_tenant

FILE_PREFIX = "FILE#"
V2_SEGMENT = "files"
MAX_NAME_LENGTH = 255
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class PathRefused(PermissionError):
    """A file path that does not name a file of the tenant (traversal, absolute, foreign shape)."""


def safe_file_name(name: str) -> str:
    """`name` if it can be one path segment (no separators, `.`/`..`, control characters)."""
    if not name or len(name) > MAX_NAME_LENGTH or name in (".", "..") or "/" in name or "\\" in name or _CONTROL.search(name):
        raise PathRefused(f"Invalid file name: {name!r}")
    return name


def tenant_prefix(tenant: str) -> str:
    check_tenant(tenant)
    if "/" in tenant or _CONTROL.search(tenant):
        raise ValueError(f"invalid tenant id for file storage: {tenant!r}")
    return f"{tenant}/"


def flow_folder(tenant: str, flow_id: str) -> str:
    return f"{tenant_prefix(tenant)}flows/{flow_id}/"


def flow_file_key(tenant: str, flow_id: str, name: str) -> str:
    return flow_folder(tenant, flow_id) + safe_file_name(name)


def user_file_key(tenant: str, file_id: str, name: str) -> str:
    return f"{tenant_prefix(tenant)}{V2_SEGMENT}/{file_id}/{safe_file_name(name)}"


def object_key(tenant: str, path: str) -> str:
    """The S3 key of a path the files API returned; PathRefused for anything else."""
    text = (path or "").strip()
    if not text or text.startswith("/") or "\\" in text or _CONTROL.search(text):
        raise PathRefused(f"File path refused: {path!r}")
    parts = text.split("/")
    if len(parts) == 2 and (flow_id := canonical_flow_id(parts[0])) is not None:
        return flow_file_key(tenant, flow_id, parts[1])
    if len(parts) == 3 and parts[0] == V2_SEGMENT and (file_id := canonical_flow_id(parts[1])) is not None:
        return user_file_key(tenant, file_id, parts[2])
    raise PathRefused(f"File path refused: {path!r} (expected '<flow_id>/<name>' or 'files/<file_id>/<name>')")


# --- S3 ---------------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _client(region: str, endpoint: str | None) -> Any:
    import boto3
    from botocore.config import Config

    # Path-style addressing works with any endpoint (moto), virtual-host style only with real S3.
    config = Config(s3={"addressing_style": "path"}, retries={"mode": "standard"})
    return boto3.client("s3", region_name=region, endpoint_url=endpoint, config=config)


def s3_client() -> Any:
    """The S3 client; AWS_ENDPOINT_URL_S3 points it at a stand-in (moto locally and in tests)."""
    return _client(store_settings().region, os.environ.get("AWS_ENDPOINT_URL_S3") or None)


def ensure_files_bucket() -> bool:
    """Create the files bucket on a stand-in S3 (AWS_ENDPOINT_URL_S3) when it is missing; never on
    AWS, where the bucket comes from template.yaml. True when the bucket is there."""
    if not os.environ.get("AWS_ENDPOINT_URL_S3"):
        return False
    client, bucket = s3_client(), store_settings().files_bucket
    try:
        client.head_bucket(Bucket=bucket)
    except client.exceptions.ClientError:
        client.create_bucket(Bucket=bucket)
    return True


@dataclass
class StoredObject:
    key: str
    content: bytes
    content_type: str


class FileObjects:
    """The tenant's objects in the files bucket, by key (build keys with the functions above)."""

    def __init__(self, tenant: str, *, bucket: str | None = None, client: Any = None) -> None:
        self.prefix = tenant_prefix(tenant)
        self.bucket = bucket or store_settings().files_bucket
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = s3_client()
        return self._client

    def put(self, key: str, body: IO[bytes], content_type: str) -> None:
        self._own(key)
        self.client.upload_fileobj(body, self.bucket, key, ExtraArgs={"ContentType": content_type})

    def get(self, key: str) -> StoredObject:
        self._own(key)
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=key)
        except self.client.exceptions.NoSuchKey:
            raise FileNotFoundError(key) from None
        return StoredObject(key, answer["Body"].read(), answer.get("ContentType") or "application/octet-stream")

    def exists(self, key: str) -> bool:
        self._own(key)
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except Exception as exc:  # botocore's ClientError with a 404 code
            if getattr(exc, "response", {}).get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def names(self, folder: str) -> Iterator[str]:
        """Names of the objects directly under `folder` (a key prefix ending in '/')."""
        self._own(folder)
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=folder)
        for page in pages:
            for item in page.get("Contents", []):
                name = item["Key"][len(folder):]
                if name and "/" not in name:
                    yield name

    def delete(self, key: str) -> None:
        self._own(key)
        self.client.delete_object(Bucket=self.bucket, Key=key)

    def _own(self, key: str) -> None:
        if not key.startswith(self.prefix):
            raise PathRefused("key outside the tenant's prefix")


class S3FileStore:
    """The engine's FileStore for one tenant: reads the paths the files API handed out."""

    def __init__(self, tenant: str, objects: FileObjects | None = None) -> None:
        self.tenant = tenant
        self.objects = objects or FileObjects(tenant)

    async def read(self, path: str) -> bytes:
        from flowless_engine.errors import FileRefusedError

        try:
            key = object_key(self.tenant, path)
        except PathRefused as refused:  # bad input to a run: a 422 with the reason, not a failing component
            raise FileRefusedError(str(refused), path=path) from None
        return (await asyncio.to_thread(self.objects.get, key)).content

    async def list(self) -> list[str]:
        """Paths of the tenant's files (v2 records), for the Directory component."""
        records = await asyncio.to_thread(lambda: list(FileRepository(self.tenant).list()))
        return sorted(record.path for record in records)

    async def write(self, name: str, content: bytes, content_type: str) -> str:
        """A new files-v2 file of the tenant (what Save to File writes); returns its path."""
        import io

        repo = FileRepository(self.tenant)
        file_id = repo.new_id()
        key = user_file_key(self.tenant, file_id, safe_file_name(name))
        await asyncio.to_thread(self.objects.put, key, io.BytesIO(content), content_type)
        record = await asyncio.to_thread(repo.create, file_id, name, len(content), content_type)
        return record.path


# --- files v2 records ---------------------------------------------------------------------------


class FileRecordItem(CompanionModel):
    host = FlowItem
    Meta = _meta("flows")

    tenant = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)  # FILE#<id>
    file_id = UnicodeAttribute()
    name = UnicodeAttribute()  # the file name without its extension, as Langflow lists it
    file_name = UnicodeAttribute()  # the stored name, with its extension
    path = UnicodeAttribute()
    size = NumberAttribute()
    content_type = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()


@dataclass
class FileRecord:
    id: str
    name: str
    file_name: str
    path: str
    size: int
    content_type: str
    created_at: datetime
    updated_at: datetime

    def key(self, tenant: str) -> str:
        return user_file_key(tenant, self.id, self.file_name)


class FileRepository:
    def __init__(self, tenant: str) -> None:
        self.tenant = check_tenant(tenant)

    def new_id(self) -> str:
        return str(uuid.uuid4())

    def create(self, file_id: str, file_name: str, size: int, content_type: str) -> FileRecord:
        now = clock.now()
        stem = file_name.rsplit(".", 1)[0] if "." in file_name.strip(".") else file_name
        item = FileRecordItem(
            self.tenant,
            FILE_PREFIX + file_id,
            file_id=file_id,
            name=stem,
            file_name=file_name,
            path=f"{V2_SEGMENT}/{file_id}/{file_name}",
            size=size,
            content_type=content_type,
            created_at=now,
            updated_at=now,
        )
        item.save(condition=FileRecordItem.sk.does_not_exist())
        return _record(item)

    def get(self, file_id: str) -> FileRecord | None:
        canonical = canonical_flow_id(file_id)
        if canonical is None:
            return None
        try:
            return _record(FileRecordItem.get(self.tenant, FILE_PREFIX + canonical))
        except FileRecordItem.DoesNotExist:
            return None

    def list(self) -> list[FileRecord]:
        items = FileRecordItem.query(self.tenant, FileRecordItem.sk.startswith(FILE_PREFIX))
        return sorted((_record(item) for item in items), key=lambda r: r.created_at)

    def delete(self, file_id: str) -> None:
        FileRecordItem(self.tenant, FILE_PREFIX + file_id).delete()


def _record(item: FileRecordItem) -> FileRecord:
    return FileRecord(
        id=item.file_id,
        name=item.name,
        file_name=item.file_name,
        path=item.path,
        size=int(item.size),
        content_type=item.content_type,
        created_at=item.created_at,
        updated_at=item.updated_at,
    )
