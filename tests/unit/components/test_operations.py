"""Data Operations (`Operations`): Text, JSON and Table operations from one node, through the engine."""

from __future__ import annotations

import json
from typing import Any

import pytest

from flowless_engine.errors import ComponentError
from tests.support.component_runs import run_flow, value
from tests.support.flows import edge, flow, node


def op(name: str) -> list[dict[str, str]]:
    return [{"name": name}]


def text_flow(operation: str, output: str, text: str = "Hello Big World\nsecond line", **values: Any) -> dict[str, Any]:
    return flow("ops", [node("TextInput-t", "TextInput", {"input_value": text}),
                        node("Operations-o", "Operations", {"input_type": "Text", "operation": op(operation), **values})],
                [edge("TextInput-t", "text", "Operations-o", "text_input")])


async def result(exported: dict[str, Any], output: str) -> Any:
    exported["data"]["nodes"][-1]["data"]["node"]["outputs"] = [{"name": output, "method": "x", "types": ["Message"]}]
    exported["data"]["nodes"].append(node("Pass-p", "Pass", {"input_message": "x"}))  # something downstream asks for `output`
    exported["data"]["edges"].append(edge("Operations-o", output, "Pass-p", "ignored_message",
                                          output_types=["Message", "JSON", "Table"], input_types=["Message", "JSON", "Table", "Data", "DataFrame"]))
    return value(await run_flow(exported), "Operations-o", output)


async def test_text_operations() -> None:
    assert (await result(text_flow("Case Conversion", "message_output", case_type="uppercase"), "message_output")).text == "HELLO BIG WORLD\nSECOND LINE"
    assert (await result(text_flow("Text Extract", "message_output", extract_pattern=r"[A-Z]\w+"), "message_output")).text == "Hello\nBig\nWorld"
    counts = (await result(text_flow("Word Count", "data_output"), "data_output")).data
    assert counts["word_count"] == 5 and counts["line_count"] == 2
    table = await result(text_flow("Text to DataFrame", "dataframe_output", text="a|b\n1|2\n3|4"), "dataframe_output")
    assert table.rows == [{"a": 1, "b": 2}, {"a": 3, "b": 4}]
    joined = await result(text_flow("Text Join", "text_output", text_input_2="more"), "text_output")
    assert joined.text == "Hello Big World\nsecond line\nmore"


async def test_json_operations() -> None:
    exported = flow("ops", [
        node("TextInput-t", "TextInput", {"input_value": json.dumps({"name": "Ada", "age": 36, "city": "London"})}),
        node("ParseJSONData-p", "ParseJSONData", {"query": "."}),
        node("Operations-o", "Operations", {"input_type": "JSON", "operation": op("Select Keys"), "select_keys_input": ["name", "city"]}),
    ], [edge("TextInput-t", "text", "ParseJSONData-p", "input_value"),
        edge("ParseJSONData-p", "filtered_data", "Operations-o", "data", output_types=["JSON"])])
    assert (await result(exported, "data_output")).data == {"name": "Ada", "city": "London"}


async def test_table_operations_and_a_wrong_column() -> None:
    rows = [{"n": 3, "name": "c"}, {"n": 1, "name": "a"}, {"n": 2, "name": "b"}]

    def table_flow(**values: Any) -> dict[str, Any]:
        return flow("ops", [
            node("TextInput-t", "TextInput", {"input_value": json.dumps(rows)}),
            node("ParseJSONData-p", "ParseJSONData", {"query": ".[]"}),
            node("DataToDataFrame-d", "DataToDataFrame"),
            node("Operations-o", "Operations", {"input_type": "Table", **values}),
        ], [edge("TextInput-t", "text", "ParseJSONData-p", "input_value"),
            edge("ParseJSONData-p", "filtered_data", "DataToDataFrame-d", "data_list", output_types=["JSON"]),
            edge("DataToDataFrame-d", "dataframe", "Operations-o", "df", output_types=["Table"])])

    sorted_rows = await result(table_flow(operation=op("Sort"), column_name="n"), "dataframe_output")
    assert [r["name"] for r in sorted_rows.rows] == ["a", "b", "c"]
    with pytest.raises(ComponentError, match="Column 'nope' not found"):
        await result(table_flow(operation=op("Sort"), column_name="nope"), "dataframe_output")


async def test_outputs_of_another_family_are_empty() -> None:
    assert (await result(text_flow("Case Conversion", "data_output"), "data_output")).data == {}
    assert (await result(text_flow("Text Head", "dataframe_output"), "dataframe_output")).rows == []
    assert (await result(text_flow("Word Count", "message_output"), "message_output")).text == "Hello Big World\nsecond line"
