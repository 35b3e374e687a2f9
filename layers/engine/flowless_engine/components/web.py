"""URL: fetch web pages (optionally following links) through the engine's guarded HTTP client.

Every request goes through `ctx.http`, which refuses metadata, link-local and (unless
configured) private and loopback addresses on every hop. HTML is reduced to text with the
standard library's parser.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

from flowless_engine.components.base import Component, Input, Output, Tool, to_bool, to_int, to_text
from flowless_engine.components.processing import clean_string
from flowless_engine.errors import BlockedURLError
from flowless_engine.http import HttpError, HttpTimeout
from flowless_engine.schema import DataFrame, Message

DEFAULT_TIMEOUT_S = 30
MAX_DEPTH = 5
# A crawl stops once this many pages were fetched, whatever the depth allows.
MAX_PAGES = 100
_URLS_INFO = "Enter one or more URLs to crawl recursively, by clicking the '+' button."
_SKIPPED_TAGS = {"script", "style", "template"}
_BLOCK_TAGS = {"p", "div", "section", "article", "header", "footer", "main", "nav", "aside", "table", "tr", "ul", "ol", "blockquote", "form"}


@dataclass
class Page:
    text: str = ""  # all text nodes, as BeautifulSoup's get_text() joins them
    markdown: str = ""
    title: str = ""
    description: str = ""
    language: str = ""
    links: list[str] = field(default_factory=list)


class _PageParser(HTMLParser):
    """One pass over an HTML document collecting text, a Markdown rendering, metadata and links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self._text: list[str] = []
        self._md: list[str] = []
        self._skip = 0
        self._in_title = False
        self._in_pre = 0
        self._hrefs: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag in _SKIPPED_TAGS:
            self._skip += 1
        elif tag == "title":
            self._in_title = True
        elif tag == "html" and attr.get("lang"):
            self.page.language = attr["lang"] or ""
        elif tag == "meta" and (attr.get("name") or "").lower() == "description":
            self.page.description = attr.get("content") or ""
        elif tag == "a":
            if attr.get("href"):
                self.page.links.append(attr["href"] or "")
            self._hrefs.append(attr.get("href"))
            self._md.append("[")
        elif re.fullmatch(r"h[1-6]", tag):
            self._md.append("\n\n" + "#" * int(tag[1]) + " ")
        elif tag == "li":
            self._md.append("\n- ")
        elif tag == "br":
            self._md.append("  \n")
        elif tag in ("strong", "b"):
            self._md.append("**")
        elif tag in ("em", "i"):
            self._md.append("*")
        elif tag == "pre":
            self._in_pre += 1
            self._md.append("\n\n```\n")
        elif tag == "code" and not self._in_pre:
            self._md.append("`")
        elif tag in _BLOCK_TAGS:
            self._md.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag == "title":
            self._in_title = False
        elif tag == "a" and self._hrefs:
            href = self._hrefs.pop()
            self._md.append(f"]({href})" if href else "]")
        elif re.fullmatch(r"h[1-6]", tag) or tag in _BLOCK_TAGS:
            self._md.append("\n\n")
        elif tag in ("strong", "b"):
            self._md.append("**")
        elif tag in ("em", "i"):
            self._md.append("*")
        elif tag == "pre":
            self._in_pre = max(0, self._in_pre - 1)
            self._md.append("\n```\n\n")
        elif tag == "code" and not self._in_pre:
            self._md.append("`")

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._in_title:
            self.page.title += data
        self._text.append(data)
        self._md.append(data if self._in_pre else re.sub(r"\s+", " ", data))

    def close(self) -> None:
        super().close()
        self.page.text = "".join(self._text)
        markdown = re.sub(r"[ \t]+\n", "\n", "".join(self._md))
        self.page.markdown = re.sub(r"\n{3,}", "\n\n", markdown).strip()
        self.page.title = self.page.title.strip()


def parse_html(html: str) -> Page:
    parser = _PageParser()
    parser.feed(html)
    parser.close()
    return parser.page


