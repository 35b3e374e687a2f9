"""Web search, news, RSS and the hosted search APIs (Tavily, SerpAPI, Serper, SearchAPI, arXiv,
Wikipedia, DuckDuckGo).

Every request goes through the guarded HTTP client; the hosted endpoints can be replaced per
service (`EngineSettings.service_urls`: duckduckgo, google_news, tavily, serpapi, serper,
searchapi, arxiv, wikipedia). Feeds are parsed with the standard library's XML parser after
refusing any DTD (no entity expansion); HTML with the standard library's HTML parser.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, quote_plus, unquote, urlsplit

from flowless_engine.components.apis import FetchedRows, api_key, call_api, call_json, service_url
from flowless_engine.components.base import Component, Input, Output, to_bool, to_int, to_text
from flowless_engine.components.toolmode import ToolModeMixin
from flowless_engine.errors import BlockedURLError, ConfigurationError, FlowError
from flowless_engine.http import HttpError, HttpTimeout
from flowless_engine.schema import Data, DataFrame, Message

_MSG = ("Message",)
DEFAULT_MAX_RESULTS = 5
DEFAULT_MAX_CONTENT_LENGTH = 2000
_TRUNCATED = "... [truncated]"
_BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"


def _tool_output() -> Output:
    return Output("component_as_tool", "to_toolkit", ("Tool",), "Toolset")


# ---- shared parsing helpers ---------------------------------------------------------------


def truncate(text: str, limit: int | None) -> str:
    """Keep at most `limit` characters, marking the cut (None: no limit)."""
    if limit is None or len(text) <= limit:
        return text
    if limit < len(_TRUNCATED):
        return text[: max(0, limit - 1)] + "…"
    return text[: limit - len(_TRUNCATED)] + _TRUNCATED


def limit_value(raw: Any, default: int) -> int | None:
    """A size limit field: blank/invalid → default; an explicit 0 → no limit (None)."""
    text = to_text(raw).strip() if raw is not None and not isinstance(raw, bool) else ""
    try:
        value = int(float(text)) if text else default
    except ValueError:
        value = default
    value = default if value < 0 else value
    return None if value == 0 else value


class _TextNodes(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style", "template"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template"):
            self._skip = max(0, self._skip - 1)

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.parts.append(data.strip())


def html_text(html: str) -> str:
    """Visible text of an HTML document: each text node stripped, joined by one space."""
    parser = _TextNodes()
    parser.feed(html)
    parser.close()
    return " ".join(parser.parts)


def parse_feed(content: bytes) -> list[dict[str, str]]:
    """Items of an RSS 2.0 / RDF / Atom feed: title, link, published, summary (raw text)."""
    import xml.etree.ElementTree as ET

    head = content[:4096].lower()
    if b"<!doctype" in head or b"<!entity" in content.lower():
        raise ValueError("Invalid XML response: feeds with a DTD are refused")
    try:
        root = ET.fromstring(content)
    except ET.ParseError as exc:
        raise ValueError(f"Invalid XML response: {exc}") from exc

    def local(tag: str) -> str:
        return tag.rsplit("}", 1)[-1]

    def child(element: Any, *names: str) -> Any:
        for node in element:
            if local(node.tag) in names:
                return node
        return None

    items: list[dict[str, str]] = []
    for element in root.iter():
        kind = local(element.tag)
        if kind not in ("item", "entry"):
            continue
        title = child(element, "title")
        link = child(element, "link")
        link_text = (link.text or "").strip() if link is not None else ""
        if link is not None and not link_text:
            link_text = link.get("href", "")
        published = child(element, "pubDate", "published", "updated", "date")
        summary = child(element, "description", "summary", "content")
        items.append({
            "title": "".join(title.itertext()) if title is not None else "",
            "link": link_text,
            "published": "".join(published.itertext()) if published is not None else "",
            "summary": "".join(summary.itertext()) if summary is not None else "",
        })
    return items


class _DuckDuckGoResults(HTMLParser):
    """The result blocks of DuckDuckGo's HTML endpoint: title link (`a.result__a`) and snippet."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.results: list[dict[str, str]] = []
        self._field: str | None = None
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        classes = (attr.get("class") or "").split()
        if tag == "a" and "result__a" in classes:
            self.results.append({"title": "", "href": attr.get("href") or "", "snippet": ""})
            self._field, self._depth = "title", 1
        elif tag in ("a", "div", "td") and "result__snippet" in classes and self.results:
            self._field, self._depth = "snippet", 1
        elif self._field:
            self._depth += 1

    def handle_endtag(self, tag: str) -> None:
        if self._field:
            self._depth -= 1
            if self._depth <= 0:
                self._field = None

    def handle_data(self, data: str) -> None:
        if self._field and self.results:
            self.results[-1][self._field] += data


def duckduckgo_link(href: str) -> str:
    """The target of DuckDuckGo's redirect link (`/l/?uddg=<url>`)."""
    target = parse_qs(urlsplit(href).query).get("uddg", [""])[0]
    link = unquote(target) if target else href
    return "https:" + link if link.startswith("//") else link


async def duckduckgo_results(component: Component, query: str, timeout: float) -> list[dict[str, str]]:
    """(title, link, snippet) of DuckDuckGo's HTML results page."""
    base = service_url(component, "duckduckgo", "https://html.duckduckgo.com")
    response = await component.ctx.http.request(
        "GET", f"{base}/html/?q={quote_plus(query)}&kl=us-en", headers={"User-Agent": _BROWSER_UA}, timeout=timeout)
    if "text/html" not in response.headers.get("content-type", "").lower():
        return []
    parser = _DuckDuckGoResults()
    parser.feed(response.text)
    parser.close()
    return [{"title": r["title"].strip(), "link": duckduckgo_link(r["href"]), "snippet": re.sub(r"\s+", " ", r["snippet"]).strip()}
            for r in parser.results]


def _error_frame(columns: tuple[str, ...], message: str, title: str = "Error") -> DataFrame:
    row = {c: "" for c in columns}
    row["title"] = title
    row[columns[-1]] = message
    return DataFrame(rows=[row])


# ---- Web / News / RSS -----------------------------------------------------------------------

_NEWS_COLUMNS = ("title", "link", "published", "summary")


