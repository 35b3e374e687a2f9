"""RAG benchmark: the flat-file vector store at 1k and 10k chunks.

    python bench/rag.py [--sizes 1000 10000] [--dims 64 1536] [--queries 30]

For each size and dimension, on local disk (FLOWLESS_VECTORS_DIR's layout, in a temporary folder):
- ingest: chunks/s written by `upsert` in batches of 200 (the ingest pipeline's step), vectors
  computed beforehand (embedding time is the provider's, not the store's);
- cold load: the first query of a new container (every segment read and decoded);
- query: latency of a warm top-5 query (median and 95th percentile), and with a metadata filter
  matching a third of the chunks.

Vectors are the test model server's hashed bag of words at 64 dimensions, and pseudo-random
unit vectors at 1536 (text-embedding-3-small's size). Prints a table and writes
bench/results/rag.md with the date and the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import math
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "engine"), str(ROOT / "shared"), str(ROOT)]
RESULTS = ROOT / "bench" / "results" / "rag.md"
BATCH = 200
WORDS = "policy invoice travel hotel train laptop password vacation refund office shelf widget rule report".split()


def vectors(count: int, dimension: int) -> list[list[float]]:
    from tests.support.model_server import embed

    rng = random.Random(7)
    if dimension == 64:
        return [embed(" ".join(rng.choices(WORDS, k=12)) + f" n{n}") for n in range(count)]
    out = []
    for _ in range(count):
        v = [rng.gauss(0, 1) for _ in range(dimension)]
        norm = math.sqrt(sum(x * x for x in v))
        out.append([x / norm for x in v])
    return out


async def measure(size: int, dimension: int, queries: int) -> dict[str, float]:
    from flowless.vectors import flat
    from flowless_engine.vectors.base import IndexRef, VectorItem

    data = vectors(size + queries, dimension)
    items = [VectorItem(f"c{n}", data[n], f"chunk {n} " + "text " * 150, {"file_name": f"f{n % 3}.txt", "chunk_index": n})
             for n in range(size)]
    probes = data[size:]
    kb = IndexRef("bench", f"bench/{dimension}")
    with tempfile.TemporaryDirectory() as folder:
        flat._cache.entries.clear()
        store = flat.FlatVectorStore("bench", flat.LocalBlobs(folder))
        started = time.perf_counter()
        for start in range(0, size, BATCH):
            await store.upsert(kb, items[start : start + BATCH])
        ingest_s = time.perf_counter() - started
        on_disk = sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())

        flat._cache.entries.clear()  # a new container
        cold = flat.FlatVectorStore("bench", flat.LocalBlobs(folder), ttl_s=3600)
        started = time.perf_counter()
        await cold.query(kb, probes[0], 5)
        cold_ms = (time.perf_counter() - started) * 1000

        plain, filtered = [], []
        for vector in probes:
            t = time.perf_counter()
            await cold.query(kb, vector, 5)
            plain.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            await cold.query(kb, vector, 5, {"file_name": "f1.txt"})
            filtered.append((time.perf_counter() - t) * 1000)
    return {
        "ingest_per_s": size / ingest_s,
        "ingest_s": ingest_s,
        "disk_kb": on_disk / 1024,
        "cold_ms": cold_ms,
        "p50": statistics.median(plain),
        "p95": sorted(plain)[max(0, math.ceil(0.95 * len(plain)) - 1)],
        "filtered_p50": statistics.median(filtered),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--dims", type=int, nargs="+", default=[64, 1536])
    parser.add_argument("--queries", type=int, default=30)
    parser.add_argument("--append", action="store_true", help="add this run's table to bench/results/rag.md (e.g. under another Python)")
    args = parser.parse_args()

    rows = []
    for dimension in args.dims:
        for size in args.sizes:
            figures = asyncio.run(measure(size, dimension, args.queries))
            rows.append((size, dimension, figures))
            print(f"{size:>6} chunks × {dimension:>4} d: ingest {figures['ingest_per_s']:,.0f} chunks/s, cold load "
                  f"{figures['cold_ms']:.0f} ms, query p50 {figures['p50']:.1f} ms / p95 {figures['p95']:.1f} ms, "
                  f"filtered p50 {figures['filtered_p50']:.1f} ms", flush=True)

    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [] if args.append else ["# RAG benchmark: the flat-file vector store", ""]
    lines += [
        f"## Python {platform.python_version()}",
        "",
        f"- Date: {now}",
        f"- Machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        f"- Command: `python bench/rag.py --sizes {' '.join(map(str, args.sizes))} --dims {' '.join(map(str, args.dims))} --queries {args.queries}"
        + (" --append`" if args.append else "`"),
        "",
        "| chunks | dims | ingest (chunks/s) | on disk | cold load (first query) | query p50 | query p95 | filtered query p50 |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size, dimension, f in rows:
        lines.append(f"| {size:,} | {dimension} | {f['ingest_per_s']:,.0f} | {f['disk_kb']:,.0f} KiB | {f['cold_ms']:,.0f} ms | "
                     f"{f['p50']:.1f} ms | {f['p95']:.1f} ms | {f['filtered_p50']:.1f} ms |")
    lines += [
        "",
        "Top-5, exact (every vector compared), pure Python (no numpy; dot products by math.sumprod on",
        "Python 3.12, the Lambda runtime, else sum(map(mul))). Ingest is the store's write of",
        "precomputed vectors in batches of 200 (one segment each, merged past 16); embedding time is",
        "the provider's and is not included. A filter matching a third of the chunks scores only those.",
        "numpy is not used: no Lambda layer provides it (tests/deploy refuses imports no layer provides).",
        "Query time grows linearly with chunks × dimensions: the flat store suits a few thousand chunks",
        "(local runs, tests, small knowledge bases); larger ones belong in S3 Vectors, the production default.",
        "",
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(lines)
    if args.append and RESULTS.exists():
        text = RESULTS.read_text(encoding="utf-8").rstrip("\n") + "\n\n" + text
    RESULTS.write_text(text, encoding="utf-8")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
