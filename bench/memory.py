"""Memory of a warm run process: the RunFunction (a fresh process importing its handler as Lambda
does, then serving `--runs` Basic Prompting events) next to lfx running the same flow `--runs` times
in its own process, both against the same local model server answering at once.

    python bench/memory.py [--runs 50] [--summary FILE]

Figure: peak RSS (VmHWM) of each process at the end. Target: Flowless ≤ 1/3 of lfx's. The floor
(a process importing only fastapi, mangum, pynamodb's models and powertools) is shown beside them.
Writes bench/results/memory.md.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from common import (
    Check,
    add_summary_argument,
    body_text,
    checks_table,
    flow_folder,
    lfx,
    lfx_stamp,
    md_table,
    model_env,
    model_server,
    run_function,
    text_table,
    write_result,
    write_summary,
)

TARGET_FRACTION = 1 / 3
FLOOR_CODE = (
    "import fastapi, mangum, pynamodb.models, aws_lambda_powertools\n"
    "print(next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM:')) / 1024)\n"
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=50, help="runs served by each process before its peak is read")
    add_summary_argument(parser)
    args = parser.parse_args()
    started = time.perf_counter()
    from flowless.local.invoke import invoke

    info = lfx_stamp()
    with model_server() as url, run_function(url) as run, flow_folder() as folder:
        ours = invoke(run.spec, [run.event] * args.runs, env=run.env)
        statuses = {(call.response or {}).get("statusCode") for call in ours.invocations}
        if statuses != {200}:
            raise SystemExit(f"RunFunction answered {statuses}: {ours.logs[-2000:]}")
        answer = body_text(ours.invocations[-1].response)
        theirs = lfx("runs", str(folder / "basic-prompting.json"), "Hello, Flowless", str(args.runs), "0", env=model_env(url))
    floor = float(subprocess.run([sys.executable, "-c", FLOOR_CODE], capture_output=True, text=True, check=True).stdout)

    fraction = ours.max_rss_mb / theirs["max_rss_mb"]
    header = ["process", "runs served", "peak RSS MB"]
    rows = [
        ["floor: fastapi, mangum, pynamodb models, powertools imported", "0", f"{floor:.0f}"],
        [f"Flowless RunFunction (handler via Mangum, {run.spec.memory_mb} MB function)", str(args.runs), f"{ours.max_rss_mb:.0f}"],
        [f"lfx {info['lfx']} (aload_flow_from_json once, run_graph per run)", str(args.runs), f"{theirs['max_rss_mb']:.0f}"],
    ]
    checks = [Check("warm run process peak RSS: Flowless / lfx", f"{fraction:.2f} ({ours.max_rss_mb:.0f} / {theirs['max_rss_mb']:.0f} MB)",
                    "≤ 0.33", fraction <= TARGET_FRACTION)]
    print(text_table(header, rows))
    summary_text, summary_md = checks_table(checks)
    print("\n" + summary_text)
    note = (f"Both processes answered Basic Prompting through the same local OpenAI-compatible server (last answer "
            f"{answer!r}). Peak RSS is VmHWM from /proc/self/status at the end of each process's runs.")
    seconds = time.perf_counter() - started
    write_result("memory", "Memory of a warm run process, Flowless vs lfx", f"python bench/memory.py --runs {args.runs}",
                 [note, md_table(header, rows), "## Target\n\n" + summary_md])
    write_summary(args.summary, "memory", checks, seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
