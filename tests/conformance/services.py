"""The external services conformance flows need, and the ones the test kit provides.

A real export names components that talk to something outside Flowless: a model provider, a
vector database, a web page, an MCP server... The runner (tests/conformance/runner.py) looks up
every node's component type in `NEEDS` to learn which service it needs, and runs the flow only
when the kit (`KIT`) provides every one of them; otherwise the flow is reported as
"loads but needs <service>".

How to add a service (e.g. for a provider, a store, a tool, MCP):
1. Write the local server in tests/support/<protocol>.py (a context manager with `.base_url` and
   a record of requests), from the service's public API reference.
2. Here, subclass `Service`: `name` (what the report prints), `start()` (start the server; the
   runner starts each service once, on first use, and calls `stop()` at the end) and
   `prepare(graph, node_ids, setup)`: point the nodes at the server by adding variables
   (`setup.variables`), tweaks (`setup.tweak(node_id, field, value)`) or run_flow_from_json
   keyword arguments (`setup.kwargs`). Add the class to `KIT` under its name.
3. Map the component types that need it in `NEEDS` (the type as the registry resolves it:
   `registry.resolve_type`). A type needing a service the kit lacks is mapped too, to a name
   not in `KIT` (e.g. "web search"), so the report says what is missing.
4. Run `make conformance`; flows that now run are reported as new passes: add them to
   tests/conformance/expected.json (or run the runner with `--update`).
Only loopback hosts are reachable while the runner runs (it refuses every other host before
resolving it), so a service the kit does not point a node at fails instead of reaching out.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Component type (as registered) -> the service it needs.
NEEDS: dict[str, str] = {
    # model providers: the OpenAI-compatible test server (also speaks Anthropic and Ollama)
    "LanguageModelComponent": "model server",
    "OpenAIModel": "model server",
    "Agent": "model server",
    "StructuredOutput": "model server",
    "BatchRunComponent": "model server",
    "SmartRouter": "model server",
    "LLMRouterComponent": "model server",
    "LLMSelectorComponent": "model server",
    "EmbeddingModel": "model server",
    "OpenAIEmbeddings": "model server",
    # files a user uploads to the flow
    "File": "files",
    # knowledge bases and vector stores (in memory; embeddings from the model server)
    "Knowledge": "knowledge base",
    "KnowledgeIngestion": "knowledge base",
    "KnowledgeBase": "knowledge base",
    "KnowledgeRetrieval": "knowledge base",
    "Chroma": "knowledge base",
    # remote MCP servers (tests/support/mcp_server.py, built with the mcp SDK)
    "MCPTools": "MCP server",
    "MCP": "MCP server",
    "MCPSse": "MCP server",
    "FAISS": "knowledge base",  # the tenant's vector store
    # vector stores a flow names itself: local servers speaking their APIs
    "AstraDB": "astra db",
    "AstraVectorStoreComponent": "astra db",
    "AstraDBSearch": "astra db",
    "AstraDBVectorStoreComponent": "astra db",
    "AstraDBToolComponent": "astra db",
    "AstraDBTool": "astra db",
    "OpenSearchVectorStoreComponent": "opensearch",
    "QdrantVectorStoreComponent": "qdrant",
    "Pinecone": "pinecone",
    "pgvector": "postgresql",  # a real PostgreSQL + pgvector: not started by the conformance kit
    "HCD": "astra db",
    "AstraDBChatMemory": "astra db",
    "Elasticsearch": "elasticsearch",
    "Milvus": "milvus",
    "Upstash": "upstash",
    "SupabaseVectorStore": "supabase",
    "MemoryBase": "memory base",
    "MongoDBAtlasVector": "mongodb atlas",  # tests/support/mongodb_server.py (wire protocol)
    "Redis": "redis",  # a real Redis Stack (tests/support/redis_server.py)
    "RedisChatMemory": "redis",
    # web pages (the page routes of tests/support/search_server.py)
    "URLComponent": "web pages",
    "URL": "web pages",
    # search engines and search APIs (tests/support/search_server.py)
    **{t: "search services" for t in (
        "UnifiedWebSearch", "NewsSearch", "RSSReaderSimple", "DuckDuckGoSearchComponent", "DuckDuckGoSearch",
        "TavilySearchComponent", "TavilyAISearch", "TavilySearch", "TavilyExtractComponent", "SerpAPI", "SearchAPI",
        "GoogleSerperAPI", "GoogleSerperAPICore", "ArXivComponent", "WikipediaAPI", "ExaSearch", "WolframAlphaAPI", "GoogleSearchAPI", "WikidataAPI",
        "WikipediaComponent", "WikidataComponent", "WebSearchNoAPI", "BingSearchAPI", "GoogleSearchAPICore", "GleanSearchAPIComponent",
        "Serp", "SearchComponent")},
    # any HTTP API (tests/support/echo_server.py)
    "APIRequest": "http api",
    # Firecrawl and AssemblyAI (tests/support/firecrawl_server.py, assemblyai_server.py)
    **{t: "firecrawl" for t in ("FirecrawlScrapeApi", "FirecrawlCrawlApi", "FirecrawlMapApi", "FirecrawlSearchApi")},
    **{t: "assemblyai" for t in ("AssemblyAITranscriber", "AssemblyAITranscriptionJobCreator", "AssemblyAITranscriptionJobPoller",
                                 "AssemblyAIGetSubtitles", "AssemblyAIListTranscripts", "AssemblyAILeMUR")},
    "ComposioAPI": "composio",
    # YouTube, Yahoo! Finance, Docling Serve (tests/support/youtube_server.py, yahoo_finance_server.py, docling_server.py)
    **{t: "youtube" for t in ("YouTubeTranscripts", "YouTubeSearchComponent", "YouTubeVideoDetailsComponent", "YouTubeChannelComponent",
                              "YouTubePlaylistComponent", "YouTubeTrendingComponent")},
    "YouTubeCommentsComponent": "youtube",
    **{t: "yahoo finance" for t in ("YfinanceComponent", "YahooFinanceTool")},
    "DoclingRemote": "docling serve",
    **{t: "scraping apis" for t in ("ScrapeGraphMarkdownifyApi", "ScrapeGraphSmartScraperApi", "ScrapeGraphSearchApi", "AgentQL",
                                    "SpiderTool", "JigsawStackAISearch", "JigsawStackAIScraper")},
    # SQL databases (SQLite in a temporary folder)
    "SQLComponent": "database",
    "SQLAgent": "database",
    # the tenant's files (written into the files root)
    "SaveToFile": "files",
    "Directory": "files",
    "CSVtoData": "files",
    "JSONtoData": "files",
}


def _provider_types() -> dict[str, str]:
    """Every provider node (components/types/providers.py) needs the provider servers."""
    from flowless_engine.components.types.providers import TYPES

    return {name: "model providers" for name, target in TYPES.items() if not target.startswith("embedding_tools:")}


NEEDS.update(_provider_types())

# Services a flow needs alongside another (knowledge bases embed through the model server; an
# Agent or Language Model may name any provider in its model list or `agent_llm`).
ALSO_NEEDS: dict[str, tuple[str, ...]] = {"knowledge base": ("model server",), "model server": ("model providers",), "docling serve": ("files",),
                                          **{store: ("model server",) for store in (
                                              "astra db", "memory base", "opensearch", "qdrant", "pinecone", "elasticsearch",
                                              "milvus", "upstash", "supabase", "mongodb atlas", "redis")}}


@dataclass
class RunSetup:
    """What one flow run gets: variables, tweaks and run_flow_from_json keyword arguments."""

    variables: dict[str, str] = field(default_factory=dict)
    tweaks: dict[str, dict[str, Any]] = field(default_factory=dict)
    kwargs: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)  # EngineSettings fields to replace

    def tweak(self, node_id: str, field_name: str, value: Any) -> None:
        self.tweaks.setdefault(node_id, {})[field_name] = value


class Service:
    name = ""

    def start(self) -> None:
        """Start the local server(s). Called once, before the first flow that needs the service."""

    def stop(self) -> None:
        """Stop what start() started."""

    def reset(self) -> None:
        """Forget the previous flow's state (called before each flow that needs the service)."""

    def prepare(self, graph: Any, node_ids: list[str], setup: RunSetup) -> None:
        """Point `node_ids` (the nodes of `graph` that need this service) at it."""
        raise NotImplementedError


