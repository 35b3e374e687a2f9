"""A local Couchbase Query and Search service (one origin serving both) on 127.0.0.1, written from
Couchbase's public Query REST API and Search REST API references, for tests and conformance runs.

- HTTP Basic auth against `users` on every request: 401 with the service's error shape.
- Query (`POST /query/service`, JSON `{"statement", "args"}` — positional `$1...`): the N1QL forms a
  client of LangChain's document shape needs, on keyspaces `bucket`.`scope`.`collection`:
  `UPSERT INTO ks (KEY, VALUE) VALUES ($1, $2), ...`; `SELECT RAW META(d).id FROM ks AS d USE KEYS $n`;
  `SELECT META(d).id AS id, d.<field> AS <alias>, ... FROM ks AS d [WHERE d.metadata.<k> = $n | IN $n
  [AND ...]] [LIMIT $n]`; `DELETE FROM ks AS d WHERE d.metadata.<k> IN $n`. Answers
  `{"requestID", "signature", "results", "status": "success", "metrics": {resultCount, mutationCount}}`;
  errors `{"requestID", "errors": [{"code", "msg"}], "status": "fatal"}`: 3000 syntax (400),
  12003 keyspace not found (404), 10000 authentication failure (401), 5000 internal (500).
- Search (`POST /api/bucket/{b}/scope/{s}/index/{i}/query`): `knn: [{field, vector, k, filter}]`
  (dot-product similarity, the index mapping's default `similarity`), `query` (`match_none`,
  `match_all`), `size`, `from`, `fields` (`["*"]`: every stored field, nested objects flattened to
  dotted names, the vector field left out). Filter queries: `term` (+`field`), numeric
  `min`/`max`, `bool`, `conjuncts`, `disjuncts`. Answers `{"status": {total, failed, successful},
  "request", "hits": [{index, id, score, sort, fields}], "total_hits", "max_score", "took"}`;
  errors are the HTTP status with `{"error": ..., "request", "status": "fail"}` (400 for an
  unknown index, `err: index not found`; 400 for a vector of the wrong dimension).

Indexes are created by the test (`create_index`), as a user creates them in the Couchbase UI.
"""

from __future__ import annotations

import base64
import re
import uuid
from typing import Any

from tests.support.json_server import JsonServer, Request, dot

_KS = r"`([^`]+)`\.`([^`]+)`\.`([^`]+)`"
UPSERT = re.compile(rf"^\s*UPSERT\s+INTO\s+{_KS}\s*\(\s*KEY\s*,\s*VALUE\s*\)\s*VALUES\s*(.+)$", re.I | re.S)
PAIR = re.compile(r"\(\s*\$(\d+)\s*,\s*\$(\d+)\s*\)")
USE_KEYS = re.compile(rf"^\s*SELECT\s+RAW\s+META\(d\)\.id\s+FROM\s+{_KS}\s+AS\s+d\s+USE\s+KEYS\s+\$(\d+)\s*$", re.I)
SELECT = re.compile(rf"^\s*SELECT\s+(.+?)\s+FROM\s+{_KS}\s+AS\s+d(?:\s+WHERE\s+(.+?))?(?:\s+LIMIT\s+\$(\d+))?\s*$", re.I | re.S)
DELETE = re.compile(rf"^\s*DELETE\s+FROM\s+{_KS}\s+AS\s+d\s+WHERE\s+(.+?)\s*$", re.I | re.S)
CONDITION = re.compile(r"^d\.metadata\.`?([A-Za-z_][A-Za-z0-9_]*)`?\s+(=|IN)\s+\$(\d+)$", re.I)
PROJECTION = re.compile(r"^(?:META\(d\)\.id|d\.`?([A-Za-z_][A-Za-z0-9_]*)`?)\s+AS\s+`?([A-Za-z_][A-Za-z0-9_]*)`?$", re.I)


class QueryError(Exception):
    def __init__(self, status: int, code: int, msg: str) -> None:
        super().__init__(msg)
        self.status, self.code, self.msg = status, code, msg


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}{key}."))
        return out
    return {prefix[:-1]: value}


