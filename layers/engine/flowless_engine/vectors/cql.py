"""A small CQL native protocol v4 client (Apache Cassandra's binary protocol), enough for the
Cassandra nodes on contact points: STARTUP, PasswordAuthenticator (SASL PLAIN in AUTH_RESPONSE),
(DSE's authenticator: mechanism PLAIN, then the credentials on PLAIN-START),
QUERY with positional values, a consistency level and paging, RESULT Rows decoding of the types
cassio's tables use (text, uuid, timeuuid, float, int, bigint, boolean, double, blob, list, set,
map and Cassandra 5's `vector<float, n>` custom type) and ERROR frames as engine errors naming
Cassandra. No driver, no compression; one request at a time per connection (stream ids are still
set and checked).

Network guard: each contact point is resolved and vetted by the engine's guard, and the
connection goes to the vetted address (TLS, when asked, still verifies the host name).
Connections are kept per warm container, keyed by address, port, user, password digest and TLS;
one opened by an earlier event loop is replaced.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import ssl
import struct
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flowless_engine.errors import ConfigurationError, ProviderAuthError, ProviderError, ProviderTimeoutError

LABEL = "Cassandra"
VERSION = 0x04
CONNECT_TIMEOUT_S = 10.0
PAGE_SIZE = 5000
CONSISTENCY = {"ANY": 0, "ONE": 1, "TWO": 2, "THREE": 3, "QUORUM": 4, "ALL": 5, "LOCAL_QUORUM": 6, "EACH_QUORUM": 7,
               "SERIAL": 8, "LOCAL_SERIAL": 9, "LOCAL_ONE": 10}
# opcodes
ERROR, STARTUP, READY, AUTHENTICATE, QUERY, RESULT, AUTH_CHALLENGE, AUTH_RESPONSE, AUTH_SUCCESS = 0x00, 0x01, 0x02, 0x03, 0x07, 0x08, 0x0E, 0x0F, 0x10
_AUTH_ERRORS = (0x0100, 0x2100)
_TIMEOUTS = (0x1100, 0x1200, 0x1300, 0x1400)  # write/read timeout, read/write failure
_CONFIG_ERRORS = (0x2200, 0x2300, 0x2400)  # invalid, config, already exists
_ERROR_NAMES = {0x0000: "server error", 0x000A: "protocol error", 0x0100: "bad credentials", 0x1000: "unavailable",
                0x1001: "overloaded", 0x1002: "bootstrapping", 0x1003: "truncate error", 0x1100: "write timeout",
                0x1200: "read timeout", 0x1300: "read failure", 0x1400: "function failure", 0x1500: "write failure",
                0x2000: "syntax error", 0x2100: "unauthorized", 0x2200: "invalid query", 0x2300: "configuration error",
                0x2400: "already exists", 0x2500: "unprepared"}


class Vector(list):
    """A value bound as `vector<float, n>` (packed floats), not as `list<float>`."""


class CqlError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


# ---- encoding ------------------------------------------------------------------------------------


def _string(text: str) -> bytes:
    data = text.encode()
    return struct.pack(">H", len(data)) + data


def _long_string(text: str) -> bytes:
    data = text.encode()
    return struct.pack(">i", len(data)) + data


def _bytes(data: bytes | None) -> bytes:
    return struct.pack(">i", -1) if data is None else struct.pack(">i", len(data)) + data


def encode_value(value: Any) -> bytes | None:
    """A bound value's serialized form, chosen by its Python type."""
    if value is None:
        return None
    if isinstance(value, Vector):
        return struct.pack(f">{len(value)}f", *value)
    if isinstance(value, bool):
        return b"\x01" if value else b"\x00"
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, uuid.UUID):
        return value.bytes
    if isinstance(value, int):
        return struct.pack(">i", value)
    if isinstance(value, float):
        return struct.pack(">f", value)
    if isinstance(value, bytes):
        return value
    if isinstance(value, dict):
        parts = [struct.pack(">i", len(value))]
        for key, item in value.items():
            parts += [_bytes(encode_value(key)), _bytes(encode_value(item))]
        return b"".join(parts)
    if isinstance(value, (list, tuple, set, frozenset)):
        return struct.pack(">i", len(value)) + b"".join(_bytes(encode_value(v)) for v in value)
    raise TypeError(f"cannot bind a {type(value).__name__} in CQL")


