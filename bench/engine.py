"""Engine benchmark: import time, parse time of every shared flow, and per-run engine overhead.

    python bench/engine.py [--runs 2000] [--profile]

- import: `import flowless_engine` in a fresh interpreter (median of several), and, for
  information, the import of everything a Basic Prompting run loads.
- parse: `load_graph` of each flow in ../shared/flows from its JSON text (median).
- overhead: `run_graph` of Basic Prompting on a cached parsed graph, the model answered
  in-process by a fake ChatModel (so no LLM time is counted): median over `--runs` runs.

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

ROOT = Path(__file__).resolve().parents[1]
SHARED_FLOWS = (ROOT / ".." / "shared" / "flows").resolve()
RESULTS = ROOT / "bench" / "results" / "engine.md"
IMPORT_TARGET_MS = 50.0
PARSE_TARGET_MS = 20.0
OVERHEAD_TARGET_MS = 1.0

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


def profile_overhead(graph: Any, runs: int) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    asyncio.run(run_overhead(graph, runs))
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the overhead runs")
    args = parser.parse_args()

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

    machine = f"{platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
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
        f"- Date: {when}\n- Machine: {machine}\n- Command: `python bench/engine.py --runs {args.runs}`\n\n"
        + "\n".join(table)
        + "\n\nRun overhead is the engine's own time: the model is answered in-process by a fake ChatModel.\n",
        encoding="utf-8",
    )
    print(f"\nwritten to {RESULTS.relative_to(ROOT)}")

    if args.profile:
        profile_overhead(graph, min(args.runs, 500))
    failed = [r for r in rows if r[3] == "NO"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
