"""Firecrawl (scrape, crawl with polling and pagination, map, search) and AssemblyAI (submit and
poll) through the engine against local servers written from their public API references."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from flowless_engine.components import hosted_apis
from flowless_engine.errors import ConfigurationError, ProviderError, ProviderTimeoutError
from flowless_engine.settings import EngineSettings
from tests.support import assemblyai_server, firecrawl_server
from tests.support.component_runs import run_flow, value
from tests.support.flows import flow, node


@pytest.fixture(autouse=True)
def fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hosted_apis, "POLL_INTERVAL_S", 0.01)


@pytest.fixture(scope="module")
def firecrawl() -> Iterator[firecrawl_server.FirecrawlServer]:
    with firecrawl_server.FirecrawlServer() as server:
        yield server


@pytest.fixture(scope="module")
def assemblyai() -> Iterator[assemblyai_server.AssemblyAIServer]:
    with assemblyai_server.AssemblyAIServer() as server:
        yield server


def one(type_name: str, values: dict) -> dict:
    f = flow("h", [node(f"{type_name}-n", type_name, values)], [])
    f["data"]["nodes"][0]["data"]["node"]["template"]["api_key"]["load_from_db"] = True
    return f


def settings_for(server: object, name: str) -> EngineSettings:
    return EngineSettings(allow_loopback=True, service_urls=((name, server.base_url),), http_retries=2)  # type: ignore[attr-defined]


async def test_firecrawl_scrape_map_and_search(firecrawl: firecrawl_server.FirecrawlServer) -> None:
    settings, variables = settings_for(firecrawl, "firecrawl"), {"FIRECRAWL_API_KEY": firecrawl_server.API_KEY}
    result = await run_flow(one("FirecrawlScrapeApi", {"api_key": "FIRECRAWL_API_KEY", "url": "https://docs.example", "timeout": 40000}),
                            settings=settings, variables=variables)
    data = value(result, "FirecrawlScrapeApi-n").data
    assert data["markdown"] == "# Page\n\nContent of https://docs.example"
    assert firecrawl.requests[-1].json() == {"formats": ["markdown"], "onlyMainContent": True, "timeout": 40000, "url": "https://docs.example"}
    result = await run_flow(one("FirecrawlMapApi", {"api_key": "FIRECRAWL_API_KEY", "urls": "https://a.example,\nhttps://b.example", "sitemap_only": True}),
                            settings=settings, variables=variables)
    assert [link["url"] for link in value(result, "FirecrawlMapApi-n").data["links"]] == [
        "https://a.example/a", "https://a.example/b", "https://b.example/a", "https://b.example/b"]
    assert firecrawl.requests[-1].json()["sitemap"] == "only"
    result = await run_flow(one("FirecrawlSearchApi", {"api_key": "FIRECRAWL_API_KEY", "query": "llm", "limit": 2}), settings=settings, variables=variables)
    assert [r["title"] for r in value(result, "FirecrawlSearchApi-n").data["web"]] == ["llm 0", "llm 1"]


async def test_firecrawl_crawl_polls_and_follows_pages(firecrawl: firecrawl_server.FirecrawlServer) -> None:
    firecrawl.crawl_polls = 2
    result = await run_flow(one("FirecrawlCrawlApi", {"api_key": "K", "url": "https://site.example", "crawlerOptions": {"maxDepth": 1}}),
                            settings=settings_for(firecrawl, "firecrawl"), variables={"K": firecrawl_server.API_KEY})
    results = value(result, "FirecrawlCrawlApi-n").data["results"]
    assert results["status"] == "completed" and [p["markdown"] for p in results["data"]] == ["page 1", "page 2", "page 3"]
    started = next(r.json() for r in firecrawl.requests if r.path == "/v2/crawl")
    assert started["maxDiscoveryDepth"] == 1 and started["scrapeOptions"] == {"onlyMainContent": True}
    assert sum(1 for r in firecrawl.requests if r.path == "/v2/crawl/job-1") == 3


async def test_firecrawl_extract_submits_then_polls_until_completed(firecrawl: firecrawl_server.FirecrawlServer) -> None:
    firecrawl.crawl_polls = 2
    schema = {"type": "object", "properties": {"products": {"type": "array"}}}
    result = await run_flow(one("FirecrawlExtractApi", {"api_key": "K", "urls": "https://shop.example/a,\nhttps://shop.example/b",
                                                        "prompt": "List the products", "schema": schema, "enable_web_search": True}),
                            settings=settings_for(firecrawl, "firecrawl"), variables={"K": firecrawl_server.API_KEY})
    data = value(result, "FirecrawlExtractApi-n").data
    assert data["status"] == "completed"
    assert data["data"]["products"] == [{"name": "item from https://shop.example/a"}, {"name": "item from https://shop.example/b"}]
    submitted = next(r.json() for r in firecrawl.requests if r.path == "/v2/extract")
    assert submitted["urls"] == ["https://shop.example/a", "https://shop.example/b"] and submitted["schema"] == schema
    assert submitted["prompt"] == "List the products. Please extract all instances in a comprehensive, structured format."
    assert submitted["enableWebSearch"] is True
    assert sum(1 for r in firecrawl.requests if r.path == "/v2/extract/extract-1") == 3
    with pytest.raises(ConfigurationError, match="no valid URLs"):
        await run_flow(one("FirecrawlExtractApi", {"api_key": "K", "urls": " , ", "prompt": "x"}),
                       settings=settings_for(firecrawl, "firecrawl"), variables={"K": firecrawl_server.API_KEY})


async def test_firecrawl_errors(firecrawl: firecrawl_server.FirecrawlServer) -> None:
    settings = settings_for(firecrawl, "firecrawl")
    with pytest.raises(ConfigurationError, match="Firecrawl refused the credentials \\(401\\)"):
        await run_flow(one("FirecrawlScrapeApi", {"api_key": "K", "url": "https://x.example"}), settings=settings, variables={"K": "wrong"})
    firecrawl.fail_next(2, 429)
    result = await run_flow(one("FirecrawlScrapeApi", {"api_key": "K", "url": "https://x.example"}), settings=settings, variables={"K": firecrawl_server.API_KEY})
    assert value(result, "FirecrawlScrapeApi-n").data["markdown"].endswith("https://x.example")
    firecrawl.fail_next(3, 502)
    with pytest.raises(ProviderError, match="Firecrawl failed"):
        await run_flow(one("FirecrawlScrapeApi", {"api_key": "K", "url": "https://x.example"}), settings=settings, variables={"K": firecrawl_server.API_KEY})
    firecrawl.crawl_polls = 10_000
    with pytest.raises(ProviderTimeoutError, match="did not finish within 0.2s"):
        await run_flow(one("FirecrawlCrawlApi", {"api_key": "K", "url": "https://site.example", "timeout": 200}), settings=settings, variables={"K": firecrawl_server.API_KEY})


async def test_assemblyai_submits_and_polls(assemblyai: assemblyai_server.AssemblyAIServer) -> None:
    settings, variables = settings_for(assemblyai, "assemblyai"), {"AAI": assemblyai_server.API_KEY}
    assemblyai.processing_polls, assemblyai.fail_audio = 2, False
    result = await run_flow(one("AssemblyAITranscriber", {"api_key": "AAI", "language_code": "en", "speaker_labels": True}), settings=settings, variables=variables)
    assert value(result, "AssemblyAITranscriber-n").text == "Smoke from wildfires is spreading across the region."
    assert assemblyai.last_body == {"audio_url": "https://assembly.ai/wildfires.mp3", "speaker_labels": True, "language_code": "en"}
    assert [r.path for r in assemblyai.requests[-3:]] == ["/v2/transcript/tr-1"] * 3
    assemblyai.fail_audio = True
    with pytest.raises(ProviderError, match="Download error"):
        await run_flow(one("AssemblyAITranscriber", {"api_key": "AAI"}), settings=settings, variables=variables)
    assemblyai.fail_audio, assemblyai.processing_polls = False, 10_000
    with pytest.raises(ProviderTimeoutError, match="timed out after 1s"):
        await run_flow(one("AssemblyAITranscriber", {"api_key": "AAI", "poll_timeout": 1}), settings=settings, variables=variables)
    with pytest.raises(ConfigurationError, match="AssemblyAI refused the credentials"):
        await run_flow(one("AssemblyAITranscriber", {"api_key": "AAI"}), settings=settings, variables={"AAI": "nope"})


async def test_composio_actions_as_agent_tools() -> None:
    import json

    from flowless_engine.llm.base import ChatResult, ToolCall
    from tests.support import composio_server
    from tests.support.engine_kit import FakeChatModel
    from tests.support.flows import edge

    with composio_server.ComposioServer() as server:
        model = FakeChatModel([
            ChatResult(text="", tool_calls=[ToolCall(id="1", name="GMAIL_SEND_EMAIL", arguments=json.dumps({"recipient_email": "a@b.c", "body": "hi"}))]),
            ChatResult(text="", tool_calls=[ToolCall(id="2", name="GMAIL_SEND_EMAIL", arguments="{}")]),
            "sent",
        ])
        composio = node("ComposioAPI-x", "ComposioAPI", {"api_key": "COMPOSIO_API_KEY", "entity_id": "me%40example.com",
                                                          "actions": [{"name": "GMAIL_SEND_EMAIL"}, {"name": "GOOGLECALENDAR_GET_CURRENT_DATE_TIME"}]})
        nodes = [node("ChatInput-c", "ChatInput"), composio,
                 node("Agent-a", "Agent", {"model": [{"name": "gpt-4o-mini", "provider": "OpenAI"}], "add_current_date_tool": False})]
        edges = [edge("ChatInput-c", "message", "Agent-a", "input_value"),
                 edge("ComposioAPI-x", "tools", "Agent-a", "tools", output_types=["Tool"], input_types=["Tool"])]
        result = await run_flow(flow("c", nodes, edges), "mail a@b.c", settings=settings_for(server, "composio"),
                                variables={"COMPOSIO_API_KEY": composio_server.API_KEY}, model_factory=lambda c: model)
        assert value(result, "Agent-a", "response").text == "sent"
        specs = {t.name: t for t in model.calls[0]["tools"]}
        assert set(specs) == {"GMAIL_SEND_EMAIL", "GOOGLECALENDAR_GET_CURRENT_DATE_TIME"}
        assert specs["GMAIL_SEND_EMAIL"].parameters["required"] == ["recipient_email"]
        replies = [m.content for m in model.calls[2]["messages"] if m.role == "tool"]
        assert json.loads(replies[0]) == {"echo": {"recipient_email": "a@b.c", "body": "hi"}, "user": "me@example.com"}
        assert replies[1] == "Error: recipient_email is required"
        with pytest.raises(ConfigurationError, match="Composio refused the credentials"):
            await run_flow(flow("c", nodes, edges), "x", settings=settings_for(server, "composio"),
                           variables={"COMPOSIO_API_KEY": "nope"}, model_factory=lambda c: FakeChatModel())