class ModelServerService(Service):
    """tests/support/model_server.py: OpenAI chat and embeddings, Anthropic Messages, Ollama chat.
    Answers are deterministic and bounded (an agent gets at most one tool call per user turn)."""

    name = "model server"
    URL_FIELDS = ("openai_api_base", "base_url", "api_base", "ollama_base_url")

    def start(self) -> None:
        from tests.support.model_server import ModelServer

        self.server = ModelServer()
        self.server.chunk_delay_s = 0

    def stop(self) -> None:
        self.server.close()

    def reset(self) -> None:
        self.server.reset()
        self.server.chunk_delay_s = 0

    def prepare(self, graph: Any, node_ids: list[str], setup: RunSetup) -> None:
        server = self.server
        setup.variables.update({
            "OPENAI_API_KEY": "test", "OPENAI_BASE_URL": server.base_url,
            "ANTHROPIC_API_KEY": "test", "ANTHROPIC_BASE_URL": server.url,
            "OLLAMA_BASE_URL": server.url,
        })
        for node_id in node_ids:
            fields = graph.vertices[node_id].fields
            for name in self.URL_FIELDS:
                if (fields.get(name) or {}).get("value"):  # an explicit endpoint: ours instead
                    setup.tweak(node_id, name, server.url if name == "ollama_base_url" else server.base_url)
            for name, spec in fields.items():  # credentials the node reads from variables: fake ones
                if not isinstance(spec, dict):
                    continue
                if spec.get("load_from_db") and isinstance(spec.get("value"), str) and spec["value"]:
                    setup.variables.setdefault(spec["value"], "test")
                elif spec.get("password") and spec.get("required") and not spec.get("value"):
                    setup.tweak(node_id, name, "test")  # a key the export left out (Langflow's export drops them), as a user's tweak


class FilesService(Service):
    """A small text file in a temporary files root, given to every File node."""

    name = "files"
    SAMPLE = (
        "Acme Corp annual report.\nCOMPANY: Acme\nREVENUE: 120M\nGROSS_PROFIT: 60M\nEBITDA: 30M\n"
        "EBIT: 25M\nNET_INCOME: 18M\nNET_MARGIN: 15%\nCustomers love the new release, but the docs need work.\n"
    )

    def start(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="flowless-conformance-files-")
        self.root = Path(self._dir.name)
        (self.root / "sample.txt").write_text(self.SAMPLE, encoding="utf-8")

    def stop(self) -> None:
        self._dir.cleanup()

    def prepare(self, graph: Any, node_ids: list[str], setup: RunSetup) -> None:
        setup.kwargs["files_root"] = self.root
        for node_id in node_ids:
            if (graph.vertices[node_id].fields.get("path") or {}).get("type") == "file":  # File nodes (not Directory's folder)
                setup.tweak(node_id, "path", ["sample.txt"])


class KnowledgeBaseService(Service):
    """In-memory knowledge bases (flowless_engine.vectors.memory) holding one filled base,
    "conformance", embedded as the model server embeds; Knowledge nodes are pointed at it."""

    name = "knowledge base"
    BASE = "conformance"
    CHUNKS = ("Refunds are paid within fourteen days.", "Invoices are sent on the first of each month.",
              "Support answers within one business day.")

    def reset(self) -> None:
        import asyncio

        from flowless_engine.vectors.base import KnowledgeBaseSpec, VectorItem
        from flowless_engine.vectors.memory import InMemoryKnowledgeBases, InMemoryVectorStore
        from tests.support.model_server import embed

        spec = KnowledgeBaseSpec(self.BASE, "OpenAI", "text-embedding-3-small")
        self.vectors = InMemoryVectorStore()
        self.knowledge = InMemoryKnowledgeBases([spec])
        items = [VectorItem(f"c{n}", embed(text), text, {"file_name": "policies.txt"}) for n, text in enumerate(self.CHUNKS)]
        asyncio.run(self.vectors.upsert(spec.index(), items))

    def prepare(self, graph: Any, node_ids: list[str], setup: RunSetup) -> None:
        setup.kwargs["vectors"], setup.kwargs["knowledge"] = self.vectors, self.knowledge
        for node_id in node_ids:
            if "knowledge_base" in graph.vertices[node_id].fields:
                setup.tweak(node_id, "knowledge_base", self.BASE)


