"""Weaviate over its REST and GraphQL API (`/v1`), with the engine's guarded HTTP client — no gRPC.

Objects as LangChain's Weaviate store writes them: one class (collection) per index, the text
under `text_key`, each metadata key a property of its own, the vector given by the client (the
class is created with `vectorizer: none`; further properties come from Weaviate's auto-schema;
metadata keys that are not valid property names, `[_A-Za-z][_0-9A-Za-z]*`, are left out).
Searches are GraphQL `Get` queries: with a query vector a `hybrid` search (the query's words and
its vector, Weaviate's default weighting) as LangChain's `similarity_search` makes, without one a
`bm25` keyword search; `nearVector` when MMR needs candidates with their vectors. Scores are
Weaviate's (`score`, or the certainty for `nearVector`). The API key goes as a Bearer token.

GraphQL failures come back with HTTP 200 and an `errors` array, batch failures per object: both
are raised as `ProviderError`s naming Weaviate.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from flowless_engine.errors import ProviderError
from flowless_engine.vectors.external import Document, Hit, RestStore, SearchResult, uuid_of

BATCH = 100
_SCALARS = {"text", "string", "int", "number", "boolean", "date", "uuid"}
_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]*$")


class Enum(str):
    """A GraphQL enum value (written bare)."""


def graphql_value(value: Any) -> str:
    """A Python value as a GraphQL input literal (object keys bare, strings quoted)."""
    if isinstance(value, Enum):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return repr(float(value)) if isinstance(value, float) else str(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {graphql_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(graphql_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def _value_key(value: Any) -> str:
    sample = value[0] if isinstance(value, list) and value else value
    if isinstance(sample, bool):
        return "valueBoolean"
    if isinstance(sample, (int, float)):
        return "valueNumber"
    return "valueText"


def where_filter(where: dict[str, Any] | None) -> dict[str, Any] | None:
    """`{key: value}` (a list: any of) as a Weaviate `where` filter; a filter already written in
    Weaviate's form (`path`/`operator`) is kept as given."""
    if not where:
        return None
    if "operator" in where:
        return _enums(where)
    operands = []
    for key, value in where.items():
        if isinstance(value, list):
            operands.append({"path": [key], "operator": Enum("ContainsAny"), _value_key(value): value})
        else:
            operands.append({"path": [key], "operator": Enum("Equal"), _value_key(value): value})
    return operands[0] if len(operands) == 1 else {"operator": Enum("And"), "operands": operands}


def _enums(where: dict[str, Any]) -> dict[str, Any]:
    out = dict(where)
    out["operator"] = Enum(str(where["operator"]))
    if isinstance(where.get("path"), str):
        out["path"] = [where["path"]]
    if isinstance(where.get("operands"), list):
        out["operands"] = [_enums(o) for o in where["operands"] if isinstance(o, dict)]
    return out


