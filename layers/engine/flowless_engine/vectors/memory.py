"""In-memory knowledge bases and vectors, for `run_flow_from_json` and tests."""

from __future__ import annotations

from collections.abc import Sequence

from flowless_engine.vectors.base import Filter, IndexRef, IngestStats, KnowledgeBaseSpec, Match, VectorItem
from flowless_engine.vectors.index import FlatIndex


class InMemoryVectorStore:
    def __init__(self) -> None:
        self.indexes: dict[IndexRef, FlatIndex] = {}
        self.queries: list[tuple[IndexRef, int]] = []  # (index, top_k) of every query, for tests

    async def upsert(self, kb: IndexRef, items: Sequence[VectorItem]) -> int:
        index = self.indexes.setdefault(kb, FlatIndex(kb.metric))
        return index.put(items)

    async def query(self, kb: IndexRef, vector: Sequence[float], top_k: int, filter: Filter | None = None) -> list[Match]:
        self.queries.append((kb, top_k))
        index = self.indexes.get(kb)
        return index.query(vector, top_k, filter) if index is not None else []

    async def scan(self, kb: IndexRef, limit: int, filter: Filter | None = None) -> list[Match]:
        index = self.indexes.get(kb)
        return index.scan(limit, filter) if index is not None else []

    async def existing(self, kb: IndexRef, ids: Sequence[str]) -> set[str]:
        index = self.indexes.get(kb)
        return {i for i in ids if index is not None and i in index}

    async def count(self, kb: IndexRef) -> int:
        index = self.indexes.get(kb)
        return len(index) if index is not None else 0

    async def delete_kb(self, kb: IndexRef) -> None:
        self.indexes.pop(kb, None)


class InMemoryKnowledgeBases:
    def __init__(self, specs: Sequence[KnowledgeBaseSpec] = ()) -> None:
        self.specs = {spec.name: spec for spec in specs}
        self.stats: dict[str, IngestStats] = {}

    async def get(self, name: str) -> KnowledgeBaseSpec | None:
        return self.specs.get(name)

    async def create(self, spec: KnowledgeBaseSpec, *, source: str = "") -> KnowledgeBaseSpec:
        return self.specs.setdefault(spec.name, spec)

    async def record_ingest(self, name: str, stats: IngestStats) -> None:
        total = self.stats.setdefault(name, IngestStats())
        total.chunks += stats.chunks
        total.words += stats.words
        total.characters += stats.characters
