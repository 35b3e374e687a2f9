"""A local Upstash Vector (REST API) on 127.0.0.1, written from Upstash's public API reference:
`POST /upsert[/<ns>]` (records `{id, vector, metadata, data}`), `/upsert-data[/<ns>]` (Upstash
embeds `data`: the model server's hashed bag of words), `/query[/<ns>]` and `/query-data[/<ns>]`
(`topK`, `filter`, `includeMetadata`, `includeVectors`, `includeData`), `/fetch[/<ns>]` (`ids`),
`/delete[/<ns>]` (`ids` or `filter`). The filter language: `key = value`, `key != value`,
`key IN (v, ...)`, `key > n` (and `>= < <=`), joined by AND / OR (AND binds tighter). Scores
normalised as Upstash does for cosine: (1 + cos) / 2. Bearer token; answers `{"result": ...}`,
errors `{"error": "...", "status": N}`.
"""

from __future__ import annotations

import re
from typing import Any

from tests.support.json_server import JsonServer, Request, cosine
from tests.support.model_server import embed

_TOKEN = re.compile(r"\s*(\(|\)|,|!=|>=|<=|=|>|<|'(?:[^'\\\\]|\\\\.)*'|[A-Za-z_][\w.]*|-?\d+(?:\.\d+)?)")


def _error(status: int, message: str) -> tuple[int, Any]:
    return status, {"error": message, "status": status}


class UpstashServer(JsonServer):
    def __init__(self, token: str = "up-token", dimension: int = 64) -> None:
        self.token, self.dimension = token, dimension
        self.namespaces: dict[str, dict[str, dict[str, Any]]] = {}
        super().__init__()

    def records(self, namespace: str = "") -> list[dict[str, Any]]:
        return list(self.namespaces.get(namespace, {}).values())

    def error_body(self, status: int, message: str) -> Any:
        return _error(status, message)[1]

    def handle(self, request: Request) -> tuple[int, Any]:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return _error(401, "Unauthorized: Invalid auth token")
        parts = [p for p in request.path.split("/") if p]
        if not parts or request.method != "POST":
            return _error(404, "Not found")
        action, namespace = parts[0], parts[1] if len(parts) > 1 else ""
        space = self.namespaces.setdefault(namespace, {})
        body = request.body
        if action in ("upsert", "upsert-data"):
            for record in body if isinstance(body, list) else [body]:
                vector = embed(str(record.get("data") or ""), self.dimension) if action == "upsert-data" else record.get("vector")
                if not isinstance(vector, list) or len(vector) != self.dimension:
                    return _error(422, f"Invalid vector dimension: {len(vector) if isinstance(vector, list) else 0}, expected: {self.dimension}")
                space[str(record["id"])] = {"id": str(record["id"]), "vector": vector, "metadata": record.get("metadata") or {},
                                            **({"data": record["data"]} if "data" in record else {})}
            return 200, {"result": "Success"}
        if action == "fetch":
            return 200, {"result": [space.get(str(i)) for i in (body or {}).get("ids") or []]}
        if action in ("query", "query-data"):
            body = body or {}
            query = embed(str(body.get("data") or ""), self.dimension) if action == "query-data" else body.get("vector") or []
            if len(query) != self.dimension:
                return _error(422, f"Invalid vector dimension: {len(query)}, expected: {self.dimension}")
            try:
                test = _parse(body.get("filter") or "")
            except ValueError as exc:
                return _error(400, f"Invalid filter: {exc}")
            scored = [((1 + cosine(query, r["vector"])) / 2, r) for r in space.values() if test(r["metadata"])]
            scored.sort(key=lambda t: t[0], reverse=True)
            out = []
            for score, record in scored[: int(body.get("topK", 10))]:
                item: dict[str, Any] = {"id": record["id"], "score": score}
                if body.get("includeMetadata"):
                    item["metadata"] = record["metadata"]
                if body.get("includeVectors"):
                    item["vector"] = record["vector"]
                if body.get("includeData") and "data" in record:
                    item["data"] = record["data"]
                out.append(item)
            return 200, {"result": out}
        if action == "delete":
            body = body or {}
            test = _parse(body.get("filter") or "") if body.get("filter") else None
            doomed = [i for i, r in space.items() if test(r["metadata"])] if test else [str(i) for i in body.get("ids") or []]
            for record_id in doomed:
                space.pop(record_id, None)
            return 200, {"result": {"deleted": len(doomed)}}
        return _error(404, "Not found")


def _parse(text: str) -> Any:
    tokens = [t for t in _TOKEN.findall(text)]
    if not text.strip():
        return lambda metadata: True
    position = 0

    def take() -> str:
        nonlocal position
        if position >= len(tokens):
            raise ValueError("unexpected end")
        position += 1
        return tokens[position - 1]

    def value(token: str) -> Any:
        if token.startswith("'"):
            return token[1:-1].replace("\\'", "'")
        if token in ("true", "false"):
            return token == "true"
        return float(token) if "." in token else int(token)

    def condition() -> Any:
        key, op = take(), take()
        if op.upper() == "IN":
            assert take() == "("
            values = []
            while True:
                values.append(value(take()))
                if take() == ")":
                    break
            return lambda m: (m.get(key) in values) if not isinstance(m.get(key), list) else any(v in values for v in m[key])
        operand = value(take())
        compare = {"=": lambda a: a == operand, "!=": lambda a: a != operand, ">": lambda a: a > operand, ">=": lambda a: a >= operand,
                   "<": lambda a: a < operand, "<=": lambda a: a <= operand}[op]

        def check(metadata: dict[str, Any]) -> bool:
            actual = metadata.get(key)
            if isinstance(actual, list):  # an array holds the value
                return op == "=" and operand in actual
            try:
                return key in metadata and compare(actual)
            except TypeError:  # a number compared with text
                return False

        return check

    def conjunction() -> Any:
        parts = [condition()]
        while position < len(tokens) and tokens[position].upper() == "AND":
            take()
            parts.append(condition())
        return lambda m: all(p(m) for p in parts)

    alternatives = [conjunction()]
    while position < len(tokens) and tokens[position].upper() == "OR":
        take()
        alternatives.append(conjunction())
    if position != len(tokens):
        raise ValueError(f"unexpected {tokens[position]!r}")
    return lambda m: any(a(m) for a in alternatives)