class _NewsMixin:
    async def _news(self: Any, query: str, max_results: int | None, max_length: int | None) -> DataFrame:
        hl = to_text(self.param("hl", "")).strip() or "en-US"
        gl = to_text(self.param("gl", "")).strip() or "US"
        topic = to_text(self.param("topic", "")).strip()
        location = to_text(self.param("location", "")).strip()
        ceid = f"{gl}:{hl.split('-')[0]}"
        base = service_url(self, "google_news", "https://news.google.com")
        tail = f"hl={quote_plus(hl)}&gl={quote_plus(gl)}&ceid={quote_plus(ceid)}"
        if topic:
            url = f"{base}/rss/headlines/section/topic/{quote_plus(topic.upper())}?{tail}"
        elif location:
            url = f"{base}/rss/headlines/section/geo/{quote_plus(location)}?{tail}"
        elif query:
            url = f"{base}/rss/search?q={quote_plus(query)}&{tail}"
        else:
            self.status = "No search query, topic, or location provided."
            return _error_frame(_NEWS_COLUMNS, "No search parameters provided")
        try:
            response = await self.ctx.http.request("GET", url, timeout=self._timeout())
            items = parse_feed(response.content)
        except (HttpError, HttpTimeout, ValueError) as exc:
            self.status = f"Failed to fetch news: {exc}"
            return _error_frame(_NEWS_COLUMNS, str(exc))
        if not items:
            self.status = "No news articles found."
            return DataFrame(rows=[{"title": "No articles found", "link": "", "published": "", "summary": ""}])
        rows = []
        for item in items[:max_results] if max_results is not None else items:
            rows.append({
                "title": truncate(html_text(item["title"]), max_length),
                "link": truncate(item["link"], max_length),
                "published": truncate(item["published"], max_length),
                "summary": truncate(html_text(item["summary"]), max_length),
            })
        return DataFrame(rows=rows)

    async def _rss(self: Any, feed_url: str, max_results: int | None, max_length: int | None) -> DataFrame:
        if not feed_url:
            return _error_frame(_NEWS_COLUMNS, "No RSS URL provided")
        try:
            url = feed_url if feed_url.startswith(("http://", "https://")) else "https://" + feed_url
            response = await self.ctx.http.request("GET", url, timeout=self._timeout())
            if not response.content.strip():
                raise ValueError("Empty response received")
            items = parse_feed(response.content)
        except BlockedURLError as exc:
            self.status = f"Failed to fetch RSS: {exc.message}"
            return _error_frame(_NEWS_COLUMNS, f"SSRF Protection: {exc.message}")
        except (HttpError, HttpTimeout, ValueError) as exc:
            self.status = f"Failed to fetch RSS: {exc}"
            return _error_frame(_NEWS_COLUMNS, str(exc))
        chosen = items[:max_results] if max_results is not None else items
        rows = [{k: truncate(item[k], max_length) for k in _NEWS_COLUMNS} for item in chosen]
        self.log(f"Fetched {len(rows)} articles.")
        return DataFrame(rows=rows)

    def _timeout(self: Any) -> float:
        value = to_int(self.param("timeout", 5), 5)
        return float(value) if value > 0 else 5.0


_NEWS_INPUTS = (
    Input("hl", "Language (hl)", "str", "", advanced=True, info="Language code, e.g. en-US, fr, de. Default: en-US.", input_kind="MessageTextInput"),
    Input("gl", "Country (gl)", "str", "", advanced=True, info="Country code, e.g. US, FR, DE. Default: US.", input_kind="MessageTextInput"),
    Input("ceid", "Country:Language (ceid)", "str", "US:en", advanced=True, info="e.g. US:en, FR:fr. Default: US:en.", input_kind="MessageTextInput"),
    Input("topic", "Topic", "str", "", advanced=True, info="One of: WORLD, NATION, BUSINESS, TECHNOLOGY, ENTERTAINMENT, SCIENCE, SPORTS, HEALTH.", input_kind="MessageTextInput"),
    Input("location", "Location (Geo)", "str", "", advanced=True, info="City, state, or country for location-based news.", input_kind="MessageTextInput"),
    Input("timeout", "Timeout", "int", 5, advanced=True, info="Timeout for the request in seconds.", input_kind="IntInput"),
)


class UnifiedWebSearchComponent(ToolModeMixin, _NewsMixin, Component):
    type_name = "UnifiedWebSearch"
    display_name = "Web Search"
    description = "Search the web, news, or RSS feeds."
    category = "data_source"
    icon = "search"
    inputs = (
        Input("search_mode", "Search Mode", "tab", "Web", options=("Web", "News", "RSS"),
              info="Choose search mode: Web (DuckDuckGo), News (Google News), or RSS (Feed Reader)", input_kind="TabInput"),
        Input("query", "Search Query", "str", "", input_types=_MSG, required=True, info="Search keywords for news articles.", input_kind="MessageTextInput"),
        *_NEWS_INPUTS,
        Input("max_results", "Max Results", "int", DEFAULT_MAX_RESULTS, advanced=True,
              info="Maximum number of results to return. Set to 0 to return every result.", input_kind="IntInput"),
        Input("max_content_length", "Max Content Length", "int", DEFAULT_MAX_CONTENT_LENGTH, advanced=True,
              info="Maximum number of characters kept from each scraped page or feed field. Set to 0 to keep the full text.", input_kind="IntInput"),
    )
    outputs = (Output("results", "perform_search", ("Table",), "Results"),)
    tool_fields = {
        "query": ("string", "Search keywords (Web, News) or the feed URL (RSS)."),
        "search_mode": ("string", "One of Web, News, RSS."),
    }

    async def perform_search(self) -> DataFrame:
        mode = to_text(self.param("search_mode", "Web")).strip() or "Web"
        max_results = limit_value(self.params.get("max_results"), DEFAULT_MAX_RESULTS)
        max_length = limit_value(self.params.get("max_content_length"), DEFAULT_MAX_CONTENT_LENGTH)
        query = to_text(self.param("query", "")).strip()
        if mode == "News":
            return await self._news(query, max_results, max_length)
        if mode == "RSS":
            return await self._rss(query, max_results, max_length)
        return await self._web(query, max_results, max_length)

    async def _web(self, query: str, max_results: int | None, max_length: int | None) -> DataFrame:
        query = re.sub(r"[<>\"']", "", query)
        if not query:
            raise ValueError("Empty search query")
        columns = ("title", "link", "snippet", "content")
        try:
            hits = await duckduckgo_results(self, query, self._timeout())
        except (HttpError, HttpTimeout) as exc:
            self.status = f"Failed request: {exc}"
            return _error_frame(columns, str(exc))
        if not hits:
            self.status = "No results found"
            return _error_frame(columns, "No results found")
        rows = []
        for hit in hits[:max_results] if max_results is not None else hits:
            link = hit["link"]
            try:
                page = await self.ctx.http.request("GET", link if "://" in link else "https://" + link,
                                                   headers={"User-Agent": _BROWSER_UA}, timeout=self._timeout())
                content = html_text(page.text)
            except BlockedURLError as exc:
                content = f"(Blocked by SSRF protection: {exc.message})"
            except (HttpError, HttpTimeout, ValueError) as exc:
                content = f"(Failed to fetch: {exc})"
            rows.append({"title": hit["title"], "link": link, "snippet": hit["snippet"], "content": truncate(content, max_length)})
        return DataFrame(rows=rows)


