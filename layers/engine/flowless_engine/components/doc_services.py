"""Document services over their public HTTP APIs: rerankers (Cohere `/v2/rerank`, NVIDIA
`/ranking`), the Needle retriever (`/api/v1/collections/{id}/search`), Confluence Cloud pages of a
space (`/rest/api/content`, paginated) and Vectara RAG (REST v2 `/v2/query` with generation).

Endpoints can be replaced per service (`EngineSettings.service_urls`: cohere, nvidia, needle,
vectara); Confluence and NVIDIA take the node's own URL. Every request goes through the guarded
client; errors map as for every hosted API (apis.py): a refused key is a 4xx naming the service,
429/5xx are retried then 502, no answer in time 504.
"""

from __future__ import annotations

import base64
from html.parser import HTMLParser
from typing import Any

from flowless_engine.components.apis import api_key, call_json, service_url
from flowless_engine.components.base import Component, Input, Output, to_bool, to_data_list, to_int, to_text
from flowless_engine.components.toolmode import ToolModeMixin
from flowless_engine.errors import ConfigurationError, ProviderError
from flowless_engine.schema import Data, DataFrame, Message

# ---- rerankers (Langflow's LCCompressorComponent fields) -------------------------------------

_COMPRESSOR_INPUTS = (
    Input("search_query", "Search Query", "str", "", multiline=True, input_types=("Message",), input_kind="MultilineInput"),
    Input("search_results", "Search Results", "other", "", input_types=("Data", "JSON"), is_list=True,
          info="Search Results from a Vector Store.", input_kind="DataInput"),
    Input("top_n", "Top N", "int", 3, advanced=True, input_kind="IntInput"),
)
_RERANK_OUTPUTS = (Output("reranked_documents", "compress_documents", ("Data",), "Reranked Documents"),)
NVIDIA_DEFAULT_URL = "https://integrate.api.nvidia.com/v1"
NVIDIA_HOSTED = "https://ai.api.nvidia.com"
NVIDIA_HOSTED_RANKING_PATH = "/v1/retrieval/nvidia/reranking"


class _Reranker(ToolModeMixin, Component):
    category = "compressors"
    provider = ""
    tool_fields = {"search_query": ("string", "The query the documents are ranked against.")}

    def passages(self) -> list[Data]:
        return [d for d in to_data_list(self.params.get("search_results")) if isinstance(d, Data)]

    async def rank(self, query: str, texts: list[str], top_n: int) -> list[tuple[int, float]]:
        """(index into `texts`, relevance) best first."""
        raise NotImplementedError

    async def compress_documents(self) -> list[Data]:
        passages = self.passages()
        query = to_text(self.params.get("search_query")).strip()
        if not passages:
            return []
        if not query:
            raise ConfigurationError(f"{self.name}: the search query is empty")
        top_n = max(to_int(self.param("top_n", 3), 3), 1)
        ranked = await self.rank(query, [p.text for p in passages], min(top_n, len(passages)))
        out: list[Data] = []
        for index, score in ranked[:top_n]:
            if not 0 <= index < len(passages):
                raise ProviderError(f"{self.provider} answered an index outside the documents ({index})", provider=self.provider)
            source = passages[index]
            out.append(Data(data={**source.data, "relevance_score": score}, text_key=source.text_key))
        self.status = out
        return out

    async def compress_documents_as_dataframe(self) -> DataFrame:
        return DataFrame(rows=[dict(d.data) for d in await self.compress_documents()])


