"""Engine benchmark: import time, parse time of every shared flow, and per-run engine overhead.

    python bench/engine.py [--runs 2000] [--profile]

- import: `import flowless_engine` in a fresh interpreter (median of several), and, for
  information, the import of everything a Basic Prompting run loads.
- parse: `load_graph` of each flow in ../shared/flows from its JSON text (median).
- overhead: `run_graph` of Basic Prompting on a cached parsed graph, the model answered
  in-process by a fake ChatModel (so no LLM time is counted): median over `--runs` runs.
- side by side with Langflow's executor: the same flow (model set to OpenAI gpt-4o-mini) run
  in-process by Flowless (`run_graph` on a cached graph, one HTTP client for all runs) and by
  lfx (bench/lfx_worker.py in the lfx venv: the graph loaded once, a deep copy of it run each
  time, as lfx cannot re-run a graph), the model answered at once by the same local
  OpenAI-compatible server in its own process, over HTTP: the round trip is in both figures.
  Target: Flowless's per-run time ≥ 50 × lower than lfx's.

Prints a table (figure, target, holds) and writes it to bench/results/engine.md.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime
import os
import platform
import pstats
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from common import machine as common_machine
from common import Check, add_summary_argument, basic_prompting, flow_folder, lfx, lfx_stamp, model_env, model_server, percentile, write_summary

ROOT = Path(__file__).resolve().parents[1]
SHARED_FLOWS = (ROOT / ".." / "shared" / "flows").resolve()
RESULTS = ROOT / "bench" / "results" / "engine.md"
IMPORT_TARGET_MS = 50.0
PARSE_TARGET_MS = 20.0
OVERHEAD_TARGET_MS = 1.0
LFX_FACTOR_TARGET = 50.0

_IMPORT_SNIPPET = """
import time
t = time.perf_counter()
{imports}
print((time.perf_counter() - t) * 1000)
"""
_RUN_PATH_IMPORTS = """
import flowless_engine
from flowless_engine.graph.loader import load_graph
from flowless_engine.runtime.run import run_graph
from flowless_engine.components import io, prompts, models
"""


def import_ms(imports: str, samples: int = 9) -> float:
    """Median wall time of `imports` in fresh interpreters (each pays the full cost)."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    code = _IMPORT_SNIPPET.format(imports=imports.strip())
    times = []
    for _ in range(samples):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT, env=env)
        times.append(float(out.stdout.strip()))
    return statistics.median(times)


def parse_ms(text: str, samples: int = 30) -> float:
    from flowless_engine.graph.loader import load_graph

    load_graph(text)  # warm
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        load_graph(text)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


class InstantModel:
    """A ChatModel answering at once: what is left of a run is the engine's own work."""

    provider = "OpenAI"
    model = "gpt-4o-mini"

    def __init__(self, config: Any = None) -> None:
        from flowless_engine.llm.base import ChatResult
        from flowless_engine.schema import Usage

        self._result = lambda: ChatResult(text="Hello! Let's build something.", usage=Usage(20, 5, 25), model=self.model)

    async def complete(self, messages: Any, *, tools: Any = None, json_schema: Any = None) -> Any:
        return self._result()

    async def stream(self, messages: Any, *, tools: Any = None) -> Any:
        result = self._result()
        for piece in ("Hello! ", "Let's ", "build ", "something."):
            yield piece
        yield result


async def run_overhead(graph: Any, runs: int, *, stream: bool = False, collect_events: bool = False) -> tuple[float, float]:
    """Median and 95th percentile of one `run_graph`, in milliseconds."""
    from flowless_engine.runtime.context import RunContext
    from flowless_engine.runtime.request import RunRequest
    from flowless_engine.runtime.run import run_graph
    from flowless_engine.runtime.services import ListEventSink, NullEventSink

    times = []
    for index in range(runs + 50):
        ctx = RunContext(
            flow_id=graph.flow_id,
            session_id="",
            events=ListEventSink() if collect_events else NullEventSink(),
            model_factory=InstantModel,
        )
        request = RunRequest(input_value="Hello there", session_id="bench-session", stream=stream)
        started = time.perf_counter()
        await run_graph(graph, request, ctx)
        if index >= 50:  # the first runs warm caches (imports, validation)
            times.append(time.perf_counter() - started)
    times.sort()
    return statistics.median(times) * 1000, times[int(len(times) * 0.95)] * 1000


