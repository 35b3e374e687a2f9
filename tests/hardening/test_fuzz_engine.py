"""Hypothesis on the engine's entry points: the flow loader, tweak application and a whole run
(with an in-process fake model). Whatever the input, the only exceptions are FlowError
subclasses; no example runs past its deadline; no example allocates past a memory bound.

Examples are derandomized (the same ones on every CI run) and kept few enough for the suite's
time budget; `HARDENING_EXAMPLES` raises the count for a longer local hunt.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import tracemalloc
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from flowless_engine.errors import FlowError, LimitExceededError
from flowless_engine.graph.loader import load_graph
from flowless_engine.runtime.tweaks import apply_tweaks
from flowless_engine.settings import EngineSettings
from tests.hardening.conftest import CHAT_FLOW, ECHO_FLOW
from tests.support.engine_kit import FakeModels, component_node, edge, flow, run, shared_flow

EXAMPLES = int(os.environ.get("HARDENING_EXAMPLES", "200"))
MEMORY_BOUND = 96 * 1024 * 1024  # bytes allocated (peak) by one example beyond its input
RUN_TIMEOUT_S = 10.0
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=not os.environ.get("HARDENING_SEED"),  # a seed (pytest --hypothesis-seed) explores anew
    database=None,
    deadline=timedelta(seconds=5),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

# Flows that run with a fake model and no network or files: the two example flows, two shared
# ones, and one wiring every text-processing component (templates, splitting, arithmetic, routing).
EXAMPLE_FLOWS = {ECHO_FLOW: "echo-prompt", CHAT_FLOW: "basic-chat"}
SHARED_FLOWS = ("Basic Prompting", "Multi Agent Flow")
PROCESSING = "Processing"


def _example(name: str) -> dict[str, Any]:
    from tests.api.conftest import EXAMPLE_FLOWS as FOLDER

    return json.loads((FOLDER / f"{EXAMPLE_FLOWS[name]}.json").read_text(encoding="utf-8"))


def processing_flow() -> dict[str, Any]:
    """ChatInput → Type Convert → Parser → Combine Text → Split Text → Parser → ChatOutput, and
    ChatInput → Calculator → ChatOutput, ChatInput → If-Else → ChatOutput."""
    message, data, frame = ("Message",), ("Data",), ("DataFrame",)
    tables = ("DataFrame", "Table", "Data", "JSON")
    nodes = [
        component_node("ChatInput-1", "ChatInput"),
        component_node("TypeConverterComponent-1", "TypeConverterComponent", output_type="Data", auto_parse=True),
        component_node("ParserComponent-1", "ParserComponent", pattern="Text: {text}", mode="Parser"),
        component_node("CombineText-1", "CombineText", delimiter=" | "),
        component_node("SplitText-1", "SplitText", chunk_size=40, chunk_overlap=10, separator=" "),
        component_node("ParserComponent-2", "ParserComponent", pattern="[{text}]", mode="Parser", sep=","),
        component_node("CalculatorComponent-1", "CalculatorComponent"),
        component_node("ConditionalRouter-1", "ConditionalRouter", operator="contains", match_text="a"),
        component_node("ChatOutput-1", "ChatOutput"),
        component_node("ChatOutput-2", "ChatOutput"),
        component_node("ChatOutput-3", "ChatOutput"),
    ]
    edges = [
        edge("ChatInput-1", "message", "TypeConverterComponent-1", "input_data", input_types=("Message", "Data", "DataFrame")),
        edge("TypeConverterComponent-1", "data_output", "ParserComponent-1", "input_data", output_types=data, input_types=tables),
        edge("ParserComponent-1", "parsed_text", "CombineText-1", "text1"),
        edge("ChatInput-1", "message", "CombineText-1", "text2"),
        edge("CombineText-1", "combined_text", "SplitText-1", "data_inputs", input_types=("Data", "DataFrame", "Message")),
        edge("SplitText-1", "dataframe", "ParserComponent-2", "input_data", output_types=frame, input_types=tables),
        edge("ParserComponent-2", "parsed_text", "ChatOutput-1", "input_value", output_types=message),
        edge("ChatInput-1", "message", "CalculatorComponent-1", "expression"),
        edge("CalculatorComponent-1", "result", "ChatOutput-2", "input_value", output_types=data, input_types=(*tables, "Message")),
        edge("ChatInput-1", "message", "ConditionalRouter-1", "input_text"),
        edge("ConditionalRouter-1", "true_result", "ChatOutput-3", "input_value"),
    ]
    return flow(nodes, edges, flow_id="processing", name=PROCESSING)


BASES = (
    {name: _example(name) for name in EXAMPLE_FLOWS}
    | {name: shared_flow(name) for name in SHARED_FLOWS}
    | {PROCESSING: processing_flow()}
)

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=16)
# Strings a template, a field or a type name might be attacked with.
nasty_text = st.sampled_from([
    "{x.__class__.__init__.__globals__}", "{x[__class__]}", "{0}", "{}", "{x!r:>99999999}", "{text:>999999999}",
    "{text:.999999999}", "{{", "}}", "{", "}", "{text[0][1][2]}", "{__import__('os').system('id')}",
    "__import__('os').system('id')", "().__class__.__bases__[0].__subclasses__()", "2**2**2**2**2", "9**9**9",
    "ChatInput", "Prompt", "Agent", "GroupNode", "note", "\x00", "\ud800", "œ", "a" * 300,
]) | st.text(max_size=40)


def outcome(label: str) -> None:
    """Count an outcome in Hypothesis' statistics (`--hypothesis-show-statistics`)."""
    if currently_in_test_context():
        event(label)