class McpServerService(Service):
    """tests/support/mcp_server.py (shout, add, lookup, broken) stands in for every MCP server a
    flow names: the tenant variable MCP_SERVER_<NAME> of each node's server points at it (exports
    carry only the server's name), and a deprecated MCPSse node's URL is tweaked to it."""

    name = "MCP server"

    def start(self) -> None:
        from tests.support.mcp_server import McpTestServer

        self.server = McpTestServer().__enter__()

    def stop(self) -> None:
        self.server.__exit__(None, None, None)

    def reset(self) -> None:
        from flowless_engine.mcp_client import clear_cache

        clear_cache()

    def prepare(self, graph: Any, node_ids: list[str], setup: RunSetup) -> None:
        import json

        from flowless_engine.components.mcp import variable_name

        for node_id in node_ids:
            fields = graph.vertices[node_id].fields
            if "url" in fields and "mcp_server" not in fields:
                setup.tweak(node_id, "url", self.server.base_url + "/sse")
                continue
            value = (fields.get("mcp_server") or {}).get("value")
            name = value.get("name") if isinstance(value, dict) else value
            setup.variables[variable_name(str(name or "mcp"))] = json.dumps({"url": self.server.base_url + "/mcp"})


class ProviderServersService(Service):
    """The provider protocol servers: tests/support/model_server.py for the OpenAI-compatible
    services (Groq, OpenRouter, LM Studio, Azure...), Ollama and Anthropic; gemini_server,
    cohere_server, watsonx_server (with IAM) and hf_server. Providers' default addresses point at
    them while the service runs; nodes with an address field are tweaked to them; keys are the
    providers' conventional variables."""

    name = "model providers"

    def start(self) -> None:
        import dataclasses

        from flowless_engine.llm import bedrock, cohere, gemini, huggingface, providers, watsonx
        from tests.support.bedrock_server import BedrockServer
        from tests.support.cohere_server import CohereServer
        from tests.support.gemini_server import GeminiServer
        from tests.support.hf_server import HuggingFaceServer
        from tests.support.model_server import ModelServer
        from tests.support.watsonx_server import WatsonxServer

        self.servers = {"openai": ModelServer(), "gemini": GeminiServer(), "cohere": CohereServer(),
                        "huggingface": HuggingFaceServer(), "watsonx": WatsonxServer(), "bedrock": BedrockServer()}
        self._saved: list[tuple[Any, str, Any]] = []

        def patch(owner: Any, name: str, value: Any) -> None:
            self._saved.append((owner, name, getattr(owner, name)))
            setattr(owner, name, value)

        table = dict(providers.PROVIDERS)
        for key, provider in providers.PROVIDERS.items():
            if provider.protocol == "openai" and key not in ("openai", "openai compatible"):
                table[key] = dataclasses.replace(provider, base_url=self.servers["openai"].base_url)
        patch(providers, "PROVIDERS", table)
        patch(gemini, "GEMINI_BASE_URL", self.servers["gemini"].url)
        patch(cohere, "COHERE_BASE_URL", self.servers["cohere"].url)
        patch(huggingface, "ROUTER_CHAT_URL", self.servers["huggingface"].url + "/v1")
        patch(huggingface, "ROUTER_INFERENCE_URL", self.servers["huggingface"].url + "/models")
        patch(watsonx, "IAM_URL", self.servers["watsonx"].iam_url)
        patch(bedrock, "_clients", {})  # botocore clients cached for real endpoints are not reused
        self.reset()

    def stop(self) -> None:
        for owner, name, value in reversed(self._saved):
            setattr(owner, name, value)
        for server in self.servers.values():
            server.close()

    def reset(self) -> None:
        for server in self.servers.values():
            server.reset()
            server.chunk_delay_s = 0

    def _url(self, type_name: str, protocol: str) -> str:
        server = self.servers.get(protocol, self.servers["openai"])
        if protocol == "huggingface":
            return server.url + "/embed" if "Embeddings" in type_name else server.url + "/generate"
        host_only = protocol != "openai" or type_name in ("GroqModel", "AzureOpenAIModel", "AzureOpenAIEmbeddings")
        return server.url if host_only else server.base_url

    def prepare(self, graph: Any, node_ids: list[str], setup: RunSetup) -> None:
        from flowless_engine.components.providers_agent import provider_node
        from flowless_engine.components.providers_base import ChatProviderComponent, EmbeddingsProviderComponent
        from flowless_engine.components.registry import get_component_class, resolve_type
        from flowless_engine.llm.providers import PROVIDERS, find_provider

        setup.variables.update({p.key_variable: "test" for p in PROVIDERS.values() if p.key_variable and p.key_variable not in setup.variables})
        setup.variables.setdefault("WATSONX_PROJECT_ID", "test-project")
        for vertex in graph.vertices.values():
            fields = vertex.fields
            resolved = resolve_type(vertex.type) or ""
            if (fields.get("base_url_ibm_watsonx") or {}).get("value"):  # 1.13's model list: watsonx's endpoint
                setup.tweak(vertex.id, "base_url_ibm_watsonx", self.servers["watsonx"].url)
            agent_llm = (fields.get("agent_llm") or {}).get("value")
            node: Any = provider_node(agent_llm) if isinstance(agent_llm, str) and agent_llm else None
            if node is None and vertex.id in node_ids:
                cls = get_component_class(resolved)
                node = cls if issubclass(cls, (ChatProviderComponent, EmbeddingsProviderComponent)) else None
            if node is None:
                continue
            for name, spec in fields.items():
                if not isinstance(spec, dict):
                    continue
                if spec.get("load_from_db") and isinstance(spec.get("value"), str) and spec["value"]:
                    setup.variables.setdefault(spec["value"], "test")
                elif spec.get("password") and spec.get("required") and not spec.get("value"):
                    setup.tweak(vertex.id, name, "test")  # a key the export left out
            provider = find_provider(node.provider)
            if provider is not None and provider.protocol == "bedrock":  # botocore signs with fake keys, to the local endpoint
                setup.tweak(vertex.id, "endpoint_url", self.servers["bedrock"].url)
                for key in ("aws_access_key_id", "aws_secret_access_key"):
                    if key in fields and not (fields[key].get("load_from_db") and fields[key].get("value")):
                        setup.tweak(vertex.id, key, "test")
            url_field = getattr(node, "url_field", "")
            for name in (url_field, node.legacy_fields.get(url_field, "")):
                if name and name in fields and provider is not None:
                    setup.tweak(vertex.id, name, self._url(node.type_name, provider.protocol))


def _credentials(graph: Any, node_ids: list[str], setup: RunSetup, key: str) -> None:
    """Every secret field of the nodes answers `key`: through its variable, or as a tweak."""
    for node_id in node_ids:
        for name, spec in graph.vertices[node_id].fields.items():
            if not isinstance(spec, dict) or not (spec.get("password") or spec.get("_input_type") == "SecretStrInput"):
                continue
            if spec.get("load_from_db") and isinstance(spec.get("value"), str) and spec["value"]:
                setup.variables[spec["value"]] = key
            else:
                setup.tweak(node_id, name, key)


