"""A shallow fetch over git's smart HTTP protocol, in pure Python (no git binary, no shell).

What it does, as a git client would for `git clone --depth 1 [--branch B] URL`:
1. `GET URL/info/refs?service=git-upload-pack` with `Git-Protocol: version=2`. A server that
   speaks protocol v2 answers `version 2` and its capabilities; an older one lists its refs (v0).
2. v2: `POST URL/git-upload-pack` `command=ls-refs` (HEAD's symref and the branches), then
   `command=fetch` with `want <sha>`, `deepen 1`, `ofs-delta`, `no-progress`, `done`.
   v0: the same wants in one stateless request (`want <sha> side-band-64k ofs-delta shallow`,
   `deepen 1`, flush, `done`).
3. The pack arrives in side-band-64k pkt-lines (band 1 data, 2 progress, 3 error). It is parsed
   here: object headers, zlib streams, OFS/REF deltas resolved against their bases.
4. The commit's tree is walked into files (path, mode, bytes). Symlinks are not followed;
   submodules (gitlinks) are listed as empty folders, as a plain clone leaves them.

Every request goes through the engine's guarded HTTP client (SSRF guard on every hop, timeouts);
the pack and each object are bounded (`EngineSettings.git_max_pack_bytes` / `git_max_file_bytes`).
Errors: 401/403 → ProviderAuthError, 404 or an unknown branch → ConfigurationError (both 4xx naming
the repository), a limit → LimitExceededError (413), a broken answer → ProviderError (502).
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit, urlunsplit

from flowless_engine.errors import ConfigurationError, LimitExceededError, ProviderAuthError, ProviderError, ProviderTimeoutError

if TYPE_CHECKING:  # pragma: no cover
    from flowless_engine.http import HttpClient

PROVIDER = "Git"
_TYPES = {1: "commit", 2: "tree", 3: "blob", 4: "tag"}
_OFS_DELTA, _REF_DELTA = 6, 7
_AGENT = "agent=flowless/0.1"
# Some hosts answer only git clients (a "git/" user agent) with the smart protocol.
GIT_USER_AGENT = "git/2.0 (flowless/0.1)"


# ---- results ----------------------------------------------------------------------------


@dataclass
class GitFile:
    path: str  # relative, "/"-separated
    mode: str  # "100644", "100755", "120000" (symlink)
    content: bytes

    @property
    def is_symlink(self) -> bool:
        return self.mode == "120000"


@dataclass
class Snapshot:
    """The tree of one commit, as a shallow clone checks it out."""

    url: str
    branch: str  # the branch checked out (the remote's HEAD unless asked)
    branches: list[str]  # every branch the remote has
    commit: str
    author_name: str
    author_email: str
    message: str
    committed_at: str  # "YYYY-MM-DD HH:MM:SS+HH:MM", in the committer's offset
    files: list[GitFile] = field(default_factory=list)
    folders: list[str] = field(default_factory=list)  # every folder path, "" excluded
    deltas: dict[str, int] = field(default_factory=dict)  # how many OFS/REF deltas the pack held

    @property
    def name(self) -> str:
        return self.url.rstrip("/").split("/")[-1]


# ---- pkt-line ----------------------------------------------------------------------------


def pkt(line: str | bytes) -> bytes:
    data = line.encode() if isinstance(line, str) else line
    return f"{len(data) + 4:04x}".encode() + data


FLUSH, DELIM = b"0000", b"0001"


def read_pkts(buf: bytes) -> list[bytes | None]:
    """Every pkt-line payload; None stands for a flush/delim/response-end packet."""
    out: list[bytes | None] = []
    pos = 0
    while pos < len(buf):
        head = buf[pos:pos + 4]
        try:
            size = int(head, 16)
        except ValueError:
            raise ProviderError(f"the git server sent a malformed pkt-line ({head!r})", provider=PROVIDER) from None
        if size < 4:
            out.append(None)
            pos += 4
            continue
        if pos + size > len(buf):
            raise ProviderError("the git server's answer ended in the middle of a pkt-line", provider=PROVIDER)
        out.append(buf[pos + 4:pos + size])
        pos += size
    return out


# ---- the fetch ---------------------------------------------------------------------------


def split_credentials(url: str) -> tuple[str, dict[str, str]]:
    """`https://user:token@host/x` → the URL without them and a Basic authorization header."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, {}
    user, password = unquote(parts.username or ""), unquote(parts.password or "")
    if not password:  # https://TOKEN@github.com/...: the token alone, as git accepts it
        user, password = "x-access-token", user
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port:
        netloc += f":{parts.port}"
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, "")), {"authorization": f"Basic {token}"}


