"""Parser, Parse Data, Split Text, Type Convert and Combine Text."""

from __future__ import annotations

from typing import Any

import pytest

from flowless_engine.components.base import Component
from flowless_engine.components.processing import (
    CombineTextComponent,
    ParseDataComponent,
    ParserComponent,
    SplitTextComponent,
    TypeConverterComponent,
)
from flowless_engine.graph.model import Vertex
from flowless_engine.runtime.context import RunContext
from flowless_engine.schema import Data, DataFrame, Message


def make(cls: type[Component], **params: Any) -> Any:
    vertex = Vertex(
        id=f"{cls.type_name}-t1",
        type=cls.type_name,
        display_name=cls.display_name,
        fields={name: {"value": value} for name, value in params.items()},
        outputs=[output.to_template() for output in cls.outputs],
    )
    return cls(vertex, params, RunContext(flow_id="f", session_id="s"))


# ---- Parser -----------------------------------------------------------------------------

async def test_parser_formats_a_data_with_its_keys() -> None:
    parser = make(ParserComponent, input_data=Data(data={"text": "hello", "source": "doc.txt"}), mode="Parser", pattern="Text: {text} ({source})", sep="\n")
    message = await parser.parse_combined_text()
    assert isinstance(message, Message)
    assert message.text == "Text: hello (doc.txt)"


async def test_parser_formats_each_dataframe_row_joined_by_sep() -> None:
    table = DataFrame(rows=[{"content": "alpha", "n": 1}, {"content": "beta", "n": 2}])
    parser = make(ParserComponent, input_data=table, mode="Parser", pattern="{n}. {content}", sep="\n---\n")
    assert (await parser.parse_combined_text()).text == "1. alpha\n---\n2. beta"


async def test_parser_structured_output_pattern() -> None:
    report = Data(data={"COMPANY": "Acme", "REVENUE": "$10M", "NET_MARGIN": "12%"})
    pattern = "## {COMPANY}\n| Revenue | {REVENUE} |\n| Net Margin | {NET_MARGIN} |\n| EBITDA | {EBITDA} |"
    parser = make(ParserComponent, input_data=report, mode="Parser", pattern=pattern, sep="\n")
    # A key the Data lacks renders empty (Langflow's default_value).
    assert (await parser.parse_combined_text()).text == "## Acme\n| Revenue | $10M |\n| Net Margin | 12% |\n| EBITDA |  |"


async def test_parser_list_of_data_and_brace_escapes() -> None:
    items = [Data(data={"text": "a"}), Data(data={"text": "b"})]
    parser = make(ParserComponent, input_data=items, pattern="{{literal}} {text}", sep=", ")
    assert (await parser.parse_combined_text()).text == "{literal} a, {literal} b"


async def test_parser_missing_dataframe_column_is_a_clear_error() -> None:
    parser = make(ParserComponent, input_data=DataFrame(rows=[{"content": "x"}]), pattern="{title}", sep="\n")
    with pytest.raises(ValueError, match=r"'\{title\}' is not a column.*content"):
        await parser.parse_combined_text()


async def test_parser_never_reaches_attributes() -> None:
    parser = make(ParserComponent, input_data=Data(data={"text": "hi", "d": {"k": "v"}}), pattern="{text.__class__}|{d[k]}|{text}", sep="\n")
    # `text.__class__` is looked up as a key (absent → empty), never as an attribute.
    assert (await parser.parse_combined_text()).text == "|v|hi"


async def test_parser_stringify_dataframe_as_markdown_table() -> None:
    table = DataFrame(rows=[{"name": "alice", "age": 30}, {"name": "bob", "age": 4}])
    parser = make(ParserComponent, input_data=table, mode="Stringify", pattern="", sep="\n")
    assert (await parser.parse_combined_text()).text == (
        "| name   |   age |\n|:-------|------:|\n| alice  |    30 |\n| bob    |     4 |"
    )


async def test_parser_stringify_data_as_fenced_json() -> None:
    parser = make(ParserComponent, input_data=Data(data={"a": 1, "b": "é"}), mode="Stringify", pattern="", sep="\n")
    assert (await parser.parse_combined_text()).text == '```json\n{\n  "a": 1,\n  "b": "é"\n}\n```'


# ---- Parse Data ---------------------------------------------------------------------------

async def test_parse_data_message_and_list() -> None:
    items = [Data(data={"text": "one", "page": 1}), Data(data={"text": "two", "page": 2})]
    component = make(ParseDataComponent, data=items, template="{page}: {text}{missing}", sep=" | ")
    assert (await component.parse_data()).text == "1: one | 2: two"
    listed = await component.parse_data_as_list()
    assert [d.text for d in listed] == ["1: one", "2: two"]
    assert listed[0].data["page"] == 1


