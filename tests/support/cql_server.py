"""A local Cassandra speaking the CQL native protocol v4 (written from apache/cassandra's
doc/native_protocol_v4.spec), holding tables in memory and answering exactly the statements
Flowless's CQL client sends for cassio's tables:

CREATE KEYSPACE/TABLE/CUSTOM INDEX ... IF NOT EXISTS, INSERT (USING TTL), SELECT by partition /
`IN`, `metadata_s[?] = ?` (needs the ENTRIES index), `body_blob : ?` (needs an analyzed index),
`similarity_cosine(vector, ?)` and `ORDER BY vector ANN OF ? LIMIT n` (needs the SAI index on the
vector), DELETE by partition, and `system_schema.columns`. Values come bound (QUERY with values),
typed from the table's columns as Cassandra does. PasswordAuthenticator when `users` is given
(SASL PLAIN in AUTH_RESPONSE); ERROR frames: 0x0100 bad credentials, 0x2000 syntax, 0x2200
invalid (unknown keyspace/table, a filter without its index). Pages of at most `page_limit` rows
(paging_state is the offset). `fail_next(n, code)` answers the next n queries with that error.
`dse=True` offers DSE's authenticator instead; `tls=(certfile, keyfile)` encrypts connections.

Use: `with CqlServer(users={"cassandra": "pw"}) as server: server.contact_point` ("127.0.0.1:<port>");
`server.queries` records (statement, values) of every QUERY; `server.rows(keyspace, table)`.
"""

from __future__ import annotations

import math
import re
import socketserver
import struct
import threading
import uuid
from typing import Any

SAI = "org.apache.cassandra.index.sai.StorageAttachedIndex"


