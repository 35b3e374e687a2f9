"""The README's shell lines call `flowless` the way a fresh `make run` leaves it: as
`.venv/bin/flowless` (the venv is not on PATH), which pyproject's script entry installs."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def shell_lines(markdown: str) -> list[str]:
    """The lines of the ```bash / ```sh / bare ``` blocks."""
    lines, fence = [], None
    for line in markdown.splitlines():
        if line.startswith("```"):
            fence = line[3:].strip() if fence is None else None
        elif fence in ("", "bash", "sh", "shell", "console") and line.strip():
            lines.append(line.strip().removeprefix("$ "))
    return lines


def test_every_readme_command_names_the_venv_path_or_activates_it() -> None:
    lines = shell_lines((REPO / "README.md").read_text(encoding="utf-8"))
    calls = [line for line in lines if re.search(r"(^|[\s=;&|(])(\S*/)?flowless\s+[a-z]", line) and "flowless-" not in line.split()[0]]
    assert len(calls) >= 10
    bare = [line for line in calls if re.match(r"^(\w+=\S+\s+)*flowless\s", line)]
    assert not bare, "commands a new user cannot run after `make run` (not on PATH):\n" + "\n".join(bare)
    assert "source .venv/bin/activate" in (REPO / "README.md").read_text(encoding="utf-8")


def test_the_venv_gets_the_flowless_script() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["scripts"]["flowless"] == "flowless.cli:main"
    assert "$(BIN)/flowless run" in (REPO / "Makefile").read_text(encoding="utf-8")
