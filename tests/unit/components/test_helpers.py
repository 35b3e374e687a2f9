"""Condition (DataConditionalRouter), ID Generator, Output Parser, Dynamic Create Data, Mock Data
and the older Calculator tool, through the engine."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from flowless_engine.components.helpers import CSV_FORMAT_INSTRUCTIONS, CSVListParser
from flowless_engine.schema import Data, DataFrame
from tests.support.component_runs import run_flow, value
from tests.support.engine_kit import FakeChatModel, component_node, run, tool_call
from tests.support.engine_kit import edge as kit_edge
from tests.support.engine_kit import flow as kit_flow
from tests.support.flows import edge, flow, node

ROWS = [{"name": "a", "status": "active", "ok": "yes"}, {"name": "b", "status": "archived", "ok": "no"}, {"name": "c", "status": "active-ish"}]


def condition_flow(rows: list[dict[str, Any]], **values: Any) -> dict[str, Any]:
    """JSON rows → Condition → (true) Data→Table / (false) Data→Table."""
    nodes = [
        node("TextInput-t", "TextInput", {"input_value": json.dumps(rows)}),
        node("ParseJSONData-p", "ParseJSONData", {"query": ".[]"}),
        node("DataConditionalRouter-c", "DataConditionalRouter", values),
        node("DataToDataFrame-yes", "DataToDataFrame"),
        node("DataToDataFrame-no", "DataToDataFrame"),
    ]
    edges = [
        edge("TextInput-t", "text", "ParseJSONData-p", "input_value"),
        edge("ParseJSONData-p", "filtered_data", "DataConditionalRouter-c", "data_input", output_types=["JSON"]),
        edge("DataConditionalRouter-c", "true_output", "DataToDataFrame-yes", "data_list", output_types=["JSON"]),
        edge("DataConditionalRouter-c", "false_output", "DataToDataFrame-no", "data_list", output_types=["JSON"]),
    ]
    return flow("condition", nodes, edges)


async def test_condition_sends_the_matching_items_down_true() -> None:
    result = await run_flow(condition_flow(ROWS, key_name="status", operator="starts with", compare_value="active"))
    assert [row["name"] for row in value(result, "DataToDataFrame-yes").rows] == ["a", "c"]
    assert "DataToDataFrame-no" not in result.all_results  # the branch not taken does not run


async def test_condition_with_no_match_sends_the_others_down_false() -> None:
    result = await run_flow(condition_flow(ROWS, key_name="status", operator="equals", compare_value="deleted"))
    assert [row["name"] for row in value(result, "DataToDataFrame-no").rows] == ["a", "b", "c"]
    assert "DataToDataFrame-yes" not in result.all_results


async def test_condition_boolean_validator_skips_items_without_the_key() -> None:
    result = await run_flow(condition_flow(ROWS, key_name="ok", operator="boolean validator"))
    assert [row["name"] for row in value(result, "DataToDataFrame-yes").rows] == ["a"]
    result = await run_flow(condition_flow(ROWS, key_name="missing", operator="equals", compare_value="x"))
    assert value(result, "DataToDataFrame-no").rows == []  # nothing had the key


async def test_condition_on_one_data_without_the_key_answers_an_error() -> None:
    from flowless_engine.components.helpers import DataConditionalRouterComponent
    from flowless_engine.graph.model import Vertex
    from flowless_engine.runtime.context import RunContext

    vertex = Vertex(id="c", type="DataConditionalRouter", display_name="Condition", fields={}, outputs=[])
    component = DataConditionalRouterComponent(vertex, {"data_input": Data(data={"x": 1}), "key_name": "y"}, RunContext(flow_id="f", session_id="s"))
    assert (await component.process_data()).data == {"error": "Key 'y' not found in Data"}
    assert component.inactive_outputs == set()
    component.params["key_name"] = "x"
    component.params["compare_value"] = "1"
    assert (await component.process_data()).data == {"x": 1} and component.inactive_outputs == {"false_output"}


async def test_id_generator() -> None:
    exported = flow("ids", [node("IDGenerator-i", "IDGenerator"), node("IDGenerator-j", "IDGenerator", {"unique_id": "order-7"})], [])
    result = await run_flow(exported)
    generated = value(result, "IDGenerator-i").text
    assert uuid.UUID(generated).version == 4
    assert value(result, "IDGenerator-j").text == "order-7"


async def test_output_parser_instructions_feed_a_prompt() -> None:
    prompt = node("Prompt-p", "Prompt", {"template": "List three colours. {format}"}, extra_fields={"format": {}})
    exported = flow("parser", [node("OutputParser-o", "OutputParser"), prompt],
                    [edge("OutputParser-o", "format_instructions", "Prompt-p", "format")])
    result = await run_flow(exported)
    assert value(result, "Prompt-p").text == f"List three colours. {CSV_FORMAT_INSTRUCTIONS}"
    assert CSVListParser().parse('red, green,"blue, dark"\n') == ["red", "green", "blue, dark"]


async def test_dynamic_create_data_reads_typed_and_wired_fields() -> None:
    fields = [{"field_name": "customer", "field_type": "Text"}, {"field_name": "order", "field_type": "Data"},
              {"field_name": "count", "field_type": "Number"}, {"field_name": "vip", "field_type": "Boolean"}]
    dynamic = {"dynamic_customer": {"value": "Ada", "input_types": ["Text", "Message"]}, "dynamic_order": {"type": "other", "input_types": ["Data"]},
               "dynamic_count": {"type": "int", "value": 3}}
    exported = flow("form", [
        node("TextInput-t", "TextInput", {"input_value": '{"sku": "X1", "qty": 2}'}),
        node("ParseJSONData-p", "ParseJSONData", {"query": "."}),
        node("DynamicCreateData-d", "DynamicCreateData", {"form_fields": fields}, extra_fields=dynamic),
    ], [edge("TextInput-t", "text", "ParseJSONData-p", "input_value"),
        edge("ParseJSONData-p", "filtered_data", "DynamicCreateData-d", "dynamic_order", output_types=["JSON"])])
    result = await run_flow(exported)
    assert value(result, "DynamicCreateData-d", "form_data").data == {"customer": "Ada", "order": [{"sku": "X1", "qty": 2}], "count": 3, "vip": ""}
    exported["data"]["edges"].append(edge("DynamicCreateData-d", "message", "ChatOutput-o", "input_value"))
    exported["data"]["nodes"].append(node("ChatOutput-o", "ChatOutput"))
    message = value(await run_flow(exported), "ChatOutput-o").text
    assert message.splitlines()[0] == "📋 Form Data:" and "• customer: Ada" in message and message.endswith("Total fields: 4")


async def test_dynamic_create_data_without_fields() -> None:
    exported = flow("form", [node("DynamicCreateData-d", "DynamicCreateData"), node("ChatOutput-o", "ChatOutput")],
                    [edge("DynamicCreateData-d", "message", "ChatOutput-o", "input_value")])
    assert value(await run_flow(exported), "ChatOutput-o").text == "No form data available"


async def test_mock_data_outputs() -> None:
    exported = flow("mock", [node("MockDataGenerator-m", "MockDataGenerator"), node("ChatOutput-o", "ChatOutput"),
                             node("DataToDataFrame-d", "DataToDataFrame"), node("ParserComponent-p", "ParserComponent", {"mode": "Stringify"})],
                    [edge("MockDataGenerator-m", "message_output", "ChatOutput-o", "input_value"),
                     edge("MockDataGenerator-m", "data_output", "DataToDataFrame-d", "data_list", output_types=["JSON"]),
                     edge("MockDataGenerator-m", "dataframe_output", "ParserComponent-p", "input_data", output_types=["Table"])])
    result = await run_flow(exported)
    table = value(result, "MockDataGenerator-m", "dataframe_output")
    assert isinstance(table, DataFrame) and len(table.rows) == 50
    first = table.rows[0]
    assert first["customer_id"] == "CUST-10000" and first["full_name"] == f"{first['first_name']} {first['last_name']}"
    assert first["total_value"] == pytest.approx(first["discounted_value"] * first["quantity"], abs=0.01)
    assert {"age_group", "order_date", "is_premium", "satisfaction_score"} <= set(first)
    data = value(result, "MockDataGenerator-m", "data_output").data
    assert len(data["records"]) == 1 and data["summary"]["total_count"] == 1 and data["records"][0]["id"] == "REC-1000"
    assert value(result, "ChatOutput-o").text.startswith(("Lorem", "Ut", "Duis", "Excepteur"))


async def test_calculator_tool_runs_and_serves_an_agent() -> None:
    exported = flow("calc", [node("CalculatorTool-c", "CalculatorTool", {"expression": "4*4*(33/22)+12-20"})], [])
    assert [d.data for d in value(await run_flow(exported), "CalculatorTool-c")] == [{"result": "16"}]
    exported["data"]["nodes"][0]["data"]["node"]["template"]["expression"]["value"] = "1/0"
    assert value(await run_flow(exported), "CalculatorTool-c")[0].data == {"error": "Error: Division by zero", "input": "1/0"}

    agent_flow = kit_flow([
        component_node("ChatInput-1", "ChatInput"), component_node("Agent-1", "Agent", add_current_date_tool=False),
        component_node("CalculatorTool-1", "CalculatorTool"), component_node("ChatOutput-1", "ChatOutput"),
    ], [kit_edge("ChatInput-1", "message", "Agent-1", "input_value"), kit_edge("Agent-1", "response", "ChatOutput-1", "input_value"),
        kit_edge("CalculatorTool-1", "api_build_tool", "Agent-1", "tools", output_types=("Tool",), input_types=("Tool",))])
    model = FakeChatModel([tool_call("calculator", {"expression": "6*7"}), "42 it is"])
    ran = await run(agent_flow, "6*7?", model=model)
    (tool,) = model.calls[0]["tools"]
    assert tool.name == "calculator" and tool.parameters["required"] == ["expression"]
    assert json.loads(model.calls[1]["messages"][-1].content) == [{"result": "42"}]
    assert ran.text() == "42 it is"


async def test_merge_flows_runs_after_everything_wired_into_it() -> None:
    exported = flow("merge", [node("TextInput-a", "TextInput", {"input_value": "a"}), node("IDGenerator-b", "IDGenerator"),
                              node("MergeFlows-m", "MergeFlows")],
                    [edge("TextInput-a", "text", "MergeFlows-m", "inputs"), edge("IDGenerator-b", "id", "MergeFlows-m", "inputs")])
    result = await run_flow(exported)
    assert value(result, "MergeFlows-m").text == "Merged 2 flows"
    assert list(result.all_results).index("MergeFlows-m") > list(result.all_results).index("TextInput-a")
