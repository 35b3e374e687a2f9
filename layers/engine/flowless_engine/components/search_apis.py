"""More hosted search APIs: Bing Web Search (v7), Google's Custom Search JSON API (the current
core node), Glean's search API, and the current SerpAPI / SearchApi nodes (components/search.py
has their older spellings and the shared request code).

Endpoints can be replaced per service (`EngineSettings.service_urls`): bing, google_search,
serpapi, searchapi; Glean's and a custom Bing URL come from the node. Errors as for every
hosted API (apis.py): a refused key is a clear 4xx naming the service, 429/5xx are retried then
502, no answer in time 504.
"""

from __future__ import annotations

from typing import Any

from flowless_engine.components.apis import FetchedRows, api_key, call_json, service_url
from flowless_engine.components.base import Component, Input, Output, to_int, to_text
from flowless_engine.components.search import SearchAPIComponent, SerpAPIComponent
from flowless_engine.components.toolmode import ToolModeMixin
from flowless_engine.errors import ConfigurationError
from flowless_engine.schema import Data, DataFrame, Message

_MSG = ("Message",)


class _Rows(ToolModeMixin, FetchedRows, Component):
    """A search node whose rows come from `fetch_content` (list of Data), offered as a Table."""

    category = "tools"


class BingSearchAPIComponent(_Rows):
    """Bing Web Search v7 (`GET /v7.0/search?q=&count=`, `Ocp-Apim-Subscription-Key`): web pages
    as rows (snippet, title, link), as LangChain's Bing wrapper reports them."""

    type_name = "BingSearchAPI"
    display_name = "Bing Search API"
    description = "Call the Bing Search API."
    icon = "Bing"
    inputs = (
        Input("bing_subscription_key", "Bing Subscription Key", "str", "", password=True, load_from_db=True, input_kind="SecretStrInput"),
        Input("input_value", "Input", "str", "", input_types=_MSG, multiline=True, input_kind="MultilineInput"),
        Input("bing_search_url", "Bing Search URL", "str", "", input_types=_MSG, advanced=True, input_kind="MessageTextInput"),
        Input("k", "Number of results", "int", 4, required=True, input_kind="IntInput"),
    )
    outputs = (Output("dataframe", "fetch_content_dataframe", ("Table",), "Table"), Output("tool", "build_tool", ("Tool",), "Tool"))
    tool_fields = {"input_value": ("string", "The search query.")}
    tool_outputs = ("dataframe",)

    async def fetch_content(self) -> list[Data]:
        key = await api_key(self, "bing_subscription_key", "Bing")
        url = to_text(self.params.get("bing_search_url")).strip() or service_url(self, "bing", "https://api.bing.microsoft.com") + "/v7.0/search"
        result = await call_json(self, "Bing", "GET", url, headers={"Ocp-Apim-Subscription-Key": key},
                                 params={"q": to_text(self.params.get("input_value")), "count": to_int(self.param("k", 4), 4),
                                         "textDecorations": True, "textFormat": "HTML"})
        pages = ((result.get("webPages") or {}).get("value") or [])[: to_int(self.param("k", 4), 4)]
        rows = [Data(data={"text": p.get("snippet", ""), "snippet": p.get("snippet", ""), "title": p.get("name", ""), "link": p.get("url", "")})
                for p in pages]
        self.status = rows
        return rows


class GoogleSearchAPICoreComponent(ToolModeMixin, Component):
    """Google's Custom Search JSON API (`GET /customsearch/v1?key=&cx=&q=&num=`) as one Table:
    title, link, snippet per item (one `Result` row when nothing matched)."""

    type_name = "GoogleSearchAPICore"
    display_name = "Google Search API"
    description = "Deprecated. Call Google's Custom Search JSON API and return results as a DataFrame."
    category = "google"
    icon = "Google"
    inputs = (
        Input("google_api_key", "Google API Key", "str", "", required=True, password=True, load_from_db=True, input_kind="SecretStrInput"),
        Input("google_cse_id", "Google CSE ID", "str", "", required=True, password=True, load_from_db=True, input_kind="SecretStrInput"),
        Input("input_value", "Input", "str", "", input_types=_MSG, multiline=True, input_kind="MultilineInput"),
        Input("k", "Number of results", "int", 4, required=True, input_kind="IntInput"),
    )
    outputs = (Output("results", "search_google", ("Table",), "Results"),)
    tool_fields = {"input_value": ("string", "The search query.")}

    async def search_google(self) -> DataFrame:
        key = await self.secret("google_api_key")
        if not key:
            return DataFrame(rows=[{"error": "Invalid Google API Key"}])
        cse = await self.secret("google_cse_id")
        if not cse:
            return DataFrame(rows=[{"error": "Invalid Google CSE ID"}])
        base = service_url(self, "google_search", "https://www.googleapis.com")
        result = await call_json(self, "Google Search", "GET", f"{base}/customsearch/v1",
                                 params={"key": key, "cx": cse, "q": to_text(self.params.get("input_value")), "num": min(10, max(1, to_int(self.param("k", 4), 4)))})
        items = result.get("items") or []
        if not items:
            return DataFrame(rows=[{"Result": "No good Google Search Result was found"}])
        return DataFrame(rows=[{"title": i.get("title", ""), "link": i.get("link", ""), **({"snippet": i["snippet"]} if "snippet" in i else {})}
                               for i in items])


