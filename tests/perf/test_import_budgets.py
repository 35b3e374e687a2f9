"""Import-time budgets, checked the way Powertools checks its own: in a fresh interpreter, with a
bound generous enough for a busy CI machine that still catches a heavy import sneaking onto the
cold-start path (an SDK, a data library, the CLI). The figures themselves come from bench/."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PATHS = [str(REPO / "layers" / "engine"), str(REPO / "shared")]
# Never on a cold start: what would make INIT seconds instead of milliseconds, or has no business there.
HEAVY = ("moto", "langchain", "pandas", "numpy", "boto3", "cryptography", "pypdf", "uvicorn", "rich", "click", "yaml")

PROBE = """
import json, sys, time
sys.path[:0] = json.loads(sys.argv[1])
started = time.perf_counter()
for name in json.loads(sys.argv[2]):
    __import__(name)
print(json.dumps({"ms": (time.perf_counter() - started) * 1000, "modules": sorted(sys.modules)}))
"""


def import_in_fresh_process(*modules: str, paths: list[str] = PATHS, cwd: Path = REPO, env: dict[str, str] | None = None) -> dict:
    """The best of three fresh imports (the machine's noise only ever adds time)."""
    runs = []
    for _ in range(3):
        done = subprocess.run([sys.executable, "-c", PROBE, json.dumps(paths), json.dumps(list(modules))],
                              capture_output=True, text=True, cwd=cwd, env={**os.environ, **(env or {})}, check=True)
        runs.append(json.loads(done.stdout))
    return min(runs, key=lambda run: run["ms"])


def heavy_in(modules: list[str]) -> set[str]:
    return {name for name in modules if name.split(".")[0] in HEAVY}


def test_import_flowless_engine_within_150_ms():
    result = import_in_fresh_process("flowless_engine")
    assert result["ms"] <= 150, f"import flowless_engine took {result['ms']:.0f} ms"
    assert not heavy_in(result["modules"]), heavy_in(result["modules"])


def test_a_basic_prompting_runs_modules_within_400_ms():
    modules = ("flowless_engine.graph.loader", "flowless_engine.runtime.run", "flowless_engine.components.io",
               "flowless_engine.components.prompts", "flowless_engine.components.models", "flowless_engine.llm.openai_compat")
    result = import_in_fresh_process(*modules)
    assert result["ms"] <= 400, f"the run path's modules took {result['ms']:.0f} ms"
    assert not heavy_in(result["modules"]), heavy_in(result["modules"])


@pytest.mark.parametrize("function", ["run", "flows", "monitor", "keys"])
def test_a_functions_init_stays_near_the_framework_floor(function: str):
    """INIT (the handler module's import) within 1.5× the floor of fastapi + mangum + pynamodb +
    powertools plus 100 ms, measured side by side; no heavy package among what it loaded."""
    floor = import_in_fresh_process("fastapi", "mangum", "pynamodb.models", "aws_lambda_powertools")
    env = {"POWERTOOLS_SERVICE_NAME": "flowless", "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1"}
    result = import_in_fresh_process("app", paths=[str(REPO / "functions" / function), *PATHS], cwd=REPO / "functions" / function, env=env)
    bound = 1.5 * floor["ms"] + 100
    assert result["ms"] <= bound, f"{function}: INIT {result['ms']:.0f} ms > {bound:.0f} ms (floor {floor['ms']:.0f} ms)"
    assert not heavy_in(result["modules"]), f"{function} imports {sorted(heavy_in(result['modules']))} at INIT"