class WeaviateClass(RestStore):
    label = "Weaviate"

    def __init__(self, http: Any, url: str, name: str, *, api_key: str = "", text_key: str = "text", timeout: float | None = None) -> None:
        super().__init__(http, url.rstrip("/"), {"Authorization": f"Bearer {api_key}"} if api_key else {}, timeout)
        self.name = name
        self.text_key = text_key or "text"
        self.exists = False
        self.properties: list[str] = []

    async def load(self) -> None:
        schema = await self.call("GET", f"/v1/schema/{quote(self.name, safe='')}", f"reading the schema of class '{self.name}'", missing_ok=True)
        self.exists = isinstance(schema, dict) and bool(schema)
        # Scalar properties only: objects, geo coordinates, blobs and cross-references need sub-selections.
        self.properties = [str(p.get("name")) for p in (schema or {}).get("properties") or []
                           if isinstance(p, dict) and p.get("name") and str((p.get("dataType") or ["text"])[0]).rstrip("[]") in _SCALARS]

    async def create(self) -> None:
        await self.call("POST", "/v1/schema", f"creating class '{self.name}'",
                        {"class": self.name, "vectorizer": "none", "properties": [{"name": self.text_key, "dataType": ["text"]}]})
        self.exists = True

    async def held(self, documents: Sequence[Document]) -> set[str]:
        """The ids (content ids) of `documents` the class already holds."""
        if not self.exists or not documents:
            return set()
        by_uuid = {uuid_of(d.id): d.id for d in documents}
        found: set[str] = set()
        uuids = list(by_uuid)
        for start in range(0, len(uuids), BATCH):
            part = uuids[start:start + BATCH]
            where = {"path": ["id"], "operator": Enum("ContainsAny"), "valueText": part}
            for obj in await self.query({"limit": len(part), "where": where}, ["id"], f"reading class '{self.name}'"):
                object_id = str((obj.get("_additional") or {}).get("id") or "")
                if object_id in by_uuid:
                    found.add(by_uuid[object_id])
        return found

    async def add(self, documents: Sequence[Document]) -> int:
        action = f"storing objects in class '{self.name}'"
        for start in range(0, len(documents), BATCH):
            objects = []
            for doc in documents[start:start + BATCH]:
                properties = {k: v for k, v in doc.metadata.items() if _NAME.match(k) and k != self.text_key}
                objects.append({"class": self.name, "id": uuid_of(doc.id), "properties": {**properties, self.text_key: doc.text},
                                "vector": list(doc.vector or ())})
            answer = await self.call("POST", "/v1/batch/objects", action, {"objects": objects})
            failures = [e.get("message") for item in answer if isinstance(item, dict)
                        for e in (((item.get("result") or {}).get("errors") or {}).get("error") or []) if isinstance(e, dict)]
            if failures:
                more = f" (+{len(failures) - 1} more)" if len(failures) > 1 else ""
                raise ProviderError(f"{self.label} failed while {action}: {str(failures[0])[:300]}{more}", provider=self.label)
        await self.load()  # auto-schema added the metadata properties
        return len(documents)  # an upsert by id: a document stored before is replaced, not doubled

    async def query(self, arguments: dict[str, Any], additional: Sequence[str], action: str) -> list[dict[str, Any]]:
        args = ", ".join(f"{k}: {graphql_value(v)}" for k, v in arguments.items() if v is not None)
        fields = " ".join(dict.fromkeys([self.text_key, *self.properties]))
        query = "{ Get { %s%s { %s _additional { %s } } } }" % (self.name, f"({args})" if args else "", fields, " ".join(additional))
        answer = await self.call("POST", "/v1/graphql", action, {"query": query})
        errors = [e for e in (answer or {}).get("errors") or [] if isinstance(e, dict)]
        if errors:
            raise ProviderError(f"{self.label} failed while {action}: {str(errors[0].get('message') or '')[:300]}", provider=self.label)
        found = (((answer or {}).get("data") or {}).get("Get") or {}).get(self.name)
        return [o for o in found or [] if isinstance(o, dict)]

    def decode(self, obj: dict[str, Any]) -> Hit:
        extra = obj.get("_additional") or {}
        score = extra.get("score")
        if score is None:
            score = extra.get("certainty")
        metadata = {k: v for k, v in obj.items() if k not in (self.text_key, "_additional") and v is not None}
        vector = extra.get("vector")
        return Hit(str(obj.get(self.text_key) or ""), metadata, float(score) if score not in (None, "") else None,
                   str(extra.get("id") or ""), list(vector) if isinstance(vector, list) else None)

    async def search(self, *, vector: Sequence[float] | None, text: str | None, k: int, filter: dict[str, Any] | None,
                     with_vectors: bool) -> SearchResult:
        if not self.exists:
            return SearchResult([])
        action = f"searching class '{self.name}'"
        arguments: dict[str, Any] = {"limit": k, "where": where_filter(filter)}
        additional = ["id", "distance", "certainty", "score"] + (["vector"] if with_vectors else [])
        if vector is not None and with_vectors:
            arguments["nearVector"] = {"vector": list(vector)}
        elif vector is not None:
            arguments["hybrid"] = {"query": text or "", "vector": list(vector)}
        else:
            arguments["bm25"] = {"query": text or ""}
        return SearchResult([self.decode(o) for o in await self.query(arguments, additional, action)])

    async def scan(self, k: int, filter: dict[str, Any] | None) -> list[Hit]:
        if not self.exists:
            return []
        found = await self.query({"limit": k, "where": where_filter(filter)}, ["id"], f"reading class '{self.name}'")
        return [self.decode(o) for o in found]

    async def delete_where(self, key: str, values: Sequence[Any]) -> int:
        if not self.exists:
            return 0
        body = {"match": {"class": self.name, "where": {"path": [key], "operator": "ContainsAny", _value_key(list(values)): list(values)}},
                "output": "minimal"}
        answer = await self.call("DELETE", "/v1/batch/objects", f"deleting objects from class '{self.name}'", body)
        return int(((answer or {}).get("results") or {}).get("successful") or 0)
