"""What the engine asks of a vector store and of a tenant's knowledge-base catalogue.

A store handed to a run is already bound to one tenant: the engine names knowledge bases by
their name within that tenant and can never reach another tenant's vectors. The physical place
of a knowledge base's vectors is derived from its `IndexRef` (name, embedding model, metric),
so re-creating a knowledge base with another embedding model never mixes dimensions.

Scores are similarities, higher is closer: the cosine similarity (-1..1) for the cosine metric,
1 / (1 + distance) for the euclidean one.

Filters are `{key: value | [values]}`: AND across keys, OR within a key's values. Values are
compared as text with the item's metadata value (a list value matches if any element does), so
`{"year": "2026"}` matches a stored 2026 as well as "2026".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

METRICS = ("cosine", "euclidean")

Filter = Mapping[str, Any]


@dataclass(frozen=True)
class IndexRef:
    """A knowledge base's vectors within the tenant the store is bound to."""

    name: str  # the knowledge base (or vector-store collection) name
    model: str = ""  # the embedding identity ("OpenAI/text-embedding-3-small"); part of the physical key
    metric: str = "cosine"

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("an index needs a name")
        if self.metric not in METRICS:
            raise ValueError(f"unknown distance metric {self.metric!r}; expected one of {', '.join(METRICS)}")


@dataclass
class VectorItem:
    id: str
    vector: Sequence[float]
    text: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


class Match(NamedTuple):
    id: str
    score: float | None  # None when the item was listed, not ranked (`scan`)
    metadata: dict[str, Any]
    text: str


class VectorStore(Protocol):
    async def upsert(self, kb: IndexRef, items: Sequence[VectorItem]) -> int:
        """Insert or replace items by id (the index is created on first use). Returns the count written."""

    async def query(self, kb: IndexRef, vector: Sequence[float], top_k: int, filter: Filter | None = None) -> list[Match]:
        """The `top_k` items closest to `vector` that match `filter`, best first. An unknown index is empty."""

    async def scan(self, kb: IndexRef, limit: int, filter: Filter | None = None) -> list[Match]:
        """Up to `limit` items matching `filter`, unranked (score None)."""

    async def existing(self, kb: IndexRef, ids: Sequence[str]) -> set[str]:
        """Which of `ids` are stored."""

    async def count(self, kb: IndexRef) -> int:
        """How many items the index holds (0 for an unknown index)."""

    async def delete_kb(self, kb: IndexRef) -> None:
        """Remove the index and every item in it (nothing happens for an unknown index)."""


@dataclass(frozen=True)
class KnowledgeBaseSpec:
    """A knowledge base as a run needs it: where its vectors are and how its texts were embedded."""

    name: str
    embedding_provider: str
    embedding_model: str
    dimensions: int | None = None  # asked of the provider when set (OpenAI text-embedding-3-*)
    metric: str = "cosine"
    # Which incarnation of the name (the record's id): a base deleted and created again under the
    # same name gets a new, empty index, whatever a late writer still sends to the old one.
    generation: str = ""

    @property
    def model_key(self) -> str:
        key = f"{self.embedding_provider}/{self.embedding_model}"
        return f"{key}/{self.dimensions}" if self.dimensions else key

    def index(self) -> IndexRef:
        return IndexRef(self.name, f"{self.model_key}#{self.generation}" if self.generation else self.model_key, self.metric)


@dataclass
class IngestStats:
    """What one ingestion added to a knowledge base (new chunks only)."""

    chunks: int = 0
    words: int = 0
    characters: int = 0
    source_types: tuple[str, ...] = ()

    def add_text(self, text: str) -> None:
        self.chunks += 1
        self.words += len(text.split())
        self.characters += len(text)


class KnowledgeBases(Protocol):
    """The tenant's knowledge-base catalogue."""

    async def get(self, name: str) -> KnowledgeBaseSpec | None:
        """The tenant's knowledge base called `name`, or None."""

    async def create(self, spec: KnowledgeBaseSpec, *, source: str = "") -> KnowledgeBaseSpec:
        """Register `spec` unless a knowledge base of that name exists; returns the stored one."""

    async def record_ingest(self, name: str, stats: IngestStats) -> None:
        """Add an ingestion's counts to the knowledge base's statistics."""


def matches_filter(metadata: Mapping[str, Any], filter: Filter | None) -> bool:
    """The filter semantics every store implements (see the module docstring)."""
    if not filter:
        return True
    for key, wanted in filter.items():
        values = {str(v) for v in (wanted if isinstance(wanted, (list, tuple, set)) else [wanted])}
        actual = metadata.get(key)
        if actual is None:
            return False
        present = {_text(v) for v in actual} if isinstance(actual, (list, tuple)) else {_text(actual)}
        if not present & values:
            return False
    return True


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def normalize_filter(raw: Any) -> dict[str, list[str]]:
    """A filter from user input: a JSON object (text or dict) of key → value or list of values.
    Anything else (empty, malformed) is no filter, as Langflow treats it."""
    import json

    if isinstance(raw, str):
        text = raw.strip()
        if not text:
            return {}
        try:
            raw = json.loads(text)
        except ValueError:
            return {}
    if not isinstance(raw, Mapping):
        return {}
    out: dict[str, list[str]] = {}
    for key, value in raw.items():
        if isinstance(key, str) and key:
            out[key] = [_text(v) for v in value] if isinstance(value, (list, tuple)) else [_text(value)]
    return out
