"""A local Elasticsearch (REST API) on 127.0.0.1, written from Elasticsearch's public API reference;
it shares OpenSearch's REST shapes (tests/support/opensearch_server.py) and adds what differs:

- `GET /<index>` (200 with the index's settings and mappings, 404 `index_not_found_exception`);
  `dense_vector` fields (`dims`, `similarity`: cosine | dot_product | l2_norm) checked on indexing;
- `_bulk` `create` actions (an existing id: 409 `version_conflict_engine_exception` for that item);
- `_search` with the top-level `knn` option (`field`, `query_vector`, `k`, `num_candidates`,
  `filter`): scores (1 + cosine) / 2, (1 + dot) / 2, 1 / (1 + d²);
- auth: `Authorization: ApiKey <key>` (`api_keys`) or basic (`users`).
"""

from __future__ import annotations

import json
from typing import Any

from tests.support.json_server import Request, cosine, dot, euclidean
from tests.support.opensearch_server import OpenSearchServer, _error, _source


class ElasticsearchServer(OpenSearchServer):
    def __init__(self, users: dict[str, str] | None = None, api_keys: tuple[str, ...] = ()) -> None:
        self.api_keys = set(api_keys)
        super().__init__(users=users or {})

    def _authorised(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        if header.startswith("ApiKey "):
            return header[7:] in self.api_keys
        return super()._authorised(request)

    def handle(self, request: Request) -> tuple[int, Any]:
        parts = [p for p in request.path.split("/") if p]
        if len(parts) == 1 and request.method == "GET" and parts[0] != "_bulk" and self._authorised(request):
            index = self.indexes.get(parts[0])
            if index is None:
                return _error(404, "index_not_found_exception", f"no such index [{parts[0]}]")
            return 200, {parts[0]: {"settings": index["settings"], "mappings": index["mappings"]}}
        return super().handle(request)

    def _dense(self, index: dict[str, Any]) -> dict[str, dict[str, Any]]:
        properties = (index.get("mappings") or {}).get("properties") or {}
        return {k: v for k, v in properties.items() if isinstance(v, dict) and v.get("type") == "dense_vector"}

    def _bulk(self, text: str) -> tuple[int, Any]:
        lines = [line for line in text.split("\n") if line.strip()]
        items, errors = [], False
        for action_line, source_line in zip(lines[::2], lines[1::2]):
            (op, meta), = json.loads(action_line).items()
            name, doc_id, source = meta.get("_index"), str(meta.get("_id")), json.loads(source_line)
            index = self.indexes.get(name)
            problem = None
            if index is None:
                problem = (404, "index_not_found_exception", f"no such index [{name}]")
            elif op == "create" and doc_id in index["docs"]:
                problem = (409, "version_conflict_engine_exception", f"[{doc_id}]: version conflict, document already exists")
            else:
                for field, spec in self._dense(index).items():
                    vector = source.get(field)
                    if vector is not None and len(vector) != spec.get("dims"):
                        problem = (400, "document_parsing_exception",
                                   f"The [dense_vector] field [{field}] in doc [{doc_id}] has a different number of dimensions "
                                   f"[{len(vector)}] than defined in the mapping [{spec.get('dims')}]")
            if problem:
                items.append({op: {"_index": name, "_id": doc_id, "status": problem[0], "error": {"type": problem[1], "reason": problem[2]}}})
                errors = True
                continue
            index["docs"][doc_id] = source
            items.append({op: {"_index": name, "_id": doc_id, "result": "created", "status": 201}})
        return 200, {"took": 1, "errors": errors, "items": items}

    def _search(self, name: str, index: dict[str, Any], body: dict[str, Any]) -> tuple[int, Any]:
        if "knn" not in body:
            return super()._search(name, index, body)
        knn = body["knn"]
        spec = self._dense(index).get(knn["field"], {})
        similarity = spec.get("similarity", "cosine")
        query = knn["query_vector"]
        if len(query) != spec.get("dims"):
            return _error(400, "illegal_argument_exception", f"the query vector has a different number of dimensions [{len(query)}] "
                          f"than the document vectors [{spec.get('dims')}]")
        scored = []
        for doc_id, source in index["docs"].items():
            if any(self._score(index, clause, source, doc_id) is None for clause in knn.get("filter") or []):
                continue
            vector = source.get(knn["field"])
            if not isinstance(vector, list):
                continue
            score = (1 + cosine(query, vector)) / 2 if similarity == "cosine" else (1 + dot(query, vector)) / 2 \
                if similarity == "dot_product" else 1 / (1 + euclidean(query, vector) ** 2)
            scored.append((score, doc_id, source))
        scored.sort(key=lambda t: t[0], reverse=True)
        scored = scored[: int(knn.get("k", 10))][: int(body.get("size", 10))]
        hits = [{"_index": name, "_id": i, "_score": s, "_source": _source(src, body.get("_source"))} for s, i, src in scored]
        return 200, {"took": 1, "timed_out": False, "hits": {"total": {"value": len(hits), "relation": "eq"},
                                                              "max_score": hits[0]["_score"] if hits else None, "hits": hits}}
