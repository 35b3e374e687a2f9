"""A local OpenSearch (REST API) on 127.0.0.1, written from OpenSearch's public API reference, for
the OpenSearch vector-store node.

- `HEAD /<index>` (exists: 200 / 404), `PUT /<index>` (settings + mappings; a `knn_vector`
  field's `dimension` and `method.space_type`), `DELETE /<index>`.
- `POST /_bulk` (NDJSON `index` actions; `?refresh` accepted): per-item `result` created/updated.
- `POST /<index>/_search`: `query` with `match_all`, `term`, `terms`, `knn` (`vector`, `k`,
  `boost`), `multi_match` (`query`, `fields` with `^boosts`, `boost`), `bool` (`should`,
  `filter`, `must`, `minimum_should_match`); `size`, `min_score`, `_source` (list, or
  `includes`/`excludes`). k-NN scores as OpenSearch gives them: l2 1/(1+d²), cosinesimil
  (1+cos)/2, innerproduct dot+1 (dot ≥ 0) else 1/(1-dot); a should clause adds its boosted score.
  multi_match scores each field by the share of query words it holds (times the field's boost).
- `POST /<index>/_delete_by_query` (term/terms).
- Basic auth (`users`) or a bearer token (`tokens`); errors as OpenSearch shapes them:
  `{"error": {"root_cause": [...], "type", "reason"}, "status": N}`.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from tests.support.json_server import MISSING, JsonServer, Request, cosine, dot, euclidean, get_path


def _error(status: int, kind: str, reason: str) -> tuple[int, dict[str, Any]]:
    cause = {"type": kind, "reason": reason}
    return status, {"error": {"root_cause": [cause], **cause}, "status": status}


def _words(text: Any) -> set[str]:
    return set(re.findall(r"\w+", str(text).lower()))


class OpenSearchServer(JsonServer):
    def __init__(self, users: dict[str, str] | None = None, tokens: tuple[str, ...] = ()) -> None:
        self.users = dict(users or {"admin": "admin"})
        self.tokens = set(tokens)
        self.indexes: dict[str, dict[str, Any]] = {}  # name → {"mappings", "settings", "docs": {id: source}}
        super().__init__()

    def documents(self, index: str) -> list[dict[str, Any]]:
        return list(self.indexes.get(index, {}).get("docs", {}).values())

    def error_body(self, status: int, message: str) -> Any:
        return _error(status, "internal_server_error", message)[1]

    def _authorised(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        if header.startswith("Basic "):
            try:
                user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            except ValueError:
                return False
            return self.users.get(user) == password
        if header.startswith("Bearer "):
            return header[7:] in self.tokens
        return False

    def handle(self, request: Request) -> tuple[int, Any]:
        if not self._authorised(request):
            return _error(401, "security_exception", "Unauthorized")
        parts = [p for p in request.path.split("/") if p]
        if parts == ["_bulk"] and request.method in ("POST", "PUT"):
            return self._bulk(request.body if isinstance(request.body, str) else "")
        if len(parts) == 1:
            name = parts[0]
            if request.method == "HEAD":
                return (200 if name in self.indexes else 404), None
            if request.method == "PUT":
                if name in self.indexes:
                    return _error(400, "resource_already_exists_exception", f"index [{name}/abc] already exists")
                body = request.body if isinstance(request.body, dict) else {}
                self.indexes[name] = {"settings": body.get("settings", {}), "mappings": body.get("mappings", {}), "docs": {}}
                return 200, {"acknowledged": True, "shards_acknowledged": True, "index": name}
            if request.method == "DELETE":
                if self.indexes.pop(name, None) is None:
                    return _error(404, "index_not_found_exception", f"no such index [{name}]")
                return 200, {"acknowledged": True}
        if len(parts) == 2 and request.method in ("POST", "GET"):
            name, action = parts
            index = self.indexes.get(name)
            if index is None:
                return _error(404, "index_not_found_exception", f"no such index [{name}]")
            body = request.body if isinstance(request.body, dict) else {}
            if action == "_search":
                return self._search(name, index, body)
            if action == "_delete_by_query":
                doomed = [i for i, s in index["docs"].items() if self._score(index, body.get("query") or {}, s) is not None]
                for doc_id in doomed:
                    del index["docs"][doc_id]
                return 200, {"took": 1, "deleted": len(doomed), "failures": []}
            if action == "_refresh":
                return 200, {"_shards": {"total": 1, "successful": 1, "failed": 0}}
        return _error(400, "illegal_argument_exception", f"no handler found for uri [{request.path}] and method [{request.method}]")

    # ---- bulk -----------------------------------------------------------------------------

    def _bulk(self, text: str) -> tuple[int, Any]:
        lines = [line for line in text.split("\n") if line.strip()]
        items, errors = [], False
        for action_line, source_line in zip(lines[::2], lines[1::2]):
            action = json.loads(action_line)
            (op, meta), = action.items()
            name, doc_id = meta.get("_index"), str(meta.get("_id"))
            source = json.loads(source_line)
            index = self.indexes.get(name)
            if index is None:  # OpenSearch would create it without a knn mapping: refuse instead, to surface the mistake
                items.append({op: {"_index": name, "_id": doc_id, "status": 404,
                                   "error": {"type": "index_not_found_exception", "reason": f"no such index [{name}]"}}})
                errors = True
                continue
            problem = self._check_vectors(index, source)
            if problem:
                items.append({op: {"_index": name, "_id": doc_id, "status": 400, "error": {"type": "mapper_parsing_exception", "reason": problem}}})
                errors = True
                continue
            result = "updated" if doc_id in index["docs"] else "created"
            index["docs"][doc_id] = source
            items.append({op: {"_index": name, "_id": doc_id, "result": result, "status": 201 if result == "created" else 200}})
        return 200, {"took": 1, "errors": errors, "items": items}

    def _knn_fields(self, index: dict[str, Any]) -> dict[str, dict[str, Any]]:
        properties = (index.get("mappings") or {}).get("properties") or {}
        return {k: v for k, v in properties.items() if isinstance(v, dict) and v.get("type") == "knn_vector"}

    def _check_vectors(self, index: dict[str, Any], source: dict[str, Any]) -> str:
        for field, spec in self._knn_fields(index).items():
            vector = source.get(field)
            if vector is not None and (not isinstance(vector, list) or len(vector) != spec.get("dimension")):
                return f"Vector dimension mismatch. Expected: {spec.get('dimension')}, Given: {len(vector) if isinstance(vector, list) else 0}"
        return ""

    # ---- search ---------------------------------------------------------------------------

    def _search(self, name: str, index: dict[str, Any], body: dict[str, Any]) -> tuple[int, Any]:
        query = body.get("query") or {"match_all": {}}
        self._knn_hits = self._knn_candidates(index, query)
        scored = []
        for doc_id, source in index["docs"].items():
            score = self._score(index, query, source, doc_id)
            if score is not None and score >= float(body.get("min_score") or 0):
                scored.append((score, doc_id, source))
        scored.sort(key=lambda t: t[0], reverse=True)
        size = int(body.get("size", 10))
        hits = [{"_index": name, "_id": doc_id, "_score": score, "_source": _source(source, body.get("_source"))}
                for score, doc_id, source in scored[:size]]
        return 200, {"took": 1, "timed_out": False, "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
                     "hits": {"total": {"value": len(scored), "relation": "eq"}, "max_score": hits[0]["_score"] if hits else None, "hits": hits}}

    def _knn_candidates(self, index: dict[str, Any], query: Any) -> dict[int, dict[str, float]]:
        """For each knn clause (by id()), the scores of its k nearest documents."""
        found: dict[int, dict[str, float]] = {}
        for clause in _walk(query):
            if "knn" in clause:
                (field, spec), = clause["knn"].items()
                space = (self._knn_fields(index).get(field, {}).get("method") or {}).get("space_type", "l2")
                scores = {i: _knn_score(space, spec["vector"], s[field]) for i, s in index["docs"].items() if isinstance(s.get(field), list)}
                best = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)[: int(spec.get("k", 10))]
                found[id(clause)] = dict(best)
        return found

    def _score(self, index: dict[str, Any], query: dict[str, Any], source: dict[str, Any], doc_id: str = "") -> float | None:
        """The document's score for `query`, None when it does not match."""
        (kind, spec), = query.items() if query else (("match_all", {}),)
        if kind == "match_all":
            return 1.0
        if kind == "term":
            (field, value), = spec.items()
            value = value.get("value") if isinstance(value, dict) else value
            return 1.0 if _has(get_path(source, field), value) else None
        if kind == "terms":
            (field, values), = spec.items()
            return 1.0 if any(_has(get_path(source, field), v) for v in values) else None
        if kind == "knn":
            (field, knn), = spec.items()
            score = getattr(self, "_knn_hits", {}).get(id(query), {}).get(doc_id)
            return None if score is None else score * float(knn.get("boost", 1.0))
        if kind == "multi_match":
            words = _words(spec.get("query", ""))
            best = 0.0
            for field in spec.get("fields", []):
                name, _, boost = field.partition("^")
                held = _words(source.get(name, "")) & words
                if held and words:
                    best = max(best, len(held) / len(words) * float(boost or 1))
            return best * float(spec.get("boost", 1.0)) if best > 0 else None
        if kind == "bool":
            for clause in spec.get("filter", []) if isinstance(spec.get("filter"), list) else [spec["filter"]] if spec.get("filter") else []:
                if self._score(index, clause, source, doc_id) is None:
                    return None
            total = 0.0
            for clause in spec.get("must", []):
                score = self._score(index, clause, source, doc_id)
                if score is None:
                    return None
                total += score
            should = [self._score(index, clause, source, doc_id) for clause in spec.get("should", [])]
            matched = [s for s in should if s is not None]
            needed = spec.get("minimum_should_match", 0 if spec.get("must") or spec.get("filter") else 1) if should else 0
            if len(matched) < int(needed):
                return None
            return total + sum(matched) if (matched or spec.get("must")) else 0.0
        raise ValueError(f"unsupported query [{kind}]")


def _walk(query: Any) -> list[dict[str, Any]]:
    out = []
    if isinstance(query, dict):
        out.append(query)
        for value in query.values():
            out.extend(_walk(value))
    elif isinstance(query, list):
        for value in query:
            out.extend(_walk(value))
    return out


def _has(actual: Any, value: Any) -> bool:
    if actual is MISSING:
        return False
    if isinstance(actual, list):
        return value in actual
    return actual == value or str(actual) == str(value)


def _knn_score(space: str, query: list[float], vector: list[float]) -> float:
    if space == "cosinesimil":
        return (1 + cosine(query, vector)) / 2
    if space == "innerproduct":
        product = dot(query, vector)
        return product + 1 if product >= 0 else 1 / (1 - product)
    return 1 / (1 + euclidean(query, vector) ** 2)


def _source(source: dict[str, Any], spec: Any) -> dict[str, Any]:
    if isinstance(spec, list):
        return {k: v for k, v in source.items() if k in spec}
    if isinstance(spec, dict):
        includes, excludes = spec.get("includes"), set(spec.get("excludes") or [])
        return {k: v for k, v in source.items() if (not includes or k in includes) and k not in excludes}
    return dict(source)