def repository_url(raw: str) -> str:
    """The URL to fetch from, refusing what is not an http(s) repository URL."""
    url = (raw or "").strip()
    if not url:
        raise ConfigurationError("A Git repository URL is required")
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise ConfigurationError(
            f"Git repository '{url}' cannot be fetched: only http(s) URLs are supported (got {scheme or 'no scheme'}); "
            "ssh, git://, file:// and local paths are not available")
    return url.rstrip("/")


def safe_url(url: str) -> str:
    """The URL with any credentials removed, for messages."""
    return split_credentials(url)[0]


async def shallow_fetch(http: "HttpClient", url: str, *, branch: str | None = None, max_pack_bytes: int,
                        max_file_bytes: int, timeout: float | None = None, ofs_delta: bool = True) -> Snapshot:
    base, auth = split_credentials(repository_url(url))
    session = _Session(http, base, auth, timeout)
    refs, head_target, v2 = await session.discover()
    if v2:
        refs, head_target = await session.ls_refs()
    branches = sorted(name[len("refs/heads/"):] for name in refs if name.startswith("refs/heads/"))
    if branch:
        sha = refs.get(f"refs/heads/{branch}") or refs.get(f"refs/tags/{branch}")
        if sha is None:
            known = ", ".join(branches[:20]) or "none"
            raise ConfigurationError(f"Git repository '{base}' has no branch '{branch}' (branches: {known})")
        checked_out = branch
    else:
        sha = refs.get("HEAD") or (refs.get(head_target) if head_target else None)
        if sha is None and branches:
            sha = refs[f"refs/heads/{branches[0]}"]
            head_target = f"refs/heads/{branches[0]}"
        if sha is None:
            raise ConfigurationError(f"Git repository '{base}' is empty (no commit to read)")
        checked_out = head_target[len("refs/heads/"):] if head_target and head_target.startswith("refs/heads/") else "HEAD"
    pack = Pack(await session.fetch_pack(sha, v2, max_pack_bytes, ofs_delta), max_object_bytes=max_file_bytes, what=base)
    snap = _snapshot(base, checked_out, branches, sha, pack.objects())
    snap.deltas = pack.deltas
    return snap