def within_memory(action: Any) -> Any:
    """Run `action()`; fail if it allocated more than MEMORY_BOUND at its peak."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        result = action()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak - base < MEMORY_BOUND, f"allocated {(peak - base) >> 20} MB"
    return result


def run_bounded(graph_or_flow: Any, input_value: str | None, **request: Any) -> Any:
    """One run with a fake model and default limits, bounded in time; FlowErrors are outcomes."""

    async def go() -> Any:
        return await asyncio.wait_for(run(graph_or_flow, input_value, model=FakeModels(), settings=EngineSettings(), **request), RUN_TIMEOUT_S)

    try:
        ran = asyncio.run(go())
    except FlowError as exc:
        json.dumps(exc.to_dict(), default=str)  # the error itself must be reportable
        outcome(f"run: {exc.code}")
        return exc
    json.dumps(ran.response, default=str)  # and so must the answer
    outcome("run: answered")
    return ran


# ---- the loader --------------------------------------------------------------------------------


@FUZZ
@given(value=json_values | st.text(max_size=200) | st.binary(max_size=200))
def test_load_graph_accepts_any_json_or_text_without_crashing(value: Any) -> None:
    try:
        within_memory(lambda: load_graph(value))
    except FlowError:
        pass


def mutate(data: st.DataObject, flow: dict[str, Any]) -> dict[str, Any]:
    """A copy of `flow` with 1–4 random changes at random depths: a value replaced (by JSON or a
    nasty string), a key removed, a list emptied or an item duplicated."""
    flow = copy.deepcopy(flow)
    for _ in range(data.draw(st.integers(1, 4), label="changes")):
        parent: Any = flow
        key: Any = None
        node: Any = flow
        for _depth in range(data.draw(st.integers(1, 9), label="depth")):
            if isinstance(node, dict) and node:
                key = data.draw(st.sampled_from(sorted(node, key=str)), label="key")
            elif isinstance(node, list) and node:
                key = data.draw(st.integers(0, len(node) - 1), label="index")
            else:
                break
            parent, node = node, node[key]
        if key is None:
            continue
        action = data.draw(st.sampled_from(["replace", "nasty", "delete", "duplicate", "empty"]), label="action")
        if action == "replace":
            parent[key] = data.draw(json_values, label="value")
        elif action == "nasty":
            parent[key] = data.draw(nasty_text, label="text")
        elif action == "delete":
            parent.pop(key) if isinstance(parent, dict) else parent.pop(key)
        elif action == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[key]))
        else:
            parent[key] = type(node)() if isinstance(node, (dict, list, str)) else None
    return flow


@FUZZ
@given(name=st.sampled_from(sorted(BASES)), data=st.data(), text=st.none() | nasty_text)
def test_mutated_exports_load_and_run_or_fail_with_a_flow_error(name: str, data: st.DataObject, text: str | None) -> None:
    flow = mutate(data, BASES[name])

    def attempt() -> Any:
        try:
            graph = load_graph(flow)
        except FlowError as exc:
            outcome(f"load: {exc.code}")
            return exc
        return run_bounded(graph, text)

    within_memory(attempt)


# ---- tweaks ------------------------------------------------------------------------------------


def tweaks_for(data: st.DataObject, graph: Any) -> dict[str, Any]:
    """Tweaks aimed at real node ids, display names and field names, with any values."""
    targets = sorted(graph.vertices) + sorted({v.display_name for v in graph.vertices.values()}) + ["nope"]
    fields = sorted({f for v in graph.vertices.values() for f in v.fields}) + ["code", "python_code", "nope"]
    tweaks: dict[str, Any] = {}
    for _ in range(data.draw(st.integers(0, 4), label="tweaks")):
        if data.draw(st.booleans(), label="per node"):
            target = data.draw(st.sampled_from(targets), label="target")
            tweaks[target] = data.draw(st.dictionaries(st.sampled_from(fields), json_values | nasty_text, max_size=3), label="fields")
        else:
            tweaks[data.draw(st.sampled_from(fields), label="field")] = data.draw(scalars | nasty_text, label="value")
    return tweaks


@FUZZ
@given(name=st.sampled_from(sorted(BASES)), data=st.data(), text=st.none() | nasty_text)
def test_any_tweaks_apply_and_run_or_fail_with_a_flow_error(name: str, data: st.DataObject, text: str | None) -> None:
    graph = load_graph(BASES[name])
    tweaks = tweaks_for(data, graph)
    before = {vid: dict(v.fields) for vid, v in graph.vertices.items()}

    def attempt() -> Any:
        try:
            apply_tweaks(graph, tweaks)
        except FlowError:
            pass
        return run_bounded(graph, text, tweaks=tweaks)

    within_memory(attempt)
    # Tweaks apply to a copy: the (cached) graph is never changed by a run.
    assert {vid: dict(v.fields) for vid, v in graph.vertices.items()} == before


templates = nasty_text | st.text(alphabet=st.sampled_from("{}[]!:.<>^=+-0123456789aexrstd_ "), max_size=30)


@FUZZ
@given(pattern=templates, prompt=templates, text=st.none() | nasty_text)
def test_templates_of_parser_and_prompt_render_or_fail_cleanly(pattern: str, prompt: str, text: str | None) -> None:
    """Format specs, conversions, indexing and attribute syntax in Parser patterns and Prompt
    templates: rendered or refused, never a crash, never an unbounded allocation."""
    tweaks = {"ParserComponent-1": {"pattern": pattern}, "ParserComponent-2": {"pattern": pattern}}
    within_memory(lambda: run_bounded(load_graph(BASES[PROCESSING]), text, tweaks=tweaks))
    within_memory(lambda: run_bounded(load_graph(BASES[ECHO_FLOW]), text, tweaks={"Prompt-ech02": {"template": prompt}}))


@FUZZ
@given(depth=st.integers(0, 400), leaf=scalars)
def test_tweaks_nested_past_the_depth_limit_are_refused_not_crashing(depth: int, leaf: Any) -> None:
    graph = load_graph(BASES[ECHO_FLOW])
    value: Any = leaf
    for _ in range(depth):
        value = {"v": value}
    tweaks = {"ChatInput-ech01": {"sender_name": value}}
    outcome = run_bounded(graph, "hi", tweaks=tweaks)
    limit = EngineSettings().max_tweak_depth
    # The tweaks object is level 1, the node's object level 2, each dict inside the value one more.
    if 2 + depth > limit:
        assert isinstance(outcome, LimitExceededError), outcome
    else:
        assert not isinstance(outcome, LimitExceededError), outcome


pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
