"""Hosted APIs called over HTTP: Firecrawl (scrape, crawl with polling and pagination, map,
search, extract with polling: API v2, Bearer key) and AssemblyAI (submit a transcript job, poll until done).

Endpoints can be replaced per service (`EngineSettings.service_urls`: firecrawl, assemblyai);
errors map as for every hosted API (apis.py): a refused key is a 4xx naming the service, 429/5xx
are retried then 502, no answer in time 504. Polling is bounded by the node's timeout.
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

POLL_INTERVAL_S = 2.0
MAX_CRAWL_PAGES_FETCHES = 100  # `next` pages followed at most
EXTRACT_TIMEOUT_S = 300.0


def _options(value: Any) -> dict[str, Any]:
    if isinstance(value, Data):
        return dict(value.data)
    if isinstance(value, dict):
        return dict(value)
    return {}


class _Firecrawl(ToolModeMixin, Component):
    category = "firecrawl"
    icon = "FirecrawlLogo"

    async def _post(self, path: str, body: dict[str, Any], timeout: float | None = None) -> Any:
        key = await api_key(self, "api_key", "Firecrawl")
        base = service_url(self, "firecrawl", "https://api.firecrawl.dev")
        return await call_json(self, "Firecrawl", "POST", f"{base}/v2/{path}", json_body=body,
                               headers={"Authorization": f"Bearer {key}"}, timeout=timeout)

    async def _get(self, url: str) -> Any:
        key = await api_key(self, "api_key", "Firecrawl")
        return await call_json(self, "Firecrawl", "GET", url, headers={"Authorization": f"Bearer {key}"})

    async def _finished(self, url: str, what: str, timeout_s: float) -> dict[str, Any]:
        """A job's status, polled until `completed` (failed / cancelled: an error; bounded by `timeout_s`)."""
        deadline = time.monotonic() + timeout_s
        while True:
            status = await self._get(url)
            if status.get("status") == "completed":
                return status
            if status.get("status") in ("failed", "cancelled"):
                raise ProviderError(f"Firecrawl {what} {status.get('status')}: {status.get('error') or ''}".strip(), provider="Firecrawl")
            if time.monotonic() >= deadline:
                raise ProviderTimeoutError(f"Firecrawl {what} did not finish within {timeout_s:g}s", provider="Firecrawl")
            await asyncio.sleep(POLL_INTERVAL_S)


_FIRECRAWL_KEY = Input("api_key", "Firecrawl API Key", "str", "", required=True, password=True, load_from_db=True,
                       info="The API key to use Firecrawl API.", input_kind="SecretStrInput")


class FirecrawlScrapeApi(_Firecrawl):
    type_name = "FirecrawlScrapeApi"
    display_name = "Firecrawl Scrape API"
    description = "Scrapes a URL and returns the results."
    inputs = (
        _FIRECRAWL_KEY,
        Input("url", "URL", "str", "", required=True, multiline=True, input_types=("Message",), info="The URL to scrape.", input_kind="MultilineInput"),
        Input("timeout", "Timeout", "int", None, info="Timeout in milliseconds for the request.", input_kind="IntInput"),
        Input("scrapeOptions", "Scrape Options", "other", "", input_types=("Data", "JSON"), info="The page options to send with the request.", input_kind="DataInput"),
        Input("extractorOptions", "Extractor Options", "other", "", input_types=("Data", "JSON"), info="The extractor options to send with the request.", input_kind="DataInput"),
    )
    outputs = (Output("data", "scrape", ("JSON",), "JSON"),)
    tool_fields = {"url": ("string", "The URL to scrape.")}

    async def scrape(self) -> Data:
        body = {"formats": ["markdown"], "onlyMainContent": True, **_options(self.params.get("scrapeOptions") or self.params.get("pageOptions"))}
        timeout_ms = to_int(self.params.get("timeout"), 0)
        if timeout_ms > 0:
            body.setdefault("timeout", timeout_ms)
        extractor = _options(self.params.get("extractorOptions"))
        if extractor:
            body["formats"] = list(body.get("formats") or []) + [{"type": "json", **extractor}]
        body["url"] = to_text(self.params.get("url")).strip()
        result = await self._post("scrape", body, timeout=(timeout_ms / 1000 + 10) if timeout_ms > 0 else None)
        return Data(data=result.get("data") if isinstance(result.get("data"), dict) else result)


