"""Custom code in the wild-flows corpus: which exports hold user code, what it imports, and whether
the flows run end to end once every hash is approved (the local sandbox, the conformance kit).

    python -m bench.custom_code_corpus [--folder ../shared/wild-flows] [--timeout 60]

Prints, per flow holding code: its code nodes (type: stock type edited, or a type Langflow does
not ship) and the conformance outcome after approval; then totals, the third-party modules the
code imports, and the `langflow`/`lfx` modules it imports that the sandbox does not serve.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def code_nodes(path: Path) -> list[tuple[str, str, str]]:
    """(node id, type, kind) of each node holding user code; kind: custom / edited-stock / executed-input."""
    from flowless_engine.components.registry import is_supported
    from flowless_engine.graph.code import EXECUTED_INPUTS
    from flowless_engine.graph.loader import load_graph

    graph = load_graph(path.read_bytes().decode("utf-8-sig"))
    out = []
    for vertex in graph.vertices.values():
        if not vertex.runs_code:
            continue
        kind = "executed-input" if vertex.type in EXECUTED_INPUTS else "edited-stock" if is_supported(vertex.type) else "custom"
        out.append((vertex.id, vertex.type, kind))
    return out


# The sandbox layer's packages (layers/sandbox/requirements.txt), by import name.
SANDBOX_PACKAGES = {"requests", "httpx", "pydantic", "json_repair", "certifi", "idna", "anyio", "h11", "httpcore", "charset_normalizer", "typing_extensions", "annotated_types"}


def imports_of(path: Path) -> tuple[Counter[str], Counter[str], int, int]:
    from flowless_engine.graph.loader import load_graph
    from flowless_sandbox.shim import MODULES

    graph = load_graph(path.read_bytes().decode("utf-8-sig"))
    third_party: Counter[str] = Counter()
    unserved: Counter[str] = Counter()
    nodes = served_nodes = 0
    for vertex in graph.vertices.values():
        code = vertex.user_code.get("code")
        if not code:
            continue
        nodes += 1
        try:
            tree = ast.parse(code)
        except SyntaxError:
            continue
        seen: set[str] = set()
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
            seen.update(names)
        served = True
        for name in seen:
            top = name.split(".")[0]
            if top in {"langflow", "lfx"}:
                if name not in MODULES:
                    unserved[name] += 1
                    served = False
            elif top not in sys.stdlib_module_names and top != "__future__":
                third_party[top] += 1
                served = served and top in SANDBOX_PACKAGES
        served_nodes += served
    return third_party, unserved, nodes, served_nodes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folder", default=str(REPO.parent / "shared" / "wild-flows"))
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO / "layers" / "sandbox"))

    from tests.conformance.runner import Kit, check_flow, only_loopback

    files = sorted(Path(args.folder).glob("*.json"))
    outcomes: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    third_party: Counter[str] = Counter()
    unserved: Counter[str] = Counter()
    holding = code_fields = served_total = 0
    kit = Kit()
    with only_loopback():
        try:
            for path in files:
                try:
                    nodes = code_nodes(path)
                except Exception:  # noqa: BLE001 - a file that does not load is the runner's to report
                    continue
                if not nodes:
                    continue
                holding += 1
                kinds.update(kind for _, _, kind in nodes)
                used, missing, with_code, served = imports_of(path)
                code_fields += with_code
                served_total += served
                third_party.update(used)
                unserved.update(missing)
                outcome = check_flow(path, kit, args.timeout)
                outcomes[outcome.status] += 1
                listed = ", ".join(f"{t}[{kind}]" for _, t, kind in nodes)
                print(f"{path.stem}: {outcome.line()}\n    code: {listed}", flush=True)
        finally:
            kit.stop()
    print(f"\n{holding} of {len(files)} flows hold user code ({sum(kinds.values())} nodes: "
          + ", ".join(f"{n} {k}" for k, n in kinds.most_common()) + ")")
    print("after approval: " + ", ".join(f"{n} {k}" for k, n in outcomes.most_common()))
    print(f"nodes whose `code` imports only what the sandbox serves: {served_total} of {code_fields}")
    print("third-party modules imported (nodes): " + ", ".join(f"{m} {n}" for m, n in third_party.most_common()))
    print("langflow/lfx modules the sandbox does not serve (nodes): " + ", ".join(f"{m} {n}" for m, n in unserved.most_common(25)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