class WebSearchNoAPIComponent(UnifiedWebSearchComponent):
    """Langflow 1.4–1.5's Web Search (`WebSearchNoAPI`): DuckDuckGo only, every result, each page's
    full text (the same web mode, without the later limits)."""

    type_name = "WebSearchNoAPI"
    description = "Performs a basic DuckDuckGo search (HTML scraping). May be subject to rate limits."
    inputs = (
        Input("query", "Search Query", "str", "", input_types=_MSG, required=True, info="Keywords to search for.", input_kind="MessageTextInput"),
        Input("timeout", "Timeout", "int", 5, advanced=True, info="Timeout for the web search request.", input_kind="IntInput"),
    )
    outputs = (Output("results", "perform_search", ("Table",), "Search Results"),)
    tool_fields = {"query": ("string", "Keywords to search for.")}

    async def perform_search(self) -> DataFrame:
        return await self._web(to_text(self.param("query", "")).strip(), None, None)


class NewsSearchComponent(ToolModeMixin, _NewsMixin, Component):
    type_name = "NewsSearch"
    display_name = "News Search"
    description = "Searches Google News via RSS. Returns clean article data."
    category = "data_source"
    icon = "newspaper"
    inputs = (
        Input("query", "Search Query", "str", "", input_types=_MSG, required=True, info="Search keywords for news articles.", input_kind="MessageTextInput"),
        *_NEWS_INPUTS,
    )
    outputs = (Output("articles", "search_news", ("Table",), "News Articles"), _tool_output())
    tool_fields = {"query": ("string", "Search keywords for news articles.")}

    async def search_news(self) -> DataFrame:
        return await self._news(to_text(self.param("query", "")).strip(), None, None)


class RSSReaderComponent(ToolModeMixin, _NewsMixin, Component):
    type_name = "RSSReaderSimple"
    display_name = "RSS Reader"
    description = "Fetches and parses an RSS feed."
    category = "data_source"
    icon = "rss"
    inputs = (
        Input("rss_url", "RSS Feed URL", "str", "", input_types=_MSG, required=True, info="URL of the RSS feed to parse.", input_kind="MessageTextInput"),
        Input("timeout", "Timeout", "int", 5, advanced=True, info="Timeout for the RSS feed request.", input_kind="IntInput"),
    )
    outputs = (Output("articles", "read_rss", ("Table",), "Articles"), _tool_output())
    tool_fields = {"rss_url": ("string", "URL of the RSS feed to parse.")}

    async def read_rss(self) -> DataFrame:
        return await self._rss(to_text(self.param("rss_url", "")).strip(), None, None)


class DuckDuckGoSearchComponent(ToolModeMixin, FetchedRows, Component):
    type_name = "DuckDuckGoSearchComponent"
    aliases = ("DuckDuckGoSearch",)
    display_name = "DuckDuckGo Search"
    description = "Search the web using DuckDuckGo with customizable result limits"
    category = "tools"
    icon = "DuckDuckGo"
    inputs = (
        Input("input_value", "Search Query", "str", "", input_types=_MSG, required=True, info="The search query to execute with DuckDuckGo", input_kind="MessageTextInput"),
        Input("max_results", "Max Results", "int", 5, advanced=True, info="Maximum number of search results to return", input_kind="IntInput"),
        Input("max_snippet_length", "Max Snippet Length", "int", 100, advanced=True, info="Maximum length of each result snippet", input_kind="IntInput"),
    )
    outputs = (
        Output("dataframe", "fetch_content_dataframe", ("Table",), "Table"),
        Output("api_run_model", "run_model", ("Data",), "Data"),
        Output("api_build_tool", "build_tool", ("Tool",), "Tool"),
        _tool_output(),
    )
    tool_fields = {"input_value": ("string", "The search query to execute with DuckDuckGo")}
    tool_outputs = ("dataframe",)

    async def fetch_content(self) -> list[Data]:
        query = to_text(self.param("input_value", "")).strip()
        if not query:
            raise ValueError("Empty search query")
        try:
            hits = await duckduckgo_results(self, query, 30.0)
        except HttpTimeout as exc:
            from flowless_engine.errors import ProviderTimeoutError

            raise ProviderTimeoutError(f"DuckDuckGo did not answer in time: {exc}", provider="DuckDuckGo") from exc
        except HttpError as exc:
            from flowless_engine.components.apis import api_error

            raise api_error("DuckDuckGo", exc) from exc
        size = to_int(self.param("max_snippet_length", 100), 100)
        rows = [Data(data={"text": h["snippet"][:size], "title": h["title"], "link": h["link"], "snippet": h["snippet"][:size]})
                for h in hits[: to_int(self.param("max_results", 5), 5)]]
        self.status = rows
        return rows


# ---- hosted search APIs -----------------------------------------------------------------------


def _domains(value: Any) -> list[str]:
    return [d.strip() for d in to_text(value).split(",") if d.strip()]


def dict_param(value: Any) -> dict[str, Any]:
    """A DictInput value: a dict, or a list of dicts (merged); empty keys dropped."""
    items = value if isinstance(value, list) else [value]
    merged: dict[str, Any] = {}
    for item in items:
        if isinstance(item, Data):
            item = item.data
        if isinstance(item, dict):
            merged.update({str(k): v for k, v in item.items() if str(k).strip()})
    return merged


