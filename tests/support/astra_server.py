"""A local Astra DB Data API (JSON API v1) on 127.0.0.1, written from the Data API's public
reference, for tests and conformance runs.

- `POST /api/json/v1/<keyspace>`: `findCollections` (`options.explain`), `createCollection`
  (`options.vector`: `dimension`, `metric` cosine | dot_product | euclidean, `service` for
  vectorize), `deleteCollection`.
- `POST /api/json/v1/<keyspace>/<collection>`: `insertOne`, `insertMany` (`options.ordered`,
  at most 100 documents), `find` (`filter`, `sort` by `$vector` or `$vectorize`, `projection`,
  `options.limit` / `includeSimilarity` / `includeSortVector`), `findOne`, `countDocuments`,
  `deleteMany`, `deleteOne`; and (h25) `updateOne` / `updateMany` (`$set $unset $inc $push`,
  `options.upsert`), `estimatedDocumentCount`, a sort by fields (1 / -1) with `options.skip`
  (a skip needs a sort), `countDocuments` answering `moreData` past 1000 documents; a find without
  a vector sort answers pages of 20 documents (`nextPageState`, given back as `options.pageState`).
- Filters: implicit equality on dotted paths (an array matches when it holds the value; EJSON
  dates `{"$date": ms}` compare by their milliseconds),
  `$eq $ne $in $nin $exists $gt $gte $lt $lte $all $size`, `$and $or $not`.
- `$similarity` as the Data API reports it: (1 + cosine) / 2, (1 + dot) / 2, 1 / (1 + d²).
- Vectorize: the collection's `service` embeds `$vectorize` texts (the model server's hashed
  bag of words, at the collection's dimension, 1024 by default).
- Hybrid search: collections created with `lexical` and `rerank` enabled store `$lexical` (or
  `$hybrid`, both at once) and answer `findAndRerank` (`sort: {"$hybrid": ...}`,
  `options.includeScores` → `status.documentResponses[].scores.$rerank`); the reranker scores
  the share of the query's words a document holds.
- `$vector` and `$vectorize` are left out of answers unless the projection asks (`{"*": 1}`
  or `{"$vector": 1}`).
- Errors as the Data API sends them: `{"errors": [{"errorCode", "message", "family", "scope",
  "title", "id"}]}` with HTTP 200 for command errors, 401 for a missing or wrong `Token`.
"""

from __future__ import annotations

import uuid
from typing import Any

from tests.support.json_server import MISSING, JsonServer, Request, cosine, dot, euclidean, get_path
from tests.support.model_server import embed

MAX_INSERT = 100
MAX_VECTOR_LIMIT = 1000
DEFAULT_PAGE = 20
_HIDDEN = ("$vector", "$vectorize")


def _error(code: str, message: str, scope: str = "DOCUMENT") -> dict[str, Any]:
    return {"errorCode": code, "message": message, "family": "REQUEST", "scope": scope,
            "title": code.replace("_", " ").capitalize(), "id": str(uuid.uuid4())}