class CohereRerankComponent(_Reranker):
    type_name = "CohereRerank"
    display_name = "Cohere Rerank"
    description = "Rerank documents using the Cohere API."
    icon = "Cohere"
    provider = "Cohere"
    inputs = (
        *_COMPRESSOR_INPUTS,
        Input("api_key", "Cohere API Key", "str", "", password=True, load_from_db=True, input_kind="SecretStrInput"),
        Input("model", "Model", "str", "rerank-english-v3.0", input_kind="DropdownInput",
              options=("rerank-english-v3.0", "rerank-multilingual-v3.0", "rerank-english-v2.0", "rerank-multilingual-v2.0")),
    )
    outputs = _RERANK_OUTPUTS

    async def rank(self, query: str, texts: list[str], top_n: int) -> list[tuple[int, float]]:
        key = await api_key(self, "api_key", "Cohere")
        base = service_url(self, "cohere", "https://api.cohere.com")
        answer = await call_json(self, "Cohere", "POST", f"{base}/v2/rerank", headers={"Authorization": f"Bearer {key}"},
                                 json_body={"model": to_text(self.param("model", "rerank-english-v3.0")), "query": query,
                                            "documents": texts, "top_n": top_n})
        results = answer.get("results") if isinstance(answer, dict) else None
        if not isinstance(results, list):
            raise ProviderError("Cohere answered a rerank without results", provider="Cohere")
        return [(int(r["index"]), float(r.get("relevance_score") or 0.0)) for r in results if isinstance(r, dict) and "index" in r]


class NvidiaRerankComponent(_Reranker):
    type_name = "NvidiaRerankComponent"
    display_name = "NVIDIA Rerank"
    description = "Rerank documents using the NVIDIA API."
    icon = "NVIDIA"
    provider = "NVIDIA"
    inputs = (
        *_COMPRESSOR_INPUTS,
        Input("api_key", "NVIDIA API Key", "str", "", password=True, load_from_db=True, input_kind="SecretStrInput"),
        Input("base_url", "Base URL", "str", NVIDIA_DEFAULT_URL, input_kind="StrInput",
              info="The base URL of the NVIDIA API. Defaults to https://integrate.api.nvidia.com/v1."),
        Input("model", "Model", "str", "nv-rerank-qa-mistral-4b:1", options=("nv-rerank-qa-mistral-4b:1",), input_kind="DropdownInput"),
    )
    outputs = _RERANK_OUTPUTS

    async def rank(self, query: str, texts: list[str], top_n: int) -> list[tuple[int, float]]:
        base = to_text(self.param("base_url", NVIDIA_DEFAULT_URL)).strip().rstrip("/") or NVIDIA_DEFAULT_URL
        # The hosted catalogue serves rerankers on its retrieval endpoint; a NIM serves `/ranking`.
        url = service_url(self, "nvidia", NVIDIA_HOSTED) + NVIDIA_HOSTED_RANKING_PATH if base == NVIDIA_DEFAULT_URL else f"{base}/ranking"
        key = await self.secret("api_key")
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        answer = await call_json(self, "NVIDIA", "POST", url, headers=headers,
                                 json_body={"model": to_text(self.param("model", "nv-rerank-qa-mistral-4b:1")), "query": {"text": query},
                                            "passages": [{"text": t} for t in texts], "truncate": "END"})
        rankings = answer.get("rankings") if isinstance(answer, dict) else None
        if not isinstance(rankings, list):
            raise ProviderError("NVIDIA answered a ranking without rankings", provider="NVIDIA")
        ranked = [(int(r["index"]), float(r.get("logit") or 0.0)) for r in rankings if isinstance(r, dict) and "index" in r]
        return sorted(ranked, key=lambda pair: -pair[1])[:top_n]


# ---- Needle --------------------------------------------------------------------------------