class TavilySearchComponent(ToolModeMixin, FetchedRows, Component):
    type_name = "TavilySearchComponent"
    aliases = ("TavilyAISearch", "TavilySearch")
    display_name = "Tavily Search API"
    description = "**Tavily Search** is a search engine optimized for LLMs and RAG, aimed at efficient, quick, and persistent search results."
    category = "tools"
    icon = "TavilyIcon"
    inputs = (
        Input("api_key", "Tavily API Key", "str", "", required=True, password=True, load_from_db=True, info="Your Tavily API Key.", input_kind="SecretStrInput"),
        Input("query", "Search Query", "str", "", input_types=_MSG, info="The search query you want to execute with Tavily.", input_kind="MessageTextInput"),
        Input("search_depth", "Search Depth", "str", "advanced", options=("basic", "advanced"), advanced=True, input_kind="DropdownInput"),
        Input("chunks_per_source", "Chunks Per Source", "int", 3, advanced=True, input_kind="IntInput"),
        Input("topic", "Search Topic", "str", "general", options=("general", "news"), advanced=True, input_kind="DropdownInput"),
        Input("days", "Days", "int", 7, advanced=True, input_kind="IntInput"),
        Input("max_results", "Max Results", "int", 5, advanced=True, input_kind="IntInput"),
        Input("include_answer", "Include Answer", "bool", True, advanced=True, input_kind="BoolInput"),
        Input("time_range", "Time Range", "str", None, options=("day", "week", "month", "year"), advanced=True, input_kind="DropdownInput"),
        Input("include_images", "Include Images", "bool", True, advanced=True, input_kind="BoolInput"),
        Input("include_domains", "Include Domains", "str", "", advanced=True, input_kind="MessageTextInput"),
        Input("exclude_domains", "Exclude Domains", "str", "", advanced=True, input_kind="MessageTextInput"),
        Input("include_raw_content", "Include Raw Content", "bool", False, advanced=True, input_kind="BoolInput"),
    )
    outputs = (
        Output("dataframe", "fetch_content_dataframe", ("Table",), "Table"),
        Output("api_run_model", "run_model", ("Data",), "Data"),
        Output("api_build_tool", "build_tool", ("Tool",), "Tool"),
        _tool_output(),
    )
    tool_fields = {"query": ("string", "The search query you want to execute with Tavily.")}
    tool_outputs = ("dataframe",)

    async def fetch_content(self) -> list[Data]:
        key = await api_key(self, "api_key" if "tavily_api_key" not in self.params else "tavily_api_key", "Tavily")
        depth = to_text(self.param("search_depth", "advanced")) or "advanced"
        topic = to_text(self.param("topic", "general")) or "general"
        payload: dict[str, Any] = {
            "query": to_text(self.param("query", "")),
            "search_depth": depth,
            "topic": topic,
            "max_results": to_int(self.param("max_results", 5), 5),
            "include_images": to_bool(self.param("include_images", True)),
            "include_answer": to_bool(self.param("include_answer", True)),
            "include_raw_content": to_bool(self.param("include_raw_content", False)),
            "days": to_int(self.param("days", 7), 7),
        }
        if self.params.get("time_range"):
            payload["time_range"] = to_text(self.params["time_range"])
        if _domains(self.params.get("include_domains")):
            payload["include_domains"] = _domains(self.params.get("include_domains"))
        if _domains(self.params.get("exclude_domains")):
            payload["exclude_domains"] = _domains(self.params.get("exclude_domains"))
        if depth == "advanced" and to_int(self.param("chunks_per_source", 3), 0):
            payload["chunks_per_source"] = to_int(self.param("chunks_per_source", 3), 3)
        base = service_url(self, "tavily", "https://api.tavily.com")
        result = await call_json(self, "Tavily", "POST", f"{base}/search", json_body=payload,
                                 headers={"Authorization": f"Bearer {key}", "accept": "application/json"}, timeout=90)
        rows: list[Data] = []
        if payload["include_answer"] and result.get("answer"):
            rows.append(Data(data={"text": result["answer"]}))
        for hit in result.get("results") or []:
            data = {"title": hit.get("title"), "url": hit.get("url"), "content": hit.get("content", ""), "score": hit.get("score")}
            if payload["include_raw_content"]:
                data["raw_content"] = hit.get("raw_content")
            rows.append(Data(data={"text": hit.get("content", ""), **data}))
        if payload["include_images"] and result.get("images"):
            rows.append(Data(data={"text": "Images found", "images": result["images"]}))
        self.status = rows
        return rows


class TavilyExtractComponent(ToolModeMixin, FetchedRows, Component):
    type_name = "TavilyExtractComponent"
    display_name = "Tavily Extract API"
    description = "**Tavily Extract** extract raw content from URLs."
    category = "tools"
    icon = "TavilyIcon"
    inputs = (
        Input("api_key", "Tavily API Key", "str", "", required=True, password=True, load_from_db=True, input_kind="SecretStrInput"),
        Input("urls", "URLs", "str", "", input_types=_MSG, required=True, info="Comma-separated list of URLs to extract content from.", input_kind="MessageTextInput"),
        Input("extract_depth", "Extract Depth", "str", "basic", options=("basic", "advanced"), advanced=True, input_kind="DropdownInput"),
        Input("include_images", "Include Images", "bool", False, advanced=True, input_kind="BoolInput"),
    )
    outputs = (Output("dataframe", "fetch_content_dataframe", ("Table",), "Table"), _tool_output())
    tool_fields = {"urls": ("string", "Comma-separated list of URLs to extract content from.")}

    async def fetch_content(self) -> list[Data]:
        key = await api_key(self, "api_key", "Tavily")
        urls = _domains(self.param("urls", ""))
        if not urls:
            raise ValueError("No URLs provided")
        payload = {"urls": urls, "extract_depth": to_text(self.param("extract_depth", "basic")) or "basic",
                   "include_images": to_bool(self.param("include_images", False))}
        base = service_url(self, "tavily", "https://api.tavily.com")
        result = await call_json(self, "Tavily", "POST", f"{base}/extract", json_body=payload,
                                 headers={"Authorization": f"Bearer {key}", "accept": "application/json"}, timeout=90)
        rows = [Data(data={"text": r.get("raw_content", ""), "url": r.get("url"), "raw_content": r.get("raw_content"), "images": r.get("images")})
                for r in result.get("results") or []]
        rows += [Data(data={"text": "", "url": r.get("url") if isinstance(r, dict) else r, "error": (r.get("error") if isinstance(r, dict) else "failed")})
                 for r in result.get("failed_results") or []]
        self.status = rows
        return rows


def _organic(result: dict[str, Any], key: str, max_results: int, snippet_len: int) -> list[Data]:
    rows = []
    for hit in (result.get(key) or [])[:max_results]:
        snippet = str(hit.get("snippet") or "")
        rows.append(Data(data={"text": snippet, "title": str(hit.get("title") or "")[:snippet_len],
                               "link": hit.get("link", ""), "snippet": snippet[:snippet_len]}))
    return rows


class _OrganicSearch(ToolModeMixin, FetchedRows, Component):
    """The SerpAPI / SearchAPI shape: input_value, search_params, max_results, max_snippet_length."""

    category = "tools"
    query_field = "input_value"
    tool_fields = {"input_value": ("string", "The search query.")}

    async def _search(self) -> dict[str, Any]:  # pragma: no cover - overridden
        raise NotImplementedError

    async def fetch_content(self) -> list[Data]:
        if not to_text(self.param("input_value", "")).strip():
            raise ValueError(f"{self.display_name}: the search query is empty")
        result = await self._search()
        rows = _organic(result, "organic_results", to_int(self.param("max_results", 5), 5), to_int(self.param("max_snippet_length", 100), 100))
        self.status = rows
        return rows

    async def fetch_content_text(self) -> Message:
        rows = await self.fetch_content()
        return Message(text="\n".join(f"{d.data['title']}\n{d.data['link']}\n{d.data['snippet']}\n" for d in rows))


