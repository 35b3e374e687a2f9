"""Git: `GitExtractorComponent` (a repository's files, info, statistics and folder tree) and
`GitLoaderComponent` (Langflow's "Git": the files of a branch as Data, filtered by glob patterns
and a content regex).

Both read a shallow fetch of the repository made natively over git's smart HTTP protocol
(flowless_engine.gitfetch: no git binary, through the guarded HTTP client). What differs from
Langflow's clone-then-walk, on purpose: the `.git` folder is not part of the results (Langflow's walk
of a fresh clone counts its internals in the statistics and the tree), the tree's root is named after
the repository rather than a temp folder, and entries come in git's (sorted) order. A local
repository path (GitLoader's "Local" source) does not exist on a serverless function and is
refused. Private repositories: a token in the URL (`https://TOKEN@host/owner/repo`, sent as HTTP
Basic `x-access-token:TOKEN`) or `https://user:token@...`; neither template has a credential field.
"""

from __future__ import annotations

import asyncio
import re
from fnmatch import fnmatch
from typing import TYPE_CHECKING, Any

from flowless_engine.components.base import Component, Input, Output, to_text
from flowless_engine.errors import ConfigurationError
from flowless_engine.schema import Data, Message

if TYPE_CHECKING:  # pragma: no cover
    from flowless_engine.gitfetch import GitFile, Snapshot

TEXT_LIMIT = 300_000  # Langflow's cap on GitExtractor's text-based contents


class _GitBase(Component):
    category = "git"
    icon = "GitLoader"

    _snapshot: "Snapshot | None" = None
    _lock: asyncio.Lock | None = None

    def repo_url(self) -> str:
        raise NotImplementedError

    def ref(self) -> str | None:
        return None

    async def snapshot(self) -> "Snapshot":
        """One fetch per component and run, shared by every output."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._snapshot is None:
                from flowless_engine.gitfetch import shallow_fetch

                settings = self.ctx.settings
                self._snapshot = await shallow_fetch(self.ctx.http, self.repo_url(), branch=self.ref(),
                                                     max_pack_bytes=settings.git_max_pack_bytes,
                                                     max_file_bytes=settings.git_max_file_bytes)
        return self._snapshot


def _text(content: bytes) -> str | None:
    """The file as Python's text mode reads it (UTF-8, universal newlines), None when it is not UTF-8."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _walk(snap: "Snapshot") -> list[tuple[str, list[str], list["GitFile"]]]:
    """(folder, its subfolders, its files) top-down, as os.walk lists a checkout; symlinks left out."""
    files: dict[str, list[GitFile]] = {"": []}
    subfolders: dict[str, list[str]] = {"": []}
    for folder in snap.folders:
        files.setdefault(folder, [])
        subfolders.setdefault(folder, [])
        parent = folder.rpartition("/")[0]
        subfolders.setdefault(parent, []).append(folder)
    for item in snap.files:
        files.setdefault(item.path.rpartition("/")[0], []).append(item)
    order: list[tuple[str, list[str], list[GitFile]]] = []

    def visit(folder: str) -> None:
        order.append((folder, subfolders.get(folder, []), [f for f in files.get(folder, []) if not f.is_symlink]))
        for sub in subfolders.get(folder, []):
            visit(sub)

    visit("")
    return order