class NeedleComponent(ToolModeMixin, Component):
    type_name = "needle"
    display_name = "Needle Retriever"
    description = "A retriever that uses the Needle API to search collections."
    icon = "Needle"
    inputs = (
        Input("needle_api_key", "Needle API Key", "str", "", required=True, password=True, load_from_db=True,
              info="Your Needle API key.", input_kind="SecretStrInput"),
        Input("collection_id", "Collection ID", "str", "", required=True, input_types=("Message",),
              info="The ID of the Needle collection.", input_kind="MessageTextInput"),
        Input("query", "User Query", "str", "", required=True, input_types=("Message",), input_kind="MessageTextInput",
              info="Enter your question here. In tool mode, you can also specify top_k parameter (min: 20)."),
        Input("top_k", "Top K Results", "int", 20, required=True, info="Number of search results to return (min: 20).", input_kind="IntInput"),
    )
    outputs = (Output("result", "run", ("Message",), "Result"),)
    tool_fields = {"query": ("string", "The question to search the collection for.")}

    async def run(self) -> Message:
        raw = self.params.get("query")
        query = to_text(raw.get("query", "") if isinstance(raw, dict) else raw).strip()
        top_k = max(20, to_int(raw.get("top_k") if isinstance(raw, dict) and raw.get("top_k") is not None else self.param("top_k", 20), 20))
        collection = to_text(self.params.get("collection_id")).strip()
        if not collection:
            raise ConfigurationError(f"{self.name}: the Collection ID cannot be empty")
        if not query:
            raise ConfigurationError(f"{self.name}: the query cannot be empty")
        key = await api_key(self, "needle_api_key", "Needle")
        base = service_url(self, "needle", "https://needle-ai.com")
        from urllib.parse import quote

        answer = await call_json(self, "Needle", "POST", f"{base}/api/v1/collections/{quote(collection, safe='')}/search",
                                 headers={"x-api-key": key}, json_body={"text": query, "top_k": top_k})
        results = answer.get("result") if isinstance(answer, dict) else None
        contents = [to_text(r.get("content")) for r in results or [] if isinstance(r, dict)]
        if contents:
            context = "\n\n".join(f"Document {i + 1}:\n{c}" for i, c in enumerate(contents))
            text = f"Question: {query}\n\nContext:\n{context}"
        else:
            text = "No relevant documents found for the query."
        # Langflow keeps the passages beside the text (additional_kwargs); here in the message's data.
        return Message(text=text, sender="Machine", sender_name="AI",
                       properties={"source_documents": [{"page_content": c, "metadata": {}} for c in contents], "top_k_used": top_k})


# ---- Confluence ----------------------------------------------------------------------------


class _Text(HTMLParser):
    """The visible text of Confluence's XHTML (storage/view formats)."""

    BLOCKS = {"p", "br", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "pre"}

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_text(markup: str) -> str:
    parser = _Text()
    parser.feed(markup or "")
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    return "\n".join(line for line in lines if line)


CONTENT_FORMATS = ("body.editor", "body.export_view", "body.anonymous_export_view", "body.storage", "body.view")
CONFLUENCE_PAGE_SIZE = 50


class ConfluenceComponent(Component):
    type_name = "Confluence"
    display_name = "Confluence"
    description = "Confluence wiki collaboration platform"
    icon = "Confluence"
    inputs = (
        Input("url", "Site URL", "str", "", required=True, input_kind="StrInput",
              info="The base URL of the Confluence Space. Example: https://<company>.atlassian.net/wiki."),
        Input("username", "Username", "str", "", required=True, input_kind="StrInput", info="Atlassian User E-mail. Example: email@example.com"),
        Input("api_key", "Confluence API Key", "str", "", required=True, password=True, load_from_db=True, input_kind="SecretStrInput",
              info="Atlassian Key. Create at: https://id.atlassian.com/manage-profile/security/api-tokens"),
        Input("space_key", "Space Key", "str", "", required=True, input_kind="StrInput"),
        Input("cloud", "Use Cloud?", "bool", True, required=True, advanced=True, input_kind="BoolInput"),
        Input("content_format", "Content Format", "str", "body.storage", options=CONTENT_FORMATS, required=True, advanced=True,
              input_kind="DropdownInput", info="Specify content format, defaults to ContentFormat.STORAGE"),
        Input("max_pages", "Max Pages", "int", 1000, advanced=True, input_kind="IntInput",
              info="Maximum number of pages to retrieve in total, defaults 1000"),
    )
    outputs = (Output("data", "load_documents", ("Data",), "JSON"),)

    async def load_documents(self) -> list[Data]:
        site = to_text(self.params.get("url")).strip().rstrip("/")
        space = to_text(self.params.get("space_key")).strip()
        user = to_text(self.params.get("username")).strip()
        if not site or not space:
            raise ConfigurationError(f"{self.name}: the Confluence site URL and space key are required")
        key = await api_key(self, "api_key", "Confluence")
        if to_bool(self.param("cloud", True)):
            auth = "Basic " + base64.b64encode(f"{user}:{key}".encode()).decode()
        else:  # Server / Data Center: a personal access token
            auth = f"Bearer {key}"
        content_format = to_text(self.param("content_format", "body.storage")) or "body.storage"
        if content_format not in CONTENT_FORMATS:
            raise ConfigurationError(f"{self.name}: unknown content format '{content_format}' (one of {', '.join(CONTENT_FORMATS)})")
        max_pages = max(to_int(self.param("max_pages", 1000), 1000), 0)
        headers = {"Authorization": auth, "Accept": "application/json"}
        out: list[Data] = []
        url: str | None = f"{site}/rest/api/content"
        params: dict[str, Any] | None = {"spaceKey": space, "type": "page", "status": "current", "start": 0,
                                         "limit": min(CONFLUENCE_PAGE_SIZE, max_pages or 1), "expand": f"{content_format},version"}
        while url and len(out) < max_pages:
            answer = await call_json(self, "Confluence", "GET", url, params=params, headers=headers)
            results = answer.get("results") if isinstance(answer, dict) else None
            if not isinstance(results, list):
                raise ProviderError("Confluence answered a content listing without results", provider="Confluence")
            for page in results:
                if len(out) >= max_pages:
                    break
                out.append(self._page(site, page, content_format))
            following = ((answer.get("_links") or {}).get("next") if isinstance(answer.get("_links"), dict) else None)
            if not results or not following:
                break
            url, params = (following if following.startswith("http") else _site_root(site, following)), None
        self.status = out
        return out

    @staticmethod
    def _page(site: str, page: dict[str, Any], content_format: str) -> Data:
        body: Any = page
        for part in content_format.split("."):
            body = body.get(part) if isinstance(body, dict) else None
        markup = body.get("value", "") if isinstance(body, dict) else ""
        webui = ((page.get("_links") or {}).get("webui") or "")
        metadata = {"title": page.get("title", ""), "id": str(page.get("id", "")), "source": f"{site}{webui}" if webui else site}
        when = (page.get("version") or {}).get("when")
        if when:
            metadata["when"] = when
        return Data(data={"text": html_text(markup), **metadata})


