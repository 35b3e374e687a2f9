"""Langflow's own starter projects, from the pinned `langflow-base` wheel on PyPI.

The tests that need real Langflow exports read them from here, so a fresh clone needs nothing
beside it: on first use the wheel is fetched with `pip download --no-deps` into `.cache/wheels/`
(git-ignored), its checksum checked, and `langflow/initial_setup/starter_projects/*.json`
extracted into `.cache/starters/langflow-base-<version>/`. Later uses read the extracted files.
The flows are read in place there, never copied into the repository.

`python -m tests.support.starters` fetches them ahead of time (`make test` does) and prints the folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from functools import cache
from pathlib import Path
from typing import Any

VERSION = "1.13.0"
REQUIREMENT = f"langflow-base=={VERSION}"
WHEEL = f"langflow_base-{VERSION}-py3-none-any.whl"
WHEEL_SHA256 = "e15db23e16cf27d6d1ac8fcc5030cf25ad3a04356a9581862b4e97de739dd3a2"
MEMBER_PREFIX = "langflow/initial_setup/starter_projects/"

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / ".cache"
WHEELS = CACHE / "wheels"
STARTERS = CACHE / "starters" / f"langflow-base-{VERSION}"


class StartersUnavailable(RuntimeError):
    """The wheel could not be fetched or is not the pinned one."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _wheel() -> Path:
    wheel = WHEELS / WHEEL
    if not wheel.exists():
        WHEELS.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:", "-d", str(WHEELS), REQUIREMENT]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0 or not wheel.exists():
            raise StartersUnavailable(
                f"could not download {REQUIREMENT} (the Langflow starter projects the tests run) with "
                f"`{' '.join(command[2:])}`: {done.stderr.strip()[-800:]}\n"
                f"Put {WHEEL} into {WHEELS} by hand on a machine without PyPI access."
            )
    found = _sha256(wheel)
    if found != WHEEL_SHA256:
        raise StartersUnavailable(f"{wheel} has sha256 {found}, not the pinned {WHEEL_SHA256}: delete it and retry")
    return wheel


@cache
def starters_dir() -> Path:
    """The folder of the extracted starter projects (`<name>.json`), fetched on first use."""
    if STARTERS.is_dir() and any(STARTERS.glob("*.json")):
        return STARTERS
    wheel = _wheel()
    STARTERS.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".starters-", dir=STARTERS.parent))
    try:
        with zipfile.ZipFile(wheel) as archive:
            for member in archive.namelist():
                name = member[len(MEMBER_PREFIX):]
                if member.startswith(MEMBER_PREFIX) and name.endswith(".json") and "/" not in name:
                    (staging / name).write_bytes(archive.read(member))
        try:
            os.replace(staging, STARTERS)  # atomic: a parallel process either wins or finds it done
        except OSError:
            if not any(STARTERS.glob("*.json")):
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return STARTERS


def starter_path(name: str) -> Path:
    return starters_dir() / f"{name}.json"


def starter_flow(name: str) -> dict[str, Any]:
    """A fresh copy of one starter project (e.g. "Basic Prompting"), parsed."""
    return json.loads(starter_path(name).read_text(encoding="utf-8"))


def starter_names() -> list[str]:
    return sorted(p.stem for p in starters_dir().glob("*.json"))


_PANE_START = 'return`import requests\nimport os\nimport uuid\n\n${E}\nurl = "${O}"'
_PANE_END = "`}const"


@cache
def api_pane_python_template() -> str:
    """The Python script of Langflow 1.13's API pane (the run endpoint, no file inputs), as its
    frontend bundle in the wheel holds it: a template with the placeholders `${E}` (the API key
    line), `${O}` (the run URL), `${x}` (the payload as a Python literal) and `${z}` (the headers line)."""
    with zipfile.ZipFile(_wheel()) as archive:
        for member in archive.namelist():
            if member.startswith("langflow/frontend/assets/index-") and member.endswith(".js"):
                text = archive.read(member).decode("utf-8")
                start = text.find(_PANE_START)
                if start >= 0:
                    start += len("return`")
                    return text[start:text.index(_PANE_END, start)]
    raise StartersUnavailable(f"no API pane Python template in {WHEEL}")


def api_pane_python_script(url: str, payload: dict[str, Any], api_key: str) -> str:
    """The API pane's script filled in as the pane fills it for a flow (key shown)."""
    literal = json.dumps(payload, indent=4).replace("true", "True").replace("false", "False").replace("null", "None")
    fills = {"${E}": f"api_key = '{api_key}'", "${O}": url, "${x}": literal, "${z}": 'headers = {"x-api-key": api_key}'}
    script = api_pane_python_template()
    for placeholder, value in fills.items():
        script = script.replace(placeholder, value)
    return script


if __name__ == "__main__":
    try:
        folder = starters_dir()
    except StartersUnavailable as exc:
        print(f"starters: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    print(f"{len(starter_names())} Langflow {VERSION} starter projects in {folder}")
