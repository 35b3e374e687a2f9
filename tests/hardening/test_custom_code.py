"""Approved custom code: identified by SHA-256, refused until approved, run only in the sandbox.

Engine level (run_flow_from_json with the local subprocess sandbox): what counts as code (user
components, edited stock code, executed code inputs), the refusal naming nodes and hashes, the
Langflow component API inside the sandbox, tweaks that would change code. The HTTP API, the
approvals routes and the hostile-code tests are in test_custom_code_api.py.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from flowless_engine.api import run_flow_from_json
from flowless_engine.errors import CodeNotApprovedError, CustomCodeError, TweaksRefusedError, UnsupportedComponentsError
from flowless_engine.graph.code import is_stock, stock_hashes
from flowless_engine.graph.loader import load_graph
from flowless_engine.runtime.code import code_items
from tests.support.custom_code import ApprovingRunner, component_code, custom_flow, sha256
from tests.support.engine_kit import component_node, edge, field, flow, raw_node, shared_flow, shared_flow_names


def texts(outputs) -> list[str]:
    return [o["outputs"][0]["results"]["message"]["text"] for o in outputs]


# ---- what is code, and its hash ------------------------------------------------------------------


def test_langflow_code_hash_is_the_sha256_prefix_of_the_code_and_the_stock_table_holds_it():
    """Langflow's export metadata `code_hash` is sha256(code)[:12] (measured on the corpus), and the
    stock table recognises the starters' code of every release they come from."""
    checked = 0
    for name in shared_flow_names():
        for node in shared_flow(name)["data"]["nodes"]:
            body = node["data"].get("node") or {}
            code = (body.get("template", {}).get("code") or {}).get("value")
            declared = (body.get("metadata") or {}).get("code_hash")
            if isinstance(code, str) and declared:
                assert sha256(code)[:12] == declared
                assert is_stock(code), (name, node["id"])
                checked += 1
    assert checked >= 20 and len(stock_hashes()) > 3000


@pytest.mark.parametrize("name", shared_flow_names())
def test_stock_flows_hold_no_code_to_approve(name):
    assert code_items(load_graph(shared_flow(name))) == []


def test_edited_stock_code_is_code_to_approve_and_the_field_is_not_kept():
    exported = shared_flow("Basic Prompting")
    node = next(n for n in exported["data"]["nodes"] if n["data"]["type"] == "ChatInput")
    node["data"]["node"]["template"]["code"]["value"] += "\n# edited\n"
    graph = load_graph(exported)
    [item] = code_items(graph)
    assert (item.node_id, item.field, item.sha256) == (node["id"], "code", sha256(node["data"]["node"]["template"]["code"]["value"]))
    assert "code" not in graph.vertices[node["id"]].fields


def test_custom_component_types_and_executed_code_inputs_are_code():
    code = component_code("        return Message(text='x')")
    nodes = [
        raw_node("Mine-1", "Mine", {"code": field("code", code, type="code")}),
        raw_node("CustomComponent-1", "CustomComponent", {"code": field("code", code + "#2", type="code")}),
        raw_node("PythonREPLComponent-1", "PythonREPLComponent", {"python_code": field("python_code", "print(1)"), "global_imports": field("global_imports", "math")}),
    ]
    items = {(i.node_id, i.field): i.sha256 for i in code_items(load_graph(flow(nodes)))}
    assert items == {
        ("Mine-1", "code"): sha256(code),
        ("CustomComponent-1", "code"): sha256(code + "#2"),
        ("PythonREPLComponent-1", "python_code"): sha256("print(1)"),
        ("PythonREPLComponent-1", "global_imports"): sha256("math"),
    }


# ---- refused until approved ------------------------------------------------------------------------


def test_unapproved_code_is_refused_naming_the_node_and_the_hash(tmp_path: Path):
    marker = tmp_path / "ran"
    code = component_code(f"        open({str(marker)!r}, 'w').write('x')\n        return Message(text='ran')")
    for runner in (None, ApprovingRunner(approved={"0" * 64})):
        with pytest.raises(CodeNotApprovedError) as refused:
            run_flow_from_json(custom_flow(code), "hi", code_runner=runner)
        assert refused.value.to_dict()["nodes"] == [{"node_id": "Custom-1", "type": "Custom", "display_name": "Custom", "field": "code", "sha256": sha256(code)}]
        assert "Custom-1" in refused.value.message and sha256(code)[:12] in refused.value.message
        assert runner is None or runner.calls == []
    assert not marker.exists()


