"""Every benchmark in one run (under 10 minutes on the 2-core machine), then every figure with its
target and whether it holds.

    python bench/all.py [--quick] [--only NAME ...]

Runs the scripts one after another (never side by side: they would measure each other), each
writing its bench/results/<name>.md, and prints the combined table at the end; writes it to
bench/results/summary.md too. Exit status 1 when a target does not hold or a script failed.
lfx (Langflow's executor) is installed on first use into .cache/bench/lfx-venv by setup_lfx.py.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import BENCH, Check, md_table, text_table, write_result

# name → (arguments, arguments with --quick). Order: the quiet in-process figures first.
SCRIPTS: dict[str, tuple[list[str], list[str]]] = {
    "engine": (["--runs", "2000", "--http-runs", "300", "--lfx-runs", "60"], ["--runs", "500", "--http-runs", "100", "--lfx-runs", "20"]),
    "cold_start": (["--runs", "5"], ["--runs", "2", "--skip-no-pyc"]),
    "memory": (["--runs", "50"], ["--runs", "20"]),
    "warm_api": (["--requests", "200", "--seconds", "12"], ["--requests", "80", "--seconds", "5"]),
    "run_api": (["--requests", "320"], ["--requests", "120"]),
    "size": ([], []),
    "cost": (["--runs", "100"], ["--runs", "40"]),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and requests (a smoke run, noisier figures)")
    parser.add_argument("--only", nargs="+", choices=sorted(SCRIPTS), help="run only these")
    args = parser.parse_args()
    started = time.perf_counter()
    names = args.only or list(SCRIPTS)
    checks: list[tuple[str, Check]] = []
    timings: list[tuple[str, float, str]] = []
    failed: list[str] = []

    with tempfile.TemporaryDirectory(prefix="flowless-bench-") as scratch:
        for name in names:
            script_args = SCRIPTS[name][1 if args.quick else 0]
            summary = Path(scratch) / f"{name}.json"
            print(f"\n=== {name}: python bench/{name}.py {' '.join(script_args)}", flush=True)
            begun = time.perf_counter()
            done = subprocess.run([sys.executable, str(BENCH / f"{name}.py"), *script_args, "--summary", str(summary)], cwd=BENCH.parent)
            seconds = time.perf_counter() - begun
            if not summary.is_file():
                failed.append(name)
                timings.append((name, seconds, f"failed (exit {done.returncode})"))
                continue
            timings.append((name, seconds, "ok"))
            for raw in json.loads(summary.read_text(encoding="utf-8"))["checks"]:
                checks.append((name, Check(**raw)))

    total = time.perf_counter() - started
    rows = [(name, c.figure, c.value, c.target, c.verdict) for name, c in checks]
    header = ("script", "figure", "value", "target", "holds")
    print("\n=== summary")
    print(text_table(header, rows))
    print("\n" + "  ".join(f"{name} {seconds:.0f} s ({state})" for name, seconds, state in timings) + f"; total {total:.0f} s")
    missed = [f"{name}: {c.figure}" for name, c in checks if c.holds is False]
    if missed:
        print("targets not met:\n  " + "\n  ".join(missed))
    if failed:
        print("scripts that failed: " + ", ".join(failed))
    command = "python bench/all.py" + (" --quick" if args.quick else "") + (f" --only {' '.join(args.only)}" if args.only else "")
    write_result("summary", "Every benchmark figure with its target", command, [
        f"All scripts one after another; took {total:.0f} s. Each script's own page in this folder explains its method.",
        md_table(header, rows),
        md_table(("script", "seconds", "state"), [(name, f"{seconds:.0f}", state) for name, seconds, state in timings]),
    ])
    return 1 if missed or failed else 0


if __name__ == "__main__":
    sys.exit(main())
