"""ScrapeGraph, AgentQL and Spider (components/scrapers.py)."""

TYPES: dict[str, str] = {
    "ScrapeGraphMarkdownifyApi": "scrapers:ScrapeGraphMarkdownifyApi",
    "ScrapeGraphSmartScraperApi": "scrapers:ScrapeGraphSmartScraperApi",
    "ScrapeGraphSearchApi": "scrapers:ScrapeGraphSearchApi",
    "AgentQL": "scrapers:AgentQLComponent",
    "SpiderTool": "scrapers:SpiderToolComponent",
}