class SearchService(Service):
    """tests/support/search_server.py: DuckDuckGo's HTML page, Google News RSS, Tavily, SerpAPI,
    searchapi.io, Serper, arXiv and MediaWiki, all on one local server."""

    name = "search services"

    def start(self) -> None:
        from tests.support.search_server import SearchServer

        self.server = SearchServer()

    def stop(self) -> None:
        self.server.__exit__()

    def reset(self) -> None:
        self.server.requests.clear()
        self.server.fail_next(0)

    def prepare(self, graph: Any, node_ids: list[str], setup: RunSetup) -> None:
        from tests.support.search_server import API_KEY

        urls = dict(setup.settings.get("service_urls", ()))
        urls.update(dict(self.server.service_urls()))
        setup.settings["service_urls"] = tuple(urls.items())
        _credentials(graph, node_ids, setup, API_KEY)
        for node_id in node_ids:
            fields = graph.vertices[node_id].fields
            if "glean_api_url" in fields:
                setup.tweak(node_id, "glean_api_url", f"{self.server.base_url}/rest/api/v1")
            if (fields.get("search_mode") or {}).get("value") == "RSS" or "rss_url" in fields:
                setup.tweak(node_id, "rss_url" if "rss_url" in fields else "query", f"{self.server.base_url}/feeds/conformance")


class WebPagesService(SearchService):
    """URL nodes read HTML pages of the search stand-in (`/pages/<n>`)."""

    name = "web pages"

    def prepare(self, graph: Any, node_ids: list[str], setup: RunSetup) -> None:
        for node_id in node_ids:
            setup.tweak(node_id, "urls", [f"{self.server.base_url}/pages/1"])


class _HostedApiService(Service):
    """A hosted API stand-in: the service URL replaced, every credential of the nodes its key."""

    module = ""
    server_class = ""

    def start(self) -> None:
        import importlib

        support = importlib.import_module(f"tests.support.{self.module}")
        self.key = support.API_KEY
        self.server = getattr(support, self.server_class)()

    def stop(self) -> None:
        self.server.__exit__()

    def prepare(self, graph: Any, node_ids: list[str], setup: RunSetup) -> None:
        urls = dict(setup.settings.get("service_urls", ()))
        urls[self.name] = self.server.base_url
        setup.settings["service_urls"] = tuple(urls.items())
        _credentials(graph, node_ids, setup, self.key)


class FirecrawlService(_HostedApiService):
    name, module, server_class = "firecrawl", "firecrawl_server", "FirecrawlServer"


class AssemblyAIService(_HostedApiService):
    name, module, server_class = "assemblyai", "assemblyai_server", "AssemblyAIServer"

    def prepare(self, graph: Any, node_ids: list[str], setup: RunSetup) -> None:
        super().prepare(graph, node_ids, setup)
        self.server.processing_polls = 0


class YouTubeService(_HostedApiService):
    """tests/support/youtube_server.py: the Data API and youtube.com (watch page, player, timedtext)."""

    name, module, server_class = "youtube", "youtube_server", "YouTubeServer"

    def prepare(self, graph: Any, node_ids: list[str], setup: RunSetup) -> None:
        urls = dict(setup.settings.get("service_urls", ()))
        urls.update(dict(self.server.service_urls()))
        setup.settings["service_urls"] = tuple(urls.items())
        _credentials(graph, node_ids, setup, self.key)


class YahooFinanceService(YouTubeService):
    name, module, server_class = "yahoo finance", "yahoo_finance_server", "YahooFinanceServer"

    def start(self) -> None:
        super().start()
        self.key = ""


class ScrapingService(YouTubeService):
    """tests/support/scraping_server.py: ScrapeGraph and AgentQL."""

    name, module, server_class = "scraping apis", "scraping_server", "ScrapingServer"


class DoclingService(_HostedApiService):
    """tests/support/docling_server.py; the node converts the files service's sample file."""

    name, module, server_class = "docling serve", "docling_server", "DoclingServer"

    def start(self) -> None:
        super().start()
        from flowless_engine.components.docling import DoclingRemoteComponent

        self._interval = DoclingRemoteComponent.POLL_INTERVAL_S
        DoclingRemoteComponent.POLL_INTERVAL_S = 0.05  # the stand-in answers `started` once

    def stop(self) -> None:
        from flowless_engine.components.docling import DoclingRemoteComponent

        DoclingRemoteComponent.POLL_INTERVAL_S = self._interval
        super().stop()

    def prepare(self, graph: Any, node_ids: list[str], setup: RunSetup) -> None:
        for node_id in node_ids:
            setup.tweak(node_id, "api_url", self.server.base_url)
            setup.tweak(node_id, "api_headers", [{"key": "X-Api-Key", "value": self.key}])
            setup.tweak(node_id, "path", ["sample.txt"])


class ComposioService(_HostedApiService):
    name, module, server_class = "composio", "composio_server", "ComposioServer"


class HttpApiService(Service):
    """tests/support/echo_server.py: API Request nodes are pointed at an echo server."""

    name = "http api"

    def start(self) -> None:
        from tests.support.echo_server import EchoServer

        self.server = EchoServer()

    def stop(self) -> None:
        self.server.__exit__()

    def prepare(self, graph: Any, node_ids: list[str], setup: RunSetup) -> None:
        for node_id in node_ids:
            fields = graph.vertices[node_id].fields
            if "urls" in fields and "url_input" not in fields:
                setup.tweak(node_id, "urls", [f"{self.server.base_url}/api"])
                setup.tweak(node_id, "curl", "")
            else:
                setup.tweak(node_id, "url_input", f"{self.server.base_url}/api")
                setup.tweak(node_id, "mode", "URL")
                setup.tweak(node_id, "curl_input", "")


