"""A real Chroma server (the `chromadb` package's `chroma run`) on 127.0.0.1, for tests.

The server comes from PyPI like the other engines the tests start: chromadb==1.5.9 is installed
once into .cache/chroma-venv (a venv of its own: it is large and only the tests need it), then
each `ChromaServer()` runs it on a free port with a temporary data directory.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VENV = REPO / ".cache" / "chroma-venv"
VERSION = "1.5.9"


def chroma_executable() -> Path:
    executable = VENV / "bin" / "chroma"
    if not executable.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(VENV / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check", f"chromadb=={VERSION}"],
                       check=True, timeout=900)
    return executable


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ChromaServer:
    def __init__(self) -> None:
        self.port = _free_port()
        self.host = "127.0.0.1"
        self.base_url = f"http://{self.host}:{self.port}"
        self._data = tempfile.mkdtemp(prefix="flowless-chroma-")
        self._log = open(Path(self._data) / "server.log", "w")  # noqa: SIM115 - closed in close()
        self._process = subprocess.Popen([str(chroma_executable()), "run", "--path", self._data, "--host", self.host, "--port", str(self.port)],
                                         stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{self.base_url}/api/v2/heartbeat", timeout=1):
                    break
            except OSError:
                if self._process.poll() is not None or time.monotonic() > deadline:
                    self.close()
                    raise RuntimeError(f"the Chroma server did not start (see {self._data}/server.log)")
                time.sleep(0.2)

    def __enter__(self) -> "ChromaServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
        self._log.close()
        shutil.rmtree(self._data, ignore_errors=True)

    def count(self, collection: str) -> int:
        import json

        root = f"{self.base_url}/api/v2/tenants/default_tenant/databases/default_database/collections"
        try:
            with urllib.request.urlopen(f"{root}/{collection}", timeout=5) as answer:
                collection_id = json.load(answer)["id"]
        except OSError:
            return 0
        with urllib.request.urlopen(f"{root}/{collection_id}/count", timeout=5) as answer:
            return int(json.load(answer))
