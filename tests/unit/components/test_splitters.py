"""Language Recursive and Natural Language text splitters, HTML Link Extractor, through the engine."""

from __future__ import annotations

import json
from typing import Any

import pytest

from flowless_engine.components.splitters import CODE_LANGUAGES, LANGUAGE_SEPARATORS, split_sentences
from flowless_engine.errors import ComponentError
from tests.support.component_runs import run_flow, value
from tests.support.flows import edge, flow, node

PYTHON = '''import os


class Greeter:
    def hello(self):
        return "hello"

    def bye(self):
        return "bye"


def main():
    print(Greeter().hello())
'''


def split_flow(type_name: str, documents: list[dict[str, Any]], **values: Any) -> dict[str, Any]:
    """JSON documents → Parse JSON (.[]) → the node under test."""
    return flow("split", [
        node("TextInput-t", "TextInput", {"input_value": json.dumps(documents)}),
        node("ParseJSONData-p", "ParseJSONData", {"query": ".[]"}),
        node(f"{type_name}-s", type_name, values),
    ], [edge("TextInput-t", "text", "ParseJSONData-p", "input_value"),
        edge("ParseJSONData-p", "filtered_data", f"{type_name}-s", "data_input", output_types=["JSON"])])


async def chunks(exported: dict[str, Any]) -> list[dict[str, Any]]:
    result = await run_flow(exported)
    return [d.data for d in value(result, exported["data"]["nodes"][-1]["id"])]


async def test_python_is_split_at_classes_and_functions_keeping_metadata() -> None:
    out = await chunks(split_flow("LanguageRecursiveTextSplitter", [{"text": PYTHON, "source": "app.py"}],
                                  chunk_size=60, chunk_overlap=0, code_language="python"))
    assert [c["text"] for c in out] == [
        "import os",
        'class Greeter:\n    def hello(self):\n        return "hello"',
        'def bye(self):\n        return "bye"',
        "def main():\n    print(Greeter().hello())",
    ]
    assert all(c["source"] == "app.py" for c in out)


async def test_markdown_splits_at_headings_and_large_chunks_keep_everything() -> None:
    doc = "# Title\nIntro text.\n## Part one\nFirst part.\n## Part two\nSecond part."
    out = await chunks(split_flow("LanguageRecursiveTextSplitter", [{"text": doc}], chunk_size=25, chunk_overlap=0, code_language="markdown"))
    assert [c["text"] for c in out] == ["# Title\nIntro text.", "## Part one\nFirst part.", "## Part two\nSecond part."]
    whole = await chunks(split_flow("LanguageRecursiveTextSplitter", [{"text": doc}], chunk_size=1000, chunk_overlap=0, code_language="markdown"))
    assert [c["text"] for c in whole] == [doc]


def test_every_offered_language_has_separators() -> None:
    assert set(CODE_LANGUAGES) == set(LANGUAGE_SEPARATORS)


async def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ComponentError, match="Unsupported code language 'cobalt'"):
        await chunks(split_flow("LanguageRecursiveTextSplitter", [{"text": "x"}], code_language="cobalt"))


def test_sentences() -> None:
    text = ('Mr. Smith went to Washington. He arrived at 3.15 p.m. on Jan. 5! Did he meet J. Doe? "Yes." '
            "Then he left... quietly. 東京に行った。楽しかった！")
    assert split_sentences(text) == [
        "Mr. Smith went to Washington.", "He arrived at 3.15 p.m. on Jan. 5!", "Did he meet J. Doe?", '"Yes."',
        "Then he left... quietly.", "東京に行った。", "楽しかった！",
    ]
    assert split_sentences("no terminator at all") == ["no terminator at all"]


async def test_natural_language_chunks_are_whole_sentences() -> None:
    text = "The cat sat. The dog ran away quickly. Birds sing at dawn. Fish swim."
    out = await chunks(split_flow("NaturalLanguageTextSplitter", [{"text": text, "page": 1}], chunk_size=40, chunk_overlap=0))
    assert [c["text"] for c in out] == ["The cat sat.\n\nThe dog ran away quickly.", "Birds sing at dawn.\n\nFish swim."]
    assert all(c["page"] == 1 for c in out)
    joined = await chunks(split_flow("NaturalLanguageTextSplitter", [{"text": text}], chunk_size=40, chunk_overlap=0, separator=" "))
    assert joined[0]["text"] == "The cat sat. The dog ran away quickly."


async def test_html_links_are_added_to_each_document() -> None:
    page = ('<html><body><a href="/docs#intro">Docs</a> <a href="https://other.org/x">Other</a>'
            '<a href="mailto:team@site.com">Mail</a> <a href="#top">Top</a> <a href="page">Self</a></body></html>')
    out = await chunks(split_flow("HtmlLinkExtractor", [{"text": page, "source": "https://site.com/page#section"}]))
    (doc,) = out
    assert doc["text"] == page and doc["source"] == "https://site.com/page#section"
    assert doc["links"] == [
        {"kind": "hyperlink", "direction": "out", "tag": "https://other.org/x"},
        {"kind": "hyperlink", "direction": "out", "tag": "https://site.com/docs"},
        {"kind": "hyperlink", "direction": "in", "tag": "https://site.com/page"},
    ]
    kept = await chunks(split_flow("HtmlLinkExtractor", [{"text": page, "url": "https://site.com/page"}], kind="link", drop_fragments=False))
    tags = [link["tag"] for link in kept[0]["links"]]
    assert "https://site.com/docs#intro" in tags and "https://site.com/page#top" in tags
    assert {link["kind"] for link in kept[0]["links"]} == {"link"}
