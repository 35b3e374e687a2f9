"""No code execution, whatever a flow or a request carries (Langflow's CVE-2025-3248 class).

Every payload below would create a marker file if any of it ran as Python. They travel as:
`code` fields of supported and unsupported components, code-typed fields, tweaks of both,
dunder and format-string tricks in Prompt templates, Parser and Parse Data patterns, and
Calculator expressions (typed in, and asked for by an Agent's tool call). They go through the
HTTP API (save, run, stream, build) and through `run_flow_from_json`; afterwards the marker does
not exist. A source scan proves the runtime code has no eval/exec/compile/__import__/unsafe
deserialisation to begin with.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from flowless_engine.api import run_flow_from_json
from flowless_engine.errors import CodeNotApprovedError, FlowError, TweaksRefusedError
from tests.hardening.conftest import headers, run_body
from tests.support.engine_kit import FakeModels, chat_flow, component_node, edge, field, flow, raw_node, run

REPO = Path(__file__).resolve().parents[2]
# What would give a template or an expression a way into Python objects.
LEAK_SIGNS = ("<class", "<function", "<module", "<built-in", "__builtins__", "__globals__': {", "object at 0x")


def payloads(marker: Path) -> list[str]:
    """Python that creates `marker` if executed, in the shapes an attacker would try."""
    target = str(marker)
    return [
        f"open({target!r}, 'w').write('pwned')",
        f"__import__('os').system('touch {target}')",
        f"import os\nos.system('touch {target}')",
        f"exec(\"open({target!r}, 'w').write('x')\")",
        f"().__class__.__base__.__subclasses__()[0].__init__.__globals__['__builtins__']['open']({target!r}, 'w')",
        f"from langflow.custom import Component\nclass C(Component):\n    def build(self):\n        open({target!r}, 'w').write('x')",
    ]


TEMPLATE_TRICKS = [
    "{x.__class__.__init__.__globals__}",
    "{x.__class__.__mro__[1].__subclasses__}",
    "{text.__class__}",
    "{text[__class__]}",
    "{text[0]}",
    "{text.upper}",
    "{0.__class__}",
    "{text!r:>10}{text.__init__.__globals__[os]}",
    "{{x.__class__}}",
    "{__import__}",
]
EXPRESSIONS_WITH_NAMES_OR_CALLS = [
    "__import__('os')",
    "open('/etc/passwd').read()",
    "(1).__class__.__mro__",
    "[c for c in ().__class__.__base__.__subclasses__()]",
    "lambda: 1",
    "globals()",
    "x",
    "abs(-1)",
    "'a' * 10",
    "9**9**9**9",
]


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    path = tmp_path / "pwned"
    yield path
    assert not path.exists(), "a payload was executed"


def code_flow(marker: Path, *, node_code: bool = True) -> dict[str, Any]:
    """ChatInput → Prompt → ChatOutput where every node's `code` is a payload (unless `node_code`
    is off), plus a code-typed field (as custom components have) holding another."""
    attacks = payloads(marker)
    nodes = [component_node("ChatInput-1", "ChatInput"), component_node("Prompt-1", "Prompt", template="Answer: {question}"), component_node("ChatOutput-1", "ChatOutput")]
    nodes[1]["data"]["node"]["template"]["question"] = field("question", "", input_types=["Message"])
    for index, node in enumerate(nodes):
        template = node["data"]["node"]["template"]
        if node_code:
            template["code"] = field("code", attacks[index % len(attacks)], type="code", advanced=True)
        template["extra_script"] = field("extra_script", attacks[(index + 1) % len(attacks)], type="code")
    edges = [edge("ChatInput-1", "message", "Prompt-1", "question"), edge("Prompt-1", "prompt", "ChatOutput-1", "input_value")]
    return flow(nodes, edges, flow_id="3c0de000-0000-4000-8000-000000000001", name="Code everywhere")


def custom_component_flow(marker: Path) -> dict[str, Any]:
    """A Langflow custom component (its behaviour *is* its code): refused, never run."""
    nodes = [component_node("ChatInput-1", "ChatInput"), raw_node("CustomComponent-1", "CustomComponent", {"code": field("code", payloads(marker)[-1], type="code"), "input_value": field("input_value", "", input_types=["Message"])}), component_node("ChatOutput-1", "ChatOutput")]
    for type_name, index in (("PythonFunction", 0), ("PythonREPLComponent", 1), ("PythonCodeStructuredTool", 2)):
        nodes.append(raw_node(f"{type_name}-1", type_name, {"python_code": field("python_code", payloads(marker)[index], type="code"), "function_code": field("function_code", payloads(marker)[index], type="code")}))
    edges = [edge("ChatInput-1", "message", "CustomComponent-1", "input_value"), edge("CustomComponent-1", "out", "ChatOutput-1", "input_value")]
    return flow(nodes, edges, flow_id="3c0de000-0000-4000-8000-000000000002", name="Custom code")


def processing_flow(pattern: str, *, mode: str = "Parser") -> dict[str, Any]:
    """ChatInput → Type Convert (Data) → Parser(pattern) → ChatOutput."""
    tables = ("DataFrame", "Table", "Data", "JSON")
    nodes = [
        component_node("ChatInput-1", "ChatInput"),
        component_node("TypeConverterComponent-1", "TypeConverterComponent", output_type="Data", auto_parse=True),
        component_node("ParserComponent-1", "ParserComponent", pattern=pattern, mode=mode),
        component_node("ChatOutput-1", "ChatOutput"),
    ]
    edges = [
        edge("ChatInput-1", "message", "TypeConverterComponent-1", "input_data", input_types=("Message", "Data", "DataFrame")),
        edge("TypeConverterComponent-1", "data_output", "ParserComponent-1", "input_data", output_types=("Data",), input_types=tables),
        edge("ParserComponent-1", "parsed_text", "ChatOutput-1", "input_value"),
    ]
    return flow(nodes, edges, name="Parser")


def calculator_flow(expression: str) -> dict[str, Any]:
    nodes = [component_node("CalculatorComponent-1", "CalculatorComponent", expression=expression), component_node("ChatOutput-1", "ChatOutput")]
    edges = [edge("CalculatorComponent-1", "result", "ChatOutput-1", "input_value", output_types=("Data",), input_types=("Data", "JSON", "DataFrame", "Table", "Message"))]
    return flow(nodes, edges, name="Calculator")


def texts(outputs: list[Any]) -> list[str]:
    return [o["outputs"][0]["results"]["message"]["text"] for o in outputs]


def assert_no_leak(text: str) -> None:
    assert not any(sign in text for sign in LEAK_SIGNS), text[:300]


# ---- through run_flow_from_json -------------------------------------------------------------------


def test_the_payloads_are_live_the_control(tmp_path):
    """Control: executed, the first payloads do create their marker (so its absence elsewhere means something)."""
    for index, payload in enumerate(payloads(tmp_path / "control")[:3]):
        marker = tmp_path / "control"
        exec(payload, {})  # noqa: S102 - the test's own control, never runtime code
        assert marker.exists(), payload
        marker.unlink()


def test_code_typed_fields_of_native_nodes_are_dropped_and_the_flow_runs_natively(marker):
    result = run_flow_from_json(code_flow(marker, node_code=False), "hello")
    assert texts(result) == ["Answer: hello"]
    assert not marker.exists()


def test_nodes_whose_code_is_not_stock_are_refused_never_run_natively(marker):
    """Edited stock code is user code: refused until approved (test_custom_code.py), not run with
    the stock behaviour, and never executed by the engine."""
    with pytest.raises(CodeNotApprovedError) as refused:
        run_flow_from_json(code_flow(marker), "hello")
    assert {n["node_id"] for n in refused.value.to_dict()["nodes"]} == {"ChatInput-1", "Prompt-1", "ChatOutput-1"}


def test_custom_code_components_are_refused_before_anything_runs(marker):
    with pytest.raises(CodeNotApprovedError) as refused:
        run_flow_from_json(custom_component_flow(marker), "hello")
    assert {n["type"] for n in refused.value.to_dict()["nodes"]} >= {"CustomComponent", "PythonFunction", "PythonREPLComponent", "PythonCodeStructuredTool"}


@pytest.mark.parametrize("shape", ["node code", "top-level code", "code-typed field", "python_code", "global_imports"])
def test_code_tweaks_are_refused_and_nothing_is_applied(marker, shape):
    payload = payloads(marker)[0]
    tweaks = {
        "node code": {"Prompt-1": {"code": payload}},
        "top-level code": {"code": payload},
        "code-typed field": {"Prompt-1": {"extra_script": payload}},
        "python_code": {"Prompt-1": {"python_code": payload}},
        "global_imports": {"ChatInput-1": {"global_imports": "os"}},
    }[shape]
    with pytest.raises(TweaksRefusedError):
        run_flow_from_json(code_flow(marker), "hello", tweaks=tweaks)


@pytest.mark.parametrize("template", TEMPLATE_TRICKS)
def test_prompt_templates_only_substitute_plain_names(marker, template):
    exported = chat_flow(
        component_node("Prompt-1", "Prompt", template=template),
        edges=[edge("ChatInput-1", "message", "Prompt-1", "x"), edge("Prompt-1", "prompt", "ChatOutput-1", "input_value")],
    )
    exported["data"]["nodes"][1]["data"]["node"]["template"]["x"] = field("x", "", input_types=["Message"])
    [text] = texts(run_flow_from_json(exported, "hello"))
    assert_no_leak(text)
    assert "hello" not in text  # none is a plain `{x}`: nothing reaches the input through them


@pytest.mark.parametrize("pattern", TEMPLATE_TRICKS)
@pytest.mark.parametrize("mode", ["Parser", "Stringify"])
def test_parser_patterns_never_reach_into_objects(marker, pattern, mode):
    try:
        outputs = run_flow_from_json(processing_flow(pattern, mode=mode), '{"text": "hello", "n": [1, 2]}')
    except FlowError as refused:  # a pattern naming what the data lacks is refused, as in Langflow
        assert_no_leak(refused.message)
        return
    for text in texts(outputs):
        assert_no_leak(text)


@pytest.mark.parametrize("expression", EXPRESSIONS_WITH_NAMES_OR_CALLS + ["PAYLOAD"])
def test_calculator_expressions_with_names_or_calls_are_refused(marker, expression):
    started = time.perf_counter()
    expressions = payloads(marker) if expression == "PAYLOAD" else [expression]
    for text in expressions:
        ran = asyncio.run(run(calculator_flow(text), None))
        result = ran.vertex("CalculatorComponent-1").values["result"].data
        assert set(result) == {"error", "input"} and result["error"].startswith(("Invalid expression", "Error")), result
        assert_no_leak(result["error"])  # (the input is echoed back as given)
    assert time.perf_counter() - started < 5  # 9**9**9**9 is refused, not computed


def test_an_agent_asked_to_calculate_a_payload_executes_nothing(marker):
    from tests.support.engine_kit import FakeChatModel, tool_call
    from tests.support.flows import agent_chat_flow

    attacks = payloads(marker)
    model = FakeChatModel([tool_call("evaluate_expression", {"expression": a}, call_id=f"c{i}") for i, a in enumerate(attacks)] + ["done"])
    outputs = run_flow_from_json(agent_chat_flow(add_calculator_tool=True, max_iterations=20), "calculate", model_factory=FakeModels(model))
    assert texts(outputs) == ["done"]
    tool_answers = [json.loads(m.content) for call in model.calls for m in call["messages"] if m.role == "tool"]
    assert len(tool_answers) >= len(attacks) and all("error" in answer for answer in tool_answers)


# ---- through the HTTP API ----------------------------------------------------------------------------


def test_through_the_api_nothing_runs_either(app_client, api_env, marker):
    key = headers(api_env["key"])
    edited = app_client.post("/api/v1/flows/", json={"name": "Code everywhere", "data": code_flow(marker)["data"]}, headers=key)
    assert edited.status_code == 201 and edited.json()["flowless"]["runnable"] is False
    assert {c["node_id"] for c in edited.json()["flowless"]["code"] if not c["approved"]} == {"ChatInput-1", "Prompt-1", "ChatOutput-1"}
    refused = app_client.post(f"/api/v1/run/{edited.json()['id']}", json=run_body("hello"), headers=key)
    assert refused.status_code == 422 and refused.json()["detail"]["code"] == "CODE_NOT_APPROVED"

    saved = app_client.post("/api/v1/flows/", json={"name": "Code fields", "data": code_flow(marker, node_code=False)["data"]}, headers=key)
    assert saved.status_code == 201, saved.text
    flow_id = saved.json()["id"]
    assert saved.json()["flowless"]["runnable"] is True  # the code-typed fields are not needed: native components

    ran = app_client.post(f"/api/v1/run/{flow_id}", json=run_body("hello"), headers=key)
    assert ran.status_code == 200 and ran.json()["outputs"][0]["outputs"][0]["results"]["message"]["text"] == "Answer: hello"
    streamed = app_client.post(f"/api/v1/run/{flow_id}?stream=true", json=run_body("hello"), headers=key)
    assert streamed.status_code == 200 and '"event": "end"' in streamed.text

    for tweaks in ({"Prompt-1": {"code": payloads(marker)[1]}}, {"code": payloads(marker)[0]}, {"Prompt-1": {"extra_script": payloads(marker)[2]}}):
        refused = app_client.post(f"/api/v1/run/{flow_id}", json=run_body("hello", tweaks=tweaks), headers=key)
        assert refused.status_code == 422 and refused.json()["detail"]["code"] == "TWEAKS_REFUSED"

    for template in TEMPLATE_TRICKS:
        answer = app_client.post(f"/api/v1/run/{flow_id}", json=run_body("hello", tweaks={"Prompt-1": {"template": template}}), headers=key)
        assert answer.status_code == 200
        assert_no_leak(answer.text)

    custom = app_client.post("/api/v1/flows/", json={"name": "Custom code", "data": custom_component_flow(marker)["data"]}, headers=key)
    assert custom.status_code == 201 and custom.json()["flowless"]["runnable"] is False
    refused = app_client.post(f"/api/v1/run/{custom.json()['id']}", json=run_body("hello"), headers=key)
    assert refused.status_code == 422 and refused.json()["detail"]["code"] == "CODE_NOT_APPROVED"

    # An Agent with the calculator tool, the model asking it to evaluate each payload.
    from tests.support.flows import agent_chat_flow

    agent = agent_chat_flow("Calculating agent", add_calculator_tool=True, max_iterations=20)
    made = app_client.post("/api/v1/flows/", json={"name": agent["name"], "data": agent["data"]}, headers=key)
    api_env["server"].script([{"tool_calls": [{"name": "evaluate_expression", "arguments": {"expression": p}}]} for p in payloads(marker)] + ["done"])
    answer = app_client.post(f"/api/v1/run/{made.json()['id']}", json=run_body("calculate"), headers=key)
    assert answer.status_code == 200, answer.text
    assert_no_leak(answer.text)
    assert not marker.exists()


# ---- the source itself -----------------------------------------------------------------------------

# Code the Lambda functions run: the engine layer, the shared package, the function roots.
RUNTIME_ROOTS = [REPO / "layers" / "engine" / "flowless_engine", REPO / "shared" / "flowless", REPO / "functions"]
# Local developer tooling, never loaded by a deployed function.
NOT_RUNTIME = [REPO / "shared" / "flowless" / "local"]
FORBIDDEN = re.compile(
    r"(?<![\w.])(?:eval|exec|compile)\(|__import__|\bpickle\.loads?\(|\bmarshal\.loads?\(|\bdill\.|\byaml\.load\((?![^)]*SafeLoader)"
    r"|\byaml\.unsafe_load|\bshelve\.|\bos\.system\(|\bsubprocess\.|\bcode\.interact"
)


def runtime_sources() -> list[Path]:
    return sorted(
        path for root in RUNTIME_ROOTS for path in root.rglob("*.py")
        if not any(path.is_relative_to(excluded) for excluded in NOT_RUNTIME)
    )


def test_runtime_code_has_no_way_to_execute_text():
    sources = runtime_sources()
    assert len(sources) > 50
    found = []
    for path in sources:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if FORBIDDEN.search(code):
                found.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert not found, "\n".join(found)


def test_dynamic_imports_only_follow_fixed_tables():
    """The few importlib calls resolve names from tables in the code, never from a request."""
    from flowless.tasks import task_function
    from flowless_engine.components.registry import get_component_class

    for name in ("os:system", "subprocess:run", "builtins:eval", "../../etc/passwd"):
        with pytest.raises(KeyError):
            get_component_class(name)
        with pytest.raises(ValueError):
            task_function.__wrapped__(name)


def test_only_the_sandbox_executes_code_and_nothing_that_runs_flows_imports_it():
    """The one `exec` of approved code is in layers/sandbox (the CustomCodeFunction's layer). The
    engine layer, the shared package and every function but the sandbox's never import it."""
    sandbox = REPO / "layers" / "sandbox" / "flowless_sandbox"
    executing = sorted(p.name for p in sandbox.rglob("*.py") if re.search(r"(?<![\w.])exec\(", p.read_text(encoding="utf-8")))
    assert executing == ["builtin.py", "execute.py"]
    importers = [
        str(path.relative_to(REPO)) for path in runtime_sources() + sorted((REPO / "shared" / "flowless" / "local").rglob("*.py"))
        if re.search(r"^\s*(from|import) flowless_sandbox", path.read_text(encoding="utf-8"), re.MULTILINE)
    ]
    assert importers == ["functions/custom_code/app.py"]
