"""`/api/v1/run` through the local server over HTTP: sequential p50/p99 and throughput at
concurrency 1, 8 and 32 for a Basic-Prompting-like flow (`flows/basic-chat.json`) whose model is
answered at once by the test model server. Loopback only; bounded counts.

    python bench/run_api.py [--requests 200]

Targets (issue #3, this 2-core machine, embedded DynamoDB): sequential p50 ≤ 10 ms; ≥ 50 req/s at
concurrency 8 with no errors.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from common import Check, add_summary_argument, write_summary  # noqa: E402
from tests.e2e.conftest import free_port  # noqa: E402
from tests.support.model_server import ModelServer  # noqa: E402

KEY = "sk-bench-run-api-key-000000000000000000000000"
BODY = {"input_value": "Hello from the benchmark", "output_type": "chat", "input_type": "chat"}


def start_server(model: ModelServer, workdir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "FLOWLESS_API_KEY": KEY, "OPENAI_BASE_URL": model.base_url,
           "FLOWLESS_LOCAL_KEY_FILE": str(workdir / "local.key")}
    env.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
    process = subprocess.Popen([sys.executable, "-m", "flowless", "run", "--port", str(port), "--flows", str(REPO / "flows")],
                               cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/health", timeout=1).ok:
                return process, base
        except requests.ConnectionError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the local server did not start")


def measure(base: str, concurrency: int, total: int) -> dict[str, float]:
    url = f"{base}/api/v1/run/basic-chat"
    sessions = [requests.Session() for _ in range(concurrency)]
    latencies: list[float] = []
    errors = 0

    def worker(index: int) -> None:
        nonlocal errors
        session = sessions[index % concurrency]
        for _ in range(total // concurrency):
            started = time.perf_counter()
            response = session.post(url, json=BODY, headers={"x-api-key": KEY}, timeout=30)
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                errors += 1

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(worker, range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "p50": statistics.median(latencies),
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "rps": len(latencies) / elapsed,
        "errors": errors,
        "n": len(latencies),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=320, help="requests per concurrency level")
    add_summary_argument(parser)
    args = parser.parse_args()
    started = time.perf_counter()
    with ModelServer() as model:
        model.chunk_delay_s = 0.0
        workdir = REPO / ".cache" / "bench-run-api"
        workdir.mkdir(parents=True, exist_ok=True)
        process, base = start_server(model, workdir)
        try:
            measure(base, 1, 32)  # warm caches (graph, auth, connections)
            results = {c: measure(base, c, args.requests) for c in (1, 8, 32)}
        finally:
            process.terminate()
            process.wait(timeout=10)
    seq, c8 = results[1], results[8]
    rows = [
        ("sequential p50", f"{seq['p50']:.1f} ms", "≤ 10 ms", seq["p50"] <= 10),
        ("req/s at concurrency 8, errors", f"{c8['rps']:.0f} req/s, {c8['errors']} errors", "≥ 50 req/s, 0 errors", c8["rps"] >= 50 and c8["errors"] == 0),
    ]
    lines = [
        "# Run API benchmark (local server over HTTP)",
        "",
        f"- Date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC}",
        f"- Machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        f"- Command: `python bench/run_api.py --requests {args.requests}`; flow `basic-chat`, model answered at once over HTTP",
        "",
        "| concurrency | requests | p50 ms | p99 ms | req/s | errors |",
        "|---:|---:|---:|---:|---:|---:|",
        *[f"| {c} | {r['n']} | {r['p50']:.1f} | {r['p99']:.1f} | {r['rps']:.0f} | {r['errors']} |" for c, r in results.items()],
        "",
        "| target | measured | bound | holds |",
        "|---|---|---|:---:|",
        *[f"| {name} | {value} | {bound} | {'yes' if ok else 'NO'} |" for name, value, bound, ok in rows],
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    out = REPO / "bench" / "results" / "run_api.md"
    out.write_text(text, encoding="utf-8")
    checks = [Check(f"local server /run {name}", value, bound, ok) for name, value, bound, ok in rows]
    checks += [Check(f"local server /run at concurrency {c}", f"p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms, {r['rps']:.0f} req/s", "— (information)", None)
               for c, r in results.items() if c != 1]
    write_summary(args.summary, "run_api", checks, time.perf_counter() - started)
    return 0 if all(ok for *_, ok in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