class SerpAPIComponent(_OrganicSearch):
    type_name = "SerpAPI"
    display_name = "Serp Search API"
    description = "Call Serp Search API with result limiting"
    icon = "SerpSearch"
    inputs = (
        Input("serpapi_api_key", "SerpAPI API Key", "str", "", required=True, password=True, load_from_db=True, input_kind="SecretStrInput"),
        Input("input_value", "Input", "str", "", input_types=_MSG, multiline=True, input_kind="MultilineInput"),
        Input("search_params", "Parameters", "dict", {}, advanced=True, is_list=True, input_kind="DictInput"),
        Input("max_results", "Max Results", "int", 5, advanced=True, input_kind="IntInput"),
        Input("max_snippet_length", "Max Snippet Length", "int", 100, advanced=True, input_kind="IntInput"),
    )
    outputs = (
        Output("api_run_model", "run_model", ("JSON",), "JSON"),
        Output("api_build_tool", "build_tool", ("Tool",), "Tool"),
        Output("data", "fetch_content", ("JSON",), "JSON"),
        Output("text", "fetch_content_text", ("Message",), "Text"),
        _tool_output(),
    )
    tool_outputs = ("api_run_model",)

    async def _search(self) -> dict[str, Any]:
        key = await api_key(self, "serpapi_api_key", "SerpAPI")
        params = {"engine": "google", **dict_param(self.params.get("search_params")), "q": to_text(self.param("input_value", "")), "api_key": key}
        base = service_url(self, "serpapi", "https://serpapi.com")
        return await call_json(self, "SerpAPI", "GET", f"{base}/search", params=params)


class SearchAPIComponent(_OrganicSearch):
    type_name = "SearchAPI"
    display_name = "Search API"
    description = "Call the searchapi.io API with result limiting"
    icon = "SearchAPI"
    inputs = (
        Input("engine", "Engine", "str", "google", input_types=_MSG, input_kind="MessageTextInput"),
        Input("api_key", "SearchAPI API Key", "str", "", required=True, password=True, load_from_db=True, input_kind="SecretStrInput"),
        Input("input_value", "Input", "str", "", input_types=_MSG, multiline=True, input_kind="MultilineInput"),
        Input("search_params", "Search parameters", "dict", {}, advanced=True, is_list=True, input_kind="DictInput"),
        Input("max_results", "Max Results", "int", 5, advanced=True, input_kind="IntInput"),
        Input("max_snippet_length", "Max Snippet Length", "int", 100, advanced=True, input_kind="IntInput"),
    )
    outputs = (
        Output("api_run_model", "run_model", ("JSON",), "JSON"),
        Output("api_build_tool", "build_tool", ("Tool",), "Tool"),
        Output("dataframe", "fetch_content_dataframe", ("Table",), "Table"),
        _tool_output(),
    )
    tool_outputs = ("api_run_model",)

    async def _search(self) -> dict[str, Any]:
        key = await api_key(self, "api_key", "SearchAPI")
        params = {**dict_param(self.params.get("search_params")), "engine": to_text(self.param("engine", "google")) or "google",
                  "q": to_text(self.param("input_value", ""))}
        base = service_url(self, "searchapi", "https://www.searchapi.io")
        return await call_json(self, "SearchAPI", "GET", f"{base}/api/v1/search", params=params, headers={"Authorization": f"Bearer {key}"})


class GoogleSerperAPIComponent(ToolModeMixin, FetchedRows, Component):
    type_name = "GoogleSerperAPI"
    display_name = "Google Serper API [DEPRECATED]"
    description = "Call the Serper.dev Google Search API."
    category = "tools"
    icon = "Google"
    inputs = (
        Input("serper_api_key", "Serper API Key", "str", "", required=True, password=True, load_from_db=True, input_kind="SecretStrInput"),
        Input("query", "Query", "str", "", input_types=_MSG, multiline=True, input_kind="MultilineInput"),
        Input("k", "Number of results", "int", 4, required=True, input_kind="IntInput"),
        Input("query_type", "Query Type", "str", "search", options=("news", "search"), input_kind="DropdownInput"),
        Input("query_params", "Query Params", "dict", {"gl": "us", "hl": "en"}, is_list=True, input_kind="DictInput"),
        Input("input_value", "Input", "str", "", input_types=_MSG, advanced=True, input_kind="MultilineInput"),
    )
    outputs = (
        Output("api_run_model", "run_model", ("JSON",), "JSON"),
        Output("api_build_tool", "build_tool", ("Tool",), "Tool"),
        Output("results", "search_serper", ("Table",), "Results"),
        _tool_output(),
    )
    tool_fields = {"query": ("string", "The search query.")}
    tool_outputs = ("api_run_model",)

    async def fetch_content(self) -> list[Data]:
        key = await api_key(self, "serper_api_key", "Serper")
        query = to_text(self.param("query", "")).strip() or to_text(self.param("input_value", "")).strip()
        if not query:
            raise ValueError("Serper: the search query is empty")
        kind = "news" if to_text(self.param("query_type", "search")) == "news" else "search"
        body = {**dict_param(self.params.get("query_params")), "q": query, "num": to_int(self.param("k", 4), 4)}
        base = service_url(self, "serper", "https://google.serper.dev")
        result = await call_json(self, "Serper", "POST", f"{base}/{kind}", json_body=body, headers={"X-API-KEY": key})
        key_name = "news" if kind == "news" else "organic"
        rows = []
        for hit in (result.get(key_name) or [])[: to_int(self.param("k", 4), 4)]:
            rows.append(Data(data={"text": hit.get("snippet", ""), "title": hit.get("title", ""), "link": hit.get("link", ""),
                                   "snippet": hit.get("snippet", ""), **({"date": hit["date"], "source": hit.get("source")} if "date" in hit else {})}))
        self.status = rows
        return rows

    async def search_serper(self) -> DataFrame:
        return DataFrame(rows=[d.data for d in await self.fetch_content()])


class GoogleSerperAPICoreComponent(GoogleSerperAPIComponent):
    """Langflow 1.1–1.3's core Serper tool (input_value, k, serper_api_key; output search_serper)."""

    type_name = "GoogleSerperAPICore"
    display_name = "Serper Google Search API"
    inputs = (
        Input("serper_api_key", "Serper API Key", "str", "", required=True, password=True, load_from_db=True, input_kind="SecretStrInput"),
        Input("input_value", "Input", "str", "", input_types=_MSG, multiline=True, input_kind="MultilineInput"),
        Input("k", "Number of results", "int", 4, required=True, input_kind="IntInput"),
    )
    outputs = (Output("results", "search_serper", ("Table",), "Results"), _tool_output())
    tool_fields = {"input_value": ("string", "The search query.")}
    tool_outputs = ("results",)


