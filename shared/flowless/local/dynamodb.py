"""An in-memory DynamoDB for local runs: moto's server on a free loopback port."""

from __future__ import annotations

import logging
from collections.abc import Callable


def start_embedded_dynamodb() -> tuple[str, Callable[[], None]]:
    """Start the server; returns its endpoint URL and a function that stops it.

    Data lives in this process's memory and is gone when it exits. moto keeps one state per
    process, so two servers started in the same process see the same tables.
    """
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as error:  # moto is a development dependency, not part of the Lambda layer
        raise RuntimeError("the embedded DynamoDB needs moto: pip install 'moto[server]'") from error

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # else one log line per DynamoDB call
    # Port 0: the OS picks a free port at bind time, so there is no race with other processes.
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return f"http://{host}:{port}", server.stop
