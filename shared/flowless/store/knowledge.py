"""Knowledge bases of a tenant: their records (flows table, pk tenant | sk KB#<name>) and the
engine's catalogue view of them.

A record names the embedding model the knowledge base was created with (its vectors live in the
vector store under an index derived from tenant, name and model) and keeps running statistics,
updated with atomic ADDs after each ingestion.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UnicodeSetAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import PutError, UpdateError

from flowless.store import clock
from flowless.store.companions import CompanionModel
from flowless.store.errors import Conflict, NotFound
from flowless.store.models import FlowItem, _meta
from flowless.store.tenancy import check_tenant
from flowless_engine.vectors.base import IngestStats, KnowledgeBaseSpec

KB_PREFIX = "KB#"
MIN_NAME_LENGTH = 3
MAX_NAME_LENGTH = 64
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class InvalidKnowledgeBaseName(ValueError):
    pass


def knowledge_base_name(raw: str) -> str:
    """Langflow's rule (spaces become underscores, at least 3 characters), and a safe character set."""
    name = (raw or "").strip().replace(" ", "_")
    if len(name) < MIN_NAME_LENGTH:
        raise InvalidKnowledgeBaseName("Knowledge base name must be at least 3 characters")
    if len(name) > MAX_NAME_LENGTH or not _NAME.match(name):
        raise InvalidKnowledgeBaseName(
            f"Knowledge base name may hold at most {MAX_NAME_LENGTH} letters, digits, '_', '-' and '.', starting with a letter or digit"
        )
    return name


class KnowledgeBaseItem(CompanionModel):
    host = FlowItem
    Meta = _meta("flows")

    tenant = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)  # KB#<name>
    kb_id = UnicodeAttribute()
    name = UnicodeAttribute()
    embedding_provider = UnicodeAttribute()
    embedding_model = UnicodeAttribute()
    dimensions = NumberAttribute(null=True)
    metric = UnicodeAttribute(default="cosine")
    source = UnicodeAttribute(null=True)  # "api", "Chroma"...
    chunks = NumberAttribute(default=0)
    words = NumberAttribute(default=0)
    characters = NumberAttribute(default=0)
    source_types = UnicodeSetAttribute(null=True)
    column_config = JSONAttribute(null=True)
    chunk_size = NumberAttribute(null=True)
    chunk_overlap = NumberAttribute(null=True)
    separator = UnicodeAttribute(null=True)
    status = UnicodeAttribute(null=True)  # "ingesting" or "failed" while that is so; else derived
    failure_reason = UnicodeAttribute(null=True)
    last_job_id = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()


