"""The local Astra DB Data API (tests/support/astra_server.py) plus its table commands and the piece
of Astra's DevOps API that tells a database's endpoint, written from the public references.

- DevOps: `GET /v2/databases/<id>` (`Authorization: Bearer <token>`) → `{"id", "orgId", "status",
  "info": {"name", "keyspace", "region", "cloudProvider", "datacenters": [{"region"}]},
  "dataEndpointUrl": "<endpoint>/api/rest"}`; errors `{"errors": [{"description", "ID"}]}` (401, 404).
- Keyspace commands: `listTables` (`options.explain`: `{"name", "definition": {"columns",
  "primaryKey"}}`), `createTable` (`definition.columns` of text, int, double, boolean, uuid,
  timeuuid, timestamp, `map` (keyType/valueType), `vector` (dimension); `primaryKey` a column or
  `{"partitionBy": [...], "partitionSort": {col: 1|-1}}`; `options.ifNotExists`), `dropTable`.
- Table commands: `createVectorIndex` (`definition.column`, `options.metric`), `createIndex`
  (a column, or `{<map column>: "$entries"|"$keys"|"$values"}`), `createTextIndex`;
  `insertMany` (rows; a row with an existing primary key overwrites it, as CQL does; unknown
  columns, a missing primary key or a vector of the wrong size are errors) → `status.insertedIds`
  (each a list of primary-key values) and `primaryKeySchema`; `find` (`filter`, `sort` by a vector
  column — it needs a vector index —, `projection`, `options.limit` / `includeSimilarity`) →
  `data.documents` (without a vector sort, pages of 20 rows: `nextPageState` / `options.pageState`)
  and `status.projectionSchema`; `deleteMany` (a filter on the primary key only).
- Table filters: equality / `$eq $ne $in $nin $gt $gte $lt $lte` on scalar columns (`$eq` is refused
  on map columns), map columns by `$in` / `$nin` / `$all` of `[key, value]` entries, or
  `{"$keys"|"$values": {...}}`; `$match` on a text-indexed column (every word of the query held).
- Errors as the Data API sends them (HTTP 200, `{"errors": [{"errorCode", "message", ...}]}`).
- The same tables through Astra's REST API (Stargate v2): `GET /api/rest/v2/keyspaces/<ks>/<table>/`
  with `X-Cassandra-Token`, `where` (JSON: `$eq $ne $lt $lte $gt $gte $in $exists $contains`),
  `page-size` (20 by default), `fields` (comma-separated) → `{"count", "pageState", "data": [rows]}`;
  errors `{"description", "code"}` (400 bad request, 401, 404 unknown table).
"""

from __future__ import annotations

import re
from typing import Any

from tests.support.astra_server import AstraServer, _error, _same
from tests.support.json_server import Request, cosine, dot, euclidean

_SCALARS = {"text", "ascii", "int", "bigint", "double", "float", "boolean", "uuid", "timeuuid", "timestamp", "date"}


def _fail(code: str, message: str, scope: str = "SCHEMA") -> dict[str, Any]:
    return {"errors": [_error(code, message, scope)]}


