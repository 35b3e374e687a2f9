"""Local stand-ins for the hosted search services, on 127.0.0.1, written from their public API
references: DuckDuckGo's HTML endpoint (`/html/`), Google News RSS (`/rss/...`), Tavily
(`POST /search`, `POST /extract`, Bearer key), SerpAPI (`GET /search?api_key=`), searchapi.io
(`GET /api/v1/search`, Bearer key), Serper (`POST /search|/news`, `X-API-KEY`), arXiv
(`GET /api/query`, Atom), the MediaWiki action API (`GET /w/api.php`), Exa (`POST /exa/search`,
`/exa/contents`, `x-api-key`) and Wolfram|Alpha's Full Results API (`GET /v2/query`), Google
Custom Search (`GET /customsearch/v1`), Wikidata (`wbsearchentities`), a SearXNG instance
(`GET /search?format=json`), Bing Web Search v7 (`GET /v7.0/search`, `Ocp-Apim-Subscription-Key`)
and Glean (`POST /rest/api/v1/search`, Bearer token), plus plain pages
and feeds under `/pages/` and `/feeds/`.

    with SearchServer() as server:
        settings = EngineSettings(allow_loopback=True, service_urls=server.service_urls())

Errors as the services send them: a wrong key → 401 with a JSON `error`; `fail_next(n, 429)`
answers n requests with that status; `delay_next(s)` holds the next answer s seconds.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from tests.support.stub_http import Answer, StubRequest, StubServer

API_KEY = "test-key"
SERVICES = ("duckduckgo", "google_news", "tavily", "serpapi", "searchapi", "serper", "arxiv", "wikipedia", "wolframalpha", "google_search", "wikidata", "bing")


SearchRequest = StubRequest  # the record of one request (method, path, query, headers, body)


def _rss(title: str, n: int) -> str:
    items = "".join(
        f"<item><title>{title} story {i} &lt;b&gt;bold&lt;/b&gt;</title><link>https://news.example/{i}</link>"
        f"<pubDate>Mon, 0{i % 9 + 1} Dec 2026 10:00:00 GMT</pubDate>"
        f"<description>&lt;p&gt;Summary {i} of {title}&lt;/p&gt;</description></item>"
        for i in range(n)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title>{items}</channel></rss>'


class SearchServer(StubServer):
    def service_urls(self) -> tuple[tuple[str, str], ...]:
        return tuple((name, self.base_url) for name in SERVICES) + (("exa", self.base_url + "/exa"),)

    def route(self, r: StubRequest) -> Answer:
        q = {k: v[0] for k, v in r.query.items()}
        unauthorized = (401, "application/json", json.dumps({"error": "Unauthorized: missing or invalid API key."}))
        if r.path == "/html/":
            query = q.get("q", "")
            target = (lambda i: "http://169.254.169.254/latest/meta-data") if "metadata" in query else (lambda i: self.base_url + "/pages/" + str(i))
            blocks = "".join(
                f'<div class="result results_links"><h2><a class="result__a" href="//duckduckgo.com/l/?uddg={quote(target(i), safe="")}&rut=x">'
                f"{query} result {i}</a></h2><a class=\"result__snippet\" href=\"#\">Snippet <b>{i}</b> about {query}</a></div>"
                for i in range(8)
            )
            return 200, "text/html; charset=utf-8", f"<html><body>{blocks}</body></html>"
        if r.path in ("/exa/search", "/exa/contents"):
            if r.headers.get("x-api-key") != API_KEY:
                return 401, "application/json", json.dumps({"error": "Invalid API key"})
            payload = r.json()
            if r.path == "/exa/contents":
                return 200, "application/json", json.dumps({"results": [{"id": i, "url": i, "text": f"Text of {i}"} for i in payload["ids"]]})
            hits = [{"id": f"https://exa.example/{i}", "url": f"https://exa.example/{i}", "title": f"{payload['query']} {i}", "score": 0.5,
                     "highlights": [f"highlight {i}"]} for i in range(payload.get("numResults", 10))]
            return 200, "application/json", json.dumps({"requestId": "r1", "results": hits})
        if r.path == "/v2/query":
            if q.get("appid") != API_KEY:
                return 200, "application/json", json.dumps({"queryresult": {"success": False, "error": {"code": "1", "msg": "Invalid appid"}}})
            pods = [{"title": "Input interpretation", "id": "Input", "subpods": [{"plaintext": f"{q.get('input')} (interpreted)"}]},
                    {"title": "Result", "id": "Result", "primary": True, "subpods": [{"plaintext": "42"}]}]
            return 200, "application/json", json.dumps({"queryresult": {"success": True, "error": False, "pods": pods}})
        if r.path.startswith("/pages/"):
            n = r.path.rsplit("/", 1)[-1]
            return 200, "text/html", f"<html><head><title>Page {n}</title><script>x=1</script></head><body><h1>Page {n}</h1><p>{'Long content. ' * 300}</p></body></html>"
        if r.path.startswith("/rss/"):
            title = q.get("q") or r.path.rsplit("/", 1)[-1]
            return 200, "application/rss+xml", _rss(title, 12)
        if r.path.startswith("/feeds/"):
            return 200, "application/xml", _rss("Feed " + r.path.rsplit("/", 1)[-1], 7)
        if r.path in ("/search", "/extract") and r.method == "POST" and "authorization" in r.headers:  # Tavily
            if r.headers.get("authorization") != f"Bearer {API_KEY}":
                return unauthorized
            payload = r.json()
            if r.path == "/extract":
                return 200, "application/json", json.dumps({"results": [{"url": u, "raw_content": f"Raw content of {u}", "images": []} for u in payload["urls"]],
                                                            "failed_results": [], "response_time": 0.1})
            results = [{"title": f"{payload['query']} {i}", "url": f"https://t.example/{i}", "content": f"Content {i}", "score": 0.9 - i / 10,
                        "raw_content": None} for i in range(payload.get("max_results", 5))]
            return 200, "application/json", json.dumps({"query": payload["query"], "answer": f"Answer about {payload['query']}",
                                                        "images": ["https://t.example/img.png"], "results": results, "response_time": 0.2})
        if r.path in ("/search", "/news") and r.method == "POST":  # Serper
            if r.headers.get("x-api-key") != API_KEY:
                return 403, "application/json", json.dumps({"message": "Unauthorized.", "statusCode": 403})
            payload = r.json()
            key = "news" if r.path == "/news" else "organic"
            hits = [{"title": f"{payload['q']} {i}", "link": f"https://s.example/{i}", "snippet": f"Snippet {i}", "position": i + 1,
                     **({"date": "1 day ago", "source": "Example"} if key == "news" else {})} for i in range(payload.get("num", 10))]
            return 200, "application/json", json.dumps({"searchParameters": payload, key: hits})
        if r.path == "/search" and r.method == "GET" and q.get("format") != "json":  # SerpAPI
            if q.get("api_key") != API_KEY:
                return unauthorized
            hits = [{"position": i + 1, "title": f"{q.get('q')} {i}", "link": f"https://serp.example/{i}", "snippet": "S" * 150} for i in range(10)]
            return 200, "application/json", json.dumps({"search_metadata": {"status": "Success"}, "organic_results": hits})
        if r.path == "/api/v1/search":  # searchapi.io
            if r.headers.get("authorization") != f"Bearer {API_KEY}":
                return unauthorized
            hits = [{"position": i + 1, "title": f"{q.get('engine')}:{q.get('q')} {i}", "link": f"https://sa.example/{i}", "snippet": f"Snippet {i}"} for i in range(10)]
            return 200, "application/json", json.dumps({"search_parameters": q, "organic_results": hits})
        if r.path == "/api/query":  # arXiv
            n = int(q.get("max_results", 10))
            entries = "".join(
                f"<entry><id>http://arxiv.org/abs/2401.0000{i}v1</id><updated>2024-01-0{i + 1}T00:00:00Z</updated>"
                f"<published>2024-01-0{i + 1}T00:00:00Z</published><title>Paper {i} on {q.get('search_query')}</title>"
                f"<summary>Abstract {i}</summary><author><name>Author {i}</name></author>"
                f'<link href="http://arxiv.org/abs/2401.0000{i}v1" rel="alternate" type="text/html"/>'
                f'<link title="pdf" href="http://arxiv.org/pdf/2401.0000{i}v1" rel="related" type="application/pdf"/>'
                f'<arxiv:primary_category xmlns:arxiv="http://arxiv.org/schemas/atom" term="cs.AI"/></entry>'
                for i in range(min(n, 5))
            )
            return 200, "application/atom+xml", f'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">{entries}</feed>'
        if r.path == "/v7.0/search":  # Bing Web Search v7
            if r.headers.get("ocp-apim-subscription-key") != API_KEY:
                return 401, "application/json", json.dumps({"error": {"code": "401", "message": "Access denied due to invalid subscription key."}})
            pages = [{"id": f"b{i}", "name": f"{q.get('q')} {i}", "url": f"https://bing.example/{i}", "snippet": f"<b>Snippet</b> {i}"}
                     for i in range(int(q.get("count", 10)) + 2)]
            return 200, "application/json", json.dumps({"_type": "SearchResponse", "webPages": {"value": pages}})
        if r.path == "/rest/api/v1/search" and r.method == "POST":  # Glean
            if r.headers.get("authorization") != f"Bearer {API_KEY}":
                return 401, "application/json", json.dumps({"message": "Not allowed"})
            payload = r.json()
            if payload["query"] == "nothing":
                return 200, "application/json", json.dumps({"results": []})
            hits = [{"title": f"Doc {i}", "url": f"https://glean.example/{i}", "snippets": [{"snippet": {"text": ""}, "text": f"Hit {i}"}] if i else []}
                    for i in range(min(3, payload.get("pageSize", 10)))]
            return 200, "application/json", json.dumps({"results": hits, "requestID": "r1"})
        if r.path == "/customsearch/v1":
            if q.get("key") != API_KEY:
                return 400, "application/json", json.dumps({"error": {"code": 400, "message": "API key not valid. Please pass a valid API key."}})
            items = [{"title": f"{q.get('q')} {i}", "link": f"https://g.example/{i}", "snippet": f"Snippet {i}"} for i in range(int(q.get("num", 10)))]
            return 200, "application/json", json.dumps({"kind": "customsearch#search", "items": items})
        if r.path == "/search" and r.method == "GET" and q.get("format") == "json":  # SearXNG
            hits = [{"url": f"https://sx.example/{i}", "title": f"{q.get('q')} {i}", "content": f"in {q.get('categories')}", "engine": "x"} for i in range(12)]
            return 200, "application/json", json.dumps({"query": q.get("q"), "results": hits})
        if r.path == "/w/api.php" and q.get("action") == "wbsearchentities":
            return 200, "application/json", json.dumps({"search": [{"id": "Q90", "label": "Paris", "description": "capital of France"},
                                                                   {"id": "Q167646", "label": "Paris", "description": "Trojan prince"}] if q.get("search", "").strip() else []})
        if r.path == "/w/api.php":  # MediaWiki
            if q.get("list") == "search":
                hits = [{"ns": 0, "title": f"{q['srsearch']} {i}", "pageid": 100 + i} for i in range(int(q.get("srlimit", 10)))]
                return 200, "application/json", json.dumps({"query": {"searchinfo": {"totalhits": 99}, "search": hits}})
            pages = {pid: {"pageid": int(pid), "title": f"Title {pid}", "fullurl": f"https://en.wikipedia.org/wiki/{pid}",
                           "extract": f"First paragraph of {pid}.\n\nSecond paragraph."} for pid in q.get("pageids", "").split("|")}
            return 200, "application/json", json.dumps({"query": {"pages": pages}})
        return 404, "application/json", json.dumps({"error": "not found"})