def test_an_edited_stock_component_is_refused_never_run_with_the_stock_behaviour():
    exported = shared_flow("Basic Prompting")
    prompt = next(n for n in exported["data"]["nodes"] if n["data"]["type"] == "Prompt")
    prompt["data"]["node"]["template"]["code"]["value"] = prompt["data"]["node"]["template"]["code"]["value"].replace("Prompt", "Prompt (mine)", 1)
    with pytest.raises(CodeNotApprovedError) as refused:
        run_flow_from_json(exported, "hi")
    assert [n["node_id"] for n in refused.value.to_dict()["nodes"]] == [prompt["id"]]


def test_unsupported_stock_types_stay_unsupported_not_code():
    """Stock code of a type Flowless lacks is not user code: refused as unsupported, as before."""
    exported = shared_flow("Basic Prompting")
    node = copy.deepcopy(next(n for n in exported["data"]["nodes"] if n["data"]["type"] == "ChatInput"))
    node["id"] = node["data"]["id"] = "NotNative-1"
    node["data"]["type"] = "SomethingLangflowShips"
    exported["data"]["nodes"].append(node)
    assert code_items(load_graph(exported)) == []
    with pytest.raises(UnsupportedComponentsError):
        run_flow_from_json(exported, "hi")


@pytest.mark.parametrize("tweaks", [{"Custom-1": {"code": "print(1)"}}, {"code": "print(1)"}, {"PythonREPLComponent-1": {"python_code": "print(2)"}}])
def test_tweaks_can_never_change_code(tweaks):
    code = component_code("        return Message(text='x')")
    exported = custom_flow(code)
    exported["data"]["nodes"].append(raw_node("PythonREPLComponent-1", "PythonREPLComponent", {"python_code": field("python_code", "print(1)")}))
    with pytest.raises(TweaksRefusedError):
        run_flow_from_json(exported, "hi", tweaks=tweaks, code_runner=ApprovingRunner())


def test_code_that_arrives_while_the_flow_runs_cannot_be_approved():
    """PythonREPLComponent's code fed by an edge (an LLM's output, a user's message) has no hash to approve."""
    nodes = [component_node("ChatInput-1", "ChatInput"),
             raw_node("PythonREPLComponent-1", "PythonREPLComponent", {"python_code": field("python_code", "", input_types=["Message"]), "global_imports": field("global_imports", "")},
                      outputs=[{"name": "results", "method": "run_python_repl", "types": ["Data"]}])]
    exported = flow(nodes, [edge("ChatInput-1", "message", "PythonREPLComponent-1", "python_code")])
    with pytest.raises(CodeNotApprovedError) as refused:
        run_flow_from_json(exported, "import os", code_runner=ApprovingRunner())
    assert "PythonREPLComponent-1.python_code" in refused.value.message


# ---- Langflow's component API in the sandbox ---------------------------------------------------------


def test_an_approved_component_runs_in_the_sandbox_with_langflows_api():
    body = """        self.status = f"{len(self.input_value)} characters"
        self.log("shouting")
        return Message(text=self.input_value.upper() + "!" * self.times)"""
    code = component_code(body, inputs='MessageTextInput(name="input_value"), IntInput(name="times", value=2)')
    runner = ApprovingRunner(approved={sha256(code)})
    exported = custom_flow(code, extra_fields={"times": field("times", 3, type="int")})
    assert texts(run_flow_from_json(exported, "hello", code_runner=runner)) == ["HELLO!!!"]
    [call] = runner.calls
    assert call["node"]["code"] == {"code": code} and call["output"] == "out"
    assert call["inputs"]["input_value"]["$type"] == "Message" and call["inputs"]["input_value"]["text"] == "hello"


