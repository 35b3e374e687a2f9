"""Amazon S3 Vectors: the production vector store. One vector bucket per deployment
(VECTOR_BUCKET), one index per tenant, knowledge base and embedding model.

An index name is `<tenant>-<knowledge base>-<hash of both and the model>` (lower-case, at most
63 characters), so two tenants never share an index and re-creating a knowledge base with another
model never mixes dimensions. The index is created on the first upsert, with the dimension of the
vectors given.

Each vector carries its text and its full metadata as non-filterable keys (`_text`, `_doc`: JSON,
types kept) plus filterable copies of the short metadata values (text up to 256 characters,
numbers, booleans, lists of short text; at most 2 KB together, S3 Vectors' limit). Filters become
`$in` conditions joined by `$and`; a value that reads as a number or a boolean matches it typed
too, so every store answers a filter the same way. Scores: 1 - distance for cosine, 1 / (1 +
distance) for euclidean. `QueryVectors` answers at most 100 neighbours.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from flowless_engine.vectors.base import Filter, IndexRef, Match, VectorItem, matches_filter

TEXT_KEY = "_text"
DOC_KEY = "_doc"
NON_FILTERABLE = [TEXT_KEY, DOC_KEY]
MAX_TOP_K = 100
PUT_BATCH = 500  # PutVectors takes at most 500 vectors
GET_BATCH = 100  # GetVectors takes at most 100 keys
LIST_PAGE = 1000
FILTERABLE_BYTES = 2048
MAX_FILTERABLE_TEXT = 256


@lru_cache(maxsize=4)
def _client(region: str) -> Any:
    import boto3
    from botocore.config import Config

    # AWS_ENDPOINT_URL_S3VECTORS (read by botocore) points it at a stand-in.
    return boto3.client("s3vectors", region_name=region, config=Config(retries={"mode": "standard", "max_attempts": 5}))


def s3vectors_client() -> Any:
    from flowless.store.connection import store_settings

    return _client(store_settings().region)


def index_name(tenant: str, kb: IndexRef) -> str:
    digest = hashlib.sha256(f"{tenant}\n{kb.name}\n{kb.model}\n{kb.metric}".encode()).hexdigest()[:20]
    tenant_part = _slug(tenant)[:16]
    kb_part = _slug(kb.name)[: 63 - len(tenant_part) - len(digest) - 2]
    return "-".join(p for p in (tenant_part, kb_part, digest) if p)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


class S3VectorsStore:
    """A tenant's indexes in the vector bucket (implements flowless_engine.vectors.VectorStore)."""

    _created: set[tuple[str, str]] = set()  # (bucket, index) known to exist in this process

    def __init__(self, tenant: str, bucket: str, *, client: Any = None) -> None:
        if not tenant:
            raise ValueError("a tenant is required")
        self.tenant = tenant
        self.bucket = bucket
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = s3vectors_client()
        return self._client

    # -- VectorStore --

    async def upsert(self, kb: IndexRef, items: Sequence[VectorItem]) -> int:
        return await asyncio.to_thread(self._upsert, kb, list(items)) if items else 0

    async def query(self, kb: IndexRef, vector: Sequence[float], top_k: int, filter: Filter | None = None) -> list[Match]:
        return await asyncio.to_thread(self._query, kb, list(vector), top_k, filter)

    async def scan(self, kb: IndexRef, limit: int, filter: Filter | None = None) -> list[Match]:
        return await asyncio.to_thread(self._scan, kb, limit, filter)

    async def existing(self, kb: IndexRef, ids: Sequence[str]) -> set[str]:
        return await asyncio.to_thread(self._existing, kb, list(ids))

    async def count(self, kb: IndexRef) -> int:
        return await asyncio.to_thread(lambda: sum(1 for _ in self._list(kb, metadata=False)))

    async def delete_kb(self, kb: IndexRef) -> None:
        await asyncio.to_thread(self._delete, kb)

    # -- internals (blocking) --

    def _where(self, kb: IndexRef) -> dict[str, str]:
        return {"vectorBucketName": self.bucket, "indexName": index_name(self.tenant, kb)}

    def _missing(self, error: Exception) -> bool:
        code = getattr(error, "response", {}).get("Error", {}).get("Code")
        return code in ("NotFoundException", "ResourceNotFoundException")

    def _ensure_index(self, kb: IndexRef, dimension: int) -> None:
        where = self._where(kb)
        known = (self.bucket, where["indexName"])
        if known in self._created:
            return
        try:
            self.client.create_index(
                **where,
                dataType="float32",
                dimension=dimension,
                distanceMetric=kb.metric,
                metadataConfiguration={"nonFilterableMetadataKeys": NON_FILTERABLE},
            )
        except self.client.exceptions.ConflictException:
            pass  # it exists (another writer, or an earlier container)
        self._created.add(known)

    def _upsert(self, kb: IndexRef, items: list[VectorItem]) -> int:
        self._ensure_index(kb, len(items[0].vector))
        where = self._where(kb)
        for start in range(0, len(items), PUT_BATCH):
            batch = items[start : start + PUT_BATCH]
            vectors = [{"key": i.id, "data": {"float32": [float(x) for x in i.vector]}, "metadata": _metadata(i)} for i in batch]
            try:
                self.client.put_vectors(**where, vectors=vectors)
            except Exception as error:
                if not self._missing(error):
                    raise
                self._created.discard((self.bucket, where["indexName"]))  # deleted meanwhile: recreate once
                self._ensure_index(kb, len(items[0].vector))
                self.client.put_vectors(**where, vectors=vectors)
        return len(items)

    def _query(self, kb: IndexRef, vector: list[float], top_k: int, filter: Filter | None) -> list[Match]:
        request: dict[str, Any] = {
            **self._where(kb),
            "topK": max(1, min(top_k, MAX_TOP_K)),
            "queryVector": {"float32": [float(x) for x in vector]},
            "returnMetadata": True,
            "returnDistance": True,
        }
        if filter:
            request["filter"] = s3_filter(filter)
        try:
            answer = self.client.query_vectors(**request)
        except Exception as error:
            if self._missing(error):
                return []
            raise
        metric = (answer.get("distanceMetric") or kb.metric).lower()
        matches = []
        for found in answer.get("vectors", []):
            distance = found.get("distance")
            score = None if distance is None else (1.0 - distance if metric == "cosine" else 1.0 / (1.0 + distance))
            metadata, text = _unpack(found.get("metadata"))
            matches.append(Match(found["key"], score, metadata, text))
        return matches

    def _list(self, kb: IndexRef, *, metadata: bool) -> Any:
        token = None
        while True:
            request: dict[str, Any] = {**self._where(kb), "maxResults": LIST_PAGE, "returnMetadata": metadata}
            if token:
                request["nextToken"] = token
            try:
                page = self.client.list_vectors(**request)
            except Exception as error:
                if self._missing(error):
                    return
                raise
            yield from page.get("vectors", [])
            token = page.get("nextToken")
            if not token:
                return

    def _scan(self, kb: IndexRef, limit: int, filter: Filter | None) -> list[Match]:
        found = []
        for vector in self._list(kb, metadata=True):
            metadata, text = _unpack(vector.get("metadata"))
            if matches_filter(metadata, filter):
                found.append(Match(vector["key"], None, metadata, text))
                if len(found) >= limit:
                    break
        return found

    def _existing(self, kb: IndexRef, ids: list[str]) -> set[str]:
        present: set[str] = set()
        for start in range(0, len(ids), GET_BATCH):
            try:
                answer = self.client.get_vectors(**self._where(kb), keys=ids[start : start + GET_BATCH], returnData=False, returnMetadata=False)
            except Exception as error:
                if self._missing(error):
                    return set()
                raise
            present |= {v["key"] for v in answer.get("vectors", [])}
        return present

    def _delete(self, kb: IndexRef) -> None:
        where = self._where(kb)
        try:
            self.client.delete_index(**where)
        except Exception as error:
            if not self._missing(error):
                raise
        self._created.discard((self.bucket, where["indexName"]))


