"""Unzipped size of each layer and each function (its code plus its layers) as `sam build` makes
them, against Lambda's 250 MB limit and the project's budgets, with lfx's install beside them.

    python bench/size.py [--build] [--summary FILE]

Reads .aws-sam/build; builds it first with .ci/sam-checks (its own SAM venv, python3.12) when it is
missing or with --build. Writes bench/results/size.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from common import REPO, Check, add_summary_argument, checks_table, lfx_stamp, md_table, text_table, write_result, write_summary

BUILD = REPO / ".aws-sam" / "build"
ENGINE_LAYER_BUDGET_MB = 5.0
FUNCTION_BUDGET_MB = 50.0
LAMBDA_LIMIT_MB = 250.0


def size_mb(folder: Path) -> float:
    total = 0
    for root, _, files in os.walk(folder):
        total += sum(os.path.getsize(path) for f in files if not os.path.islink(path := os.path.join(root, f)))
    return total / 1_000_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", action="store_true", help="run sam build (via .ci/sam-checks) even when a build exists")
    add_summary_argument(parser)
    args = parser.parse_args()
    started = time.perf_counter()
    if args.build or not (BUILD / "template.yaml").is_file():
        subprocess.run(["bash", str(REPO / ".ci" / "sam-checks")], cwd=REPO, check=True)

    from flowless.local.invoke import load_template

    template = load_template(REPO / "template.yaml")
    resources = template["Resources"]
    layers = sorted(n for n, r in resources.items() if r["Type"] == "AWS::Serverless::LayerVersion")
    functions = sorted(n for n, r in resources.items() if r["Type"] == "AWS::Serverless::Function")
    sizes = {name: size_mb(BUILD / name) for name in layers + functions if (BUILD / name).is_dir()}
    missing = [name for name in layers + functions if name not in sizes]
    if missing:
        raise SystemExit(f"not in {BUILD}: {', '.join(missing)} (run with --build)")
    global_layers = ((template.get("Globals") or {}).get("Function") or {}).get("Layers") or []

    rows = [[name, "layer", f"{sizes[name]:.2f}", "", ""] for name in layers]
    totals = {}
    for name in functions:
        used = [ref["Ref"] for ref in [*global_layers, *(resources[name]["Properties"].get("Layers") or [])]
                if isinstance(ref, dict) and ref.get("Ref") in sizes]
        totals[name] = sizes[name] + sum(sizes[layer] for layer in used)
        rows.append([name, "function", f"{sizes[name]:.2f}", " + ".join(used), f"{totals[name]:.2f}"])
    info = lfx_stamp()
    rows.append([f"lfx {info['lfx']} install (its venv's site-packages)", "reference", f"{info['site_packages_mb']:.1f}", "", ""])

    largest = max(totals, key=totals.get)
    checks = [
        Check("engine layer, unzipped", f"{sizes['EngineLayer']:.2f} MB", f"≤ {ENGINE_LAYER_BUDGET_MB:g} MB", sizes["EngineLayer"] <= ENGINE_LAYER_BUDGET_MB),
        Check(f"largest function with its layers ({largest})", f"{totals[largest]:.2f} MB", f"≤ {FUNCTION_BUDGET_MB:g} MB (Lambda: {LAMBDA_LIMIT_MB:g})",
              totals[largest] <= FUNCTION_BUDGET_MB),
        Check("lfx install / RunFunction with its layers", f"{info['site_packages_mb'] / totals['RunFunction']:.1f}×", "— (information)", None),
    ]
    header = ["artifact", "kind", "unzipped MB", "layers", "with layers MB"]
    print(text_table(header, rows))
    summary_text, summary_md = checks_table(checks)
    print("\n" + summary_text)
    seconds = time.perf_counter() - started
    write_result("size", "Size of the layers and functions as sam build makes them", "python bench/size.py",
                 ["Sizes of .aws-sam/build (files, symlinks not followed), in MB of 10^6 bytes.", md_table(header, rows),
                  "## Targets\n\n" + summary_md])
    write_summary(args.summary, "size", checks, seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
