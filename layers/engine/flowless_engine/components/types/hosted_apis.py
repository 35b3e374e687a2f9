"""Firecrawl and AssemblyAI (components/hosted_apis.py)."""

TYPES: dict[str, str] = {
    "FirecrawlScrapeApi": "hosted_apis:FirecrawlScrapeApi",
    "FirecrawlCrawlApi": "hosted_apis:FirecrawlCrawlApi",
    "FirecrawlMapApi": "hosted_apis:FirecrawlMapApi",
    "FirecrawlSearchApi": "hosted_apis:FirecrawlSearchApi",
    "FirecrawlExtractApi": "hosted_apis:FirecrawlExtractApi",
    "AssemblyAITranscriber": "hosted_apis:AssemblyAITranscriber",
    "ComposioAPI": "hosted_apis:ComposioAPIComponent",
}
