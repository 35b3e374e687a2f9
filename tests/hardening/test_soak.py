"""bench/soak.py for ~10 s in CI: the local server under load on loopback, no failed request,
and its RSS after the warm-up grows less than the bound."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_local_server_soaks_10_seconds_without_errors_or_memory_growth(capsys):
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "soak.py"), "--seconds", "10", "--warmup", "2", "--concurrency", "8", "--max-rss-growth-mb", "64", "--json"],
        capture_output=True, text=True, timeout=120, cwd=REPO,
    )
    assert done.stdout.strip(), done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    with capsys.disabled():
        print(f"\nsoak: {figures['requests']} requests, {figures['errors']} errors, p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms, "
              f"RSS {figures['rss_start_mb']} → {figures['rss_end_mb']} MB")
    assert done.returncode == 0, figures
    assert figures["requests"] >= 50 and figures["errors"] == 0
    assert figures["rss_growth_mb"] <= 64
