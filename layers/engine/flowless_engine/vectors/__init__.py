"""Vector stores and knowledge bases as the engine sees them (interfaces, an exact in-memory index)."""

from flowless_engine.vectors.base import (
    IndexRef,
    IngestStats,
    KnowledgeBases,
    KnowledgeBaseSpec,
    Match,
    VectorItem,
    VectorStore,
    matches_filter,
    normalize_filter,
)

__all__ = [
    "IndexRef",
    "IngestStats",
    "KnowledgeBases",
    "KnowledgeBaseSpec",
    "Match",
    "VectorItem",
    "VectorStore",
    "matches_filter",
    "normalize_filter",
]
