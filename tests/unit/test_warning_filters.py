"""The warning filters in pyproject.toml name the real category of the warning they silence:
starlette's TestClient on httpx (not httpx2) warns with StarletteDeprecationWarning, a
UserWarning subclass, which a `DeprecationWarning` filter never matched."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TEST = '''
import sys

def test_testclient_on_httpx():
    for name in [m for m in sys.modules if m.startswith("starlette.testclient")]:
        del sys.modules[name]
    sys.modules["httpx2"] = None  # as on a machine without httpx2: starlette falls back to httpx and warns
    import starlette.testclient  # noqa: F401
'''


def _pytest(tmp_path: Path, *options: str) -> str:
    (tmp_path / "test_import.py").write_text(TEST, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-c", str(REPO / "pyproject.toml"), "--rootdir", str(REPO), "-p", "no:cacheprovider",
         *options, str(tmp_path / "test_import.py")],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_starlette_testclient_warning_is_filtered(tmp_path: Path) -> None:
    assert "1 passed" in (out := _pytest(tmp_path)) and "warning" not in out.lower()


def test_without_the_filter_it_would_show(tmp_path: Path) -> None:
    out = _pytest(tmp_path, "-o", "filterwarnings=default::ResourceWarning")
    assert "StarletteDeprecationWarning" in out and "Using `httpx` with `starlette.testclient` is deprecated" in out
