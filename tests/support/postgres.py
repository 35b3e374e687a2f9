"""A real PostgreSQL on 127.0.0.1 for tests, from the `pgserver` wheel (PostgreSQL binaries on
PyPI): initialised by pgserver, then restarted listening on a free TCP port (components reach
databases over TCP, through the network guard)."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def postgres_server() -> Iterator[str]:
    """Yields `postgresql://postgres@127.0.0.1:<port>/postgres` (trust authentication)."""
    import pgserver
    from pgserver._commands import pg_ctl

    data = tempfile.mkdtemp(prefix="flowless-pg-")
    server = pgserver.get_server(data, cleanup_mode=None)
    user = server.system_user
    pg_ctl(["-w", "stop"], pgdata=server.pgdata, user=user)
    port = _free_port()
    pg_ctl(["-w", "-o", '-h "127.0.0.1"', "-o", f"-p {port}", "-o", f"-k {data}", "-l", str(server.log), "start"],
           pgdata=server.pgdata, user=user, timeout=20)
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=server.pgdata, user=user)
        shutil.rmtree(data, ignore_errors=True)