class DatabaseService(Service):
    """A SQLite database in a temporary folder (EngineSettings.sqlite_root) for SQL nodes."""

    name = "database"

    def start(self) -> None:
        import sqlite3

        self._dir = tempfile.TemporaryDirectory(prefix="flowless-conformance-db-")
        db = sqlite3.connect(Path(self._dir.name) / "conformance.db")
        db.executescript("create table products(id integer primary key, name text, price real, plan text);"
                         "insert into products(name, price, plan) values ('Starter', 9, 'monthly'), ('Pro', 29, 'monthly'), ('Team', 99, 'yearly');")
        db.commit()
        db.close()

    def stop(self) -> None:
        self._dir.cleanup()

    def prepare(self, graph: Any, node_ids: list[str], setup: RunSetup) -> None:
        setup.settings["sqlite_root"] = self._dir.name
        for node_id in node_ids:
            fields = graph.vertices[node_id].fields
            url_field = "database_uri" if "database_uri" in fields else "database_url"  # SQL Agent / SQL Database
            spec = fields.get(url_field) or {}
            if spec.get("load_from_db") and spec.get("value"):
                setup.variables[spec["value"]] = "sqlite:///conformance.db"
            else:
                setup.tweak(node_id, url_field, "sqlite:///conformance.db")
            if url_field == "database_url" and not (fields.get("query") or {}).get("value"):
                setup.tweak(node_id, "query", "select name, price from products order by price")


HYBRID_COLLECTION = {
    "vector": {"dimension": 1024, "metric": "cosine", "service": {"provider": "nvidia", "modelName": "NV-Embed-QA"}},
    "lexical": {"enabled": True, "analyzer": "standard"},
    "rerank": {"enabled": True, "service": {"provider": "nvidia", "modelName": "nvidia/llama-3.2-nv-rerankqa-1b-v2"}},
}


class AstraService(Service):
    """tests/support/astra_server.py: the Astra DB Data API (any token accepted). Astra nodes get
    its endpoint (a tweak, or the variable an endpoint field names), a placeholder token and the
    database/collection names an export left empty; collections are created by the flows' own
    ingestion (or found empty)."""

    name = "astra db"
    ENDPOINT_FIELDS = ("api_endpoint", "d_api_endpoint")

    def start(self) -> None:
        from tests.support.astra_server import AstraServer

        self.server = AstraServer(tokens=None)

    def stop(self) -> None:
        self.server.close()

    def reset(self) -> None:
        from flowless_engine.vectors import astra

        # The collection a node left unnamed is the one the user would pick in the Astra portal:
        # Astra-embedded (NVIDIA), with a lexical index and a reranker, as Hybrid Search needs.
        self.server.data = {"default_keyspace": {"conformance": {"options": HYBRID_COLLECTION, "documents": {}}}}
        astra._options_cache.clear()

    def prepare(self, graph: Any, node_ids: list[str], setup: RunSetup) -> None:
        for node_id in node_ids:
            fields = graph.vertices[node_id].fields
            for name in self.ENDPOINT_FIELDS:
                spec = fields.get(name)
                if spec is None:
                    continue
                if spec.get("load_from_db") and spec.get("value"):
                    setup.variables[spec["value"]] = self.server.api_endpoint
                else:
                    setup.tweak(node_id, name, self.server.api_endpoint)
            for name, default in (("token", "AstraCS:conformance"), ("database_name", "conformance"), ("collection_name", "conformance")):
                spec = fields.get(name) or {}
                if spec.get("load_from_db") and spec.get("value"):
                    setup.variables.setdefault(spec["value"], default)
                elif name in fields and not spec.get("value"):
                    setup.tweak(node_id, name, default)
            for spec in fields.values():  # a namespace/keyspace the export named: make it exist
                if isinstance(spec, dict) and spec.get("name") in ("keyspace", "namespace") and spec.get("value"):
                    self.server.data.setdefault(str(spec["value"]), {})
            # A collection the export names for Astra Vectorize exists in the user's database with its
            # embedding service (the node cannot create it without a provider): the Astra-embedded kind.
            collection = (fields.get("collection_name") or {}).get("value")
            if collection and (fields.get("embedding_choice") or {}).get("value") == "Astra Vectorize":
                keyspace = str((fields.get("keyspace") or fields.get("namespace") or {}).get("value") or "default_keyspace")
                self.server.data.setdefault(keyspace, {}).setdefault(str(collection), {"options": HYBRID_COLLECTION, "documents": {}})


class OpenSearchService(Service):
    """tests/support/opensearch_server.py (basic auth admin/admin, Langflow's default)."""

    name = "opensearch"

    def start(self) -> None:
        from tests.support.opensearch_server import OpenSearchServer

        self.server = OpenSearchServer(users={"admin": "admin"})

    def stop(self) -> None:
        self.server.close()

    def reset(self) -> None:
        self.server.indexes.clear()

    def prepare(self, graph: Any, node_ids: list[str], setup: RunSetup) -> None:
        for node_id in node_ids:
            setup.tweak(node_id, "opensearch_url", self.server.base_url)
            setup.tweak(node_id, "auth_mode", "basic")
            setup.tweak(node_id, "username", "admin")
            setup.tweak(node_id, "password", "admin")


class QdrantService(Service):
    """tests/support/qdrant_server.py."""

    name = "qdrant"

    def start(self) -> None:
        from tests.support.qdrant_server import QdrantServer

        self.server = QdrantServer()

    def stop(self) -> None:
        self.server.close()

    def reset(self) -> None:
        self.server.collections.clear()

    def prepare(self, graph: Any, node_ids: list[str], setup: RunSetup) -> None:
        for node_id in node_ids:
            setup.tweak(node_id, "url", self.server.base_url)
            if not (graph.vertices[node_id].fields.get("collection_name") or {}).get("value"):
                setup.tweak(node_id, "collection_name", "conformance")


class PineconeService(Service):
    """tests/support/pinecone_server.py; each node's index exists (64 dimensions, the model server's)."""

    name = "pinecone"

    def start(self) -> None:
        from tests.support.pinecone_server import PineconeServer

        self.server = PineconeServer(api_key="pc-conformance")

    def stop(self) -> None:
        self.server.close()

    def reset(self) -> None:
        self.server.indexes.clear()

    def prepare(self, graph: Any, node_ids: list[str], setup: RunSetup) -> None:
        setup.variables["PINECONE_API_URL"] = self.server.base_url
        for node_id in node_ids:
            fields = graph.vertices[node_id].fields
            index = (fields.get("index_name") or {}).get("value") or "conformance"
            setup.tweak(node_id, "index_name", index)
            self.server.create_index(str(index), 64)
            key = fields.get("pinecone_api_key") or {}
            if key.get("load_from_db") and key.get("value"):
                setup.variables[key["value"]] = "pc-conformance"
            else:
                setup.tweak(node_id, "pinecone_api_key", "pc-conformance")


