"""`QueryVectors` for moto's S3 Vectors, which stores vectors but does not search them (moto 5.2.5).

`install(monkeypatch)` adds the route (`moto.s3vectors.urls.url_paths`, read by moto on every
request) and a `query_vectors` handler on moto's `S3VectorsResponse`. The handler reads the
index moto keeps (`S3VectorsBackend.get_index(...).vectors`), scores every stored vector exactly
(cosine distance 1 - cos, or euclidean distance, per the index's metric), applies the metadata
filter (the operators S3 Vectors documents: implicit equality, $eq, $ne, $gt/$gte/$lt/$lte, $in,
$nin, $exists, $and, $or; an array value matches when one of its elements does) and answers the
`topK` nearest in the service's own shape (`vectors` with key, metadata, distance;
`distanceMetric`), serialized by moto from the botocore model like its other answers.
"""

from __future__ import annotations

import math
from typing import Any

import pytest


def install(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.s3vectors import models, responses, urls

    monkeypatch.setitem(urls.url_paths, "{0}/QueryVectors$", responses.S3VectorsResponse.dispatch)
    monkeypatch.setattr(responses.S3VectorsResponse, "query_vectors", query_vectors, raising=False)
    # moto replaces an existing index on CreateIndex (emptying it); the service answers a conflict.
    create_index = models.S3VectorsBackend.create_index

    def create_index_once(backend: Any, *args: Any, **kwargs: Any) -> Any:
        bucket = backend.get_vector_bucket(kwargs.get("vector_bucket_name"), kwargs.get("vector_bucket_arn"))
        if any(i.index_name == kwargs.get("index_name") for i in bucket.indexes.values()):
            raise IndexExists()
        return create_index(backend, *args, **kwargs)

    monkeypatch.setattr(models.S3VectorsBackend, "create_index", create_index_once)


def _index_exists_error() -> type:
    from moto.core.exceptions import ServiceException

    class IndexExists(ServiceException):
        code = "ConflictException"

        def __init__(self) -> None:
            super().__init__("An index with the specified name already exists")

    return IndexExists


IndexExists = _index_exists_error()


def query_vectors(self: Any) -> Any:
    from moto.core.responses import ActionResult

    index = self.s3vectors_backend.get_index(
        self._get_param("vectorBucketName"), index_name=self._get_param("indexName"), index_arn=self._get_param("indexArn"),
    )
    query = [float(x) for x in self._get_param("queryVector")["float32"]]
    top_k = int(self._get_param("topK"))
    where = self._get_param("filter")
    metric = index.distance_metric.lower()
    scored = []
    for vector in index.vectors.values():
        if where and not matches(vector.metadata or {}, where):
            continue
        scored.append((distance(metric, query, vector.data["float32"]), vector))
    scored.sort(key=lambda pair: pair[0])
    with_metadata = self._get_bool_param("returnMetadata", False)
    with_distance = self._get_bool_param("returnDistance", False)
    found = []
    for value, vector in scored[:top_k]:
        entry: dict[str, Any] = {"key": vector.key}
        if with_metadata:
            entry["metadata"] = vector.metadata
        if with_distance:
            entry["distance"] = value
        found.append(entry)
    return ActionResult({"vectors": found, "distanceMetric": metric})


def distance(metric: str, a: list[float], b: list[float]) -> float:
    if metric == "euclidean":
        return math.dist(a, b)
    dot = sum(x * y for x, y in zip(a, b))
    norms = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return 1.0 - (dot / norms if norms else 0.0)


def matches(metadata: dict[str, Any], where: dict[str, Any]) -> bool:
    for key, condition in where.items():
        if key == "$and":
            if not all(matches(metadata, c) for c in condition):
                return False
        elif key == "$or":
            if not any(matches(metadata, c) for c in condition):
                return False
        elif not _holds(metadata, key, condition if isinstance(condition, dict) else {"$eq": condition}):
            return False
    return True


def _holds(metadata: dict[str, Any], key: str, condition: dict[str, Any]) -> bool:
    present = key in metadata
    value = metadata.get(key)
    values = value if isinstance(value, list) else [value]
    for operator, operand in condition.items():
        if operator == "$exists":
            ok = present == bool(operand)
        elif not present:
            ok = operator in ("$ne", "$nin")
        elif operator == "$eq":
            ok = any(_same(v, operand) for v in values)
        elif operator == "$ne":
            ok = not any(_same(v, operand) for v in values)
        elif operator == "$in":
            ok = any(_same(v, o) for v in values for o in operand)
        elif operator == "$nin":
            ok = not any(_same(v, o) for v in values for o in operand)
        elif operator in ("$gt", "$gte", "$lt", "$lte"):
            ok = any(_compare(operator, v, operand) for v in values)
        else:
            raise ValueError(f"unsupported filter operator {operator}")
        if not ok:
            return False
    return True


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b or (isinstance(a, (int, float)) and isinstance(b, (int, float))
                                             and not isinstance(a, bool) and not isinstance(b, bool) and a == b)


def _compare(operator: str, value: Any, operand: Any) -> bool:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    return {"$gt": value > operand, "$gte": value >= operand, "$lt": value < operand, "$lte": value <= operand}[operator]
