"""A real `flowless run --backend-only` in a subprocess on a free port, talking HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.model_server import ModelServer

REPO = Path(__file__).resolve().parents[2]
DEV_KEY = "sk-e2e-test-key-0000000000000000000000000000000"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def model_server() -> Iterator[ModelServer]:
    with ModelServer() as server:
        yield server


@pytest.fixture(scope="module")
def local_server(model_server: ModelServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    port = free_port()
    workdir = tmp_path_factory.mktemp("server")
    env = {
        **os.environ,
        "FLOWLESS_API_KEY": DEV_KEY,
        "OPENAI_BASE_URL": model_server.base_url,
        "FLOWLESS_LOCAL_KEY_FILE": str(workdir / "local.key"),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
    log = (workdir / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "flowless", "run", "--backend-only", "--port", str(port), "--flows", str(REPO / "flows")],
        cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {(workdir / 'server.log').read_text()}")
        try:
            if requests.get(f"{base}/health", timeout=1).ok:
                break
        except requests.ConnectionError:
            time.sleep(0.2)
    else:
        process.kill()
        raise AssertionError(f"server did not start: {(workdir / 'server.log').read_text()}")
    yield {"base": base, "key": DEV_KEY, "log": workdir / "server.log", "workdir": workdir}
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()
