"""Wikipedia / Wikidata (current nodes), the older Web Search node and the search APIs added
after the first search family (Bing, Google Custom Search core, SearchAPI's and SerpAPI's current
nodes, Glean), through the engine against tests/support/search_server.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from flowless_engine.errors import ConfigurationError, ProviderError, ProviderTimeoutError
from flowless_engine.settings import EngineSettings
from tests.support.component_runs import run_flow, value
from tests.support.flows import edge, flow, node
from tests.support.search_server import API_KEY, SearchServer


@pytest.fixture(scope="module")
def server() -> Iterator[SearchServer]:
    with SearchServer() as s:
        yield s


@pytest.fixture
def settings(server: SearchServer) -> EngineSettings:
    server.reset()
    return EngineSettings(allow_loopback=True, service_urls=server.service_urls(), http_retries=2)


async def run_one(type_name: str, values: dict, settings: EngineSettings, output: str | None = None, variables: dict | None = None):
    n = node(f"{type_name}-n1", type_name, values)
    result = await run_flow(flow("t", [n], []), settings=settings, variables=variables or {"KEY": API_KEY})
    return value(result, f"{type_name}-n1", output)


async def test_wikipedia_component_table(server: SearchServer, settings: EngineSettings) -> None:
    frame = await run_one("WikipediaComponent", {"input_value": "Paris", "k": 2, "lang": "fr", "doc_content_chars_max": 15}, settings)
    assert [r["title"] for r in frame.rows] == ["Title 100", "Title 101"]
    assert frame.rows[0]["text"] == "First paragraph" and frame.rows[0]["source"] == "https://en.wikipedia.org/wiki/100"
    search, pages = server.requests
    assert search.q["srsearch"] == "Paris" and search.q["srlimit"] == "2" and pages.q["pageids"] == "100|101"


async def test_wikidata_component_rows(server: SearchServer, settings: EngineSettings) -> None:
    frame = await run_one("WikidataComponent", {"query": "Paris"}, settings)
    assert frame.rows[0] == {"text": "Paris: capital of France", "label": "Paris", "id": "Q90", "url": None,
                             "description": "capital of France", "concepturi": None}
    assert server.requests[-1].q == {"action": "wbsearchentities", "format": "json", "search": "Paris", "language": "en"}
    assert (await run_one("WikidataComponent", {"query": " "}, settings)).rows == [{"error": "No search results found for the given query."}]
    server.fail_next(2, 429)  # rate limited, retried
    assert len((await run_one("WikidataComponent", {"query": "Paris"}, settings)).rows) == 2
    server.fail_next(3, 503)
    with pytest.raises(ProviderError, match="Wikidata failed"):
        await run_one("WikidataComponent", {"query": "Paris"}, settings)


async def test_web_search_no_api_is_the_web_mode_without_limits(server: SearchServer, settings: EngineSettings) -> None:
    frame = await run_one("WebSearchNoAPI", {"query": "kites", "timeout": 5}, settings)
    assert len(frame.rows) == 8 and list(frame.rows[0]) == ["title", "link", "snippet", "content"]  # every result
    assert frame.rows[0]["title"] == "kites result 0" and frame.rows[0]["content"].startswith("Page 0")
    assert len(frame.rows[0]["content"]) > 4000 and not frame.rows[0]["content"].endswith("[truncated]")  # the full page text
    assert server.paths()[0] == "/html/" and len(server.paths()) == 9


async def test_bing_rows_and_a_refused_key(server: SearchServer, settings: EngineSettings) -> None:
    frame = await run_one("BingSearchAPI", {"bing_subscription_key": "KEY", "input_value": "otters", "k": 2}, settings)
    assert frame.rows == [{"text": "<b>Snippet</b> 0", "snippet": "<b>Snippet</b> 0", "title": "otters 0", "link": "https://bing.example/0"},
                          {"text": "<b>Snippet</b> 1", "snippet": "<b>Snippet</b> 1", "title": "otters 1", "link": "https://bing.example/1"}]
    assert server.requests[-1].q == {"q": "otters", "count": "2", "textDecorations": "true", "textFormat": "HTML"}
    custom = await run_one("BingSearchAPI", {"bing_subscription_key": "KEY", "input_value": "x", "bing_search_url": f"{server.base_url}/v7.0/search"}, settings)
    assert len(custom.rows) == 4
    with pytest.raises(ConfigurationError, match=r"Bing refused the credentials \(401\): Access denied"):
        await run_one("BingSearchAPI", {"bing_subscription_key": "KEY", "input_value": "x"}, settings, variables={"KEY": "nope"})


async def test_google_search_core_table(server: SearchServer, settings: EngineSettings) -> None:
    values = {"google_api_key": "KEY", "google_cse_id": "KEY", "input_value": "maps", "k": 3}
    frame = await run_one("GoogleSearchAPICore", values, settings)
    assert frame.rows[0] == {"title": "maps 0", "link": "https://g.example/0", "snippet": "Snippet 0"} and len(frame.rows) == 3
    assert {k: server.requests[-1].q[k] for k in ("cx", "q", "num")} == {"cx": API_KEY, "q": "maps", "num": "3"}
    with pytest.raises(ConfigurationError, match=r"Google Search rejected the request \(400\): API key not valid"):
        await run_one("GoogleSearchAPICore", values, settings, variables={"KEY": "bad"})
    frame = await run_one("GoogleSearchAPICore", {**values, "google_api_key": "EMPTY"}, settings, variables={"KEY": API_KEY, "EMPTY": ""})
    assert frame.rows == [{"error": "Invalid Google API Key"}]


async def test_glean_search(server: SearchServer, settings: EngineSettings) -> None:
    values = {"glean_api_url": f"{server.base_url}/rest/api/v1", "glean_access_token": "KEY", "query": "roadmap", "page_size": 2,
              "request_options": {"facetFilters": []}}
    frame = await run_one("GleanSearchAPIComponent", values, settings)
    assert [r["text"] for r in frame.rows] == ["Doc 0", "Hit 1"]  # a result without snippets gets its title
    request = server.requests[-1]
    assert request.json() == {"query": "roadmap", "pageSize": 2, "requestOptions": {"facetFilters": []}}
    assert request.headers["x-scio-actas"] == "langflow-component@datastax.com"
    with pytest.raises(ConfigurationError, match="No good Glean Search Result was found"):
        await run_one("GleanSearchAPIComponent", {**values, "query": "nothing"}, settings)
    with pytest.raises(ConfigurationError, match=r"Glean refused the credentials \(401\)"):
        await run_one("GleanSearchAPIComponent", values, settings, variables={"KEY": "bad"})


async def test_current_serp_and_searchapi_nodes(server: SearchServer, settings: EngineSettings) -> None:
    rows = await run_one("Serp", {"serpapi_api_key": "KEY", "input_value": "tea", "max_results": 2, "max_snippet_length": 5}, settings)
    assert [d.data["snippet"] for d in rows] == ["SSSSS", "SSSSS"] and rows[0].data["text"] == "S" * 150
    result = await run_flow(flow("t", [node("Serp-n1", "Serp", {"serpapi_api_key": "KEY", "input_value": "tea", "max_results": 2}),
                                       node("ChatOutput-o1", "ChatOutput")],
                                 [edge("Serp-n1", "text", "ChatOutput-o1", "input_value")]),
                            settings=settings, variables={"KEY": API_KEY})
    assert value(result, "Serp-n1", "text").text == ("S" * 150 + "\n") * 2
    frame = await run_one("SearchComponent", {"api_key": "KEY", "engine": "bing", "input_value": "tea", "max_results": 3}, settings)
    assert [r["title"] for r in frame.rows] == ["bing:tea 0", "bing:tea 1", "bing:tea 2"]
    server.fail_next(2, 503)
    assert len((await run_one("SearchComponent", {"api_key": "KEY", "input_value": "tea"}, settings)).rows) == 5
    server.fail_next(3, 503)
    with pytest.raises(ProviderError, match="SearchAPI failed"):
        await run_one("SearchComponent", {"api_key": "KEY", "input_value": "tea"}, settings)
    server.delay_next(1.5)
    with pytest.raises(ProviderTimeoutError):
        await run_one("SearchComponent", {"api_key": "KEY", "input_value": "tea"},
                      EngineSettings(allow_loopback=True, service_urls=server.service_urls(), http_timeout_s=0.5, http_retries=0))