class _LocalStoreService(Service):
    """A tests/support store server; `fields(server)` are the tweaks that point a node at it."""

    def server_class(self) -> Any:
        raise NotImplementedError

    def fields(self, graph: Any, node_id: str) -> dict[str, Any]:
        raise NotImplementedError

    def start(self) -> None:
        self.server = self.server_class()

    def stop(self) -> None:
        self.server.close()

    def prepare(self, graph: Any, node_ids: list[str], setup: RunSetup) -> None:
        for node_id in node_ids:
            for name, value in self.fields(graph, node_id).items():
                spec = graph.vertices[node_id].fields.get(name) or {}
                if spec.get("load_from_db") and spec.get("value"):
                    setup.variables[spec["value"]] = value
                else:
                    setup.tweak(node_id, name, value)


class ElasticsearchService(_LocalStoreService):
    name = "elasticsearch"

    def server_class(self) -> Any:
        from tests.support.elasticsearch_server import ElasticsearchServer

        return ElasticsearchServer(users={"elastic": "conformance"})

    def reset(self) -> None:
        self.server.indexes.clear()

    def fields(self, graph: Any, node_id: str) -> dict[str, Any]:
        return {"elasticsearch_url": self.server.base_url, "cloud_id": "", "api_key": "", "username": "elastic", "password": "conformance"}


class MilvusService(_LocalStoreService):
    name = "milvus"

    def server_class(self) -> Any:
        from tests.support.milvus_server import MilvusServer

        return MilvusServer(token="root:Milvus")

    def reset(self) -> None:
        self.server.collections.clear()

    def fields(self, graph: Any, node_id: str) -> dict[str, Any]:
        return {"uri": self.server.base_url, "password": "root:Milvus"}


class UpstashService(_LocalStoreService):
    name = "upstash"

    def server_class(self) -> Any:
        from tests.support.upstash_server import UpstashServer

        return UpstashServer(token="up-conformance")

    def reset(self) -> None:
        self.server.namespaces.clear()

    def fields(self, graph: Any, node_id: str) -> dict[str, Any]:
        return {"index_url": self.server.base_url, "index_token": "up-conformance"}


class SupabaseService(_LocalStoreService):
    name = "supabase"

    def server_class(self) -> Any:
        from tests.support.supabase_server import SupabaseServer

        return SupabaseServer(key="sb-conformance")

    def reset(self) -> None:
        self.server.tables = {"documents": {}}
        self.server.functions = {"match_documents": "documents"}

    def fields(self, graph: Any, node_id: str) -> dict[str, Any]:
        node = graph.vertices[node_id].fields
        table = (node.get("table_name") or {}).get("value") or "documents"
        function = (node.get("query_name") or {}).get("value") or "match_documents"
        self.server.tables.setdefault(str(table), {})
        self.server.functions[str(function)] = str(table)
        return {"supabase_url": self.server.base_url, "supabase_service_key": "sb-conformance"}


class MemoryBaseService(Service):
    """Memory Base nodes search the flow's own chat history (the run's message store): they only
    need the memory's name a user picks in Langflow."""

    name = "memory base"

    def prepare(self, graph: Any, node_ids: list[str], setup: RunSetup) -> None:
        for node_id in node_ids:
            if not (graph.vertices[node_id].fields.get("memory_base") or {}).get("value"):
                setup.tweak(node_id, "memory_base", "conformance")


class MongoDBAtlasService(Service):
    """tests/support/mongodb_server.py: MongoDB's wire protocol with Atlas Vector Search. Nodes get
    its connection string, the names an export left empty, and the model server's dimension."""

    name = "mongodb atlas"

    def start(self) -> None:
        from tests.support.mongodb_server import MongoServer

        self.server = MongoServer(users={"conformance": "conformance"}).__enter__()

    def stop(self) -> None:
        from flowless_engine.vectors import mongodb

        mongodb.close_clients()
        self.server.__exit__()

    def reset(self) -> None:
        self.server.data.clear()
        self.server.search_indexes.clear()

    def prepare(self, graph: Any, node_ids: list[str], setup: RunSetup) -> None:
        for node_id in node_ids:
            fields = graph.vertices[node_id].fields
            values = {"mongodb_atlas_cluster_uri": self.server.uri("conformance", "conformance"), "number_dimensions": 64}
            for name in ("db_name", "collection_name", "index_name"):
                spec = fields.get(name) or {}
                if spec.get("load_from_db") and spec.get("value"):  # a variable the user would define
                    setup.variables.setdefault(str(spec["value"]), "conformance")
                elif not spec.get("value"):
                    values[name] = "conformance"
            for name, value in values.items():
                spec = fields.get(name) or {}
                if spec.get("load_from_db") and spec.get("value"):
                    setup.variables[spec["value"]] = value
                else:
                    setup.tweak(node_id, name, value)


class RedisService(Service):
    """tests/support/redis_server.py: a real Redis Stack (vector search). Redis nodes get its URL
    and an index name when the export has none; chat memories its host, port and password."""

    name = "redis"

    def start(self) -> None:
        from tests.support.redis_server import RedisServer

        self.server = RedisServer(password="conformance").__enter__()

    def stop(self) -> None:
        self.server.__exit__()

    def reset(self) -> None:
        for index in self.server.call("FT._LIST") or []:
            self.server.call("FT.DROPINDEX", index)
        self.server.call("FLUSHALL")

    def prepare(self, graph: Any, node_ids: list[str], setup: RunSetup) -> None:
        for node_id in node_ids:
            vertex = graph.vertices[node_id]
            values: dict[str, Any] = {"redis_server_url": self.server.url(), "redis_url": self.server.url(),  # vector store (or a user's node)
                                      "host": self.server.host, "port": self.server.port, "password": "conformance", "username": ""}
            if not (vertex.fields.get("redis_index_name") or {}).get("value"):
                values["redis_index_name"] = "conformance"
            for name, value in values.items():
                if name not in vertex.fields:
                    continue
                spec = vertex.fields.get(name) or {}
                if spec.get("load_from_db") and spec.get("value"):
                    setup.variables[spec["value"]] = str(value)
                else:
                    setup.tweak(node_id, name, value)


