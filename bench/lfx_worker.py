"""Runs inside the lfx venv (bench/setup_lfx.py), never in the project's: Langflow's executor
running one flow, timed. Prints one JSON line. Standard library and lfx only.

    <lfx-venv>/bin/python bench/lfx_worker.py cold FLOW.json INPUT
    <lfx-venv>/bin/python bench/lfx_worker.py runs FLOW.json INPUT N WARMUP

cold: a fresh process imports `run_flow_from_json` (lfx.load) and runs the flow once: what a
      cold start of a function running lfx would pay (INIT + first invocation).
runs: the graph loaded once (`aload_flow_from_json`), then N timed runs after WARMUP untimed
      ones. lfx cannot run a graph object twice (a second `arun` of the same Graph returns the
      first run's outputs), so each run gets a `copy.deepcopy` of the prepared graph, which is
      cheaper than Langflow's own per-request `Graph.from_payload`. Peak RSS after the runs.
"""

from __future__ import annotations

import json
import resource
import statistics
import sys
import time


def _rss_mb() -> float:
    """Peak RSS of this process (VmHWM; getrusage's ru_maxrss keeps the parent's peak across exec)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _text(outputs: list) -> str:
    return outputs[0].outputs[0].results["message"].text


def cold(flow: str, text: str) -> dict:
    wall, cpu = time.perf_counter(), time.process_time()
    from lfx.load import run_flow_from_json

    import_ms, import_cpu_ms = (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000
    wall, cpu = time.perf_counter(), time.process_time()
    outputs = run_flow_from_json(flow, text, session_id="bench-cold")
    return {"import_ms": import_ms, "import_cpu_ms": import_cpu_ms, "first_run_ms": (time.perf_counter() - wall) * 1000,
            "first_run_cpu_ms": (time.process_time() - cpu) * 1000, "text": _text(outputs), "max_rss_mb": _rss_mb()}


def runs(flow: str, text: str, n: int, warmup: int) -> dict:
    import asyncio
    import copy

    started = time.perf_counter()
    from lfx.load import aload_flow_from_json
    from lfx.processing.process import run_graph

    import_ms = (time.perf_counter() - started) * 1000

    async def main() -> dict:
        prepared = await aload_flow_from_json(flow, tweaks={"stream": False})
        times, texts = [], set()
        for index in range(warmup + n):
            begin = time.perf_counter()
            graph = copy.deepcopy(prepared)
            outputs = await run_graph(graph, f"{text} {index}", "chat", "chat", session_id="bench-runs")
            elapsed = (time.perf_counter() - begin) * 1000
            answer = _text(outputs)
            if answer != f"Echo: {text} {index}":
                raise SystemExit(f"lfx answered {answer!r} to run {index}")
            if index >= warmup:
                times.append(elapsed)
                texts.add(answer)
        return {"import_ms": import_ms, "n": n, "median_ms": statistics.median(times), "mean_ms": statistics.fmean(times),
                "times_ms": times, "distinct_answers": len(texts), "max_rss_mb": _rss_mb()}

    return asyncio.run(main())


if __name__ == "__main__":
    mode, flow_path, text = sys.argv[1], sys.argv[2], sys.argv[3]
    if mode == "cold":
        result = cold(flow_path, text)
    elif mode == "runs":
        result = runs(flow_path, text, int(sys.argv[4]), int(sys.argv[5]))
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    print(json.dumps(result))
