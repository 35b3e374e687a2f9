"""Web search, news, RSS and the hosted search APIs (components/search.py)."""

TYPES: dict[str, str] = {
    "UnifiedWebSearch": "search:UnifiedWebSearchComponent",
    "NewsSearch": "search:NewsSearchComponent",
    "RSSReaderSimple": "search:RSSReaderComponent",
    "DuckDuckGoSearchComponent": "search:DuckDuckGoSearchComponent",
    "DuckDuckGoSearch": "search:DuckDuckGoSearchComponent",
    "TavilySearchComponent": "search:TavilySearchComponent",
    "TavilyAISearch": "search:TavilySearchComponent",
    "TavilySearch": "search:TavilySearchComponent",
    "TavilyExtractComponent": "search:TavilyExtractComponent",
    "SerpAPI": "search:SerpAPIComponent",
    "SearchAPI": "search:SearchAPIComponent",
    "GoogleSerperAPI": "search:GoogleSerperAPIComponent",
    "GoogleSerperAPICore": "search:GoogleSerperAPICoreComponent",
    "ArXivComponent": "search:ArXivComponent",
    "WikipediaAPI": "search:WikipediaAPIComponent",
    "ExaSearch": "search:ExaSearchComponent",
    "WolframAlphaAPI": "search:WolframAlphaAPIComponent",
    "GoogleSearchAPI": "search:GoogleSearchAPIComponent",
    "WikidataAPI": "search:WikidataAPIComponent",
    "WikipediaComponent": "search:WikipediaComponent",
    "WikidataComponent": "search:WikidataComponent",
    "WebSearchNoAPI": "search:WebSearchNoAPIComponent",  # Langflow 1.4–1.5's Web Search (query, timeout → results)
    "SearXNGTool": "search:SearXNGToolComponent",
}