class FirecrawlCrawlApi(_Firecrawl):
    type_name = "FirecrawlCrawlApi"
    display_name = "Firecrawl Crawl API"
    description = "Crawls a URL and returns the results."
    inputs = (
        _FIRECRAWL_KEY,
        Input("url", "URL", "str", "", required=True, multiline=True, input_types=("Message",), info="The URL to crawl.", input_kind="MultilineInput"),
        Input("timeout", "Timeout", "int", None, info="Timeout in milliseconds for the request.", input_kind="IntInput"),
        Input("idempotency_key", "Idempotency Key", "str", "", info="Optional idempotency key to ensure unique requests.", input_kind="StrInput"),
        Input("crawlerOptions", "Crawler Options", "other", "", input_types=("Data", "JSON"), info="The crawler options to send with the request.", input_kind="DataInput"),
        Input("scrapeOptions", "Scrape Options", "other", "", input_types=("Data", "JSON"), info="The page options to send with the request.", input_kind="DataInput"),
    )
    outputs = (Output("data", "crawl", ("JSON",), "JSON"),)
    tool_fields = {"url": ("string", "The URL to crawl.")}

    async def crawl(self) -> Data:
        options = {"maxDiscoveryDepth": 2, "limit": 10000, "allowExternalLinks": False, "crawlEntireDomain": False,
                   "ignoreQueryParameters": False, **_options(self.params.get("crawlerOptions"))}
        if "maxDepth" in options:
            options["maxDiscoveryDepth"] = options.pop("maxDepth")
        if "allowBackwardLinks" in options:
            options["crawlEntireDomain"] = options.pop("allowBackwardLinks")
        if options.pop("ignoreSitemap", False):
            options["sitemap"] = "skip"
        body = {"url": to_text(self.params.get("url")).strip(), **options,
                "scrapeOptions": {"onlyMainContent": True, **_options(self.params.get("scrapeOptions"))}}
        started = await self._post("crawl", body)
        job = started.get("id")
        if not job:
            raise ProviderError("Firecrawl did not return a crawl job id", provider="Firecrawl")
        base = service_url(self, "firecrawl", "https://api.firecrawl.dev")
        status = await self._finished(f"{base}/v2/crawl/{job}", "crawl", to_int(self.params.get("timeout"), 0) / 1000 or 300.0)
        pages = list(status.get("data") or [])
        following = status.get("next")
        for _ in range(MAX_CRAWL_PAGES_FETCHES):
            if not following:
                break
            more = await self._get(following)
            pages.extend(more.get("data") or [])
            following = more.get("next")
        results = {k: status.get(k) for k in ("status", "total", "completed", "creditsUsed", "expiresAt")}
        results["data"] = pages
        return Data(data={"results": results})


class FirecrawlExtractApi(_Firecrawl):
    """Langflow 1.2-1.4's extract node: structured data from URLs by a prompt (and a JSON schema),
    an asynchronous job polled until it completes (at most EXTRACT_TIMEOUT_S, Langflow's 300 s)."""

    type_name = "FirecrawlExtractApi"
    display_name = "FirecrawlExtractApi"
    description = "Firecrawl Extract API."
    inputs = (
        Input("api_key", "API Key", "str", "", required=True, password=True, info="The API key to use Firecrawl API.", input_kind="SecretStrInput"),
        Input("urls", "URLs", "str", "", required=True, multiline=True, input_types=("Message",),
              info="List of URLs to extract data from (separated by commas or new lines).", input_kind="MultilineInput"),
        Input("prompt", "Prompt", "str", "", required=True, multiline=True, input_types=("Message",),
              info="Prompt to guide the extraction process.", input_kind="MultilineInput"),
        Input("schema", "Schema", "other", "", input_types=("Data",), info="Schema to define the structure of the extracted data.", input_kind="DataInput"),
        Input("enable_web_search", "Enable Web Search", "bool", False,
              info="When true, the extraction will use web search to find additional data.", input_kind="BoolInput"),
    )
    outputs = (Output("data", "extract", ("Data",), "Data"),)
    tool_fields = {"urls": ("string", "URLs to extract from, separated by commas."), "prompt": ("string", "What to extract.")}

    async def extract(self) -> Data:
        urls = [u.strip() for u in to_text(self.params.get("urls")).replace("\n", ",").split(",") if u.strip()]
        if not urls:
            raise ConfigurationError(f"Component '{self.name}': no valid URLs provided")
        prompt = to_text(self.params.get("prompt")).strip()
        if not prompt:
            raise ConfigurationError(f"Component '{self.name}': a prompt is required")
        if "schema" not in prompt.lower():  # as Langflow's node asks for every instance
            prompt = f"{prompt}. Please extract all instances in a comprehensive, structured format."
        body: dict[str, Any] = {"urls": urls, "prompt": prompt, "enableWebSearch": to_bool(self.param("enable_web_search", False)),
                                "ignoreSitemap": False, "includeSubdomains": False, "showSources": False}
        schema = _options(self.params.get("schema"))
        if "type" in schema:  # a JSON schema; anything else is left out, as Langflow does
            body["schema"] = schema
        started = await self._post("extract", body)
        job = started.get("id")
        if not job:
            raise ProviderError("Firecrawl did not return an extract job id", provider="Firecrawl")
        base = service_url(self, "firecrawl", "https://api.firecrawl.dev")
        status = await self._finished(f"{base}/v2/extract/{job}", "extract", EXTRACT_TIMEOUT_S)
        return Data(data=status)