KIT: dict[str, type[Service]] = {
    MongoDBAtlasService.name: MongoDBAtlasService,
    RedisService.name: RedisService,
    ProviderServersService.name: ProviderServersService,
    McpServerService.name: McpServerService,
    SearchService.name: SearchService,
    WebPagesService.name: WebPagesService,
    HttpApiService.name: HttpApiService,
    FirecrawlService.name: FirecrawlService,
    AssemblyAIService.name: AssemblyAIService,
    ComposioService.name: ComposioService,
    YouTubeService.name: YouTubeService,
    YahooFinanceService.name: YahooFinanceService,
    DoclingService.name: DoclingService,
    ScrapingService.name: ScrapingService,
    DatabaseService.name: DatabaseService,
    ModelServerService.name: ModelServerService,
    FilesService.name: FilesService,
    KnowledgeBaseService.name: KnowledgeBaseService,
    AstraService.name: AstraService,
    MemoryBaseService.name: MemoryBaseService,
    OpenSearchService.name: OpenSearchService,
    QdrantService.name: QdrantService,
    PineconeService.name: PineconeService,
    ElasticsearchService.name: ElasticsearchService,
    MilvusService.name: MilvusService,
    UpstashService.name: UpstashService,
    SupabaseService.name: SupabaseService,
}


# ---- h25: Weaviate, Cassandra / Astra DB CQL tool on an Astra database, Mem0, Zep ---------------


class WeaviateService(_LocalStoreService):
    name = "weaviate"

    def server_class(self) -> Any:
        from tests.support.weaviate_server import WeaviateServer

        return WeaviateServer(api_keys=("wv-conformance",))

    def reset(self) -> None:
        self.server.classes.clear()

    def fields(self, graph: Any, node_id: str) -> dict[str, Any]:
        out = {"url": self.server.base_url, "api_key": "wv-conformance"}
        if not (graph.vertices[node_id].fields.get("index_name") or {}).get("value"):
            out["index_name"] = "Conformance"
        return out


class CassandraService(_LocalStoreService):
    """tests/support/astra_tables_server.py: Cassandra nodes (and the Astra DB CQL tool) naming an Astra database (its ID, as
    the DevOps API resolves it, or one made up when the export left it empty); nodes naming CQL
    contact points are pointed at tests/support/cql_server.py (CQL native protocol v4)."""

    name = "cassandra"
    DATABASE = "c0f0a11c-0000-4000-8000-000000000001"

    def server_class(self) -> Any:
        from tests.support.astra_tables_server import AstraTablesServer

        return AstraTablesServer(tokens=None, databases={self.DATABASE: "us-east-2"})

    def start(self) -> None:
        from tests.support.cql_server import CqlServer

        super().start()
        self.cql = CqlServer().__enter__()

    def stop(self) -> None:
        super().stop()
        self.cql.close()

    def reset(self) -> None:
        from flowless_engine.vectors import astra_tables

        self.server.tables.clear()
        self.cql.keyspaces.clear()
        astra_tables._endpoints.clear()

    def prepare(self, graph: Any, node_ids: list[str], setup: RunSetup) -> None:
        setup.variables["ASTRA_DEVOPS_API_URL"] = self.server.base_url
        super().prepare(graph, node_ids, setup)

    def fields(self, graph: Any, node_id: str) -> dict[str, Any]:
        from flowless_engine.vectors.astra_tables import is_astra_reference

        node = graph.vertices[node_id].fields
        out: dict[str, Any] = {"token": "AstraCS:conformance"}
        if "tools_params" in node:  # the Astra DB CQL tool: the same tables through the REST API (an empty one
            # with the tool's columns stands for the table the user has in Astra)
            table = str((node.get("collection_name") or {}).get("value") or "conformance")
            keyspace = str((node.get("keyspace") or {}).get("value") or "default_keyspace")
            params = (node.get("tools_params") or {}).get("value") or []
            columns = {"id": {"type": "text"}, **{str(p.get("field_name") or p.get("name")): {"type": "text"}
                                                  for p in params if isinstance(p, dict) and (p.get("field_name") or p.get("name"))}}
            self.server._createTable(keyspace, {"name": table, "definition": {"columns": columns, "primaryKey": "id"},
                                                "options": {"ifNotExists": True}})
            return {**out, "api_endpoint": self.server.base_url, "database_name": "conformance", "collection_name": table}
        ref = str((node.get("database_ref") or {}).get("value") or "").strip()
        if ref and not is_astra_reference(ref):  # contact points: the local CQL server, its keyspace made beforehand
            keyspace = str((node.get("keyspace") or {}).get("value") or "").strip() or "conformance"
            self.cql.keyspaces.setdefault(keyspace, {})
            return {"database_ref": self.cql.contact_point, "keyspace": keyspace, "token": "cassandra",
                    **({} if (node.get("table_name") or {}).get("value") else {"table_name": "conformance"})}
        if not ref:
            out["database_ref"] = self.DATABASE
        elif is_astra_reference(ref) and not ref.startswith("http"):
            self.server.databases[ref] = "us-east-2"
        keyspace = str((node.get("keyspace") or {}).get("value") or "").strip()
        if keyspace:
            self.server.data.setdefault(keyspace, {})
        else:
            out["keyspace"] = "default_keyspace"
        if not (node.get("table_name") or {}).get("value"):
            out["table_name"] = "conformance"
        return out


class Mem0Service(_LocalStoreService):
    name = "mem0"

    def server_class(self) -> Any:
        from tests.support.mem0_server import Mem0Server

        return Mem0Server(api_key="m0-conformance")

    def reset(self) -> None:
        self.server.memories.clear()

    def prepare(self, graph: Any, node_ids: list[str], setup: RunSetup) -> None:
        setup.variables["MEM0_API_URL"] = self.server.base_url
        super().prepare(graph, node_ids, setup)

    def fields(self, graph: Any, node_id: str) -> dict[str, Any]:
        return {"mem0_api_key": "m0-conformance"}


class ZepService(_LocalStoreService):
    name = "zep"

    def server_class(self) -> Any:
        from tests.support.zep_server import ZepServer

        return ZepServer(api_key="zep-conformance")

    def reset(self) -> None:
        self.server.sessions = {"v1": {}, "v2": {}}

    def fields(self, graph: Any, node_id: str) -> dict[str, Any]:
        return {"url": self.server.base_url, "api_key": "zep-conformance"}


NEEDS.update({"Weaviate": "weaviate", "Cassandra": "cassandra", "CassandraChatMemory": "cassandra", "AstraDBCQLToolComponent": "cassandra",
              "AstraDBDataAPI": "astra db", "mem0_chat_memory": "mem0", "ZepChatMemory": "zep"})
ALSO_NEEDS.update({"weaviate": ("model server",), "cassandra": ("model server",)})
KIT.update({service.name: service for service in (WeaviateService, CassandraService, Mem0Service, ZepService)})


# ---- h26: Couchbase over its Query and Search HTTP services ----------------------------------


