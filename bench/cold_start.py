"""Cold start per Lambda function of template.yaml, next to the framework floor and to Langflow's
own executor (lfx).

For each function: INIT (the import of its handler module in a fresh process, as Lambda's INIT
does it: environment from the template, layers on sys.path, tracing on but unsampled), then the
first (cold) and a warm invocation with the function's representative event. RunFunction runs
Basic Prompting (../shared/flows, model set to OpenAI gpt-4o-mini) against the local
OpenAI-compatible model server, answering at once. References, in the same rounds:

- floor: a fresh process importing only fastapi, mangum, pynamodb (its models) and
  aws_lambda_powertools;
- floor + 1st event: the same imports, then a trivial FastAPI route behind Mangum serving the
  RunFunction's event (what any FastAPI-on-Lambda function pays before doing anything);
- lfx: a fresh process of the lfx venv (bench/setup_lfx.py) importing `run_flow_from_json`
  (lfx.load) and running the same flow once through the same model server.

Every measurement is repeated `--runs` times in interleaved rounds (medians), so a busy machine
slows all columns alike; wall and CPU time (CPU is the steadier figure on a busy machine).
DynamoDB is the embedded moto server, so invocation times include loopback HTTP round trips, not
AWS latencies.

    python bench/cold_start.py [--runs 5] [--no-lfx] [--no-write] [--summary FILE]

Prints a table and writes bench/results/cold_start.md. Targets (RunFunction): INIT ≤ 1.3 × the
floor (both are imports); INIT + 1st invocation ≥ 15 × faster than lfx's import + first run.
When a function's INIT is well above the floor, the heaviest imports beyond the floor
(python -X importtime) are listed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from typing import Any

from common import (
    REPO,
    Check,
    add_summary_argument,
    checks_table,
    flow_folder,
    lfx,
    lfx_stamp,
    md_table,
    median,
    model_env,
    model_server,
    run_function,
    text_table,
    write_result,
    write_summary,
)

# The event each function is measured with (its most representative route); RunFunction's is
# Basic Prompting (made by common.run_function), the others come from events/.
EVENT_OF = {"RunFunction": "basic-prompting", "MonitorFunction": "monitor-messages", "FlowsFunction": "flows-list", "KeysFunction": "keys-list"}
FLOOR_MODULES = ("fastapi", "mangum", "pynamodb.models", "aws_lambda_powertools")
FLOOR_CODE = (
    "import time\n"
    "w, c = time.perf_counter(), time.process_time()\n"
    f"import {', '.join(FLOOR_MODULES)}\n"
    "print((time.perf_counter() - w) * 1000, (time.process_time() - c) * 1000)\n"
)
# The floor, then one event through a trivial route behind Mangum (same path and method as /run).
FLOOR_EVENT_CODE = FLOOR_CODE.replace("print(", "w1, c1 = (time.perf_counter() - w) * 1000, (time.process_time() - c) * 1000\nprint(", 1) + (
    "import json, sys\n"
    "from fastapi import FastAPI\n"
    "from mangum import Mangum\n"
    "app = FastAPI()\n"
    "@app.post('/api/v1/run/{flow_id_or_name}')\n"
    "async def run(flow_id_or_name: str) -> dict:\n"
    "    return {'session_id': flow_id_or_name, 'outputs': []}\n"
    "handler = Mangum(app, lifespan='off')\n"
    "event = json.load(open(sys.argv[1]))\n"
    "w2, c2 = time.perf_counter(), time.process_time()\n"
    "assert handler(event, None)['statusCode'] == 200\n"
    "print((time.perf_counter() - w2) * 1000, (time.process_time() - c2) * 1000)\n"
)
HEAVY_FACTOR = 1.5  # INIT above this multiple of the floor gets an import-time breakdown
INIT_VS_FLOOR_TARGET = 1.3
LFX_FACTOR_TARGET = 15.0


def floor_once(env: dict[str, str], event_file: str | None = None) -> list[float]:
    """[import wall, import CPU] (+ [1st event wall, 1st event CPU] with an event)."""
    code = FLOOR_EVENT_CODE if event_file else FLOOR_CODE
    out = subprocess.run([sys.executable, "-c", code, *([event_file] if event_file else [])], env=env, capture_output=True, text=True, check=True)
    return [float(x) for x in out.stdout.split()]


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="Rounds of fresh processes (medians).")
    parser.add_argument("--no-lfx", action="store_true", help="Skip lfx (no lfx venv needed).")
    parser.add_argument("--skip-no-pyc", dest="no_pyc", action="store_false", help="Skip the runs with no bytecode available.")
    parser.add_argument("--no-write", action="store_true", help="Print only; do not write bench/results/cold_start.md.")
    add_summary_argument(parser)
    args = parser.parse_args()
    started = time.perf_counter()

    from flowless.local.invoke import function_spec, invoke, lambda_environment, load_template

    template = load_template(REPO / "template.yaml")
    functions = sorted(name for name, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function")
    specs = {name: function_spec(template, name, root=REPO) for name in functions}
    python_handlers = [name for name in functions if not specs[name].handler.endswith(".sh")]
    measured = [name for name in python_handlers if name in EVENT_OF]
    lfx_info = None if args.no_lfx else lfx_stamp()

    samples: dict[str, dict[str, list[float]]] = {name: {} for name in [*measured, "floor", "floor_event", "lfx"]}
    statuses: dict[str, set[Any]] = {name: set() for name in measured}
    answers: dict[str, str] = {}
    notes: list[str] = []

    def add(name: str, **values: float) -> None:
        for key, value in values.items():
            samples[name].setdefault(key, []).append(value)

    with model_server() as model_url, run_function(model_url) as run, flow_folder() as folder, tempfile.TemporaryDirectory() as scratch:
        event_file = os.path.join(scratch, "event.json")
        with open(event_file, "w", encoding="utf-8") as out:
            json.dump(run.event, out)
        envs = {name: lambda_environment(specs[name], base=run.env) for name in measured}
        events = {name: run.event if name == "RunFunction" else json.loads((REPO / "events" / f"{EVENT_OF[name]}.json").read_text(encoding="utf-8"))
                  for name in measured}
        floor_env = envs[measured[0]]
        lfx_env = {**model_env(model_url)}
        flow_file = str(folder / "basic-prompting.json")
        for _ in range(args.runs):
            wall, cpu = floor_once(floor_env)
            add("floor", init=wall, init_cpu=cpu)
            wall, cpu, first, first_cpu = floor_once(floor_env, event_file)
            add("floor_event", init=wall, init_cpu=cpu, first=first, first_cpu=first_cpu)
            with tempfile.TemporaryDirectory() as empty:
                wall, _ = floor_once({**floor_env, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPYCACHEPREFIX": empty})
                add("floor", init_nopyc=wall)
            for name in measured:
                result = invoke(specs[name], [events[name]] * 3, env=envs[name])
                add(name, init=result.init_ms, init_cpu=result.init_cpu_ms, first=result.invocations[0].duration_ms,
                    warm=median([call.duration_ms for call in result.invocations[1:]]), rss=result.max_rss_mb)
                statuses[name].update((call.response or {}).get("statusCode") for call in result.invocations)
                if name == "RunFunction" and result.invocations[0].response:
                    from common import body_text

                    answers["flowless"] = body_text(result.invocations[0].response)
                if args.no_pyc:
                    # Lambda's /var/task and /opt are read-only: code shipped without bytecode is
                    # compiled at every cold start. An empty bytecode cache shows that cost.
                    with tempfile.TemporaryDirectory() as empty:
                        result = invoke(specs[name], [events[name]], env={**envs[name], "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPYCACHEPREFIX": empty})
                        add(name, init_nopyc=result.init_ms, first_nopyc=result.invocations[0].duration_ms)
            if lfx_info is not None:
                cold = lfx("cold", flow_file, "Hello, Flowless", env=lfx_env)
                add("lfx", init=cold["import_ms"], init_cpu=cold["import_cpu_ms"], first=cold["first_run_ms"],
                    first_cpu=cold["first_run_cpu_ms"], rss=cold["max_rss_mb"])
                answers["lfx"] = cold["text"]

    m = {name: {key: median(values) for key, values in found.items()} for name, found in samples.items()}
    for name in measured:
        if m[name]["init_cpu"] > HEAVY_FACTOR * m["floor"]["init_cpu"]:
            heavy = heavy_imports(specs[name], envs[name])
            notes.append(f"{name}: INIT CPU {m[name]['init_cpu']:.0f} ms > {HEAVY_FACTOR}x floor; heaviest imports beyond the floor: "
                         + ", ".join(f"{module} {ms:.0f} ms" for module, ms in heavy))

    def cell(name: str, key: str, digits: int = 0) -> str:
        value = m[name].get(key)
        return "" if value is None else f"{value:.{digits}f}"

    header = ["process", "event", "INIT ms", "INIT CPU ms", "1st inv ms", "1st inv CPU ms", "INIT+1st ms", "warm inv ms", "status", "max RSS MB"]
    if args.no_pyc:
        header += ["INIT no-pyc ms", "1st no-pyc ms"]
    rows = []

    def row(label: str, name: str, event: str, status: str = "") -> None:
        total = m[name].get("init", 0) + m[name].get("first", 0) if "first" in m[name] else None
        values = [label, event, cell(name, "init"), cell(name, "init_cpu"), cell(name, "first", 1), cell(name, "first_cpu", 1),
                  "" if total is None else f"{total:.0f}", cell(name, "warm", 1), status, cell(name, "rss")]
        if args.no_pyc:
            values += [cell(name, "init_nopyc"), cell(name, "first_nopyc", 1)]
        rows.append(values)

    row("floor (imports only)", "floor", "")
    row("floor + trivial route", "floor_event", "run event")
    for name in measured:
        row(name, name, EVENT_OF[name], ",".join(str(s) for s in sorted(statuses[name], key=str)))
    if lfx_info is not None:
        row(f"lfx {lfx_info['lfx']} run_flow_from_json", "lfx", "basic-prompting")

    checks: list[Check] = []
    run_m, floor_m = m["RunFunction"], m["floor"]
    ratio = run_m["init"] / floor_m["init"]
    checks.append(Check("RunFunction INIT / floor (imports vs imports)", f"{ratio:.2f}× ({run_m['init']:.0f} / {floor_m['init']:.0f} ms)",
                        f"≤ {INIT_VS_FLOOR_TARGET}×", ratio <= INIT_VS_FLOOR_TARGET))
    cpu_ratio = run_m["init_cpu"] / floor_m["init_cpu"]
    checks.append(Check("RunFunction INIT CPU / floor CPU", f"{cpu_ratio:.2f}×", f"≤ {INIT_VS_FLOOR_TARGET}× (information)", None))
    total = run_m["init"] + run_m["first"]
    checks.append(Check("RunFunction INIT + 1st invocation / floor imports", f"{total / floor_m['init']:.2f}× ({total:.0f} ms)", "— (information)", None))
    floor_total = m["floor_event"]["init"] + m["floor_event"]["first"]
    checks.append(Check("RunFunction INIT + 1st / floor + trivial route", f"{total / floor_total:.2f}× ({floor_total:.0f} ms)", "— (information)", None))
    if lfx_info is not None:
        lfx_total = m["lfx"]["init"] + m["lfx"]["first"]
        factor = lfx_total / total
        checks.append(Check("cold start: lfx (import + 1st run) / RunFunction (INIT + 1st)",
                            f"{factor:.1f}× ({lfx_total:.0f} / {total:.0f} ms)", f"≥ {LFX_FACTOR_TARGET:g}×", factor >= LFX_FACTOR_TARGET))
        if answers.get("lfx") != answers.get("flowless"):
            notes.append(f"answers differ: Flowless {answers.get('flowless')!r}, lfx {answers.get('lfx')!r}")
        else:
            notes.append(f"both answered {answers.get('lfx')!r} (the model server's echo).")

    print(text_table(header, rows))
    summary_text, summary_md = checks_table(checks)
    print("\n" + summary_text)
    for note in notes:
        print(note)
    skipped = [name for name in functions if name not in measured]
    if skipped:
        print(f"not measured (no representative event here, or not a Python handler): {', '.join(skipped)}")
    seconds = time.perf_counter() - started
    if not args.no_write:
        command = f"python bench/cold_start.py --runs {args.runs}" + ("" if args.no_pyc else " --skip-no-pyc") + (" --no-lfx" if args.no_lfx else "")
        lfx_line = (f"lfx {lfx_info['lfx']} from PyPI in `.cache/bench/lfx-venv` (Python {lfx_info['python']}), "
                    "`from lfx.load import run_flow_from_json`, then one `run_flow_from_json(flow, input)`."
                    if lfx_info else "lfx not measured (--no-lfx).")
        explain = "\n".join([
            f"Medians of {args.runs} interleaved rounds of fresh processes; took {seconds:.0f} s.",
            "",
            "INIT = importing the function's handler module in a fresh process with its template environment (tracing on,",
            "unsampled); 1st / warm = the handler called with the event (DynamoDB: embedded moto on loopback; model: the",
            "local OpenAI-compatible server answering at once, over HTTP). RunFunction runs Basic Prompting",
            "(../shared/flows, model set to OpenAI gpt-4o-mini), the same flow and server as lfx.",
            "Floor = a fresh process importing only " + ", ".join(f"`{m_}`" for m_ in FLOOR_MODULES) + "; floor + trivial route =",
            "then one POST of the run event through a one-route FastAPI app behind Mangum.",
            lfx_line,
            "The no-pyc columns: no bytecode available, which is what Lambda pays for code shipped without",
            "`__pycache__` (its /var/task and /opt are read-only); shared/Makefile therefore compiles the shared layer.",
        ])
        sections = [explain, md_table(header, rows), "## Targets\n\n" + summary_md]
        extra = list(notes) + ([f"Not measured (no representative event, or not a Python handler): {', '.join(skipped)}."] if skipped else [])
        if extra:
            sections.append("\n".join(f"- {note}" for note in extra))
        write_result("cold_start", "Cold start per function, next to the framework floor and lfx", command, sections)
    write_summary(args.summary, "cold_start", checks, seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