async def test_parse_data_error_key_replaces_text() -> None:
    component = make(ParseDataComponent, data=Data(data={"error": "boom"}), template="{text}", sep="\n")
    assert (await component.parse_data()).text == "boom"


# ---- Split Text -------------------------------------------------------------------------

async def test_split_text_chunks_with_overlap() -> None:
    text = "one two three four five six seven"
    component = make(SplitTextComponent, data_inputs=Message(text=text), chunk_size=10, chunk_overlap=4, separator=" ", text_key="text", keep_separator="False")
    frame = await component.split_text()
    # Same chunks as LangChain's CharacterTextSplitter(chunk_size=10, chunk_overlap=4, separator=" ").
    assert [row["text"] for row in frame.rows] == ["one two", "two three", "four five", "five six", "six seven"]


async def test_split_text_keeps_metadata_and_reads_text_key() -> None:
    table = DataFrame(rows=[{"body": "a\nb\nc", "source": "x.md"}])
    component = make(SplitTextComponent, data_inputs=table, chunk_size=3, chunk_overlap=0, separator="\\n", text_key="body", keep_separator="False")
    frame = await component.split_text()
    assert frame.rows == [{"source": "x.md", "text": "a\nb"}, {"source": "x.md", "text": "c"}]
    chunks = await component.split_text_as_data()
    assert [c.text for c in chunks] == ["a\nb", "c"]


async def test_split_text_clean_output_keeps_only_the_text_column() -> None:
    table = DataFrame(rows=[{"body": "a\nb\nc", "source": "x.md"}])
    component = make(SplitTextComponent, data_inputs=table, chunk_size=3, chunk_overlap=0, separator="\\n", text_key="body", clean_output=True)
    assert (await component.split_text()).rows == [{"text": "a\nb"}, {"text": "c"}]


async def test_split_text_refuses_overlap_larger_than_chunk() -> None:
    component = make(SplitTextComponent, data_inputs=Data(data={"text": "abc"}), chunk_size=5, chunk_overlap=6, separator="\n")
    with pytest.raises(ValueError, match="larger chunk overlap"):
        await component.split_text()


async def test_split_text_keep_separator_at_end() -> None:
    component = make(SplitTextComponent, data_inputs=Data(data={"text": "a.b.c"}), chunk_size=2, chunk_overlap=0, separator=".", keep_separator="End")
    assert [r["text"] for r in (await component.split_text()).rows] == ["a.", "b.", "c"]


# ---- Type Convert -----------------------------------------------------------------------

async def test_type_converter_message_to_data_and_dataframe() -> None:
    component = make(TypeConverterComponent, input_data=Message(text='[{"a": 1}, {"a": 2}]'), auto_parse=True, output_type="DataFrame")
    assert (await component.convert_to_dataframe()).rows == [{"a": 1}, {"a": 2}]
    assert (await component.convert_to_data()).data == {"records": [{"a": 1}, {"a": 2}]}
    plain = make(TypeConverterComponent, input_data=Message(text="hi"), auto_parse=False)
    assert (await plain.convert_to_data()).data == {"text": "hi"}


async def test_type_converter_data_and_dataframe_to_message() -> None:
    assert (await make(TypeConverterComponent, input_data=Data(data={"text": "t", "x": 1})).convert_to_message()).text == "t"
    assert (await make(TypeConverterComponent, input_data=Data(data={"x": 1})).convert_to_message()).text == "{'x': 1}"
    table = DataFrame(rows=[{"k": "v"}])
    assert (await make(TypeConverterComponent, input_data=table).convert_to_message()).text == "| k   |\n|:----|\n| v   |"
    assert (await make(TypeConverterComponent, input_data=table).convert_to_data()).data == {"results": [{"k": "v"}]}


async def test_type_converter_csv_auto_parse() -> None:
    component = make(TypeConverterComponent, input_data="name,age\nann,31\nbo,1_000,extra", auto_parse=True)
    assert (await component.convert_to_dataframe()).rows == [{"name": "ann", "age": 31}, {"name": "bo", "age": "1_000"}]


# ---- Combine Text -----------------------------------------------------------------------

async def test_combine_text() -> None:
    component = make(CombineTextComponent, text1=Message(text="Hello"), text2="world", delimiter=", ")
    assert (await component.combine_texts()).text == "Hello, world"
    assert (await make(CombineTextComponent, text1="a", text2="b").combine_texts()).text == "ab"
