"""Yahoo! Finance nodes through the engine against tests/support/yahoo_finance_server.py (the
cookie/crumb handshake, quoteSummary, chart, fundamentals timeseries and news endpoints)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from flowless_engine.errors import ConfigurationError, ProviderError, ProviderTimeoutError
from flowless_engine.settings import EngineSettings
from tests.support.component_runs import run_flow, value
from tests.support.engine_kit import FakeChatModel
from tests.support.flows import edge, flow, node
from tests.support.yahoo_finance_server import COOKIE, CRUMB, YahooFinanceServer


@pytest.fixture(scope="module")
def server() -> Iterator[YahooFinanceServer]:
    with YahooFinanceServer() as s:
        yield s


@pytest.fixture
def settings(server: YahooFinanceServer) -> EngineSettings:
    server.reset()
    return EngineSettings(allow_loopback=True, service_urls=server.service_urls(), http_retries=2)


async def run_one(type_name: str, values: dict, settings: EngineSettings):
    result = await run_flow(flow("t", [node(f"{type_name}-n1", type_name, values)], []), settings=settings)
    return value(result, f"{type_name}-n1")


async def test_news_rows_skip_ads_and_carry_title_and_link(server: YahooFinanceServer, settings: EngineSettings) -> None:
    frame = await run_one("YfinanceComponent", {"symbol": "aapl", "method": "get_news", "num_news": 2}, settings)
    assert [r["text"] for r in frame.rows] == ["AAPL news 0: https://finance.yahoo.com/news/0", "AAPL news 1: https://finance.yahoo.com/news/1"]
    assert frame.rows[0]["content"]["provider"] == {"displayName": "Wire"}
    (request,) = server.requests
    assert (request.path, request.q) == ("/xhr/ncp", {"queryRef": "latestNews", "serviceKey": "ncp_fin"})
    assert request.json() == {"serviceConfig": {"snippetCount": 2, "s": ["AAPL"]}}


async def test_info_goes_through_cookie_and_crumb(server: YahooFinanceServer, settings: EngineSettings) -> None:
    frame = await run_one("YfinanceComponent", {"symbol": "MSFT", "method": "get_info"}, settings)
    (row,) = frame.rows
    assert row["text"] == row["result"]
    assert "'longName': 'MSFT Inc.'" in row["result"] and "'sector': 'Technology'" in row["result"] and "'marketCap': 2900000000000" in row["result"]
    assert server.paths() == ["/fc", "/v1/test/getcrumb", "/v10/finance/quoteSummary/MSFT"]
    assert server.requests[1].headers["cookie"] == COOKIE and server.requests[2].headers["cookie"] == COOKIE
    assert server.requests[2].q["crumb"] == CRUMB
    assert server.requests[2].q["modules"] == "financialData,quoteType,defaultKeyStatistics,assetProfile,summaryDetail"


async def test_chart_events_fast_info_and_statements(server: YahooFinanceServer, settings: EngineSettings) -> None:
    dividends = (await run_one("YfinanceComponent", {"symbol": "AAPL", "method": "get_dividends"}, settings)).rows[0]["result"]
    assert dividends.index("0.25") < dividends.index("0.26")  # oldest first
    assert server.requests[-1].q["events"] == "div,splits,capitalGains" and server.requests[-1].q["range"] == "max"
    assert "'splitRatio': '4:1'" in (await run_one("YfinanceComponent", {"symbol": "AAPL", "method": "get_actions"}, settings)).rows[0]["result"]
    assert "'regularMarketPrice': 190.5" in (await run_one("YfinanceComponent", {"symbol": "AAPL", "method": "get_fast_info"}, settings)).rows[0]["result"]
    income = (await run_one("YfinanceComponent", {"symbol": "AAPL", "method": "get_income_stmt"}, settings)).rows[0]["result"]
    assert "'TotalRevenue': {'2025-09-30': 1000}" in income
    assert server.requests[-1].q["type"].startswith("annualTotalRevenue,annualCostOfRevenue")
    recs = (await run_one("YfinanceComponent", {"symbol": "AAPL", "method": "get_recommendations"}, settings)).rows[0]["result"]
    assert "'strongBuy': 10" in recs and server.requests[-1].q["modules"] == "recommendationTrend"


async def test_a_stale_crumb_is_fetched_again_once(server: YahooFinanceServer, settings: EngineSettings) -> None:
    server.stale_crumbs = 1
    assert "'sector': 'Technology'" in (await run_one("YfinanceComponent", {"symbol": "MSFT", "method": "get_info"}, settings)).rows[0]["result"]
    assert server.paths().count("/v1/test/getcrumb") == 2
    server.stale_crumbs = 2
    with pytest.raises(ProviderError, match="refused its session crumb twice: .*Invalid Crumb"):
        await run_one("YfinanceComponent", {"symbol": "MSFT", "method": "get_info"}, settings)


async def test_errors(server: YahooFinanceServer, settings: EngineSettings) -> None:
    with pytest.raises(ConfigurationError, match="Quote not found for symbol: NOPE"):
        await run_one("YfinanceComponent", {"symbol": "NOPE", "method": "get_info"}, settings)
    server.fail_next(2, 429)  # rate limited twice, then served
    assert len((await run_one("YfinanceComponent", {"symbol": "AAPL", "num_news": 3}, settings)).rows) == 3
    server.fail_next(3, 503)
    with pytest.raises(ProviderError, match="Yahoo Finance failed"):
        await run_one("YfinanceComponent", {"symbol": "AAPL"}, settings)
    server.delay_next(1.5)
    with pytest.raises(ProviderTimeoutError):
        await run_one("YfinanceComponent", {"symbol": "AAPL"}, EngineSettings(allow_loopback=True, service_urls=server.service_urls(),
                                                                               http_timeout_s=0.5, http_retries=0))
    with pytest.raises(ConfigurationError, match="Unknown Yahoo Finance method"):
        await run_one("YfinanceComponent", {"symbol": "AAPL", "method": "get_everything"}, settings)


async def test_legacy_tool_node_as_an_agent_tool(server: YahooFinanceServer, settings: EngineSettings) -> None:
    from flowless_engine.llm.base import ChatResult, ToolCall

    rows = await run_one("YahooFinanceTool", {"symbol": "AAPL", "method": "get_calendar"}, settings)
    assert list(rows[0].data) == ["result"] and "'exDividendDate': 1765000000" in rows[0].data["result"]
    call = ToolCall(id="c1", name="yahoo_finance", arguments=json.dumps({"symbol": "IBM", "method": "get_news", "num_news": 1}))
    model = FakeChatModel([ChatResult(text="", tool_calls=[call]), "done"])
    nodes = [node("ChatInput-c1", "ChatInput"), node("YahooFinanceTool-y1", "YahooFinanceTool"),
             node("Agent-a1", "Agent", {"model": [{"name": "gpt-4o-mini", "provider": "OpenAI"}], "add_current_date_tool": False})]
    edges = [edge("ChatInput-c1", "message", "Agent-a1", "input_value"),
             edge("YahooFinanceTool-y1", "api_build_tool", "Agent-a1", "tools", output_types=["Tool"], input_types=["Tool"])]
    result = await run_flow(flow("t", nodes, edges), "news?", settings=settings, model_factory=lambda config: model)
    assert value(result, "Agent-a1", "response").text == "done"
    assert [t.name for t in model.calls[0]["tools"]] == ["yahoo_finance"]
    reply = json.loads(next(m for m in model.calls[1]["messages"] if m.role == "tool").content)
    assert reply[0]["text"] == "IBM news 0: https://finance.yahoo.com/news/0"
