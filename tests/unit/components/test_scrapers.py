"""ScrapeGraph and AgentQL nodes through the engine against tests/support/scraping_server.py."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from flowless_engine.components import scrapers
from flowless_engine.errors import ConfigurationError, ProviderError
from flowless_engine.settings import EngineSettings
from tests.support.component_runs import run_flow, value
from tests.support.engine_kit import FakeChatModel
from tests.support.flows import edge, flow, node
from tests.support.scraping_server import API_KEY, ScrapingServer


@pytest.fixture(scope="module")
def server() -> Iterator[ScrapingServer]:
    with ScrapingServer() as s:
        yield s


@pytest.fixture
def settings(server: ScrapingServer, monkeypatch: pytest.MonkeyPatch) -> EngineSettings:
    monkeypatch.setattr(scrapers._ScrapeGraph, "POLL_INTERVAL_S", 0.01)
    server.reset()
    return EngineSettings(allow_loopback=True, service_urls=server.service_urls(), http_retries=2)


async def run_one(type_name: str, values: dict, settings: EngineSettings, key: str = API_KEY):
    result = await run_flow(flow("t", [node(f"{type_name}-n", type_name, {"api_key": "K", **values})], []), settings=settings, variables={"K": key})
    return value(result, f"{type_name}-n")


async def test_scrapegraph_services(server: ScrapingServer, settings: EngineSettings) -> None:
    md = await run_one("ScrapeGraphMarkdownifyApi", {"url": "https://docs.example"}, settings)
    assert md.data["result"] == "# Markdown of https://docs.example" and md.data["status"] == "completed"
    assert server.requests[-1].json() == {"website_url": "https://docs.example"} and server.requests[-1].headers["sgai-apikey"] == API_KEY
    smart = await run_one("ScrapeGraphSmartScraperApi", {"url": "https://shop.example/slow", "prompt": "prices"}, settings)
    assert smart.data["result"] == {"answer": "smartscraper: https://shop.example/slow", "prompt": "prices"}
    assert [r.method for r in server.requests[-2:]] == ["POST", "GET"]  # processing, then followed to completion
    search = await run_one("ScrapeGraphSearchApi", {"user_prompt": "latest python"}, settings)
    assert search.data["result"]["answer"] == "searchscraper: latest python"
    with pytest.raises(ProviderError, match="ScrapeGraph smartscraper failed: Could not load the page"):
        await run_one("ScrapeGraphSmartScraperApi", {"url": "https://broken.example", "prompt": "x"}, settings)
    with pytest.raises(ConfigurationError, match=r"ScrapeGraph refused the credentials \(401\)"):
        await run_one("ScrapeGraphMarkdownifyApi", {"url": "https://docs.example"}, settings, key="nope")
    server.fail_next(2, 503)
    assert (await run_one("ScrapeGraphSearchApi", {"user_prompt": "x"}, settings)).data["status"] == "completed"


async def test_agentql_query_data(server: ScrapingServer, settings: EngineSettings) -> None:
    data = await run_one("AgentQL", {"url": "https://shop.example", "prompt": "products and prices", "mode": "standard", "wait_for": 2}, settings)
    assert data.data == {"result": {"products": [{"name": "Kettle", "price": 20}], "asked": "products and prices"}, "metadata": {"request_id": "aql-1"}}
    body = server.requests[-1].json()
    assert body["params"] == {"mode": "standard", "wait_for": 2, "is_scroll_to_bottom_enabled": False, "is_screenshot_enabled": False}
    assert body["query"] is None and server.requests[-1].headers["x-tf-request-origin"] == "langflow"
    with pytest.raises(ConfigurationError, match="Both Query and Prompt"):
        await run_one("AgentQL", {"url": "https://shop.example", "prompt": "a", "query": "{ b }"}, settings)
    with pytest.raises(ConfigurationError, match=r"AgentQL refused the credentials \(401\): Invalid API key"):
        await run_one("AgentQL", {"url": "https://shop.example", "query": "{ b }"}, settings, key="nope")


async def test_smart_scraper_as_an_agent_tool(server: ScrapingServer, settings: EngineSettings) -> None:
    from flowless_engine.llm.base import ChatResult, ToolCall

    call = ToolCall(id="c1", name="scrape", arguments=json.dumps({"url": "https://news.example", "prompt": "headlines"}))
    model = FakeChatModel([ChatResult(text="", tool_calls=[call]), "done"])
    nodes = [node("ChatInput-c1", "ChatInput"), node("ScrapeGraphSmartScraperApi-s", "ScrapeGraphSmartScraperApi", {"api_key": "K"}),
             node("Agent-a1", "Agent", {"model": [{"name": "gpt-4o-mini", "provider": "OpenAI"}], "add_current_date_tool": False})]
    nodes[1]["data"]["node"]["outputs"] = [{"name": "component_as_tool", "method": "to_toolkit", "types": ["Tool"]}]
    edges = [edge("ChatInput-c1", "message", "Agent-a1", "input_value"),
             edge("ScrapeGraphSmartScraperApi-s", "component_as_tool", "Agent-a1", "tools", output_types=["Tool"], input_types=["Tool"])]
    result = await run_flow(flow("t", nodes, edges), "what's new?", settings=settings, variables={"K": API_KEY}, model_factory=lambda c: model)
    assert value(result, "Agent-a1", "response").text == "done"
    reply = json.loads(next(m for m in model.calls[1]["messages"] if m.role == "tool").content)
    assert reply["result"] == {"answer": "smartscraper: https://news.example", "prompt": "headlines"}


async def test_spider_scrape_and_crawl(server: ScrapingServer, settings: EngineSettings) -> None:
    async def spider(values: dict, key: str = API_KEY):
        n = node("SpiderTool-n", "SpiderTool", {"spider_api_key": "K", "url": "https://site.example", **values})
        return value(await run_flow(flow("t", [n], []), settings=settings, variables={"K": key}), "SpiderTool-n")

    rows = await spider({"mode": "scrape", "limit": 9})
    assert [d.data for d in rows] == [{"content": "# Page 0 of https://site.example", "url": "https://site.example"}]
    assert server.requests[-1].json() == {"url": "https://site.example", "limit": 1, "depth": None, "blacklist": None, "whitelist": None,
                                          "readability": False, "request_timeout": None, "metadata": False, "return_format": "markdown"}
    rows = await spider({"mode": "crawl", "metadata": True, "depth": 2})
    assert len(rows) == 3 and rows[2].data["metadata"] == {"title": "Page 2"}
    await spider({"mode": "crawl", "params": {"limit": 2, "return_format": "text"}})
    assert server.requests[-1].json() == {"url": "https://site.example", "limit": 2, "return_format": "text"}  # the dict replaces the fields
    with pytest.raises(ConfigurationError, match=r"Spider refused the credentials \(401\)"):
        await spider({"mode": "scrape"}, key="nope")


async def test_jigsawstack_search_and_scraper(server: ScrapingServer, settings: EngineSettings) -> None:
    nodes = [node("JigsawStackAISearch-j", "JigsawStackAISearch", {"api_key": "K", "query": "rust async", "safe_search": "strict"}),
             node("ChatOutput-a", "ChatOutput"), node("ChatOutput-b", "ChatOutput")]
    edges = [edge("JigsawStackAISearch-j", "search_results", "ChatOutput-a", "input_value", output_types=["Data"]),
             edge("JigsawStackAISearch-j", "content_text", "ChatOutput-b", "input_value")]
    result = await run_flow(flow("t", nodes, edges), settings=settings, variables={"K": API_KEY})
    found = value(result, "JigsawStackAISearch-j", "search_results").data
    assert found["ai_overview"] == "Overview of rust async" and len(found["results"]) == 3 and found["success"] is True
    assert value(result, "JigsawStackAISearch-j", "content_text").text == "Overview of rust async"
    assert [r.path for r in server.requests] == ["/v1/web/search"]  # one call for both outputs
    assert server.requests[0].json() == {"byo_urls": [], "query": "rust async", "ai_overview": True, "safe_search": "strict", "spell_check": True}
    with pytest.raises(ProviderError, match="unsuccessful response: Search failed"):
        await run_one("JigsawStackAISearch", {"query": "fail"}, settings)
    scraped = await run_one("JigsawStackAIScraper", {"url": "https://pricing.example", "element_prompts": "Plan price, Plan title"}, settings)
    assert [d["key"] for d in scraped.data["data"]] == ["Plan price", "Plan title"] and scraped.data["context"]["root"] == "main"
    with pytest.raises(ConfigurationError, match="between 1 and 5 element prompts"):
        await run_one("JigsawStackAIScraper", {"url": "https://p.example", "element_prompts": "a,b,c,d,e,f"}, settings)
    with pytest.raises(ConfigurationError, match=r"JigsawStack refused the credentials \(401\): Invalid API key"):
        await run_one("JigsawStackAIScraper", {"url": "https://p.example", "element_prompts": "a"}, settings, key="nope")
