"""A real git server on 127.0.0.1 for tests: git's own `git http-backend` (smart HTTP) run as a
CGI behind a small stdlib HTTP server, over repositories built in a temp dir with real git.

    with GitServer() as server:
        url = server.repository("demo", commits=[{"a.txt": "one"}, {"a.txt": "two", "b/c.py": "x"}])
        ... server.base_url, server.requests (method, path, git-protocol header, status)

`protocol_v2=False` drops the client's `Git-Protocol` header, so the backend answers protocol v0.
`token` requires HTTP Basic `x-access-token:<token>` (401 otherwise), as GitHub does for a private
repository. `repack=True` (default) runs `git repack -adf` so the served pack holds deltas.

The git binary: the machine's, else Debian's `git` package fetched with `apt-get download` into
.cache/debs and unpacked with `dpkg -x` (no root needed), as other test engines fetch theirs.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
DEBS = REPO / ".cache" / "debs"


def git_binary() -> tuple[str, dict[str, str]]:
    """The git executable and the environment it needs."""
    found = shutil.which("git")
    if found:
        return found, {}
    root = DEBS / "git-root"
    binary = root / "usr" / "bin" / "git"
    if not binary.exists():
        DEBS.mkdir(parents=True, exist_ok=True)
        subprocess.run(["apt-get", "download", "git"], cwd=DEBS, check=True, timeout=600, capture_output=True)
        deb = sorted(DEBS.glob("git_*.deb"))[-1]
        subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True, timeout=600)
    return str(binary), {"GIT_EXEC_PATH": str(root / "usr" / "lib" / "git-core")}


@dataclass
class Request:
    method: str
    path: str
    git_protocol: str
    authorization: str
    status: int


class GitServer:
    def __init__(self, *, protocol_v2: bool = True, token: str | None = None) -> None:
        self.protocol_v2 = protocol_v2
        self.token = token
        self._defaults = (protocol_v2, token)
        self.requests: list[Request] = []
        self.git, self.git_env = git_binary()
        self._dir = tempfile.TemporaryDirectory(prefix="flowless-git-")
        self.root = Path(self._dir.name) / "served"
        self.root.mkdir()
        self._work = Path(self._dir.name) / "work"
        self._work.mkdir()
        self.server: ThreadingHTTPServer | None = None
        self.base_url = ""

    # -- repositories --

    def run_git(self, *args: str, cwd: Path) -> str:
        env = {**os.environ, **self.git_env, "GIT_CONFIG_NOSYSTEM": "1", "HOME": self._dir.name,
               "GIT_AUTHOR_NAME": "Ada Lovelace", "GIT_AUTHOR_EMAIL": "ada@example.com",
               "GIT_COMMITTER_NAME": "Ada Lovelace", "GIT_COMMITTER_EMAIL": "ada@example.com"}
        done = subprocess.run([self.git, *args], cwd=cwd, env=env, check=True, capture_output=True, timeout=60)
        return done.stdout.decode()

    def repository(self, name: str, commits: list[dict[str, str | bytes | None]], *, branch: str = "main",
                   other_branches: dict[str, dict[str, str | bytes | None]] | None = None, repack: bool = True,
                   dates: list[str] | None = None) -> str:
        """A bare repository `name`.git from `commits` (each {path: content; None deletes, "symlink:<target>"
        makes a symlink}), on `branch`;
        `other_branches` each add one commit on top. Returns its URL."""
        work = self._work / name
        work.mkdir()
        self.run_git("init", "-q", "-b", branch, cwd=work)
        for index, files in enumerate(commits):
            self._write(work, files)
            self.run_git("add", "-A", cwd=work)
            date = (dates or [])[index] if dates and index < len(dates) else f"2024-01-0{1 + index % 9}T12:00:00+02:00"
            self._commit(work, f"commit {index + 1}\n\nbody of commit {index + 1}", date)
        for other, files in (other_branches or {}).items():
            self.run_git("checkout", "-q", "-b", other, cwd=work)
            self._write(work, files)
            self.run_git("add", "-A", cwd=work)
            self._commit(work, f"on {other}", "2024-02-01T08:00:00+00:00")
            self.run_git("checkout", "-q", branch, cwd=work)
        bare = self.root / f"{name}.git"
        self.run_git("clone", "-q", "--bare", str(work), str(bare), cwd=self._work)
        if repack:
            self.run_git("repack", "-adf", "-q", cwd=bare)
        return f"{self.base_url}/{name}.git"

    def reset(self) -> None:
        self.requests.clear()
        self.protocol_v2, self.token = self._defaults

    def head(self, name: str, ref: str = "HEAD") -> str:
        return self.run_git("rev-parse", ref, cwd=self.root / f"{name}.git").strip()

    def _write(self, work: Path, files: dict[str, str | bytes | None]) -> None:
        for path, content in files.items():
            target = work / path
            if content is None:
                target.unlink()
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, str) and content.startswith("symlink:"):
                os.symlink(content[len("symlink:"):], target)
                continue
            target.write_bytes(content if isinstance(content, bytes) else content.encode())

    def _commit(self, work: Path, message: str, date: str) -> None:
        env_args = ["-c", "commit.gpgsign=false"]
        saved = dict(self.git_env)
        self.git_env = {**saved, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
        try:
            self.run_git(*env_args, "commit", "-q", "-m", message, cwd=work)
        finally:
            self.git_env = saved

    # -- the server --

    def __enter__(self) -> "GitServer":
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return None

            def do_GET(self) -> None:
                self._cgi()

            def do_POST(self) -> None:
                self._cgi()

            def _cgi(self) -> None:
                auth = self.headers.get("authorization", "")
                protocol = self.headers.get("git-protocol", "")
                if owner.token is not None:
                    expected = "Basic " + base64.b64encode(f"x-access-token:{owner.token}".encode()).decode()
                    if auth != expected:
                        owner.requests.append(Request(self.command, self.path, protocol, auth, 401))
                        self._answer(401, b"Unauthorized", {"WWW-Authenticate": 'Basic realm="git"'})
                        return
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                path, _, query = self.path.partition("?")
                env = {**os.environ, **owner.git_env, "GIT_PROJECT_ROOT": str(owner.root), "GIT_HTTP_EXPORT_ALL": "1",
                       "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(owner.root), "REQUEST_METHOD": self.command,
                       "PATH_INFO": path, "QUERY_STRING": query, "CONTENT_TYPE": self.headers.get("content-type", ""),
                       "CONTENT_LENGTH": str(len(body)), "REMOTE_ADDR": "127.0.0.1", "GATEWAY_INTERFACE": "CGI/1.1",
                       "SERVER_PROTOCOL": "HTTP/1.1"}
                if protocol and owner.protocol_v2:
                    env["HTTP_GIT_PROTOCOL"] = protocol
                done = subprocess.run([owner.git, "http-backend"], input=body, env=env, capture_output=True, timeout=60)
                head, _, payload = done.stdout.partition(b"\r\n\r\n")
                if not _:
                    head, _, payload = done.stdout.partition(b"\n\n")
                status, headers = 200, {}
                for line in head.decode(errors="replace").splitlines():
                    key, _, value = line.partition(":")
                    if key.lower() == "status":
                        status = int(value.strip().split()[0])
                    elif key:
                        headers[key.strip()] = value.strip()
                owner.requests.append(Request(self.command, self.path, protocol, auth, status))
                self._answer(status, payload, headers)

            def _answer(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    if key.lower() != "content-length":
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
        self._dir.cleanup()
