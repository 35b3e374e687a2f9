"""A local ClickHouse HTTP interface (port 8123 protocol) from ClickHouse's public reference, for the
statements the vector store sends: the SQL in the POST body, `X-ClickHouse-User`/`X-ClickHouse-Key`
auth (401 with `Code: 516. DB::Exception: ... (AUTHENTICATION_FAILED)` otherwise), CREATE TABLE IF
NOT EXISTS, `INSERT ... FORMAT JSONEachRow` rows, `SELECT ... ORDER BY dist ASC LIMIT n FORMAT
JSONEachRow` with cosineDistance / L2Distance / L1Distance / dotProduct, unknown tables 404
(`UNKNOWN_TABLE`), anything else 400 (`SYNTAX_ERROR`). Not a SQL engine: a parser of those shapes."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from tests.support.stub_http import Answer, StubRequest, StubServer

USER, PASSWORD = "ch_user", "ch-pass"


def _distance(name: str, a: list[float], b: list[float]) -> float:
    if name == "cosineDistance":
        dot = sum(x * y for x, y in zip(a, b))
        norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
        return 1 - (dot / norm if norm else 0.0)
    if name == "L2Distance":
        return math.sqrt(sum((x - y) ** 2 for x, y in zip(a, b)))
    if name == "L1Distance":
        return sum(abs(x - y) for x, y in zip(a, b))
    if name == "-dotProduct":
        return -sum(x * y for x, y in zip(a, b))
    raise ValueError(name)


class ClickHouseServer(StubServer):
    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[dict[str, Any]]] = {}

    def failure_body(self, status: int) -> tuple[str, Any]:
        return "text/plain", f"Code: 159. DB::Exception: scripted failure {status}. (TIMEOUT_EXCEEDED)\n"

    @staticmethod
    def _error(status: int, code: int, name: str, message: str) -> Answer:
        return status, "text/plain", f"Code: {code}. DB::Exception: {message}. ({name}) (version 24.8.1.1)\n", {"X-ClickHouse-Exception-Code": str(code)}

    def _rows(self, table: str) -> list[dict[str, Any]] | None:
        return self.tables.get(table.replace("`", ""))

    def route(self, r: StubRequest) -> Answer:
        if r.headers.get("x-clickhouse-user") != USER or r.headers.get("x-clickhouse-key") != PASSWORD:
            return self._error(401, 516, "AUTHENTICATION_FAILED", f"{r.headers.get('x-clickhouse-user')}: Authentication failed")
        sql = r.body.decode()
        head, _, data = sql.partition("\n")
        if m := re.match(r"CREATE TABLE IF NOT EXISTS ([`\w.]+) \(.*ENGINE = MergeTree", sql, re.S):
            self.tables.setdefault(m.group(1).replace("`", ""), [])
            return 200, "text/plain", ""
        if m := re.match(r"INSERT INTO ([`\w.]+) \(id, document, embedding, metadata\) FORMAT JSONEachRow$", head):
            rows = self._rows(m.group(1))
            if rows is None:
                return self._error(404, 60, "UNKNOWN_TABLE", f"Table {m.group(1)} does not exist")
            rows.extend(json.loads(line) for line in data.splitlines() if line.strip())
            return 200, "text/plain", ""
        if m := re.match(r"SELECT id FROM ([`\w.]+) WHERE id IN \((.*)\) FORMAT JSONEachRow$", sql, re.S):
            rows = self._rows(m.group(1))
            if rows is None:
                return self._error(404, 60, "UNKNOWN_TABLE", f"Table {m.group(1)} does not exist")
            wanted = set(re.findall(r"'([^']*)'", m.group(2)))
            return 200, "application/x-ndjson", "".join(json.dumps({"id": row["id"]}) + "\n" for row in rows if row["id"] in wanted)
        if m := re.match(r"SELECT id, document, metadata, dist(, embedding)? FROM \(SELECT \*, (-?\w+)\(embedding, (\[[^\]]*\])\) AS dist "
                         r"FROM ([`\w.]+)\) ORDER BY dist ASC LIMIT (\d+) FORMAT JSONEachRow$", sql):
            rows = self._rows(m.group(4))
            if rows is None:
                return self._error(404, 60, "UNKNOWN_TABLE", f"Table {m.group(4)} does not exist")
            query = json.loads(m.group(3))
            ranked = sorted(({**row, "dist": _distance(m.group(2), row["embedding"], query)} for row in rows), key=lambda x: x["dist"])
            keep = ["id", "document", "metadata", "dist"] + (["embedding"] if m.group(1) else [])
            return 200, "application/x-ndjson", "".join(json.dumps({k: row[k] for k in keep}) + "\n" for row in ranked[: int(m.group(5))])
        return self._error(400, 62, "SYNTAX_ERROR", f"Syntax error: failed at position 1 ({sql[:40]!r})")
