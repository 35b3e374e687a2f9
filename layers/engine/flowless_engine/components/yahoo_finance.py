"""Yahoo! Finance, over the public JSON endpoints the yfinance package itself calls (no yfinance):

- a session cookie from fc.yahoo.com and a crumb from `/v1/test/getcrumb` (needed by quoteSummary);
- `/v10/finance/quoteSummary/<symbol>?modules=...` for info, calendar, holders, recommendations,
  ESG, SEC filings, earnings;
- `/v8/finance/chart/<symbol>?range=max&interval=1d&events=div,splits,capitalGains` for actions,
  dividends, splits, capital gains and the fast-info metadata;
- `/ws/fundamentals-timeseries/v1/finance/timeseries/<symbol>` for the statements and shares;
- `POST https://finance.yahoo.com/xhr/ncp?queryRef=latestNews&serviceKey=ncp_fin` for news.

Endpoints can be replaced per service (`EngineSettings.service_urls`): yahoo_finance_api
(query2.finance.yahoo.com), yahoo_finance (finance.yahoo.com), yahoo_cookie (fc.yahoo.com).
Results are shaped as Langflow does: news articles one row each (`text` = "title: link"), every
other method one row whose `result` is the pretty-printed data.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

from flowless_engine.components.apis import call_json, service_url
from flowless_engine.components.base import Component, Input, Output, Tool, to_int, to_text
from flowless_engine.components.toolmode import ToolModeMixin, tool_result_text
from flowless_engine.errors import ConfigurationError, FlowError, ProviderError
from flowless_engine.http import HttpError, HttpTimeout
from flowless_engine.schema import Data, DataFrame

PROVIDER = "Yahoo Finance"
METHODS = (
    "get_info", "get_news", "get_actions", "get_analysis", "get_balance_sheet", "get_calendar", "get_cashflow",
    "get_institutional_holders", "get_recommendations", "get_sustainability", "get_major_holders", "get_mutualfund_holders",
    "get_insider_purchases", "get_insider_transactions", "get_insider_roster_holders", "get_dividends", "get_capital_gains",
    "get_splits", "get_shares", "get_fast_info", "get_sec_filings", "get_recommendations_summary", "get_upgrades_downgrades",
    "get_earnings", "get_income_stmt",
)
# quoteSummary modules per method (yfinance reads the same modules)
_MODULES = {
    "get_info": ("financialData", "quoteType", "defaultKeyStatistics", "assetProfile", "summaryDetail"),
    "get_analysis": ("earningsTrend",),
    "get_calendar": ("calendarEvents",),
    "get_institutional_holders": ("institutionOwnership",),
    "get_recommendations": ("recommendationTrend",),
    "get_recommendations_summary": ("recommendationTrend",),
    "get_sustainability": ("esgScores",),
    "get_major_holders": ("majorHoldersBreakdown",),
    "get_mutualfund_holders": ("fundOwnership",),
    "get_insider_purchases": ("netSharePurchaseActivity",),
    "get_insider_transactions": ("insiderTransactions",),
    "get_insider_roster_holders": ("insiderHolders",),
    "get_sec_filings": ("secFilings",),
    "get_upgrades_downgrades": ("upgradeDowngradeHistory",),
    "get_earnings": ("earnings",),
}
_EVENTS = {"get_actions": ("dividends", "splits", "capitalGains"), "get_dividends": ("dividends",),
           "get_splits": ("splits",), "get_capital_gains": ("capitalGains",)}
# fundamentals-timeseries keys per statement (the headline lines of each)
_SERIES = {
    "get_income_stmt": ("TotalRevenue", "CostOfRevenue", "GrossProfit", "OperatingExpense", "OperatingIncome", "PretaxIncome",
                        "TaxProvision", "NetIncome", "BasicEPS", "DilutedEPS", "EBITDA", "EBIT"),
    "get_balance_sheet": ("TotalAssets", "CurrentAssets", "CashAndCashEquivalents", "TotalLiabilitiesNetMinorityInterest",
                          "CurrentLiabilities", "TotalDebt", "NetDebt", "StockholdersEquity", "WorkingCapital", "OrdinarySharesNumber"),
    "get_cashflow": ("OperatingCashFlow", "InvestingCashFlow", "FinancingCashFlow", "FreeCashFlow", "CapitalExpenditure",
                     "RepurchaseOfCapitalStock", "CashDividendsPaid", "EndCashPosition"),
    "get_shares": ("OrdinarySharesNumber", "ShareIssued", "TreasurySharesNumber"),
}
_SERIES_PERIOD_S = 5 * 365 * 86400


class _YahooFinance(Component):
    category = "yahoosearch"
    icon = "trending-up"
    inputs = (
        Input("symbol", "Stock Symbol", "str", "", input_types=("Message",), info="The stock symbol to retrieve data for (e.g., AAPL, GOOG).",
              input_kind="MessageTextInput"),
        Input("method", "Data Method", "str", "get_news", options=METHODS, info="The type of data to retrieve.", input_kind="DropdownInput"),
        Input("num_news", "Number of News", "int", 5, info="The number of news articles to retrieve (only applicable for get_news).",
              input_kind="IntInput"),
    )

    # ---- the endpoints ---------------------------------------------------------------------

    def _api(self) -> str:
        return service_url(self, "yahoo_finance_api", "https://query2.finance.yahoo.com")

    async def _cookie_and_crumb(self) -> tuple[str, str]:
        """A session cookie (fc.yahoo.com answers 404 with it; optional, as for yfinance) and the crumb."""
        cookie = ""
        try:
            answer = await self.ctx.http.request("GET", service_url(self, "yahoo_cookie", "https://fc.yahoo.com"), raise_for_status=False, timeout=15)
            cookie = answer.headers.get("set-cookie", "").split(";", 1)[0]
        except (HttpError, HttpTimeout):
            pass
        headers = {"Cookie": cookie} if cookie else {}
        from flowless_engine.components.apis import call_api

        crumb = (await call_api(self, PROVIDER, "GET", f"{self._api()}/v1/test/getcrumb", headers=headers)).text.strip()
        if not crumb or "<html" in crumb.lower() or "too many requests" in crumb.lower():
            raise ProviderError("Yahoo Finance did not hand out a crumb", provider=PROVIDER)
        return cookie, crumb

    async def _quote_summary(self, symbol: str, modules: tuple[str, ...]) -> dict[str, Any]:
        from flowless_engine.components.apis import refused_status

        for attempt in (1, 2):  # a crumb Yahoo no longer honours (401 Invalid Crumb) is fetched anew, once
            cookie, crumb = await self._cookie_and_crumb()
            try:
                answer = await call_json(self, PROVIDER, "GET", f"{self._api()}/v10/finance/quoteSummary/{quote(symbol)}",
                                         params={"modules": ",".join(modules), "corsDomain": "finance.yahoo.com", "formatted": "false",
                                                 "symbol": symbol, "crumb": crumb}, headers={"Cookie": cookie} if cookie else None)
                break
            except ConfigurationError as exc:
                if refused_status(exc) != 401:
                    raise
                if attempt == 2:  # no user credential is involved: the service refused its own session
                    raise ProviderError(f"Yahoo Finance refused its session crumb twice: {exc.message}", provider=PROVIDER, status=401) from exc
        body = answer.get("quoteSummary") or {}
        if body.get("error"):
            raise ConfigurationError(f"Yahoo Finance: {(body['error'] or {}).get('description') or body['error']}", provider=PROVIDER)
        results = body.get("result") or []
        return results[0] if results else {}

    async def _chart(self, symbol: str, events: bool) -> dict[str, Any]:
        params = {"range": "max" if events else "1y", "interval": "1d", "includePrePost": "false"}
        if events:
            params["events"] = "div,splits,capitalGains"
        answer = await call_json(self, PROVIDER, "GET", f"{self._api()}/v8/finance/chart/{quote(symbol)}", params=params)
        chart = answer.get("chart") or {}
        if chart.get("error"):
            raise ConfigurationError(f"Yahoo Finance: {(chart['error'] or {}).get('description') or chart['error']}", provider=PROVIDER)
        results = chart.get("result") or []
        return results[0] if results else {}

    async def _series(self, symbol: str, keys: tuple[str, ...]) -> dict[str, dict[str, Any]]:
        now = int(time.time())
        answer = await call_json(self, PROVIDER, "GET", f"{self._api()}/ws/fundamentals-timeseries/v1/finance/timeseries/{quote(symbol)}",
                                 params={"symbol": symbol, "type": ",".join("annual" + k for k in keys), "period1": now - _SERIES_PERIOD_S, "period2": now})
        table: dict[str, dict[str, Any]] = {}
        for item in (answer.get("timeseries") or {}).get("result") or []:
            for kind in (item.get("meta") or {}).get("type") or []:
                points = [p for p in item.get(kind) or [] if isinstance(p, dict)]
                table[kind.removeprefix("annual")] = {p.get("asOfDate"): (p.get("reportedValue") or {}).get("raw") for p in points}
        return table

    async def _news(self, symbol: str, count: int) -> list[dict[str, Any]]:
        base = service_url(self, "yahoo_finance", "https://finance.yahoo.com")
        answer = await call_json(self, PROVIDER, "POST", f"{base}/xhr/ncp?queryRef=latestNews&serviceKey=ncp_fin",
                                 json_body={"serviceConfig": {"snippetCount": count, "s": [symbol]}})
        stream = ((answer.get("data") or {}).get("tickerStream") or {}).get("stream") or []
        return [a for a in stream if isinstance(a, dict) and not a.get("ad")][:count]

    # ---- Langflow's shapes ---------------------------------------------------------------

    async def _result(self, symbol: str, method: str, num_news: int) -> Any:
        if method in _MODULES:
            summary = await self._quote_summary(symbol, _MODULES[method])
            if method == "get_info":
                merged: dict[str, Any] = {}
                for module in _MODULES[method]:
                    merged.update(summary.get(module) or {})
                merged["symbol"] = symbol
                return merged
            return summary.get(_MODULES[method][0]) or {}
        if method in _EVENTS:
            events = (await self._chart(symbol, True)).get("events") or {}
            return {kind: sorted((events.get(kind) or {}).values(), key=lambda e: e.get("date", 0)) for kind in _EVENTS[method]}
        if method == "get_fast_info":
            return (await self._chart(symbol, False)).get("meta") or {}
        if method in _SERIES:
            return await self._series(symbol, _SERIES[method])
        raise ValueError(f"Unknown Yahoo Finance method: {method}")

    async def _fetch(self, symbol: str, method: str, num_news: int) -> list[Data]:
        import pprint

        symbol = symbol.strip().upper()
        if not symbol:
            raise ConfigurationError(f"{self.name}: a stock symbol is required", provider=PROVIDER)
        method = method.removeprefix("YahooFinanceMethod.").lower() or "get_news"
        if method not in METHODS:
            raise ConfigurationError(f"Unknown Yahoo Finance method: {method} (one of {', '.join(METHODS)})", provider=PROVIDER)
        if method == "get_news":
            rows = []
            for article in await self._news(symbol, max(1, num_news)):
                content = article.get("content") if isinstance(article.get("content"), dict) else {}
                title = article.get("title") or content.get("title") or ""
                link = article.get("link") or (content.get("canonicalUrl") or {}).get("url") or (content.get("clickThroughUrl") or {}).get("url") or ""
                rows.append(Data(data={"text": f"{title}: {link}", **article}))
            return rows
        text = pprint.pformat(await self._result(symbol, method, num_news))
        return [Data(data={"text": text, "result": text})]

    async def _from_params(self) -> list[Data]:
        rows = await self._fetch(to_text(self.params.get("symbol")), to_text(self.param("method", "get_news")), to_int(self.param("num_news", 5), 5))
        self.status = rows
        return rows


class YfinanceComponent(ToolModeMixin, _YahooFinance):
    type_name = "YfinanceComponent"
    display_name = "Yahoo! Finance"
    description = "Uses [yfinance](https://pypi.org/project/yfinance/) (unofficial package) to access financial data and market information from Yahoo! Finance."
    outputs = (Output("dataframe", "fetch_content_dataframe", ("Table",), "Table"),)
    tool_fields = {"symbol": ("string", "The stock symbol to retrieve data for."), "method": ("string", "The type of data to retrieve, e.g. get_info, get_news."),
                   "num_news": ("integer", "The number of news articles to retrieve.")}

    async def fetch_content(self) -> list[Data]:
        return await self._from_params()

    async def fetch_content_dataframe(self) -> DataFrame:
        return DataFrame(rows=[d.data for d in await self._from_params()])


class YahooFinanceToolComponent(_YahooFinance):
    """The older (legacy) node: `run_model` as JSON, `build_tool` the `yahoo_finance` tool."""

    type_name = "YahooFinanceTool"
    display_name = "Yahoo! Finance"
    description = "Uses yfinance (unofficial package) to access financial data and market information from Yahoo! Finance."
    outputs = (Output("api_run_model", "run_model", ("JSON",), "JSON"), Output("api_build_tool", "build_tool", ("Tool",), "Tool"))

    async def run_model(self) -> list[Data]:
        rows = await self._from_params()
        for row in rows:  # this node's rows carry no `text` of their own
            row.data.pop("text", None)
        return rows

    def as_tools(self) -> list[Tool]:
        async def run(arguments: dict[str, Any]) -> str:
            try:
                rows = await self._fetch(to_text(arguments.get("symbol")), to_text(arguments.get("method") or "get_info"),
                                         to_int(arguments.get("num_news"), 5) or 5)
            except (FlowError, ValueError) as exc:
                return f"Error: {getattr(exc, 'message', exc)}"
            return tool_result_text(rows)

        schema = {"type": "object", "required": ["symbol"], "properties": {
            "symbol": {"type": "string", "description": "The stock symbol to retrieve data for."},
            "method": {"type": "string", "enum": list(METHODS), "description": "The type of data to retrieve."},
            "num_news": {"type": "integer", "description": "The number of news articles to retrieve."}}}
        name, description = self.tool_metadata("yahoo_finance", "Access financial data and market information from Yahoo! Finance.")
        return [Tool(name, description, schema, run, self.id)]

    async def build_tool(self) -> list[Tool]:
        return self.as_tools()
