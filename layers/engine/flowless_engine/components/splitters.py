"""LangChain utilities of Langflow 1.13 beyond the character / recursive splitters: the
language-aware recursive splitter, the natural-language (sentence) splitter and the HTML link
extractor. Pure Python: no LangChain, no NLTK, no BeautifulSoup.

Sentences (Natural Language Text Splitter): Langflow asks NLTK's Punkt model. Flowless splits
after `.`, `!`, `?`, `…` (and the CJK `。！？`), with any closing quotes or brackets, when
whitespace follows and the next word does not start with a lower-case letter (or the text ends;
CJK terminators need no space). It does not split after common abbreviations (Mr., Dr., e.g.,
etc., months...), single-letter initials, or inside numbers (3.14). The sentences are then merged
into chunks of at most `chunk_size` characters joined by `separator`, as Langflow does.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

from flowless_engine.components.base import Input, Output, to_bool, to_text
from flowless_engine.components.processing import CharacterSplitter, _unescape
from flowless_engine.components.processing_more import RecursiveSplitter, _documents, _LCSplitter
from flowless_engine.schema import Data

_MSG = ("Message",)
_DATA_IN = ("Document", "Data", "JSON")


# ---- Language Recursive Text Splitter ------------------------------------------------------------

def _keywords(*words: str) -> list[str]:
    """Separators at a line starting with one of `words` (regular expressions)."""
    return [rf"\n\s*{re.escape(w)}\b" if w[-1].isalnum() else rf"\n\s*{re.escape(w)}" for w in words]


_GENERIC_TAIL = [r"\n\n", r"\n", r" ", ""]
_C_LIKE = _keywords("if", "for", "while", "switch", "case", "do")

# Per language: where code naturally breaks, coarsest first (definitions, then control flow),
# then blank lines, lines, words and characters. Patterns are regular expressions.
LANGUAGE_SEPARATORS: dict[str, list[str]] = {
    "python": [r"\nclass ", r"\ndef ", r"\n\tdef ", r"\n    def ", *_GENERIC_TAIL],
    "js": [*_keywords("function", "const", "let", "var", "class", "export"), *_C_LIKE, *_keywords("default"), *_GENERIC_TAIL],
    "ts": [*_keywords("enum", "interface", "namespace", "type", "class", "function", "const", "let", "var", "export"),
           *_C_LIKE, *_keywords("default"), *_GENERIC_TAIL],
    "java": [*_keywords("class", "interface", "enum", "public", "protected", "private", "static"), *_C_LIKE, *_GENERIC_TAIL],
    "kotlin": [*_keywords("class", "interface", "object", "fun", "val", "var"), *_keywords("if", "for", "while", "when", "do"),
               *_GENERIC_TAIL],
    "scala": [*_keywords("class", "object", "trait", "def", "val", "var"), *_keywords("if", "for", "while", "match", "case"),
              *_GENERIC_TAIL],
    "csharp": [*_keywords("namespace", "interface", "enum", "class", "struct", "record", "public", "private", "protected",
                          "internal", "static"), *_C_LIKE, *_keywords("foreach", "return", "try"), *_GENERIC_TAIL],
    "cpp": [*_keywords("namespace", "class", "struct", "template", "void", "int", "float", "double"), *_C_LIKE, *_GENERIC_TAIL],
    "c": [*_keywords("struct", "enum", "typedef", "static", "void", "int", "float", "double", "char"), *_C_LIKE, *_GENERIC_TAIL],
    "go": [*_keywords("func", "type", "var", "const"), *_keywords("if", "for", "switch", "case", "select"), *_GENERIC_TAIL],
    "rust": [*_keywords("fn", "pub", "impl", "struct", "enum", "trait", "mod", "const", "let"),
             *_keywords("if", "for", "while", "loop", "match"), *_GENERIC_TAIL],
    "swift": [*_keywords("func", "class", "struct", "enum", "protocol", "extension"),
              *_keywords("if", "for", "while", "repeat", "switch", "case", "guard"), *_GENERIC_TAIL],
    "php": [*_keywords("function", "class", "interface", "trait", "namespace"),
            *_keywords("if", "foreach", "for", "while", "do", "switch", "case"), *_GENERIC_TAIL],
    "ruby": [*_keywords("def", "class", "module"), *_keywords("if", "unless", "while", "until", "for", "do", "begin", "rescue"),
             *_GENERIC_TAIL],
    "r": [*_keywords("function"), *_keywords("if", "for", "while", "repeat"), r"\n\w+\s*<-", *_GENERIC_TAIL],
    "lua": [*_keywords("local", "function"), *_keywords("if", "for", "while", "repeat"), *_GENERIC_TAIL],
    "perl": [*_keywords("sub", "package"), *_keywords("if", "unless", "for", "foreach", "while", "until"), *_GENERIC_TAIL],
    "haskell": [r"\nmain :: ", r"\nmain = ", *_keywords("data", "type", "newtype", "class", "instance", "module", "import"),
                r"\n\w+ :: ", *_keywords("let", "where", "case", "do"), *_GENERIC_TAIL],
    "elixir": [*_keywords("defmodule", "defprotocol", "defimpl", "def", "defp", "defmacro"),
               *_keywords("if", "unless", "case", "cond", "with", "for", "do"), *_GENERIC_TAIL],
    "sol": [*_keywords("pragma", "contract", "interface", "library", "struct", "enum", "function", "event", "modifier",
                       "constructor"), *_keywords("if", "for", "while", "do", "assembly"), *_GENERIC_TAIL],
    "proto": [*_keywords("message", "service", "enum", "option", "import", "syntax", "rpc", "oneof"), *_GENERIC_TAIL],
    "cobol": [r"\n\s*IDENTIFICATION DIVISION", r"\n\s*ENVIRONMENT DIVISION", r"\n\s*DATA DIVISION",
              r"\n\s*PROCEDURE DIVISION", r"\n\s*WORKING-STORAGE SECTION", r"\n\s*FILE SECTION", r"\n\s*PERFORM ",
              r"\n\s*IF ", r"\n\s*EVALUATE ", *_GENERIC_TAIL],
    "powershell": [*_keywords("function", "param", "class", "filter"),
                   *_keywords("if", "foreach", "for", "while", "switch", "try"), *_GENERIC_TAIL],
    "visualbasic6": [r"\n\s*(?:Public |Private )?(?:Sub|Function|Property) ", r"\n\s*Type ", r"\n\s*Enum ",
                     r"\n\s*If ", r"\n\s*For ", r"\n\s*Do ", r"\n\s*Select Case ", *_GENERIC_TAIL],
    "markdown": [r"\n#{1,6} ", r"```\n", r"\n\*{3,}\n", r"\n-{3,}\n", r"\n_{3,}\n", *_GENERIC_TAIL],
    "rst": [r"\n=+\n", r"\n-+\n", r"\n\*+\n", r"\n\.\. \w", *_GENERIC_TAIL],
    "latex": [r"\n\\chapter\{", r"\n\\section\{", r"\n\\subsection\{", r"\n\\subsubsection\{",
              r"\n\\begin\{(?:enumerate|itemize|description|list|quote|quotation|verse|verbatim)\}", r"\n\\begin\{align\}",
              r"\$\$", r"\$", *_GENERIC_TAIL],
    "html": [r"<body", r"<div", r"<p", r"<br", r"<li", r"<h1", r"<h2", r"<h3", r"<h4", r"<h5", r"<h6", r"<span",
             r"<table", r"<tr", r"<td", r"<th", r"<ul", r"<ol", r"<header", r"<footer", r"<nav", r"<head", r"<style",
             r"<script", r"<meta", r"<title", ""],
}
CODE_LANGUAGES = ("cpp", "go", "java", "kotlin", "js", "ts", "php", "proto", "python", "r", "rst", "ruby", "rust", "scala",
                  "swift", "markdown", "latex", "html", "sol", "csharp", "cobol", "c", "lua", "perl", "haskell", "elixir",
                  "powershell", "visualbasic6")


class PatternSplitter(RecursiveSplitter):
    """The recursive splitter with regular-expression separators, each kept at the start of the
    piece that follows it (LangChain's `from_language` splitters)."""

    def _pieces(self, text: str, separators: list[str]) -> tuple[list[str], list[str]]:
        separator, rest = "", []
        for i, candidate in enumerate(separators):
            if candidate == "":
                break
            if re.search(candidate, text):
                separator, rest = candidate, separators[i + 1 :]
                break
        if separator:
            starts = [m.start() for m in re.finditer(separator, text) if m.start() > 0]
            bounds = [0, *starts, len(text)]
            return [text[a:b] for a, b in zip(bounds, bounds[1:]) if text[a:b]], rest
        return list(text), rest

    def _finish(self, chunks: list[str]) -> list[str]:
        return [c.strip() for c in chunks if c.strip()]


class LanguageRecursiveTextSplitterComponent(_LCSplitter):
    type_name = "LanguageRecursiveTextSplitter"
    display_name = "Language Recursive Text Splitter"
    description = "Split text into chunks of a specified length based on language."
    icon = "LangChain"
    inputs = (
        Input("chunk_size", "Chunk Size", "int", 1000, info="The maximum length of each chunk.", input_kind="IntInput"),
        Input("chunk_overlap", "Chunk Overlap", "int", 200, info="The amount of overlap between chunks.", input_kind="IntInput"),
        Input("data_input", "Input", "other", "", input_types=_DATA_IN, required=True, info="The texts to split.", input_kind="JSONInput"),
        Input("code_language", "Code Language", "str", "python", options=CODE_LANGUAGES, input_kind="DropdownInput"),
    )

    def _splitter(self) -> PatternSplitter:
        language = to_text(self.param("code_language", "python")) or "python"
        if language not in LANGUAGE_SEPARATORS:
            raise ValueError(f"Unsupported code language '{language}' (one of: {', '.join(CODE_LANGUAGES)})")
        size, overlap = self._sizes()
        return PatternSplitter(size, overlap, LANGUAGE_SEPARATORS[language])


# ---- Natural Language Text Splitter --------------------------------------------------------------

_ABBREVIATIONS = frozenset({
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "vs", "etc", "e.g", "i.e", "cf", "al", "inc", "ltd", "co", "corp",
    "no", "nos", "fig", "figs", "vol", "pp", "p", "ed", "eds", "approx", "dept", "est", "gen", "gov", "lt", "col", "sgt",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "u.k", "a.m", "p.m",
    "z.b", "bzw", "usw", "ca", "nr", "mme", "mlle", "sra", "sr", "av", "ex",
})
_TERMINATOR = re.compile(r"([.!?…]+|[。！？]+)([\"'”’»)\]]*)")


def split_sentences(text: str) -> list[str]:
    """The sentences of `text` (see the module docstring for the rules)."""
    sentences: list[str] = []
    start = 0
    for match in _TERMINATOR.finditer(text):
        end = match.end()
        cjk = match.group(1)[0] in "。！？"
        following = text[end:]
        if not cjk:
            if following and not following[0].isspace():
                continue  # 3.14, e.g.x, a URL
            nxt = following.lstrip()
            if nxt and nxt[0].islower():
                continue  # a lower-case continuation: not a sentence end
            if match.group(1) == ".":
                word = re.search(r"([\w.]+)$", text[start:match.start()])
                token = word.group(1).lower() if word else ""
                if token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha()):
                    continue
        sentence = text[start:end].strip()
        if sentence:
            sentences.append(sentence)
        start = end
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


