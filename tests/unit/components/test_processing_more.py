"""JSON Cleaner, Filter Data, Parse JSON (jq subset), JSON/Table operations, Combine Data, Parse
DataFrame, Regex Extractor, Pass, Current Date and the LangChain splitters, run through the engine."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from flowless_engine.components.jq import JqError, run_query
from flowless_engine.errors import ComponentError
from flowless_engine.schema import Data, DataFrame, Message
from tests.support.component_runs import run_flow, value
from tests.support.flows import edge, flow, node


def single(type_name: str, values: dict[str, Any], *, feed: dict[str, Any] | None = None, output: str | None = None) -> Any:
    """Run `type_name` alone (fields set directly; `feed` values arrive through a Pass-through TextInput)."""
    nodes = [node(f"{type_name}-x1", type_name, values)]
    edges = []
    for i, (field, text) in enumerate((feed or {}).items()):
        nodes.append(node(f"TextInput-t{i}", "TextInput", {"input_value": text}))
        edges.append(edge(f"TextInput-t{i}", "text", f"{type_name}-x1", field))
    return flow("p", nodes, edges), output


async def run_single(type_name: str, values: dict[str, Any], *, feed: dict[str, Any] | None = None, output: str | None = None) -> Any:
    f, _ = single(type_name, values, feed=feed)
    result = await run_flow(f)
    return value(result, f"{type_name}-x1", output)


async def test_json_cleaner_repairs_llm_json() -> None:
    text = "Sure! Here it is: {'name': 'Ada', age: 36, tags: ['x', 'y',], ok: True} Hope it helps"
    message = await run_single("JSONCleaner", {}, feed={"json_str": text})
    assert isinstance(message, Message)
    assert json.loads(message.text) == {"name": "Ada", "age": 36, "tags": ["x", "y"], "ok": True}
    control = await run_single("JSONCleaner", {"remove_control_chars": True}, feed={"json_str": '{"a": "x\x01y"}'})
    assert json.loads(control.text) == {"a": "xy"}
    with pytest.raises(ComponentError, match="Missing '\\{' or '\\}'"):
        await run_single("JSONCleaner", {}, feed={"json_str": "no json here"})
    with pytest.raises(ComponentError, match="Invalid JSON string"):
        await run_single("JSONCleaner", {"validate_json": True}, feed={"json_str": "{a: 1}"})


def test_jq_subset_matches_jq_semantics() -> None:
    doc = {"results": [{"id": 1, "nome": "a", "x": 9}, {"id": 2, "nome": "b"}], "message": "hi", "n": [3, 1, 2]}
    assert run_query(".results[] | {id, nome}", doc) == [{"id": 1, "nome": "a"}, {"id": 2, "nome": "b"}]
    assert run_query(".results[].nome", doc) == ["a", "b"]
    assert run_query("[.results[] | select(.id > 1) | .nome]", doc) == [["b"]]
    assert run_query(".n | length", doc) == [3]
    assert run_query(".missing", doc) == [None]
    assert run_query('.["message"], .n[1:]', doc) == ["hi", [1, 2]]
    assert run_query(".results | map(.id) | add", doc) == [3]
    with pytest.raises(JqError):
        run_query(".message[]", doc)
    with pytest.raises(JqError, match="unsupported function"):
        run_query("input | env", doc)
    assert run_query(".message[]?", doc) == []


async def test_parse_json_data_from_a_message() -> None:
    payload = '{"results": [{"id": 1, "nome": "A", "tipo": "t"}, {"id": 2, "nome": "B", "tipo": "u"}], "message": "olá"}'
    rows = await run_single("ParseJSONData", {"query": ".results[] | {id, nome}"}, feed={"input_value": payload})
    assert [d.data for d in rows] == [{"id": 1, "nome": "A"}, {"id": 2, "nome": "B"}]
    rows = await run_single("ParseJSONData", {"query": ".message"}, feed={"input_value": payload})
    assert [d.data for d in rows] == [{"text": "olá"}]
    rows = await run_single("ParseJSONData", {"query": ".a"}, feed={"input_value": "{'a': [1, 2,]"})  # repaired first
    assert [d.data for d in rows] == [{"text": "[1, 2]"}]


async def test_filter_data_keeps_listed_keys() -> None:
    f = flow("p", [node("ParseJSONData-p", "ParseJSONData", {"query": "."}), node("TextInput-t", "TextInput", {"input_value": '{"content": "c", "url": "u", "x": 1}'}),
                   node("FilterData-f", "FilterData", {"filter_criteria": ["content", "x"]})],
             [edge("TextInput-t", "text", "ParseJSONData-p", "input_value"), edge("ParseJSONData-p", "filtered_data", "FilterData-f", "data", output_types=["JSON"])])
    # A list output feeding a single Data field: FilterData keeps Langflow's rule (only a Data is filtered).
    result = await run_flow(f)
    assert value(result, "FilterData-f").data in ({"content": "c", "x": 1}, {})


async def _frame_op(operation: str, rows: list[dict[str, Any]], **values: Any) -> list[dict[str, Any]]:
    from flowless_engine.components.processing_more import DataFrameOperationsComponent
    from flowless_engine.graph.model import Vertex
    from flowless_engine.runtime.context import RunContext

    params = {"df": [DataFrame(rows=rows)], "operation": [{"name": operation, "icon": "x"}], **values}
    vertex = Vertex(id="DataFrameOperations-1", type="DataFrameOperations", display_name="Table Operations", fields={}, outputs=[])
    component = DataFrameOperationsComponent(vertex, params, RunContext(flow_id="f", session_id="s"))
    return (await component.perform_operation()).rows


async def test_table_operations() -> None:
    rows = [{"name": "b", "n": "10"}, {"name": "a", "n": "9"}, {"name": "c", "n": "11"}, {"name": "a", "n": "1"}]
    assert await _frame_op("Add Column", rows[:1], new_column_name="filename", new_column_value="F") == [{"name": "b", "n": "10", "filename": "F"}]
    assert [r["n"] for r in await _frame_op("Sort", rows, column_name="n")] == ["1", "9", "10", "11"]  # numeric order
    assert [r["name"] for r in await _frame_op("Sort", rows, column_name="name", ascending=False)] == ["c", "b", "a", "a"]
    assert await _frame_op("Filter", rows, column_name="n", filter_operator="greater than", filter_value="9") == [rows[0], rows[2]]
    assert await _frame_op("Filter", rows, column_name="name", filter_operator="contains", filter_value="a") == [rows[1], rows[3]]
    assert await _frame_op("Head", rows, num_rows=2) == rows[:2]
    assert await _frame_op("Tail", rows, num_rows=1) == rows[-1:]
    assert await _frame_op("Drop Duplicates", rows, column_name="name") == rows[:3]
    assert await _frame_op("Select Columns", rows[:1], columns_to_select=["n"]) == [{"n": "10"}]
    assert await _frame_op("Rename Column", rows[:1], column_name="n", new_column_name="count") == [{"name": "b", "count": "10"}]
    assert await _frame_op("Drop Column", rows[:1], column_name="n") == [{"name": "b"}]
    assert await _frame_op("Replace Value", rows[:2], column_name="name", replace_value="a", replacement_value="z") == [{"name": "b", "n": "10"}, {"name": "z", "n": "9"}]
    merged = await _frame_op("Merge", [], left_dataframe=DataFrame(rows=[{"k": 1, "v": "l1"}, {"k": 2, "v": "l2"}]),
                             right_dataframe=DataFrame(rows=[{"k": 1, "v": "r1", "w": 0}]), merge_on_column="k", merge_how="left")
    assert merged == [{"k": 1, "v_x": "l1", "v_y": "r1", "w": 0}, {"k": 2, "v_x": "l2", "v_y": None, "w": None}]
    with pytest.raises(ValueError, match="Column 'zzz' not found"):
        await _frame_op("Sort", rows, column_name="zzz")


async def test_json_operations_and_combine_data() -> None:
    from flowless_engine.components.processing_more import DataOperationsComponent, MergeDataComponent
    from flowless_engine.graph.model import Vertex
    from flowless_engine.runtime.context import RunContext

    def make(cls: Any, **params: Any) -> Any:
        return cls(Vertex(id="x-1", type=cls.type_name, display_name="x", fields={}, outputs=[]), params, RunContext(flow_id="f", session_id="s"))

    data = [Data(data={"a": 1, "b": {"a": 2, "c": "[1, 2]"}})]
    op = lambda name, **kw: make(DataOperationsComponent, data=data, operations=[{"name": name}], **kw).as_data()  # noqa: E731
    assert (await op("Select Keys", select_keys_input=["a"])).data == {"a": 1}
    assert (await op("Remove Keys", remove_keys_input=["a"])).data == {"b": {"c": "[1, 2]"}}
    assert (await op("Rename Keys", rename_keys_input=[{"a": "z"}])).data == {"z": 1, "b": {"z": 2, "c": "[1, 2]"}}
    assert (await op("Append or Update", append_update_data={"d": 4})).data == {"a": 1, "b": {"a": 2, "c": "[1, 2]"}, "d": 4}
    assert (await op("Literal Eval")).data == {"a": 1, "b": {"a": 2, "c": [1, 2]}}
    assert (await op("Path Selection", selected_key=".b.a")).data == {"result": 2}
    assert (await op("JQ Expression", query=".b")).data == {"a": 2, "c": "[1, 2]"}
    two = [Data(data={"t": "x", "n": 1}), Data(data={"t": "y", "m": 2})]
    combine = lambda operation: make(MergeDataComponent, data_inputs=two, operation=operation).combine_data()  # noqa: E731
    assert (await combine("Concatenate")).rows == [{"t": "x\ny", "n": 1, "m": 2}]
    assert (await combine("Append")).rows == [{"t": "x", "n": 1}, {"t": "y", "m": 2}]
    assert (await combine("Merge")).rows == [{"t": ["x", "y"], "n": 1, "m": 2}]
    assert (await combine("Join")).rows == [{"t": "x", "n": 1, "t_doc2": "y", "m_doc2": 2}]


async def test_regex_extractor_pass_and_parse_dataframe() -> None:
    text = "content='{\"a\": 1}' and content='{\"b\": 2}'"
    f = flow("p", [node("TextInput-t", "TextInput", {"input_value": text}), node("RegexExtractorComponent-r", "RegexExtractorComponent", {"pattern": r"(?s)content='(.*?\})'"}),
                   node("Pass-p", "Pass", {})],
             [edge("TextInput-t", "text", "RegexExtractorComponent-r", "input_text"), edge("RegexExtractorComponent-r", "text", "Pass-p", "input_message")])
    result = await run_flow(f)
    assert value(result, "Pass-p").text == '{"a": 1}\n{"b": 2}'
    bad = await run_single("RegexExtractorComponent", {"pattern": "("}, feed={"input_text": "x"})
    assert bad[0].data["error"].startswith("Invalid regex pattern")

    from flowless_engine.components.processing_more import ParseDataFrameComponent
    from flowless_engine.graph.model import Vertex
    from flowless_engine.runtime.context import RunContext

    component = ParseDataFrameComponent(Vertex(id="p-1", type="ParseDataFrame", display_name="p", fields={}, outputs=[]),
                                        {"df": DataFrame(rows=[{"messages": "m1", "x": 1}, {"messages": "m2", "x": 2}]), "template": "{messages}/{x}", "sep": " | "},
                                        RunContext(flow_id="f", session_id="s"))
    assert (await component.parse_data()).text == "m1/1 | m2/2"


async def test_current_date_in_a_timezone() -> None:
    message = await run_single("CurrentDate", {"timezone": "America/Sao_Paulo"})
    assert re.fullmatch(r"Current date and time in America/Sao_Paulo: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d -03", message.text)
    assert (await run_single("CurrentDate", {"timezone": "Mars/Olympus"})).text.startswith("Error:")


async def test_langchain_splitters() -> None:
    text = "Hello world. This is a test.\n\nSecond paragraph here with words.\nThird line."
    rows = await run_single("RecursiveCharacterTextSplitter", {"chunk_size": 20, "chunk_overlap": 5}, feed={"data_input": text})
    assert [d.data["text"] for d in rows] == ["Hello world. This is", "is a test.", "Second paragraph", "here with words.", "Third line."]
    rows = await run_single("RecursiveCharacterTextSplitter", {"chunk_size": 12, "chunk_overlap": 0, "separators": ["-"]}, feed={"data_input": "aaaa-bbbb-cccc-dddd"})
    assert [d.data["text"] for d in rows] == ["aaaa-bbbb", "-cccc-dddd"]
    rows = await run_single("CharacterTextSplitter", {"chunk_size": 30, "chunk_overlap": 0}, feed={"data_input": text})
    assert [d.data["text"] for d in rows] == ["Hello world. This is a test.", "Second paragraph here with words.\nThird line."]
    rows = await run_single("CharacterTextSplitter", {"chunk_size": 30, "chunk_overlap": 0, "separator": "\\n"}, feed={"data_input": text})
    assert [d.data["text"] for d in rows] == ["Hello world. This is a test.", "Second paragraph here with words.", "Third line."]


async def test_small_data_nodes_through_the_engine() -> None:
    nodes = [
        node("CreateList-l", "CreateList", {"texts": ["alpha", "beta", "gamma"]}),
        node("DataToDataFrame-d", "DataToDataFrame"),
        node("SelectData-s", "SelectData", {"data_index": 1}),
        node("AlterMetadata-a", "AlterMetadata", {"metadata": {"source": "list", "": "dropped"}, "remove_fields": ["x"]}),
        node("FilterDataValues-f", "FilterDataValues", {"filter_key": "text", "filter_value": "a", "operator": "ends with"}),
        node("ExtractaKey-e", "ExtractaKey", {"key": "source"}),
        node("ChatInput-c", "ChatInput"),
        node("MessagetoData-m", "MessagetoData"),
        node("UpdateData-u", "UpdateData", {}, extra_fields={"field_1_key": {"type": "dict", "value": {"lang": "en"}}}),
        node("CreateData-n", "CreateData", {"text_key": "title"}, extra_fields={"field_1_key": {"type": "dict", "value": {"title": "T"}},
                                                                               "field_2_key": {"type": "dict", "value": {"n": 2}}}),
    ]
    edges = [
        edge("CreateList-l", "list", "DataToDataFrame-d", "data_list"),
        edge("CreateList-l", "list", "SelectData-s", "data_list"),
        edge("CreateList-l", "list", "AlterMetadata-a", "input_value"),
        edge("AlterMetadata-a", "data", "FilterDataValues-f", "input_data"),
        edge("AlterMetadata-a", "data", "ExtractaKey-e", "data_input"),
        edge("ChatInput-c", "message", "MessagetoData-m", "message"),
        edge("MessagetoData-m", "data", "UpdateData-u", "old_data"),
    ]
    result = await run_flow(flow("small", nodes, edges), "hello")
    assert value(result, "DataToDataFrame-d").rows == [{"text": "alpha"}, {"text": "beta"}, {"text": "gamma"}]
    assert value(result, "SelectData-s").data == {"text": "beta"}
    assert [d.data for d in value(result, "AlterMetadata-a", "data")][0] == {"text": "alpha", "source": "list"}
    assert [d.data["text"] for d in value(result, "FilterDataValues-f")] == ["alpha", "beta", "gamma"]
    assert [d.data for d in value(result, "ExtractaKey-e")] == [{"source": "list"}] * 3
    (updated,) = value(result, "UpdateData-u")  # a list field: a list comes back, as in Langflow
    assert updated.data["text"] == "hello" and updated.data["lang"] == "en" and updated.data["sender"] == "User"
    created = value(result, "CreateData-n")
    assert created.data == {"title": "T", "n": 2} and created.text == "T"


async def test_semantic_text_splitter_breaks_where_meaning_changes() -> None:
    import math

    from tests.support.model_server import ModelServer, embed

    sentences = ["Cats purr when cats are happy.", "Happy cats purr loudly.", "Cats purr and cats sleep.",
                 "Rockets launch into orbit.", "Orbit rockets need fuel.", "Rockets burn fuel to reach orbit."]
    text = " ".join(sentences)

    def distance(a: str, b: str) -> float:
        x, y = embed(a), embed(b)
        return 1 - sum(p * q for p, q in zip(x, y)) / (math.sqrt(sum(p * p for p in x)) * math.sqrt(sum(q * q for q in y)))

    gaps = [distance(sentences[i], sentences[i + 1]) for i in range(5)]
    widest = gaps.index(max(gaps))
    with ModelServer() as server:
        nodes = [node("TextInput-t", "TextInput", {"input_value": text}),
                 node("OpenAIEmbeddings-e", "OpenAIEmbeddings", {"openai_api_key": "OPENAI_API_KEY"}),
                 node("SemanticTextSplitter-s", "SemanticTextSplitter", {"number_of_chunks": 2})]
        edges = [edge("TextInput-t", "text", "SemanticTextSplitter-s", "data_inputs"),
                 edge("OpenAIEmbeddings-e", "embeddings", "SemanticTextSplitter-s", "embeddings", output_types=["Embeddings"], input_types=["Embeddings"])]
        result = await run_flow(flow("sem", nodes, edges), variables={"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": server.base_url})
        chunks = [d.data["text"] for d in value(result, "SemanticTextSplitter-s")]
        assert chunks == [" ".join(sentences[: widest + 1]), " ".join(sentences[widest + 1:])]
        assert [r.body["input"] for r in server.requests if r.path.endswith("/embeddings")] == [sentences]


@pytest.mark.parametrize(("operation", "values", "text", "expected"), [
    ("Case Conversion", {"case_type": "title"}, "hello big world", "Hello Big World"),
    ("Text Replace", {"search_pattern": r"\d+", "replacement_text": "#", "use_regex": True}, "a1 b22", "a# b#"),
    ("Text Replace", {"search_pattern": "b", "replacement_text": "c"}, "abb", "acc"),
    ("Text Extract", {"extract_pattern": r"\w+@\w+\.com", "max_matches": 1}, "x@a.com y@b.com", "x@a.com"),
    ("Text Head", {"head_characters": 3}, "abcdef", "abc"),
    ("Text Tail", {"tail_characters": 2}, "abcdef", "ef"),
    ("Text Strip", {"strip_mode": "left", "strip_characters": "x"}, "xxabxx", "abxx"),
    ("Text Join", {"text_input_2": "second"}, "first", "first\nsecond"),
    ("Text Clean", {"remove_special_chars": True}, "a,  b!\n c", "a b c"),
])
async def test_text_operations_messages(operation: str, values: dict[str, Any], text: str, expected: str) -> None:
    message = await run_single("TextOperations", {"operation": [{"name": operation}], **values}, feed={"text_input": text})
    assert message.text == expected


async def test_text_operations_word_count_and_table() -> None:
    from flowless_engine.components.processing_more import TextOperationsComponent
    from flowless_engine.graph.model import Vertex
    from flowless_engine.runtime.context import RunContext

    def make(**params: Any) -> TextOperationsComponent:
        return TextOperationsComponent(Vertex(id="t-1", type="TextOperations", display_name="t", fields={}, outputs=[]), params, RunContext(flow_id="f", session_id="s"))

    counted = await make(text_input="a b a\n\nc", operation=[{"name": "Word Count"}]).get_data()
    assert counted.data == {"word_count": 4, "unique_words": 3, "character_count": 8, "character_count_no_spaces": 6, "line_count": 3, "non_empty_lines": 2}
    table = "| name | qty | price |\n|---|---|---|\n| pen | 2 | 1.5 |\n| book | 10 | 12 |"
    frame = await make(text_input=table, operation=[{"name": "Text to DataFrame"}]).get_dataframe()
    assert frame.rows == [{"name": "pen", "qty": 2, "price": 1.5}, {"name": "book", "qty": 10, "price": 12.0}]
    with pytest.raises(ValueError, match="Header mismatch"):
        await make(text_input="a|b\n1|2|3", operation=[{"name": "Text to DataFrame"}]).get_dataframe()
