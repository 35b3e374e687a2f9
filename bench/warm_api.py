"""Warm `/api/v1/run` of Basic Prompting: through the RunFunction's Lambda handler (Mangum,
in-process) and through the local server (`python -m flowless run`, HTTP), next to floors.

    python bench/warm_api.py [--requests 200] [--seconds 15] [--summary FILE]

- handler: functions/run/app.py imported as Lambda does (layers on sys.path, the template's
  environment, tracing on but unsampled), called with the RunFunction's API Gateway event
  (events/run-basic.json aimed at Basic Prompting). Storage: the embedded moto DynamoDB.
- handler floor: a trivial FastAPI route at the same path, behind the same Mangum handler
  (`flowless.observability.lambda_handler`: Powertools logging and metrics), the same event.
- local server: `python -m flowless run --backend-only` in a subprocess, called over loopback
  HTTP with httpx (asyncio), the same request; `/health` through it as its floor.

Concurrency 1, 8 and 32: workers sending back to back, each level bounded by `--requests` and
`--seconds`. A Lambda container serves one request at a time (each concurrent request gets its own
container), so the handler's concurrency 8 and 32 are threads sharing one process and its GIL:
shown for completeness, not as Lambda throughput. The model is the local OpenAI-compatible
server (own process, answering at once). The handler's logs (one JSON line per request plus the
metrics line) go to a file whose size per request is reported (CloudWatch Logs ingestion).

Target: the handler's p50 at concurrency 1 ≤ 3 ms above the floor's. The gap includes this
machine's I/O (moto's DynamoDB round trips, the model call) that AWS answers differently, so the
time spent in them is measured in the same requests (botocore calls and the engine's HTTP
client, timed) and the target is checked on the gap without it: what Flowless's own code adds.
The raw gap is printed beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import (
    REPO,
    Check,
    add_summary_argument,
    body_text,
    checks_table,
    flow_folder,
    md_table,
    median,
    model_server,
    percentile,
    run_function,
    text_table,
    write_result,
    write_summary,
)

from tests.e2e.conftest import free_port  # noqa: E402
from tests.support.lambda_context import FakeLambdaContext  # noqa: E402

LEVELS = (1, 8, 32)
GAP_TARGET_MS = 3.0
DEV_KEY = "sk-bench-warm-api-key-00000000000000000000000000"


class IoClock:
    """Time spent in botocore calls (DynamoDB) and in the engine's HTTP client (the model), per
    thread, with the calls counted: what the request waited on rather than computed."""

    def __init__(self) -> None:
        self.local = threading.local()

    def install(self) -> None:
        import botocore.client
        from flowless_engine.http import HttpClient

        clock = self
        api_call = botocore.client.BaseClient._make_api_call
        request = HttpClient.request

        def timed_api_call(client: Any, operation: str, params: dict[str, Any]) -> Any:
            started = time.perf_counter()
            try:
                return api_call(client, operation, params)
            finally:
                clock.add("dynamodb", time.perf_counter() - started, operation)

        async def timed_request(http: Any, *args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await request(http, *args, **kwargs)
            finally:
                clock.add("model", time.perf_counter() - started, "http")

        botocore.client.BaseClient._make_api_call = timed_api_call  # type: ignore[method-assign]
        HttpClient.request = timed_request  # type: ignore[method-assign]

    def reset(self) -> None:
        self.local.spent = {"dynamodb": 0.0, "model": 0.0}
        self.local.calls = []

    def add(self, kind: str, seconds: float, operation: str) -> None:
        if not hasattr(self.local, "spent"):
            self.reset()
        self.local.spent[kind] += seconds
        self.local.calls.append(operation)


def load_handler(spec: Any) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """functions/<group>/app.py as Lambda imports it: its CodeUri and layers first on sys.path."""
    for layer in reversed(spec.layer_dirs):
        if str(layer) not in sys.path:
            sys.path.insert(0, str(layer))
    module_file = spec.code_dir / "app.py"
    loader = importlib.util.spec_from_file_location(f"_bench_{spec.logical_id}", module_file)
    assert loader is not None and loader.loader is not None
    module = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(module)
    return module.handler


def floor_handler() -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    from fastapi import FastAPI
    from flowless.observability import lambda_handler

    app = FastAPI()

    @app.post("/api/v1/run/{flow_id_or_name}")
    async def run(flow_id_or_name: str) -> dict[str, Any]:
        return {"session_id": flow_id_or_name, "outputs": []}

    return lambda_handler(app)


def drive_handler(handler: Callable[..., dict[str, Any]], event: dict[str, Any], concurrency: int, total: int, seconds: float,
                  memory_mb: int, clock: IoClock | None = None, check: Callable[[dict[str, Any]], bool] | None = None) -> dict[str, Any]:
    """`concurrency` threads calling the handler back to back; latencies, throughput, errors."""
    latencies: list[float] = []
    io: list[tuple[float, float, int]] = []
    errors = 0
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    budget = [total]

    def worker() -> None:
        nonlocal errors
        asyncio.set_event_loop(asyncio.new_event_loop())  # Mangum runs each request on the thread's loop
        while True:
            with lock:
                if budget[0] <= 0 or time.monotonic() > deadline:
                    return
                budget[0] -= 1
            if clock is not None:
                clock.reset()
            started = time.perf_counter()
            response = handler(event, FakeLambdaContext("RunFunction", memory_mb))
            elapsed = (time.perf_counter() - started) * 1000
            ok = response.get("statusCode") == 200 and (check is None or check(response))
            with lock:
                latencies.append(elapsed)
                errors += 0 if ok else 1
                if clock is not None:
                    io.append((clock.local.spent["dynamodb"] * 1000, clock.local.spent["model"] * 1000, len(clock.local.calls)))

    began = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    result = {"n": len(latencies), "p50": median(latencies), "p99": percentile(latencies, 99), "rps": len(latencies) / elapsed, "errors": errors}
    if io:
        result.update(dynamodb_ms=median([d for d, _, _ in io]), model_ms=median([m for _, m, _ in io]),
                      io_ms=median([d + m for d, m, _ in io]), calls=median([c for _, _, c in io]))
    return result


async def drive_http(url: str, body: dict[str, Any] | None, concurrency: int, total: int, seconds: float, headers: dict[str, str]) -> dict[str, Any]:
    import httpx

    latencies: list[float] = []
    errors = 0
    budget = [total]
    deadline = time.monotonic() + seconds

    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)) as client:
        async def worker() -> None:
            nonlocal errors
            while budget[0] > 0 and time.monotonic() < deadline:
                budget[0] -= 1
                started = time.perf_counter()
                if body is None:
                    response = await client.get(url, headers=headers)
                else:
                    response = await client.post(url, json=body, headers=headers)
                latencies.append((time.perf_counter() - started) * 1000)
                if response.status_code != 200:
                    errors += 1

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    return {"n": len(latencies), "p50": median(latencies), "p99": percentile(latencies, 99), "rps": len(latencies) / elapsed, "errors": errors}


def local_server(model_env: dict[str, str], flows: Path, workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`python -m flowless run --backend-only` on a free loopback port (as tests/e2e/conftest.py)."""
    import httpx

    port = free_port()
    env = {**os.environ, **model_env, "FLOWLESS_API_KEY": DEV_KEY, "FLOWLESS_LOCAL_KEY_FILE": str(workdir / "local.key"), "PYTHONUNBUFFERED": "1"}
    for name in ("AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_S3", "LAMBDA_TASK_ROOT", "_X_AMZN_TRACE_ID"):
        env.pop(name, None)
    log = (workdir / "server.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "flowless", "run", "--backend-only", "--port", str(port), "--flows", str(flows)],
                               cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the local server exited: {(workdir / 'server.log').read_text()[-2000:]}")
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the local server did not start")


class LogsToFile:
    """fd 1 (where Powertools writes its JSON lines) to a file while measuring; bytes written."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> LogsToFile:
        sys.stdout.flush()
        self._saved = os.dup(1)
        self._file = open(self.path, "ab")
        os.dup2(self._file.fileno(), 1)
        self.start = self.path.stat().st_size
        return self

    def __exit__(self, *exc: object) -> None:
        sys.stdout.flush()
        os.dup2(self._saved, 1)
        os.close(self._saved)
        self._file.close()

    def written(self) -> int:
        sys.stdout.flush()
        return self.path.stat().st_size - self.start


def measure_handlers(run: Any, args: argparse.Namespace, scratch: Path) -> tuple[dict[str, dict[int, dict[str, Any]]], float]:
    """The floor and the RunFunction handler at each level; log bytes per run request."""
    os.environ.update(run.env)
    memory_mb = run.spec.memory_mb
    floor = floor_handler()
    handler = load_handler(run.spec)
    clock = IoClock()
    clock.install()
    expected = "Echo: Hello, Flowless"
    check = lambda response: body_text(response) == expected  # noqa: E731
    results: dict[str, dict[int, dict[str, Any]]] = {"floor": {}, "handler": {}}
    log_bytes = 0.0
    with LogsToFile(scratch / "handler.log") as logs:
        drive_handler(floor, run.event, 1, 30, 10, memory_mb)  # warm: imports, caches, connections
        drive_handler(handler, run.event, 1, 30, 10, memory_mb, clock, check)
        for level in LEVELS:
            total = args.requests if level == 1 else args.requests * 2
            # Floor and handler alternate in halves, so a change in the machine's load hits both.
            halves = []
            for _ in range(2):
                halves.append((drive_handler(floor, run.event, level, total // 2, args.seconds / 2, memory_mb),
                               drive_handler(handler, run.event, level, total // 2, args.seconds / 2, memory_mb, clock, check)))
            results["floor"][level] = merge([h[0] for h in halves])
            results["handler"][level] = merge([h[1] for h in halves])
        before = logs.written()
        drive_handler(handler, run.event, 1, 50, 10, memory_mb)
        log_bytes = (logs.written() - before) / 50
    return results, log_bytes


def merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Two halves of one level: counts summed, the other figures averaged (medians of medians)."""
    merged: dict[str, Any] = {}
    for key in parts[0]:
        values = [p[key] for p in parts]
        merged[key] = sum(values) if key in ("n", "errors") else sum(values) / len(values)
    return merged


def measure_local_server(model_env: dict[str, str], args: argparse.Namespace, scratch: Path) -> dict[str, dict[int, dict[str, Any]]]:
    with flow_folder() as folder:
        flows = scratch / "flows"
        flows.mkdir(exist_ok=True)
        (flows / "basic-prompting.json").write_text((folder / "basic-prompting.json").read_text(encoding="utf-8"), encoding="utf-8")
    flow_id = json.loads((flows / "basic-prompting.json").read_text(encoding="utf-8"))["id"]
    process, base = local_server(model_env, flows, scratch)
    headers = {"x-api-key": DEV_KEY}
    body = {"input_value": "Hello, Flowless", "output_type": "chat", "input_type": "chat"}
    results: dict[str, dict[int, dict[str, Any]]] = {"health": {}, "server": {}}
    try:
        run_url, health_url = f"{base}/api/v1/run/{flow_id}", f"{base}/health"
        asyncio.run(drive_http(run_url, body, 1, 30, 10, headers))  # warm
        for level in LEVELS:
            total = args.requests if level == 1 else args.requests * 2
            results["health"][level] = asyncio.run(drive_http(health_url, None, level, total, args.seconds, headers))
            results["server"][level] = asyncio.run(drive_http(run_url, body, level, total, args.seconds, headers))
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="requests per level at concurrency 1 (twice that at 8 and 32)")
    parser.add_argument("--seconds", type=float, default=15.0, help="time limit per level and path")
    parser.add_argument("--no-write", action="store_true")
    add_summary_argument(parser)
    args = parser.parse_args()
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="flowless-bench-warm-") as scratch_dir, model_server() as model_url:
        scratch = Path(scratch_dir)
        from common import model_env

        env = model_env(model_url)
        server = measure_local_server(env, args, scratch)  # first: the handler run changes this process's environment
        with run_function(model_url) as run:
            handlers, log_bytes = measure_handlers(run, args, scratch)

    rows = []
    labels = {"floor": "handler floor: trivial route, same Mangum handler", "handler": "RunFunction handler (Mangum, in-process)",
              "health": "local server GET /health", "server": "local server POST /api/v1/run (HTTP)"}
    for name, by_level in [*handlers.items(), *server.items()]:
        for level, r in by_level.items():
            rows.append((labels[name], level, r["n"], f"{r['p50']:.2f}", f"{r['p99']:.2f}", f"{r['rps']:.0f}", r["errors"]))
    header = ("path", "concurrency", "requests", "p50 ms", "p99 ms", "req/s", "errors")
    h1, f1 = handlers["handler"][1], handlers["floor"][1]
    gap = h1["p50"] - f1["p50"]
    own = gap - h1["io_ms"]
    checks = [
        Check("warm handler p50 − floor p50, without its I/O (DynamoDB on moto + model call)", f"{own:.2f} ms", f"≤ {GAP_TARGET_MS:g} ms", own <= GAP_TARGET_MS),
        Check("  raw gap: handler p50 − floor p50 (concurrency 1)", f"{gap:.2f} ms ({h1['p50']:.2f} − {f1['p50']:.2f})", "— (information)", None),
        Check("  of which DynamoDB (moto) / model HTTP, median per request",
              f"{h1['dynamodb_ms']:.2f} / {h1['model_ms']:.2f} ms ({h1['calls']:.0f} calls)", "— (information)", None),
        Check("local server POST /run p50 at concurrency 1", f"{server['server'][1]['p50']:.2f} ms", "— (information)", None),
        Check("errors (all paths, all levels)", str(sum(r["errors"] for by in [*handlers.values(), *server.values()] for r in by.values())), "0",
              all(r["errors"] == 0 for by in [*handlers.values(), *server.values()] for r in by.values())),
    ]
    print(text_table(header, rows))
    summary_text, summary_md = checks_table(checks)
    print("\n" + summary_text)
    print(f"handler log output: {log_bytes:.0f} bytes per run request")
    seconds = time.perf_counter() - began
    if not args.no_write:
        notes = [
            f"Took {seconds:.0f} s. Handler: the RunFunction's event (API Gateway REST) for Basic Prompting; its log output is "
            f"{log_bytes:.0f} bytes per run request (the `request` line and the EMF metrics line).",
            "Concurrency 8 and 32 through the handler are threads of one process (one GIL); on Lambda each concurrent request "
            "has its own container, so the concurrency-1 row is the one that describes a warm Lambda invocation.",
            "The local server runs the embedded moto DynamoDB in its own process and makes synchronous PynamoDB calls from its "
            "event loop, so its throughput does not grow with concurrency (see bench/run_api.py and bench/results/run_api.md).",
            "I/O per handler request is timed in the same requests: botocore's `_make_api_call` (DynamoDB on moto over loopback) "
            "and the engine's `HttpClient.request` (the model server). The target is checked on the gap minus that time.",
        ]
        write_result("warm_api", "Warm /api/v1/run: Lambda handler and local server", f"python bench/warm_api.py --requests {args.requests} --seconds {args.seconds:g}",
                     [md_table(header, rows), "## Targets\n\n" + summary_md, "\n".join(f"- {n}" for n in notes)])
    write_summary(args.summary, "warm_api", checks, seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