class NaturalLanguageTextSplitterComponent(_LCSplitter):
    type_name = "NaturalLanguageTextSplitter"
    display_name = "Natural Language Text Splitter"
    description = "Split text based on natural language boundaries, optimized for a specified language."
    icon = "LangChain"
    inputs = (
        Input("chunk_size", "Chunk Size", "int", 1000, info="The maximum number of characters in each chunk after splitting.",
              input_kind="IntInput"),
        Input("chunk_overlap", "Chunk Overlap", "int", 200, info="The number of characters that overlap between consecutive chunks.",
              input_kind="IntInput"),
        Input("data_input", "Input", "other", "", input_types=_DATA_IN, required=True, info="The text data to be split.",
              input_kind="JSONInput"),
        Input("separator", "Separator", "str", "", input_types=_MSG,
              info='The character(s) to use as a delimiter when splitting text.\nDefaults to "\\n\\n" if left empty.',
              input_kind="MessageTextInput"),
        Input("language", "Language", "str", "", input_types=_MSG,
              info='The language of the text. Default is "English". Supports multiple languages for better text boundary recognition.',
              input_kind="MessageTextInput"),
    )

    def _splitter(self) -> Any:
        separator = _unescape(to_text(self.param("separator", ""))) or "\n\n"
        size, overlap = self._sizes()
        merger = CharacterSplitter(size, overlap, separator)

        class _Sentences:
            def split(self, text: str) -> list[str]:
                return merger._merge(split_sentences(text), separator)

        return _Sentences()


