"""Hosted scraping APIs (and JigsawStack's AI web search): ScrapeGraph (markdownify, smart scraper, search scraper: `POST
https://api.scrapegraphai.com/v1/<service>` with the `SGAI-APIKEY` header; a request still
`queued`/`processing` is followed at `GET /v1/<service>/<request_id>`) and AgentQL (`POST
https://api.agentql.com/v1/query-data`, `X-API-Key`), Spider (`POST https://api.spider.cloud/crawl`, Bearer) and JigsawStack (`POST
https://api.jigsawstack.com/v1/web/search` and `/v1/ai/scrape`, `x-api-key`).

Endpoints can be replaced (`EngineSettings.service_urls`: scrapegraph, agentql, spider, jigsawstack). A refused key
is a clear 4xx naming the service, 429/5xx are retried then 502, no answer in time 504; the
pages to scrape are fetched by the service, not by Flowless.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from flowless_engine.components.apis import api_key, call_json, service_url
from flowless_engine.components.base import Component, Input, Output, to_bool, to_int, to_text
from flowless_engine.components.toolmode import ToolModeMixin
from flowless_engine.errors import ConfigurationError, ProviderError, ProviderTimeoutError
from flowless_engine.schema import Data, Message

_MSG = ("Message",)
SCRAPEGRAPH_WAIT_S = 300.0


class _ScrapeGraph(ToolModeMixin, Component):
    category = "scrapegraph"
    icon = "ScrapeGraph"
    service = ""
    POLL_INTERVAL_S = 2.0

    async def _run(self, body: dict[str, Any]) -> Data:
        key = await api_key(self, "api_key", "ScrapeGraph")
        base = service_url(self, "scrapegraph", "https://api.scrapegraphai.com")
        headers = {"SGAI-APIKEY": key, "accept": "application/json"}
        answer = await call_json(self, "ScrapeGraph", "POST", f"{base}/v1/{self.service}", json_body=body, headers=headers, timeout=120)
        deadline = time.monotonic() + SCRAPEGRAPH_WAIT_S
        while isinstance(answer, dict) and answer.get("status") in ("queued", "processing") and answer.get("request_id"):
            if time.monotonic() >= deadline:
                raise ProviderTimeoutError(f"ScrapeGraph request {answer['request_id']} did not finish within {SCRAPEGRAPH_WAIT_S:g}s", provider="ScrapeGraph")
            await asyncio.sleep(self.POLL_INTERVAL_S)
            answer = await call_json(self, "ScrapeGraph", "GET", f"{base}/v1/{self.service}/{answer['request_id']}", headers=headers)
        if isinstance(answer, dict) and answer.get("status") == "failed":
            raise ProviderError(f"ScrapeGraph {self.service} failed: {answer.get('error') or 'unknown error'}", provider="ScrapeGraph")
        result = Data(data=answer if isinstance(answer, dict) else {"result": answer})
        self.status = result
        return result


_SG_KEY = Input("api_key", "ScrapeGraph API Key", "str", "", required=True, password=True, load_from_db=True,
                info="The API key to use ScrapeGraph API.", input_kind="SecretStrInput")


class ScrapeGraphMarkdownifyApi(_ScrapeGraph):
    type_name = "ScrapeGraphMarkdownifyApi"
    display_name = "ScrapeGraph Markdownify API"
    description = "Given a URL, it will return the markdownified content of the website."
    service = "markdownify"
    inputs = (_SG_KEY, Input("url", "URL", "str", "", input_types=_MSG, info="The URL to markdownify.", input_kind="MessageTextInput"))
    outputs = (Output("data", "scrape", ("JSON",), "JSON"),)
    tool_fields = {"url": ("string", "The URL to markdownify.")}

    async def scrape(self) -> Data:
        return await self._run({"website_url": to_text(self.params.get("url")).strip()})


class ScrapeGraphSmartScraperApi(_ScrapeGraph):
    type_name = "ScrapeGraphSmartScraperApi"
    display_name = "ScrapeGraph Smart Scraper API"
    description = "Given a URL, it will return the structured data of the website."
    service = "smartscraper"
    inputs = (
        _SG_KEY,
        Input("url", "URL", "str", "", input_types=_MSG, info="The URL to scrape.", input_kind="MessageTextInput"),
        Input("prompt", "Prompt", "str", "", input_types=_MSG, info="The prompt to use for the smart scraper.", input_kind="MessageTextInput"),
    )
    outputs = (Output("data", "scrape", ("JSON",), "JSON"),)
    tool_fields = {"url": ("string", "The URL to scrape."), "prompt": ("string", "What to extract from the page.")}

    async def scrape(self) -> Data:
        return await self._run({"website_url": to_text(self.params.get("url")).strip(), "user_prompt": to_text(self.params.get("prompt"))})


class ScrapeGraphSearchApi(_ScrapeGraph):
    type_name = "ScrapeGraphSearchApi"
    display_name = "ScrapeGraph Search API"
    description = "Given a search prompt, it will return search results using ScrapeGraph's search functionality."
    service = "searchscraper"
    inputs = (_SG_KEY, Input("user_prompt", "Search Prompt", "str", "", input_types=_MSG, info="The search prompt to use.", input_kind="MessageTextInput"))
    outputs = (Output("data", "search", ("JSON",), "JSON"),)
    tool_fields = {"user_prompt": ("string", "The search prompt.")}

    async def search(self) -> Data:
        return await self._run({"user_prompt": to_text(self.params.get("user_prompt"))})


class AgentQLComponent(ToolModeMixin, Component):
    type_name = "AgentQL"
    display_name = "Extract Web Data"
    description = "Extracts structured data from a web page using an AgentQL query or a Natural Language description."
    category = "agentql"
    icon = "AgentQL"
    inputs = (
        Input("api_key", "AgentQL API Key", "str", "", required=True, password=True, load_from_db=True, info="Your AgentQL API key from dev.agentql.com",
              input_kind="SecretStrInput"),
        Input("url", "URL", "str", "", input_types=_MSG, required=True, info="The URL of the public web page you want to extract data from.",
              input_kind="MessageTextInput"),
        Input("query", "AgentQL Query", "str", "", input_types=_MSG, multiline=True, info="The AgentQL query to execute.", input_kind="MultilineInput"),
        Input("prompt", "Prompt", "str", "", input_types=_MSG, multiline=True,
              info="A Natural Language description of the data to extract from the page. Alternative to AgentQL query.", input_kind="MultilineInput"),
        Input("is_stealth_mode_enabled", "Enable Stealth Mode (Beta)", "bool", False, advanced=True, input_kind="BoolInput"),
        Input("timeout", "Timeout", "int", 900, advanced=True, info="Seconds to wait for a request.", input_kind="IntInput"),
        Input("mode", "Request Mode", "str", "fast", options=("fast", "standard"), advanced=True, input_kind="DropdownInput"),
        Input("wait_for", "Wait For", "int", 0, advanced=True, info="Seconds to wait for the page to load before extracting data.", input_kind="IntInput"),
        Input("is_scroll_to_bottom_enabled", "Enable scroll to bottom", "bool", False, advanced=True, input_kind="BoolInput"),
        Input("is_screenshot_enabled", "Enable screenshot", "bool", False, advanced=True, input_kind="BoolInput"),
    )
    outputs = (Output("data", "build_output", ("JSON",), "Data"),)
    tool_fields = {"url": ("string", "The URL of the page."), "prompt": ("string", "What data to extract, in natural language.")}

    async def build_output(self) -> Data:
        query, prompt = to_text(self.params.get("query")).strip(), to_text(self.params.get("prompt")).strip()
        if not query and not prompt:
            raise ConfigurationError(f"{self.name}: Either Query or Prompt must be provided.", provider="AgentQL")
        if query and prompt:
            raise ConfigurationError(f"{self.name}: Both Query and Prompt can't be provided at the same time.", provider="AgentQL")
        key = await api_key(self, "api_key", "AgentQL")
        base = service_url(self, "agentql", "https://api.agentql.com")
        body = {"url": to_text(self.params.get("url")).strip(), "query": query or None, "prompt": prompt or None,
                "params": {"mode": to_text(self.param("mode", "fast")) or "fast", "wait_for": to_int(self.param("wait_for", 0), 0),
                           "is_scroll_to_bottom_enabled": to_bool(self.param("is_scroll_to_bottom_enabled", False)),
                           "is_screenshot_enabled": to_bool(self.param("is_screenshot_enabled", False))},
                "metadata": {"experimental_stealth_mode_enabled": to_bool(self.param("is_stealth_mode_enabled", False))}}
        answer = await call_json(self, "AgentQL", "POST", f"{base}/v1/query-data", json_body=body, timeout=float(to_int(self.param("timeout", 900), 900) or 900),
                                 headers={"X-API-Key": key, "X-TF-Request-Origin": "langflow"})
        result = Data(data={"result": answer.get("data"), "metadata": answer.get("metadata")})
        self.status = result
        return result


class SpiderToolComponent(Component):
    """Spider (`POST https://api.spider.cloud/crawl`, Bearer key): scrape one page (limit 1) or crawl
    a site, each page's markdown as a row (content, url, and metadata when asked)."""

    type_name = "SpiderTool"
    display_name = "Spider Web Crawler & Scraper"
    description = "Spider API for web crawling and scraping."
    category = "spider"
    icon = "Spider"
    inputs = (
        Input("spider_api_key", "Spider API Key", "str", "", required=True, password=True, load_from_db=True,
              info="The Spider API Key, get it from https://spider.cloud", input_kind="SecretStrInput"),
        Input("url", "URL", "str", "", required=True, info="The URL to scrape or crawl", input_kind="StrInput"),
        Input("mode", "Mode", "str", "scrape", required=True, options=("scrape", "crawl"), info="The mode of operation: scrape or crawl",
              input_kind="DropdownInput"),
        Input("limit", "Limit", "int", 0, advanced=True, info="The maximum amount of pages allowed to crawl per website. Set to 0 to crawl all pages.",
              input_kind="IntInput"),
        Input("depth", "Depth", "int", 0, advanced=True, info="The crawl limit for maximum depth. If 0, no limit will be applied.", input_kind="IntInput"),
        Input("blacklist", "Blacklist", "str", "", advanced=True, info="Blacklist paths that you do not want to crawl. Use Regex patterns.",
              input_kind="StrInput"),
        Input("whitelist", "Whitelist", "str", "", advanced=True, info="Whitelist paths that you want to crawl, ignoring all other routes.",
              input_kind="StrInput"),
        Input("readability", "Use Readability", "bool", False, advanced=True, info="Use readability to pre-process the content for reading.",
              input_kind="BoolInput"),
        Input("request_timeout", "Request Timeout", "int", 0, advanced=True, info="Timeout for the request in seconds.", input_kind="IntInput"),
        Input("metadata", "Metadata", "bool", False, advanced=True, info="Include metadata in the response.", input_kind="BoolInput"),
        Input("params", "Additional Parameters", "dict", {}, info="Additional parameters to pass to the API. If provided, other inputs will be ignored.",
              input_kind="DictInput"),
    )
    outputs = (Output("content", "crawl", ("JSON",), "Markdown"),)

    async def crawl(self) -> list[Data]:
        from flowless_engine.components.search import dict_param

        mode = to_text(self.param("mode", "scrape")) or "scrape"
        if mode not in ("scrape", "crawl"):
            raise ConfigurationError(f"{self.name}: Invalid mode: {mode}. Must be 'scrape' or 'crawl'.", provider="Spider")
        extra = dict_param(self.params.get("params"))
        extra = extra.get("data") if isinstance(extra.get("data"), dict) else extra
        if extra:
            parameters = dict(extra)
        else:
            parameters = {"limit": to_int(self.params.get("limit"), 0) or None, "depth": to_int(self.params.get("depth"), 0) or None,
                          "blacklist": to_text(self.params.get("blacklist")) or None, "whitelist": to_text(self.params.get("whitelist")) or None,
                          "readability": to_bool(self.param("readability", False)), "request_timeout": to_int(self.params.get("request_timeout"), 0) or None,
                          "metadata": to_bool(self.param("metadata", False)), "return_format": "markdown"}
        if mode == "scrape":
            parameters["limit"] = 1
        key = await api_key(self, "spider_api_key", "Spider")
        base = service_url(self, "spider", "https://api.spider.cloud")
        answer = await call_json(self, "Spider", "POST", f"{base}/crawl", json_body={"url": to_text(self.params.get("url")).strip(), **parameters},
                                 headers={"Authorization": f"Bearer {key}"}, timeout=300)
        pages = answer if isinstance(answer, list) else [answer] if isinstance(answer, dict) else []
        with_metadata = to_bool(self.param("metadata", False))
        rows = [Data(data={"content": p.get("content"), "url": p.get("url"), **({"metadata": p.get("metadata")} if with_metadata else {})})
                for p in pages if isinstance(p, dict)]
        self.status = rows
        return rows