def _site_root(site: str, link: str) -> str:
    """Confluence's `next` links are relative to the site's context path (`/wiki`...)."""
    from urllib.parse import urlsplit

    parts = urlsplit(site)
    root = f"{parts.scheme}://{parts.netloc}"
    context = parts.path.rstrip("/")
    return root + (link if not context or link.startswith(context + "/") else context + link)


# ---- Vectara RAG ---------------------------------------------------------------------------

VECTARA_URL = "https://api.vectara.io"
SUMMARIZER_PROMPTS = ("vectara-summary-ext-24-05-sml", "vectara-summary-ext-24-05-med-omni", "vectara-summary-ext-24-05-large",
                      "vectara-summary-ext-24-05-med", "vectara-summary-ext-v1.3.0")
RESPONSE_LANGUAGES = ("auto", "eng", "spa", "fra", "zho", "deu", "hin", "ara", "por", "ita", "jpn", "kor", "rus", "tur", "fas", "vie",
                      "tha", "heb", "nld", "ind", "pol", "ukr", "ron", "swe", "ces", "ell", "ben", "msa", "urd")
MULTILINGUAL_RERANKER_ID = "rnk_272725719"

VECTARA_CREDENTIALS = (
    Input("vectara_customer_id", "Vectara Customer ID", "str", "", required=True, input_kind="StrInput"),
    Input("vectara_corpus_id", "Vectara Corpus ID", "str", "", required=True, input_kind="StrInput"),
    Input("vectara_api_key", "Vectara API Key", "str", "", required=True, password=True, load_from_db=True, input_kind="SecretStrInput"),
)


async def vectara_headers(component: Component) -> dict[str, str]:
    key = await api_key(component, "vectara_api_key", "Vectara")
    headers = {"x-api-key": key, "Accept": "application/json"}
    customer = to_text(component.params.get("vectara_customer_id")).strip()
    if customer:
        headers["customer-id"] = customer
    return headers


def vectara_corpus(component: Component) -> str:
    corpus = to_text(component.params.get("vectara_corpus_id")).strip()
    if not corpus:
        raise ConfigurationError(f"{component.name}: the Vectara corpus id (corpus key) is required")
    return corpus


