"""Cost model: AWS cost per million runs of Basic Prompting through API Gateway and the RunFunction,
model tokens excluded, from figures measured here.

    python bench/cost.py [--runs 100] [--summary FILE]

Measured: the RunFunction in a fresh process (its handler imported as Lambda does, then `--runs`
Basic Prompting events; model: the local OpenAI-compatible server answering at once; DynamoDB:
embedded moto): warm duration per run, peak memory, log bytes per run, the items each run writes
(read back from the tables to size them) and the DynamoDB calls it makes.

Priced (us-east-1 list prices, overridable by flags): Lambda arm64 GB-seconds and requests at the
template's MemorySize, billed per ms; API Gateway REST requests; DynamoDB on-demand write units
(a transactional write costs 2 units per KB of each item); CloudWatch Logs ingestion. Lambda at
1024 MB gets about 0.58 of a vCPU where this machine gives a whole core, so the run's time is
also shown scaled by 1769 / MemorySize (as if all of it were CPU: an upper bound).
Writes bench/results/cost.md.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from typing import Any

from common import (
    Check,
    add_summary_argument,
    checks_table,
    md_table,
    model_server,
    percentile,
    run_function,
    text_table,
    write_result,
    write_summary,
)

FULL_VCPU_MB = 1769  # Lambda's memory size at which a function gets one full vCPU


def item_bytes(item: dict[str, Any]) -> int:
    """DynamoDB's item size, near enough: attribute names plus their values' serialized lengths."""
    return sum(len(name.encode()) + len(json.dumps(value, separators=(",", ":")).encode()) for name, value in item.items())


def written_items(endpoint: str, env: dict[str, str], tenant: str) -> dict[str, list[dict[str, Any]]]:
    import boto3

    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name=env.get("AWS_REGION", "us-east-1"))
    found = {}
    for table in ("MESSAGES_TABLE", "SESSIONS_TABLE"):
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": env[table]}
        while True:
            page = client.scan(**kwargs)
            items += [i for i in page["Items"] if next(iter(i.values()))["S"].startswith(tenant)]
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        found[table] = items
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--lambda-gb-second", type=float, default=0.0000133334, help="USD, arm64")
    parser.add_argument("--lambda-request", type=float, default=0.20 / 1e6, help="USD per request")
    parser.add_argument("--api-request", type=float, default=3.50 / 1e6, help="USD per REST API request")
    parser.add_argument("--write-unit", type=float, default=0.625 / 1e6, help="USD per on-demand write request unit")
    parser.add_argument("--log-gb", type=float, default=0.50, help="USD per GB of CloudWatch Logs ingested")
    add_summary_argument(parser)
    args = parser.parse_args()
    started = time.perf_counter()
    from flowless.local.invoke import invoke

    with model_server() as url, run_function(url) as run:
        # One session per run, as distinct users would: every run starts a session (the larger write).
        events = []
        for index in range(args.runs + 1):
            event = json.loads(json.dumps(run.event))
            body = json.loads(event["body"]) if event.get("body") else {}
            body["session_id"] = f"cost-{index}"
            event["body"] = json.dumps(body)
            events.append(event)
        result = invoke(run.spec, events, env=run.env)
        statuses = {(call.response or {}).get("statusCode") for call in result.invocations}
        if statuses != {200}:
            raise SystemExit(f"RunFunction answered {statuses}: {result.logs[-2000:]}")
        items = written_items(run.endpoint, run.env, run.tenant)

    warm = [call.duration_ms for call in result.invocations[1:]]
    p50, p99 = statistics.median(warm), percentile(warm, 99)
    memory_gb = run.spec.memory_mb / 1024
    scaled_ms = p50 * FULL_VCPU_MB / run.spec.memory_mb
    messages, sessions = items["MESSAGES_TABLE"], items["SESSIONS_TABLE"]
    runs_written = len(events)
    # Each run: its messages and its session in one TransactWriteItems (2 units per KB per item).
    units = 2 * (sum(math.ceil(item_bytes(i) / 1024) for i in messages) + sum(math.ceil(item_bytes(i) / 1024) for i in sessions))
    units_per_run = units / runs_written
    log_bytes = len(result.logs.encode()) / len(result.invocations)

    def per_million(ms: float) -> dict[str, float]:
        return {
            "Lambda duration": math.ceil(ms) / 1000 * memory_gb * args.lambda_gb_second * 1e6,
            "Lambda requests": args.lambda_request * 1e6,
            "API Gateway (REST)": args.api_request * 1e6,
            "DynamoDB writes": units_per_run * args.write_unit * 1e6,
            "CloudWatch Logs": log_bytes / 1e9 * args.log_gb * 1e6,
        }

    measured, upper = per_million(p50), per_million(scaled_ms)
    header = ["per million runs", f"at measured p50 ({p50:.1f} ms) USD", f"at p50 × {FULL_VCPU_MB}/{run.spec.memory_mb} ({scaled_ms:.1f} ms) USD"]
    rows = [[name, f"{measured[name]:.2f}", f"{upper[name]:.2f}"] for name in measured]
    rows.append(["total", f"{sum(measured.values()):.2f}", f"{sum(upper.values()):.2f}"])
    inputs = [
        ["runs measured (warm)", str(len(warm))],
        ["warm duration p50 / p99", f"{p50:.1f} / {p99:.1f} ms"],
        ["function memory (template)", f"{run.spec.memory_mb} MB; peak used {result.max_rss_mb:.0f} MB"],
        ["items written per run", f"{len(messages) / runs_written:.1f} messages + {len(sessions) / runs_written:.1f} session"],
        ["write units per run", f"{units_per_run:.1f} (transactional: 2 per KB per item)"],
        ["DynamoDB reads per warm run", "0 (API key, flow and variables cached in the warm container)"],
        ["log bytes per run", f"{log_bytes:.0f}"],
    ]
    checks = [Check("AWS cost per million Basic Prompting runs (model tokens excluded)",
                    f"${sum(measured.values()):.2f} (≤ ${sum(upper.values()):.2f} CPU-scaled)", "— (information)", None)]
    print(text_table(["input", "value"], inputs) + "\n\n" + text_table(header, rows))
    summary_text, summary_md = checks_table(checks)
    print("\n" + summary_text)
    prices = (f"Prices: Lambda arm64 ${args.lambda_gb_second} per GB-s and ${args.lambda_request * 1e6:.2f} per million requests; "
              f"API Gateway REST ${args.api_request * 1e6:.2f} per million; DynamoDB on-demand ${args.write_unit * 1e6:.3f} per million "
              f"write units; CloudWatch Logs ${args.log_gb:.2f} per GB ingested (us-east-1 list prices; flags override them). "
              "Not included: model tokens, data transfer, cold starts (a SnapStart restore is billed like a short invocation), "
              "the idle cost, which is zero: everything scales to nothing.")
    seconds = time.perf_counter() - started
    write_result("cost", "Cost per million runs of Basic Prompting", f"python bench/cost.py --runs {args.runs}",
                 [md_table(["input", "value"], inputs), md_table(header, rows), prices, "## Figure\n\n" + summary_md])
    write_summary(args.summary, "cost", checks, seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
