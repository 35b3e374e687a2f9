"""ClickHouse as a vector store over its HTTP interface (port 8123): SQL in the POST body, the
user in `X-ClickHouse-User` / `X-ClickHouse-Key`, rows in and out as JSONEachRow. The table has
LangChain's columns (`id`, `document`, `embedding Array(Float32)`, `metadata`, `uuid`), so a
table LangChain filled is searched here and the other way round. Search orders by the node's
metric as a distance (`angular` → cosineDistance, `euclidean` → L2Distance, `manhattan` →
L1Distance, `dot` → negated dotProduct); scores are similarities (1 - cosine distance, else
1 / (1 + distance)). ClickHouse's errors are plain text (`Code: 516. DB::Exception: ...`)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from flowless_engine.errors import ProviderAuthError
from flowless_engine.vectors.external import Document, Hit, SearchResult, store_failure

DISTANCES = {"angular": "cosineDistance", "euclidean": "L2Distance", "manhattan": "L1Distance", "hamming": "L2Distance"}
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def identifier(name: str, what: str) -> str:
    from flowless_engine.errors import ConfigurationError

    if not _NAME.match(name or ""):
        raise ConfigurationError(f"ClickHouse {what} '{name}' is not a plain identifier (letters, digits, underscore)")
    return f"`{name}`"


def sql_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def vector_literal(vector: Sequence[float]) -> str:
    return "[" + ",".join(repr(float(x)) for x in vector) + "]"


class ClickHouseTable:
    label = "ClickHouse"
    embeds_server_side = False

    def __init__(self, http: Any, url: str, database: str, table: str, user: str, password: str, *, metric: str = "angular",
                 timeout: float | None = None) -> None:
        self.http = http
        self.url = url.rstrip("/") + "/"
        self.table = f"{identifier(database, 'database')}.{identifier(table, 'table')}"
        self.headers = {"X-ClickHouse-User": user or "default", "Content-Type": "text/plain; charset=utf-8"}
        if password:
            self.headers["X-ClickHouse-Key"] = password
        self.metric = metric if metric in DISTANCES or metric == "dot" else "angular"
        self.timeout = timeout

    async def run(self, sql: str, action: str) -> list[dict[str, Any]]:
        """One statement; the JSONEachRow rows it answers (none for DDL/INSERT)."""
        from flowless_engine.http import HttpError, HttpTimeout

        try:
            response = await self.http.request("POST", self.url, headers=self.headers, content=sql.encode(), timeout=self.timeout,
                                               raise_for_status=False)
        except (HttpError, HttpTimeout) as exc:
            raise store_failure(self.label, exc, action) from exc
        if response.status in (401, 403):
            detail = response.content.decode("utf-8", errors="replace").strip()[:300]
            raise ProviderAuthError(f"ClickHouse refused the credentials while {action} (HTTP {response.status}): {detail}",
                                    provider=self.label, status=response.status)
        if not 200 <= response.status < 300:
            raise store_failure(self.label, HttpError("", status=response.status, body=response.content), action)
        rows = []
        for line in response.content.decode("utf-8", errors="replace").splitlines():
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except ValueError as exc:
                    from flowless_engine.errors import ProviderError

                    raise ProviderError(f"ClickHouse answered rows that are not JSONEachRow while {action}", provider=self.label) from exc
        return rows

    async def ensure(self, dimension: int) -> None:
        await self.run(
            f"CREATE TABLE IF NOT EXISTS {self.table} (id Nullable(String), document Nullable(String), embedding Array(Float32), "
            f"metadata String, uuid UUID DEFAULT generateUUIDv4(), CONSTRAINT cons_vec_len CHECK length(embedding) = {int(dimension)}) "
            "ENGINE = MergeTree ORDER BY uuid", "creating the table")

    async def add(self, documents: Sequence[Document]) -> int:
        ids = ",".join(sql_string(d.id) for d in documents)
        known = {r.get("id") for r in await self.run(f"SELECT id FROM {self.table} WHERE id IN ({ids}) FORMAT JSONEachRow", "reading the table")}
        fresh = [d for d in documents if d.id not in known]
        if fresh:
            lines = "\n".join(json.dumps({"id": d.id, "document": d.text, "embedding": list(d.vector or ()),
                                          "metadata": json.dumps(d.metadata, default=str)}) for d in fresh)
            await self.run(f"INSERT INTO {self.table} (id, document, embedding, metadata) FORMAT JSONEachRow\n{lines}", "storing rows")
        return len(fresh)

    def _distance(self, vector: Sequence[float]) -> tuple[str, str]:
        literal = vector_literal(vector)
        if self.metric == "dot":
            return f"-dotProduct(embedding, {literal})", "dot"
        return f"{DISTANCES[self.metric]}(embedding, {literal})", self.metric

    @staticmethod
    def _metadata(raw: Any) -> dict[str, Any]:
        if isinstance(raw, dict):
            return raw
        try:
            value = json.loads(raw) if isinstance(raw, str) and raw else {}
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    @staticmethod
    def where_sql(where: dict[str, Any] | None) -> str:
        clauses = []
        for key, value in (where or {}).items():
            path = sql_string(str(key))
            values = value if isinstance(value, list) else [value]
            clauses.append(f"JSONExtractString(metadata, {path}) IN ({', '.join(sql_string(str(v)) for v in values)})")
        return (" WHERE " + " AND ".join(clauses)) if clauses else ""

    async def search(self, *, vector: Sequence[float] | None, text: str | None, k: int, filter: dict[str, Any] | None,
                     with_vectors: bool) -> SearchResult:
        if vector is None:
            return SearchResult([])
        distance, metric = self._distance(vector)
        columns = "id, document, metadata, dist" + (", embedding" if with_vectors else "")
        rows = await self.run(f"SELECT {columns} FROM (SELECT *, {distance} AS dist FROM {self.table}{self.where_sql(filter)}) "
                              f"ORDER BY dist ASC LIMIT {int(k)} FORMAT JSONEachRow", "searching the table")
        hits = []
        for row in rows:
            dist = float(row.get("dist") or 0.0)
            score = 1.0 - dist if metric == "angular" else (-dist if metric == "dot" else 1.0 / (1.0 + dist))
            hits.append(Hit(str(row.get("document") or ""), self._metadata(row.get("metadata")), score, str(row.get("id") or ""),
                            list(row["embedding"]) if with_vectors and row.get("embedding") else None))
        return SearchResult(hits)

    async def scan(self, k: int, filter: dict[str, Any] | None) -> list[Hit]:
        rows = await self.run(f"SELECT id, document, metadata FROM {self.table}{self.where_sql(filter)} LIMIT {int(k)} FORMAT JSONEachRow",
                              "reading the table")
        return [Hit(str(r.get("document") or ""), self._metadata(r.get("metadata")), None, str(r.get("id") or "")) for r in rows]

    async def delete_where(self, key: str, values: Sequence[Any]) -> int:
        await self.run(f"ALTER TABLE {self.table} DELETE{self.where_sql({key: list(values)})}", "deleting rows")
        return len(values)