class AstraTablesServer(AstraServer):
    """`databases`: database id → region (what the DevOps API knows)."""

    def __init__(self, *args: Any, databases: dict[str, str] | None = None, **kwargs: Any) -> None:
        self.databases = dict(databases or {})
        # keyspace → table → {"columns", "primaryKey", "rows": {key tuple: row}, "indexes": {name: definition}}
        self.tables: dict[str, dict[str, dict[str, Any]]] = {}
        super().__init__(*args, **kwargs)

    def rows(self, table: str, keyspace: str = "default_keyspace") -> list[dict[str, Any]]:
        return list(self.tables.get(keyspace, {}).get(table, {}).get("rows", {}).values())

    def handle(self, request: Request) -> tuple[int, Any]:
        parts = [p for p in request.path.split("/") if p]
        if parts[:2] == ["v2", "databases"] and request.method == "GET" and len(parts) == 3:
            return self._devops(parts[2], request)
        if parts[:4] == ["api", "rest", "v2", "keyspaces"] and request.method == "GET" and len(parts) == 6:
            return self._rest_rows(parts[4], parts[5], request)
        body = request.body
        if (request.method == "POST" and parts[:3] == ["api", "json", "v1"] and len(parts) in (4, 5) and isinstance(body, dict)
                and len(body) == 1 and parts[3] in self.data):
            token = request.headers.get("token", "")
            (name, payload), = body.items()
            payload = payload if isinstance(payload, dict) else {}
            keyspace = parts[3]
            tables = self.tables.setdefault(keyspace, {})
            authorised = token and (self.tokens is None or token in self.tokens)
            if authorised and len(parts) == 4 and name in ("listTables", "createTable", "dropTable"):
                return 200, getattr(self, f"_{name}")(keyspace, payload)
            if authorised and len(parts) == 5 and parts[4] in tables:
                handler = {"createVectorIndex": self._create_index, "createIndex": self._create_index, "createTextIndex": self._create_index,
                           "insertMany": self._insert_rows, "insertOne": self._insert_row, "find": self._find_rows,
                           "deleteMany": self._delete_rows}.get(name)
                return (200, handler(tables[parts[4]], payload, name)) if handler else self._unknown(name)
        return super().handle(request)

    # ---- DevOps ----------------------------------------------------------------------------

    def _devops(self, database_id: str, request: Request) -> tuple[int, Any]:
        header = request.headers.get("authorization", "")
        token = header[len("Bearer "):] if header.startswith("Bearer ") else ""
        if not token or (self.tokens is not None and token not in self.tokens):
            return 401, {"errors": [{"description": "The Astra DB token is not valid or lacks the permission to read databases", "ID": 401}]}
        region = self.databases.get(database_id)
        if region is None:
            return 404, {"errors": [{"description": f"Database {database_id} was not found", "ID": 2000}]}
        return 200, {"id": database_id, "orgId": "org-1", "ownerId": "owner-1", "status": "ACTIVE",
                     "info": {"name": "flowless-test", "keyspace": "default_keyspace", "cloudProvider": "AWS", "region": region,
                              "datacenters": [{"region": region, "cloudProvider": "AWS"}]},
                     "dataEndpointUrl": f"{self.base_url}/api/rest", "graphqlUrl": f"{self.base_url}/api/graphql"}

    # ---- REST v2 -----------------------------------------------------------------------------

    def _rest_rows(self, keyspace: str, name: str, request: Request) -> tuple[int, Any]:
        import json

        token = request.headers.get("x-cassandra-token", "")
        if not token or (self.tokens is not None and token not in self.tokens):
            return 401, {"description": "Role unauthorized for operation: Invalid token", "code": 401}
        table = self.tables.get(keyspace, {}).get(name)
        if table is None:
            return 404, {"description": f"Table '{name}' not found in keyspace '{keyspace}'", "code": 404}
        try:
            where = json.loads((request.query.get("where") or ["{}"])[0])
        except ValueError:
            return 400, {"description": "Bad request: where is not valid JSON", "code": 400}
        rows = []
        for row in table["rows"].values():
            ok = True
            for column, condition in where.items():
                if column not in table["columns"]:
                    return 400, {"description": f"Bad request: unknown field name '{column}'", "code": 400}
                for op, operand in (condition.items() if isinstance(condition, dict) else [("$eq", condition)]):
                    value = row.get(column)
                    if op not in ("$eq", "$ne", "$lt", "$lte", "$gt", "$gte", "$in", "$exists", "$contains"):
                        return 400, {"description": f"Bad request: operation '{op}' is not supported", "code": 400}
                    ok = ok and {
                        "$eq": lambda: value == operand, "$ne": lambda: value != operand, "$in": lambda: value in operand,
                        "$exists": lambda: (value is not None) == bool(operand),
                        "$contains": lambda: isinstance(value, (list, dict)) and operand in value,
                        "$lt": lambda: value is not None and value < operand, "$lte": lambda: value is not None and value <= operand,
                        "$gt": lambda: value is not None and value > operand, "$gte": lambda: value is not None and value >= operand,
                    }[op]()
            if ok:
                rows.append(row)
        rows = rows[: int((request.query.get("page-size") or ["20"])[0])]
        fields = [f for f in (request.query.get("fields") or [""])[0].split(",") if f]
        if fields:
            rows = [{f: r.get(f) for f in fields} for r in rows]
        return 200, {"count": len(rows), "pageState": None, "data": rows}

    # ---- keyspace commands -----------------------------------------------------------------

    def _listTables(self, keyspace: str, payload: dict[str, Any]) -> dict[str, Any]:
        tables = self.tables.setdefault(keyspace, {})
        if (payload.get("options") or {}).get("explain"):
            return {"status": {"tables": [{"name": n, "definition": {"columns": t["columns"], "primaryKey": t["primaryKey"]}}
                                          for n, t in tables.items()]}}
        return {"status": {"tables": list(tables)}}

    def _createTable(self, keyspace: str, payload: dict[str, Any]) -> dict[str, Any]:
        name = str(payload.get("name") or "")
        if not re.match(r"^\w{1,48}$", name):
            return _fail("INVALID_REQUEST", f"Request invalid: table name '{name}' is not valid")
        definition = payload.get("definition") or {}
        columns = definition.get("columns") or {}
        for column, spec in columns.items():
            kind = spec.get("type") if isinstance(spec, dict) else spec
            if kind == "vector" and not (isinstance(spec, dict) and isinstance(spec.get("dimension"), int)):
                return _fail("INVALID_COLUMN_TYPE", f"The vector column '{column}' needs a dimension")
            if kind == "map" and not (isinstance(spec, dict) and spec.get("keyType") and spec.get("valueType")):
                return _fail("INVALID_COLUMN_TYPE", f"The map column '{column}' needs keyType and valueType")
            if kind not in _SCALARS | {"vector", "map", "list", "set"}:
                return _fail("INVALID_COLUMN_TYPE", f"Unsupported column type '{kind}' for column '{column}'")
        key = _key_columns(definition.get("primaryKey"))
        if not key or any(c not in columns for c in key):
            return _fail("INVALID_REQUEST", "Request invalid: the primary key must name columns of the table")
        self.tables.setdefault(keyspace, {})
        if name in self.tables[keyspace] or name in self.data.get(keyspace, {}):
            if (payload.get("options") or {}).get("ifNotExists") and name in self.tables[keyspace]:
                return {"status": {"ok": 1}}
            return _fail("CANNOT_ADD_EXISTING_TABLE", f"Table '{name}' already exists")
        self.tables[keyspace][name] = {"columns": {c: (s if isinstance(s, dict) else {"type": s}) for c, s in columns.items()},
                                       "primaryKey": definition.get("primaryKey"), "key": key, "rows": {}, "indexes": {}}
        return {"status": {"ok": 1}}

    def _dropTable(self, keyspace: str, payload: dict[str, Any]) -> dict[str, Any]:
        self.tables[keyspace].pop(str(payload.get("name") or ""), None)
        return {"status": {"ok": 1}}

    # ---- table commands --------------------------------------------------------------------

    def _create_index(self, table: dict[str, Any], payload: dict[str, Any], command: str) -> dict[str, Any]:
        definition = payload.get("definition") or {}
        column = definition.get("column")
        target = next(iter(column)) if isinstance(column, dict) and column else column
        spec = table["columns"].get(str(target))
        if spec is None:
            return _fail("UNKNOWN_TABLE_COLUMNS", f"Only columns defined in the table schema can be indexed: '{target}'")
        if (command == "createVectorIndex") != (spec["type"] == "vector"):
            return _fail("INVALID_INDEX_DEFINITION", f"{command} cannot index column '{target}' of type {spec['type']}")
        if isinstance(column, dict) and (spec["type"] != "map" or column[target] not in ("$entries", "$keys", "$values")):
            return _fail("INVALID_INDEX_DEFINITION", f"Column '{target}' cannot be indexed as {column[target]}")
        table["indexes"][str(payload.get("name"))] = {"command": command, "column": str(target), "definition": definition}
        return {"status": {"ok": 1}}

    def _insert_row(self, table: dict[str, Any], payload: dict[str, Any], command: str) -> dict[str, Any]:
        return self._insert_rows(table, {"documents": [payload.get("document") or {}]}, command)

    def _insert_rows(self, table: dict[str, Any], payload: dict[str, Any], command: str) -> dict[str, Any]:
        rows = payload.get("documents")
        if not isinstance(rows, list) or not rows or len(rows) > 100:
            return _fail("INVALID_REQUEST", "Request invalid: 'documents' must hold 1 to 100 rows", "REQUEST")
        inserted = []
        for row in rows:
            unknown = [c for c in row if c not in table["columns"]]
            if unknown:
                return _fail("UNKNOWN_TABLE_COLUMNS", f"Only columns defined in the table schema can be inserted: {unknown}", "DOCUMENT")
            if any(row.get(c) in (None, "") for c in table["key"]):
                return _fail("MISSING_PRIMARY_KEY_COLUMNS", f"All primary key columns must be provided: {table['key']}", "DOCUMENT")
            for column, spec in table["columns"].items():
                value = row.get(column)
                if value is None:
                    continue
                if spec["type"] == "vector" and (not isinstance(value, list) or len(value) != spec["dimension"]):
                    return _fail("INVALID_COLUMN_VALUES", f"Vector of {len(value) if isinstance(value, list) else '?'} values for "
                                 f"column '{column}' of dimension {spec['dimension']}", "DOCUMENT")
                if spec["type"] == "map" and not (isinstance(value, dict) and all(isinstance(v, str) for v in value.values())):
                    return _fail("INVALID_COLUMN_VALUES", f"Column '{column}' is a map<{spec['keyType']}, {spec['valueType']}>", "DOCUMENT")
            key = tuple(str(row[c]) for c in table["key"])
            table["rows"][key] = {c: row.get(c) for c in table["columns"]}  # an upsert: missing columns become null
            inserted.append(list(key))
        return {"status": {"primaryKeySchema": {c: {"type": table["columns"][c]["type"]} for c in table["key"]}, "insertedIds": inserted}}

    def _find_rows(self, table: dict[str, Any], payload: dict[str, Any], command: str) -> dict[str, Any]:
        try:
            found = [r for r in table["rows"].values() if _row_matches(table, r, payload.get("filter") or {})]
        except ValueError as exc:
            return _fail("INVALID_FILTER_EXPRESSION", str(exc), "FILTER")
        options = payload.get("options") or {}
        sort = payload.get("sort") or {}
        if sort:
            (column, vector), = sort.items()
            index = next((i for i in table["indexes"].values() if i["column"] == column and i["command"] == "createVectorIndex"), None)
            if index is None:
                return _fail("MISSING_VECTOR_INDEX", f"Vector sort on column '{column}' needs a vector index", "SORT")
            if len(vector) != table["columns"][column]["dimension"]:
                return _fail("INVALID_SORT_CLAUSE", f"Vector of {len(vector)} values to sort column '{column}'", "SORT")
            metric = ((index["definition"].get("options") or {}).get("metric") or "cosine")
            scored = []
            for row in found:
                if row.get(column) is None:
                    continue
                if metric == "euclidean":
                    similarity = 1 / (1 + euclidean(vector, row[column]) ** 2)
                else:
                    similarity = (1 + (dot(vector, row[column]) if metric == "dot_product" else cosine(vector, row[column]))) / 2
                scored.append({**row, "$similarity": similarity})
            found = sorted(scored, key=lambda r: -r["$similarity"])
            if not options.get("includeSimilarity"):
                found = [{k: v for k, v in r.items() if k != "$similarity"} for r in found]
        if options.get("limit"):
            found = found[: int(options["limit"])]
        next_page = None
        if not sort:  # without a vector sort, pages of 20 rows
            start = int(options.get("pageState") or 0)
            next_page = str(start + 20) if start + 20 < len(found) else None
            found = found[start:start + 20]
        projection = payload.get("projection") or {}
        excluded = {k for k, v in projection.items() if v in (0, False)}
        included = {k for k, v in projection.items() if v in (1, True)}
        documents = [{k: v for k, v in r.items() if k not in excluded and (not included or k in included or k == "$similarity")
                      and v is not None} for r in found]
        schema = {c: s for c, s in table["columns"].items() if c not in excluded and (not included or c in included)}
        return {"data": {"documents": documents, "nextPageState": next_page}, "status": {"projectionSchema": schema}}

    def _delete_rows(self, table: dict[str, Any], payload: dict[str, Any], command: str) -> dict[str, Any]:
        where = payload.get("filter") or {}
        if any(k not in table["key"] for k in where):
            return _fail("INVALID_FILTER_EXPRESSION", "deleteMany on a table filters on primary key columns only", "FILTER")
        doomed = [k for k, r in table["rows"].items() if _row_matches(table, r, where)]
        for key in doomed:
            del table["rows"][key]
        return {"status": {"deletedCount": -1}}