async def run_over_http(graph: Any, runs: int, warmup: int = 50) -> list[float]:
    """Per-run milliseconds of `run_graph` with the real OpenAI client over HTTP (OPENAI_BASE_URL),
    one HttpClient shared by every run as in a warm container."""
    from flowless_engine.http import default_client
    from flowless_engine.runtime.context import RunContext
    from flowless_engine.runtime.request import RunRequest
    from flowless_engine.runtime.run import run_graph
    from flowless_engine.runtime.services import DictVariableResolver
    from flowless_engine.settings import EngineSettings

    settings = EngineSettings.from_env()
    http = default_client(settings)
    variables = DictVariableResolver({"OPENAI_API_KEY": os.environ["OPENAI_API_KEY"]})
    times = []
    for index in range(warmup + runs):
        ctx = RunContext(flow_id=graph.flow_id, session_id="", variables=variables, settings=settings, http_client=http)
        text = f"Hello, Flowless {index}"
        started = time.perf_counter()
        result = await run_graph(graph, RunRequest(input_value=text, session_id="bench-session"), ctx)
        elapsed = time.perf_counter() - started
        answer = result.response()["outputs"][0]["outputs"][0]["results"]["message"]["text"]
        if answer != f"Echo: {text}":
            raise SystemExit(f"Flowless answered {answer!r} to run {index}")
        if index >= warmup:
            times.append(elapsed * 1000)
    return times


def side_by_side(runs: int, lfx_runs: int) -> tuple[list[tuple[str, float, float | None]], list[Check], dict[str, Any]]:
    """Flowless and lfx running Basic Prompting against the same model server."""
    from flowless_engine.graph.loader import load_graph

    lfx_info = lfx_stamp()
    with model_server() as url, flow_folder() as folder:
        env = model_env(url)
        os.environ.update(env)
        graph = load_graph(basic_prompting())
        ours = asyncio.run(run_over_http(graph, runs))
        theirs = lfx("runs", str(folder / "basic-prompting.json"), "Hello, Flowless", str(lfx_runs), "5", env=env)
        ours_again = asyncio.run(run_over_http(graph, runs, warmup=10))  # both sides of the lfx run: drift shows
    flowless_ms = statistics.median(ours + ours_again)
    lfx_ms = theirs["median_ms"]
    factor = lfx_ms / flowless_ms
    rows = [
        (f"per run, model over HTTP: Flowless run_graph, cached graph (median of {2 * runs})", flowless_ms, None),
        ("  same, Flowless 99th percentile", percentile(ours + ours_again, 99), None),
        (f"per run, model over HTTP: lfx {lfx_info['lfx']}, prepared graph copied per run (median of {lfx_runs})", lfx_ms, None),
        ("  same, lfx 99th percentile", percentile(theirs["times_ms"], 99), None),
    ]
    checks = [Check("engine per run: lfx / Flowless (Basic Prompting, model over HTTP)",
                    f"{factor:.0f}× ({lfx_ms:.1f} / {flowless_ms:.2f} ms)", f"≥ {LFX_FACTOR_TARGET:g}×", factor >= LFX_FACTOR_TARGET)]
    return rows, checks, lfx_info