def normalize_url(url: str) -> str:
    """Add https:// when the scheme is missing (as Langflow does) and check the URL's shape."""
    url = url.strip()
    if not url.startswith(("http://", "https://")):
        url = "https://" + url
    try:
        parts = urlsplit(url)
        well_formed = bool(parts.hostname) and (parts.port or 0) >= 0  # .port raises when malformed
    except ValueError:
        well_formed = False
    if not well_formed or any(c.isspace() for c in url):
        raise ValueError(f"Invalid URL: {url}")
    return url


class URLComponent(Component):
    type_name = "URLComponent"
    aliases = ("URL",)
    display_name = "URL"
    description = "Fetch content from one or more web pages, following links recursively."
    category = "data"
    icon = "layout-template"
    inputs = (
        Input("urls", "URLs", "str", "", input_types=("Message",), is_list=True, info=_URLS_INFO, input_kind="MessageTextInput"),
        Input("max_depth", "Depth", "slider", 1, input_kind="SliderInput"),
        Input("prevent_outside", "Prevent Outside", "bool", True, advanced=True, input_kind="BoolInput"),
        Input("use_async", "Use Async", "bool", True, advanced=True, input_kind="BoolInput"),
        Input("follow_redirects", "Follow Redirects", "bool", True, advanced=True, input_kind="BoolInput"),
        Input("format", "Output Format", "str", "Text", options=("Text", "HTML", "Markdown"), advanced=True, input_kind="DropdownInput"),
        Input("timeout", "Timeout", "int", DEFAULT_TIMEOUT_S, advanced=True, input_kind="IntInput"),
        Input("headers", "Headers", "table", [{"key": "User-Agent", "value": "flowless"}], input_types=("DataFrame", "Table"), advanced=True, input_kind="TableInput"),
        Input("filter_text_html", "Filter Text/HTML", "bool", True, advanced=True, input_kind="BoolInput"),
        Input("continue_on_failure", "Continue on Failure", "bool", True, advanced=True, input_kind="BoolInput"),
        Input("check_response_status", "Check Response Status", "bool", False, advanced=True, input_kind="BoolInput"),
        Input("autoset_encoding", "Autoset Encoding", "bool", True, advanced=True, input_kind="BoolInput"),
    )
    outputs = (
        Output("page_results", "fetch_content", ("DataFrame",), "Extracted Pages"),
        Output("raw_results", "fetch_content_as_message", ("Message",), "Raw Content"),
    )

    async def fetch_content(self) -> DataFrame:
        return DataFrame(rows=await self.fetch_rows(self.params.get("urls")))

    async def fetch_content_as_message(self) -> Message:
        rows = await self.fetch_rows(self.params.get("urls"))
        return Message(text="\n\n".join(row["text"] for row in rows))

    def as_tools(self) -> list[Tool]:
        name, description = self.tool_metadata("fetch_content", self.description)

        async def run(arguments: dict[str, Any]) -> str:
            try:
                rows = await self.fetch_rows(arguments.get("urls"))
            except (ValueError, BlockedURLError) as exc:
                return f"Error: {exc}"
            return json.dumps(rows, ensure_ascii=False)

        parameters = {
            "type": "object",
            "properties": {"urls": {"type": "array", "items": {"type": "string"}, "description": _URLS_INFO}},
            "required": ["urls"],
        }
        return [Tool(name=name, description=description, parameters=parameters, run=run, source_id=self.id)]

    # ---- fetching ------------------------------------------------------------------------

    async def fetch_rows(self, urls_value: Any) -> list[dict[str, str]]:
        """One row per fetched page: text, url, title, description, content_type, language."""
        keep_going = to_bool(self.param("continue_on_failure", True))
        urls, first_error = self._valid_urls(urls_value, keep_going)
        if not urls:
            raise first_error or ValueError("No valid URLs provided.")
        rows: list[dict[str, str]] = []
        blocked: BlockedURLError | None = None
        for url in urls:
            try:
                await self._crawl(url, 1, set(), rows)
            except BlockedURLError as exc:
                if not keep_going:
                    raise
                blocked = blocked or exc
                self.log(f"Skipping {url}: {exc}")
            except (HttpError, HttpTimeout) as exc:
                if not keep_going:
                    raise ValueError(f"Error loading documents from {url}: {exc}") from exc
                self.log(f"Error loading documents from {url}: {exc}")
        if not rows:
            # A refusal by the network guard is the real reason: say so rather than "nothing loaded".
            raise blocked or ValueError("Error loading documents: no documents were successfully loaded from any URL")
        return rows

    def _valid_urls(self, value: Any, keep_going: bool) -> tuple[list[str], ValueError | None]:
        raw = value if isinstance(value, (list, tuple)) else [value]
        urls: list[str] = []
        first_error: ValueError | None = None
        for item in raw:
            text = to_text(item).strip()
            if not text:
                continue
            try:
                url = normalize_url(text)
            except ValueError as exc:
                if not keep_going:
                    raise
                first_error = first_error or exc
                self.log(f"Skipping invalid URL {text}: {exc}")
                continue
            if url not in urls:
                urls.append(url)
        return urls, first_error

    async def _crawl(self, url: str, depth: int, visited: set[str], rows: list[dict[str, str]]) -> None:
        """Fetch `url`, then (depth allowing) the pages it links to, depth first like Langflow."""
        if url in visited or len(rows) >= MAX_PAGES:
            return
        visited.add(url)
        fetched = await self._fetch(url)
        if fetched is None:
            return
        page, content_type, html = fetched
        rows.append(self._row(url, page, content_type, html))
        if depth >= min(MAX_DEPTH, max(1, to_int(self.param("max_depth", 1), 1))):
            return
        origin = urlsplit(url).netloc
        for href in page.links:
            link = urldefrag(urljoin(url, href))[0]
            if urlsplit(link).scheme not in ("http", "https") or link in visited:
                continue
            if to_bool(self.param("prevent_outside", True)) and urlsplit(link).netloc != origin:
                continue
            try:
                await self._crawl(link, depth + 1, visited, rows)
            except (BlockedURLError, HttpError, HttpTimeout) as exc:
                if not to_bool(self.param("continue_on_failure", True)):
                    raise
                self.log(f"Skipping {link}: {exc}")

    async def _fetch(self, url: str) -> tuple[Page, str, str] | None:
        timeout = to_int(self.param("timeout", DEFAULT_TIMEOUT_S), DEFAULT_TIMEOUT_S)
        response = await self.ctx.http.request(
            "GET",
            url,
            headers=self._headers(),
            timeout=float(timeout) if timeout > 0 else None,
            raise_for_status=to_bool(self.param("check_response_status", False)),
        )
        content_type = response.headers.get("content-type", "").lower()
        if to_bool(self.param("filter_text_html", True)) and "text/css" in content_type:
            self.log(f"Skipping CSS file: {url}")
            return None
        html = _decode(response.content, content_type)
        return parse_html(html), content_type, html

    def _row(self, url: str, page: Page, content_type: str, html: str) -> dict[str, str]:
        fmt = to_text(self.param("format", "Text"))
        content = html if fmt == "HTML" else page.markdown if fmt == "Markdown" else page.text
        return {
            "text": clean_string(content),
            "url": url,
            "title": page.title,
            "description": page.description,
            "content_type": content_type,
            "language": page.language,
        }

    def _headers(self) -> dict[str, str]:
        """The Headers table: rows of {key, value} (from the field or a DataFrame edge)."""
        value = self.params.get("headers")
        rows = value.rows if isinstance(value, DataFrame) else value
        if isinstance(rows, dict):
            rows = [{"key": k, "value": v} for k, v in rows.items()]
        headers: dict[str, str] = {}
        for row in rows if isinstance(rows, list) else []:
            if isinstance(row, dict) and row.get("key") and row.get("value") is not None:
                headers[str(row["key"])] = str(row["value"])
        return headers


def _decode(content: bytes, content_type: str) -> str:
    match = re.search(r"charset=[\"']?([\w.:-]+)", content_type)
    if match:
        try:
            return content.decode(match.group(1), errors="replace")
        except LookupError:
            pass
    return content.decode("utf-8", errors="replace")
