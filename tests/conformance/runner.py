"""`make conformance`: run corpora of real Langflow exports through the engine and report.

    python -m tests.conformance.runner [--corpus NAME ...] [--update] [--timeout S] [-v]

Corpora (read in place, never copied into the repository):
- `shared-flows`: ../shared/flows/ next to the repository, when present;
- `wild-flows`: ../shared/wild-flows/ (real exports from public repositories), when present;
- `langflow-1.13-starters`: the starter projects of the pinned langflow-base wheel
  (tests/support/starters.py), always.

One line per flow (a project export holding several flows counts each of them):
- `runs`: it ran end to end with run_flow_from_json against the kit's local servers;
- `loads but needs X`: every component is supported, but it needs a service the kit does not
  provide yet (tests/conformance/services.py), a variable, or a value the user must fill in;
- `refused: Type[node ids], ...`: components Flowless does not implement;
- `fails: reason`: it does not load, or its run failed.
User code (custom components, edited stock code) runs as after approval: every hash approved, in
the local subprocess sandbox (flowless/local/sandbox.py).
Then a summary line per corpus. tests/conformance/expected.json lists, per corpus, the flows
expected to run: the exit status is 1 when one of them does not (a regression); flows that run
but are not listed are reported as new passes (`--update` rewrites the file from this run).
Only loopback hosts are reachable during the run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import traceback
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
EXPECTED = Path(__file__).with_name("expected.json")
INPUT = "Hello! What is 12 * (3 + 4)?"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass
class Corpus:
    name: str
    folder: Path


def corpora() -> list[Corpus]:
    from tests.support.starters import starters_dir

    found = [Corpus("shared-flows", REPO.parent / "shared" / "flows"), Corpus("wild-flows", REPO.parent / "shared" / "wild-flows")]
    present = [c for c in found if c.folder.is_dir() and any(c.folder.glob("*.json"))]
    return [*present, Corpus("langflow-1.13-starters", starters_dir())]


@dataclass
class Outcome:
    status: str  # "runs" | "needs" | "refused" | "fails"
    detail: str = ""
    seconds: float = 0.0

    def line(self) -> str:
        return {"runs": "runs", "needs": f"loads but needs {self.detail}", "refused": f"refused: {self.detail}",
                "fails": f"fails: {self.detail}"}[self.status]


@contextmanager
def only_loopback() -> Iterator[None]:
    """Keep the run on this machine: the engine's guard refuses every host but loopback, before
    resolving it (a flow's hard-coded provider URL must not reach out). Undone on exit."""
    from flowless_engine import http
    from flowless_engine.errors import BlockedURLError

    original_split, original_resolve = http._split_host, http.resolve_vetted

    def split_host(url: str) -> tuple[str, int]:
        host, port = original_split(url)
        if host not in LOOPBACK_HOSTS:
            raise BlockedURLError(f"conformance runs reach only the local test services, not '{host}'", host=host)
        return host, port

    async def resolve_vetted(host: str, port: int, **kwargs: Any) -> list[str]:
        if host not in LOOPBACK_HOSTS:
            raise BlockedURLError(f"conformance runs reach only the local test services, not '{host}'", host=host)
        return await original_resolve(host, port, **kwargs)

    http._split_host, http.resolve_vetted = split_host, resolve_vetted
    try:
        yield
    finally:
        http._split_host, http.resolve_vetted = original_split, original_resolve


class Kit:
    """The services of tests/conformance/services.py, each started on first use."""

    def __init__(self) -> None:
        from tests.conformance.services import KIT

        self.classes = KIT
        self.started: dict[str, Any] = {}

    def get(self, name: str) -> Any:
        if name not in self.started:
            service = self.classes[name]()
            service.start()
            self.started[name] = service
        return self.started[name]

    def stop(self) -> None:
        for service in self.started.values():
            service.stop()


def _refusal(unsupported: dict[str, list[str]]) -> str:
    return ", ".join(f"{t}[{', '.join(ids)}]" for t, ids in sorted(unsupported.items()))


def _reason(exc: BaseException) -> str:
    text = " ".join(str(getattr(exc, "message", None) or exc).split())
    return text[:240] + ("..." if len(text) > 240 else "")


def entries(folder: Path) -> list[tuple[str, Path | dict[str, Any]]]:
    """(name, source) per flow of a corpus folder: a file's stem, or for a project export (a
    `{"flows": [...]}` bundle, as Langflow downloads a folder) `<stem>/<flow name>` per flow in it."""
    found: list[tuple[str, Path | dict[str, Any]]] = []
    for path in sorted(folder.glob("*.json")):
        try:
            document = json.loads(path.read_bytes())
        except ValueError:
            document = None
        bundle = document.get("flows") if isinstance(document, dict) and "data" not in document else None
        if isinstance(bundle, list) and bundle and all(isinstance(f, dict) for f in bundle):
            found += [(f"{path.stem}/{f.get('name') or index}", f) for index, f in enumerate(bundle)]
        else:
            found.append((path.stem, path))  # the runner reads it as run_flow_from_json would
    return found


class _Progress:
    """An event sink telling, when a run times out, how far it got (vertex builds, loop logs)."""

    def __init__(self) -> None:
        self.builds = 0
        self.loops: dict[str, str] = {}

    def emit(self, event: str, data: dict[str, Any]) -> None:
        if event == "end_vertex":
            self.builds += 1
        elif event == "log" and str(data.get("id", "")).startswith("Loop"):
            self.loops[str(data["id"])] = str(data.get("message", ""))

    def summary(self) -> str:
        loops = "; ".join(f"{vid}: {text}" for vid, text in self.loops.items())
        return f"{self.builds} vertex builds so far" + (f"; {loops}" if loops else "")


def check_flow(source: Path | dict[str, Any], kit: Kit, timeout_s: float) -> Outcome:
    from flowless_engine.api import arun_flow_from_json
    from flowless_engine.components.registry import resolve_type
    from flowless_engine.errors import (
        ComponentError, FlowError, InvalidFlowError, MissingVariableError, UnsupportedComponentsError,
    )
    from flowless_engine.graph.loader import load_graph
    from flowless_engine.graph.validate import check_supported, find_problems
    from flowless_engine.runtime.services import InMemoryMessageStore
    from flowless_engine.settings import EngineSettings
    from tests.conformance.services import ALSO_NEEDS, NEEDS, RunSetup

    try:
        graph = load_graph(source.read_bytes().decode("utf-8") if isinstance(source, Path) else source)
        structural = [p for p in find_problems(graph, check_required=False)]
    except FlowError as exc:
        return Outcome("fails", f"does not load: {_reason(exc)}")
    try:
        check_supported(graph)
    except UnsupportedComponentsError as exc:
        return Outcome("refused", _refusal(exc.unsupported))
    if structural:
        return Outcome("fails", f"invalid flow: {_reason(InvalidFlowError(structural))}")

    needed: dict[str, list[str]] = {}
    for vertex in graph.vertices.values():
        service = NEEDS.get(resolve_type(vertex.type) or vertex.type)
        if service:
            needed.setdefault(service, []).append(vertex.id)
            for also in ALSO_NEEDS.get(service, ()):
                needed.setdefault(also, [])
    missing = sorted(s for s in needed if s not in kit.classes)
    if missing:
        return Outcome("needs", " and ".join(f"{s} ({', '.join(needed[s])})" for s in missing))

    setup = RunSetup()
    for name, node_ids in needed.items():
        service = kit.get(name)
        service.reset()
        service.prepare(graph, node_ids, setup)
    settings = EngineSettings(allow_loopback=True, http_timeout_s=min(timeout_s, 20.0), http_retries=0, max_agent_iterations=10)
    if setup.settings:
        import dataclasses

        settings = dataclasses.replace(settings, **setup.settings)
    if any(vertex.runs_code for vertex in graph.vertices.values()):
        # User code runs as it would after the tenant approved it: every hash, in the local sandbox.
        from tests.support.custom_code import ApprovingRunner

        setup.kwargs.setdefault("code_runner", ApprovingRunner())

    progress = _Progress()
    setup.kwargs.setdefault("events", progress)

    async def run() -> Any:
        return await asyncio.wait_for(
            arun_flow_from_json(source, INPUT, tweaks=setup.tweaks or None, variables=setup.variables, settings=settings,
                                message_store=InMemoryMessageStore(), **setup.kwargs),
            timeout_s,
        )

    try:
        outputs = asyncio.run(run())
    except MissingVariableError as exc:
        return Outcome("needs", f"variable {exc.name}")
    except InvalidFlowError as exc:
        required = [p for p in exc.problems if p.kind == "missing_required"]
        if required and len(required) == len(exc.problems):
            return Outcome("needs", "a value for " + ", ".join(f"{p.node_id}.{p.field}" for p in required))
        return Outcome("fails", f"invalid flow: {_reason(exc)}")
    except ComponentError as exc:
        return Outcome("fails", _reason(exc))
    except FlowError as exc:
        return Outcome("fails", f"{type(exc).__name__}: {_reason(exc)}")
    except (asyncio.TimeoutError, TimeoutError):
        return Outcome("fails", f"no answer within {timeout_s:g} s ({progress.summary()})")
    except Exception as exc:  # an engine bug: say where
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        return Outcome("fails", f"crash {type(exc).__name__}: {_reason(exc)} ({Path(frame.filename).name}:{frame.lineno})")
    try:
        json.dumps(outputs)
    except (TypeError, ValueError) as exc:
        return Outcome("fails", f"outputs are not JSON: {_reason(exc)}")
    return Outcome("runs")


def load_expected(path: Path = EXPECTED) -> dict[str, list[str]]:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def run_corpus(corpus: Corpus, kit: Kit, wanted: set[str], timeout_s: float) -> tuple[list[str], list[str], list[str]]:
    """Print a line per flow and the corpus summary; return (running, new passes, regressions)."""
    print(f"== {corpus.name} ({corpus.folder})")
    counts: Counter[str] = Counter()
    running: list[str] = []
    new_passes: list[str] = []
    regressions: list[str] = []
    flows = entries(corpus.folder)
    for name, source in flows:
        began = time.monotonic()
        outcome = check_flow(source, kit, timeout_s)
        counts[outcome.status] += 1
        mark = ""
        if outcome.status == "runs":
            running.append(name)
            if name not in wanted:
                new_passes.append(f"{corpus.name}: {name}")
                mark = "  (new pass)"
        elif name in wanted:
            regressions.append(f"{corpus.name}: {name}: {outcome.line()}")
            mark = "  (REGRESSION: expected to run)"
        print(f"  {name}: {outcome.line()}{mark}  [{time.monotonic() - began:.1f}s]", flush=True)
    for name in sorted(wanted - {n for n, _ in flows}):
        regressions.append(f"{corpus.name}: {name}: expected to run, but the corpus has no such flow")
    total = len(flows)
    percent = 100.0 * counts["runs"] / total if total else 0.0
    print(f"-- {corpus.name}: {total} flows: {counts['runs']} run ({percent:.0f}%), {counts['needs']} load but need a "
          f"service or value, {counts['refused']} refused, {counts['fails']} fail", flush=True)
    return running, new_passes, regressions


def main(argv: list[str] | None = None, *, corpus_list: list[Corpus] | None = None, expected_path: Path = EXPECTED) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", action="append", help="only this corpus (repeatable)")
    parser.add_argument("--update", action="store_true", help=f"rewrite {EXPECTED.name} from this run")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per flow run (default 60)")
    args = parser.parse_args(argv)

    expected = load_expected(expected_path)
    kit = Kit()
    regressions: list[str] = []
    new_passes: list[str] = []
    started = time.monotonic()
    with only_loopback():
        try:
            for corpus in corpus_list if corpus_list is not None else corpora():
                if args.corpus and corpus.name not in args.corpus:
                    continue
                running, new, lost = run_corpus(corpus, kit, set(expected.get(corpus.name, [])), args.timeout)
                new_passes += new
                regressions += lost
                if args.update:
                    expected[corpus.name] = sorted(running)
        finally:
            kit.stop()

    print(f"== {time.monotonic() - started:.0f} s")
    if args.update:
        expected_path.write_text(json.dumps(expected, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {expected_path}")
        return 0
    for line in new_passes:
        print(f"new pass (add it to {expected_path.name}): {line}")
    for line in regressions:
        print(f"REGRESSION {line}", file=sys.stderr)
    return 1 if regressions else 0


if __name__ == "__main__":
    sys.exit(main())