class FirecrawlMapApi(_Firecrawl):
    type_name = "FirecrawlMapApi"
    display_name = "Firecrawl Map API"
    description = "Maps a URL and returns the results."
    inputs = (
        _FIRECRAWL_KEY,
        Input("urls", "URLs", "str", "", required=True, multiline=True, input_types=("Message",), info="List of URLs to create maps from (separated by commas or new lines).", input_kind="MultilineInput"),
        Input("ignore_sitemap", "Ignore Sitemap", "bool", False, info="When true, the sitemap.xml file will be ignored during crawling.", input_kind="BoolInput"),
        Input("sitemap_only", "Sitemap Only", "bool", False, info="When true, only links found in the sitemap will be returned.", input_kind="BoolInput"),
        Input("include_subdomains", "Include Subdomains", "bool", False, info="When true, subdomains of the provided URL will also be scanned.", input_kind="BoolInput"),
    )
    outputs = (Output("data", "map", ("JSON",), "JSON"),)
    tool_fields = {"urls": ("string", "URLs to map, separated by commas.")}

    async def map(self) -> Data:
        urls = [u.strip() for u in to_text(self.params.get("urls")).replace("\n", ",").split(",") if u.strip()]
        if not urls:
            raise ValueError("URLs are required")
        body: dict[str, Any] = {"includeSubdomains": to_bool(self.param("include_subdomains", False))}
        if to_bool(self.param("sitemap_only", False)):
            body["sitemap"] = "only"
        elif to_bool(self.param("ignore_sitemap", False)):
            body["sitemap"] = "skip"
        links: list[Any] = []
        for url in urls:
            result = await self._post("map", {**body, "url": url})
            links.extend(result.get("links") or [])
        return Data(data={"success": True, "links": links})


class FirecrawlSearchApi(_Firecrawl):
    type_name = "FirecrawlSearchApi"
    display_name = "Firecrawl Search API"
    description = "Searches the web and returns the results."
    inputs = (
        _FIRECRAWL_KEY,
        Input("query", "Query", "str", "", required=True, multiline=True, input_types=("Message",), info="The search query.", input_kind="MultilineInput"),
        Input("limit", "Limit", "int", 5, info="Maximum number of results to return.", input_kind="IntInput"),
        Input("location", "Location", "str", "", info="Location for localized search results.", input_kind="StrInput"),
    )
    outputs = (Output("data", "search", ("JSON",), "JSON"),)
    tool_fields = {"query": ("string", "The search query.")}

    async def search(self) -> Data:
        query = to_text(self.params.get("query")).strip()
        if not query:
            raise ValueError("Query is required")
        body: dict[str, Any] = {"query": query}
        if to_int(self.params.get("limit"), 0):
            body["limit"] = to_int(self.params.get("limit"), 5)
        if to_text(self.params.get("location")).strip():
            body["location"] = to_text(self.params.get("location")).strip()
        result = await self._post("search", body)
        return Data(data=result.get("data") if isinstance(result.get("data"), dict) else result)


