"""An in-memory DynamoDB for local runs: moto's server on a free loopback port.

moto makes every TransactWriteItems deep-copy each table it touches (for its rollback): the cost
grows with the data stored, until a run's single batched write takes tens of milliseconds after a
few thousand messages. The embedded server rolls back item by item instead (`fast_transactions`):
the items a transaction names are copied before it runs and put back if it fails, which is what
DynamoDB's all-or-nothing promise needs and costs the same at any table size.

moto's backend is not safe for concurrent requests: a conditional write checks, then writes, and
a transaction writes item by item, each step open to another thread (moto's server is threaded,
and every thread of a test process shares its state). Two runs of one session could both find no
session and both create it, or a failed transaction's rollback could put back an item another
request had just written, erasing that write (a run's messages then fell before the session's
epoch: 63 of 64). Real DynamoDB serializes these; the embedded server does the same with one
lock around every item operation (`serialize_item_operations`).
"""

from __future__ import annotations

import copy
import functools
import logging
import threading
from collections.abc import Callable
from typing import Any

_installed = False
# Held by every item read and write of the embedded DynamoDB (re-entrant: a transaction's own
# puts and updates go through the locked methods too).
_ITEM_LOCK = threading.RLock()
_ITEM_OPERATIONS = ("get_item", "put_item", "update_item", "delete_item", "query", "scan", "transact_write_items")


def start_embedded_dynamodb(port: int | None = None) -> tuple[str, Callable[[], None]]:
    """Start the server; returns its endpoint URL and a function that stops it.

    `port`: listen there when it is free (`flowless run` asks for 8000, DynamoDB Local's port, so
    the README's `--dynamodb-endpoint http://127.0.0.1:8000` reaches it), else on a free port.
    Data lives in this process's memory and is gone when it exits. moto keeps one state per
    process, so two servers started in the same process see the same tables.
    """
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as error:  # moto is a development dependency, not part of the Lambda layer
        raise RuntimeError("the embedded DynamoDB needs moto: pip install 'moto[server]'") from error

    class Server(ThreadedMotoServer):
        bind_error: OSError | None = None

        def _server_entry(self) -> None:  # moto's start() would wait forever when the bind fails
            try:
                super()._server_entry()
            except (OSError, SystemExit) as error:  # werkzeug exits on a busy port
                self.bind_error = OSError(str(error))
                self._server_ready_event.set()

    fast_transactions()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # else one log line per DynamoDB call
    if port and _free(port):
        server = Server(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        if server.bind_error is None:
            host, bound = server.get_host_and_port()
            return f"http://{host}:{bound}", server.stop
    # Port 0: the OS picks a free port at bind time, so there is no race with other processes.
    server = Server(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, bound = server.get_host_and_port()
    return f"http://{host}:{bound}", server.stop


def _free(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as werkzeug binds
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def fast_transactions() -> None:
    """Make moto's TransactWriteItems roll back by item rather than by copying whole tables."""
    global _installed
    if _installed:
        return
    import moto.dynamodb.models as models

    models.copy = _TablesNotCopied(models.Table)  # type: ignore[assignment]
    original = models.DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        before = _snapshot(self, transact_items)
        try:
            original(self, transact_items)
        except Exception:
            _restore(self, before)
            raise

    models.DynamoDBBackend.transact_write_items = transact_write_items
    serialize_item_operations(models.DynamoDBBackend)
    _installed = True


def serialize_item_operations(backend_class: type) -> None:
    """One item operation at a time, as DynamoDB's conditions and transactions assume: a
    conditional write's check and write, and a transaction with its rollback, are not interleaved
    with another request's (reads too, so none sees a transaction half applied)."""
    for name in _ITEM_OPERATIONS:
        setattr(backend_class, name, _locked(getattr(backend_class, name)))


def _locked(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def locked(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _ITEM_LOCK:
            return method(self, *args, **kwargs)

    return locked


class _TablesNotCopied:
    """The `copy` module as moto's DynamoDB backend sees it, except that a Table is not deep-copied:
    its transaction's own rollback (which reassigns that copy) then changes nothing, and ours runs."""

    def __init__(self, table_type: type) -> None:
        self._table_type = table_type

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        return value if isinstance(value, self._table_type) else copy.deepcopy(value, memo)


Snapshot = list[tuple[str, dict[str, Any], dict[str, Any] | None]]


def _snapshot(backend: Any, transact_items: list[dict[str, Any]]) -> Snapshot:
    """(table, key, item attributes or None) for every item the transaction names; entries moto
    will refuse as malformed are skipped (it refuses them before writing anything)."""
    taken: Snapshot = []
    for entry in transact_items:
        try:
            (op_type, op), = entry.items()
            table = backend.get_table(op["TableName"])
            source = op["Item"] if op_type == "Put" else op["Key"]
            names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
            key = {name: source[name] for name in names}
            current = backend.get_item(op["TableName"], key)
        except Exception:
            continue
        taken.append((op["TableName"], key, copy.deepcopy(current.to_json()["Attributes"]) if current else None))
    return taken


def _restore(backend: Any, snapshot: Snapshot) -> None:
    for table_name, key, attributes in snapshot:
        if attributes is None:
            if backend.get_item(table_name, key) is not None:
                backend.delete_item(table_name, key)
        else:
            backend.put_item(table_name, attributes)


def answer_in_process(client: Any, region: str) -> None:
    """Let `client` (the local server's own DynamoDB client) reach the embedded tables without
    HTTP: its requests are handed straight to moto's DynamoDB backend, the same state the
    server on the loopback port serves to other processes (`flowless keys create`, DynamoDB
    tools). Saves the socket, the HTTP parsing and the web framework on every call of a run."""
    from botocore.awsrequest import AWSResponse
    from moto.core.botocore_stubber import BotocoreStubber, MockRawResponse

    stubber = BotocoreStubber()
    stubber.enabled = True
    aws_url = f"https://dynamodb.{region}.amazonaws.com/"

    def handle(request: Any, **_: Any) -> Any:
        request.url = aws_url
        status, headers, body = stubber.process_request(request)
        return AWSResponse(aws_url, status, headers, MockRawResponse(body))

    client.meta.events.register("before-send.dynamodb", handle)
