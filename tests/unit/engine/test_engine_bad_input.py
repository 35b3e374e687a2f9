"""Bad input through the public entry point: each is a clear FlowError, never a crash."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest

from flowless_engine.api import arun_flow_from_json, run_flow_from_json
from flowless_engine.errors import FlowError, InvalidFlowError, LimitExceededError, TweaksRefusedError
from flowless_engine.settings import EngineSettings
from tests.support.engine_kit import FakeModels, chat_flow, component_node, edge, field, flow, group_node, shared_flow


def kinds(error: InvalidFlowError) -> list[str]:
    return [p.kind for p in error.problems]


@pytest.mark.parametrize("text", ["{bad json", '{"data": {"nodes": [], "edges": []', "{" + "[" * 50_000])
def test_malformed_json_text(text: str) -> None:
    with pytest.raises(InvalidFlowError) as caught:
        run_flow_from_json(text, "hi")
    assert kinds(caught.value) == ["malformed_json"]


def test_malformed_json_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"data": {"nodes": [}', encoding="utf-8")
    for source in (path, str(path)):
        with pytest.raises(InvalidFlowError) as caught:
            run_flow_from_json(source, "hi")
        assert kinds(caught.value) == ["malformed_json"]


def test_not_a_flow() -> None:
    for value in ('{"name": "x"}', "[]"):
        with pytest.raises(InvalidFlowError) as caught:
            run_flow_from_json(value if value.startswith("{") else {"data": []}, "hi")
        assert kinds(caught.value) == ["malformed_flow"]


def test_a_cycle() -> None:
    nodes = [component_node("Prompt-a", "Prompt", template="{x}"), component_node("Prompt-b", "Prompt", template="{x}")]
    for node in nodes:
        node["data"]["node"]["template"]["x"] = field("x", "", input_types=["Message"])
    exported = flow(nodes, [edge("Prompt-a", "prompt", "Prompt-b", "x"), edge("Prompt-b", "prompt", "Prompt-a", "x")])
    with pytest.raises(InvalidFlowError) as caught:
        run_flow_from_json(exported, "hi")
    assert kinds(caught.value) == ["cycle"]
    assert "Prompt-a -> Prompt-b -> Prompt-a" in caught.value.message


def test_missing_edge_ends() -> None:
    exported = chat_flow(edges=[edge("ChatInput-1", "message", "ChatOutput-gone", "input_value"), edge("ChatInput-1", "message", "ChatOutput-1", "nope")])
    with pytest.raises(InvalidFlowError) as caught:
        run_flow_from_json(exported, "hi")
    assert kinds(caught.value) == ["dangling_edge", "unknown_field"]
    assert caught.value.to_dict()["code"] == "INVALID_FLOW"


def test_a_required_input_left_unconnected() -> None:
    nodes = [component_node("ChatInput-1", "ChatInput"), component_node("StructuredOutput-1", "StructuredOutput")]
    with pytest.raises(InvalidFlowError) as caught:
        run_flow_from_json(flow(nodes), "hi", model_factory=FakeModels())
    assert [(p.kind, p.node_id, p.field) for p in caught.value.problems] == [("missing_required", "StructuredOutput-1", "input_value")]


def test_refused_tweaks_list_every_field_and_apply_nothing() -> None:
    exported = shared_flow("Basic Prompting")
    before = copy.deepcopy(exported)
    with pytest.raises(TweaksRefusedError) as caught:
        run_flow_from_json(exported, "hi", tweaks={"Prompt-t2oaK": {"code": "import os", "template": "x"}, "python_code": "y"})
    assert caught.value.fields == [
        "ChatInput-b6UCc.python_code", "ChatOutput-yK0AU.python_code", "LanguageModelComponent-FLeYF.python_code",
        "Prompt-t2oaK.code", "Prompt-t2oaK.python_code",
    ]
    assert caught.value.to_dict()["fields"] == caught.value.fields
    assert exported == before


@pytest.mark.parametrize("tweaks", [["x"], "text", 5], ids=["list", "string", "number"])
def test_tweaks_that_are_not_an_object_are_ignored(tweaks: Any) -> None:
    # Langflow logs a warning and runs with the stored values
    assert run_flow_from_json(chat_flow(), "hi", tweaks=tweaks)[0]["outputs"][0]["results"]["message"]["text"] == "hi"


def test_huge_inputs() -> None:
    with pytest.raises(LimitExceededError):
        run_flow_from_json(chat_flow(), "x" * 1_000_001)
    with pytest.raises(LimitExceededError):
        run_flow_from_json(chat_flow(), "x" * 11, settings=EngineSettings(max_input_chars=10))
    nodes = [component_node(f"TextInput-{i}", "TextInput") for i in range(501)]
    with pytest.raises(LimitExceededError):
        run_flow_from_json(flow(nodes), "hi")
    # a tweak is an input too
    with pytest.raises(LimitExceededError) as caught:
        run_flow_from_json(chat_flow(), None, tweaks={"ChatInput-1": {"input_value": "x" * 11}}, settings=EngineSettings(max_input_chars=10))
    assert "ChatInput-1" in caught.value.message
    with pytest.raises(LimitExceededError):
        run_flow_from_json(chat_flow(), None, tweaks={"sender_name": "x" * 11}, settings=EngineSettings(max_input_chars=10))


def _mutations(document: Any, rng: random.Random, count: int) -> list[Any]:
    """`count` copies of `document`, each with one value somewhere replaced or removed."""
    paths: list[tuple] = []

    def walk(value: Any, path: tuple) -> None:
        paths.append(path)
        if isinstance(value, dict):
            for key, item in value.items():
                if key != "code":
                    walk(item, (*path, key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, (*path, index))

    walk(document, ())
    replacements = [None, 0, -1, "", "x", [], {}, True, 1e309, "{œ", [None], {"a": None}]
    out = []
    for _ in range(count):
        mutated = copy.deepcopy(document)
        path = rng.choice(paths[1:])
        parent = mutated
        for key in path[:-1]:
            parent = parent[key]
        if rng.random() < 0.2 and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = rng.choice(replacements)
        out.append(mutated)
    return out


def _grouped_flow() -> dict:
    inner = [component_node("Prompt-in", "Prompt", template="Q: {question}"), component_node("TextInput-in", "TextInput")]
    inner[0]["data"]["node"]["template"]["question"] = field("question", "", input_types=["Message"])
    group = group_node(inner, [edge("TextInput-in", "text", "Prompt-in", "question")])
    return flow(
        [component_node("ChatInput-1", "ChatInput"), group, component_node("ChatOutput-1", "ChatOutput")],
        [edge("ChatInput-1", "message", "Group-1", "input_value_Prompt-in"), edge("Group-1", "prompt_Prompt-in", "ChatOutput-1", "input_value")],
    )


def _compact(name: str) -> dict:
    exported = shared_flow(name)
    exported["data"]["nodes"] = [n for n in exported["data"]["nodes"] if n.get("type") != "noteNode"]
    for node in exported["data"]["nodes"]:
        node["data"]["node"]["template"].pop("code", None)
    return exported


@pytest.mark.parametrize("base", [_compact("Basic Prompting"), _compact("Multi Agent Flow"), _grouped_flow()], ids=["basic", "agents", "group"])
async def test_mutated_flows_fail_cleanly_or_run(base: dict) -> None:
    """A flow damaged anywhere either runs or raises a FlowError: never anything else."""
    rng = random.Random(1234)
    outcomes: dict[str, int] = {}
    for mutated in _mutations(base, rng, 400):
        try:
            await arun_flow_from_json(mutated, "hi", model_factory=FakeModels())
            outcome = "ran"
        except FlowError as exc:
            outcome = type(exc).__name__
            json.dumps(exc.to_dict())  # errors serialize for the HTTP layer
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    assert outcomes.get("ran", 0) > 0 and outcomes.get("InvalidFlowError", 0) > 0