class CouchbaseServer(JsonServer):
    def __init__(self, users: dict[str, str] | None = None) -> None:
        self.users = dict(users or {})
        self.keyspaces: dict[tuple[str, str, str], dict[str, Any]] = {}  # (bucket, scope, collection) → {key: document}
        self.indexes: dict[tuple[str, str, str], dict[str, Any]] = {}  # (bucket, scope, index) → {collection, field}
        super().__init__()

    # ---- set-up, as a user does it in the UI ------------------------------------------------------

    def create_collection(self, bucket: str, scope: str, collection: str) -> None:
        self.keyspaces.setdefault((bucket, scope, collection), {})

    def create_index(self, bucket: str, scope: str, collection: str, index: str, field: str = "embedding") -> None:
        self.create_collection(bucket, scope, collection)
        self.indexes[(bucket, scope, index)] = {"collection": collection, "field": field}

    def documents(self, bucket: str, scope: str, collection: str) -> dict[str, Any]:
        return self.keyspaces.get((bucket, scope, collection), {})

    # ---- errors ---------------------------------------------------------------------------

    def _is_query(self) -> bool:
        return bool(self.requests) and self.requests[-1].path.startswith("/query/")

    def error_body(self, status: int, message: str) -> Any:
        if self._is_query():
            return {"requestID": str(uuid.uuid4()), "errors": [{"code": 5000, "msg": message}], "status": "fatal"}
        return {"error": message, "status": "fail"}

    def _authorized(self, request: Request) -> bool:
        if not self.users:
            return True
        header = request.headers.get("authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return self.users.get(user) == password

    # ---- routes -------------------------------------------------------------------------------

    def handle(self, request: Request) -> tuple[int, Any]:
        is_query = request.path == "/query/service"
        if not self._authorized(request):
            if is_query:
                return 401, {"requestID": str(uuid.uuid4()), "errors": [{"code": 10000, "msg": "Authentication Failure"}], "status": "fatal"}
            return 401, {"error": "rest_auth: preparePerms, err: username/password invalid", "status": "fail"}
        if is_query and request.method == "POST":
            return self._query(request.body if isinstance(request.body, dict) else {})
        parts = [p for p in request.path.split("/") if p]
        if request.method == "POST" and len(parts) == 8 and parts[:2] == ["api", "bucket"] and parts[3] == "scope" and parts[5] == "index" \
                and parts[7] == "query":
            return self._search(parts[2], parts[4], parts[6], request.body if isinstance(request.body, dict) else {})
        return 404, {"error": f"no route {request.method} {request.path}", "status": "fail"}

    # ---- Query service --------------------------------------------------------------------------

    def _query(self, body: dict[str, Any]) -> tuple[int, Any]:
        statement = str(body.get("statement") or "")
        args = body.get("args") or []
        try:
            results, mutations = self._run(statement, args)
        except QueryError as exc:
            return exc.status, {"requestID": str(uuid.uuid4()), "errors": [{"code": exc.code, "msg": exc.msg}], "status": "fatal"}
        metrics = {"elapsedTime": "1ms", "executionTime": "1ms", "resultCount": len(results), "resultSize": 0}
        if mutations is not None:
            metrics["mutationCount"] = mutations
        return 200, {"requestID": str(uuid.uuid4()), "signature": {"*": "*"}, "results": results, "status": "success", "metrics": metrics}

    def _keyspace(self, bucket: str, scope: str, collection: str) -> dict[str, Any]:
        found = self.keyspaces.get((bucket, scope, collection))
        if found is None:
            raise QueryError(404, 12003, f"Keyspace not found in CB datastore: default:{bucket}.{scope}.{collection}")
        return found

    @staticmethod
    def _arg(args: list[Any], number: str) -> Any:
        index = int(number) - 1
        if not 0 <= index < len(args):
            raise QueryError(400, 3000, f"syntax error - no value for positional parameter ${number}")
        return args[index]

    def _matches(self, where: str | None, args: list[Any], document: dict[str, Any]) -> bool:
        if not where:
            return True
        for clause in re.split(r"\s+AND\s+", where.strip(), flags=re.I):
            found = CONDITION.match(clause.strip())
            if not found:
                raise QueryError(400, 3000, f"syntax error - unsupported condition {clause!r}")
            key, operator, number = found.groups()
            value = self._arg(args, number)
            actual = (document.get("metadata") or {}).get(key)
            if operator.upper() == "IN" and (not isinstance(value, list) or actual not in value):
                return False
            if operator == "=" and actual != value:
                return False
        return True

    def _run(self, statement: str, args: list[Any]) -> tuple[list[Any], int | None]:
        found = UPSERT.match(statement)
        if found:
            keyspace = self._keyspace(*found.groups()[:3])
            pairs = PAIR.findall(found.group(4))
            if not pairs:
                raise QueryError(400, 3000, "syntax error - VALUES needs (key, value) pairs")
            for key_number, value_number in pairs:
                key, value = self._arg(args, key_number), self._arg(args, value_number)
                if not isinstance(key, str) or not key:
                    raise QueryError(400, 5070, "Cannot UPSERT non-string key")
                keyspace[key] = value
            return [], len(pairs)
        found = USE_KEYS.match(statement)
        if found:
            keyspace = self._keyspace(*found.groups()[:3])
            keys = self._arg(args, found.group(4))
            keys = keys if isinstance(keys, list) else [keys]
            return [k for k in keys if k in keyspace], None
        found = DELETE.match(statement)
        if found:
            keyspace = self._keyspace(*found.groups()[:3])
            doomed = [k for k, d in keyspace.items() if self._matches(found.group(4), args, d)]
            for key in doomed:
                del keyspace[key]
            return [], len(doomed)
        found = SELECT.match(statement)
        if found:
            projection, bucket, scope, collection, where, limit_number = found.groups()
            keyspace = self._keyspace(bucket, scope, collection)
            columns = []
            for item in projection.split(","):
                column = PROJECTION.match(item.strip())
                if not column:
                    raise QueryError(400, 3000, f"syntax error - unsupported projection {item.strip()!r}")
                columns.append(column.groups())
            limit = int(self._arg(args, limit_number)) if limit_number else None
            rows = []
            for key, document in keyspace.items():
                if self._matches(where, args, document):
                    rows.append({alias: (key if field is None else document.get(field)) for field, alias in columns})
            return rows[:limit] if limit is not None else rows, None
        raise QueryError(400, 3000, "syntax error - statement not understood by this server")

    # ---- Search service -------------------------------------------------------------------------

    def _filter(self, query: dict[str, Any], fields: dict[str, Any]) -> bool:
        if "conjuncts" in query:
            return all(self._filter(q, fields) for q in query["conjuncts"])
        if "disjuncts" in query:
            return any(self._filter(q, fields) for q in query["disjuncts"])
        if "match_all" in query:
            return True
        if "match_none" in query:
            return False
        value = fields.get(str(query.get("field") or ""))
        if "term" in query:
            return str(value) == str(query["term"]) if value is not None else False
        if "bool" in query:
            return value is query["bool"]
        if "min" in query or "max" in query:
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                return False
            low, high = query.get("min"), query.get("max")
            return (low is None or value >= low) and (high is None or value <= high)
        raise ValueError(f"unsupported query {query}")

    def _search(self, bucket: str, scope: str, index: str, body: dict[str, Any]) -> tuple[int, Any]:
        definition = self.indexes.get((bucket, scope, index))
        if definition is None:
            return 400, {"error": f"rest_index: Query, indexName: {bucket}.{scope}.{index}, err: index not found", "request": body,
                         "status": "fail"}
        documents = self.keyspaces.get((bucket, scope, definition["collection"]), {})
        size, start = int(body.get("size", 10)), int(body.get("from", 0))
        wanted = body.get("fields") or []
        scored: dict[str, float] = {}
        for knn in body.get("knn") or []:
            vector, k = knn.get("vector") or [], int(knn.get("k") or 3)
            candidates = []
            for key, document in documents.items():
                stored = document.get(knn.get("field"))
                if not isinstance(stored, list) or not stored:
                    continue
                if len(stored) != len(vector):
                    return 400, {"error": f"rest_index: Query, err: vector dimension mismatch: query {len(vector)}, field {len(stored)}",
                                 "request": body, "status": "fail"}
                if knn.get("filter") and not self._filter(knn["filter"], flatten(document)):
                    continue
                candidates.append((dot(stored, vector), key))
            for score, key in sorted(candidates, reverse=True)[:k]:
                scored[key] = max(scored.get(key, float("-inf")), score)
        query = body.get("query") or {"match_none": {}}
        for key, document in documents.items():
            if key not in scored and self._filter(query, flatten(document)):
                scored[key] = 1.0
        ranked = sorted(scored.items(), key=lambda item: item[1], reverse=True)
        hits = []
        for key, score in ranked[start:start + size]:
            flat = {name: value for name, value in flatten(documents[key]).items() if name != definition["field"]}
            fields = flat if wanted == ["*"] else {name: flat[name] for name in wanted if name in flat}
            hits.append({"index": f"{bucket}.{scope}.{index}_5d2f_4c041c18", "id": key, "score": score, "sort": ["_score"],
                         "fields": fields})
        return 200, {"status": {"total": 1, "failed": 0, "successful": 1}, "request": body, "hits": hits, "total_hits": len(ranked),
                     "max_score": ranked[0][1] if ranked else 0, "took": 1000, "facets": None}