def profile_overhead(graph: Any, runs: int) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    asyncio.run(run_overhead(graph, runs))
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--http-runs", type=int, default=300, help="Flowless runs over HTTP (twice: before and after lfx's)")
    parser.add_argument("--lfx-runs", type=int, default=60, help="lfx runs over HTTP (0: skip the side by side)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the overhead runs")
    add_summary_argument(parser)
    args = parser.parse_args()
    begun = time.perf_counter()

    sys.path.insert(0, str(ROOT / "layers" / "engine"))
    from flowless_engine.graph.loader import load_graph

    rows: list[tuple[str, str, str, str]] = []

    def row(figure: str, value_ms: float, target_ms: float | None) -> None:
        target = f"≤ {target_ms:g} ms" if target_ms is not None else "—"
        holds = ("yes" if value_ms <= target_ms else "NO") if target_ms is not None else "—"
        rows.append((figure, f"{value_ms:.3f} ms", target, holds))

    row("import flowless_engine (fresh process, median of 9)", import_ms("import flowless_engine"), IMPORT_TARGET_MS)
    row("import of a Basic Prompting run's modules (information)", import_ms(_RUN_PATH_IMPORTS), None)

    flows = sorted(SHARED_FLOWS.glob("*.json"), key=lambda p: p.stat().st_size)
    largest = flows[-1]
    for path in flows:
        text = path.read_text(encoding="utf-8")
        target = PARSE_TARGET_MS if path == largest else None
        label = f"parse {path.stem} ({len(text) // 1024} KiB{', largest' if path == largest else ''})"
        row(label, parse_ms(text), target)

    graph = load_graph((SHARED_FLOWS / "Basic Prompting.json").read_text(encoding="utf-8"))
    median, p95 = asyncio.run(run_overhead(graph, args.runs))
    row(f"run overhead, Basic Prompting (median of {args.runs})", median, OVERHEAD_TARGET_MS)
    row(f"run overhead, Basic Prompting (95th percentile of {args.runs})", p95, None)
    median_stream, _ = asyncio.run(run_overhead(graph, max(args.runs // 4, 100), stream=True, collect_events=True))
    row("run overhead, Basic Prompting streamed, events collected (median)", median_stream, None)

    checks: list[Check] = []
    lfx_note = ""
    if args.lfx_runs > 0:
        side_rows, checks, lfx_info = side_by_side(args.http_runs, args.lfx_runs)
        for figure, value, target in side_rows:
            row(figure, value, target)
        factor_check = checks[0]
        rows.append((factor_check.figure, factor_check.value, factor_check.target, factor_check.verdict))
        lfx_note = (f"\n\nSide by side: lfx {lfx_info['lfx']} (PyPI, `.cache/bench/lfx-venv`, Python {lfx_info['python']}) runs the same "
                    "flow through `aload_flow_from_json` once and `lfx.processing.process.run_graph` on a `copy.deepcopy` of that "
                    "graph per run (a Graph object cannot be run twice: the second run returns the first run's outputs; Langflow's "
                    "server builds one per request with `Graph.from_payload`, which costs about the same). Flowless runs "
                    "`run_graph` on its cached graph. Both call the same local OpenAI-compatible server (own process, answers "
                    "at once) over HTTP, so a loopback round trip is in both per-run figures.")
    checks = [Check(r[0], r[1], r[2], None if r[3] == "—" else r[3] == "yes") for r in rows if r[2] != "—" and r[0] not in {c.figure for c in checks}] + checks

    machine = f"{platform.platform()}, {common_machine()}"
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    width = max(len(r[0]) for r in rows)
    lines = [f"{'figure'.ljust(width)} | {'value':>12} | {'target':>9} | holds", "-" * (width + 36)]
    lines += [f"{f.ljust(width)} | {v:>12} | {t:>9} | {h}" for f, v, t, h in rows]
    print(f"Engine benchmark, {when}; {machine}\n")
    print("\n".join(lines))

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    table = ["| figure | value | target | holds |", "|---|---:|---:|:---:|"] + [f"| {f} | {v} | {t} | {h} |" for f, v, t, h in rows]
    RESULTS.write_text(
        "# Engine benchmark\n\n"
        f"- Date: {when}\n- Machine: {machine}\n- Command: `python bench/engine.py --runs {args.runs} --http-runs {args.http_runs} --lfx-runs {args.lfx_runs}`\n\n"
        + "\n".join(table)
        + "\n\nRun overhead is the engine's own time: the model is answered in-process by a fake ChatModel." + lfx_note + "\n",
        encoding="utf-8",
    )
    print(f"\nwritten to {RESULTS.relative_to(ROOT)}")
    write_summary(args.summary, "engine", checks, time.perf_counter() - begun)

    if args.profile:
        profile_overhead(graph, min(args.runs, 500))
    failed = [r for r in rows if r[3] == "NO"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