@dataclass
class KnowledgeBase:
    id: str
    name: str
    embedding_provider: str
    embedding_model: str
    dimensions: int | None
    metric: str
    created_at: datetime
    updated_at: datetime
    source: str | None = None
    chunks: int = 0
    words: int = 0
    characters: int = 0
    source_types: list[str] = field(default_factory=list)
    column_config: Any = None
    chunk_size: int | None = None
    chunk_overlap: int | None = None
    separator: str | None = None
    status: str | None = None
    failure_reason: str | None = None
    last_job_id: str | None = None

    def spec(self) -> KnowledgeBaseSpec:
        return KnowledgeBaseSpec(self.name, self.embedding_provider, self.embedding_model, self.dimensions, self.metric, self.id)

    def info(self) -> dict[str, Any]:
        """Langflow's KnowledgeBaseInfo."""
        status = self.status if self.status in ("ingesting", "failed") else ("ready" if self.chunks else "empty")
        return {
            "id": self.id,
            "dir_name": self.name,
            "name": self.name.replace("_", " "),
            "embedding_provider": self.embedding_provider,
            "embedding_model": self.embedding_model,
            # Text bytes plus float32 vectors: what the stored chunks take, roughly.
            "size": self.characters + self.chunks * 4 * (self.dimensions or 0),
            "words": self.words,
            "characters": self.characters,
            "chunks": self.chunks,
            "avg_chunk_size": round(self.characters / self.chunks, 1) if self.chunks else 0.0,
            "chunk_size": self.chunk_size,
            "chunk_overlap": self.chunk_overlap,
            "separator": self.separator,
            "status": status,
            "failure_reason": self.failure_reason,
            "last_job_id": self.last_job_id,
            "source_types": sorted(self.source_types),
            "column_config": self.column_config,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


class KnowledgeBaseRepository:
    def __init__(self, tenant: str) -> None:
        self.tenant = check_tenant(tenant)

    def create(
        self,
        name: str,
        embedding_provider: str,
        embedding_model: str,
        *,
        dimensions: int | None = None,
        metric: str = "cosine",
        source: str | None = None,
        column_config: Any = None,
    ) -> KnowledgeBase:
        """A new knowledge base; Conflict when the name is taken."""
        now = clock.now()
        item = KnowledgeBaseItem(
            self.tenant,
            KB_PREFIX + name,
            kb_id=str(uuid.uuid4()),
            name=name,
            embedding_provider=embedding_provider,
            embedding_model=embedding_model,
            dimensions=dimensions,
            metric=metric,
            source=source,
            column_config=column_config,
            created_at=now,
            updated_at=now,
        )
        try:
            item.save(condition=KnowledgeBaseItem.sk.does_not_exist())
        except PutError as failure:
            if failure.cause_response_code == "ConditionalCheckFailedException":
                raise Conflict(f"Knowledge base '{name}' already exists", field="name") from failure
            raise
        return _to_kb(item)

    def get(self, name: str) -> KnowledgeBase | None:
        try:
            return _to_kb(KnowledgeBaseItem.get(self.tenant, KB_PREFIX + name, consistent_read=True))
        except KnowledgeBaseItem.DoesNotExist:
            return None

    def list(self) -> list[KnowledgeBase]:
        items = KnowledgeBaseItem.query(self.tenant, KnowledgeBaseItem.sk.startswith(KB_PREFIX))
        return sorted((_to_kb(item) for item in items), key=lambda kb: kb.name)

    def delete(self, name: str) -> None:
        KnowledgeBaseItem(self.tenant, KB_PREFIX + name).delete()

    def record_ingest(self, name: str, stats: IngestStats, **settings: Any) -> None:
        """Add an ingestion's counts (atomically) and remember its chunking settings."""
        actions = [
            KnowledgeBaseItem.chunks.add(stats.chunks),
            KnowledgeBaseItem.words.add(stats.words),
            KnowledgeBaseItem.characters.add(stats.characters),
            KnowledgeBaseItem.updated_at.set(clock.now()),
        ]
        if stats.source_types:
            actions.append(KnowledgeBaseItem.source_types.add(set(stats.source_types)))
        for key in ("chunk_size", "chunk_overlap", "separator"):
            if settings.get(key) is not None:
                actions.append(getattr(KnowledgeBaseItem, key).set(settings[key]))
        self._update(name, actions)

    def set_status(self, name: str, status: str | None, *, job_id: str | None = None, failure_reason: str | None = None) -> None:
        actions: list[Any] = [KnowledgeBaseItem.updated_at.set(clock.now())]
        actions.append(KnowledgeBaseItem.status.set(status) if status else KnowledgeBaseItem.status.remove())
        actions.append(KnowledgeBaseItem.failure_reason.set(failure_reason) if failure_reason else KnowledgeBaseItem.failure_reason.remove())
        if job_id:
            actions.append(KnowledgeBaseItem.last_job_id.set(job_id))
        self._update(name, actions)

    def _update(self, name: str, actions: list[Any]) -> None:
        try:
            KnowledgeBaseItem(self.tenant, KB_PREFIX + name).update(actions, condition=KnowledgeBaseItem.sk.exists())
        except UpdateError as failure:
            if failure.cause_response_code == "ConditionalCheckFailedException":
                raise NotFound(f"Knowledge base '{name}' not found") from failure
            raise


class TenantKnowledgeBases:
    """The engine's KnowledgeBases for one tenant (a run's view; reads cached for the run)."""

    def __init__(self, tenant: str) -> None:
        self.repository = KnowledgeBaseRepository(tenant)
        self._seen: dict[str, KnowledgeBaseSpec | None] = {}

    async def get(self, name: str) -> KnowledgeBaseSpec | None:
        if name not in self._seen:
            try:
                valid = knowledge_base_name(name) == name
            except InvalidKnowledgeBaseName:
                valid = False
            kb = await asyncio.to_thread(self.repository.get, name) if valid else None
            self._seen[name] = kb.spec() if kb is not None else None
        return self._seen[name]

    async def create(self, spec: KnowledgeBaseSpec, *, source: str = "") -> KnowledgeBaseSpec:
        name = knowledge_base_name(spec.name)
        try:
            kb = await asyncio.to_thread(
                self.repository.create, name, spec.embedding_provider, spec.embedding_model,
                dimensions=spec.dimensions, metric=spec.metric, source=source or None,
            )
        except Conflict:
            kb = await asyncio.to_thread(self.repository.get, name)
            if kb is None:  # deleted in between: try once more
                return await self.create(spec, source=source)
        self._seen[name] = kb.spec()
        return self._seen[name]  # type: ignore[return-value]

    async def record_ingest(self, name: str, stats: IngestStats) -> None:
        await asyncio.to_thread(self.repository.record_ingest, name, stats)


def _to_kb(item: KnowledgeBaseItem) -> KnowledgeBase:
    return KnowledgeBase(
        id=item.kb_id,
        name=item.name,
        embedding_provider=item.embedding_provider,
        embedding_model=item.embedding_model,
        dimensions=int(item.dimensions) if item.dimensions else None,
        metric=item.metric or "cosine",
        created_at=item.created_at,
        updated_at=item.updated_at,
        source=item.source,
        chunks=int(item.chunks or 0),
        words=int(item.words or 0),
        characters=int(item.characters or 0),
        source_types=sorted(item.source_types or ()),
        column_config=item.column_config,
        chunk_size=int(item.chunk_size) if item.chunk_size is not None else None,
        chunk_overlap=int(item.chunk_overlap) if item.chunk_overlap is not None else None,
        separator=item.separator,
        status=item.status,
        failure_reason=item.failure_reason,
        last_job_id=item.last_job_id,
    )