class CqlFailure(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _short_string(text: str) -> bytes:
    data = text.encode()
    return struct.pack(">H", len(data)) + data


def _cell(data: bytes | None) -> bytes:
    return struct.pack(">i", -1) if data is None else struct.pack(">i", len(data)) + data


def _inner(type_text: str) -> list[str]:
    """The type parameters of `map<a, b>` / `vector<float, 3>` (split at top-level commas)."""
    body = type_text[type_text.index("<") + 1:type_text.rindex(">")]
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(body):
        depth += ch == "<"
        depth -= ch == ">"
        if ch == "," and depth == 0:
            parts.append(body[start:i].strip())
            start = i + 1
    parts.append(body[start:].strip())
    return parts


SIMPLE = {"ascii": 0x0001, "bigint": 0x0002, "blob": 0x0003, "boolean": 0x0004, "double": 0x0007, "float": 0x0008, "int": 0x0009,
          "timestamp": 0x000B, "uuid": 0x000C, "text": 0x000D, "varchar": 0x000D, "timeuuid": 0x000F}


def option(type_text: str) -> bytes:
    t = type_text.strip().lower()
    if t in SIMPLE:
        return struct.pack(">H", SIMPLE[t])
    base = t.split("<", 1)[0].strip()
    if base in ("list", "set"):
        return struct.pack(">H", 0x0020 if base == "list" else 0x0022) + option(_inner(t)[0])
    if base == "map":
        key, value = _inner(t)
        return struct.pack(">H", 0x0021) + option(key) + option(value)
    if base == "vector":
        element, size = _inner(t)
        marshal = {"float": "FloatType", "double": "DoubleType", "int": "Int32Type"}[element]
        return struct.pack(">H", 0x0000) + _short_string(f"org.apache.cassandra.db.marshal.VectorType("
                                                          f"org.apache.cassandra.db.marshal.{marshal},{size})")
    raise CqlFailure(0x2200, f"Unknown type {type_text}")


def decode(type_text: str, data: bytes | None) -> Any:
    if data is None:
        return None
    t = type_text.strip().lower()
    if t in ("text", "varchar", "ascii"):
        return data.decode()
    if t in ("uuid", "timeuuid"):
        return uuid.UUID(bytes=data)
    if t == "int":
        return struct.unpack(">i", data)[0]
    if t == "float":
        return struct.unpack(">f", data)[0]
    if t == "boolean":
        return data != b"\x00"
    base = t.split("<", 1)[0].strip()
    if base == "vector":
        element, size = _inner(t)
        if len(data) != 4 * int(size):
            raise CqlFailure(0x2200, f"Invalid vector literal for vector<{element}, {size}> of {len(data) // 4} dimensions")
        return list(struct.unpack(f">{size}f", data))
    if base in ("list", "set", "map"):
        count, at, items = struct.unpack(">i", data[:4])[0], 4, []
        inner = _inner(t)

        def next_cell() -> bytes | None:
            nonlocal at
            size = struct.unpack(">i", data[at:at + 4])[0]
            at += 4
            if size < 0:
                return None
            chunk = data[at:at + size]
            at += size
            return chunk

        if base == "map":
            return {decode(inner[0], next_cell()): decode(inner[1], next_cell()) for _ in range(count)}
        items = [decode(inner[0], next_cell()) for _ in range(count)]
        return items
    return data


def encode(type_text: str, value: Any) -> bytes | None:
    if value is None:
        return None
    t = type_text.strip().lower()
    if t in ("text", "varchar", "ascii"):
        return str(value).encode()
    if t in ("uuid", "timeuuid"):
        return value.bytes
    if t == "int":
        return struct.pack(">i", value)
    if t == "float":
        return struct.pack(">f", value)
    base = t.split("<", 1)[0].strip()
    if base == "vector":
        return struct.pack(f">{len(value)}f", *value)
    if base == "map":
        key, item = _inner(t)
        return struct.pack(">i", len(value)) + b"".join(_cell(encode(key, k)) + _cell(encode(item, v)) for k, v in value.items())
    if base in ("list", "set"):
        return struct.pack(">i", len(value)) + b"".join(_cell(encode(_inner(t)[0], v)) for v in value)
    return bytes(value)


def _split(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += ch in "(<"
        depth -= ch in ")>"
        if ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return [p for p in parts if p]


def _name(text: str) -> str:
    text = text.strip()
    return text[1:-1].replace('""', '"') if text.startswith('"') else text.lower()


def _qualified(text: str) -> tuple[str, str]:
    keyspace, _, table = text.partition(".")
    return _name(keyspace), _name(table)


def similarity_cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return (1 + (dot / norm if norm else 0.0)) / 2


NAME = r'(?:"(?:[^"]|"")+"|\w+)'
QUALIFIED = rf"({NAME}\.{NAME})"


class CqlServer:
    def __init__(self, users: dict[str, str] | None = None, page_limit: int = 100, dse: bool = False,
                 tls: tuple[str, str] | None = None) -> None:
        self.users = users or {}
        self.tls = tls  # (certificate file, key file): client-to-node encryption
        self.dse = dse  # DSE's authenticator: mechanism "PLAIN" first, challenged with "PLAIN-START"
        self.page_limit = page_limit
        self.keyspaces: dict[str, dict[str, dict[str, Any]]] = {}
        self.queries: list[tuple[str, list[Any]]] = []
        self.consistencies: list[int] = []
        self.startups: list[dict[str, str]] = []
        self.logins: list[str] = []
        self._failures: list[int] = []
        self._lock = threading.Lock()
        self._server: socketserver.ThreadingTCPServer | None = None

    # ---- context manager --------------------------------------------------------------------------

    def __enter__(self) -> "CqlServer":
        outer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                sock = self.request
                if outer.tls:
                    import ssl

                    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                    context.load_cert_chain(*outer.tls)
                    try:
                        sock = context.wrap_socket(sock, server_side=True)
                    except (ssl.SSLError, OSError):
                        return
                outer._serve(sock)

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.port = self._server.server_address[1]
        self.contact_point = f"127.0.0.1:{self.port}"
        self.base_url = f"cql://{self.contact_point}"
        return self

    def __exit__(self, *exc: Any) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    def close(self) -> None:
        self.__exit__(None, None, None)

    def fail_next(self, count: int, code: int = 0x0000) -> None:
        self._failures.extend([code] * count)

    def rows(self, keyspace: str, table: str) -> list[dict[str, Any]]:
        return list(self.keyspaces.get(keyspace, {}).get(table, {}).get("rows", {}).values())

    def table(self, keyspace: str, table: str) -> dict[str, Any]:
        return self.keyspaces[keyspace][table]

    # ---- frames ------------------------------------------------------------------------------------

    def _serve(self, sock: Any) -> None:
        authenticated = not self.users

        def read(size: int) -> bytes:
            data = b""
            while len(data) < size:
                chunk = sock.recv(size - len(data))
                if not chunk:
                    raise ConnectionError
                data += chunk
            return data

        def send(stream: int, opcode: int, body: bytes) -> None:
            sock.sendall(struct.pack(">BBhBi", 0x84, 0, stream, opcode, len(body)) + body)

        def error(stream: int, code: int, message: str) -> None:
            send(stream, 0x00, struct.pack(">i", code) + _short_string(message))

        try:
            while True:
                version, _flags, stream, opcode, size = struct.unpack(">BBhBi", read(9))
                body = read(size)
                if version != 0x04:
                    error(stream, 0x000A, f"Invalid or unsupported protocol version ({version})")
                    continue
                if opcode == 0x01:  # STARTUP
                    count, at, pairs = struct.unpack(">H", body[:2])[0], 2, {}
                    for _ in range(count):
                        key_len = struct.unpack(">H", body[at:at + 2])[0]
                        key = body[at + 2:at + 2 + key_len].decode()
                        at += 2 + key_len
                        value_len = struct.unpack(">H", body[at:at + 2])[0]
                        pairs[key] = body[at + 2:at + 2 + value_len].decode()
                        at += 2 + value_len
                    self.startups.append(pairs)
                    if self.users:
                        send(stream, 0x03, _short_string("com.datastax.bdp.cassandra.auth.DseAuthenticator" if self.dse
                                                         else "org.apache.cassandra.auth.PasswordAuthenticator"))
                    else:
                        send(stream, 0x02, b"")
                elif opcode == 0x0F:  # AUTH_RESPONSE: SASL PLAIN
                    token_len = struct.unpack(">i", body[:4])[0]
                    if self.dse and body[4:4 + token_len] == b"PLAIN":
                        send(stream, 0x0E, _cell(b"PLAIN-START"))
                        continue
                    if body[4:4 + token_len].count(b"\x00") != 2:
                        error(stream, 0x0100, "Invalid SASL PLAIN token")
                        continue
                    _, user, password = body[4:4 + token_len].split(b"\x00", 2)
                    self.logins.append(user.decode())
                    if self.users.get(user.decode()) == password.decode():
                        authenticated = True
                        send(stream, 0x10, _cell(None))
                    else:
                        error(stream, 0x0100, "Provided username and/or password are incorrect")
                elif opcode == 0x07:  # QUERY
                    if not authenticated:
                        error(stream, 0x0100, "You have not logged in")
                        continue
                    try:
                        send(stream, 0x08, self._query(body))
                    except CqlFailure as failure:
                        error(stream, failure.code, failure.message)
                elif opcode == 0x05:  # OPTIONS
                    send(stream, 0x06, struct.pack(">H", 1) + _short_string("CQL_VERSION") + struct.pack(">H", 1) + _short_string("3.4.7"))
                else:
                    error(stream, 0x000A, f"Unexpected opcode 0x{opcode:02x}")
        except (ConnectionError, OSError, struct.error):
            return

    def _query(self, body: bytes) -> bytes:
        size = struct.unpack(">i", body[:4])[0]
        statement = body[4:4 + size].decode()
        at = 4 + size
        _consistency, flags = struct.unpack(">HB", body[at:at + 3])
        at += 3
        cells: list[bytes | None] = []
        if flags & 0x01:
            count = struct.unpack(">H", body[at:at + 2])[0]
            at += 2
            for _ in range(count):
                length = struct.unpack(">i", body[at:at + 4])[0]
                at += 4
                cells.append(None if length < 0 else body[at:at + length])
                at += max(length, 0)
        page_size, offset = 0, 0
        if flags & 0x04:
            page_size = struct.unpack(">i", body[at:at + 4])[0]
            at += 4
        if flags & 0x08:
            length = struct.unpack(">i", body[at:at + 4])[0]
            offset = struct.unpack(">i", body[at + 4:at + 4 + length])[0]
        with self._lock:
            self.queries.append((statement, cells))
            self.consistencies.append(_consistency)
            if self._failures:
                code = self._failures.pop(0)
                raise CqlFailure(code, "Injected failure")
            return self._run(" ".join(statement.split()), cells, page_size, offset)

    # ---- statements --------------------------------------------------------------------------------

    def _lookup(self, qualified: str) -> dict[str, Any]:
        keyspace, table = _qualified(qualified)
        if keyspace not in self.keyspaces:
            raise CqlFailure(0x2200, f"Keyspace {keyspace} does not exist")
        if table not in self.keyspaces[keyspace]:
            raise CqlFailure(0x2200, f"table {table} does not exist")
        return self.keyspaces[keyspace][table]

    def _run(self, cql: str, cells: list[bytes | None], page_size: int, offset: int) -> bytes:
        void = struct.pack(">i", 0x0001)
        if m := re.fullmatch(rf"CREATE KEYSPACE IF NOT EXISTS ({NAME}) WITH replication = \{{.*\}}", cql, re.I):
            self.keyspaces.setdefault(_name(m.group(1)), {})
            return void
        if m := re.fullmatch(rf"CREATE TABLE IF NOT EXISTS {QUALIFIED} \((.*?)\)( WITH CLUSTERING ORDER BY \((\w+) (ASC|DESC)\))?", cql, re.I):
            keyspace, table = _qualified(m.group(1))
            if keyspace not in self.keyspaces:
                raise CqlFailure(0x2200, f"Keyspace {keyspace} does not exist")
            columns, key = {}, None
            for part in _split(m.group(2)):
                if part.upper().startswith("PRIMARY KEY"):
                    key = part[part.index("(") + 1:part.rindex(")")]
                else:
                    name, _, type_text = part.partition(" ")
                    option(type_text)
                    columns[_name(name)] = " ".join(type_text.lower().split())
            if key is None:
                raise CqlFailure(0x2000, "line 1: no PRIMARY KEY")
            partition_text, _, clustering_text = key.partition(")") if key.startswith("(") else (key.split(",")[0], "", ",".join(key.split(",")[1:]))
            partition = [_name(p) for p in partition_text.strip("( ").split(",") if p.strip()]
            clustering = [_name(p) for p in clustering_text.strip(", ").split(",") if p.strip()]
            if table not in self.keyspaces[keyspace]:
                self.keyspaces[keyspace][table] = {"columns": columns, "partition": partition, "clustering": clustering,
                                                   "descending": bool(m.group(5) and m.group(5).upper() == "DESC"), "indexes": {}, "rows": {}}
            return struct.pack(">i", 0x0005) + b"".join(_short_string(s) for s in ("CREATED", "TABLE", keyspace, table))
        if m := re.fullmatch(rf"CREATE CUSTOM INDEX IF NOT EXISTS ({NAME}) ON {QUALIFIED} \((?:(\w+)\((\w+)\)|(\w+))\) USING '([\w.]+)'"
                             r"(?: WITH OPTIONS = \{(.*)\})?", cql, re.I):
            table = self._lookup(m.group(2))
            column = _name(m.group(4) or m.group(5))
            if column not in table["columns"] or m.group(6) != SAI:
                raise CqlFailure(0x2200, f"Cannot create an index on {column}")
            options = dict(re.findall(r"'(\w+)'\s*:\s*'([^']*)'", m.group(7) or ""))
            table["indexes"].setdefault(_name(m.group(1)), {"column": column, "target": (m.group(3) or "values").lower(), "options": options})
            return void
        if m := re.fullmatch(rf"INSERT INTO {QUALIFIED} \(([^)]*)\) VALUES \(([?, ]*)\)(?: USING TTL (\d+))?", cql, re.I):
            table = self._lookup(m.group(1))
            names = [_name(n) for n in m.group(2).split(",")]
            if len(names) != m.group(3).count("?") or len(cells) != len(names):
                raise CqlFailure(0x2200, "There were the wrong number of bound values")
            row = {}
            for name, cell in zip(names, cells):
                if name not in table["columns"]:
                    raise CqlFailure(0x2200, f"Undefined column name {name}")
                row[name] = decode(table["columns"][name], cell)
            key = tuple(row.get(c) for c in table["partition"] + table["clustering"])
            if any(k is None for k in key):
                raise CqlFailure(0x2200, "Invalid null value for a primary key part")
            table["rows"][key] = {**table["rows"].get(key, {}), **row, **({"_ttl": int(m.group(4))} if m.group(4) else {})}
            return void
        if m := re.fullmatch(rf"DELETE FROM {QUALIFIED} WHERE (\w+) = \?", cql, re.I):
            table = self._lookup(m.group(1))
            column = _name(m.group(2))
            if table["partition"] != [column]:
                raise CqlFailure(0x2200, "Some partition key parts are missing")
            value = decode(table["columns"][column], cells[0])
            for key in [k for k, r in table["rows"].items() if r.get(column) == value]:
                del table["rows"][key]
            return void
        if m := re.fullmatch(r"SELECT column_name, type FROM system_schema\.columns WHERE keyspace_name = \? AND table_name = \?", cql, re.I):
            keyspace, name = (c.decode() if c is not None else "" for c in cells[:2])
            table = self.keyspaces.get(keyspace, {}).get(name)
            rows = [{"column_name": c, "type": t} for c, t in (table["columns"].items() if table else [])]
            return self._rows([("column_name", "text"), ("type", "text")], rows, page_size, offset)
        if m := re.fullmatch(rf"SELECT (.+?) FROM {QUALIFIED}(?: WHERE (.+?))?(?: ORDER BY (\w+) ANN OF \?)?(?: LIMIT (\d+))?", cql, re.I):
            return self._select(m, cells, page_size, offset)
        raise CqlFailure(0x2000, f"line 1:0 no viable alternative at input '{cql[:40]}'")

    def _select(self, m: re.Match[str], cells: list[bytes | None], page_size: int, offset: int) -> bytes:
        table = self._lookup(m.group(2))
        columns = table["columns"]
        values = list(cells)
        out: list[tuple[str, str, Any]] = []  # name, type, how to compute
        for part in _split(m.group(1)):
            if sim := re.fullmatch(r"similarity_cosine\((\w+), \?\)(?: AS (\w+))?", part, re.I):
                probe = decode(columns[_name(sim.group(1))], values.pop(0))
                out.append((sim.group(2) or "system.similarity_cosine", "float", ("similarity", _name(sim.group(1)), probe)))
            elif _name(part) in columns:
                out.append((_name(part), columns[_name(part)], ("column", _name(part))))
            else:
                raise CqlFailure(0x2200, f"Undefined column name {part}")
        rows = list(table["rows"].values())
        indexes = list(table["indexes"].values())
        restricted_partition = False
        for condition in re.split(r" AND ", m.group(3) or "", flags=re.I) if m.group(3) else []:
            if c := re.fullmatch(r"(\w+) IN \(([?, ]+)\)", condition, re.I):
                column = _name(c.group(1))
                wanted = [decode(columns[column], values.pop(0)) for _ in range(c.group(2).count("?"))]
                rows = [r for r in rows if r.get(column) in wanted]
                restricted_partition |= table["partition"] == [column]
            elif c := re.fullmatch(r"(\w+)\[\?\] = \?", condition):
                column = _name(c.group(1))
                if not any(i["column"] == column and i["target"] == "entries" for i in indexes):
                    raise CqlFailure(0x2200, "Cannot execute this query as it might involve data filtering and thus may have unpredictable "
                                             "performance. If you want to execute this query despite the performance unpredictability, use ALLOW FILTERING")
                _, key_type, value_type = ("", *_inner(columns[column]))
                key, value = decode(key_type, values.pop(0)), decode(value_type, values.pop(0))
                rows = [r for r in rows if (r.get(column) or {}).get(key) == value]
            elif c := re.fullmatch(r"(\w+) : \?", condition):
                column = _name(c.group(1))
                if not any(i["column"] == column and i["options"].get("index_analyzer") for i in indexes):
                    raise CqlFailure(0x2200, f"Column '{column}' has no analyzed index: ':' restrictions need one")
                terms = set(re.findall(r"\w+", decode("text", values.pop(0)).lower()))
                rows = [r for r in rows if terms & set(re.findall(r"\w+", str(r.get(column) or "").lower()))]
            elif c := re.fullmatch(r"(\w+) = \?", condition):
                column = _name(c.group(1))
                value = decode(columns[column], values.pop(0))
                rows = [r for r in rows if r.get(column) == value]
                restricted_partition |= table["partition"] == [column]
            else:
                raise CqlFailure(0x2000, f"line 1: no viable alternative at input '{condition}'")
        if m.group(4):
            column = _name(m.group(4))
            if not any(i["column"] == column for i in indexes):
                raise CqlFailure(0x2200, f"ANN ordering on column {column} requires a vector index on it")
            if not m.group(5):
                raise CqlFailure(0x2200, "Use of ANN OF in an ORDER BY clause requires a LIMIT")
            probe = decode(columns[column], values.pop(0))
            rows.sort(key=lambda r: -similarity_cosine(r.get(column) or [], probe))
        elif table["clustering"] and restricted_partition:
            rows.sort(key=lambda r: getattr(r[table["clustering"][0]], "time", r[table["clustering"][0]]), reverse=table["descending"])
        if m.group(5):
            rows = rows[:int(m.group(5))]
        shaped = []
        for row in rows:
            item = {}
            for name, _type, how in out:
                item[name] = similarity_cosine(row.get(how[1]) or [], how[2]) if how[0] == "similarity" else row.get(how[1])
            shaped.append(item)
        return self._rows([(name, type_text) for name, type_text, _ in out], shaped, page_size, offset, (_qualified(m.group(2))))

    def _rows(self, columns: list[tuple[str, str]], rows: list[dict[str, Any]], page_size: int, offset: int,
              spec: tuple[str, str] = ("system_schema", "columns")) -> bytes:
        limit = min(page_size if page_size > 0 else len(rows), self.page_limit)
        page = rows[offset:offset + limit]
        more = offset + limit < len(rows)
        flags = 0x0001 | (0x0002 if more else 0)
        out = [struct.pack(">iii", 0x0002, flags, len(columns))]
        if more:
            out.append(_cell(struct.pack(">i", offset + limit)))
        out.append(_short_string(spec[0]) + _short_string(spec[1]))
        for name, type_text in columns:
            out.append(_short_string(name) + option(type_text))
        out.append(struct.pack(">i", len(page)))
        for row in page:
            out.extend(_cell(encode(type_text, row.get(name))) for name, type_text in columns)
        return b"".join(out)