class ArXivComponent(ToolModeMixin, Component):
    type_name = "ArXivComponent"
    display_name = "arXiv"
    description = "Search and retrieve papers from arXiv.org"
    category = "tools"
    icon = "arXiv"
    inputs = (
        Input("search_query", "Search Query", "str", "", input_types=_MSG, info="The search query for arXiv papers (e.g., 'quantum computing')", input_kind="MessageTextInput"),
        Input("search_type", "Search Field", "str", "all", options=("all", "title", "abstract", "author", "cat"), input_kind="DropdownInput"),
        Input("max_results", "Max Results", "int", 10, input_kind="IntInput"),
    )
    outputs = (Output("dataframe", "search_papers_dataframe", ("Table",), "Table"), _tool_output())
    tool_fields = {"search_query": ("string", "The search query for arXiv papers.")}

    _PREFIX = {"all": "all", "title": "ti", "abstract": "abs", "author": "au", "cat": "cat"}

    async def search_papers(self) -> list[Data]:
        import xml.etree.ElementTree as ET

        query = to_text(self.param("search_query", "")).strip()
        field = self._PREFIX.get(to_text(self.param("search_type", "all")), "all")
        base = service_url(self, "arxiv", "https://export.arxiv.org")
        response = await call_api(self, "arXiv", "GET", f"{base}/api/query",
                                  params={"search_query": f"{field}:{query}", "start": 0, "max_results": to_int(self.param("max_results", 10), 10)})
        if b"<!entity" in response.content.lower():
            raise ValueError("arXiv answered with a DTD: refused")
        try:
            root = ET.fromstring(response.content)
        except ET.ParseError as exc:
            raise ValueError(f"arXiv answered with invalid XML: {exc}") from exc
        ns = {"a": "http://www.w3.org/2005/Atom", "x": "http://arxiv.org/schemas/atom"}
        rows = []
        for entry in root.findall("a:entry", ns):
            def text(path: str) -> str | None:
                node = entry.find(path, ns)
                return node.text.strip() if node is not None and node.text else None

            links = {link.get("rel") if link.get("title") != "pdf" else "related": link.get("href") for link in entry.findall("a:link", ns)}
            category = entry.find("x:primary_category", ns)
            rows.append(Data(data={
                "id": text("a:id"), "title": text("a:title"), "summary": text("a:summary"), "published": text("a:published"),
                "updated": text("a:updated"), "authors": [a.findtext("a:name", default="", namespaces=ns) for a in entry.findall("a:author", ns)],
                "arxiv_url": links.get("alternate"), "pdf_url": links.get("related"),
                "comment": text("x:comment"), "journal_ref": text("x:journal_ref"),
                "primary_category": category.get("term") if category is not None else None,
            }))
        self.status = rows
        return rows

    async def search_papers_dataframe(self) -> DataFrame:
        return DataFrame(rows=[d.data for d in await self.search_papers()])


class WikipediaAPIComponent(ToolModeMixin, FetchedRows, Component):
    type_name = "WikipediaAPI"
    display_name = "Wikipedia API"
    description = "Call Wikipedia API."
    category = "tools"
    icon = "Wikipedia"
    inputs = (
        Input("input_value", "Input", "str", "", input_types=_MSG, multiline=True, input_kind="MultilineInput"),
        Input("lang", "Language", "str", "en", input_types=_MSG, input_kind="MessageTextInput"),
        Input("k", "Number of results", "int", 4, required=True, input_kind="IntInput"),
        Input("load_all_available_meta", "Load all available meta", "bool", False, advanced=True, input_kind="BoolInput"),
        Input("doc_content_chars_max", "Document content characters max", "int", 4000, advanced=True, input_kind="IntInput"),
    )
    outputs = (
        Output("api_run_model", "run_model", ("JSON",), "JSON"),
        Output("api_build_tool", "build_tool", ("Tool",), "Tool"),
        Output("dataframe", "fetch_content_dataframe", ("Table",), "Table"),
        _tool_output(),
    )
    tool_fields = {"input_value": ("string", "The Wikipedia search query.")}
    tool_outputs = ("api_run_model",)

    async def fetch_content(self) -> list[Data]:
        query = to_text(self.param("input_value", "")).strip()
        lang = re.sub(r"[^a-z-]", "", to_text(self.param("lang", "en")).lower()) or "en"
        base = service_url(self, "wikipedia", f"https://{lang}.wikipedia.org")
        found = await call_json(self, "Wikipedia", "GET", f"{base}/w/api.php", params={
            "action": "query", "list": "search", "srsearch": query[:300], "srlimit": to_int(self.param("k", 4), 4), "format": "json"})
        ids = [str(hit["pageid"]) for hit in (found.get("query") or {}).get("search", []) if "pageid" in hit]
        if not ids:
            return []
        pages = await call_json(self, "Wikipedia", "GET", f"{base}/w/api.php", params={
            "action": "query", "prop": "extracts|info", "inprop": "url", "explaintext": 1, "pageids": "|".join(ids), "format": "json"})
        by_id = (pages.get("query") or {}).get("pages") or {}
        limit = to_int(self.param("doc_content_chars_max", 4000), 4000)
        rows = []
        for page_id in ids:
            page = by_id.get(page_id) or {}
            extract = str(page.get("extract") or "")
            data = {"text": extract[:limit], "title": page.get("title", ""), "summary": extract.split("\n\n")[0][:limit],
                    "source": page.get("fullurl") or f"{base}/?curid={page_id}"}
            if to_bool(self.param("load_all_available_meta", False)):
                data.update({k: v for k, v in page.items() if k not in ("extract",)})
            rows.append(Data(data=data))
        self.status = rows
        return rows