# ---- decoding ------------------------------------------------------------------------------------


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def take(self, size: int) -> bytes:
        if self.at + size > len(self.data):
            raise ProviderError(f"{LABEL} sent a truncated frame", provider=LABEL)
        chunk = self.data[self.at:self.at + size]
        self.at += size
        return chunk

    def short(self) -> int:
        return struct.unpack(">H", self.take(2))[0]

    def int(self) -> int:
        return struct.unpack(">i", self.take(4))[0]

    def string(self) -> str:
        return self.take(self.short()).decode(errors="replace")

    def bytes(self) -> bytes | None:
        size = self.int()
        return None if size < 0 else self.take(size)

    def option(self) -> tuple[Any, ...]:
        kind = self.short()
        if kind == 0x0000:
            return ("custom", self.string())
        if kind in (0x0020, 0x0022):
            return ("list" if kind == 0x0020 else "set", self.option())
        if kind == 0x0021:
            return ("map", self.option(), self.option())
        if kind == 0x0030:  # UDT: keyspace, name, fields
            self.string(), self.string()
            return ("udt", tuple((self.string(), self.option()) for _ in range(self.short())))
        if kind == 0x0031:
            return ("tuple", tuple(self.option() for _ in range(self.short())))
        return (kind,)


_VECTOR = re.compile(r"^org\.apache\.cassandra\.db\.marshal\.VectorType\((.+),\s*(\d+)\)$")
_FIXED = {"org.apache.cassandra.db.marshal.FloatType": (4, ">f"), "org.apache.cassandra.db.marshal.DoubleType": (8, ">d"),
          "org.apache.cassandra.db.marshal.Int32Type": (4, ">i"), "org.apache.cassandra.db.marshal.LongType": (8, ">q")}


def decode_value(kind: tuple[Any, ...], data: bytes | None) -> Any:
    if data is None:
        return None
    code = kind[0]
    if code in (0x0001, 0x000D):
        return data.decode(errors="replace")
    if code in (0x000C, 0x000F):
        return uuid.UUID(bytes=data)
    if code == 0x0008:
        return struct.unpack(">f", data)[0]
    if code == 0x0007:
        return struct.unpack(">d", data)[0]
    if code == 0x0009:
        return struct.unpack(">i", data)[0]
    if code in (0x0002, 0x0005, 0x000B):
        return struct.unpack(">q", data)[0]
    if code == 0x0013:
        return struct.unpack(">h", data)[0]
    if code == 0x0014:
        return struct.unpack(">b", data)[0]
    if code == 0x0004:
        return data != b"\x00"
    if code == 0x000E:
        return int.from_bytes(data, "big", signed=True)
    if code in ("list", "set"):
        reader = _Reader(data)
        items = [decode_value(kind[1], reader.bytes()) for _ in range(reader.int())]
        return items
    if code == "map":
        reader = _Reader(data)
        return {decode_value(kind[1], reader.bytes()): decode_value(kind[2], reader.bytes()) for _ in range(reader.int())}
    if code == "custom":
        found = _VECTOR.match(kind[1])
        if found and found.group(1).strip() in _FIXED:
            size, fmt = _FIXED[found.group(1).strip()]
            count = int(found.group(2))
            return list(struct.unpack(f">{count}{fmt[1]}", data[:size * count]))
        return data
    return data  # blob and the types cassio's tables do not use


@dataclass
class Rows:
    columns: list[str]
    rows: list[dict[str, Any]]
    paging_state: bytes | None = None