# ---- JigsawStack: AI web search and AI scraper -------------------------------------------------

_JIGSAW_KEY = Input("api_key", "JigsawStack API Key", "str", "", required=True, password=True, load_from_db=True,
                    info="Your JigsawStack API key for authentication", input_kind="SecretStrInput")
MAX_ELEMENT_PROMPTS = 5


class _JigsawStack(ToolModeMixin, Component):
    category = "jigsawstack"
    icon = "JigsawStack"

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        key = await api_key(self, "api_key", "JigsawStack")
        base = service_url(self, "jigsawstack", "https://api.jigsawstack.com")
        answer = await call_json(self, "JigsawStack", "POST", f"{base}/v1{path}", json_body=body, headers={"x-api-key": key}, timeout=120)
        if not isinstance(answer, dict) or not answer.get("success", False):
            raise ProviderError(f"JigsawStack API returned unsuccessful response: {(answer or {}).get('message') or ''}".strip(), provider="JigsawStack")
        return answer


class JigsawStackAISearchComponent(_JigsawStack):
    type_name = "JigsawStackAISearch"
    display_name = "AI Web Search"
    description = "Effortlessly search the Web and get access to high-quality results powered with AI."
    inputs = (
        _JIGSAW_KEY,
        Input("query", "Query", "query", "", input_types=_MSG, required=True, info="The search value. The maximum query character length is 400",
              input_kind="QueryInput"),
        Input("ai_overview", "AI Overview", "bool", True, info="Include AI powered overview in the search results", input_kind="BoolInput"),
        Input("safe_search", "Safe Search", "str", "off", options=("moderate", "strict", "off"), info="Enable safe search to filter out adult content",
              input_kind="DropdownInput"),
        Input("spell_check", "Spell Check", "bool", True, info="Spell check the search query", input_kind="BoolInput"),
    )
    outputs = (Output("search_results", "search", ("Data",), "AI Search Results"), Output("content_text", "get_content_text", ("Message",), "Content Text"))
    tool_fields = {"query": ("string", "The search query (at most 400 characters).")}

    async def _answer(self) -> dict[str, Any]:
        cached = getattr(self, "_found", None)
        if cached is None:
            body = {"byo_urls": [], "query": to_text(self.params.get("query")), "ai_overview": to_bool(self.param("ai_overview", True)),
                    "safe_search": to_text(self.param("safe_search", "off")) or "off", "spell_check": to_bool(self.param("spell_check", True))}
            cached = self._found = await self._post("/web/search", body)
        return cached

    async def search(self) -> Data:
        answer = await self._answer()
        self.status = f"Search complete for: {answer.get('query', '')}"
        return Data(data={"query": to_text(self.params.get("query")), "ai_overview": answer.get("ai_overview", ""),
                          "spell_fixed": answer.get("spell_fixed", False), "is_safe": answer.get("is_safe", True),
                          "results": answer.get("results", []), "success": True})

    async def get_content_text(self) -> Message:
        return Message(text=str((await self._answer()).get("ai_overview", "")))