class GitExtractorComponent(_GitBase):
    type_name = "GitExtractorComponent"
    display_name = "GitExtractor"
    description = "Analyzes a Git repository and returns file contents and complete repository information"
    inputs = (
        Input("repository_url", "Repository URL", "str", "", input_types=("Message",),
              info="URL of the Git repository (e.g., https://github.com/username/repo)", input_kind="MessageTextInput"),
    )
    outputs = (
        Output("text_based_file_contents", "get_text_based_file_contents", ("Message",), "Text-Based File Contents"),
        Output("directory_structure", "get_directory_structure", ("Message",), "Directory Structure"),
        Output("repository_info", "get_repository_info", ("Data",), "Repository Info"),
        Output("statistics", "get_statistics", ("Data",), "Statistics"),
        Output("files_content", "get_files_content", ("Data",), "Files Content"),
    )

    def repo_url(self) -> str:
        return to_text(self.params.get("repository_url")).strip()

    async def get_repository_info(self) -> list[Data]:
        from flowless_engine.gitfetch import safe_url

        snap = await self.snapshot()
        url = safe_url(self.repo_url())
        info = {
            "name": url.split("/")[-1],
            "url": url,
            "default_branch": snap.branch,
            "remote_urls": [url],
            "last_commit": {"hash": snap.commit, "author": snap.author_name, "message": snap.message, "date": snap.committed_at},
            "branches": [snap.branch],  # a fresh clone has one local branch
        }
        result = [Data(data=info)]
        self.status = result
        return result

    async def get_statistics(self) -> list[Data]:
        snap = await self.snapshot()
        total_files = total_size = total_lines = binary_files = directories = 0
        for _folder, subfolders, files in _walk(snap):
            directories += len(subfolders)
            for item in files:
                total_files += 1
                total_size += len(item.content)
                text = _text(item.content)
                if text is None:
                    binary_files += 1
                else:
                    total_lines += text.count("\n") + (1 if text and not text.endswith("\n") else 0)
        stats = {
            "total_files": total_files,
            "total_size_bytes": total_size,
            "total_size_kb": round(total_size / 1024, 2),
            "total_size_mb": round(total_size / (1024 * 1024), 2),
            "total_lines": total_lines,
            "binary_files": binary_files,
            "directories": directories,
        }
        result = [Data(data=stats)]
        self.status = result
        return result

    async def get_directory_structure(self) -> Message:
        snap = await self.snapshot()
        lines = ["Directory structure:"]
        for folder, _subfolders, files in _walk(snap):
            level = folder.count("/") + 1 if folder else 0
            if level == 0:
                lines.append(f"└── {snap.name}")
            else:
                lines.append(f"{'    ' * level}├── {folder.rpartition('/')[2]}")
            lines.extend(f"{'    ' * (level + 1)}├── {item.path.rpartition('/')[2]}" for item in files)
        text = "\n".join(lines)
        self.status = text
        return Message(text=text)

    async def get_files_content(self) -> list[Data]:
        snap = await self.snapshot()
        rows = []
        for _folder, _subfolders, files in _walk(snap):
            for item in files:
                text = _text(item.content)
                rows.append(Data(data={"path": item.path, "size": len(item.content),
                                       "content": "[BINARY FILE]" if text is None else text}))
        self.status = rows
        return rows

    async def get_text_based_file_contents(self) -> Message:
        snap = await self.snapshot()
        parts = ["(Files content cropped to 300k characters, download full ingest to see more)"]
        total = 0
        for _folder, _subfolders, files in _walk(snap):
            for item in files:
                if total >= TEXT_LIMIT:
                    break
                parts.extend(["=" * 50, f"File: /{item.path}", "=" * 50])
                text = _text(item.content)
                if text is None:
                    parts.append("[BINARY FILE]")
                else:
                    if total + len(text) > TEXT_LIMIT:
                        text = text[:TEXT_LIMIT - total] + "\n... (content truncated)"
                    parts.append(text)
                    total += len(text)
                parts.append("")
        text = "\n".join(parts)
        self.status = text
        return Message(text=text)


def matches_patterns(path: str, patterns: str) -> bool:
    """Langflow's file filter: comma-separated globs, `!glob` excludes; matched against the
    path (also with a leading "/", as Langflow matches the clone's absolute path) and the name."""
    if not patterns or not patterns.strip():
        return True
    items = [p.strip() for p in patterns.split(",") if p.strip()]
    name = path.rpartition("/")[2]
    candidates = (path, "/" + path, name)
    for pattern in items:
        if pattern.startswith("!") and any(fnmatch(c, pattern[1:]) for c in candidates):
            return False
    includes = [p for p in items if not p.startswith("!")]
    return not includes or any(fnmatch(c, p) for p in includes for c in candidates)