def _result(body: bytes) -> Rows | None:
    reader = _Reader(body)
    if reader.int() != 0x0002:
        return None  # void, set_keyspace, schema_change
    flags, count = reader.int(), reader.int()
    paging = reader.bytes() if flags & 0x0002 else None
    if flags & 0x0004:
        raise ProviderError(f"{LABEL} sent rows without their metadata", provider=LABEL)
    if flags & 0x0001:
        reader.string(), reader.string()
    columns: list[tuple[str, tuple[Any, ...]]] = []
    for _ in range(count):
        if not flags & 0x0001:
            reader.string(), reader.string()
        columns.append((reader.string(), reader.option()))
    rows = []
    for _ in range(reader.int()):
        rows.append({name: decode_value(kind, reader.bytes()) for name, kind in columns})
    return Rows([name for name, _ in columns], rows, paging)


# ---- connections ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContactPoints:
    hosts: tuple[tuple[str, int], ...]
    username: str = ""
    password: str = ""
    tls: bool = False

    @classmethod
    def parse(cls, text: str, *, port: int = 9042, username: str = "", password: str = "", tls: bool = False) -> "ContactPoints":
        """`host[:port][,host[:port]...]` (IPv6 in brackets when a port follows)."""
        hosts: list[tuple[str, int]] = []
        for part in (p.strip() for p in text.split(",")):
            if not part:
                continue
            if "://" in part or "/" in part:
                raise ConfigurationError(f"{LABEL}: contact points are host names or addresses (host[:port]), not URLs")
            host, chosen = part, port
            bracketed = re.match(r"^\[([^\]]+)\](?::(\d+))?$", part)
            if bracketed:
                host, chosen = bracketed.group(1), int(bracketed.group(2) or port)
            elif part.count(":") == 1:
                host, _, number = part.partition(":")
                if not number.isdigit():
                    raise ConfigurationError(f"{LABEL}: the port of contact point '{part}' is not a number")
                chosen = int(number)
            hosts.append((host, chosen))
        if not hosts:
            raise ConfigurationError(f"{LABEL}: no contact point given")
        return cls(tuple(hosts), username, password, tls)


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.lock = asyncio.Lock()
        self.loop = asyncio.get_running_loop()
        self.stream = 0

    async def request(self, opcode: int, body: bytes) -> tuple[int, bytes]:
        return (await self.requests([(opcode, body)]))[0]

    async def requests(self, frames: Sequence[tuple[int, bytes]]) -> list[tuple[int, bytes]]:
        """Send the frames at once, each on its own stream, and gather the answers (in any order)."""
        async with self.lock:
            streams: dict[int, int] = {}
            out = []
            for position, (opcode, body) in enumerate(frames):
                self.stream = self.stream % 0x7FFF + 1
                streams[self.stream] = position
                out.append(struct.pack(">BBhBi", VERSION, 0, self.stream, opcode, len(body)) + body)
            self.writer.write(b"".join(out))
            await self.writer.drain()
            answers: list[tuple[int, bytes] | None] = [None] * len(frames)
            waiting = len(frames)
            while waiting:
                header = await self.reader.readexactly(9)
                version, flags, stream, answer, size = struct.unpack(">BBhBi", header)
                payload = await self.reader.readexactly(size)
                if version & 0x7F != VERSION:
                    raise ProviderError(f"{LABEL} answered in protocol version {version & 0x7F}, not 4", provider=LABEL)
                position = streams.pop(stream, None)
                if position is None:
                    continue  # an EVENT (stream -1) or a stale answer: not ours
                if flags & 0x08:  # warnings: a string list before the body
                    reader = _Reader(payload)
                    for _ in range(reader.short()):
                        reader.string()
                    payload = payload[reader.at:]
                answers[position] = (answer, payload)
                waiting -= 1
            return [a for a in answers if a is not None]


def _error(payload: bytes) -> CqlError:
    reader = _Reader(payload)
    code = reader.int()
    return CqlError(code, reader.string())


def failure(exc: CqlError, action: str) -> Exception:
    name = _ERROR_NAMES.get(exc.code, f"error 0x{exc.code:04x}")
    text = f"{LABEL} failed while {action}: {name}: {exc.message}"
    if exc.code in _AUTH_ERRORS:
        return ProviderAuthError(text, provider=LABEL)
    if exc.code in _TIMEOUTS:
        return ProviderTimeoutError(text, provider=LABEL)
    if exc.code in _CONFIG_ERRORS:
        return ConfigurationError(text)
    return ProviderError(text, provider=LABEL, retryable=exc.code in (0x1000, 0x1001, 0x1002))


