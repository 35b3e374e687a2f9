"""GitExtractorComponent and GitLoaderComponent against a real git server (git http-backend on
127.0.0.1, tests/support/git_server.py): protocol v2 and v0, delta-compressed packs (OFS and REF),
branches, filters, a private repository, and the 4xx/413 errors."""

from __future__ import annotations

import os
import random
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from flowless_engine.errors import BlockedURLError, ConfigurationError, LimitExceededError, ProviderAuthError
from flowless_engine.gitfetch import shallow_fetch
from flowless_engine.http import HttpClient
from flowless_engine.settings import EngineSettings
from shared.flowless.api.errors import engine_error_response
from tests.support.component_runs import run_flow, value
from tests.support.flows import edge, flow, node
from tests.support.git_server import GitServer

rng = random.Random(7)
BIG = "\n".join(f"def f{i}(x):\n    return x * {rng.randint(0, 10**9)}" for i in range(1500)) + "\n"
COMMITS = [
    {"README.md": "# demo\n", "src/app.py": BIG, "src/copy.py": BIG + "# copy\n"},
    {"src/app.py": BIG + "def extra():\n    pass\n", "docs/guide.txt": "hello\r\nworld\rthird", "tests/test_app.py": "def test():\n    assert True\n"},
    {"src/app.py": BIG + "def extra():\n    return 2\n", "bin/blob.bin": bytes(range(256)) * 4, "docs/old.txt": "x", "link": "symlink:README.md"},
    {"docs/old.txt": None, "src/pkg/deep/mod.py": "VALUE = 'needle'\n", "latin.txt": "caf\xe9".encode("latin-1")},
]


@pytest.fixture(scope="module")
def server() -> Iterator[GitServer]:
    with GitServer() as s:
        s.repository("demo", COMMITS, other_branches={"dev": {"dev_only.py": "print('dev')\n", "README.md": "# dev\n"}})
        yield s


@pytest.fixture(autouse=True)
def _reset(server: GitServer) -> None:
    server.reset()


