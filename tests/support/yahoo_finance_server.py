"""Yahoo! Finance's public JSON endpoints on 127.0.0.1, as yfinance calls them: fc.yahoo.com (404
with a session cookie), `GET /v1/test/getcrumb` (the crumb, for that cookie), `GET
/v10/finance/quoteSummary/<symbol>?modules=&crumb=` (401 `Invalid Crumb` without it; unknown
symbol → 404 with `quoteSummary.error`), `GET /v8/finance/chart/<symbol>` (meta, events),
`GET /ws/fundamentals-timeseries/v1/finance/timeseries/<symbol>?type=annual...` and the news
endpoint `POST /xhr/ncp?queryRef=latestNews&serviceKey=ncp_fin`.

    with YahooFinanceServer() as yf:
        EngineSettings(allow_loopback=True, service_urls=yf.service_urls())
"""

from __future__ import annotations

from typing import Any

from tests.support.stub_http import Answer, StubRequest, StubServer

COOKIE = "A3=d=AQABBtest&S=AQAAAtest"
CRUMB = "Xy7crumb.1"


class YahooFinanceServer(StubServer):
    def __init__(self) -> None:
        super().__init__()
        self.stale_crumbs = 0  # quoteSummary calls answered 401 Invalid Crumb first

    def service_urls(self) -> tuple[tuple[str, str], ...]:
        return (("yahoo_finance_api", self.base_url), ("yahoo_finance", self.base_url), ("yahoo_cookie", self.base_url + "/fc"))

    def failure_body(self, status: int) -> tuple[str, Any]:
        return "text/html", "Too Many Requests" if status == 429 else "<html>Will be right back</html>"

    def route(self, r: StubRequest) -> Answer:
        q = r.q
        if r.path == "/fc":
            return 404, "text/html", "<html>404</html>", {"Set-Cookie": f"{COOKIE}; Expires=Tue, 08 Dec 2027 00:00:00 GMT; Domain=.yahoo.com; Path=/"}
        if r.path == "/v1/test/getcrumb":
            return (200, "text/plain", CRUMB) if COOKIE in r.headers.get("cookie", "") else (403, "text/plain", "Forbidden")
        if r.path.startswith("/v10/finance/quoteSummary/"):
            symbol = r.path.rsplit("/", 1)[-1]
            if q.get("crumb") != CRUMB or self.stale_crumbs > 0:
                self.stale_crumbs -= 1
                return 401, "application/json", {"finance": {"result": None, "error": {"code": "Unauthorized", "description": "Invalid Crumb"}}}
            if symbol == "NOPE":
                return 404, "application/json", {"quoteSummary": {"result": None, "error": {"code": "Not Found", "description": "Quote not found for symbol: NOPE"}}}
            modules = {
                "financialData": {"currentPrice": 190.5, "targetMeanPrice": 210.0, "recommendationKey": "buy"},
                "quoteType": {"symbol": symbol, "longName": f"{symbol} Inc.", "quoteType": "EQUITY"},
                "defaultKeyStatistics": {"sharesOutstanding": 15000000000},
                "assetProfile": {"sector": "Technology", "city": "Cupertino"},
                "summaryDetail": {"marketCap": 2900000000000, "currency": "USD"},
                "recommendationTrend": {"trend": [{"period": "0m", "strongBuy": 10, "buy": 20, "hold": 5, "sell": 1, "strongSell": 0}]},
                "calendarEvents": {"earnings": {"earningsDate": [1767225600]}, "exDividendDate": 1765000000},
            }
            wanted = q.get("modules", "").split(",")
            return 200, "application/json", {"quoteSummary": {"result": [{m: modules[m] for m in wanted if m in modules}], "error": None}}
        if r.path.startswith("/v8/finance/chart/"):
            symbol = r.path.rsplit("/", 1)[-1]
            result: dict[str, Any] = {"meta": {"currency": "USD", "symbol": symbol, "regularMarketPrice": 190.5, "fiftyTwoWeekHigh": 260.1},
                                      "timestamp": [1765000000], "indicators": {"quote": [{"close": [190.5]}]}}
            if "div" in q.get("events", ""):
                result["events"] = {"dividends": {"1765000000": {"amount": 0.26, "date": 1765000000}, "1757000000": {"amount": 0.25, "date": 1757000000}},
                                    "splits": {"1598000000": {"date": 1598000000, "numerator": 4, "denominator": 1, "splitRatio": "4:1"}}}
            return 200, "application/json", {"chart": {"result": [result], "error": None}}
        if r.path.startswith("/ws/fundamentals-timeseries/v1/finance/timeseries/"):
            kinds = q.get("type", "").split(",")
            result = [{"meta": {"symbol": [q.get("symbol")], "type": [k]}, "timestamp": [1727654400],
                       k: [{"asOfDate": "2025-09-30", "periodType": "12M", "reportedValue": {"raw": 1000 + i, "fmt": f"{1000 + i}"}}]}
                      for i, k in enumerate(kinds[:3])]
            return 200, "application/json", {"timeseries": {"result": result, "error": None}}
        if r.path == "/xhr/ncp" and r.method == "POST":
            body = r.json()
            count = body["serviceConfig"]["snippetCount"]
            symbol = body["serviceConfig"]["s"][0]
            stream = [{"id": "ad-1", "ad": [{"x": 1}]}] + [
                {"id": f"n{i}", "content": {"title": f"{symbol} news {i}", "pubDate": "2026-12-0%dT10:00:00Z" % (i + 1),
                                            "canonicalUrl": {"url": f"https://finance.yahoo.com/news/{i}"}, "provider": {"displayName": "Wire"}}}
                for i in range(count)]
            return 200, "application/json", {"data": {"tickerStream": {"stream": stream}}, "status": "OK"}
        return 404, "application/json", {"error": "not found"}