_connections: dict[tuple[Any, ...], _Connection] = {}


def _discard(connection: _Connection) -> None:
    try:
        connection.writer.transport.abort()
    except Exception:  # noqa: BLE001 - its loop may be closed already; the socket is dropped anyway
        pass


class CqlClient:
    def __init__(self, points: ContactPoints, *, allow_private: bool, allow_loopback: bool, timeout: float = 60.0,
                 consistency: str = "LOCAL_ONE") -> None:  # the Python driver's default, which cassio keeps
        self.points = points
        self.allow_private, self.allow_loopback = allow_private, allow_loopback
        self.timeout = timeout
        self.consistency = CONSISTENCY.get(consistency.upper(), CONSISTENCY["LOCAL_ONE"])
        self.key: tuple[Any, ...] | None = None

    async def _open(self, host: str, port: int) -> tuple[tuple[Any, ...], _Connection]:
        import socket

        from flowless_engine.http import resolve_vetted

        try:
            addresses = await resolve_vetted(host, port, allow_private=self.allow_private, allow_loopback=self.allow_loopback)
        except socket.gaierror as exc:
            raise ProviderError(f"{LABEL}: cannot resolve contact point '{host}'", provider=LABEL) from exc
        p = self.points
        key = (addresses[0], port, p.username, hashlib.sha256(p.password.encode()).hexdigest(), p.tls)
        found = _connections.get(key)
        if found is not None:
            if found.loop is asyncio.get_running_loop() and not found.writer.is_closing():
                return key, found
            _discard(found)
        context = ssl.create_default_context() if p.tls else None
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(addresses[0], port, ssl=context, server_hostname=host if context else None), CONNECT_TIMEOUT_S)
        except asyncio.TimeoutError as exc:
            raise ProviderTimeoutError(f"{LABEL} at {host}:{port} did not accept a connection in time", provider=LABEL) from exc
        except OSError as exc:
            raise ProviderError(f"{LABEL}: cannot connect to {host}:{port}: {exc.strerror or exc}", provider=LABEL, retryable=True) from exc
        connection = _Connection(reader, writer)
        try:
            await asyncio.wait_for(self._startup(connection), self.timeout)
        except asyncio.TimeoutError as exc:
            _discard(connection)
            raise ProviderTimeoutError(f"{LABEL} at {host}:{port} did not answer STARTUP in time", provider=LABEL) from exc
        except (OSError, asyncio.IncompleteReadError) as exc:  # e.g. plain CQL sent to a port that expects TLS
            _discard(connection)
            raise ProviderError(f"{LABEL} at {host}:{port} closed the connection while connecting (does it expect TLS? "
                                "cluster_kwargs ssl_context)", provider=LABEL, retryable=True) from exc
        except BaseException:
            _discard(connection)
            raise
        _connections[key] = connection
        return key, connection

    async def _startup(self, connection: _Connection) -> None:
        opcode, payload = await connection.request(STARTUP, struct.pack(">H", 1) + _string("CQL_VERSION") + _string("3.0.0"))
        if opcode == AUTHENTICATE:
            if not self.points.username and not self.points.password:
                raise ProviderAuthError(f"{LABEL} asks for credentials: give a username and password", provider=LABEL)
            token = b"\x00" + self.points.username.encode() + b"\x00" + self.points.password.encode()
            if b"DseAuthenticator" in payload:  # DSE: the mechanism first, the credentials on its PLAIN-START challenge
                opcode, payload = await connection.request(AUTH_RESPONSE, _bytes(b"PLAIN"))
                if opcode == AUTH_CHALLENGE and _Reader(payload).bytes() == b"PLAIN-START":
                    opcode, payload = await connection.request(AUTH_RESPONSE, _bytes(token))
            else:
                opcode, payload = await connection.request(AUTH_RESPONSE, _bytes(token))
            if opcode == AUTH_CHALLENGE:
                raise ProviderAuthError(f"{LABEL} asked for an authentication this client does not speak (only PasswordAuthenticator)",
                                        provider=LABEL)
            if opcode == AUTH_SUCCESS:
                return
        if opcode == ERROR:
            raise failure(_error(payload), "connecting")
        if opcode not in (READY, AUTH_SUCCESS):
            raise ProviderError(f"{LABEL} answered STARTUP with opcode 0x{opcode:02x}", provider=LABEL)

    async def _connection(self) -> _Connection:
        if self.key is not None:
            found = _connections.get(self.key)
            if found is not None and found.loop is asyncio.get_running_loop() and not found.writer.is_closing():
                return found
        last: Exception | None = None
        for host, port in self.points.hosts:  # the first contact point that answers
            try:
                self.key, connection = await self._open(host, port)
                return connection
            except ProviderError as exc:
                if isinstance(exc, ProviderAuthError):
                    raise
                last = exc
        assert last is not None
        raise last

    async def execute_many(self, statement: str, rows: Sequence[Sequence[Any]], *, action: str, batch_size: int = 16) -> None:
        """Run one statement (an INSERT) for each row of values, `batch_size` requests in flight
        at a time on the connection (one round trip per batch)."""
        for start in range(0, len(rows), max(1, batch_size)):
            frames = [(QUERY, self._body(statement, values, None, 0)) for values in rows[start:start + max(1, batch_size)]]
            for opcode, payload in await self._send(frames, action):
                if opcode == ERROR:
                    raise failure(_error(payload), action)

    def _body(self, statement: str, values: Sequence[Any], paging: bytes | None, page_size: int) -> bytes:
        flags = (0x04 if page_size else 0) | (0x01 if values else 0) | (0x08 if paging else 0)
        body = _long_string(statement) + struct.pack(">HB", self.consistency, flags)
        if values:
            body += struct.pack(">H", len(values)) + b"".join(_bytes(encode_value(v)) for v in values)
        if page_size:
            body += struct.pack(">i", page_size)
        if paging:
            body += _bytes(paging)
        return body

    async def query(self, statement: str, values: Sequence[Any] = (), *, action: str, page_size: int = PAGE_SIZE,
                    max_rows: int = 0) -> Rows | None:
        """Run one statement; rows are read page after page (up to `max_rows` when given)."""
        collected: Rows | None = None
        paging: bytes | None = None
        while True:
            ((opcode, payload),) = await self._send([(QUERY, self._body(statement, values, paging, page_size))], action)
            if opcode == ERROR:
                raise failure(_error(payload), action)
            if opcode != RESULT:
                raise ProviderError(f"{LABEL} answered a query with opcode 0x{opcode:02x} while {action}", provider=LABEL)
            page = _result(payload)
            if page is None:
                return collected
            if collected is None:
                collected = Rows(page.columns, [])
            collected.rows.extend(page.rows)
            paging = page.paging_state
            if not paging or (max_rows and len(collected.rows) >= max_rows):
                if max_rows:
                    del collected.rows[max_rows:]
                return collected

    async def _send(self, frames: list[tuple[int, bytes]], action: str) -> list[tuple[int, bytes]]:
        for attempt in (0, 1):
            connection = await self._connection()
            try:
                return await asyncio.wait_for(connection.requests(frames), self.timeout)
            except asyncio.TimeoutError as exc:
                _connections.pop(self.key, None)
                _discard(connection)
                raise ProviderTimeoutError(f"{LABEL} did not answer in time while {action}", provider=LABEL) from exc
            except (OSError, asyncio.IncompleteReadError) as exc:  # a connection the server closed: open another once
                _connections.pop(self.key, None)
                _discard(connection)
                if attempt:
                    raise ProviderError(f"{LABEL} closed the connection while {action}", provider=LABEL, retryable=True) from exc
        raise AssertionError("unreachable")  # pragma: no cover


def quote_name(name: str) -> str:
    """A keyspace, table or column name as a CQL identifier (double-quoted when needed)."""
    if re.match(r"^[a-z_][a-z0-9_]*$", name):
        return name
    if not name or len(name) > 222:
        raise ConfigurationError(f"{LABEL}: '{name}' is not a valid keyspace or table name")
    return '"' + name.replace('"', '""') + '"'
