"""A local Supabase REST endpoint (PostgREST) on 127.0.0.1, written from PostgREST's and Supabase's
public references, with the `documents` table and `match_documents` function Supabase's vector
guide (and LangChain's Supabase store) use:

- `GET /rest/v1/<table>?select=a,b&id=in.(x,y)&metadata=cs.<json>&limit=n`;
- `POST /rest/v1/<table>` (rows; `Prefer: return=minimal` → 201 no body; a duplicate id → 409
  with PostgreSQL's `23505`); `DELETE /rest/v1/<table>?metadata=cs.<json>`;
- `POST /rest/v1/rpc/match_documents?limit=n` (`query_embedding`, `filter`: JSON containment),
  rows `{id, content, metadata, similarity}` by cosine similarity; an unknown function → 404
  `PGRST202`;
- `apikey` + `Authorization: Bearer` checked (401 `{"message": "Invalid API key", ...}`).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from tests.support.json_server import JsonServer, Request, cosine


def _error(status: int, code: str, message: str, details: str | None = None) -> tuple[int, Any]:
    return status, {"code": code, "details": details, "hint": None, "message": message}


def _contains(metadata: dict[str, Any], wanted: dict[str, Any]) -> bool:
    return all(k in metadata and (metadata[k] == v or (isinstance(metadata[k], list) and v in metadata[k])) for k, v in wanted.items())


class SupabaseServer(JsonServer):
    def __init__(self, key: str = "service-key") -> None:
        self.key = key
        self.functions: dict[str, str] = {"match_documents": "documents"}  # SQL function → the table it searches
        self.tables: dict[str, dict[str, dict[str, Any]]] = {"documents": {}}
        super().__init__()

    def rows(self, table: str = "documents") -> list[dict[str, Any]]:
        return list(self.tables.get(table, {}).values())

    def error_body(self, status: int, message: str) -> Any:
        return _error(status, "XX000", message)[1]

    def handle(self, request: Request) -> tuple[int, Any]:
        if request.headers.get("apikey") != self.key or request.headers.get("authorization") != f"Bearer {self.key}":
            return 401, {"message": "Invalid API key", "hint": "Double check your Supabase `anon` or `service_role` API key."}
        parts = [p for p in request.path.split("/") if p]
        if parts[:2] != ["rest", "v1"] or len(parts) < 3:
            return _error(404, "PGRST125", "Invalid path specified in request URL")
        params = {k: unquote(v[0]) for k, v in request.query.items()}
        if parts[2] == "rpc":
            name = parts[3] if len(parts) > 3 else ""
            if name not in self.functions:
                return _error(404, "PGRST202", f"Could not find the function public.{name}(filter, query_embedding) in the schema cache")
            body = request.body if isinstance(request.body, dict) else {}
            query = body.get("query_embedding") or []
            rows = self.rows(self.functions[name])
            if any(len(r["embedding"]) != len(query) for r in rows):
                return _error(400, "22000", f"different vector dimensions {len(rows[0]['embedding'])} and {len(query)}")
            found = [{"id": r["id"], "content": r["content"], "metadata": r["metadata"], "similarity": cosine(query, r["embedding"])}
                     for r in rows if _contains(r["metadata"], body.get("filter") or {})]
            found.sort(key=lambda r: r["similarity"], reverse=True)
            return 200, found[: int(params.get("limit", 1000))]
        table = self.tables.get(parts[2])
        if table is None:
            return _error(404, "42P01", f'relation "public.{parts[2]}" does not exist')
        selected = [r for r in table.values() if self._where(r, params)]
        if request.method == "GET":
            columns = params.get("select", "*").split(",")
            out = [r if columns == ["*"] else {c: r.get(c) for c in columns} for r in selected]
            return 200, out[: int(params.get("limit", 1000))]
        if request.method == "POST":
            rows = request.body if isinstance(request.body, list) else [request.body]
            for row in rows:
                if row["id"] in table:
                    return _error(409, "23505", 'duplicate key value violates unique constraint "documents_pkey"', f"Key (id)=({row['id']}) already exists.")
            for row in rows:
                table[row["id"]] = dict(row)
            return (201, None) if "return=minimal" in request.headers.get("prefer", "") else (201, rows)
        if request.method == "DELETE":
            for row in selected:
                table.pop(row["id"], None)
            return 204, None
        return _error(405, "PGRST117", "Unsupported HTTP method")

    @staticmethod
    def _where(row: dict[str, Any], params: dict[str, str]) -> bool:
        for column, condition in params.items():
            if column in ("select", "limit"):
                continue
            op, _, operand = condition.partition(".")
            if op == "in" and row.get(column) not in operand.strip("()").split(","):
                return False
            if op == "eq" and str(row.get(column)) != operand:
                return False
            if op == "cs" and not _contains(row.get(column) or {}, json.loads(operand)):
                return False
        return True