def test_data_and_dataframe_outputs_and_lfx_imports():
    code = '''from lfx.custom.custom_component.component import Component
from lfx.io import MessageTextInput, Output
from lfx.schema.data import Data
from lfx.schema.dataframe import DataFrame


class Rows(Component):
    inputs = [MessageTextInput(name="input_value")]
    outputs = [Output(name="out", method="build_out")]

    def build_out(self) -> Data:
        words = self.input_value.split()
        table = DataFrame([{"word": w, "n": len(w)} for w in words])
        return Data(data={"text": ",".join(r["word"] for r in table.to_dict()), "count": len(table)})
'''
    outputs = run_flow_from_json(custom_flow(code, output_types=("Data",)), "a bb ccc", code_runner=ApprovingRunner())
    assert texts(outputs) == ["a,bb,ccc"]


def test_langflows_default_imports_need_no_import():
    """Langflow prepends `from lfx.io import DataInput, ...` and `from lfx.schema.data import Data`
    to custom code; a real export (Github Repo RAG's CodeFileFilter) uses DataInput unimported."""
    code = '''from langflow.custom import Component
from langflow.io import Output


class Upper(Component):
    inputs = [MessageTextInput(name="input_value"), DataInput(name="rows", is_list=True)]
    outputs = [Output(name="out", method="build_out")]

    def build_out(self) -> Data:
        return Data(data={"text": self.input_value.upper()})
'''
    outputs = run_flow_from_json(custom_flow(code, output_types=("Data",)), "quiet", code_runner=ApprovingRunner())
    assert texts(outputs) == ["QUIET"]


def test_the_legacy_custom_component_build_method():
    code = '''from langflow.custom import CustomComponent
from langflow.schema import Record


class Legacy(CustomComponent):
    display_name = "Legacy"

    def build_config(self):
        return {"input_value": {"display_name": "Input"}}

    def build(self, input_value: str) -> Record:
        return Record(data={"text": f"legacy says {input_value.text if hasattr(input_value, 'text') else input_value}"})
'''
    outputs = run_flow_from_json(custom_flow(code, node_type="CustomComponent", output_types=("Data",)), "hi", code_runner=ApprovingRunner())
    assert texts(outputs) == ["legacy says hi"]


def test_an_approved_python_repl_runs_its_code_in_the_sandbox():
    import asyncio

    from flowless_engine.runtime.context import RunContext
    from flowless_engine.runtime.request import RunRequest
    from flowless_engine.runtime.run import run_graph

    nodes = [raw_node("PythonREPLComponent-1", "PythonREPLComponent",
                      {"python_code": field("python_code", "print(math.factorial(10))"), "global_imports": field("global_imports", "math")},
                      outputs=[{"name": "results", "method": "run_python_repl", "types": ["Data"]}])]
    graph = load_graph(flow(nodes))
    ctx = RunContext(flow_id="f", session_id="s", code_runner=ApprovingRunner())
    result = asyncio.run(run_graph(graph, RunRequest(input_value=None), ctx))
    assert result.all_results["PythonREPLComponent-1"].values["results"].data == {"result": "3628800"}


@pytest.mark.parametrize(("imports", "missing"), [("import pandas_not_here\n", "pandas_not_here"), ("from langflow.base.vectorstores.model import LCVectorStoreComponent\n", "langflow.base.vectorstores")])
def test_a_module_the_sandbox_lacks_is_a_clear_error_naming_it(imports, missing):
    code = component_code("        return Message(text='x')", imports=imports)
    with pytest.raises(CustomCodeError) as failed:
        run_flow_from_json(custom_flow(code), "hi", code_runner=ApprovingRunner())
    assert missing in failed.value.message and "Custom-1" in failed.value.message


def test_the_code_gets_only_its_own_nodes_credentials():
    body = "        return Message(text=f'{self.api_key}|{self.input_value}')"
    code = component_code(body, inputs='MessageTextInput(name="input_value"), MessageTextInput(name="api_key")')
    exported = custom_flow(code, extra_fields={"api_key": field("api_key", "MINE", password=True, load_from_db=True)})
    runner = ApprovingRunner()
    outputs = run_flow_from_json(exported, "hi", code_runner=runner, variables={"MINE": "s3cret-mine", "OTHER": "s3cret-other"})
    assert texts(outputs) == ["s3cret-mine|hi"]
    assert "s3cret-other" not in json.dumps(runner.calls)