class AssemblyAITranscriber(ToolModeMixin, Component):
    """The Meeting Summary starter's transcriber: submit `audio_url`, poll until done."""

    type_name = "AssemblyAITranscriber"
    display_name = "AssemblyAI Transcriber"
    description = "Transcribe an audio file from a URL with AssemblyAI."
    category = "assemblyai"
    icon = "AssemblyAI"
    inputs = (
        Input("api_key", "AssemblyAI API Key", "str", "", password=True, load_from_db=True, input_kind="SecretStrInput"),
        Input("audio_url", "Audio File URL", "str", "https://assembly.ai/wildfires.mp3", input_types=("Message",), input_kind="MessageTextInput"),
        Input("language_code", "Language Code", "str", "", advanced=True, input_kind="MessageTextInput"),
        Input("poll_timeout", "Poll Timeout (s)", "int", 300, advanced=True, info="Max seconds to wait for the transcription to finish.", input_kind="IntInput"),
        Input("speaker_labels", "Speaker Labels", "bool", False, advanced=True, input_kind="BoolInput"),
    )
    outputs = (Output("transcript", "transcribe", ("Message",), "Transcript"),)
    tool_fields = {"audio_url": ("string", "URL of the audio file to transcribe.")}

    async def transcribe(self) -> Message:
        key = await api_key(self, "api_key", "AssemblyAI")
        url = to_text(self.params.get("audio_url")).strip()
        if not url:
            raise ValueError("An Audio File URL is required.")
        body: dict[str, Any] = {"audio_url": url}
        if to_bool(self.param("speaker_labels", False)):
            body["speaker_labels"] = True
        if to_text(self.params.get("language_code")).strip():
            body["language_code"] = to_text(self.params.get("language_code")).strip()
        base = service_url(self, "assemblyai", "https://api.assemblyai.com")
        headers = {"authorization": key}
        job = await call_json(self, "AssemblyAI", "POST", f"{base}/v2/transcript", json_body=body, headers=headers, timeout=30)
        transcript_id = job.get("id")
        if not transcript_id:
            raise ProviderError("AssemblyAI did not return a transcript id", provider="AssemblyAI")
        timeout_s = to_int(self.param("poll_timeout", 300), 300) or 300
        deadline = time.monotonic() + timeout_s
        while True:
            data = await call_json(self, "AssemblyAI", "GET", f"{base}/v2/transcript/{transcript_id}", headers=headers, timeout=30)
            status = data.get("status")
            if status == "completed":
                text = data.get("text") or ""
                self.status = text[:500]
                return Message(text=text)
            if status == "error":
                raise ProviderError(f"AssemblyAI transcription error: {data.get('error', 'Transcription failed.')}", provider="AssemblyAI")
            if time.monotonic() >= deadline:
                raise ProviderTimeoutError(f"Transcription timed out after {timeout_s}s (last status: {status}).", provider="AssemblyAI")
            await asyncio.sleep(POLL_INTERVAL_S)


class ComposioAPIComponent(Component):
    """Composio actions as Agent tools, over Composio's v3 HTTP API: each selected action's schema
    (`GET /api/v3/tools/<slug>`) becomes a tool; calling it executes the action for the entity
    (`POST /api/v3/tools/execute/<slug>`), authenticated by the `x-api-key` header."""

    type_name = "ComposioAPI"
    display_name = "Composio Tools"
    description = "Use Composio toolset to run actions with your agent"
    category = "composio"
    icon = "Composio"
    inputs = (
        Input("entity_id", "Entity ID", "str", "default", input_types=("Message",), advanced=True, input_kind="MessageTextInput"),
        Input("api_key", "Composio API Key", "str", "", required=True, password=True, load_from_db=True,
              info="Refer to https://docs.composio.dev/faq/api_key/api_key", input_kind="SecretStrInput"),
        Input("tool_name", "Tool Name", "connect", "", info="The name of the tool to use", input_kind="ConnectionInput"),
        Input("actions", "Actions", "sortableList", "", info="The actions to use", input_kind="SortableListInput"),
    )
    outputs = (Output("tools", "build_tool", ("Tool",), "Tools"),)

    def _actions(self) -> list[str]:
        value = self.params.get("actions")
        items = value if isinstance(value, list) else [value] if value else []
        names = [str(i.get("name")) if isinstance(i, dict) else to_text(i) for i in items]
        return [n for n in names if n]

    async def build_tool(self) -> list[Any]:
        from urllib.parse import quote, unquote

        from flowless_engine.components.base import Tool

        key = await api_key(self, "api_key", "Composio")
        base = service_url(self, "composio", "https://backend.composio.dev")
        user = unquote(to_text(self.param("entity_id", "default")) or "default")
        headers = {"x-api-key": key}
        tools = []
        for slug in self._actions():
            schema = await call_json(self, "Composio", "GET", f"{base}/api/v3/tools/{quote(slug)}", headers=headers)
            parameters = schema.get("input_parameters") or {"type": "object", "properties": {}}

            async def run(arguments: dict[str, Any], _slug: str = slug) -> str:
                import json

                try:
                    answer = await call_json(self, "Composio", "POST", f"{base}/api/v3/tools/execute/{quote(_slug)}", headers=headers,
                                             json_body={"user_id": user, "arguments": arguments or {}})
                except (ProviderError, ProviderTimeoutError) as exc:
                    return f"Error: {exc.message}"
                except Exception as exc:  # a refused request (4xx) is reported to the model, not raised
                    message = getattr(exc, "message", str(exc))
                    return f"Error: {message}"
                if answer.get("successful") is False or answer.get("error"):
                    return f"Error: {answer.get('error') or 'the action failed'}"
                return json.dumps(answer.get("data"), ensure_ascii=False, default=str)

            tools.append(Tool(name=slug[:64], description=str(schema.get("description") or schema.get("name") or slug),
                              parameters=parameters, run=run, source_id=self.id))
        return tools

    def as_tools(self) -> list[Any]:
        from flowless_engine.errors import ConfigurationError

        raise ConfigurationError(f"{self.name}: connect its Tools output to the agent")