class VectaraRagComponent(ToolModeMixin, Component):
    type_name = "VectaraRAG"
    display_name = "Vectara RAG"
    description = "Vectara's full end to end RAG"
    icon = "Vectara"
    inputs = (
        *VECTARA_CREDENTIALS,
        Input("search_query", "Search Query", "str", "", input_types=("Message",), info="The query to receive an answer on.",
              input_kind="MessageTextInput"),
        Input("lexical_interpolation", "Hybrid Search Factor", "float", 0.005, advanced=True, input_kind="FloatInput",
              info="How much to weigh lexical scores compared to the embedding score. 0 means lexical search is not used at all, "
                   "and 1 means only lexical search is used."),
        Input("filter", "Metadata Filters", "str", "", advanced=True, input_types=("Message",), input_kind="MessageTextInput",
              info="The filter string to narrow the search to according to metadata attributes."),
        Input("reranker", "Reranker Type", "str", "mmr", options=("mmr", "rerank_multilingual_v1", "none"), input_kind="DropdownInput",
              info="How to rerank the retrieved search results."),
        Input("reranker_k", "Number of Results to Rerank", "int", 50, advanced=True, input_kind="IntInput"),
        Input("diversity_bias", "Diversity Bias", "float", 0.2, advanced=True, input_kind="FloatInput",
              info="Ranges from 0 to 1, with higher values indicating greater diversity (only applies to MMR reranker)."),
        Input("max_results", "Max Results to Summarize", "int", 7, advanced=True, input_kind="IntInput",
              info="The maximum number of search results to be available to the prompt."),
        Input("response_lang", "Response Language", "str", "eng", options=RESPONSE_LANGUAGES, advanced=True, input_kind="DropdownInput",
              info="Use the ISO 639-1 or 639-3 language code or auto to automatically detect the language."),
        Input("prompt", "Prompt Name", "str", SUMMARIZER_PROMPTS[0], options=SUMMARIZER_PROMPTS, advanced=True, input_kind="DropdownInput",
              info="Only vectara-summary-ext-24-05-sml is for Growth customers; all other prompts are for Scale customers only."),
    )
    outputs = (Output("answer", "generate_response", ("Message",), "Answer"),)
    tool_fields = {"search_query": ("string", "The query to receive an answer on.")}

    def query_body(self, query: str) -> dict[str, Any]:
        corpus: dict[str, Any] = {"corpus_key": vectara_corpus(self),
                                  "lexical_interpolation": float(self.param("lexical_interpolation", 0.005) or 0.0)}
        where = to_text(self.params.get("filter")).strip()
        if where:
            corpus["metadata_filter"] = where
        search: dict[str, Any] = {"corpora": [corpus], "limit": max(to_int(self.param("reranker_k", 50), 50), 1)}
        reranker = to_text(self.param("reranker", "mmr")) or "mmr"
        if reranker == "mmr":
            search["reranker"] = {"type": "mmr", "diversity_bias": float(self.param("diversity_bias", 0.2) or 0.0)}
        elif reranker == "rerank_multilingual_v1":
            search["reranker"] = {"type": "customer_reranker", "reranker_id": MULTILINGUAL_RERANKER_ID}
        elif reranker != "none":
            raise ConfigurationError(f"{self.name}: unknown reranker '{reranker}'")
        generation = {"generation_preset_name": to_text(self.param("prompt", SUMMARIZER_PROMPTS[0])) or SUMMARIZER_PROMPTS[0],
                      "max_used_search_results": max(to_int(self.param("max_results", 7), 7), 1),
                      "response_language": to_text(self.param("response_lang", "eng")) or "eng"}
        return {"query": query, "search": search, "generation": generation}

    async def generate_response(self) -> Message:
        query = to_text(self.params.get("search_query")).strip()
        if not query:
            raise ConfigurationError(f"{self.name}: the search query is empty")
        headers = await vectara_headers(self)
        base = service_url(self, "vectara", VECTARA_URL)
        answer = await call_json(self, "Vectara", "POST", f"{base}/v2/query", headers=headers, json_body=self.query_body(query))
        summary = answer.get("summary") if isinstance(answer, dict) else None
        if summary is None:
            raise ProviderError("Vectara answered without a summary", provider="Vectara")
        return Message(text=str(summary), sender="Machine", sender_name="AI")
