"""A local Pinecone on 127.0.0.1, written from Pinecone's public API reference: the control plane
(`GET /indexes/<name>`: `name`, `dimension`, `metric`, `host`, `status`) and each index's data
plane (served under `<base_url>/idx/<name>`, the `host` the control plane answers, with its
scheme so tests can reach it over plain HTTP): `POST /vectors/upsert`, `GET /vectors/fetch`,
`POST /query` (`vector`, `topK`, `filter`, `namespace`, `includeMetadata`, `includeValues`),
`POST /vectors/delete`. Metadata filters: `$eq $ne $in $nin $gt $gte $lt $lte $exists`, `$and
$or` (a list value matches when it holds the value). Scores: cosine, dotproduct, and for
euclidean the squared distance (ascending). `Api-Key` checked; errors
`{"error": {"code", "message"}, "status": N}`.
"""

from __future__ import annotations

from typing import Any

from tests.support.json_server import JsonServer, Request, cosine, dot, euclidean


def _error(status: int, code: str, message: str) -> tuple[int, Any]:
    return status, {"error": {"code": code, "message": message}, "status": status}


class PineconeServer(JsonServer):
    def __init__(self, api_key: str = "pc-key") -> None:
        self.api_key = api_key
        self.indexes: dict[str, dict[str, Any]] = {}  # name → {"dimension", "metric", "namespaces": {ns: {id: vector}}}
        super().__init__()

    def create_index(self, name: str, dimension: int, metric: str = "cosine") -> None:
        self.indexes[name] = {"dimension": dimension, "metric": metric, "namespaces": {}}

    def vectors(self, name: str, namespace: str = "") -> list[dict[str, Any]]:
        return list(self.indexes.get(name, {}).get("namespaces", {}).get(namespace, {}).values())

    def error_body(self, status: int, message: str) -> Any:
        return _error(status, "INTERNAL", message)[1]

    def handle(self, request: Request) -> tuple[int, Any]:
        if request.headers.get("api-key") != self.api_key:
            return _error(401, "UNAUTHENTICATED", "Invalid API Key")
        parts = [p for p in request.path.split("/") if p]
        if len(parts) == 2 and parts[0] == "indexes" and request.method == "GET":
            index = self.indexes.get(parts[1])
            if index is None:
                return _error(404, "NOT_FOUND", f"Resource {parts[1]} not found")
            return 200, {"name": parts[1], "dimension": index["dimension"], "metric": index["metric"], "vector_type": "dense",
                         "host": f"{self.base_url}/idx/{parts[1]}", "spec": {"serverless": {"cloud": "aws", "region": "us-east-1"}},
                         "status": {"ready": True, "state": "Ready"}, "deletion_protection": "disabled"}
        if len(parts) >= 3 and parts[0] == "idx":
            index = self.indexes.get(parts[1])
            if index is None:
                return _error(404, "NOT_FOUND", "Index not found")
            return self._data(index, "/".join(parts[2:]), request)
        return _error(404, "NOT_FOUND", f"no route {request.path}")

    def _data(self, index: dict[str, Any], action: str, request: Request) -> tuple[int, Any]:
        body = request.body if isinstance(request.body, dict) else {}
        if action == "vectors/fetch":
            namespace = (request.query.get("namespace") or [""])[0]
            stored = index["namespaces"].get(namespace, {})
            return 200, {"vectors": {i: stored[i] for i in request.query.get("ids", []) if i in stored}, "namespace": namespace}
        space = index["namespaces"].setdefault(body.get("namespace") or "", {})
        if action == "vectors/upsert":
            for vector in body.get("vectors") or []:
                if len(vector.get("values") or []) != index["dimension"]:
                    return _error(400, "INVALID_ARGUMENT", f"Vector dimension {len(vector.get('values') or [])} does not match the dimension of the index {index['dimension']}")
            for vector in body.get("vectors") or []:
                space[str(vector["id"])] = {"id": str(vector["id"]), "values": vector["values"], "metadata": vector.get("metadata") or {}}
            return 200, {"upsertedCount": len(body.get("vectors") or [])}
        if action == "query":
            query = body.get("vector") or []
            if len(query) != index["dimension"]:
                return _error(400, "INVALID_ARGUMENT", f"Vector dimension {len(query)} does not match the dimension of the index {index['dimension']}")
            metric = index["metric"]
            scored = []
            for vector in space.values():
                if not _matches(vector["metadata"], body.get("filter") or {}):
                    continue
                score = cosine(query, vector["values"]) if metric == "cosine" else dot(query, vector["values"]) if metric == "dotproduct" \
                    else euclidean(query, vector["values"]) ** 2
                scored.append((score, vector))
            scored.sort(key=lambda t: t[0], reverse=metric != "euclidean")
            matches = []
            for score, vector in scored[: int(body.get("topK", 10))]:
                match: dict[str, Any] = {"id": vector["id"], "score": score}
                if body.get("includeValues"):
                    match["values"] = vector["values"]
                if body.get("includeMetadata"):
                    match["metadata"] = vector["metadata"]
                matches.append(match)
            return 200, {"matches": matches, "namespace": body.get("namespace") or "", "usage": {"readUnits": 1}}
        if action == "vectors/delete":
            doomed = [i for i, v in space.items() if _matches(v["metadata"], body.get("filter") or {})] if body.get("filter") else list(body.get("ids") or [])
            for vector_id in doomed:
                space.pop(vector_id, None)
            return 200, {}
        return _error(404, "NOT_FOUND", f"no route {action}")


def _field(actual: Any, condition: Any) -> bool:
    if not isinstance(condition, dict):
        condition = {"$eq": condition}
    for op, operand in condition.items():
        held = actual if isinstance(actual, list) else [actual]
        if op == "$eq" and operand not in held:
            return False
        if op == "$ne" and operand in held:
            return False
        if op == "$in" and not any(v in held for v in operand):
            return False
        if op == "$nin" and any(v in held for v in operand):
            return False
        if op == "$exists" and (actual is not None) != bool(operand):
            return False
        if op in ("$gt", "$gte", "$lt", "$lte"):
            if not isinstance(actual, (int, float)):
                return False
            if not {"$gt": actual > operand, "$gte": actual >= operand, "$lt": actual < operand, "$lte": actual <= operand}[op]:
                return False
    return True


def _matches(metadata: dict[str, Any], where: dict[str, Any]) -> bool:
    for key, condition in where.items():
        if key == "$and":
            if not all(_matches(metadata, c) for c in condition):
                return False
        elif key == "$or":
            if not any(_matches(metadata, c) for c in condition):
                return False
        elif not _field(metadata.get(key), condition):
            return False
    return True