class GleanSearchAPIComponent(_Rows):
    """Glean's search (`POST <api url>/search`, Bearer token, `X-Scio-ActAs`): results as rows,
    `text` the first snippet (the title when a result has none)."""

    type_name = "GleanSearchAPIComponent"
    display_name = "Glean Search API"
    description = "Search using Glean's API."
    icon = "Glean"
    inputs = (
        Input("glean_api_url", "Glean API URL", "str", "", required=True, input_kind="StrInput"),
        Input("glean_access_token", "Glean Access Token", "str", "", required=True, password=True, load_from_db=True, input_kind="SecretStrInput"),
        Input("query", "Query", "str", "", input_types=_MSG, required=True, multiline=True, input_kind="MultilineInput"),
        Input("page_size", "Page Size", "int", 10, input_kind="IntInput"),
        Input("request_options", "Request Options", "NestedDict", {}, input_kind="NestedDictInput"),
    )
    outputs = (Output("dataframe", "fetch_content_dataframe", ("Table",), "Table"),)
    tool_fields = {"query": ("string", "The search query.")}
    ACT_AS = "langflow-component@datastax.com"

    async def fetch_content(self) -> list[Data]:
        token = await api_key(self, "glean_access_token", "Glean")
        url = to_text(self.params.get("glean_api_url")).strip()
        if not url.startswith(("http://", "https://")):
            raise ConfigurationError(f"{self.name}: the Glean API URL must be an http(s) URL", provider="Glean")
        options = self.params.get("request_options")
        body: dict[str, Any] = {"query": to_text(self.params.get("query")), "pageSize": to_int(self.param("page_size", 10), 10),
                                "requestOptions": options.data if isinstance(options, Data) else options if isinstance(options, dict) and options else None}
        result = await call_json(self, "Glean", "POST", url.rstrip("/") + "/search", json_body=body,
                                 headers={"Authorization": f"Bearer {token}", "X-Scio-ActAs": self.ACT_AS})
        results = result.get("results") or []
        if not results:
            raise ConfigurationError("Error in Glean Search API: No good Glean Search Result was found", provider="Glean")
        rows = []
        for item in results:
            if "title" in item:
                snippets = item.get("snippets") or [{"snippet": {"text": item["title"]}}]
                if "text" not in snippets[0]:
                    snippets[0] = {**snippets[0], "text": item["title"]}
                item = {**item, "snippets": snippets}
            first = (item.get("snippets") or [{}])[0]
            rows.append(Data(data={"text": first.get("text", ""), **item}))
        self.status = rows
        return rows


class SerpComponent(SerpAPIComponent):
    """The current SerpAPI node: `data` (rows) and `text` (each snippet on its line)."""

    type_name = "Serp"
    outputs = (Output("data", "fetch_content", ("JSON",), "JSON"), Output("text", "fetch_content_text", ("Message",), "Text"))
    tool_outputs = ("data",)

    async def fetch_content_text(self) -> Message:
        rows = await self.fetch_content()
        return Message(text="".join(f"{d.data.get('text', '')}\n" for d in rows))


class SearchComponent(SearchAPIComponent):
    """The current SearchApi node (engine google / bing / duckduckgo) as one Table."""

    type_name = "SearchComponent"
    display_name = "SearchApi"
    description = "Calls the SearchApi API with result limiting. Supports Google, Bing and DuckDuckGo."
    inputs = (
        Input("engine", "Engine", "str", "google", options=("google", "bing", "duckduckgo"), input_kind="DropdownInput"),
        *SearchAPIComponent.inputs[1:],
    )
    outputs = (Output("dataframe", "fetch_content_dataframe", ("Table",), "Table"),)
    tool_outputs = ("dataframe",)
