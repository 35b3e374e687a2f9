"""Yahoo! Finance (components/yahoo_finance.py)."""

TYPES: dict[str, str] = {
    "YfinanceComponent": "yahoo_finance:YfinanceComponent",
    "YahooFinanceTool": "yahoo_finance:YahooFinanceToolComponent",
}
