"""Bing, Google Custom Search (core), Glean, and the current SerpAPI / SearchApi nodes
(components/search_apis.py)."""

TYPES: dict[str, str] = {
    "BingSearchAPI": "search_apis:BingSearchAPIComponent",
    "GoogleSearchAPICore": "search_apis:GoogleSearchAPICoreComponent",
    "GleanSearchAPIComponent": "search_apis:GleanSearchAPIComponent",
    "Serp": "search_apis:SerpComponent",
    "SearchComponent": "search_apis:SearchComponent",
}
