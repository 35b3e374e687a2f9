"""Langflow's executor, lfx, in its own virtual environment for the side-by-side benchmarks.

    python bench/setup_lfx.py [--force]

Creates `.cache/bench/lfx-venv` with the machine's python3.11 or python3.12, the same minor
version as the interpreter running this script when there is one (never this project's virtualenv: lfx pins its own langchain, pydantic and friends) and installs the pinned
`lfx` plus what its OpenAI model component imports at run time (`langchain-openai`). Reused
when present with the same pins; `--force` recreates it. Prints how long the install took and
records it, with the interpreter and the installed versions, in `.cache/bench/lfx-venv/bench.json`
(read by the benchmarks to report the lfx version they ran).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
VENV = REPO / ".cache" / "bench" / "lfx-venv"
STAMP = VENV / "bench.json"
# `pip index versions lfx` on 2026-11-21: 1.13.0 is the current release (Langflow 1.13's executor).
LFX_VERSION = "1.13.0"
# lfx's OpenAI provider (LanguageModelComponent / OpenAIModelComponent) imports langchain_openai,
# which lfx itself does not depend on (Langflow installs it); the version lfx's langchain-core accepts.
EXTRA = ("langchain-openai",)
# The benchmarks' own interpreter's version first, so both sides run on the same CPython.
PYTHONS = tuple(sorted(("python3.12", "python3.11"), key=lambda name: name != f"python3.{sys.version_info.minor}"))


def venv_python() -> Path:
    return VENV / "bin" / "python"


def find_python() -> str:
    """python3.12 or python3.11 of the machine, outside any virtualenv (pyenv versions included)."""
    active_venv = os.environ.get("VIRTUAL_ENV")
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if not (active_venv and p.startswith(active_venv)))
    candidates: list[str] = []
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    for name in PYTHONS:
        found = shutil.which(name, path=path)
        if found:
            candidates.append(found)
        minor = name.removeprefix("python")
        candidates += [str(p / "bin" / name) for p in sorted((pyenv_root / "versions").glob(f"{minor}.*"), reverse=True)]
    for candidate in candidates:
        try:
            out = subprocess.run([candidate, "-c", "import sys, venv; print(sys.prefix == sys.base_prefix)"], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if out.returncode == 0 and out.stdout.strip() == "True":
            return candidate
    raise SystemExit("setup_lfx: no python3.12 or python3.11 interpreter found (pyenv install 3.12)")


def installed() -> dict[str, Any] | None:
    """The stamp of a usable lfx venv with the current pins, else None."""
    try:
        stamp = json.loads(STAMP.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if stamp.get("lfx") != LFX_VERSION or stamp.get("extra") != list(EXTRA) or not venv_python().exists():
        return None
    return stamp


def setup(force: bool = False, quiet: bool = False) -> dict[str, Any]:
    """Create (or reuse) the venv; returns its stamp (lfx version, python, install seconds)."""
    if not force:
        stamp = installed()
        if stamp is not None:
            return stamp
    if VENV.exists():
        shutil.rmtree(VENV)
    python = find_python()
    started = time.perf_counter()
    VENV.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([python, "-m", "venv", str(VENV)], check=True)
    pip = [str(venv_python()), "-m", "pip", "--disable-pip-version-check"]
    subprocess.run([*pip, "install", *(["--quiet"] if quiet else []), f"lfx=={LFX_VERSION}", *EXTRA], check=True)
    seconds = time.perf_counter() - started
    freeze = subprocess.run([*pip, "list", "--format=json"], capture_output=True, text=True, check=True).stdout
    packages = {p["name"].lower(): p["version"] for p in json.loads(freeze)}
    version = subprocess.run([str(venv_python()), "-c", "import sys; print(sys.version.split()[0])"], capture_output=True, text=True, check=True)
    site = subprocess.run([str(venv_python()), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], capture_output=True, text=True, check=True)
    stamp = {
        "lfx": LFX_VERSION,
        "extra": list(EXTRA),
        "python": version.stdout.strip(),
        "interpreter": python,
        "install_seconds": round(seconds, 1),
        "installed_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "packages": len(packages),
        "site_packages_mb": round(_size_mb(Path(site.stdout.strip())), 1),
        "versions": {name: packages.get(name) for name in ("lfx", "langchain-core", "langchain-openai", "openai", "pydantic", "fastapi")},
    }
    STAMP.write_text(json.dumps(stamp, indent=2), encoding="utf-8")
    return stamp


def _size_mb(folder: Path) -> float:
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            if not os.path.islink(path):
                total += os.path.getsize(path)
    return total / 1_000_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--force", action="store_true", help="recreate the venv even when a matching one exists")
    args = parser.parse_args()
    reused = not args.force and installed() is not None
    stamp = setup(force=args.force)
    print(f"lfx {stamp['lfx']} in {VENV.relative_to(REPO)} (Python {stamp['python']}, {stamp['packages']} packages, "
          f"{stamp['site_packages_mb']} MB site-packages); "
          + (f"reused (installed {stamp['installed_at']} in {stamp['install_seconds']} s)" if reused else f"installed in {stamp['install_seconds']} s"))
    print("versions: " + ", ".join(f"{k} {v}" for k, v in stamp["versions"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