# ---- HTML Link Extractor ---------------------------------------------------------------------------


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href is not None:
                self.hrefs.append(href.strip())


def extract_links(html: str, base_url: str, kind: str = "hyperlink", drop_fragments: bool = True) -> list[dict[str, str]]:
    """Links of a page as LangChain's graph links: one `out` link per distinct http(s) target of
    an `<a href>` (relative ones resolved against `base_url`, the page itself left out), and one
    `in` link naming the page (when its URL is known)."""
    page = urldefrag(base_url).url if drop_fragments and base_url else base_url
    parser = _Anchors()
    parser.feed(html)
    parser.close()
    targets: list[str] = []
    for href in parser.hrefs:
        if urlsplit(href).scheme not in ("http", "https", ""):
            continue  # mailto:, javascript:, tel:...
        url = urljoin(page, href) if page else href
        if drop_fragments:
            url = urldefrag(url).url
        if url and url != page and url not in targets:
            targets.append(url)
    links = [{"kind": kind, "direction": "out", "tag": url} for url in sorted(targets)]
    if page:
        links.append({"kind": kind, "direction": "in", "tag": page})
    return links


class HtmlLinkExtractorComponent(_LCSplitter):
    """Each input document comes back with `links` added to its fields; its page URL is its
    `source` (as LangChain reads it), else its `url`."""

    type_name = "HtmlLinkExtractor"
    display_name = "HTML Link Extractor"
    description = "Extract hyperlinks from HTML content."
    icon = "LangChain"
    inputs = (
        Input("kind", "Kind of edge", "str", "hyperlink", input_kind="StrInput"),
        Input("drop_fragments", "Drop URL fragments", "bool", True, input_kind="BoolInput"),
        Input("data_input", "Input", "other", "", input_types=_DATA_IN, required=True,
              info="The texts from which to extract links.", input_kind="JSONInput"),
    )
    outputs = (Output("data", "transform_data", ("JSON",), "JSON"),)

    async def transform_data(self) -> list[Data]:
        kind = to_text(self.param("kind", "hyperlink")) or "hyperlink"
        drop = to_bool(self.param("drop_fragments", True))
        out = []
        for text, metadata in _documents(self.params.get("data_input")):
            base = to_text(metadata.get("source") or metadata.get("url") or "")
            links = extract_links(text, base, kind, drop)
            out.append(Data(data={**metadata, "links": [*metadata.get("links", []), *links], "text": text}))
        self.status = out
        return out