class CouchbaseService(_LocalStoreService):
    """tests/support/couchbase_server.py (Query and Search at one origin): the node keeps its bucket,
    scope, collection and index names (made up when the export left them empty); the collection and
    its scoped Search index are created, as a Couchbase user creates them before running the flow."""

    name = "couchbase"
    DEFAULTS = {"bucket_name": "conformance", "scope_name": "_default", "collection_name": "_default", "index_name": "conformance_vectors"}

    def server_class(self) -> Any:
        from tests.support.couchbase_server import CouchbaseServer

        return CouchbaseServer(users={"conformance": "c0uch-conformance"})

    def reset(self) -> None:
        self.server.keyspaces.clear()
        self.server.indexes.clear()

    def fields(self, graph: Any, node_id: str) -> dict[str, Any]:
        node = graph.vertices[node_id].fields
        out: dict[str, Any] = {"couchbase_connection_string": self.server.base_url, "couchbase_username": "conformance",
                               "couchbase_password": "c0uch-conformance"}
        names = {}
        for field, default in self.DEFAULTS.items():
            names[field] = str((node.get(field) or {}).get("value") or "").strip()
            if not names[field]:
                out[field] = names[field] = default
        self.server.create_index(names["bucket_name"], names["scope_name"], names["collection_name"], names["index_name"])
        return out


NEEDS.update({"Couchbase": "couchbase"})
ALSO_NEEDS.update({"couchbase": ("model server",)})
KIT.update({CouchbaseService.name: CouchbaseService})


# ---- h27: Git repositories (git http-backend over smart HTTP) ----------------------------------


class GitService(Service):
    """tests/support/git_server.py: real git serving a small repository (a few commits, so the
    pack holds deltas). Git nodes get its URL in place of the export's (GitHub) URL; the
    repository is named after the export's, and a GitLoader's branch is kept when the repository
    has it (main otherwise)."""

    name = "git"

    def start(self) -> None:
        from tests.support.git_server import GitServer

        self.server = GitServer().__enter__()
        body = "\n".join(f"def helper_{i}(value):\n    return value + {i}\n" for i in range(40)) + "\n"
        self.server.repository("repository", [
            {"README.md": "# Conformance repository\n\nA small project served by git http-backend.\n", "src/main.py": body},
            {"src/main.py": body + "\nclass Transcriptor:\n    def transcribe(self, path):\n        return path\n", "docs/usage.md": "Call `Transcriptor().transcribe(path)`.\n"},
        ])

    def stop(self) -> None:
        self.server.__exit__()

    def prepare(self, graph: Any, node_ids: list[str], setup: RunSetup) -> None:
        url = f"{self.server.base_url}/repository.git"
        for node_id in node_ids:
            fields = graph.vertices[node_id].fields
            for name in ("repository_url", "clone_url"):
                if name in fields:
                    setup.tweak(node_id, name, url)
            if "repo_source" in fields:
                setup.tweak(node_id, "repo_source", "Remote")
            if "branch" in fields:
                setup.tweak(node_id, "branch", "main")


NEEDS.update({"GitExtractorComponent": "git", "GitLoaderComponent": "git"})
KIT.update({GitService.name: GitService})


# ---- h30: Google Workspace (Gmail, Drive, Docs, Calendar) ---------------------------------------


class GoogleWorkspaceService(Service):
    """tests/support/google_workspace_server.py: Gmail, Drive, Docs, Calendar and the OAuth token
    endpoint on one server; every Google service URL points at it and each credential field (token
    JSON or connection variable) answers its token JSON."""

    name = "google workspace"

    def start(self) -> None:
        from tests.support.google_workspace_server import API_KEY, GoogleWorkspaceServer

        self.server, self.key = GoogleWorkspaceServer(), API_KEY

    def stop(self) -> None:
        self.server.__exit__()

    def reset(self) -> None:
        self.server.reset()

    def prepare(self, graph: Any, node_ids: list[str], setup: RunSetup) -> None:
        urls = dict(setup.settings.get("service_urls", ()))
        urls.update(self.server.service_urls())
        setup.settings["service_urls"] = tuple(urls.items())
        _credentials(graph, node_ids, setup, self.key)


_GOOGLE_TYPES = ("GmailLoaderComponent", "GmailSendComponent", "GoogleDriveListComponent", "GoogleDriveSearchComponent",
                 "GoogleDriveFetchComponent", "GoogleDriveComponent", "GoogleCalendarListComponent", "GoogleCalendarCreateComponent")
NEEDS.update({name: GoogleWorkspaceService.name for name in _GOOGLE_TYPES})
KIT.update({GoogleWorkspaceService.name: GoogleWorkspaceService})


class NotionService(Service):
    """tests/support/notion_server.py: Notion's API; every Notion node's token answers its key."""

    name = "notion"

    def start(self) -> None:
        from tests.support.notion_server import API_KEY, NotionServer

        self.server, self.key = NotionServer(), API_KEY

    def stop(self) -> None:
        self.server.__exit__()

    def reset(self) -> None:
        self.server.reset()

    def prepare(self, graph: Any, node_ids: list[str], setup: RunSetup) -> None:
        urls = dict(setup.settings.get("service_urls", ()))
        urls.update(self.server.service_urls())
        setup.settings["service_urls"] = tuple(urls.items())
        _credentials(graph, node_ids, setup, self.key)


NEEDS.update({name: NotionService.name for name in ("NotionSearch", "NotionListPages", "NotionPageContent", "NotionPageCreator",
                                                    "NotionPageUpdate", "NotionDatabaseProperties", "NotionUserList", "AddContentToPage")})
KIT.update({NotionService.name: NotionService})


class ConfluenceService(Service):
    """tests/support/confluence_server.py: a Confluence Cloud site whose `ENG` space has a few pages;
    the nodes' site URL, user, token and space point at it."""

    name = "confluence"

    def start(self) -> None:
        from tests.support.confluence_server import ConfluenceServer

        self.server = ConfluenceServer(pages=3).__enter__()

    def stop(self) -> None:
        self.server.__exit__()

    def prepare(self, graph: Any, node_ids: list[str], setup: RunSetup) -> None:
        from tests.support.confluence_server import TOKEN, USER

        for node_id in node_ids:
            setup.tweak(node_id, "url", f"{self.server.base_url}/wiki")
            setup.tweak(node_id, "username", USER)
            setup.tweak(node_id, "space_key", "ENG")
        _credentials(graph, node_ids, setup, TOKEN)


NEEDS.update({"Confluence": "confluence"})
KIT.update({ConfluenceService.name: ConfluenceService})