def _key_columns(primary_key: Any) -> list[str]:
    if isinstance(primary_key, str):
        return [primary_key]
    if isinstance(primary_key, dict):
        return [*(primary_key.get("partitionBy") or []), *(primary_key.get("partitionSort") or {})]
    return []


def _row_matches(table: dict[str, Any], row: dict[str, Any], where: dict[str, Any]) -> bool:
    for column, condition in where.items():
        if column in ("$and", "$or"):
            results = [_row_matches(table, row, part) for part in condition]
            if not (all(results) if column == "$and" else any(results)):
                return False
            continue
        spec = table["columns"].get(column)
        if spec is None:
            raise ValueError(f"Only columns defined in the table schema can be filtered: '{column}'")
        value = row.get(column)
        if spec["type"] == "map":
            if not _map_matches(table, column, value or {}, condition):
                return False
            continue
        ops = condition if isinstance(condition, dict) and condition and all(k.startswith("$") for k in condition) else {"$eq": condition}
        for op, operand in ops.items():
            if op == "$match":
                if not any(i["column"] == column and i["command"] == "createTextIndex" for i in table["indexes"].values()):
                    raise ValueError(f"$match on column '{column}' needs a text index")
                words = set(re.findall(r"\w+", str(value or "").lower()))
                if not set(re.findall(r"\w+", str(operand).lower())) <= words:
                    return False
            elif op == "$eq" and not _same(value, operand):
                return False
            elif op == "$ne" and _same(value, operand):
                return False
            elif op == "$in" and not any(_same(value, v) for v in operand):
                return False
            elif op == "$nin" and any(_same(value, v) for v in operand):
                return False
            elif op in ("$gt", "$gte", "$lt", "$lte"):
                if value is None:
                    return False
                if not {"$gt": value > operand, "$gte": value >= operand, "$lt": value < operand, "$lte": value <= operand}[op]:
                    return False
    return True


