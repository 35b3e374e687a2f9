"""Cold start per Lambda function of template.yaml, next to the framework floor.

For each function: INIT (the import of its handler module in a fresh process, as Lambda's INIT
does it: environment from the template, layers on sys.path, tracing on but unsampled), then the
first (cold) and a warm invocation with the function's representative event from events/. The
floor is a fresh process importing only fastapi, mangum, pynamodb (its models) and
aws_lambda_powertools. Medians of several fresh processes; wall and CPU time (the CPU figure is
steadier on a busy machine). DynamoDB is the embedded moto server, so invocation times include
loopback HTTP round trips, not AWS latencies.

    python bench/cold_start.py [--runs 5] [--no-write]

Prints a table and writes bench/results/cold_start.md. When a function's INIT is well above the
floor, the heaviest imports beyond the floor (python -X importtime) are listed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "cold_start.md"
# The event each function is measured with (its most representative route).
EVENT_OF = {"RunFunction": "run-basic", "MonitorFunction": "monitor-messages", "FlowsFunction": "flows-list", "KeysFunction": "keys-list"}
FLOOR_MODULES = ("fastapi", "mangum", "pynamodb.models", "aws_lambda_powertools")
FLOOR_CODE = (
    "import time\n"
    "w, c = time.perf_counter(), time.process_time()\n"
    f"import {', '.join(FLOOR_MODULES)}\n"
    "print((time.perf_counter() - w) * 1000, (time.process_time() - c) * 1000)\n"
)
HEAVY_FACTOR = 1.5  # INIT above this multiple of the floor gets an import-time breakdown


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def floor(runs: int, env: dict[str, str]) -> tuple[float, float]:
    walls, cpus = [], []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", FLOOR_CODE], env=env, capture_output=True, text=True, check=True).stdout.split()
        walls.append(float(out[0]))
        cpus.append(float(out[1]))
    return median(walls), median(cpus)


def heavy_imports(spec: Any, env: dict[str, str], limit: int = 8) -> list[tuple[str, float]]:
    """Top-level imports of the handler module by cumulative time, beyond the floor's packages."""
    code = "import sys; sys.path[:0] = %r; import %s" % ([str(spec.code_dir)] + [str(d) for d in spec.layer_dirs],
                                                       spec.handler.rpartition(".")[0])
    result = subprocess.run([sys.executable, "-X", "importtime", "-c", code], cwd=spec.code_dir, env=env, capture_output=True, text=True)
    floor_roots = {m.split(".")[0] for m in FLOOR_MODULES} | {"starlette", "pydantic", "pydantic_core", "botocore", "typing_extensions"}
    found: dict[str, float] = {}
    for line in result.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( +)(\S+)", line)
        if not match:
            continue
        depth, module = len(match.group(3)) // 2, match.group(4)
        if depth <= 2 and module.split(".")[0] not in floor_roots and module != spec.handler.rpartition(".")[0]:
            found[module] = max(found.get(module, 0.0), int(match.group(2)) / 1000)
    return sorted(found.items(), key=lambda item: -item[1])[:limit]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        names = [line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    return f"{platform.system()} {platform.machine()}, {cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="Fresh processes per measurement (median).")
    parser.add_argument("--no-write", action="store_true", help="Print only; do not write bench/results/cold_start.md.")
    args = parser.parse_args()

    sys.path[:0] = [str(REPO / "shared"), str(REPO / "layers" / "engine")]
    os.environ.setdefault("FLOWLESS_LOCAL_KEY_FILE", str(REPO / ".flowless" / "bench.key"))
    from flowless.local.invoke import function_spec, invoke, lambda_environment, load_template, prepare_storage

    template = load_template(REPO / "template.yaml")
    functions = sorted(name for name, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function")
    specs = {name: function_spec(template, name, root=REPO) for name in functions}
    python_handlers = [name for name in functions if not specs[name].handler.endswith(".sh")]
    local = prepare_storage(specs[python_handlers[0]], flows_dir=REPO / "flows", dynamodb_endpoint=None)
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    try:
        base_env = {**os.environ, "AWS_ENDPOINT_URL_DYNAMODB": local.endpoint}
        floor_env = lambda_environment(specs[python_handlers[0]], base=base_env)
        floor_wall, floor_cpu = floor(args.runs, floor_env)
        with tempfile.TemporaryDirectory() as empty:
            floor_nopyc, _ = floor(args.runs, {**floor_env, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPYCACHEPREFIX": empty})
        for name in python_handlers:
            spec = specs[name]
            event_name = EVENT_OF.get(name)
            if event_name is None:
                print(f"{name}: no representative event in EVENT_OF; skipped", file=sys.stderr)
                continue
            event = json.loads((REPO / "events" / f"{event_name}.json").read_text(encoding="utf-8"))
            env = lambda_environment(spec, base=base_env)
            inits, cpus, firsts, warms, statuses = [], [], [], [], set()
            for _ in range(args.runs):
                result = invoke(spec, [event, event, event], env=env)
                inits.append(result.init_ms)
                cpus.append(result.init_cpu_ms)
                firsts.append(result.invocations[0].duration_ms)
                warms.extend(call.duration_ms for call in result.invocations[1:])
                statuses.update((call.response or {}).get("statusCode") for call in result.invocations)
            # Lambda's /var/task and /opt are read-only: code shipped without bytecode is compiled at
            # every cold start. An empty, unwritable-in-effect bytecode cache shows that cost.
            cold_inits, cold_firsts = [], []
            with tempfile.TemporaryDirectory() as empty:
                for _ in range(args.runs):
                    result = invoke(spec, [event], env={**env, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPYCACHEPREFIX": empty})
                    cold_inits.append(result.init_ms)
                    cold_firsts.append(result.invocations[0].duration_ms)
            row = {"function": name, "event": event_name, "init": median(inits), "init_cpu": median(cpus),
                   "first": median(firsts), "warm": median(warms), "status": ",".join(str(s) for s in sorted(statuses, key=str)),
                   "init_nopyc": median(cold_inits), "first_nopyc": median(cold_firsts)}
            rows.append(row)
            if row["init_cpu"] > HEAVY_FACTOR * floor_cpu:
                heavy = heavy_imports(spec, env)
                notes.append(f"{name}: INIT CPU {row['init_cpu']:.0f} ms > {HEAVY_FACTOR}x floor; heaviest imports beyond the floor: "
                             + ", ".join(f"{module} {ms:.0f} ms" for module, ms in heavy))
    finally:
        if local.stop is not None:
            local.stop()

    header = (f"{'function':<18}{'event':<18}{'INIT ms':>9}{'INIT CPU':>10}{'1st inv':>9}{'warm inv':>10}{'status':>8}"
              f"{'INIT no-pyc':>13}{'1st no-pyc':>12}")
    lines = [header, f"{'floor (imports)':<36}{floor_wall:>9.0f}{floor_cpu:>10.0f}{'':>27}{floor_nopyc:>13.0f}"]
    for row in rows:
        lines.append(f"{row['function']:<18}{row['event']:<18}{row['init']:>9.0f}{row['init_cpu']:>10.0f}{row['first']:>9.1f}"
                     f"{row['warm']:>10.1f}{row['status']:>8}{row['init_nopyc']:>13.0f}{row['first_nopyc']:>12.1f}")
    print("\n".join(lines))
    for note in notes:
        print(note)
    skipped = [name for name in functions if name not in python_handlers]
    if skipped:
        print(f"not measured (not a Python handler): {', '.join(skipped)}")
    if not args.no_write:
        write_results(rows, floor_wall, floor_cpu, floor_nopyc, notes, skipped, args.runs)
    return 0


def write_results(rows: list[dict[str, Any]], floor_wall: float, floor_cpu: float, floor_nopyc: float, notes: list[str],
                  skipped: list[str], runs: int) -> None:
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out = [
        "# Cold start per function",
        "",
        f"Measured {stamp} on {machine()} by `python bench/cold_start.py --runs {runs}` (medians of {runs} fresh processes).",
        "",
        "INIT = importing the function's handler module in a fresh process with its template environment (tracing on,",
        "unsampled); 1st / warm = the handler called with the event (DynamoDB: embedded moto on loopback).",
        "Floor = a fresh process importing only " + ", ".join(f"`{m}`" for m in FLOOR_MODULES) + ".",
        "The no-pyc columns: the same with no bytecode available, which is what Lambda pays for code shipped without",
        "`__pycache__` (its /var/task and /opt are read-only); shared/Makefile therefore compiles the shared layer.",
        "",
        "| function | event | INIT ms | INIT CPU ms | 1st invocation ms | warm invocation ms | status | INIT no-pyc ms | 1st invocation no-pyc ms |",
        "|---|---|---:|---:|---:|---:|---|---:|---:|",
        f"| floor (imports only) | | {floor_wall:.0f} | {floor_cpu:.0f} | | | | {floor_nopyc:.0f} | |",
    ]
    for row in rows:
        out.append(f"| {row['function']} | {row['event']} | {row['init']:.0f} | {row['init_cpu']:.0f} | {row['first']:.1f} | {row['warm']:.1f} "
                   f"| {row['status']} | {row['init_nopyc']:.0f} | {row['first_nopyc']:.1f} |")
    if notes:
        out += ["", *(f"- {note}" for note in notes)]
    if skipped:
        out += ["", f"Not measured (not a Python handler): {', '.join(skipped)}."]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(out) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    sys.exit(main())