def _metadata(item: VectorItem) -> dict[str, Any]:
    """The stored metadata: text and full document (non-filterable), short values filterable."""
    stored: dict[str, Any] = {TEXT_KEY: item.text, DOC_KEY: json.dumps(item.metadata, ensure_ascii=False, default=str)}
    budget = FILTERABLE_BYTES
    for key, value in item.metadata.items():
        if key in NON_FILTERABLE or not _filterable(value):
            continue
        size = len(key.encode()) + len(json.dumps(value, ensure_ascii=False).encode())
        if size > budget:
            continue
        stored[key] = value
        budget -= size
    return stored


def _filterable(value: Any) -> bool:
    if isinstance(value, bool) or isinstance(value, (int, float)):
        return True
    if isinstance(value, str):
        return 0 < len(value) <= MAX_FILTERABLE_TEXT
    if isinstance(value, list):
        return 0 < len(value) <= 32 and all(isinstance(v, str) and 0 < len(v) <= MAX_FILTERABLE_TEXT for v in value)
    return False


def _unpack(metadata: Any) -> tuple[dict[str, Any], str]:
    metadata = metadata or {}
    text = metadata.get(TEXT_KEY) or ""
    try:
        document = json.loads(metadata[DOC_KEY])
    except (KeyError, TypeError, ValueError):
        document = {k: v for k, v in metadata.items() if k not in NON_FILTERABLE}
    return document, text


def s3_filter(filter: Filter) -> dict[str, Any]:
    """`{key: value | [values]}` as an S3 Vectors metadata filter (see the module docstring)."""
    conditions = []
    for key, wanted in filter.items():
        values: list[Any] = []
        for value in wanted if isinstance(wanted, (list, tuple, set)) else [wanted]:
            text = str(value)
            for form in (text, *_typed_forms(text)):
                if not any(type(form) is type(v) and form == v for v in values):
                    values.append(form)
        conditions.append({key: {"$in": values}})
    return conditions[0] if len(conditions) == 1 else {"$and": conditions}


def _typed_forms(text: str) -> list[Any]:
    if text in ("true", "false"):
        return [text == "true"]
    try:
        number = float(text)
    except ValueError:
        return []
    return [int(number)] if number.is_integer() and "." not in text else [number]
