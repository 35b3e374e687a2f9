"""A local MongoDB (Atlas) server on 127.0.0.1 speaking the wire protocol, for tests: written from
MongoDB's public documentation (wire protocol: OP_MSG, and OP_QUERY/OP_REPLY for the first
handshake; the database commands; Atlas Vector Search's `$vectorSearch` stage and search index
commands; SCRAM-SHA-256 authentication). BSON through pymongo's `bson`.

Commands: hello/isMaster, ping, buildInfo, endSessions, saslStart/saslContinue, insert, find,
delete, aggregate (`$vectorSearch`, `$listSearchIndexes`, `$match`, `$project`, `$set`/`$addFields`,
`$limit`), createSearchIndexes, dropDatabase. A failed command answers MongoDB's error shape
`{ok: 0, errmsg, code, codeName}`.

`$vectorSearch` ranks the documents of the collection by the index's `similarity` (cosine,
euclidean, dotProduct) and reports Atlas's normalised score (`{$meta: "vectorSearchScore"}`):
cosine and dotProduct `(1 + x) / 2`, euclidean `1 / (1 + distance)`. It takes the `numCandidates`
nearest, keeps those passing `filter` (fields the index declares as `filter`), returns `limit`.
A missing index gives no results (as Atlas does).

`MongoServer(users={"name": "password"})` requires authentication; `.uri` is the connection
string; `.requests` lists every command received; `.data[db][collection]` the documents;
`.search_indexes[(db, collection)]` the search indexes (createSearchIndexes needs the collection
to exist, as on Atlas); `fail_next(n, code)` makes the next n
data commands fail with that error code. No TLS: a TLS handshake is recorded and the connection closed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import os
import socket
import socketserver
import struct
import threading
from typing import Any

import bson
from bson import ObjectId

OP_REPLY, OP_QUERY, OP_MSG = 1, 2004, 2013
ITERATIONS = 4096
CODE_NAMES = {2: "BadValue", 8: "UnknownError", 11000: "DuplicateKey", 13: "Unauthorized", 18: "AuthenticationFailed",
              26: "NamespaceNotFound", 59: "CommandNotFound", 68: "IndexAlreadyExists", 91: "ShutdownInProgress"}


class CommandError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def error(code: int, message: str) -> dict[str, Any]:
    return {"ok": 0.0, "errmsg": message, "code": code, "codeName": CODE_NAMES.get(code, "UnknownError")}


# ---- query language (the part the tests use) ----------------------------------------------------


def _get(document: dict[str, Any], path: str) -> Any:
    value: Any = document
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


class _Missing:
    pass


_MISSING = _Missing()


def _compare(value: Any, op: str, operand: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    if op == "$eq":
        return operand in values or value == operand
    if op == "$ne":
        return not _compare(value, "$eq", operand)
    if op == "$in":
        return any(_compare(value, "$eq", o) for o in operand)
    if op == "$nin":
        return not _compare(value, "$in", operand)
    if op == "$exists":
        return (value is not _MISSING) == bool(operand)
    try:
        return any({"$gt": v > operand, "$gte": v >= operand, "$lt": v < operand, "$lte": v <= operand}[op]
                   for v in values if v is not _MISSING)
    except TypeError:
        return False
    except KeyError as exc:
        raise CommandError(2, f"unknown operator: {op}") from exc


def matches(document: dict[str, Any], query: dict[str, Any]) -> bool:
    for key, condition in query.items():
        if key == "$and":
            if not all(matches(document, q) for q in condition):
                return False
        elif key == "$or":
            if not any(matches(document, q) for q in condition):
                return False
        elif key == "$nor":
            if any(matches(document, q) for q in condition):
                return False
        elif isinstance(condition, dict) and condition and all(k.startswith("$") for k in condition):
            value = _get(document, key)
            if not all(_compare(value, op, operand) for op, operand in condition.items()):
                return False
        elif not _compare(_get(document, key), "$eq", condition):
            return False
    return True


def _filter_paths(query: dict[str, Any]) -> set[str]:
    paths: set[str] = set()
    for key, condition in query.items():
        if key in ("$and", "$or", "$nor"):
            for part in condition:
                paths |= _filter_paths(part)
        else:
            paths.add(key)
    return paths


def project(document: dict[str, Any], projection: dict[str, Any] | None, meta: dict[str, Any]) -> dict[str, Any]:
    if not projection:
        return dict(document)
    computed = {k: v for k, v in projection.items() if isinstance(v, dict)}
    flags = {k: v for k, v in projection.items() if not isinstance(v, dict)}
    including = any(v for k, v in flags.items() if k != "_id")
    if including:
        out = {k: document[k] for k, v in flags.items() if v and k in document}
        if flags.get("_id", 1) and "_id" in document:
            out = {"_id": document["_id"], **out}
    else:
        out = {k: v for k, v in document.items() if flags.get(k, 1)}
    for key, expression in computed.items():
        out[key] = _evaluate(document, expression, meta)
    return out


def _evaluate(document: dict[str, Any], expression: Any, meta: dict[str, Any]) -> Any:
    if isinstance(expression, dict) and "$meta" in expression:
        if expression["$meta"] not in meta:
            raise CommandError(2, f"query requires {expression['$meta']} metadata, but it is not available")
        return meta[expression["$meta"]]
    if isinstance(expression, str) and expression.startswith("$"):
        value = _get(document, expression[1:])
        return None if value is _MISSING else value
    return expression


# ---- vector search ------------------------------------------------------------------------------


def score(similarity: str, a: list[float], b: list[float]) -> float:
    if similarity == "euclidean":
        return 1.0 / (1.0 + math.sqrt(sum((x - y) ** 2 for x, y in zip(a, b))))
    dot = sum(x * y for x, y in zip(a, b))
    if similarity == "dotProduct":
        return (1.0 + dot) / 2.0
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return (1.0 + (dot / norm if norm else 0.0)) / 2.0


# ---- SCRAM-SHA-256 (RFC 5802 / 7677, as MongoDB uses it) ------------------------------------------


def _scram_fields(payload: bytes) -> dict[str, str]:
    return dict(part.split("=", 1) for part in payload.decode().split(",") if "=" in part)


class _Scram:
    def __init__(self, users: dict[str, str]) -> None:
        self.users = users
        self.salts = {user: os.urandom(16) for user in users}

    def start(self, payload: bytes) -> tuple[dict[str, Any], bytes]:
        bare = payload.decode().split(",", 2)[2]  # gs2 header "n,," then the client-first-message-bare
        fields = _scram_fields(bare.encode())
        user = fields["n"].replace("=2C", ",").replace("=3D", "=")
        nonce = fields["r"] + base64.b64encode(os.urandom(18)).decode()
        salt = self.salts.get(user, os.urandom(16))
        first = f"r={nonce},s={base64.b64encode(salt).decode()},i={ITERATIONS}"
        return {"user": user, "bare": bare, "first": first, "nonce": nonce, "salt": salt}, first.encode()

    def finish(self, state: dict[str, Any], payload: bytes) -> bytes | None:
        fields = _scram_fields(payload)
        password = self.users.get(state["user"])
        if password is None or fields.get("r") != state["nonce"]:
            return None
        final_without_proof = payload.decode().rsplit(",p=", 1)[0]
        auth_message = f"{state['bare']},{state['first']},{final_without_proof}".encode()
        salted = hashlib.pbkdf2_hmac("sha256", password.encode(), state["salt"], ITERATIONS)
        client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
        stored_key = hashlib.sha256(client_key).digest()
        signature = hmac.new(stored_key, auth_message, hashlib.sha256).digest()
        proof = base64.b64decode(fields.get("p", ""))
        if len(proof) != len(signature):
            return None
        recovered = bytes(x ^ y for x, y in zip(proof, signature))
        if hashlib.sha256(recovered).digest() != stored_key:
            return None
        server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
        return b"v=" + base64.b64encode(hmac.new(server_key, auth_message, hashlib.sha256).digest())


# ---- the server ---------------------------------------------------------------------------------


class _Handler(socketserver.BaseRequestHandler):
    server: "_TCPServer"

    def handle(self) -> None:
        state: dict[str, Any] = {"authenticated": not self.server.owner.users}
        sock = self.request
        try:
            first = sock.recv(1, socket.MSG_PEEK)
        except OSError:
            return
        if first == b"\x16":  # a TLS ClientHello: this server speaks plain TCP only; recorded, then closed
            self.server.owner.requests.append({"command": "<TLS handshake>", "db": "", "body": {}})
            return
        while True:
            header = _read(sock, 16)
            if header is None:
                return
            length, request_id, _, opcode = struct.unpack("<iiii", header)
            body = _read(sock, length - 16)
            if body is None:
                return
            if opcode == OP_QUERY:
                command, db = self._parse_query(body)
                reply = self.server.owner.dispatch(command, db, state)
                doc = bson.encode(reply)
                payload = struct.pack("<iqii", 0, 0, 0, 1) + doc
                sock.sendall(struct.pack("<iiii", 16 + len(payload), 0, request_id, OP_REPLY) + payload)
            elif opcode == OP_MSG:
                command = self._parse_msg(body)
                reply = self.server.owner.dispatch(command, command.get("$db", "admin"), state)
                payload = struct.pack("<I", 0) + b"\x00" + bson.encode(reply)
                sock.sendall(struct.pack("<iiii", 16 + len(payload), 0, request_id, OP_MSG) + payload)
            else:
                return

    @staticmethod
    def _parse_query(body: bytes) -> tuple[dict[str, Any], str]:
        end = body.index(b"\x00", 4)
        namespace = body[4:end].decode()
        document = bson.decode(body[end + 9:end + 9 + struct.unpack("<i", body[end + 9:end + 13])[0]])
        return document, namespace.split(".", 1)[0]

    @staticmethod
    def _parse_msg(body: bytes) -> dict[str, Any]:
        (flags,) = struct.unpack("<I", body[:4])
        end = len(body) - (4 if flags & 1 else 0)
        position, command = 4, {}
        while position < end:
            kind = body[position]
            position += 1
            (size,) = struct.unpack("<i", body[position:position + 4])
            if kind == 0:
                command.update(bson.decode(body[position:position + size]))
            else:
                stop = body.index(b"\x00", position + 4)
                identifier = body[position + 4:stop].decode()
                documents, cursor = [], stop + 1
                while cursor < position + size:
                    (doc_size,) = struct.unpack("<i", body[cursor:cursor + 4])
                    documents.append(bson.decode(body[cursor:cursor + doc_size]))
                    cursor += doc_size
                command[identifier] = documents
            position += size
        return command


def _read(sock: socket.socket, size: int) -> bytes | None:
    chunks, remaining = [], size
    while remaining:
        try:
            chunk = sock.recv(remaining)
        except OSError:
            return None
        if not chunk:
            return None
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


class _TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: "MongoServer"


class MongoServer:
    def __init__(self, users: dict[str, str] | None = None, version: str = "7.0.14") -> None:
        self.users = dict(users or {})
        self.version = version
        self.data: dict[str, dict[str, list[dict[str, Any]]]] = {}
        self.search_indexes: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.requests: list[dict[str, Any]] = []
        self._failures: list[int] = []
        self._scram = _Scram(self.users)
        self._lock = threading.Lock()
        self._server: _TCPServer | None = None
        self.host, self.port = "127.0.0.1", 0

    # ---- lifecycle ----

    def __enter__(self) -> "MongoServer":
        self._server = _TCPServer(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base_url(self) -> str:
        return f"mongodb://{self.host}:{self.port}"

    def uri(self, user: str = "", password: str = "") -> str:
        from urllib.parse import quote_plus

        credentials = f"{quote_plus(user)}:{quote_plus(password)}@" if user else ""
        return f"mongodb://{credentials}{self.host}:{self.port}/?serverSelectionTimeoutMS=3000"

    def fail_next(self, count: int, code: int = 91) -> None:
        self._failures.extend([code] * count)

    def documents(self, db: str, collection: str) -> list[dict[str, Any]]:
        return self.data.get(db, {}).get(collection, [])

    # ---- commands ----

    def dispatch(self, command: dict[str, Any], db: str, state: dict[str, Any]) -> dict[str, Any]:
        name = next(iter(command), "")
        with self._lock:
            self.requests.append({"command": name, "db": db, "body": command})
        handshake = name.lower() in ("hello", "ismaster") or name in ("ping", "buildInfo", "buildinfo", "endSessions", "saslStart",
                                                                      "saslContinue")
        if not state["authenticated"] and not handshake:
            return error(13, f"Command {name} requires authentication")
        if not handshake and self._failures:
            with self._lock:
                code = self._failures.pop(0) if self._failures else None
            if code is not None:
                return error(code, "The server is in quiesce mode and will shut down" if code == 91 else "injected failure")
        handler = getattr(self, "cmd_" + name if name.lower() not in ("hello", "ismaster") else "cmd_hello", None)
        if handler is None:
            return error(59, f"no such command: '{name}'")
        try:
            with self._lock:
                return {**handler(command, db, state), "ok": 1.0}
        except CommandError as exc:
            return error(exc.code, str(exc))

    def cmd_hello(self, command: dict[str, Any], db: str, state: dict[str, Any]) -> dict[str, Any]:
        import datetime

        reply: dict[str, Any] = {"helloOk": True, "isWritablePrimary": True, "ismaster": True, "maxBsonObjectSize": 16 * 1024 * 1024,
                                 "maxMessageSizeBytes": 48_000_000, "maxWriteBatchSize": 100_000,
                                 "localTime": datetime.datetime.now(datetime.timezone.utc), "logicalSessionTimeoutMinutes": 30,
                                 "connectionId": 1, "minWireVersion": 0, "maxWireVersion": 21, "readOnly": False}
        if "saslSupportedMechs" in command:
            reply["saslSupportedMechs"] = ["SCRAM-SHA-256"]
        return reply

    def cmd_ping(self, command: dict[str, Any], db: str, state: dict[str, Any]) -> dict[str, Any]:
        return {}

    def cmd_buildInfo(self, command: dict[str, Any], db: str, state: dict[str, Any]) -> dict[str, Any]:
        return {"version": self.version, "versionArray": [int(p) for p in self.version.split(".")] + [0], "modules": ["enterprise"]}

    cmd_buildinfo = cmd_buildInfo

    def cmd_endSessions(self, command: dict[str, Any], db: str, state: dict[str, Any]) -> dict[str, Any]:
        return {}

    def cmd_saslStart(self, command: dict[str, Any], db: str, state: dict[str, Any]) -> dict[str, Any]:
        if command.get("mechanism") != "SCRAM-SHA-256":
            raise CommandError(2, f"Received authentication for mechanism {command.get('mechanism')} which is not enabled")
        state["scram"], payload = self._scram.start(bytes(command["payload"]))
        state["skip_empty"] = bool((command.get("options") or {}).get("skipEmptyExchange"))
        return {"conversationId": 1, "done": False, "payload": bson.Binary(payload)}

    def cmd_saslContinue(self, command: dict[str, Any], db: str, state: dict[str, Any]) -> dict[str, Any]:
        payload = bytes(command.get("payload") or b"")
        if state.get("verified"):  # the empty exchange that ends the conversation
            state["authenticated"] = True
            return {"conversationId": 1, "done": True, "payload": bson.Binary(b"")}
        if "scram" not in state:
            raise CommandError(18, "Authentication failed.")
        signature = self._scram.finish(state.pop("scram"), payload)
        if signature is None:
            raise CommandError(18, "Authentication failed.")
        if state.get("skip_empty"):
            state["authenticated"] = True
        else:
            state["verified"] = True
        return {"conversationId": 1, "done": bool(state.get("skip_empty")), "payload": bson.Binary(signature)}

    def _collection(self, db: str, name: str, create: bool = False) -> list[dict[str, Any]]:
        if create:
            return self.data.setdefault(db, {}).setdefault(name, [])
        return self.data.get(db, {}).get(name, [])

    def cmd_insert(self, command: dict[str, Any], db: str, state: dict[str, Any]) -> dict[str, Any]:
        collection = self._collection(db, command["insert"], create=True)
        ids = {str(d.get("_id")) for d in collection}
        n, errors = 0, []
        for index, document in enumerate(command.get("documents", [])):
            document = dict(document)
            document.setdefault("_id", ObjectId())
            if str(document["_id"]) in ids:
                errors.append({"index": index, "code": 11000, "errmsg": f"E11000 duplicate key error collection: {db}.{command['insert']} "
                               f"index: _id_ dup key: {{ _id: {document['_id']!r} }}"})
                if command.get("ordered", True):
                    break
                continue
            ids.add(str(document["_id"]))
            collection.append(document)
            n += 1
        return {"n": n, **({"writeErrors": errors} if errors else {})}

    def cmd_find(self, command: dict[str, Any], db: str, state: dict[str, Any]) -> dict[str, Any]:
        name = command["find"]
        found = [d for d in self._collection(db, name) if matches(d, command.get("filter") or {})]
        limit = abs(int(command.get("limit") or 0))
        if limit:
            found = found[:limit]
        batch = [project(d, command.get("projection"), {}) for d in found]
        return {"cursor": {"firstBatch": batch, "id": 0, "ns": f"{db}.{name}"}}

    def cmd_delete(self, command: dict[str, Any], db: str, state: dict[str, Any]) -> dict[str, Any]:
        collection = self._collection(db, command["delete"])
        n = 0
        for statement in command.get("deletes", []):
            doomed = [d for d in collection if matches(d, statement.get("q") or {})]
            if statement.get("limit"):
                doomed = doomed[:1]
            for document in doomed:
                collection.remove(document)
            n += len(doomed)
        return {"n": n}

    def cmd_createSearchIndexes(self, command: dict[str, Any], db: str, state: dict[str, Any]) -> dict[str, Any]:
        name = command["createSearchIndexes"]
        if name not in self.data.get(db, {}):
            raise CommandError(26, f"Collection '{db}.{name}' does not exist.")
        indexes = self.search_indexes.setdefault((db, name), [])
        created = []
        for spec in command.get("indexes", []):
            index_name = spec.get("name", "default")
            if any(i["name"] == index_name for i in indexes):
                raise CommandError(68, f"Index {index_name} already exists.")
            if spec.get("type") == "vectorSearch":
                for field in (spec.get("definition") or {}).get("fields", []):
                    if field.get("type") == "vector":
                        if not isinstance(field.get("numDimensions"), int) or not 1 <= field["numDimensions"] <= 8192:
                            raise CommandError(8, "\"fields[0].numDimensions\" must be an integer between 1 and 8192")
                        if field.get("similarity") not in ("cosine", "euclidean", "dotProduct"):
                            raise CommandError(8, "\"fields[0].similarity\" must be one of [cosine, euclidean, dotProduct]")
                        if field.get("quantization") not in (None, "none", "scalar", "binary"):
                            raise CommandError(8, "\"fields[0].quantization\" must be one of [none, scalar, binary]")
            index = {"id": str(ObjectId()), "name": index_name, "type": spec.get("type", "search"), "status": "READY", "queryable": True,
                     "latestDefinition": spec.get("definition") or {}}
            indexes.append(index)
            created.append({"id": index["id"], "name": index_name})
        return {"indexesCreated": created}

    def cmd_dropDatabase(self, command: dict[str, Any], db: str, state: dict[str, Any]) -> dict[str, Any]:
        self.data.pop(db, None)
        return {}

    def cmd_aggregate(self, command: dict[str, Any], db: str, state: dict[str, Any]) -> dict[str, Any]:
        name = command["aggregate"]
        pipeline = command.get("pipeline") or []
        rows: list[tuple[dict[str, Any], dict[str, Any]]] = [(d, {}) for d in self._collection(db, name)]
        for position, stage in enumerate(pipeline):
            (operator, spec), = stage.items()
            if operator == "$vectorSearch":
                if position:
                    raise CommandError(40602, "$vectorSearch is only valid as the first stage in a pipeline")
                rows = self._vector_search(db, name, spec)
            elif operator == "$listSearchIndexes":
                wanted = (spec or {}).get("name")
                rows = [(dict(i), {}) for i in self.search_indexes.get((db, name), []) if not wanted or i["name"] == wanted]
            elif operator == "$match":
                rows = [(d, m) for d, m in rows if matches(d, spec)]
            elif operator == "$project":
                rows = [(project(d, spec, m), m) for d, m in rows]
            elif operator in ("$set", "$addFields"):
                rows = [({**d, **{k: _evaluate(d, v, m) for k, v in spec.items()}}, m) for d, m in rows]
            elif operator == "$limit":
                rows = rows[:int(spec)]
            else:
                raise CommandError(40324, f"Unrecognized pipeline stage name: '{operator}'")
        return {"cursor": {"firstBatch": [d for d, _ in rows], "id": 0, "ns": f"{db}.{name}"}}

    def _vector_search(self, db: str, name: str, spec: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        for required in ("index", "path", "queryVector", "limit"):
            if required not in spec:
                raise CommandError(8, f"PlanExecutor error during aggregation :: caused by :: \"{required}\" is required")
        limit, candidates = int(spec["limit"]), int(spec.get("numCandidates") or 0)
        if not spec.get("exact") and candidates < limit:
            raise CommandError(8, "PlanExecutor error during aggregation :: caused by :: \"numCandidates\" must be greater than or equal to \"limit\"")
        index = next((i for i in self.search_indexes.get((db, name), []) if i["name"] == spec["index"] and i["type"] == "vectorSearch"), None)
        if index is None:
            return []  # Atlas answers no results for an index that does not exist
        fields = index["latestDefinition"].get("fields", [])
        vector_field = next((f for f in fields if f.get("type") == "vector" and f.get("path") == spec["path"]), None)
        if vector_field is None:
            raise CommandError(8, f"PlanExecutor error during aggregation :: caused by :: Path '{spec['path']}' needs to be indexed as vector")
        query = list(spec["queryVector"])
        if len(query) != vector_field["numDimensions"]:
            raise CommandError(8, "PlanExecutor error during aggregation :: caused by :: vector field is indexed with "
                               f"{vector_field['numDimensions']} dimensions but queried with {len(query)}")
        where = spec.get("filter") or {}
        allowed = {f.get("path") for f in fields if f.get("type") == "filter"}
        for path in _filter_paths(where):
            if path not in allowed:
                raise CommandError(8, f"PlanExecutor error during aggregation :: caused by :: Path '{path}' needs to be indexed as filter")
        scored = []
        for document in self._collection(db, name):
            vector = document.get(spec["path"])
            if isinstance(vector, list) and len(vector) == len(query):
                scored.append((score(vector_field["similarity"], query, vector), document))
        scored.sort(key=lambda pair: -pair[0])
        if not spec.get("exact"):
            scored = scored[:candidates]
        scored = [(s, d) for s, d in scored if matches(d, where)][:limit]
        return [(dict(d), {"vectorSearchScore": s}) for s, d in scored]