def _bfs(snap: "Snapshot") -> list["GitFile"]:
    """Files in the order GitPython's tree traversal yields them (breadth first)."""
    by_parent: dict[str, list[Any]] = {}
    for folder in snap.folders:
        by_parent.setdefault(folder.rpartition("/")[0], []).append(("d", folder))
    for item in snap.files:
        by_parent.setdefault(item.path.rpartition("/")[0], []).append(("f", item))
    for entries in by_parent.values():  # git's order: names, with folders compared as "name/"
        entries.sort(key=lambda e: (e[1] + "/") if e[0] == "d" else e[1].path)
    out: list[GitFile] = []
    queue = [""]
    while queue:
        folder = queue.pop(0)
        for kind, entry in by_parent.get(folder, []):
            if kind == "d":
                queue.append(entry)
            else:
                out.append(entry)
    return out


class GitLoaderComponent(_GitBase):
    type_name = "GitLoaderComponent"
    display_name = "Git"
    description = ("Load and filter documents from a local or remote Git repository. "
                   "Use a local repo path or clone from a remote URL.")
    inputs = (
        Input("repo_source", "Repository Source", "str", None, required=True, options=("Local", "Remote"),
              info="Select whether to use a local repo path or clone from a remote URL.", input_kind="DropdownInput"),
        Input("repo_path", "Local Repository Path", "str", None, input_types=("Message",),
              info="The local path to the existing Git repository (used if 'Local' is selected).", input_kind="MessageTextInput"),
        Input("clone_url", "Clone URL", "str", None, input_types=("Message",),
              info="The URL of the Git repository to clone (used if 'Clone' is selected).", input_kind="MessageTextInput"),
        Input("branch", "Branch", "str", "main", input_types=("Message",),
              info="The branch to load files from. Defaults to 'main'.", input_kind="MessageTextInput"),
        Input("file_filter", "File Filter", "str", None, input_types=("Message",), advanced=True,
              info="Patterns to filter files. For example:\nInclude only .py files: '*.py'\nExclude .py files: '!*.py'\n"
                   "Multiple patterns can be separated by commas.", input_kind="MessageTextInput"),
        Input("content_filter", "Content Filter", "str", None, input_types=("Message",), advanced=True,
              info="A regex pattern to filter files based on their content.", input_kind="MessageTextInput"),
    )
    outputs = (Output("data", "load_documents", ("Data",), "JSON"),)

    def repo_url(self) -> str:
        source = to_text(self.params.get("repo_source")).strip()
        if source == "Local":
            raise ConfigurationError(
                f"Git ({self.id}): a local repository path is not available on Flowless; choose 'Remote' and give its clone URL")
        url = to_text(self.params.get("clone_url")).strip()
        if not url:
            raise ConfigurationError(f"Git ({self.id}): 'Clone URL' is required")
        return url

    def ref(self) -> str | None:
        return to_text(self.params.get("branch")).strip() or None

    async def load_documents(self) -> list[Data]:
        snap = await self.snapshot()
        patterns = to_text(self.params.get("file_filter"))
        content_pattern = to_text(self.params.get("content_filter"))
        regex = None
        if content_pattern:
            try:
                regex = re.compile(content_pattern, re.MULTILINE)
            except re.error:
                regex = False  # Langflow: an invalid pattern matches no file
        rows = []
        for item in _bfs(snap):
            if item.is_symlink or b"\0" in item.content[:1024]:
                continue
            if patterns and not matches_patterns(item.path, patterns):
                continue
            try:
                text = item.content.decode("utf-8")
            except UnicodeDecodeError:
                continue
            if regex is False or (regex is not None and not regex.search(text)):
                continue
            name = item.path.rpartition("/")[2]
            suffix = name.rpartition(".")[2] if "." in name.lstrip(".") else ""
            rows.append(Data(data={"source": item.path, "file_path": item.path, "file_name": name,
                                   "file_type": f".{suffix}" if suffix else "", "text": text}))
        self.status = rows
        return rows