class JigsawStackAIScraperComponent(_JigsawStack):
    type_name = "JigsawStackAIScraper"
    display_name = "AI Scraper"
    description = "Scrape any website instantly and get consistent structured data in seconds without writing any css selector code"
    inputs = (
        _JIGSAW_KEY,
        Input("url", "URL", "str", "", input_types=_MSG, info="URL of the page to scrape. Either url or html is required, but not both.",
              input_kind="MessageTextInput"),
        Input("html", "HTML", "str", "", input_types=_MSG, info="HTML content to scrape. Either url or html is required, but not both.",
              input_kind="MessageTextInput"),
        Input("element_prompts", "Element Prompts", "str", "", input_types=_MSG, required=True,
              info="Items on the page to be scraped (maximum 5). E.g. 'Plan price', 'Plan title'", input_kind="MessageTextInput"),
        Input("root_element_selector", "Root Element Selector", "str", "main", input_types=_MSG,
              info="CSS selector to limit the scope of scraping to a specific element and its children", input_kind="MessageTextInput"),
    )
    outputs = (Output("scrape_results", "scrape", ("Data",), "AI Scraper Results"),)
    tool_fields = {"url": ("string", "URL of the page to scrape."), "element_prompts": ("string", "Comma-separated items to scrape (at most 5).")}

    async def scrape(self) -> Data:
        url, page = to_text(self.params.get("url")).strip(), to_text(self.params.get("html")).strip()
        if not url and not page:
            raise ConfigurationError(f"{self.name}: Either 'url' or 'html' must be provided for scraping", provider="JigsawStack")
        raw = self.params.get("element_prompts")
        prompts = [to_text(p).strip() for p in raw] if isinstance(raw, list) else [p.strip() for p in to_text(raw).split(",")]
        prompts = [p for p in prompts if p]
        if not prompts or len(prompts) > MAX_ELEMENT_PROMPTS:
            raise ConfigurationError(f"{self.name}: give between 1 and {MAX_ELEMENT_PROMPTS} element prompts", provider="JigsawStack")
        body: dict[str, Any] = {"element_prompts": prompts, **({"url": url} if url else {}), **({"html": page} if page else {})}
        if to_text(self.params.get("root_element_selector")).strip():
            body["root_element_selector"] = to_text(self.params.get("root_element_selector")).strip()
        result = Data(data=await self._post("/ai/scrape", body))
        self.status = "AI scrape process is now complete."
        return result
