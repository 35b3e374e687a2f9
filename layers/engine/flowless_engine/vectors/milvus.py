"""Milvus over its RESTful API (v2, served on the same port as gRPC: `http://host:19530`), with the
engine's guarded HTTP client — no driver. Entities as LangChain's Milvus store writes them: the
primary key, the text under `text_field`, the vector under `vector_field`, metadata as dynamic
fields; a new collection is made with the quick-setup form (VarChar keys, COSINE, dynamic
fields). Milvus answers errors with HTTP 200 and a non-zero `code`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from flowless_engine.errors import ProviderError
from flowless_engine.vectors.external import Document, Hit, RestStore, SearchResult

_RESERVED = ("distance", "$meta")


def filter_expression(where: dict[str, Any] | None) -> str:
    clauses = []
    for key, value in (where or {}).items():
        clauses.append(f"{key} in {json.dumps(value)}" if isinstance(value, list) else f"{key} == {json.dumps(value)}")
    return " and ".join(clauses)


class MilvusCollection(RestStore):
    label = "Milvus"

    def __init__(self, http: Any, uri: str, token: str, name: str, *, primary_field: str = "pk", text_field: str = "text",
                 vector_field: str = "vector", description: str = "", timeout: float | None = None) -> None:
        super().__init__(http, uri, {"Authorization": f"Bearer {token}"} if token else {}, timeout)
        self.name, self.description = name, description
        self.primary_field, self.text_field, self.vector_field = primary_field, text_field, vector_field
        self.exists = False
        self.auto_id = False
        self.metric = "COSINE"

    async def command(self, path: str, action: str, body: dict[str, Any]) -> Any:
        answer = await self.call("POST", f"/v2/vectordb/{path}", action, {"collectionName": self.name, **body})
        if not isinstance(answer, dict) or answer.get("code", 0) not in (0, 200):
            message = answer.get("message") if isinstance(answer, dict) else answer
            raise ProviderError(f"{self.label} failed while {action}: {message}", provider=self.label)
        return answer.get("data")

    async def load(self) -> None:
        has = await self.command("collections/has", f"looking for collection '{self.name}'", {})
        self.exists = bool((has or {}).get("has"))
        if self.exists:
            info = await self.command("collections/describe", f"describing collection '{self.name}'", {}) or {}
            self.auto_id = bool(info.get("autoId"))
            for index in info.get("indexes") or []:
                if index.get("fieldName") == self.vector_field and index.get("metricType"):
                    self.metric = str(index["metricType"])

    async def drop(self) -> None:
        await self.command("collections/drop", f"dropping collection '{self.name}'", {})
        self.exists = False

    async def create(self, dimension: int) -> None:
        await self.command("collections/create", f"creating collection '{self.name}'", {
            "dimension": dimension, "metricType": "COSINE", "primaryFieldName": self.primary_field, "idType": "VarChar",
            "vectorFieldName": self.vector_field, "autoId": False, "params": {"max_length": 64}, "description": self.description})
        self.exists, self.metric = True, "COSINE"

    async def add(self, documents: Sequence[Document]) -> int:
        new = list(documents)
        if not self.auto_id:
            found = await self.command("entities/get", f"reading collection '{self.name}'",
                                       {"id": [d.id for d in documents], "outputFields": [self.primary_field]}) or []
            known = {str(e.get(self.primary_field)) for e in found}
            new = [d for d in documents if d.id not in known]
        rows = []
        for doc in new:
            row = {**doc.metadata, self.text_field: doc.text, self.vector_field: list(doc.vector or ())}
            if not self.auto_id:
                row[self.primary_field] = doc.id
            rows.append(row)
        if rows:
            await self.command("entities/insert", f"inserting into collection '{self.name}'", {"data": rows})
        return len(rows)

    def decode(self, entity: dict[str, Any], with_vectors: bool = False) -> Hit:
        metadata = {k: v for k, v in entity.items() if k not in (self.primary_field, self.text_field, self.vector_field, *_RESERVED)}
        score = entity.get("distance")
        if score is not None and self.metric == "L2":
            score = 1.0 / (1.0 + float(score))
        vector = entity.get(self.vector_field)
        return Hit(str(entity.get(self.text_field) or ""), metadata, score, str(entity.get(self.primary_field, "")),
                   list(vector) if with_vectors and isinstance(vector, list) else None)

    async def search(self, *, vector: Sequence[float] | None, text: str | None, k: int, filter: dict[str, Any] | None,
                     with_vectors: bool) -> SearchResult:
        if not self.exists or vector is None:
            return SearchResult([])
        body: dict[str, Any] = {"data": [list(vector)], "annsField": self.vector_field, "limit": k, "outputFields": ["*"]}
        if filter:
            body["filter"] = filter_expression(filter)
        found = await self.command("entities/search", f"searching collection '{self.name}'", body) or []
        return SearchResult([self.decode(e, with_vectors) for e in found])

    async def scan(self, k: int, filter: dict[str, Any] | None) -> list[Hit]:
        if not self.exists:
            return []
        found = await self.command("entities/query", f"reading collection '{self.name}'",
                                   {"filter": filter_expression(filter) or f'{self.primary_field} != ""', "limit": k, "outputFields": ["*"]}) or []
        return [Hit(h.text, h.metadata, None, h.id) for h in map(self.decode, found)]

    async def delete_where(self, key: str, values: Sequence[Any]) -> int:
        await self.command("entities/delete", f"deleting from collection '{self.name}'", {"filter": filter_expression({key: list(values)})})
        return 0
