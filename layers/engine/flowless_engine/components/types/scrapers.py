"""ScrapeGraph, AgentQL, Spider and JigsawStack's search / scraper (components/scrapers.py)."""

TYPES: dict[str, str] = {
    "ScrapeGraphMarkdownifyApi": "scrapers:ScrapeGraphMarkdownifyApi",
    "ScrapeGraphSmartScraperApi": "scrapers:ScrapeGraphSmartScraperApi",
    "ScrapeGraphSearchApi": "scrapers:ScrapeGraphSearchApi",
    "AgentQL": "scrapers:AgentQLComponent",
    "SpiderTool": "scrapers:SpiderToolComponent",
    "JigsawStackAISearch": "scrapers:JigsawStackAISearchComponent",
    "JigsawStackAIScraper": "scrapers:JigsawStackAIScraperComponent",
}