def _map_matches(table: dict[str, Any], column: str, value: dict[str, Any], condition: Any) -> bool:
    if not isinstance(condition, dict) or not condition:
        raise ValueError(f"$eq is not supported for map column '{column}': filter with $in, $nin or $all of [key, value] entries")
    for op, operand in condition.items():
        if op in ("$keys", "$values"):
            held = list(value) if op == "$keys" else list(value.values())
            for inner, wanted in operand.items():
                if inner == "$in" and not any(w in held for w in wanted):
                    return False
                if inner == "$nin" and any(w in held for w in wanted):
                    return False
                if inner == "$all" and not all(w in held for w in wanted):
                    return False
            continue
        if op not in ("$in", "$nin", "$all"):
            raise ValueError(f"{op} is not supported for map column '{column}'")
        if not any(i["column"] == column for i in table["indexes"].values()):
            raise ValueError(f"Filtering map column '{column}' needs an index on its entries")
        entries = [(str(pair[0]), str(pair[1])) for pair in operand if isinstance(pair, list) and len(pair) == 2]
        held = [(k, str(v)) for k, v in value.items()]
        if op == "$in" and not any(e in held for e in entries):
            return False
        if op == "$nin" and any(e in held for e in entries):
            return False
        if op == "$all" and not all(e in held for e in entries):
            return False
    return True
