"""Soak: the local server (`python -m flowless run`) under steady load for a fixed time, its
memory watched. Loopback only, bounded in time.

    python bench/soak.py [--seconds 60] [--concurrency 8] [--max-rss-growth-mb 64] [--json]

The server runs in its own process with DynamoDB in another (moto's server), so the server's
RSS is the service's memory, not the data stored. The model is the test model server, in this
process. Load: `--concurrency` workers, each posting runs back to back over a pool of sessions —
Echo Prompt (no model) and Basic Chat (the model), one in four streamed, one in eight with an
Idempotency-Key. After a warm-up (imports, caches, connection pools), RSS is read from
/proc/<pid>/status; again at the end.

Prints requests, errors, p50/p99 latency, throughput and RSS at start and end. Exit 1 when RSS
grew more than `--max-rss-growth-mb`, or when more than `--max-errors` requests failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.e2e.conftest import free_port  # noqa: E402
from tests.support.model_server import ModelServer  # noqa: E402

KEY = "sk-soak-test-key-00000000000000000000000000000"
FLOWS = ("echo-prompt", "basic-chat")  # endpoint names of ./flows
SESSIONS = 64
MOTO_SERVER = (
    "import sys\n"
    "from flowless.local.dynamodb import fast_transactions\n"
    "from moto.server import main\n"
    "fast_transactions()\n"
    "main(['-H', sys.argv[1], '-p', sys.argv[2]])\n"
)
HOST = "127.0.0.1"


@dataclass
class Figures:
    seconds: float
    concurrency: int
    requests: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    throughput_rps: float = 0.0
    rss_start_mb: float = 0.0
    rss_end_mb: float = 0.0
    rss_growth_mb: float = 0.0
    max_rss_growth_mb: float = 0.0
    passed: bool = False


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def wait_until_up(url: str, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[2:4]} exited:\n{log.read_text()[-2000:]}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing answers at {url} after {timeout}s:\n{log.read_text()[-2000:]}")


def start(command: list[str], env: dict[str, str], log: Path, health: str) -> subprocess.Popen:
    process = subprocess.Popen(command, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, cwd=log.parent)
    try:
        wait_until_up(health, process, log)
    except BaseException:
        stop(process)
        raise
    return process


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


async def load(base: str, seconds: float, concurrency: int, figures: Figures) -> list[float]:
    latencies: list[float] = []
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits, headers={"x-api-key": KEY}) as client:

        async def worker(number: int) -> None:
            i = number
            while time.monotonic() < deadline:
                i += concurrency
                flow = FLOWS[i % len(FLOWS)]
                stream = i % 4 == 0
                extra = {"Idempotency-Key": f"soak-{i}"} if i % 8 == 1 else {}
                body = {"input_value": f"soak request {i}", "session_id": f"soak-{i % SESSIONS}", "input_type": "chat", "output_type": "chat"}
                started = time.perf_counter()
                try:
                    answer = await client.post(f"/api/v1/run/{flow}", params={"stream": str(stream).lower()}, json=body, headers=extra)
                    failed = answer.status_code != 200 or (stream and '"event": "end"' not in answer.text)
                    problem = f"{answer.status_code} {answer.text[:160]}"
                except httpx.HTTPError as exc:
                    failed, problem = True, f"{type(exc).__name__}: {exc}"
                latencies.append(time.perf_counter() - started)
                figures.requests += 1
                if failed:
                    figures.errors += 1
                    if len(figures.error_samples) < 5:
                        figures.error_samples.append(problem)

        await asyncio.gather(*(worker(n) for n in range(concurrency)))
    return latencies


def soak(seconds: float, concurrency: int, max_growth_mb: float, warmup_s: float) -> Figures:
    figures = Figures(seconds=seconds, concurrency=concurrency, max_rss_growth_mb=max_growth_mb)
    with tempfile.TemporaryDirectory(prefix="flowless-soak-") as tmp, ModelServer(HOST) as model:
        workdir = Path(tmp)
        model.chunk_delay_s = 0.0
        base_env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_ENDPOINT_URL", "AWS_PROFILE"))}
        base_env.update({"AWS_ACCESS_KEY_ID": "soak", "AWS_SECRET_ACCESS_KEY": "soak", "AWS_DEFAULT_REGION": "us-east-1",
                         "AWS_REGION": "us-east-1", "PYTHONUNBUFFERED": "1"})
        db_port = free_port()
        endpoint = f"http://{HOST}:{db_port}"
        # moto's server with the embedded DynamoDB's item-by-item transactions (flowless.local.dynamodb):
        # stock moto copies whole tables per transaction, so its latency would grow with the soak itself.
        database = start([sys.executable, "-c", MOTO_SERVER, HOST, str(db_port)], base_env, workdir / "moto.log", f"{endpoint}/moto-api/")
        server = None
        try:
            port = free_port()
            env = {**base_env, "FLOWLESS_API_KEY": KEY, "OPENAI_BASE_URL": model.base_url, "FLOWLESS_ALLOW_LOOPBACK": "true",
                   "FLOWLESS_LOCAL_KEY_FILE": str(workdir / "local.key"), "AWS_ENDPOINT_URL_S3": endpoint}
            command = [sys.executable, "-m", "flowless", "run", "--backend-only", "--host", HOST, "--port", str(port),
                       "--flows", str(REPO / "flows"), "--dynamodb-endpoint", endpoint]
            base = f"http://{HOST}:{port}"
            server = start(command, env, workdir / "server.log", f"{base}/health")
            asyncio.run(load(base, warmup_s, concurrency, Figures(seconds=warmup_s, concurrency=concurrency)))
            figures.rss_start_mb = rss_mb(server.pid)
            started = time.perf_counter()
            latencies = asyncio.run(load(base, seconds, concurrency, figures))
            elapsed = time.perf_counter() - started
            figures.rss_end_mb = rss_mb(server.pid)
        finally:
            if server is not None:
                stop(server)
            stop(database)
    ordered = sorted(latencies)
    if ordered:
        figures.p50_ms = round(statistics.median(ordered) * 1000, 1)
        figures.p99_ms = round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 1)
    figures.throughput_rps = round(figures.requests / elapsed, 1) if elapsed else 0.0
    figures.rss_start_mb, figures.rss_end_mb = round(figures.rss_start_mb, 1), round(figures.rss_end_mb, 1)
    figures.rss_growth_mb = round(figures.rss_end_mb - figures.rss_start_mb, 1)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="load duration after the warm-up (default 60)")
    parser.add_argument("--warmup", type=float, default=3.0, help="warm-up before the first RSS reading (default 3 s)")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight (default 8)")
    parser.add_argument("--max-rss-growth-mb", type=float, default=64.0, help="fail above this RSS growth (default 64 MB)")
    parser.add_argument("--max-errors", type=int, default=0, help="fail above this many failed requests (default 0)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args(argv)
    if not 0 < args.seconds <= 3600 or not 0 < args.concurrency <= 256:
        parser.error("--seconds must be in (0, 3600] and --concurrency in (0, 256]")

    figures = soak(args.seconds, args.concurrency, args.max_rss_growth_mb, args.warmup)
    figures.passed = figures.rss_growth_mb <= args.max_rss_growth_mb and figures.errors <= args.max_errors and figures.requests > 0
    if args.json:
        print(json.dumps(asdict(figures)))
    else:
        print(f"soak: {figures.seconds:g} s at concurrency {figures.concurrency}")
        print(f"  requests {figures.requests}, errors {figures.errors}, {figures.throughput_rps} req/s")
        print(f"  latency p50 {figures.p50_ms} ms, p99 {figures.p99_ms} ms")
        print(f"  server RSS {figures.rss_start_mb} MB → {figures.rss_end_mb} MB (growth {figures.rss_growth_mb} MB, bound {args.max_rss_growth_mb:g} MB)")
        for sample in figures.error_samples:
            print(f"  error: {sample}")
        print("  PASS" if figures.passed else "  FAIL")
    return 0 if figures.passed else 1


if __name__ == "__main__":
    sys.exit(main())