@pytest.fixture(scope="module")
def checkout(server: GitServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What real git checks out at HEAD: the expected files."""
    target = tmp_path_factory.mktemp("clone") / "demo"
    server.run_git("clone", "-q", str(server.root / "demo.git"), str(target), cwd=target.parent)
    return target


def settings(**extra: object) -> EngineSettings:
    return EngineSettings(**{"allow_loopback": True, "http_retries": 0, **extra})


def extractor(url: str) -> dict:
    """The extractor with each output feeding a node (the engine computes the outputs that are used)."""
    nodes = [node("GitExtractorComponent-g", "GitExtractorComponent", {"repository_url": url})]
    edges = []
    for index, (name, kind) in enumerate([("text_based_file_contents", "Message"), ("directory_structure", "Message"),
                                          ("repository_info", "Data"), ("statistics", "Data"), ("files_content", "Data")]):
        if kind == "Message":
            nodes.append(node(f"ChatOutput-{index}", "ChatOutput", {}))
            edges.append(edge("GitExtractorComponent-g", name, f"ChatOutput-{index}", "input_value"))
        else:
            nodes.append(node(f"ParseData-{index}", "ParseData", {}))
            edges.append(edge("GitExtractorComponent-g", name, f"ParseData-{index}", "data", output_types=["Data"], input_types=["Data"]))
    return flow("git", nodes, edges)


def loader(url: str, **values: object) -> dict:
    return flow("git", [node("GitLoaderComponent-l", "GitLoaderComponent", {"repo_source": "Remote", "clone_url": url, **values})], [])


def checked_out_files(root: Path) -> dict[str, bytes]:
    out = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in files:
            path = Path(folder) / name
            if not path.is_symlink():
                out[str(path.relative_to(root))] = path.read_bytes()
    return out


async def test_extractor_outputs_match_a_real_clone(server: GitServer, checkout: Path) -> None:
    url = f"{server.base_url}/demo.git"
    result = await run_flow(extractor(url), settings=settings())
    files = {row.data["path"]: row.data for row in value(result, "GitExtractorComponent-g", "files_content")}
    expected = checked_out_files(checkout)
    assert set(files) == set(expected) and "link" not in files and "docs/old.txt" not in files
    for path, content in expected.items():
        assert files[path]["size"] == len(content)
        try:
            text = content.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
        except UnicodeDecodeError:
            text = "[BINARY FILE]"
        assert files[path]["content"] == text
    assert files["latin.txt"]["content"] == "[BINARY FILE]"

    info = value(result, "GitExtractorComponent-g", "repository_info")[0].data
    assert info["name"] == "demo.git" and info["url"] == url and info["remote_urls"] == [url]
    assert info["default_branch"] == "main" and info["branches"] == ["main"]
    assert info["last_commit"] == {"hash": server.head("demo"), "author": "Ada Lovelace", "message": "commit 4\n\nbody of commit 4",
                                   "date": "2024-01-04 12:00:00+02:00"}

    stats = value(result, "GitExtractorComponent-g", "statistics")[0].data
    texts = [c for c in expected.values() if _utf8(c)]
    lines = sum(len(c.decode().splitlines()) for c in texts)
    folders = sum(len([d for d in dirs if d != ".git"]) for _f, dirs, _files in os.walk(checkout) if ".git" not in Path(_f).parts)
    assert stats == {"total_files": len(expected), "total_size_bytes": sum(map(len, expected.values())),
                     "total_size_kb": round(sum(map(len, expected.values())) / 1024, 2),
                     "total_size_mb": round(sum(map(len, expected.values())) / (1024 * 1024), 2),
                     "total_lines": lines, "binary_files": 2, "directories": folders}

    tree = value(result, "GitExtractorComponent-g", "directory_structure").text.split("\n")
    assert tree[:3] == ["Directory structure:", "└── demo.git", "    ├── README.md"]
    assert "    ├── src" in tree and "        ├── pkg" in tree and "                ├── mod.py" in tree

    text = value(result, "GitExtractorComponent-g", "text_based_file_contents").text
    assert text.startswith("(Files content cropped to 300k characters")
    assert "=" * 50 + "\nFile: /src/pkg/deep/mod.py\n" + "=" * 50 + "\nVALUE = 'needle'\n" in text
    assert "File: /bin/blob.bin\n" + "=" * 50 + "\n[BINARY FILE]" in text
    # One fetch served all five outputs: discovery, ls-refs, fetch.
    assert [r.method for r in server.requests] == ["GET", "POST", "POST"]
    assert all(r.git_protocol == "version=2" for r in server.requests)


def _utf8(content: bytes) -> bool:
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@pytest.mark.parametrize("v2", [True, False])
@pytest.mark.parametrize("ofs", [True, False])
async def test_delta_packs_over_both_protocols(server: GitServer, checkout: Path, v2: bool, ofs: bool) -> None:
    server.protocol_v2 = v2
    http = HttpClient(allow_loopback=True, retries=0)
    try:
        snap = await shallow_fetch(http, f"{server.base_url}/demo.git", max_pack_bytes=10**8, max_file_bytes=10**7, ofs_delta=ofs)
    finally:
        await http.aclose()
    assert snap.deltas["ofs" if ofs else "ref"] > 0 and snap.deltas["ref" if ofs else "ofs"] == 0
    got = {f.path: f.content for f in snap.files if not f.is_symlink}
    assert got == checked_out_files(checkout)
    assert snap.commit == server.head("demo") and snap.branches == ["dev", "main"]


async def test_loader_branch_and_filters_over_protocol_v0(server: GitServer) -> None:
    server.protocol_v2 = False
    url = f"{server.base_url}/demo.git"
    rows = value(await run_flow(loader(url, branch="dev", file_filter="*.py, !tests/*"), settings=settings()), "GitLoaderComponent-l")
    by_path = {r.data["source"]: r.data for r in rows}
    assert set(by_path) == {"dev_only.py", "src/app.py", "src/copy.py", "src/pkg/deep/mod.py"}
    assert by_path["dev_only.py"] == {"source": "dev_only.py", "file_path": "dev_only.py", "file_name": "dev_only.py", "file_type": ".py",
                                      "text": "print('dev')\n"}
    assert [r.data["source"] for r in rows][0] == "dev_only.py"  # breadth first: the root's files first
    # No filter: every UTF-8 text file without NUL bytes; README from the dev branch.
    rows = value(await run_flow(loader(url, branch="dev"), settings=settings()), "GitLoaderComponent-l")
    paths = {r.data["source"]: r.data["text"] for r in rows}
    assert "bin/blob.bin" not in paths and "latin.txt" not in paths and "link" not in paths and paths["README.md"] == "# dev\n"
    # Content regex (multiline), and a broken regex matching nothing, as Langflow does.
    rows = value(await run_flow(loader(url, branch="main", content_filter=r"^VALUE = 'needle'$"), settings=settings()), "GitLoaderComponent-l")
    assert [r.data["source"] for r in rows] == ["src/pkg/deep/mod.py"]
    rows = value(await run_flow(loader(url, branch="main", content_filter="(unclosed"), settings=settings()), "GitLoaderComponent-l")
    assert rows == []
    assert server.requests and all(r.status == 200 for r in server.requests)


async def test_private_repository_needs_a_token(server: GitServer) -> None:
    server.token = "s3cret"
    url = f"{server.base_url}/demo.git"
    with pytest.raises(ProviderAuthError, match=r"Git repository 'http://127.0.0.1:\d+/demo.git' refused access \(401\)") as caught:
        await run_flow(extractor(url), settings=settings())
    assert engine_error_response(caught.value)[0] == 422
    with_token = url.replace("http://", "http://s3cret@")
    info = value(await run_flow(extractor(with_token), settings=settings()), "GitExtractorComponent-g", "repository_info")[0].data
    assert info["url"] == url and "s3cret" not in str(info)
    assert server.requests[-1].authorization.startswith("Basic ") and server.requests[-1].status == 200
    with pytest.raises(ProviderAuthError) as caught:
        await run_flow(extractor(url.replace("http://", "http://x-access-token:wrong@")), settings=settings())
    assert "wrong" not in caught.value.message


async def test_missing_repository_branch_and_bad_urls_are_4xx(server: GitServer) -> None:
    with pytest.raises(ConfigurationError, match=r"Git repository 'http://127.0.0.1:\d+/nope.git' was not found \(404\)") as caught:
        await run_flow(extractor(f"{server.base_url}/nope.git"), settings=settings())
    assert engine_error_response(caught.value)[0] == 422
    with pytest.raises(ConfigurationError, match=r"has no branch 'release' \(branches: dev, main\)"):
        await run_flow(loader(f"{server.base_url}/demo.git", branch="release"), settings=settings())
    for bad in ("ext::sh -c id", "file:///etc", "/srv/repo", "ssh://git@host/x.git", ""):
        with pytest.raises(ConfigurationError):
            await run_flow(extractor(bad), settings=settings())
    with pytest.raises(ConfigurationError, match="local repository path is not available"):
        await run_flow(flow("git", [node("GitLoaderComponent-l", "GitLoaderComponent", {"repo_source": "Local", "repo_path": "/etc"})], []),
                       settings=settings())
    with pytest.raises(BlockedURLError):  # the SSRF guard: loopback is not allowed by default
        await run_flow(extractor(f"{server.base_url}/demo.git"), settings=EngineSettings())


async def test_oversized_pack_or_file_is_413(server: GitServer) -> None:
    url = f"{server.base_url}/demo.git"
    with pytest.raises(LimitExceededError, match=r"Git repository 'http://127.0.0.1:\d+/demo.git' is too large") as caught:
        await run_flow(extractor(url), settings=settings(git_max_pack_bytes=4096))
    assert engine_error_response(caught.value)[0] == 413
    with pytest.raises(LimitExceededError, match=r"holds a file of \d+ bytes, more than the 10000 bytes allowed") as caught:
        await run_flow(extractor(url), settings=settings(git_max_file_bytes=10_000))
    assert engine_error_response(caught.value)[0] == 413


def test_the_server_serves_real_git(server: GitServer, tmp_path: Path) -> None:
    """The test server is a real smart-HTTP git server: git itself clones from it."""
    done = subprocess.run([server.git, "clone", "-q", "--depth", "1", f"{server.base_url}/demo.git", str(tmp_path / "c")],
                          env={**os.environ, **server.git_env, "GIT_CONFIG_NOSYSTEM": "1"}, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "c" / "src" / "pkg" / "deep" / "mod.py").read_text() == "VALUE = 'needle'\n"
