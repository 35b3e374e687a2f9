"""A local Qdrant (REST API) on 127.0.0.1, written from Qdrant's public API reference.

- `GET|PUT|DELETE /collections/<name>` (`vectors: {size, distance: Cosine|Euclid|Dot}`).
- `PUT /collections/<name>/points` (`points: [{id, vector, payload}]`; ids UUIDs or integers),
  `POST .../points` (retrieve by `ids`), `POST .../points/search` (`vector`, `limit`, `filter`,
  `with_payload`, `with_vector`, `score_threshold`), `POST .../points/scroll` (`filter`, `limit`),
  `POST .../points/delete` (`filter` or `points`).
- Filters: `must` / `should` / `must_not` of `{key: "a.b", match: {value} | {any: [...]}}`.
- Scores: cosine and dot similarity; Euclid answers the distance (ascending), as Qdrant does.
- `api-key` header checked when the server has a key; answers `{"result": ..., "status": "ok",
  "time": t}` and errors `{"status": {"error": "..."}, "time": t}` (404 for a missing collection).
"""

from __future__ import annotations

import uuid
from typing import Any

from tests.support.json_server import MISSING, JsonServer, Request, cosine, dot, euclidean, get_path


def _ok(result: Any) -> tuple[int, Any]:
    return 200, {"result": result, "status": "ok", "time": 0.0001}


def _error(status: int, message: str) -> tuple[int, Any]:
    return status, {"status": {"error": message}, "time": 0.0001}


def _valid_id(value: Any) -> bool:
    if isinstance(value, int) and value >= 0:
        return True
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


class QdrantServer(JsonServer):
    def __init__(self, api_key: str = "") -> None:
        self.api_key = api_key
        self.collections: dict[str, dict[str, Any]] = {}  # name → {"config": {...}, "points": {id: point}}
        super().__init__()

    def points(self, name: str) -> list[dict[str, Any]]:
        return list(self.collections.get(name, {}).get("points", {}).values())

    def error_body(self, status: int, message: str) -> Any:
        return _error(status, message)[1]

    def handle(self, request: Request) -> tuple[int, Any]:
        if self.api_key and request.headers.get("api-key") != self.api_key:
            return _error(401, "Must provide an API key or an Authorization bearer token")
        parts = [p for p in request.path.split("/") if p]
        if len(parts) < 2 or parts[0] != "collections":
            return _error(404, f"Not found: {request.path}")
        name = parts[1]
        body = request.body if isinstance(request.body, dict) else {}
        collection = self.collections.get(name)
        if len(parts) == 2:
            if request.method == "PUT":
                if collection is not None:
                    return _error(400, f"Wrong input: Collection `{name}` already exists!")
                vectors = body.get("vectors") or {}
                if vectors.get("distance") not in ("Cosine", "Euclid", "Dot", "Manhattan") or not isinstance(vectors.get("size"), int):
                    return _error(400, "Wrong input: vectors.size and vectors.distance are required")
                self.collections[name] = {"config": {"params": {"vectors": vectors}}, "points": {}}
                return _ok(True)
            if collection is None:
                return _error(404, f"Not found: Collection `{name}` doesn't exist!")
            if request.method == "GET":
                return _ok({"status": "green", "points_count": len(collection["points"]), "config": collection["config"]})
            if request.method == "DELETE":
                del self.collections[name]
                return _ok(True)
        if collection is None:
            return _error(404, f"Not found: Collection `{name}` doesn't exist!")
        action = "/".join(parts[2:])
        vectors = collection["config"]["params"]["vectors"]
        if action == "points" and request.method == "PUT":
            for point in body.get("points") or []:
                if not _valid_id(point.get("id")):
                    return _error(400, f"Format error in JSON body: value {point.get('id')} is not a valid point ID, valid values are either an unsigned integer or a UUID")
                if len(point.get("vector") or []) != vectors["size"]:
                    return _error(400, f"Wrong input: Vector dimension error: expected dim: {vectors['size']}, got {len(point.get('vector') or [])}")
            for point in body.get("points") or []:
                collection["points"][str(point["id"])] = {"id": point["id"], "vector": point["vector"], "payload": point.get("payload") or {}}
            return _ok({"operation_id": 1, "status": "completed"})
        if action == "points" and request.method == "POST":
            found = [collection["points"][str(i)] for i in body.get("ids") or [] if str(i) in collection["points"]]
            return _ok([self._out(p, body) for p in found])
        if action == "points/search":
            query = body.get("vector") or []
            if len(query) != vectors["size"]:
                return _error(400, f"Wrong input: Vector dimension error: expected dim: {vectors['size']}, got {len(query)}")
            scored = [(self._score(vectors["distance"], query, p["vector"]), p) for p in collection["points"].values()
                      if _matches(p["payload"], body.get("filter"))]
            scored.sort(key=lambda t: t[0], reverse=vectors["distance"] != "Euclid")
            threshold = body.get("score_threshold")
            if threshold is not None:
                scored = [t for t in scored if (t[0] <= threshold if vectors["distance"] == "Euclid" else t[0] >= threshold)]
            return _ok([{**self._out(p, body), "score": s, "version": 0} for s, p in scored[: int(body.get("limit", 10))]])
        if action == "points/scroll":
            found = [p for p in collection["points"].values() if _matches(p["payload"], body.get("filter"))][: int(body.get("limit", 10))]
            return _ok({"points": [self._out(p, body) for p in found], "next_page_offset": None})
        if action == "points/delete":
            doomed = [i for i, p in collection["points"].items() if _matches(p["payload"], body.get("filter"))] if "filter" in body \
                else [str(i) for i in body.get("points") or []]
            for point_id in doomed:
                collection["points"].pop(point_id, None)
            return _ok({"operation_id": 2, "status": "completed"})
        return _error(404, f"Not found: {request.path}")

    @staticmethod
    def _score(distance: str, query: list[float], vector: list[float]) -> float:
        if distance == "Euclid":
            return euclidean(query, vector)
        if distance == "Dot":
            return dot(query, vector)
        return cosine(query, vector)

    @staticmethod
    def _out(point: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"id": point["id"]}
        if body.get("with_payload", True):
            out["payload"] = point["payload"]
        if body.get("with_vector"):
            out["vector"] = point["vector"]
        return out


def _condition(payload: dict[str, Any], condition: dict[str, Any]) -> bool:
    if "must" in condition or "should" in condition or "must_not" in condition:
        return _matches(payload, condition)
    actual = get_path(payload, condition["key"])
    match = condition.get("match") or {}
    values = match["any"] if "any" in match else [match.get("value")]
    if actual is MISSING:
        return False
    if isinstance(actual, list):
        return any(v in actual for v in values)
    return actual in values


def _matches(payload: dict[str, Any], where: dict[str, Any] | None) -> bool:
    if not where:
        return True
    if not all(_condition(payload, c) for c in where.get("must") or []):
        return False
    if where.get("should") and not any(_condition(payload, c) for c in where["should"]):
        return False
    return not any(_condition(payload, c) for c in where.get("must_not") or [])