class ExaSearchComponent(Component):
    """Exa's search and contents as Agent tools (`search`, `get_contents`), over Exa's HTTP API
    (`POST /search`, `POST /contents`, `x-api-key`)."""

    type_name = "ExaSearch"
    aliases = ("ExaSearchToolkit",)
    display_name = "Exa Search"
    description = "Exa search and contents tools for agents and MCP clients."
    category = "tools"
    icon = "ExaSearch"
    inputs = (
        Input("exa_api_key", "Exa API Key", "str", "", password=True, load_from_db=True, info="Get one at https://dashboard.exa.ai/api-keys", input_kind="SecretStrInput"),
        Input("metaphor_api_key", "Metaphor API Key (legacy)", "str", "", password=True, load_from_db=True, advanced=True,
              info="Deprecated. Use Exa API Key instead.", input_kind="SecretStrInput"),
        Input("search_type", "Search type", "str", "auto", options=("auto", "fast", "instant", "deep"), advanced=True, input_kind="DropdownInput"),
        Input("search_num_results", "Number of results", "int", 10, advanced=True, input_kind="IntInput"),
        Input("include_highlights", "Include highlights", "bool", True, advanced=True, input_kind="BoolInput"),
        Input("highlights_max_characters", "Highlights max characters", "int", 0, advanced=True, input_kind="IntInput"),
        Input("include_text", "Include full text", "bool", False, advanced=True, input_kind="BoolInput"),
        Input("category", "Category", "str", "", options=("", "company", "people", "research paper", "news", "personal site", "financial report"),
              advanced=True, input_kind="DropdownInput"),
        Input("max_age_hours", "Max age (hours)", "int", 0, advanced=True, input_kind="IntInput"),
        Input("include_domains", "Include domains", "str", "", advanced=True, input_kind="MessageTextInput"),
        Input("exclude_domains", "Exclude domains", "str", "", advanced=True, input_kind="MessageTextInput"),
        Input("start_published_date", "Start published date", "str", "", advanced=True, input_kind="MessageTextInput"),
        Input("end_published_date", "End published date", "str", "", advanced=True, input_kind="MessageTextInput"),
    )
    outputs = (Output("tools", "build_toolkit", ("Tool",), "Tools"),)

    def _contents(self) -> dict[str, Any]:
        contents: dict[str, Any] = {}
        if to_bool(self.param("include_highlights", True)):
            limit = to_int(self.params.get("highlights_max_characters"), 0)
            contents["highlights"] = {"maxCharacters": limit} if limit > 0 else True
        if to_bool(self.param("include_text", False)):
            contents["text"] = True
        if to_int(self.params.get("max_age_hours"), 0):
            contents["maxAgeHours"] = to_int(self.params.get("max_age_hours"), 0)
        return contents

    async def _call(self, path: str, body: dict[str, Any]) -> Any:
        key = await self.secret("exa_api_key") or await self.secret("metaphor_api_key")
        if not key:
            raise ConfigurationError("Exa API key is required. Set the Exa API Key input.")
        base = service_url(self, "exa", "https://api.exa.ai")
        return await call_json(self, "Exa", "POST", f"{base}/{path}", json_body=body, headers={"x-api-key": key, "x-exa-integration": "langflow"})

    async def build_toolkit(self) -> list[Any]:
        import json as jsonlib

        from flowless_engine.components.base import Tool

        async def search(arguments: dict[str, Any]) -> str:
            body: dict[str, Any] = {"query": to_text(arguments.get("query")), "type": to_text(self.param("search_type", "auto")) or "auto",
                                    "numResults": to_int(self.param("search_num_results", 10), 10)}
            if self._contents():
                body["contents"] = self._contents()
            for field, key in (("category", "category"), ("start_published_date", "startPublishedDate"), ("end_published_date", "endPublishedDate")):
                if to_text(self.params.get(field)).strip():
                    body[key] = to_text(self.params.get(field)).strip()
            for field, key in (("include_domains", "includeDomains"), ("exclude_domains", "excludeDomains")):
                if _domains(self.params.get(field)):
                    body[key] = _domains(self.params.get(field))
            try:
                return jsonlib.dumps(await self._call("search", body), ensure_ascii=False)
            except FlowError as exc:
                return f"Error: {exc.message}"

        async def get_contents(arguments: dict[str, Any]) -> str:
            body = {"ids": list(arguments.get("ids") or []), **self._contents()}
            try:
                return jsonlib.dumps(await self._call("contents", body), ensure_ascii=False)
            except FlowError as exc:
                return f"Error: {exc.message}"

        return [
            Tool("search", "Search the web with Exa and return results with optional highlights.",
                 {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}, search, self.id),
            Tool("get_contents", "Fetch contents (highlights and/or text) for result IDs returned by `search`.",
                 {"type": "object", "properties": {"ids": {"type": "array", "items": {"type": "string"}}}, "required": ["ids"]}, get_contents, self.id),
        ]


class WolframAlphaAPIComponent(ToolModeMixin, FetchedRows, Component):
    """Wolfram|Alpha's Full Results API (`/v2/query`, JSON): the input interpretation and the
    primary result, as LangChain's wrapper reports them."""

    type_name = "WolframAlphaAPI"
    display_name = "WolframAlpha API"
    description = "Enables queries to WolframAlpha for computational data, facts, and calculations across various topics, delivering structured responses."
    category = "tools"
    icon = "WolframAlphaAPI"
    inputs = (
        Input("input_value", "Input Query", "str", "", input_types=_MSG, multiline=True, info="Example query: 'What is the population of France?'", input_kind="MultilineInput"),
        Input("app_id", "WolframAlpha App ID", "str", "", required=True, password=True, load_from_db=True, input_kind="SecretStrInput"),
    )
    outputs = (
        Output("dataframe", "fetch_content_dataframe", ("Table",), "Table"),
        Output("api_run_model", "run_model", ("Data",), "Data"),
        Output("api_build_tool", "build_tool", ("Tool",), "Tool"),
    )
    tool_fields = {"input_value": ("string", "The question for Wolfram|Alpha.")}
    tool_outputs = ("dataframe",)

    async def fetch_content(self) -> list[Data]:
        app_id = await api_key(self, "app_id", "WolframAlpha")
        query = to_text(self.params.get("input_value")).strip()
        base = service_url(self, "wolframalpha", "https://api.wolframalpha.com")
        result = await call_json(self, "WolframAlpha", "GET", f"{base}/v2/query",
                                 params={"input": query, "appid": app_id, "format": "plaintext", "output": "json"})
        body = result.get("queryresult") or {}
        if body.get("error") and isinstance(body["error"], dict) and "Invalid appid" in str(body["error"].get("msg")):
            raise ConfigurationError(f"WolframAlpha refused the App ID: {body['error'].get('msg')}", provider="WolframAlpha")
        pods = body.get("pods") or []

        def text_of(pod: dict[str, Any]) -> str:
            return "\n".join(s.get("plaintext") or "" for s in pod.get("subpods") or []).strip()

        primary = next((p for p in pods if p.get("primary")), None) or next((p for p in pods if p.get("title") == "Result"), None)
        assumption = next((text_of(p) for p in pods if p.get("id") == "Input" or "Input" in str(p.get("title"))), query)
        if not body.get("success") or primary is None:
            text = "Wolfram Alpha wasn't able to answer it"
        else:
            text = f"Assumption: {assumption} \nAnswer: {text_of(primary)}"
        rows = [Data(data={"text": text})]
        self.status = rows
        return rows


