"""An exact (flat) vector index in memory: every query compares against every item.

Pure Python: vectors are float32 arrays, a query is one dot product per item, and the best
`top_k` come from a heap. Meant for small knowledge bases (a few thousand chunks; see
bench/results/rag.md); large ones belong in S3 Vectors.
"""

from __future__ import annotations

import heapq
import math
import operator
from array import array
from collections.abc import Iterable, Sequence
from typing import Any

from flowless_engine.vectors.base import Filter, Match, VectorItem, matches_filter


def _sum_of_products(a: Sequence[float], b: Sequence[float]) -> float:
    return sum(map(operator.mul, a, b))


# math.sumprod (Python 3.12, the Lambda runtime) computes the dot product in C (bench/results/rag.md).
dot = getattr(math, "sumprod", None) or _sum_of_products

class DimensionMismatch(ValueError):
    pass


class FlatIndex:
    """Items by id. Not thread-safe: callers serialize writes."""

    def __init__(self, metric: str = "cosine", dimension: int | None = None) -> None:
        self.metric = metric
        self.dimension = dimension
        self._vectors: dict[str, array] = {}
        self._norms: dict[str, float] = {}
        self._texts: dict[str, str] = {}
        self._metadata: dict[str, dict[str, Any]] = {}

    def __len__(self) -> int:
        return len(self._vectors)

    def __contains__(self, item_id: str) -> bool:
        return item_id in self._vectors

    @property
    def floats(self) -> int:
        return len(self._vectors) * (self.dimension or 0)

    def put(self, items: Iterable[VectorItem]) -> int:
        written = 0
        for item in items:
            vector = item.vector if isinstance(item.vector, array) else array("f", item.vector)
            self.check_dimension(len(vector), item.id)
            self._vectors[item.id] = vector
            self._norms[item.id] = math.sqrt(dot(vector, vector))
            self._texts[item.id] = item.text
            self._metadata[item.id] = dict(item.metadata)
            written += 1
        return written

    def check_dimension(self, size: int, item_id: str = "") -> None:
        if self.dimension is None:
            self.dimension = size
        elif size != self.dimension:
            raise DimensionMismatch(f"vector {item_id!r} has {size} dimensions; the index holds {self.dimension}-dimensional vectors")

    def items(self) -> Iterable[VectorItem]:
        for item_id, vector in self._vectors.items():
            yield VectorItem(item_id, vector, self._texts[item_id], self._metadata[item_id])

    def query(self, vector: Sequence[float], top_k: int, filter: Filter | None = None) -> list[Match]:
        if not self._vectors or top_k <= 0:
            return []
        self.check_dimension(len(vector), "query")
        query = array("f", vector)
        ids = [i for i in self._vectors if matches_filter(self._metadata[i], filter)] if filter else list(self._vectors)
        if not ids:
            return []
        best = heapq.nlargest(top_k, zip(self._scores(query, ids), ids), key=operator.itemgetter(0))
        return [Match(i, score, dict(self._metadata[i]), self._texts[i]) for score, i in best]

    def scan(self, limit: int, filter: Filter | None = None) -> list[Match]:
        found = []
        for item_id in self._vectors:
            if len(found) >= limit:
                break
            if matches_filter(self._metadata[item_id], filter):
                found.append(Match(item_id, None, dict(self._metadata[item_id]), self._texts[item_id]))
        return found

    def _scores(self, query: array, ids: list[str]) -> Iterable[float]:
        vectors = self._vectors
        if self.metric == "cosine":
            query_norm = math.sqrt(dot(query, query)) or 1.0
            norms = self._norms
            return [dot(query, vectors[i]) / ((norms[i] or 1.0) * query_norm) for i in ids]
        return [1.0 / (1.0 + math.dist(query, vectors[i])) for i in ids]
