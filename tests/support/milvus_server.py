"""A local Milvus RESTful API (v2) on 127.0.0.1, written from Milvus's public API reference:
`POST /v2/vectordb/collections/{has,create,describe,drop}` (quick setup: `dimension`,
`metricType` COSINE | L2 | IP, `primaryFieldName`, `idType`, `vectorFieldName`, `autoId`;
dynamic fields on) and `/v2/vectordb/entities/{insert,get,search,query,delete}` (`data`,
`filter`, `limit`, `outputFields`, `annsField`). Filters: `field == value`, `field != value`,
`field in [..]`, joined by `and`. Search answers `distance` as Milvus does: the cosine or
inner-product similarity (descending), or the squared L2 distance (ascending). Token auth
(`Authorization: Bearer`); every answer is HTTP 200 with `code` 0, or a non-zero `code` and
`message` (e.g. 100 collection not found, 1100 invalid parameter, 1800 user hasn't authenticated).
"""

from __future__ import annotations

import json
import re
from typing import Any

from tests.support.json_server import JsonServer, Request, cosine, dot, euclidean

_CLAUSE = re.compile(r"^\s*([A-Za-z_][\w]*)\s*(==|!=|in)\s*(.+?)\s*$")


def _fail(code: int, message: str) -> tuple[int, Any]:
    return 200, {"code": code, "message": message}


def _parse(expression: str) -> Any:
    if not expression.strip():
        return lambda row: True
    tests = []
    for part in re.split(r"\s+and\s+", expression):
        match = _CLAUSE.match(part)
        if not match:
            raise ValueError(f"cannot parse expression: {part}")
        field, op, raw = match.groups()
        operand = json.loads(raw.replace("'", '"'))
        tests.append((field, op, operand))

    def check(row: dict[str, Any]) -> bool:
        for field, op, operand in tests:
            value = row.get(field)
            if op == "==" and value != operand:
                return False
            if op == "!=" and value == operand:
                return False
            if op == "in" and value not in operand:
                return False
        return True

    return check


class MilvusServer(JsonServer):
    def __init__(self, token: str = "root:Milvus") -> None:
        self.token = token
        self.collections: dict[str, dict[str, Any]] = {}
        super().__init__()

    def entities(self, name: str) -> list[dict[str, Any]]:
        return list(self.collections.get(name, {}).get("rows", {}).values())

    def error_body(self, status: int, message: str) -> Any:
        return {"code": 65535, "message": message}

    def handle(self, request: Request) -> tuple[int, Any]:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return _fail(1800, "user hasn't authenticated")
        body = request.body if isinstance(request.body, dict) else {}
        action = request.path.removeprefix("/v2/vectordb/")
        name = body.get("collectionName", "")
        collection = self.collections.get(name)
        if action == "collections/has":
            return 200, {"code": 0, "data": {"has": collection is not None}}
        if action == "collections/create":
            if collection is not None:
                return _fail(65535, f"collection {name} already exists")
            self.collections[name] = {"dimension": int(body["dimension"]), "metric": body.get("metricType", "COSINE"),
                                      "pk": body.get("primaryFieldName", "id"), "vector": body.get("vectorFieldName", "vector"),
                                      "autoId": bool(body.get("autoId", False)), "rows": {}, "next": 1}
            return 200, {"code": 0, "data": {}}
        if collection is None:
            return _fail(100, f"collection not found[collection={name}]")
        pk, vector_field = collection["pk"], collection["vector"]
        if action == "collections/describe":
            return 200, {"code": 0, "data": {"collectionName": name, "autoId": collection["autoId"], "enableDynamicField": True,
                                             "fields": [{"name": pk, "primaryKey": True, "autoId": collection["autoId"], "type": "VarChar"},
                                                        {"name": vector_field, "type": "FloatVector", "params": [{"key": "dim", "value": str(collection["dimension"])}]}],
                                             "indexes": [{"fieldName": vector_field, "indexName": vector_field, "metricType": collection["metric"]}]}}
        if action == "collections/drop":
            del self.collections[name]
            return 200, {"code": 0, "data": {}}
        try:
            test = _parse(body.get("filter") or "")
        except ValueError as exc:
            return _fail(1100, f"failed to create query plan: {exc}")

        def out(row: dict[str, Any]) -> dict[str, Any]:
            fields = body.get("outputFields") or [pk]
            return dict(row) if "*" in fields else {k: row[k] for k in {pk, *fields} if k in row}

        if action == "entities/insert":
            rows = body.get("data") or []
            for row in rows:
                if len(row.get(vector_field) or []) != collection["dimension"]:
                    return _fail(1100, f"the dim ({len(row.get(vector_field) or [])}) of field data({vector_field}) is not equal to schema dim ({collection['dimension']})")
            ids = []
            for row in rows:
                row = dict(row)
                if collection["autoId"]:
                    row[pk] = collection["next"]
                    collection["next"] += 1
                collection["rows"][str(row[pk])] = row
                ids.append(row[pk])
            return 200, {"code": 0, "data": {"insertCount": len(ids), "insertIds": ids}}
        if action == "entities/get":
            wanted = {str(i) for i in body.get("id") or []}
            return 200, {"code": 0, "data": [out(r) for k, r in collection["rows"].items() if k in wanted]}
        if action == "entities/query":
            found = [out(r) for r in collection["rows"].values() if test(r)]
            return 200, {"code": 0, "data": found[: int(body.get("limit", 100))]}
        if action == "entities/delete":
            doomed = [k for k, r in collection["rows"].items() if test(r)]
            for key in doomed:
                del collection["rows"][key]
            return 200, {"code": 0, "data": {}}
        if action == "entities/search":
            (query,) = body.get("data") or [[]]
            if len(query) != collection["dimension"]:
                return _fail(1100, f"vector dimension mismatch, expected vector size(byte) {collection['dimension'] * 4}, actual {len(query) * 4}")
            metric = collection["metric"]
            scored = []
            for row in collection["rows"].values():
                if not test(row):
                    continue
                score = cosine(query, row[vector_field]) if metric == "COSINE" else dot(query, row[vector_field]) if metric == "IP" \
                    else euclidean(query, row[vector_field]) ** 2
                scored.append((score, row))
            scored.sort(key=lambda t: t[0], reverse=metric != "L2")
            return 200, {"code": 0, "cost": 0, "data": [{**out(r), "distance": s} for s, r in scored[: int(body.get("limit", 10))]]}
        return 404, {"code": 404, "message": f"no route {request.path}"}
