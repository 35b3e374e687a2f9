"""A local Weaviate (REST + GraphQL, `/v1`) on 127.0.0.1, written from Weaviate's public API
reference, for tests and conformance runs.

- `GET /v1/schema/<Class>` (200 the class, 404 with no body), `POST /v1/schema` (`class`,
  `vectorizer`, `properties: [{name, dataType}]`; 422 when the class exists or its name is not
  `^[A-Z][_0-9A-Za-z]*$`), `DELETE /v1/schema/<Class>`.
- `POST /v1/batch/objects` (`objects: [{class, id, properties, vector}]`): an upsert by id;
  answers one entry per object, a failed one carrying `result.errors.error[].message` (HTTP
  200, as Weaviate reports object-level failures). Auto-schema: a missing class or property is
  created from the values (text, number, boolean, text[] / number[]).
- `DELETE /v1/batch/objects` (`match: {class, where}`) → `results: {matches, successful, failed}`.
- `POST /v1/graphql` (`query`): `{ Get { <Class>(nearVector: {vector, distance, certainty} |
  bm25: {query, properties} | hybrid: {query, vector, alpha}, where: ..., limit: N) { <props>
  _additional { id distance certainty score vector } } } }`. `where`: `path`, `operator`
  (Equal NotEqual GreaterThan GreaterThanEqual LessThan LessThanEqual ContainsAny ContainsAll
  And Or), `valueText valueString valueInt valueNumber valueBoolean`. `distance` is the cosine
  distance, `certainty` (1 + cosine) / 2; `score` is a string, as Weaviate's GraphQL answers it:
  BM25 (k1 1.2, b 0.75), or for hybrid the relative score fusion (both result sets min-max
  scaled, `alpha` · vector + (1 − alpha) · keyword; alpha 0.75 by default). `limit` 10 by default.
  Failures come back as `{"data": {"Get": {<Class>: null}}, "errors": [{"message", "locations",
  "path"}]}` with HTTP 200; an unknown class is a validation error (`data: null`).
- `Authorization: Bearer <key>` checked when the server has keys: 401 `{"code": 401, "message"}`.
  Other errors `{"error": [{"message"}]}` (422, 404, 500).
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections import Counter
from typing import Any

from tests.support.json_server import JsonServer, Request, cosine

CLASS_NAME = re.compile(r"^[A-Z][_0-9A-Za-z]*$")
PROPERTY_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]*$")
DEFAULT_LIMIT = 10
_WORD = re.compile(r"\w+", re.UNICODE)


def _error(status: int, message: str) -> tuple[int, Any]:
    return status, {"error": [{"message": message}]}


class GraphQLError(Exception):
    pass


class WeaviateServer(JsonServer):
    def __init__(self, api_keys: tuple[str, ...] = ()) -> None:
        self.api_keys = set(api_keys)
        self.classes: dict[str, dict[str, Any]] = {}  # name → {"schema": {...}, "objects": {id: {...}}}
        super().__init__()

    def objects(self, name: str) -> list[dict[str, Any]]:
        return list(self.classes.get(name, {}).get("objects", {}).values())

    def error_body(self, status: int, message: str) -> Any:
        return _error(status, message)[1]

    # ---- routes -------------------------------------------------------------------------

    def handle(self, request: Request) -> tuple[int, Any]:
        if self.api_keys:
            header = request.headers.get("authorization", "")
            if not header.startswith("Bearer "):
                return 401, {"code": 401, "message": "anonymous access not enabled, please provide an auth scheme such as OIDC"}
            if header[len("Bearer "):] not in self.api_keys:
                return 401, {"code": 401, "message": "unauthorized: invalid api key"}
        parts = [p for p in request.path.split("/") if p]
        if parts[:1] != ["v1"]:
            return _error(404, f"no route {request.path}")
        route = parts[1:]
        body = request.body if isinstance(request.body, dict) else {}
        if route == ["schema"] and request.method == "POST":
            return self._create_class(body)
        if len(route) == 2 and route[0] == "schema":
            found = self.classes.get(route[1])
            if request.method == "GET":
                return (200, found["schema"]) if found else (404, None)
            if request.method == "DELETE":
                self.classes.pop(route[1], None)
                return 200, None
        if route == ["batch", "objects"] and request.method == "POST":
            return 200, [self._put_object(o) for o in body.get("objects") or []]
        if route == ["batch", "objects"] and request.method == "DELETE":
            return self._delete_batch(body)
        if route == ["graphql"] and request.method == "POST":
            return 200, self._graphql(str(body.get("query") or ""))
        return _error(404, f"no route {request.method} {request.path}")

    def _create_class(self, body: dict[str, Any]) -> tuple[int, Any]:
        name = str(body.get("class") or "")
        if not CLASS_NAME.match(name):
            return _error(422, f"'{name}' is not a valid class name")
        if name in self.classes:
            return _error(422, f"class name \"{name}\" already exists")
        for prop in body.get("properties") or []:
            if not PROPERTY_NAME.match(str(prop.get("name") or "")):
                return _error(422, f"'{prop.get('name')}' is not a valid property name")
        schema = {"class": name, "vectorizer": body.get("vectorizer") or "none", "properties": list(body.get("properties") or []),
                  "vectorIndexConfig": {"distance": "cosine"}}
        self.classes[name] = {"schema": schema, "objects": {}}
        return 200, schema

    def _put_object(self, obj: dict[str, Any]) -> dict[str, Any]:
        def failed(message: str) -> dict[str, Any]:
            return {**obj, "result": {"errors": {"error": [{"message": message}]}}}

        name = str(obj.get("class") or "")
        if not CLASS_NAME.match(name):
            return failed(f"invalid class name '{name}'")
        try:
            object_id = str(uuid.UUID(str(obj.get("id") or uuid.uuid4())))
        except ValueError:
            return failed(f"invalid UUID '{obj.get('id')}'")
        properties = obj.get("properties") or {}
        for key in properties:
            if not PROPERTY_NAME.match(str(key)):
                return failed(f"'{key}' is not a valid property name - property names may only contain letters, numbers and underscores")
        if name not in self.classes:  # auto-schema
            self._create_class({"class": name})
        target = self.classes[name]
        vector = obj.get("vector")
        if not isinstance(vector, list) or not vector:
            return failed("no vector given and the class has no vectorizer (vectorizer: none)")
        existing = next(iter(target["objects"].values()), None)
        if existing is not None and len(existing["vector"]) != len(vector):
            return failed(f"new node has a vector with length {len(vector)}. Existing nodes have vectors with length {len(existing['vector'])}")
        known = {p["name"] for p in target["schema"]["properties"]}
        for key, value in properties.items():
            if key not in known:
                target["schema"]["properties"].append({"name": key, "dataType": [_data_type(value)]})
        target["objects"][object_id] = {"class": name, "id": object_id, "properties": dict(properties), "vector": list(vector)}
        return {**obj, "id": object_id, "result": {}}

    def _delete_batch(self, body: dict[str, Any]) -> tuple[int, Any]:
        match = body.get("match") or {}
        target = self.classes.get(str(match.get("class") or ""))
        if target is None:
            return _error(422, f"class '{match.get('class')}' not found in schema")
        doomed = [i for i, o in target["objects"].items() if _where(o, match.get("where"))]
        if not body.get("dryRun"):
            for object_id in doomed:
                del target["objects"][object_id]
        return 200, {"match": match, "output": body.get("output") or "minimal", "dryRun": bool(body.get("dryRun")),
                     "results": {"matches": len(doomed), "limit": 10000, "successful": len(doomed), "failed": 0}}

    # ---- GraphQL --------------------------------------------------------------------------

    def _graphql(self, query: str) -> dict[str, Any]:
        try:
            document = _Parser(query).document()
        except GraphQLError as exc:
            return {"data": None, "errors": [{"message": f"Syntax Error GraphQL request: {exc}", "locations": [{"line": 1, "column": 1}]}]}
        get = next((f for f in document if f["name"] == "Get"), None)
        if get is None or not get["selections"]:
            return {"data": None, "errors": [{"message": "only Get queries are served", "locations": [{"line": 1, "column": 1}]}]}
        data: dict[str, Any] = {}
        errors = []
        for field in get["selections"]:
            name = field["name"]
            if name not in self.classes:
                return {"data": None, "errors": [{"message": f"Cannot query field \"{name}\" on type \"GetObjectsObj\".",
                                                  "locations": [{"line": 1, "column": 1}]}]}
            try:
                data[name] = self._get(name, field)
            except GraphQLError as exc:
                data[name] = None
                errors.append({"message": str(exc), "locations": [{"line": 1, "column": 1}], "path": ["Get", name]})
        answer: dict[str, Any] = {"data": {"Get": data}}
        if errors:
            answer["errors"] = errors
        return answer

    def _get(self, name: str, field: dict[str, Any]) -> list[dict[str, Any]]:
        target = self.classes[name]
        args = field["args"]
        limit = int(args.get("limit", DEFAULT_LIMIT))
        searches = [k for k in ("nearVector", "bm25", "hybrid") if k in args]
        if len(searches) > 1:
            raise GraphQLError(f"cannot combine {' and '.join(searches)} in one query")
        candidates = [o for o in target["objects"].values() if _where(o, args.get("where"))]
        text_props = [p["name"] for p in target["schema"]["properties"] if p.get("dataType") in (["text"], ["text[]"], ["string"])]
        scored: list[tuple[dict[str, Any], dict[str, Any]]] = []
        if "nearVector" in args:
            vector = args["nearVector"].get("vector") or []
            self._check_dimension(target, vector)
            for obj in candidates:
                distance = 1.0 - cosine(vector, obj["vector"])
                scored.append((obj, {"distance": distance, "certainty": (2.0 - distance) / 2.0}))
            scored.sort(key=lambda pair: pair[1]["distance"])
            if "distance" in args["nearVector"]:
                scored = [p for p in scored if p[1]["distance"] <= float(args["nearVector"]["distance"])]
            if "certainty" in args["nearVector"]:
                scored = [p for p in scored if p[1]["certainty"] >= float(args["nearVector"]["certainty"])]
        elif "bm25" in args:
            props = args["bm25"].get("properties") or text_props
            scores = _bm25(str(args["bm25"].get("query") or ""), [_text_of(o, props) for o in candidates])
            scored = sorted(((o, {"score": s}) for o, s in zip(candidates, scores) if s > 0), key=lambda p: -p[1]["score"])
        elif "hybrid" in args:
            hybrid = args["hybrid"]
            vector = hybrid.get("vector")
            if not vector:
                raise GraphQLError("explorer: get class: vector search: hybrid: no vector given and the class has no vectorizer")
            self._check_dimension(target, vector)
            alpha = float(hybrid.get("alpha", 0.75))
            keyword = _bm25(str(hybrid.get("query") or ""), [_text_of(o, text_props) for o in candidates])
            similarity = [cosine(vector, o["vector"]) for o in candidates]
            fused = [alpha * v + (1 - alpha) * k for v, k in zip(_scaled(similarity), _scaled(keyword))]
            scored = sorted(((o, {"score": s}) for o, s in zip(candidates, fused)), key=lambda p: -p[1]["score"])
        else:
            scored = [(o, {}) for o in candidates]
        return [self._project(obj, extra, field["selections"]) for obj, extra in scored[:limit]]

    @staticmethod
    def _check_dimension(target: dict[str, Any], vector: list[float]) -> None:
        existing = next(iter(target["objects"].values()), None)
        if existing is not None and len(existing["vector"]) != len(vector):
            raise GraphQLError(f"explorer: get class: vector search: object vector search at index {target['schema']['class'].lower()}: "
                               f"shard: vector search: knn search: distance between entrypoint and query node: "
                               f"vector lengths don't match: {len(vector)} vs {len(existing['vector'])}")

    @staticmethod
    def _project(obj: dict[str, Any], extra: dict[str, Any], selections: list[dict[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for selection in selections:
            name = selection["name"]
            if name == "_additional":
                additional: dict[str, Any] = {}
                for wanted in selection["selections"]:
                    key = wanted["name"]
                    if key == "id":
                        additional["id"] = obj["id"]
                    elif key == "vector":
                        additional["vector"] = obj["vector"]
                    elif key in ("distance", "certainty"):
                        additional[key] = extra.get(key)
                    elif key == "score":
                        additional["score"] = str(extra["score"]) if "score" in extra else None
                    else:
                        additional[key] = None
                out["_additional"] = additional
            else:
                out[name] = obj["properties"].get(name)
        return out


def _data_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, list):
        return "number[]" if value and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value) else "text[]"
    return "text"


def _text_of(obj: dict[str, Any], props: list[str]) -> str:
    parts = []
    for prop in props:
        value = obj["properties"].get(prop)
        parts.extend(value if isinstance(value, list) else [value] if value is not None else [])
    return " ".join(str(p) for p in parts)


def _bm25(query: str, documents: list[str], k1: float = 1.2, b: float = 0.75) -> list[float]:
    terms = {w.lower() for w in _WORD.findall(query)}
    tokenised = [[w.lower() for w in _WORD.findall(d)] for d in documents]
    if not terms or not tokenised:
        return [0.0] * len(documents)
    average = sum(len(t) for t in tokenised) / len(tokenised) or 1.0
    frequency = Counter(w for t in tokenised for w in set(t) if w in terms)
    scores = []
    for words in tokenised:
        counts = Counter(words)
        score = 0.0
        for term in terms:
            tf = counts.get(term, 0)
            if tf:
                idf = math.log(1 + (len(tokenised) - frequency[term] + 0.5) / (frequency[term] + 0.5))
                score += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(words) / average))
        scores.append(score)
    return scores


def _scaled(values: list[float]) -> list[float]:
    if not values:
        return []
    low, high = min(values), max(values)
    return [(v - low) / (high - low) if high > low else (1.0 if high > 0 else 0.0) for v in values]


_OPERATORS = {"Equal", "NotEqual", "GreaterThan", "GreaterThanEqual", "LessThan", "LessThanEqual", "ContainsAny", "ContainsAll", "And", "Or",
              "Like", "IsNull"}


def _where(obj: dict[str, Any], where: Any) -> bool:
    if not where:
        return True
    operator = where.get("operator")
    if operator not in _OPERATORS:
        raise GraphQLError(f"invalid where filter: unknown operator '{operator}'")
    if operator in ("And", "Or"):
        results = [_where(obj, operand) for operand in where.get("operands") or []]
        return all(results) if operator == "And" else any(results)
    path = where.get("path") or []
    key = path[0] if path else ""
    actual = obj["id"] if key == "id" else obj["properties"].get(key)
    value_key = next((k for k in where if k.startswith("value")), None)
    if value_key is None:
        raise GraphQLError("invalid where filter: no value (valueText, valueNumber, ...) given")
    wanted = where[value_key]
    if operator == "IsNull":
        return (actual is None) == bool(wanted)
    if actual is None:
        return False
    if operator in ("ContainsAny", "ContainsAll"):
        wanted_list = wanted if isinstance(wanted, list) else [wanted]
        held = actual if isinstance(actual, list) else [actual]
        found = [w in held for w in wanted_list]
        return any(found) if operator == "ContainsAny" else all(found)
    if isinstance(actual, list):
        return operator == "Equal" and wanted in actual
    if operator == "Equal":
        return actual == wanted
    if operator == "NotEqual":
        return actual != wanted
    if operator == "Like":
        return re.fullmatch(re.escape(str(wanted)).replace(r"\*", ".*").replace(r"\?", "."), str(actual)) is not None
    try:
        return {"GreaterThan": actual > wanted, "GreaterThanEqual": actual >= wanted, "LessThan": actual < wanted,
                "LessThanEqual": actual <= wanted}[operator]
    except TypeError:
        return False


# ---- a GraphQL subset: selection sets with arguments (objects, lists, strings, numbers, enums) ----

_TOKEN = re.compile(r'\s+|#[^\n]*|(?P<punct>[{}()\[\]:,])|(?P<string>"(?:[^"\\]|\\.)*")|(?P<number>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)'
                    r"|(?P<name>[_A-Za-z][_0-9A-Za-z]*)")


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, str]] = []
        position = 0
        while position < len(text):
            match = _TOKEN.match(text, position)
            if match is None:
                raise GraphQLError(f"Unexpected character {text[position]!r} at {position}")
            position = match.end()
            kind = match.lastgroup
            if kind:
                self.tokens.append((kind, match.group(kind)))
        self.at = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (value is not None and token[1] != value):
            raise GraphQLError(f"Expected {value or 'a token'}, found {token[1] if token else '<EOF>'}")
        self.at += 1
        return token

    def document(self) -> list[dict[str, Any]]:
        token = self.peek()
        if token and token[1] in ("query", "{"):
            if token[1] == "query":
                self.take()
                if self.peek() and self.peek()[0] == "name":
                    self.take()
        selections = self.selection_set()
        if self.peek() is not None:
            raise GraphQLError(f"Unexpected {self.peek()[1]}")
        return selections

    def selection_set(self) -> list[dict[str, Any]]:
        self.take("{")
        selections = []
        while self.peek() and self.peek()[1] != "}":
            kind, name = self.take()
            if kind != "name":
                raise GraphQLError(f"Expected Name, found {name}")
            args: dict[str, Any] = {}
            if self.peek() and self.peek()[1] == "(":
                self.take("(")
                while self.peek() and self.peek()[1] != ")":
                    key = self.take()[1]
                    self.take(":")
                    args[key] = self.value()
                    if self.peek() and self.peek()[1] == ",":
                        self.take(",")
                self.take(")")
            children = self.selection_set() if self.peek() and self.peek()[1] == "{" else []
            selections.append({"name": name, "args": args, "selections": children})
            if self.peek() and self.peek()[1] == ",":
                self.take(",")
        self.take("}")
        return selections

    def value(self) -> Any:
        kind, text = self.take()
        if text == "{":
            out: dict[str, Any] = {}
            while self.peek() and self.peek()[1] != "}":
                key = self.take()[1]
                self.take(":")
                out[key] = self.value()
                if self.peek() and self.peek()[1] == ",":
                    self.take(",")
            self.take("}")
            return out
        if text == "[":
            items = []
            while self.peek() and self.peek()[1] != "]":
                items.append(self.value())
                if self.peek() and self.peek()[1] == ",":
                    self.take(",")
            self.take("]")
            return items
        if kind == "string":
            return json.loads(text)
        if kind == "number":
            return float(text) if any(c in text for c in ".eE") else int(text)
        if kind == "name":
            return {"true": True, "false": False, "null": None}.get(text, text)  # enums stay names
        raise GraphQLError(f"Unexpected {text}")