class _Session:
    def __init__(self, http: "HttpClient", base: str, auth: dict[str, str], timeout: float | None) -> None:
        self.http, self.base, self.auth, self.timeout = http, base, auth, timeout

    def _fail(self, exc: Exception) -> Exception:
        from flowless_engine.http import HttpError, HttpTimeout

        if isinstance(exc, HttpTimeout):
            return ProviderTimeoutError(f"Git repository '{self.base}' did not answer in time: {exc}", provider=PROVIDER)
        if isinstance(exc, HttpError) and exc.status in (401, 403):
            hint = "the credentials in the URL were refused" if self.auth else "it is private: put a token in the URL (https://TOKEN@host/owner/repo)"
            return ProviderAuthError(f"Git repository '{self.base}' refused access ({exc.status}): {hint}", provider=PROVIDER, status=exc.status)
        if isinstance(exc, HttpError) and exc.status == 404:
            return ConfigurationError(f"Git repository '{self.base}' was not found (404): check the URL (a private repository needs a token)")
        if isinstance(exc, HttpError) and exc.status is not None and 400 <= exc.status < 500:
            return ConfigurationError(f"Git repository '{self.base}' refused the request ({exc.status})")
        return ProviderError(f"Git repository '{self.base}' could not be fetched: {exc}", provider=PROVIDER,
                             status=getattr(exc, "status", None))

    async def discover(self) -> tuple[dict[str, str], str | None, bool]:
        """Refs (v0) or the v2 marker from info/refs."""
        from flowless_engine.http import HttpError, HttpTimeout

        try:
            answer = await self.http.request("GET", f"{self.base}/info/refs?service=git-upload-pack",
                                             headers={**self.auth, "user-agent": GIT_USER_AGENT, "git-protocol": "version=2", "accept": "*/*"}, timeout=self.timeout)
        except (HttpError, HttpTimeout) as exc:
            raise self._fail(exc) from exc
        if answer.headers.get("content-type", "").split(";")[0].strip() != "application/x-git-upload-pack-advertisement":
            raise ProviderError(f"'{self.base}' is not a git repository served over smart HTTP "
                                f"(content type {answer.headers.get('content-type', 'none')!r})", provider=PROVIDER)
        lines = [p for p in read_pkts(answer.content)]
        # "# service=git-upload-pack", flush, then the v2 capabilities or the v0 refs.
        while lines and (lines[0] is None or lines[0].startswith(b"# service=")):
            lines.pop(0)
        if lines and lines[0] is not None and lines[0].rstrip(b"\n") == b"version 2":
            return {}, None, True
        refs: dict[str, str] = {}
        head_target = None
        for index, line in enumerate(lines):
            if line is None:
                break
            text = line.rstrip(b"\n")
            if index == 0 and b"\0" in text:
                text, caps = text.split(b"\0", 1)
                for cap in caps.decode(errors="replace").split():
                    if cap.startswith("symref=HEAD:"):
                        head_target = cap[len("symref=HEAD:"):]
            sha, _, name = text.decode(errors="replace").partition(" ")
            if name == "capabilities^{}":  # an empty repository
                continue
            refs[name] = sha
        return refs, head_target, False

    async def _post(self, body: bytes, v2: bool, limit: int) -> bytes:
        from flowless_engine.http import HttpError, HttpTimeout

        headers = {**self.auth, "user-agent": GIT_USER_AGENT, "content-type": "application/x-git-upload-pack-request",
                   "accept": "application/x-git-upload-pack-result"}
        if v2:
            headers["git-protocol"] = "version=2"
        parts: list[bytes] = []
        size = 0
        try:
            async for chunk in self.http.stream_bytes("POST", f"{self.base}/git-upload-pack", headers=headers, content=body,
                                                      timeout=self.timeout):
                size += len(chunk)
                if size > limit:
                    raise LimitExceededError(
                        f"Git repository '{self.base}' is too large: its pack exceeds {limit} bytes "
                        "(FLOWLESS_GIT_MAX_PACK_BYTES)", limit=limit)
                parts.append(chunk)
        except (HttpError, HttpTimeout) as exc:
            raise self._fail(exc) from exc
        return b"".join(parts)

    async def ls_refs(self) -> tuple[dict[str, str], str | None]:
        body = b"".join([pkt("command=ls-refs\n"), pkt(_AGENT + "\n"), DELIM, pkt("symrefs\n"), pkt("peel\n"),
                         pkt("ref-prefix HEAD\n"), pkt("ref-prefix refs/heads/\n"), pkt("ref-prefix refs/tags/\n"), FLUSH])
        refs: dict[str, str] = {}
        head_target = None
        for line in read_pkts(await self._post(body, True, 16 * 1024 * 1024)):
            if line is None:
                break
            sha, name, *attrs = line.rstrip(b"\n").decode(errors="replace").split(" ")
            for attr in attrs:
                if attr.startswith("symref-target:") and name == "HEAD":
                    head_target = attr[len("symref-target:"):]
                if attr.startswith("peeled:"):  # an annotated tag: check out the commit it points at
                    sha = attr[len("peeled:"):]
            refs[name] = sha
        return refs, head_target

    async def fetch_pack(self, sha: str, v2: bool, limit: int, ofs_delta: bool = True) -> bytes:
        # Without ofs-delta the server sends REF deltas (the base named by its id).
        if v2:
            body = b"".join([pkt("command=fetch\n"), pkt(_AGENT + "\n"), DELIM, *([pkt("ofs-delta\n")] if ofs_delta else []),
                             pkt("no-progress\n"), pkt(f"want {sha}\n"), pkt("deepen 1\n"), pkt("done\n"), FLUSH])
        else:
            caps = "side-band-64k ofs-delta" if ofs_delta else "side-band-64k"
            body = b"".join([pkt(f"want {sha} {caps} shallow no-progress {_AGENT}\n"),
                             pkt("deepen 1\n"), FLUSH, pkt("done\n")])
        raw = await self._post(body, v2, limit + 1024 * 1024)
        return self._unband(raw, v2, limit)

    def _unband(self, raw: bytes, v2: bool, limit: int) -> bytes:
        """The pack bytes out of the side-band stream (v2: after the `packfile` section header)."""
        data: list[bytes] = []
        in_pack = not v2
        size = 0
        for line in read_pkts(raw):
            if line is None:
                continue
            if not in_pack:
                in_pack = line.rstrip(b"\n") == b"packfile"
                continue
            band = line[0]
            if band == 1:
                size += len(line) - 1
                if size > limit:
                    raise LimitExceededError(f"Git repository '{self.base}' is too large: its pack exceeds {limit} bytes "
                                             "(FLOWLESS_GIT_MAX_PACK_BYTES)", limit=limit)
                data.append(line[1:])
            elif band == 3:
                message = line[1:].decode(errors="replace").strip()
                raise ProviderError(f"Git repository '{self.base}' failed to send its files: {message}", provider=PROVIDER)
            elif band == 2:
                continue
            elif line.startswith(b"ERR "):
                raise ProviderError(f"Git repository '{self.base}' failed to send its files: {line[4:].decode(errors='replace').strip()}",
                                    provider=PROVIDER)
            # v0: "shallow <sha>", "NAK", "ACK ..." lines before the pack carry nothing we need.
        if not data:
            raise ProviderError(f"Git repository '{self.base}' sent no pack", provider=PROVIDER)
        return b"".join(data)


