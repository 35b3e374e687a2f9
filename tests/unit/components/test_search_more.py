"""Wikipedia / Wikidata (current nodes), the older Web Search node and the search APIs added
after the first search family (Bing, Google Custom Search core, SearchAPI's and SerpAPI's current
nodes, Glean), through the engine against tests/support/search_server.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from flowless_engine.errors import ConfigurationError, ProviderError, ProviderTimeoutError
from flowless_engine.settings import EngineSettings
from tests.support.component_runs import run_flow, value
from tests.support.flows import flow, node
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


async def test_web_search_no_api_is_the_web_mode(server: SearchServer, settings: EngineSettings) -> None:
    frame = await run_one("WebSearchNoAPI", {"query": "kites", "timeout": 5}, settings)
    assert len(frame.rows) == 5 and list(frame.rows[0]) == ["title", "link", "snippet", "content"]
    assert frame.rows[0]["title"] == "kites result 0" and frame.rows[0]["content"].startswith("Page 0")
    assert server.paths()[0] == "/html/"
