"""Web search (Web/News/RSS), News, RSS, DuckDuckGo and the hosted search APIs, run through the
engine against the local stand-ins of tests/support/search_server.py."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from flowless_engine.errors import ComponentError, ConfigurationError, MissingVariableError, ProviderError, ProviderTimeoutError
from flowless_engine.schema import DataFrame
from flowless_engine.settings import EngineSettings
from tests.support.component_runs import run_flow, value
from tests.support.engine_kit import FakeChatModel
from tests.support.flows import edge, flow, node
from tests.support.search_server import API_KEY, SearchServer


@pytest.fixture(scope="module")
def server() -> Iterator[SearchServer]:
    with SearchServer() as s:
        yield s


@pytest.fixture
def settings(server: SearchServer) -> EngineSettings:
    server.requests.clear()
    server.fail_next(0)
    return EngineSettings(allow_loopback=True, service_urls=server.service_urls(), http_retries=2)


def one(type_name: str, values: dict, input_field: str | None = None) -> dict:
    nid = f"{type_name}-n1"
    nodes = [node(nid, type_name, values)]
    for spec in nodes[0]["data"]["node"]["template"].values():  # literal credentials unless a test says otherwise
        if isinstance(spec, dict):
            spec["load_from_db"] = False
    edges = []
    if input_field:
        nodes.insert(0, node("ChatInput-c1", "ChatInput"))
        edges.append(edge("ChatInput-c1", "message", nid, input_field))
    return flow("t", nodes, edges)


async def test_web_mode_searches_duckduckgo_and_fetches_each_page(server: SearchServer, settings: EngineSettings) -> None:
    result = await run_flow(one("UnifiedWebSearch", {"max_results": 3, "max_content_length": 60}, "query"), "solar <panels>", settings=settings)
    frame = value(result, "UnifiedWebSearch-n1", "results")
    assert isinstance(frame, DataFrame) and len(frame.rows) == 3
    assert list(frame.rows[0]) == ["title", "link", "snippet", "content"]
    assert frame.rows[0]["title"] == "solar panels result 0"  # <, >, quotes stripped from the query
    assert frame.rows[0]["link"] == f"{server.base_url}/pages/0"  # the uddg redirect decoded
    assert frame.rows[0]["snippet"] == "Snippet 0 about solar panels"
    assert frame.rows[0]["content"].startswith("Page 0 Page 0 Long content.")
    assert len(frame.rows[0]["content"]) == 60 and frame.rows[0]["content"].endswith("... [truncated]")
    assert server.paths() == ["/html/", "/pages/0", "/pages/1", "/pages/2"]
    assert server.requests[0].query == {"q": ["solar panels"], "kl": ["us-en"]}


async def test_web_mode_page_refused_by_the_guard_is_reported_in_content(server: SearchServer, settings: EngineSettings) -> None:
    result = await run_flow(one("UnifiedWebSearch", {"query": "cloud metadata", "max_results": 1}), settings=settings)
    (row,) = value(result, "UnifiedWebSearch-n1").rows
    assert row["link"] == "http://169.254.169.254/latest/meta-data"
    assert row["content"].startswith("(Blocked by SSRF protection: Refusing to connect")
    # The search endpoint itself refused by the guard: the run fails with URL_BLOCKED (a 4xx).
    from flowless_engine.errors import BlockedURLError

    with pytest.raises(BlockedURLError):
        await run_flow(one("UnifiedWebSearch", {"query": "x"}), settings=EngineSettings(service_urls=server.service_urls()))


async def test_news_mode_keyword_topic_and_location_feeds(server: SearchServer, settings: EngineSettings) -> None:
    result = await run_flow(one("UnifiedWebSearch", {"search_mode": "News", "query": "mars rover", "hl": "fr-FR", "gl": "FR"}), settings=settings)
    frame = value(result, "UnifiedWebSearch-n1")
    assert len(frame.rows) == 5  # max_results default
    assert frame.rows[0] == {"title": "mars rover story 0 bold", "link": "https://news.example/0",
                             "published": "Mon, 01 Dec 2026 10:00:00 GMT", "summary": "Summary 0 of mars rover"}
    assert server.requests[-1].path == "/rss/search"
    assert server.requests[-1].query == {"q": ["mars rover"], "hl": ["fr-FR"], "gl": ["FR"], "ceid": ["FR:fr"]}
    await run_flow(one("UnifiedWebSearch", {"search_mode": "News", "query": "x", "topic": "science"}), settings=settings)
    assert server.requests[-1].path == "/rss/headlines/section/topic/SCIENCE"
    await run_flow(one("UnifiedWebSearch", {"search_mode": "News", "query": "x", "location": "Paris"}), settings=settings)
    assert server.requests[-1].path == "/rss/headlines/section/geo/Paris"


async def test_rss_mode_reads_a_feed_and_zero_means_no_limit(server: SearchServer, settings: EngineSettings) -> None:
    result = await run_flow(one("UnifiedWebSearch", {"search_mode": "RSS", "query": f"{server.base_url}/feeds/tech", "max_results": 0}), settings=settings)
    frame = value(result, "UnifiedWebSearch-n1")
    assert len(frame.rows) == 7
    assert frame.rows[2]["title"] == "Feed tech story 2 <b>bold</b>"  # RSS mode keeps the raw text
    assert frame.rows[2]["summary"] == "<p>Summary 2 of Feed tech</p>"


async def test_rss_feed_with_entity_declarations_is_refused(server: SearchServer, settings: EngineSettings) -> None:
    from flowless_engine.components.search import parse_feed

    with pytest.raises(ValueError, match="DTD"):
        parse_feed(b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><rss><channel><item><title>&a;</title></item></channel></rss>')
    atom = parse_feed(b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>T</title><link href="https://a/1"/><updated>u</updated><summary>S</summary></entry></feed>')
    assert atom == [{"title": "T", "link": "https://a/1", "published": "u", "summary": "S"}]


async def test_news_search_and_rss_reader_components(server: SearchServer, settings: EngineSettings) -> None:
    result = await run_flow(one("NewsSearch", {"query": "ai"}), settings=settings)
    assert len(value(result, "NewsSearch-n1", "articles").rows) == 12  # NewsSearch has no limit
    result = await run_flow(one("RSSReaderSimple", {"rss_url": f"{server.base_url}/feeds/a"}), settings=settings)
    assert [r["link"] for r in value(result, "RSSReaderSimple-n1", "articles").rows][:2] == ["https://news.example/0", "https://news.example/1"]


async def test_web_search_as_an_agent_tool(server: SearchServer, settings: EngineSettings) -> None:
    from flowless_engine.llm.base import ChatResult, ToolCall

    model = FakeChatModel([ChatResult(text="", tool_calls=[ToolCall(id="c1", name="perform_search", arguments=json.dumps({"query": f"{server.base_url}/feeds/x", "search_mode": "RSS"}))]), "done"])
    nodes = [node("ChatInput-c1", "ChatInput"), node("UnifiedWebSearch-w1", "UnifiedWebSearch", {"query": "placeholder"}),
             node("Agent-a1", "Agent", {"model": [{"name": "gpt-4o-mini", "provider": "OpenAI"}], "add_current_date_tool": False})]
    nodes[1]["data"]["node"]["outputs"] = [{"name": "component_as_tool", "method": "to_toolkit", "types": ["Tool"]}]  # tool mode
    edges = [edge("ChatInput-c1", "message", "Agent-a1", "input_value"),
             edge("UnifiedWebSearch-w1", "component_as_tool", "Agent-a1", "tools", output_types=["Tool"], input_types=["Tool"])]
    result = await run_flow(flow("t", nodes, edges), "find it", settings=settings, model_factory=lambda config: model)
    assert value(result, "Agent-a1", "response").text == "done"
    tools = model.calls[0]["tools"]
    assert [t.name for t in tools] == ["perform_search"]
    tool_reply = next(m for m in model.calls[1]["messages"] if m.role == "tool").content
    assert json.loads(tool_reply)[0]["title"] == "Feed x story 0 <b>bold</b>"
    assert server.paths() == ["/feeds/x"]


async def test_tavily_search_sends_the_key_and_shapes_rows(server: SearchServer, settings: EngineSettings) -> None:
    values = {"api_key": "TAVILY_KEY", "max_results": 2, "include_domains": "a.com, b.com", "time_range": "week"}
    f = one("TavilySearchComponent", values, "query")
    f["data"]["nodes"][1]["data"]["node"]["template"]["api_key"]["load_from_db"] = True
    result = await run_flow(f, "quantum", settings=settings, variables={"TAVILY_KEY": API_KEY})
    frame = value(result, "TavilySearchComponent-n1", "dataframe")
    assert frame.rows[0] == {"text": "Answer about quantum"}
    assert frame.rows[1] == {"text": "Content 0", "title": "quantum 0", "url": "https://t.example/0", "content": "Content 0", "score": 0.9}
    assert frame.rows[-1] == {"text": "Images found", "images": ["https://t.example/img.png"]}
    sent = server.requests[-1]
    assert sent.headers["authorization"] == f"Bearer {API_KEY}"
    body = sent.json()
    assert body["include_domains"] == ["a.com", "b.com"] and body["time_range"] == "week" and body["chunks_per_source"] == 3


async def test_tavily_missing_variable_bad_key_retries_and_timeout(server: SearchServer, settings: EngineSettings) -> None:
    f = one("TavilySearchComponent", {"api_key": "NOPE", "query": "q"})
    f["data"]["nodes"][0]["data"]["node"]["template"]["api_key"]["load_from_db"] = True
    with pytest.raises(MissingVariableError):
        await run_flow(f, settings=settings)
    with pytest.raises(ConfigurationError, match="Tavily refused the credentials \\(401\\)"):
        await run_flow(one("TavilySearchComponent", {"api_key": "wrong", "query": "q"}), settings=settings)
    server.fail_next(2, 429)
    result = await run_flow(one("TavilySearchComponent", {"api_key": API_KEY, "query": "q"}), settings=settings)
    assert len(value(result, "TavilySearchComponent-n1").rows) == 7 and len(server.requests) == 4  # 401 + 2×429 + 200
    server.fail_next(3, 503)
    with pytest.raises(ProviderError, match="Tavily failed"):
        await run_flow(one("TavilySearchComponent", {"api_key": API_KEY, "query": "q"}), settings=settings)
    server.delay_next(1.5)
    fast = EngineSettings(allow_loopback=True, service_urls=server.service_urls(), http_timeout_s=0.5)
    with pytest.raises(ProviderTimeoutError):
        from flowless_engine.components import search

        original = search.call_json

        async def short(component, provider, method, url, **kw):  # Tavily's own 90 s is too long for a test
            kw["timeout"] = 0.5
            return await original(component, provider, method, url, **kw)

        search.call_json = short
        try:
            await run_flow(one("TavilySearchComponent", {"api_key": API_KEY, "query": "q"}), settings=fast)
        finally:
            search.call_json = original


async def test_tavily_extract(server: SearchServer, settings: EngineSettings) -> None:
    result = await run_flow(one("TavilyExtractComponent", {"api_key": API_KEY, "urls": "https://a.example, https://b.example"}), settings=settings)
    rows = value(result, "TavilyExtractComponent-n1").rows
    assert [r["url"] for r in rows] == ["https://a.example", "https://b.example"]
    assert rows[0]["text"] == "Raw content of https://a.example"


async def test_serpapi_searchapi_and_serper(server: SearchServer, settings: EngineSettings) -> None:
    result = await run_flow(one("SerpAPI", {"serpapi_api_key": API_KEY, "input_value": "llm", "search_params": [{"gl": "fr"}, {"": ""}], "max_results": 3, "max_snippet_length": 10}), settings=settings)
    rows = value(result, "SerpAPI-n1", "api_run_model")
    assert [d.data["link"] for d in rows] == ["https://serp.example/0", "https://serp.example/1", "https://serp.example/2"]
    assert rows[0].data["snippet"] == "S" * 10
    assert server.requests[-1].query["gl"] == ["fr"] and server.requests[-1].query["engine"] == ["google"]

    result = await run_flow(one("SearchAPI", {"api_key": API_KEY, "engine": "bing", "input_value": "llm", "max_results": 2}), settings=settings)
    assert [d.data["title"] for d in value(result, "SearchAPI-n1", "api_run_model")] == ["bing:llm 0", "bing:llm 1"]

    result = await run_flow(one("GoogleSerperAPI", {"serper_api_key": API_KEY, "query": "llm", "k": 2, "query_type": "news"}), settings=settings)
    rows = value(result, "GoogleSerperAPI-n1", "api_run_model")
    assert [d.data["date"] for d in rows] == ["1 day ago", "1 day ago"]
    assert server.requests[-1].json() == {"gl": "us", "hl": "en", "q": "llm", "num": 2}
    with pytest.raises(ConfigurationError, match="Serper refused the credentials \\(403\\)"):
        await run_flow(one("GoogleSerperAPICore", {"serper_api_key": "bad", "input_value": "x"}), settings=settings)


async def test_arxiv_and_wikipedia(server: SearchServer, settings: EngineSettings) -> None:
    result = await run_flow(one("ArXivComponent", {"search_query": "agents", "search_type": "title", "max_results": 2}), settings=settings)
    rows = value(result, "ArXivComponent-n1", "dataframe").rows
    assert len(rows) == 2
    assert rows[0]["title"] == "Paper 0 on ti:agents" and rows[0]["pdf_url"] == "http://arxiv.org/pdf/2401.00000v1"
    assert rows[0]["authors"] == ["Author 0"] and rows[0]["primary_category"] == "cs.AI"
    result = await run_flow(one("WikipediaAPI", {"input_value": "Paris", "k": 2, "doc_content_chars_max": 10}), settings=settings)
    rows = value(result, "WikipediaAPI-n1", "api_run_model")
    assert [d.data["title"] for d in rows] == ["Title 100", "Title 101"] and rows[0].data["text"] == "First para"


async def test_duckduckgo_component(server: SearchServer, settings: EngineSettings) -> None:
    result = await run_flow(one("DuckDuckGoSearchComponent", {"max_results": 2, "max_snippet_length": 7}, "input_value"), "cats", settings=settings)
    rows = value(result, "DuckDuckGoSearchComponent-n1", "dataframe").rows
    assert rows == [{"text": "Snippet", "title": "cats result 0", "link": f"{server.base_url}/pages/0", "snippet": "Snippet"},
                    {"text": "Snippet", "title": "cats result 1", "link": f"{server.base_url}/pages/1", "snippet": "Snippet"}]


async def test_component_error_is_not_a_crash_for_empty_query(settings: EngineSettings) -> None:
    with pytest.raises(ComponentError, match="Empty search query"):
        await run_flow(one("UnifiedWebSearch", {"query": "  "}), settings=settings)


async def test_exa_tools_for_an_agent(server: SearchServer, settings: EngineSettings) -> None:
    from flowless_engine.llm.base import ChatResult, ToolCall

    model = FakeChatModel([ChatResult(text="", tool_calls=[ToolCall(id="1", name="search", arguments=json.dumps({"query": "rust"}))]),
                           ChatResult(text="", tool_calls=[ToolCall(id="2", name="get_contents", arguments=json.dumps({"ids": ["https://exa.example/0"]}))]),
                           "done"])
    exa = node("ExaSearch-x", "ExaSearch", {"exa_api_key": API_KEY, "search_num_results": 2, "highlights_max_characters": 50,
                                            "include_domains": "a.com,b.com", "category": "news"})
    for spec in exa["data"]["node"]["template"].values():
        if isinstance(spec, dict):
            spec["load_from_db"] = False
    nodes = [node("ChatInput-c", "ChatInput"), exa, node("Agent-a", "Agent", {"model": [{"name": "gpt-4o-mini", "provider": "OpenAI"}], "add_current_date_tool": False})]
    edges = [edge("ChatInput-c", "message", "Agent-a", "input_value"), edge("ExaSearch-x", "tools", "Agent-a", "tools", output_types=["Tool"], input_types=["Tool"])]
    result = await run_flow(flow("exa", nodes, edges), "find", settings=settings, model_factory=lambda c: model)
    assert value(result, "Agent-a", "response").text == "done"
    replies = [m.content for m in model.calls[2]["messages"] if m.role == "tool"]
    assert [h["title"] for h in json.loads(replies[0])["results"]] == ["rust 0", "rust 1"]
    assert json.loads(replies[1])["results"][0]["text"] == "Text of https://exa.example/0"
    sent = next(r for r in server.requests if r.path == "/exa/search").json()
    assert sent == {"query": "rust", "type": "auto", "numResults": 2, "contents": {"highlights": {"maxCharacters": 50}},
                    "category": "news", "includeDomains": ["a.com", "b.com"]}


async def test_wolfram_alpha(server: SearchServer, settings: EngineSettings) -> None:
    result = await run_flow(one("WolframAlphaAPI", {"app_id": API_KEY, "input_value": "6 times 7"}), settings=settings)
    assert value(result, "WolframAlphaAPI-n1", "dataframe").rows == [{"text": "Assumption: 6 times 7 (interpreted) \nAnswer: 42"}]
    with pytest.raises(ConfigurationError, match="Invalid appid"):
        await run_flow(one("WolframAlphaAPI", {"app_id": "nope", "input_value": "x"}), settings=settings)


async def test_google_search_wikidata_and_searxng(server: SearchServer, settings: EngineSettings) -> None:
    result = await run_flow(one("GoogleSearchAPI", {"google_api_key": API_KEY, "google_cse_id": "cse-1", "input_value": "llm", "k": 2}), settings=settings)
    assert [d.data for d in value(result, "GoogleSearchAPI-n1")] == [
        {"text": "Snippet 0", "title": "llm 0", "link": "https://g.example/0", "snippet": "Snippet 0"},
        {"text": "Snippet 1", "title": "llm 1", "link": "https://g.example/1", "snippet": "Snippet 1"}]
    assert server.requests[-1].query["cx"] == ["cse-1"]
    with pytest.raises(ConfigurationError, match="Google Search rejected the request \\(400\\)"):
        await run_flow(one("GoogleSearchAPI", {"google_api_key": "bad", "google_cse_id": "c", "input_value": "x"}), settings=settings)
    result = await run_flow(one("WikidataAPI", {"query": "Paris"}), settings=settings)
    assert [(d.data["text"], d.data["id"]) for d in value(result, "WikidataAPI-n1")] == [("Paris", "Q90"), ("Paris", "Q167646")]

    from flowless_engine.components.search import SearXNGToolComponent
    from flowless_engine.graph.model import Vertex
    from flowless_engine.runtime.context import RunContext

    component = SearXNGToolComponent(Vertex(id="SearXNGTool-1", type="SearXNGTool", display_name="SearXNG", fields={}, outputs=[]),
                                     {"url": server.base_url, "max_results": 3, "categories": ["general"], "language": "en"},
                                     RunContext(flow_id="f", session_id="s", settings=settings))
    (tool,) = component.as_tools()
    hits = json.loads(await tool.run({"query": "otters", "categories": ["science"]}))
    assert [h["title"] for h in hits] == ["otters 0", "otters 1", "otters 2"] and hits[0]["content"] == "in general,science"