# ---- packfile ----------------------------------------------------------------------------


class Pack:
    """The objects of a version 2 pack, deltas resolved. `objects()` → {sha: (type, bytes)}."""

    def __init__(self, data: bytes, *, max_object_bytes: int, what: str) -> None:
        self.data = data
        self.max = max_object_bytes
        self.what = what
        self.view = memoryview(data)
        self.deltas = {"ofs": 0, "ref": 0}

    def _broken(self, why: str) -> ProviderError:
        return ProviderError(f"Git repository '{self.what}' sent a broken pack: {why}", provider=PROVIDER)

    def _too_big(self, size: int) -> LimitExceededError:
        return LimitExceededError(f"Git repository '{self.what}' holds a file of {size} bytes, more than the {self.max} "
                                  "bytes allowed (FLOWLESS_GIT_MAX_FILE_BYTES)", limit=self.max)

    def _inflate(self, pos: int, size: int) -> tuple[bytes, int]:
        """The zlib stream at `pos` (declared inflated `size`) and where the next object starts."""
        if size > self.max:
            raise self._too_big(size)
        stream = zlib.decompressobj()
        out: list[bytes] = []
        got = 0
        cursor = pos
        # The compressed form is rarely much longer than the object: a first read of about its size
        # keeps what zlib copies back (`unused_data`) small for the many small objects of a pack.
        step = min(65536, size + size // 64 + 64)
        while not stream.eof:
            chunk = stream.unconsumed_tail or self.view[cursor:cursor + step]
            step = 65536
            if not stream.unconsumed_tail:
                if not chunk:
                    raise self._broken("a compressed object is cut short")
                cursor += len(chunk)
            try:
                part = stream.decompress(chunk, size - got + 1)
            except zlib.error as exc:
                raise self._broken(f"bad compressed data ({exc})") from None
            got += len(part)
            if got > size:
                raise self._broken("an object is larger than its header says")
            out.append(part)
        end = cursor - len(stream.unused_data)
        if got != size:
            raise self._broken("an object is smaller than its header says")
        return b"".join(out), end

    def objects(self) -> dict[str, tuple[str, bytes]]:
        data = self.data
        if len(data) < 32 or data[:4] != b"PACK":
            raise self._broken("it does not start with a pack header")
        version = int.from_bytes(data[4:8], "big")
        if version not in (2, 3):
            raise self._broken(f"unsupported pack version {version}")
        count = int.from_bytes(data[8:12], "big")
        if hashlib.sha1(data[:-20]).digest() != data[-20:]:
            raise self._broken("its checksum does not match")
        pos = 12
        by_offset: dict[int, tuple[str, bytes]] = {}
        pending: list[tuple[int, int | str, bytes]] = []  # (offset, base offset or base sha, delta)
        for _ in range(count):
            start = pos
            byte = data[pos]
            pos += 1
            kind = (byte >> 4) & 7
            size = byte & 15
            shift = 4
            while byte & 0x80:
                byte = data[pos]
                pos += 1
                size |= (byte & 0x7F) << shift
                shift += 7
            if kind in _TYPES:
                body, pos = self._inflate(pos, size)
                by_offset[start] = (_TYPES[kind], body)
            elif kind == _OFS_DELTA:
                byte = data[pos]
                pos += 1
                back = byte & 0x7F
                while byte & 0x80:
                    byte = data[pos]
                    pos += 1
                    back = ((back + 1) << 7) | (byte & 0x7F)
                delta, pos = self._inflate(pos, size)
                pending.append((start, start - back, delta))
                self.deltas["ofs"] += 1
            elif kind == _REF_DELTA:
                base_sha = data[pos:pos + 20].hex()
                pos += 20
                delta, pos = self._inflate(pos, size)
                pending.append((start, base_sha, delta))
                self.deltas["ref"] += 1
            else:
                raise self._broken(f"unknown object type {kind}")
        if pos != len(data) - 20:
            raise self._broken("trailing bytes after the last object")
        by_sha: dict[str, tuple[str, bytes]] = {}
        sha_at: dict[int, str] = {}
        for offset, (kind_name, body) in by_offset.items():
            sha = _object_id(kind_name, body)
            by_sha[sha] = (kind_name, body)
            sha_at[offset] = sha
        # Resolve deltas whose base is known, repeating until none is left (chains of any order).
        while pending:
            left: list[tuple[int, int | str, bytes]] = []
            for offset, base, delta in pending:
                found = by_offset.get(base) if isinstance(base, int) else by_sha.get(base)
                if found is None:
                    left.append((offset, base, delta))
                    continue
                kind_name, source = found
                body = self._apply(source, delta)
                by_offset[offset] = (kind_name, body)
                sha = _object_id(kind_name, body)
                by_sha[sha] = (kind_name, body)
                sha_at[offset] = sha
            if len(left) == len(pending):
                raise self._broken(f"{len(left)} deltas refer to objects the pack does not hold")
            pending = left
        return by_sha

    def _apply(self, source: bytes, delta: bytes) -> bytes:
        pos = 0

        def varint() -> int:
            nonlocal pos
            value = shift = 0
            while True:
                byte = delta[pos]
                pos += 1
                value |= (byte & 0x7F) << shift
                shift += 7
                if not byte & 0x80:
                    return value

        try:
            if varint() != len(source):
                raise self._broken("a delta does not match its base")
            target_size = varint()
            if target_size > self.max:
                raise self._too_big(target_size)
            out = bytearray()
            while pos < len(delta):
                op = delta[pos]
                pos += 1
                if op & 0x80:
                    offset = length = 0
                    for i in range(4):
                        if op & (1 << i):
                            offset |= delta[pos] << (8 * i)
                            pos += 1
                    for i in range(3):
                        if op & (0x10 << i):
                            length |= delta[pos] << (8 * i)
                            pos += 1
                    length = length or 0x10000
                    if offset + length > len(source):
                        raise self._broken("a delta copies past its base")
                    out += source[offset:offset + length]
                elif op:
                    out += delta[pos:pos + op]
                    pos += op
                else:
                    raise self._broken("a delta holds a reserved instruction")
        except IndexError:
            raise self._broken("a delta is cut short") from None
        if len(out) != target_size:
            raise self._broken("a delta's result has the wrong size")
        return bytes(out)


def _object_id(kind: str, body: bytes) -> str:
    return hashlib.sha1(f"{kind} {len(body)}\0".encode() + body).hexdigest()


# ---- commit and tree ---------------------------------------------------------------------


def _signature(line: str) -> tuple[str, str, str]:
    """`Name <email> 1700000000 +0100` → name, email, "2023-11-14 22:13:20+01:00"."""
    from datetime import datetime, timedelta, timezone

    name, _, rest = line.partition(" <")
    email, _, when = rest.partition("> ")
    stamp, _, offset = when.strip().partition(" ")
    try:
        sign = -1 if offset.startswith("-") else 1
        minutes = sign * (int(offset[1:3]) * 60 + int(offset[3:5]))
        moment = datetime.fromtimestamp(int(stamp), timezone(timedelta(minutes=minutes)))
        date = str(moment)
    except (ValueError, IndexError):
        date = when.strip()
    return name.strip(), email, date


def _snapshot(base: str, branch: str, branches: list[str], sha: str, objects: dict[str, tuple[str, bytes]]) -> Snapshot:
    def get(object_id: str, kind: str) -> bytes:
        found = objects.get(object_id)
        if found is None or found[0] != kind:
            raise ProviderError(f"Git repository '{base}' sent a pack without the {kind} {object_id}", provider=PROVIDER)
        return found[1]

    commit_sha = sha
    kind, body = objects.get(sha, ("", b""))
    while kind == "tag":  # an annotated tag names its commit on the first line
        commit_sha = body.split(b"\n", 1)[0].split(b" ", 1)[1].decode()
        kind, body = objects.get(commit_sha, ("", b""))
    commit = get(commit_sha, "commit").decode("utf-8", errors="replace")
    header, _, message = commit.partition("\n\n")
    tree = author = committer = ""
    for line in header.split("\n"):
        key, _, value = line.partition(" ")
        if key == "tree" and not tree:
            tree = value
        elif key == "author":
            author = value
        elif key == "committer":
            committer = value
    author_name, author_email, _ = _signature(author)
    _, _, committed_at = _signature(committer or author)
    snap = Snapshot(base, branch, branches, commit_sha, author_name, author_email, message.strip(), committed_at)

    def walk(tree_sha: str, prefix: str) -> None:
        body = get(tree_sha, "tree")
        pos = 0
        while pos < len(body):
            space = body.index(b" ", pos)
            nul = body.index(b"\0", space)
            mode = body[pos:space].decode()
            name = body[space + 1:nul].decode("utf-8", errors="replace")
            entry = body[nul + 1:nul + 21].hex()
            pos = nul + 21
            path = f"{prefix}{name}"
            if mode == "40000":
                snap.folders.append(path)
                walk(entry, path + "/")
            elif mode == "160000":  # a submodule: an empty folder in a plain clone
                snap.folders.append(path)
            else:
                snap.files.append(GitFile(path, mode, get(entry, "blob")))

    walk(tree, "")
    return snap
