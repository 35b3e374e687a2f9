"""The flat-file vector store: small knowledge bases, local runs and tests.

Each index is a folder of immutable segments, in the project's S3 bucket or on local disk:

    <tenant>/knowledge/<index key>/seg-<time ns>-<random>.json.z

A segment is zlib-compressed JSON `{"metric", "dimension", "items": [[id, text, metadata,
base64 float32 vector], ...]}` written by one upsert; later segments win on equal ids. Queries are
exact (every vector compared, see flowless_engine.vectors.index) over an in-memory copy that is
kept per warm container: a query lists the folder again only after `ttl_s`, loading new segments
only. When an index has more than `MAX_SEGMENTS` segments the writer merges them into one (named to
sort right after the newest it merged) and deletes the merged ones; a reader that misses a deleted
segment reloads the index.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import re
import threading
import time
import uuid
import zlib
from array import array
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from flowless_engine.vectors.base import Filter, IndexRef, Match, VectorItem
from flowless_engine.vectors.index import DimensionMismatch, FlatIndex

MAX_SEGMENTS = 16
CACHE_FLOATS = 32_000_000  # float32s kept in memory across indexes (≈128 MB), least recently used evicted
_SEGMENT = re.compile(r"seg-\d{20}-[0-9a-f]{8}(~c)?\.json\.z$")


class Blobs(Protocol):
    """Where segments live: S3 or a directory. Keys are '/'-separated."""

    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes | None:
        """The object's bytes, or None when it does not exist."""

    def keys(self, prefix: str) -> list[str]: ...

    def delete(self, keys: Sequence[str]) -> None: ...


class LocalBlobs:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + f".{uuid.uuid4().hex}.tmp")
        temporary.write_bytes(data)
        os.replace(temporary, path)  # readers never see half a segment

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    def keys(self, prefix: str) -> list[str]:
        folder = self._path(prefix)
        if not folder.is_dir():
            return []
        return [prefix + p.name for p in folder.iterdir() if p.is_file() and not p.name.endswith(".tmp")]

    def delete(self, keys: Sequence[str]) -> None:
        for key in keys:
            self._path(key).unlink(missing_ok=True)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root not in path.parents and path != self.root:
            raise ValueError(f"key outside the vectors directory: {key!r}")
        return path


class S3Blobs:
    def __init__(self, bucket: str, client: Any = None) -> None:
        self.bucket = bucket
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            from flowless.store.files import s3_client

            self._client = s3_client()
        return self._client

    def put(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType="application/octet-stream")

    def get(self, key: str) -> bytes | None:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except self.client.exceptions.NoSuchKey:
            return None

    def keys(self, prefix: str) -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return [item["Key"] for page in pages for item in page.get("Contents", [])]

    def delete(self, keys: Sequence[str]) -> None:
        for start in range(0, len(keys), 1000):
            batch = [{"Key": k} for k in keys[start : start + 1000]]
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})


def index_folder(tenant: str, kb: IndexRef) -> str:
    if not tenant or "/" in tenant or "#" in tenant:
        raise ValueError(f"invalid tenant id: {tenant!r}")
    slug = re.sub(r"[^a-z0-9]+", "-", kb.name.lower()).strip("-")[:40] or "kb"
    digest = hashlib.sha256(f"{kb.name}\n{kb.model}\n{kb.metric}".encode()).hexdigest()[:16]
    return f"{tenant}/knowledge/{slug}-{digest}/"


@dataclass
class _Cached:
    index: FlatIndex
    segments: list[str] = field(default_factory=list)
    checked_at: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Cache:
    """Loaded indexes of this process, least recently used evicted past CACHE_FLOATS."""

    def __init__(self) -> None:
        self.entries: OrderedDict[tuple[int, str], _Cached] = OrderedDict()
        self.lock = threading.Lock()

    def entry(self, key: tuple[int, str], metric: str) -> _Cached:
        with self.lock:
            found = self.entries.get(key)
            if found is None:
                found = self.entries[key] = _Cached(FlatIndex(metric))
            self.entries.move_to_end(key)
            return found

    def drop(self, key: tuple[int, str]) -> None:
        with self.lock:
            self.entries.pop(key, None)

    def trim(self) -> None:
        with self.lock:
            while len(self.entries) > 1 and sum(e.index.floats for e in self.entries.values()) > CACHE_FLOATS:
                self.entries.popitem(last=False)


_cache = _Cache()