class GoogleSearchAPIComponent(ToolModeMixin, Component):
    """Google's Custom Search JSON API (`GET /customsearch/v1?key=&cx=&q=&num=`): items as rows
    (title, link, snippet), as LangChain's GoogleSearchAPIWrapper reports them."""

    type_name = "GoogleSearchAPI"
    display_name = "Google Search API [DEPRECATED]"
    description = "Call Google Search API."
    category = "tools"
    icon = "Google"
    inputs = (
        Input("google_api_key", "Google API Key", "str", "", required=True, password=True, load_from_db=True, input_kind="SecretStrInput"),
        Input("google_cse_id", "Google CSE ID", "str", "", required=True, password=True, load_from_db=True, input_kind="SecretStrInput"),
        Input("input_value", "Input", "str", "", input_types=_MSG, multiline=True, input_kind="MultilineInput"),
        Input("k", "Number of results", "int", 4, required=True, input_kind="IntInput"),
    )
    outputs = (Output("api_run_model", "run_model", ("JSON",), "JSON"), Output("api_build_tool", "build_tool", ("Tool",), "Tool"))
    tool_fields = {"input_value": ("string", "The search query.")}
    tool_outputs = ("api_run_model",)

    async def run_model(self) -> list[Data]:
        key = await api_key(self, "google_api_key", "Google Search")
        cse = await api_key(self, "google_cse_id", "Google Search")
        base = service_url(self, "google_search", "https://www.googleapis.com")
        result = await call_json(self, "Google Search", "GET", f"{base}/customsearch/v1",
                                 params={"key": key, "cx": cse, "q": to_text(self.params.get("input_value")), "num": min(10, to_int(self.param("k", 4), 4))})
        rows = [Data(data={"text": item.get("snippet", ""), "title": item.get("title", ""), "link": item.get("link", ""), "snippet": item.get("snippet", "")})
                for item in result.get("items") or []]
        self.status = rows
        return rows


class WikidataAPIComponent(ToolModeMixin, Component):
    type_name = "WikidataAPI"
    display_name = "Wikidata API"
    description = "Performs a search using the Wikidata API."
    category = "tools"
    icon = "Wikipedia"
    inputs = (Input("query", "Query", "str", "", input_types=_MSG, required=True, multiline=True, info="The text query for similarity search on Wikidata.", input_kind="MultilineInput"),)
    outputs = (Output("api_run_model", "run_model", ("JSON",), "JSON"), Output("api_build_tool", "build_tool", ("Tool",), "Tool"))
    tool_fields = {"query": ("string", "The text query for similarity search on Wikidata.")}
    tool_outputs = ("api_run_model",)

    async def run_model(self) -> list[Data]:
        base = service_url(self, "wikidata", "https://www.wikidata.org")
        result = await call_json(self, "Wikidata", "GET", f"{base}/w/api.php",
                                 params={"action": "wbsearchentities", "format": "json", "search": to_text(self.params.get("query")), "language": "en"})
        hits = result.get("search") or []
        if not hits:
            raise ValueError("Error in Wikidata Search API: No search results found for the given query.")
        rows = [Data(data={"text": hit.get("label", ""), **hit}) for hit in hits]
        self.status = rows
        return rows


class WikipediaComponent(WikipediaAPIComponent):
    """The current Wikipedia node: the same search (`list=search`) and page extracts, one Table."""

    type_name = "WikipediaComponent"
    display_name = "Wikipedia"
    outputs = (Output("dataframe", "fetch_content_dataframe", ("Table",), "Table"),)
    tool_outputs = ("dataframe",)


class WikidataComponent(ToolModeMixin, FetchedRows, Component):
    """`wbsearchentities` on Wikidata's action API: one row per entity (label, id, url,
    description, concept URI), `text` = "label: description"."""

    type_name = "WikidataComponent"
    display_name = "Wikidata"
    description = "Performs a search using the Wikidata API."
    category = "wikipedia"
    icon = "Wikipedia"
    inputs = (Input("query", "Query", "str", "", input_types=_MSG, required=True, multiline=True, info="The text query for similarity search on Wikidata.",
                    input_kind="MultilineInput"),)
    outputs = (Output("dataframe", "fetch_content_dataframe", ("Table",), "Table"),)
    tool_fields = {"query": ("string", "The text query for similarity search on Wikidata.")}

    async def fetch_content(self) -> list[Data]:
        base = service_url(self, "wikidata", "https://www.wikidata.org")
        result = await call_json(self, "Wikidata", "GET", f"{base}/w/api.php",
                                 params={"action": "wbsearchentities", "format": "json", "search": to_text(self.params.get("query")), "language": "en"})
        hits = result.get("search") or []
        if not hits:
            return [Data(data={"error": "No search results found for the given query."})]
        rows = [Data(data={"text": f"{hit.get('label', '')}: {hit.get('description', '')}", "label": hit.get("label", ""), "id": hit.get("id"),
                           "url": hit.get("url"), "description": hit.get("description", ""), "concepturi": hit.get("concepturi")}) for hit in hits]
        self.status = rows
        return rows


class SearXNGToolComponent(ToolModeMixin, Component):
    """A SearXNG instance's JSON search (`GET /search?q=&categories=&language=&format=json`) as a
    tool; the instance's URL goes through the network guard like any other."""

    type_name = "SearXNGTool"
    display_name = "SearXNG Search"
    description = "A component that searches for tools using SearXNG."
    category = "tools"
    inputs = (
        Input("url", "URL", "str", "http://localhost", input_types=_MSG, required=True, input_kind="MessageTextInput"),
        Input("max_results", "Max Results", "int", 10, required=True, input_kind="IntInput"),
        Input("categories", "Categories", "str", [], is_list=True, input_kind="MultiselectInput"),
        Input("language", "Language", "str", "", input_kind="DropdownInput"),
    )
    outputs = (Output("result_tool", "build_tool", ("Tool",), "Tool"),)
    tool_fields = {"query": ("string", "The search query."), "categories": ("array", "Extra categories to search.")}

    async def search(self) -> list[Any]:
        query = to_text(self.params.get("query"))
        chosen = [to_text(c) for c in (self.params.get("categories") or []) if to_text(c)]
        if not chosen:
            raise ValueError("No categories provided.")
        base = to_text(self.params.get("url")).rstrip("/")
        try:
            result = await call_json(self, "SearXNG", "GET", f"{base}/search",
                                     params={"q": query, "categories": ",".join(chosen), "language": to_text(self.params.get("language")), "format": "json"})
        except FlowError as exc:
            return [f"Failed to search: {exc.message}"]
        return (result.get("results") or [])[: to_int(self.param("max_results", 10), 10)]

    def as_tools(self) -> list[Any]:
        import json as jsonlib

        from flowless_engine.components.base import Tool

        base_categories = [to_text(c) for c in (self.params.get("categories") or []) if to_text(c)]

        async def run(arguments: dict[str, Any]) -> str:
            extra = [c for c in (arguments.get("categories") or []) if c not in base_categories]
            self.params["query"] = arguments.get("query", "")
            self.params["categories"] = base_categories + extra
            try:
                return jsonlib.dumps(await self.search(), ensure_ascii=False)
            except ValueError as exc:
                return f"Error: {exc}"

        description = f"A tool that searches for tools using SearXNG.\nThe available categories are: {', '.join(base_categories)}"
        parameters = {"type": "object", "properties": {"query": {"type": "string"}, "categories": {"type": "array", "items": {"type": "string"}}}, "required": ["query"]}
        return [Tool("searxng_search_tool", description, parameters, run, self.id)]