def test_an_edited_chat_output_keeps_langflows_message_storage():
    from flowless_engine.runtime.services import InMemoryMessageStore

    code = component_code("        return Message(text='[' + self.input_value + ']')", output="message", method="message_response")
    fields = {"code": field("code", code, type="code"), "input_value": field("input_value", "", input_types=["Message"]),
              "should_store_message": field("should_store_message", True, type="bool")}
    nodes = [component_node("ChatInput-1", "ChatInput"),
             raw_node("ChatOutput-1", "ChatOutput", fields, outputs=[{"name": "message", "method": "message_response", "types": ["Message"]}])]
    store = InMemoryMessageStore()
    outputs = run_flow_from_json(flow(nodes, [edge("ChatInput-1", "message", "ChatOutput-1", "input_value")]), "hi", code_runner=ApprovingRunner(), message_store=store)
    assert texts(outputs) == ["[hi]"]
    stored = store.messages
    assert [(m.sender, m.text) for m in stored] == [("User", "hi"), ("Machine", "[hi]")]


def test_the_code_never_gets_a_variable_from_the_process_environment(monkeypatch):
    """With the environment fallback on (FLOWLESS_FALLBACK_TO_ENV_VARS), native components may read
    a variable from the environment; custom code may not (it would read the run's credentials)."""
    from flowless_engine.errors import MissingVariableError

    monkeypatch.setenv("RUN_FUNCTION_SECRET", "s3cret-of-the-process")
    code = component_code("        return Message(text=self.api_key)", inputs='MessageTextInput(name="input_value"), MessageTextInput(name="api_key")')
    exported = custom_flow(code, extra_fields={"api_key": field("api_key", "RUN_FUNCTION_SECRET", password=True, load_from_db=True)})
    runner = ApprovingRunner()
    with pytest.raises(MissingVariableError):
        run_flow_from_json(exported, "hi", code_runner=runner, fallback_to_env_vars=True)
    assert runner.calls == []
    assert texts(run_flow_from_json(exported, "hi", code_runner=runner, fallback_to_env_vars=True, variables={"RUN_FUNCTION_SECRET": "stored"})) == ["stored"]


async def test_a_sub_flows_code_is_checked_and_run_with_the_same_approvals():
    """Run Flow: the called flow's code needs the tenant's approval like the caller's own."""
    from flowless_engine.runtime.services import DictFlowResolver
    from tests.support.component_runs import run_flow, value
    from tests.support.flows import edge as parent_edge, flow as parent_flow_of, node

    code = component_code("        return Message(text='child says ' + self.input_value)", output="out")
    child = custom_flow(code, flow_id="5d1c4e3a-0000-4000-8000-00000000c0de", name="Child with code")
    run_node = node("RunFlow-r", "RunFlow", {"flow_name_selected": "Child with code"})
    run_node["data"]["node"]["template"]["ChatInput-1~input_value"] = {"name": "ChatInput-1~input_value", "type": "str", "value": "",
                                                                      "input_types": ["Message"], "display_name": "Chat Input", "show": True}
    run_node["data"]["node"]["outputs"] = [{"name": "ChatOutput-1~message", "method": "_dynamic", "types": ["Message"], "display_name": "Chat Output"}]
    parent = parent_flow_of("Parent", [node("ChatInput-c", "ChatInput"), run_node, node("ChatOutput-o", "ChatOutput")],
                            [parent_edge("ChatInput-c", "message", "RunFlow-r", "ChatInput-1~input_value"),
                             parent_edge("RunFlow-r", "ChatOutput-1~message", "ChatOutput-o", "input_value")])
    flows = DictFlowResolver([child])
    with pytest.raises(CodeNotApprovedError):
        await run_flow(parent, "hi", flows=flows, code_runner=ApprovingRunner(approved=set()))
    result = await run_flow(parent, "hi", flows=flows, code_runner=ApprovingRunner(approved={sha256(code)}))
    assert value(result, "ChatOutput-o").text == "child says hi"