class FlatVectorStore:
    """A tenant's flat indexes (implements flowless_engine.vectors.VectorStore)."""

    def __init__(self, tenant: str, blobs: Blobs, *, ttl_s: float = 2.0) -> None:
        self.tenant = tenant
        self.blobs = blobs
        self.ttl_s = ttl_s
        self._blobs_id = _blobs_identity(blobs)

    # -- VectorStore --

    async def upsert(self, kb: IndexRef, items: Sequence[VectorItem]) -> int:
        return await asyncio.to_thread(self._upsert, kb, list(items)) if items else 0

    async def query(self, kb: IndexRef, vector: Sequence[float], top_k: int, filter: Filter | None = None) -> list[Match]:
        return await asyncio.to_thread(self._read, kb, lambda index: index.query(vector, top_k, filter))

    async def scan(self, kb: IndexRef, limit: int, filter: Filter | None = None) -> list[Match]:
        return await asyncio.to_thread(self._read, kb, lambda index: index.scan(limit, filter))

    async def existing(self, kb: IndexRef, ids: Sequence[str]) -> set[str]:
        return await asyncio.to_thread(self._read, kb, lambda index: {i for i in ids if i in index})

    async def count(self, kb: IndexRef) -> int:
        return await asyncio.to_thread(self._read, kb, len)

    async def delete_kb(self, kb: IndexRef) -> None:
        await asyncio.to_thread(self._delete, kb)

    # -- internals (blocking) --

    def _key(self, kb: IndexRef) -> tuple[int, str]:
        return (self._blobs_id, index_folder(self.tenant, kb))

    def _read(self, kb: IndexRef, read: Any) -> Any:
        entry = self._fresh(kb)
        with entry.lock:
            return read(entry.index)

    def _fresh(self, kb: IndexRef, *, force: bool = False) -> _Cached:
        key = self._key(kb)
        entry = _cache.entry(key, kb.metric)
        with entry.lock:
            if force or time.monotonic() - entry.checked_at >= self.ttl_s:
                self._refresh(entry, key[1], kb.metric)
        _cache.trim()
        return entry

    def _refresh(self, entry: _Cached, folder: str, metric: str) -> None:
        for _ in range(3):
            names = sorted(k for k in self.blobs.keys(folder) if _SEGMENT.search(k))
            known = len(entry.segments)
            if names[:known] != entry.segments:  # compacted or deleted meanwhile: start over
                entry.index, entry.segments = FlatIndex(metric), []
                known = 0
            try:
                for name in names[known:]:
                    entry.index.put(_decode(self._get(name)))
                    entry.segments.append(name)
            except _Missing:
                entry.index, entry.segments = FlatIndex(metric), []
                continue
            entry.checked_at = time.monotonic()
            return
        raise RuntimeError(f"the vector index under {folder} kept changing while it was read")

    def _get(self, key: str) -> bytes:
        data = self.blobs.get(key)
        if data is None:
            raise _Missing(key)
        return data

    def _upsert(self, kb: IndexRef, items: list[VectorItem]) -> int:
        folder = self._key(kb)[1]
        entry = self._fresh(kb, force=True)
        with entry.lock:
            dimension = entry.index.dimension or len(items[0].vector)
            for item in items:  # checked before anything is written
                if len(item.vector) != dimension:
                    raise DimensionMismatch(f"vector {item.id!r} has {len(item.vector)} dimensions; the index holds {dimension}-dimensional vectors")
            name = f"{folder}seg-{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.json.z"
            self.blobs.put(name, _encode(kb.metric, dimension, items))
            if entry.segments == sorted(entry.segments + [name])[: len(entry.segments)]:
                entry.index.put(items)
                entry.segments.append(name)
            else:
                entry.checked_at = 0.0  # another writer's newer segment sorts after ours: reload
            if len(entry.segments) > MAX_SEGMENTS:
                self._compact(entry, kb)
        return len(items)

    def _compact(self, entry: _Cached, kb: IndexRef) -> None:
        merged = list(entry.segments)
        name = merged[-1].removesuffix(".json.z").removesuffix("~c") + "~c.json.z"
        self.blobs.put(name, _encode(kb.metric, entry.index.dimension, entry.index.items()))
        self.blobs.delete(merged)
        entry.segments = [name]

    def _delete(self, kb: IndexRef) -> None:
        key = self._key(kb)
        self.blobs.delete(self.blobs.keys(key[1]))
        _cache.drop(key)


class _Missing(Exception):
    pass


def _blobs_identity(blobs: Blobs) -> int:
    place = getattr(blobs, "root", None) or getattr(blobs, "bucket", None)
    return hash((type(blobs).__name__, str(place)))


def _encode(metric: str, dimension: int | None, items: Iterable[VectorItem]) -> bytes:
    rows = []
    for item in items:
        vector = item.vector if isinstance(item.vector, array) else array("f", item.vector)
        rows.append([item.id, item.text, item.metadata, base64.b64encode(vector.tobytes()).decode()])
    document = {"metric": metric, "dimension": dimension, "items": rows}
    return zlib.compress(json.dumps(document, ensure_ascii=False, separators=(",", ":"), default=str).encode(), 6)


def _decode(data: bytes) -> list[VectorItem]:
    document = json.loads(zlib.decompress(data))
    items = []
    for item_id, text, metadata, packed in document["items"]:
        vector = array("f")
        vector.frombytes(base64.b64decode(packed))
        items.append(VectorItem(item_id, vector, text, metadata))
    return items