class AstraServer(JsonServer):
    """`tokens`: the application tokens it accepts (None: any non-empty one). `keyspaces`: the
    keyspaces that exist."""

    def __init__(self, tokens: tuple[str, ...] | None = ("AstraCS:test-token",), keyspaces: tuple[str, ...] = ("default_keyspace",)) -> None:
        self.tokens = set(tokens) if tokens is not None else None
        # keyspace → collection → {"options": {...}, "documents": {id: document}}
        self.data: dict[str, dict[str, dict[str, Any]]] = {k: {} for k in keyspaces}
        super().__init__()

    @property
    def api_endpoint(self) -> str:
        return self.base_url

    def collection(self, name: str, keyspace: str = "default_keyspace") -> dict[str, Any]:
        return self.data[keyspace][name]

    def documents(self, name: str, keyspace: str = "default_keyspace") -> list[dict[str, Any]]:
        return list(self.data[keyspace][name]["documents"].values())

    def commands(self) -> list[str]:
        return [next(iter(r.body)) for r in self.requests if isinstance(r.body, dict) and r.body]

    def error_body(self, status: int, message: str) -> Any:
        return {"errors": [_error("SERVER_UNHANDLED_ERROR", message, "SERVER")]}

    # ---- dispatch -------------------------------------------------------------------------

    def handle(self, request: Request) -> tuple[int, Any]:
        parts = [p for p in request.path.split("/") if p]
        if request.method != "POST" or parts[:3] != ["api", "json", "v1"] or len(parts) not in (4, 5):
            return 404, {"errors": [_error("NOT_FOUND", f"no route {request.method} {request.path}", "HTTP")]}
        token = request.headers.get("token", "")
        if not token or (self.tokens is not None and token not in self.tokens):
            return 401, {"errors": [{"message": "Role unauthorized for operation: Missing token, expecting one in the Token header.",
                                     "errorCode": "UNAUTHENTICATED_REQUEST"}]}
        body = request.body
        if not isinstance(body, dict) or len(body) != 1:
            return 200, {"errors": [_error("INVALID_REQUEST", "Request invalid: the body must hold exactly one command", "REQUEST")]}
        (name, payload), = body.items()
        payload = payload if isinstance(payload, dict) else {}
        keyspace = parts[3]
        if keyspace not in self.data:
            return 200, {"errors": [_error("KEYSPACE_DOES_NOT_EXIST", f"Unknown keyspace '{keyspace}', you must create it first.", "DATABASE")]}
        if len(parts) == 4:
            handler = {"findCollections": self._find_collections, "createCollection": self._create_collection,
                       "deleteCollection": self._delete_collection}.get(name)
            return (200, handler(keyspace, payload)) if handler else self._unknown(name)
        collection = self.data[keyspace].get(parts[4])
        if collection is None:
            return 200, {"errors": [_error("COLLECTION_NOT_EXIST", f"Collection does not exist, collection name: {parts[4]}", "SCHEMA")]}
        handler = {"insertOne": self._insert_one, "insertMany": self._insert_many, "find": self._find, "findOne": self._find_one,
                   "findAndRerank": self._find_and_rerank,
                   "countDocuments": self._count, "deleteMany": self._delete_many, "deleteOne": self._delete_one,
                   "updateOne": self._update_one, "updateMany": self._update_many,
                   "estimatedDocumentCount": lambda c, p: {"status": {"count": len(c["documents"])}}}.get(name)
        return (200, handler(collection, payload)) if handler else self._unknown(name)

    @staticmethod
    def _unknown(name: str) -> tuple[int, Any]:
        return 200, {"errors": [_error("COMMAND_UNKNOWN", f"Provided command unknown: \"{name}\"", "REQUEST")]}

    # ---- keyspace commands ----------------------------------------------------------------

    def _find_collections(self, keyspace: str, payload: dict[str, Any]) -> dict[str, Any]:
        explain = bool((payload.get("options") or {}).get("explain"))
        collections = self.data[keyspace]
        if explain:
            return {"status": {"collections": [{"name": n, "options": c["options"]} for n, c in collections.items()]}}
        return {"status": {"collections": list(collections)}}

    def _create_collection(self, keyspace: str, payload: dict[str, Any]) -> dict[str, Any]:
        name = payload.get("name")
        if not isinstance(name, str) or not name.replace("_", "").isalnum() or len(name) > 48:
            return {"errors": [_error("INVALID_REQUEST", f"Request invalid: collection name '{name}' is not valid", "SCHEMA")]}
        options = payload.get("options") or {}
        vector = options.get("vector")
        if vector is not None:
            metric = vector.get("metric", "cosine")
            if metric not in ("cosine", "dot_product", "euclidean"):
                return {"errors": [_error("INVALID_REQUEST", f"Request invalid: unknown metric '{metric}'", "SCHEMA")]}
            if not vector.get("dimension") and not vector.get("service"):
                return {"errors": [_error("INVALID_REQUEST", "Request invalid: 'dimension' is required without a vectorize service", "SCHEMA")]}
            vector = {"metric": metric, **vector}
            if vector.get("service") and not vector.get("dimension"):
                vector["dimension"] = 1024
            options = {**options, "vector": vector}
        existing = self.data[keyspace].get(name)
        if existing is not None:
            if existing["options"] != options:
                return {"errors": [_error("EXISTING_COLLECTION_DIFFERENT_SETTINGS",
                                          f"Collection '{name}' already exists but with settings different from the ones passed", "SCHEMA")]}
            return {"status": {"ok": 1}}
        self.data[keyspace][name] = {"options": options, "documents": {}}
        return {"status": {"ok": 1}}

    def _delete_collection(self, keyspace: str, payload: dict[str, Any]) -> dict[str, Any]:
        self.data[keyspace].pop(str(payload.get("name")), None)
        return {"status": {"ok": 1}}

    # ---- documents ------------------------------------------------------------------------

    def _vector_options(self, collection: dict[str, Any]) -> dict[str, Any] | None:
        return (collection["options"] or {}).get("vector")

    def _prepare(self, collection: dict[str, Any], document: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """The document as stored, or an error."""
        document = dict(document)
        document.setdefault("_id", str(uuid.uuid4()))
        vector_options = self._vector_options(collection)
        if "$hybrid" in document:  # one text for both the vector and the lexical index
            hybrid = document.pop("$hybrid")
            hybrid = hybrid if isinstance(hybrid, dict) else {"$vectorize": hybrid, "$lexical": hybrid}
            document.update({k: v for k, v in hybrid.items() if k in ("$vectorize", "$lexical")})
        if "$lexical" in document and not ((collection["options"] or {}).get("lexical") or {}).get("enabled"):
            return None, _error("LEXICAL_NOT_ENABLED_FOR_COLLECTION", "Lexical search is not enabled for the collection", "SCHEMA")
        if "$vectorize" in document:
            if not vector_options or not vector_options.get("service"):
                return None, _error("VECTORIZE_FEATURE_NOT_AVAILABLE", "Unable to vectorize data, embedding service not configured for the collection")
            document["$vector"] = embed(str(document["$vectorize"]), vector_options["dimension"])
        if "$vector" in document:
            vector = document["$vector"]
            if not vector_options:
                return None, _error("VECTOR_SEARCH_NOT_SUPPORTED", "Vector search is not enabled for the collection", "SCHEMA")
            if not isinstance(vector, list) or len(vector) != vector_options["dimension"]:
                return None, _error("VECTOR_SIZE_MISMATCH", f"Length of vector parameter different from declared '$vector' dimension: "
                                    f"root cause - (expected {vector_options['dimension']} but got {len(vector) if isinstance(vector, list) else 0})")
        return document, None

    def _insert_many(self, collection: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        documents = payload.get("documents")
        if not isinstance(documents, list) or not documents:
            return {"errors": [_error("INVALID_REQUEST", "Request invalid: 'documents' must be a non-empty array", "REQUEST")]}
        if len(documents) > MAX_INSERT:
            return {"errors": [_error("COMMAND_FIELD_INVALID", f"Request invalid: field 'command.documents' value is not valid. "
                                      f"Problem: amount of documents to insert is over the max limit ({len(documents)} vs {MAX_INSERT}).", "REQUEST")]}
        ordered = bool((payload.get("options") or {}).get("ordered", False))
        inserted, errors = [], []
        for raw in documents:
            document, error = self._prepare(collection, raw if isinstance(raw, dict) else {})
            if error is None and document["_id"] in collection["documents"]:
                error = _error("DOCUMENT_ALREADY_EXISTS", f"Failed to insert document with _id '{document['_id']}': Document already exists with the given _id")
            if error is not None:
                errors.append(error)
                if ordered:
                    break
                continue
            collection["documents"][document["_id"]] = document
            inserted.append(document["_id"])
        answer: dict[str, Any] = {"status": {"insertedIds": inserted}}
        if errors:
            answer["errors"] = errors
        return answer

    def _insert_one(self, collection: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        answer = self._insert_many(collection, {"documents": [payload.get("document") or {}], "options": {"ordered": True}})
        return answer

    def _matching(self, collection: dict[str, Any], where: Any) -> list[dict[str, Any]]:
        return [d for d in collection["documents"].values() if matches(d, where or {})]

    def _similarity(self, metric: str, a: list[float], b: list[float]) -> float:
        if metric == "euclidean":
            return 1.0 / (1.0 + euclidean(a, b) ** 2)
        if metric == "dot_product":
            return (1.0 + dot(a, b)) / 2.0
        return (1.0 + cosine(a, b)) / 2.0

    def _find(self, collection: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        options = payload.get("options") or {}
        sort = payload.get("sort") or {}
        found = self._matching(collection, payload.get("filter"))
        status: dict[str, Any] = {}
        next_page = None
        if "$vector" in sort or "$vectorize" in sort:
            vector_options = self._vector_options(collection)
            if not vector_options:
                return {"errors": [_error("VECTOR_SEARCH_NOT_SUPPORTED", "Vector search is not enabled for the collection", "SCHEMA")]}
            if "$vectorize" in sort:
                if not vector_options.get("service"):
                    return {"errors": [_error("VECTORIZE_FEATURE_NOT_AVAILABLE", "Unable to vectorize data, embedding service not configured for the collection")]}
                query = embed(str(sort["$vectorize"]), vector_options["dimension"])
            else:
                query = sort["$vector"]
                if not isinstance(query, list) or len(query) != vector_options["dimension"]:
                    return {"errors": [_error("VECTOR_SIZE_MISMATCH", "Length of vector parameter different from declared '$vector' dimension: "
                                              f"root cause - (expected {vector_options['dimension']} but got {len(query) if isinstance(query, list) else 0})")]}
            limit = int(options.get("limit") or MAX_VECTOR_LIMIT)
            if limit > MAX_VECTOR_LIMIT:
                return {"errors": [_error("COMMAND_FIELD_INVALID", f"Request invalid: 'limit' must be at most {MAX_VECTOR_LIMIT} with a vector sort", "REQUEST")]}
            metric = vector_options.get("metric", "cosine")
            scored = [(self._similarity(metric, query, d["$vector"]), d) for d in found if "$vector" in d]
            scored.sort(key=lambda pair: pair[0], reverse=True)
            found = []
            for score, document in scored[:limit]:
                document = dict(document)
                if options.get("includeSimilarity"):
                    document["$similarity"] = score
                found.append(document)
            if options.get("includeSortVector"):
                status["sortVector"] = query
        else:
            if options.get("skip") and not sort:
                return {"errors": [_error("INVALID_REQUEST", "Request invalid: 'skip' needs a 'sort'", "REQUEST")]}
            for key, direction in reversed(list(sort.items())):  # a field sort, last key first
                present = [d for d in found if get_path(d, key) is not MISSING]
                absent = [d for d in found if get_path(d, key) is MISSING]
                found = sorted(present, key=lambda d: (str(type(get_path(d, key))), get_path(d, key)), reverse=direction == -1) + absent
            found = found[int(options.get("skip") or 0):]
            if options.get("limit"):  # the limit caps the whole result; it comes a page of 20 at a time
                found = found[:int(options["limit"])]
            start = int(options.get("pageState") or 0)
            next_page = str(start + DEFAULT_PAGE) if start + DEFAULT_PAGE < len(found) else None
            found = found[start:start + DEFAULT_PAGE]
        documents = [project(d, payload.get("projection")) for d in found]
        answer: dict[str, Any] = {"data": {"documents": documents, "nextPageState": next_page}}
        if status:
            answer["status"] = status
        return answer

    def _find_and_rerank(self, collection: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        """Hybrid search: the best `hybridLimits` (50) by vector and by lexical match, merged,
        then ordered by the reranker (the share of the query's words the document holds)."""
        options = collection["options"] or {}
        vector_options = self._vector_options(collection) or {}
        if not (vector_options.get("service") and (options.get("lexical") or {}).get("enabled") and (options.get("rerank") or {}).get("enabled")):
            return {"errors": [_error("HYBRID_FIELD_CONFLICT" if not vector_options.get("service") else "RERANKING_FEATURE_NOT_ENABLED",
                                      "findAndRerank needs vectorize, lexical and rerank enabled on the collection", "SCHEMA")]}
        sort = (payload.get("sort") or {}).get("$hybrid")
        if isinstance(sort, str):
            sort = {"$vectorize": sort, "$lexical": sort}
        if not isinstance(sort, dict) or not sort.get("$vectorize"):
            return {"errors": [_error("INVALID_SORT_CLAUSE", "findAndRerank needs a '$hybrid' sort", "REQUEST")]}
        found = self._matching(collection, payload.get("filter"))
        query = embed(str(sort["$vectorize"]), vector_options["dimension"])
        by_vector = sorted((d for d in found if "$vector" in d), key=lambda d: -self._similarity(vector_options.get("metric", "cosine"), query, d["$vector"]))
        lexical_words = set(_words(str(sort.get("$lexical") or "")))
        by_lexical = sorted((d for d in found if lexical_words & set(_words(str(d.get("$lexical", ""))))),
                            key=lambda d: -len(lexical_words & set(_words(str(d.get("$lexical", ""))))))
        options_in = payload.get("options") or {}
        candidates = {d["_id"]: d for d in [*by_vector[:50], *by_lexical[:50]]}
        rerank_words = set(_words(str(options_in.get("rerankQuery") or sort["$vectorize"])))
        scored = []
        for document in candidates.values():
            words = set(_words(str(document.get("$vectorize", ""))))
            rerank = len(rerank_words & words) / (len(rerank_words) or 1)
            scored.append((rerank, self._similarity(vector_options.get("metric", "cosine"), query, document["$vector"]), document))
        scored.sort(key=lambda t: (t[0], t[1]), reverse=True)
        scored = scored[: int(options_in.get("limit") or 10)]
        documents = [project(d, payload.get("projection")) for _, _, d in scored]
        answer: dict[str, Any] = {"data": {"documents": documents}}
        if options_in.get("includeScores"):
            answer["status"] = {"documentResponses": [{"scores": {"$rerank": r, "$vector": v}} for r, v, _ in scored]}
        return answer

    def _find_one(self, collection: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        answer = self._find(collection, {**payload, "options": {**(payload.get("options") or {}), "limit": 1}})
        if "errors" in answer:
            return answer
        documents = answer["data"]["documents"]
        return {"data": {"document": documents[0] if documents else None}}

    def _count(self, collection: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        count = len(self._matching(collection, payload.get("filter")))
        return {"status": {"count": 1000, "moreData": True}} if count > 1000 else {"status": {"count": count}}

    def _update_one(self, collection: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        return self._update(collection, payload, many=False)

    def _update_many(self, collection: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        return self._update(collection, payload, many=True)

    def _update(self, collection: dict[str, Any], payload: dict[str, Any], *, many: bool) -> dict[str, Any]:
        update = payload.get("update") or {}
        unknown = [k for k in update if k not in ("$set", "$unset", "$inc", "$push", "$setOnInsert")]
        if not update or unknown:
            return {"errors": [_error("UNSUPPORTED_UPDATE_OPERATION", f"Unsupported update operator(s): {unknown or 'none given'}", "DOCUMENT")]}
        found = self._matching(collection, payload.get("filter"))
        if not many:
            found = found[:1]
        modified = 0
        for document in found:
            before = dict(document)
            _apply_update(document, update, inserting=False)
            modified += document != before
        status: dict[str, Any] = {"matchedCount": len(found), "modifiedCount": modified}
        if not found and (payload.get("options") or {}).get("upsert"):
            seed = {k: v for k, v in (payload.get("filter") or {}).items() if not k.startswith("$") and not isinstance(v, dict)}
            document = {"_id": str(uuid.uuid4()), **seed}
            _apply_update(document, update, inserting=True)
            collection["documents"][document["_id"]] = document
            status["upsertedId"] = document["_id"]
        return {"status": status}

    def _delete_many(self, collection: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        doomed = [d["_id"] for d in self._matching(collection, payload.get("filter"))]
        for doc_id in doomed:
            del collection["documents"][doc_id]
        return {"status": {"deletedCount": len(doomed)}}

    def _delete_one(self, collection: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        doomed = self._matching(collection, payload.get("filter"))[:1]
        for document in doomed:
            del collection["documents"][document["_id"]]
        return {"status": {"deletedCount": len(doomed)}}


# ---- the filter language and projections -------------------------------------------------------


def _apply_update(document: dict[str, Any], update: dict[str, Any], *, inserting: bool) -> None:
    for key, value in (update.get("$set") or {}).items():
        document[key] = value
    if inserting:
        for key, value in (update.get("$setOnInsert") or {}).items():
            document[key] = value
    for key in update.get("$unset") or {}:
        document.pop(key, None)
    for key, value in (update.get("$inc") or {}).items():
        document[key] = (document.get(key) or 0) + value
    for key, value in (update.get("$push") or {}).items():
        document[key] = [*(document.get(key) or []), value]


def _words(text: str) -> list[str]:
    import re

    return re.findall(r"\w+", text.lower())



def matches(document: dict[str, Any], where: dict[str, Any]) -> bool:
    for key, condition in where.items():
        if key == "$and":
            if not all(matches(document, part) for part in condition):
                return False
        elif key == "$or":
            if not any(matches(document, part) for part in condition):
                return False
        elif key == "$not":
            if matches(document, condition):
                return False
        elif not _field_matches(get_path(document, key), condition):
            return False
    return True


def _equal(actual: Any, wanted: Any) -> bool:
    if actual is MISSING:
        return False
    if isinstance(actual, list) and not isinstance(wanted, list):
        return any(_same(item, wanted) for item in actual)
    return _same(actual, wanted)


def _same(a: Any, b: Any) -> bool:
    """The Data API compares typed values: 2026 is not "2026", true is not 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, str) != isinstance(b, str):
        return False
    return a == b


def _date(value: Any) -> Any:
    """An EJSON date (`{"$date": <ms>}`) compares as its milliseconds."""
    return value["$date"] if isinstance(value, dict) and set(value) == {"$date"} else value


def _field_matches(actual: Any, condition: Any) -> bool:
    actual = _date(actual)
    if isinstance(condition, dict) and set(condition) == {"$date"}:
        condition = condition["$date"]
    if not (isinstance(condition, dict) and condition and all(k.startswith("$") for k in condition)):
        return _equal(actual, condition)
    for op, operand in condition.items():
        if op == "$eq" and not _equal(actual, operand):
            return False
        if op == "$ne" and _equal(actual, operand):
            return False
        if op == "$in" and not any(_equal(actual, v) for v in operand):
            return False
        if op == "$nin" and any(_equal(actual, v) for v in operand):
            return False
        if op == "$exists" and (actual is not MISSING) != bool(operand):
            return False
        if op == "$all" and not (isinstance(actual, list) and all(any(_same(a, v) for a in actual) for v in operand)):
            return False
        if op == "$size" and not (isinstance(actual, list) and len(actual) == operand):
            return False
        if op in ("$gt", "$gte", "$lt", "$lte"):
            operand = _date(operand)
            if actual is MISSING or isinstance(actual, str) != isinstance(operand, str):
                return False
            ok = {"$gt": actual > operand, "$gte": actual >= operand, "$lt": actual < operand, "$lte": actual <= operand}[op]
            if not ok:
                return False
    return True


def project(document: dict[str, Any], projection: dict[str, Any] | None) -> dict[str, Any]:
    projection = projection or {}
    if projection.get("*") in (1, True):
        return dict(document)
    if projection.get("*") in (0, False):
        return {}
    included = {k for k, v in projection.items() if v in (1, True)}
    excluded = {k for k, v in projection.items() if v in (0, False)}
    special = {k for k in included if k in _HIDDEN}
    plain = included - special
    if plain:
        out = {k: document[k] for k in ("_id", *sorted(plain)) if k in document and not (k == "_id" and "_id" in excluded)}
    else:
        out = {k: v for k, v in document.items() if k not in _HIDDEN and k not in excluded}
    for key in special:
        if key in document:
            out[key] = document[key]
    if "$similarity" in document:
        out["$similarity"] = document["$similarity"]
    return out
