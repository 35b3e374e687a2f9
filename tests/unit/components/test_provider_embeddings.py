"""Every provider's embeddings node through the engine: node → Text Embedder (→ Embedding
Similarity), against a local server speaking the provider's protocol. Checks the request (path,
auth, model, input type), the vectors, and the provider choice of 1.13's Embedding Model node."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from flowless_engine.api import arun_flow_from_json
from flowless_engine.errors import ProviderAuthError
from flowless_engine.llm import providers
from flowless_engine.settings import EngineSettings
from tests.support.bedrock_server import BedrockServer
from tests.support.cloudflare_server import CloudflareServer
from tests.support.cohere_server import CohereServer
from tests.support.flows import edge, flow, node
from tests.support.gemini_server import GeminiServer
from tests.support.hf_server import HuggingFaceServer
from tests.support.model_server import ModelServer, embed
from tests.support.watsonx_server import WatsonxServer

SETTINGS = EngineSettings(allow_loopback=True, http_retries=2, http_timeout_s=5)


@dataclasses.dataclass
class Case:
    type_name: str
    server: type[ModelServer]
    values: Callable[[ModelServer], dict[str, Any]]
    path: str
    auth: Callable[[dict[str, str]], bool]
    texts: Callable[[Any], list[str]]  # the texts in the request body
    patch: Callable[[pytest.MonkeyPatch, Any], None] | None = None


def bearer(key: str) -> Callable[[dict[str, str]], bool]:
    return lambda headers: headers.get("authorization") == f"Bearer {key}"


def _gemini(monkeypatch: pytest.MonkeyPatch, server: ModelServer) -> None:
    monkeypatch.setattr("flowless_engine.llm.gemini.GEMINI_BASE_URL", server.url)


def _cohere(monkeypatch: pytest.MonkeyPatch, server: ModelServer) -> None:
    monkeypatch.setattr("flowless_engine.llm.cohere.COHERE_BASE_URL", server.url)


def _watsonx(monkeypatch: pytest.MonkeyPatch, server: Any) -> None:
    monkeypatch.setattr("flowless_engine.llm.watsonx.IAM_URL", server.iam_url)
    monkeypatch.setattr("flowless_engine.llm.watsonx._TOKENS", {})


def _fresh_bedrock(monkeypatch: pytest.MonkeyPatch, server: ModelServer) -> None:
    monkeypatch.setattr("flowless_engine.llm.bedrock._clients", {})


def _hub(monkeypatch: pytest.MonkeyPatch, server: ModelServer) -> None:
    monkeypatch.setattr("flowless_engine.llm.huggingface.ROUTER_INFERENCE_URL", server.url + "/models")


CASES = [
    Case("CohereEmbeddings", CohereServer, lambda s: {"api_key": "co", "model_name": "embed-english-v3.0"},
         "/v2/embed", bearer("co"), lambda b: b["texts"], _cohere),
    Case("HuggingFaceInferenceAPIEmbeddings", HuggingFaceServer, lambda s: {"api_key": "hf", "inference_endpoint": s.url + "/embed", "model_name": "BAAI/bge-small-en-v1.5"},
         "/embed", bearer("hf"), lambda b: b["inputs"]),
    Case("HuggingFaceInferenceAPIEmbeddings", HuggingFaceServer, lambda s: {"api_key": "hf", "model_name": "BAAI/bge-small-en-v1.5"},
         "/models/BAAI/bge-small-en-v1.5/pipeline/feature-extraction", bearer("hf"), lambda b: b["inputs"], _hub),
    Case("GoogleGenerativeAIEmbeddings", GeminiServer, lambda s: {"api_key": "gk", "model_name": "models/text-embedding-004"},
         "/v1beta/models/text-embedding-004:batchEmbedContents", lambda h: h.get("x-goog-api-key") == "gk",
         lambda b: [r["content"]["parts"][0]["text"] for r in b["requests"]], _gemini),
    Case("Google Generative AI Embeddings", GeminiServer, lambda s: {"api_key": "gk", "model_name": "models/gemini-embedding-001"},
         "/v1beta/models/gemini-embedding-001:batchEmbedContents", lambda h: h.get("x-goog-api-key") == "gk",
         lambda b: [r["content"]["parts"][0]["text"] for r in b["requests"]], _gemini),
    Case("AzureOpenAIEmbeddings", ModelServer, lambda s: {"api_key": "az", "azure_endpoint": s.url, "azure_deployment": "emb", "api_version": "2023-05-15"},
         "/openai/deployments/emb/embeddings", lambda h: h.get("api-key") == "az", lambda b: b["input"]),
    Case("OllamaEmbeddings", ModelServer, lambda s: {"base_url": s.url, "model_name": "nomic-embed-text"},
         "/api/embed", lambda h: "authorization" not in h, lambda b: b["input"]),
    Case("LMStudioEmbeddingsComponent", ModelServer, lambda s: {"base_url": s.base_url, "model": "nomic-embed-text-v1.5"},
         "/v1/embeddings", lambda h: "authorization" not in h, lambda b: b["input"]),
    Case("MistalAIEmbeddings", ModelServer, lambda s: {"mistral_api_key": "mi", "endpoint": s.base_url},
         "/v1/embeddings", bearer("mi"), lambda b: b["input"]),
    Case("NVIDIAEmbeddingsComponent", ModelServer, lambda s: {"nvidia_api_key": "nv", "base_url": s.base_url},
         "/v1/embeddings", bearer("nv"), lambda b: b["input"]),
    Case("AmazonBedrockEmbeddings", BedrockServer, lambda s: {"aws_access_key_id": "AKIDFLOWLESS", "aws_secret_access_key": "x", "aws_session_token": "",
                                                              "region_name": "us-west-2", "endpoint_url": s.url, "model_id": "amazon.titan-embed-text-v1"},
         "/model/amazon.titan-embed-text-v1/invoke", lambda h: "Credential=AKIDFLOWLESS/" in h.get("authorization", "") and "/us-west-2/bedrock/" in h["authorization"],
         lambda b: [b["inputText"]], _fresh_bedrock),
    Case("CloudflareWorkersAIEmbeddings", CloudflareServer, lambda s: {"api_token": "cf", "account_id": "acc-1", "api_base_url": s.base_url,
                                                                      "headers": {"x-flow": "yes"}},
         "/client/v4/accounts/acc-1/ai/run/@cf/baai/bge-base-en-v1.5", lambda h: h.get("authorization") == "Bearer cf" and h.get("x-flow") == "yes",
         lambda b: b["text"]),
    Case("WatsonxEmbeddingsComponent", WatsonxServer, lambda s: {"api_key": "wx", "url": s.url, "project_id": "p1", "model_name": "ibm/slate-30m-english-rtrvr"},
         "/ml/v1/text/embeddings", bearer("iam-xw"), lambda b: b["inputs"], _watsonx),
]


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[type, ModelServer]]:
    made: dict[type, ModelServer] = {}
    try:
        for case in CASES:
            made.setdefault(case.server, case.server())
        yield made
    finally:
        for server in made.values():
            server.close()


@pytest.fixture(params=CASES, ids=[f"{c.type_name}-{c.path.rsplit('/', 1)[-1]}" for c in CASES])
def case(request: pytest.FixtureRequest, servers: dict[type, ModelServer], monkeypatch: pytest.MonkeyPatch) -> Case:
    case: Case = request.param
    servers[case.server].reset()
    if case.patch is not None:
        case.patch(monkeypatch, servers[case.server])
    return case


def provider_node(node_id: str, type_name: str, values: dict[str, Any]) -> dict[str, Any]:
    made = node(node_id, type_name, values)
    for name in values:
        made["data"]["node"]["template"][name]["load_from_db"] = False
    return made


def similarity_flow(case: Case, server: ModelServer, metric: str = "Cosine Similarity") -> dict[str, Any]:
    emb = f"{case.type_name.replace(' ', '')}-e1"
    nodes = [
        provider_node(emb, case.type_name, case.values(server)),
        node("TextInput-t1", "TextInput", {"input_value": "the cat sat on the mat"}),
        node("TextInput-t2", "TextInput", {"input_value": "the cat sat on a mat"}),
        node("TextEmbedderComponent-x1", "TextEmbedderComponent"),
        node("TextEmbedderComponent-x2", "TextEmbedderComponent"),
        node("EmbeddingSimilarityComponent-s1", "EmbeddingSimilarityComponent", {"similarity_metric": metric}),
    ]
    edges = [
        edge(emb, "embeddings", "TextEmbedderComponent-x1", "embedding_model", output_types=["Embeddings"], input_types=["Embeddings"]),
        edge(emb, "embeddings", "TextEmbedderComponent-x2", "embedding_model", output_types=["Embeddings"], input_types=["Embeddings"]),
        edge("TextInput-t1", "text", "TextEmbedderComponent-x1", "message"),
        edge("TextInput-t2", "text", "TextEmbedderComponent-x2", "message"),
        edge("TextEmbedderComponent-x1", "embeddings", "EmbeddingSimilarityComponent-s1", "embedding_vectors", output_types=["JSON"]),
        edge("TextEmbedderComponent-x2", "embeddings", "EmbeddingSimilarityComponent-s1", "embedding_vectors", output_types=["JSON"]),
    ]
    return flow("similarity", nodes, edges)


async def test_an_embeddings_node_feeds_the_text_embedder_and_similarity(case: Case, servers: dict[type, ModelServer]) -> None:
    server = servers[case.server]
    result = await arun_flow_from_json(similarity_flow(case, server), settings=SETTINGS, output_type="debug")
    by_id = {o["component_id"]: o for o in result[0]["outputs"]}
    embedded = by_id["TextEmbedderComponent-x1"]["results"]["embeddings"]
    assert embedded["data"]["text"] == "the cat sat on the mat"
    assert embedded["data"]["embeddings"] == pytest.approx(embed("the cat sat on the mat"))
    score = by_id["EmbeddingSimilarityComponent-s1"]["results"]["similarity_data"]["data"]["similarity_score"]
    expected = sum(a * b for a, b in zip(embed("the cat sat on the mat"), embed("the cat sat on a mat")))
    assert score["cosine_similarity"] == pytest.approx(expected)
    requests = [r for r in server.requests if r.path.split("?")[0] == case.path]
    assert len(requests) == 2, [r.path for r in server.requests]
    assert all(case.auth(r.headers) for r in requests)
    assert sorted(t for r in requests for t in case.texts(r.body)) == ["the cat sat on a mat", "the cat sat on the mat"]


async def test_a_rejected_embeddings_key_names_the_provider(case: Case, servers: dict[type, ModelServer]) -> None:
    server = servers[case.server]
    server.fail_next(2, 401)  # watsonx: the IAM exchange is refused
    with pytest.raises(ProviderAuthError) as caught:
        await arun_flow_from_json(similarity_flow(case, server), settings=SETTINGS)
    assert caught.value.status == 401 and caught.value.provider in str(caught.value)


@pytest.mark.parametrize("metric, key", [("Euclidean Distance", "euclidean_distance"), ("Manhattan Distance", "manhattan_distance")])
async def test_distances(metric: str, key: str, servers: dict[type, ModelServer]) -> None:
    server = servers[ModelServer]
    server.reset()
    case = next(c for c in CASES if c.type_name == "OllamaEmbeddings")
    result = await arun_flow_from_json(similarity_flow(case, server, metric), settings=SETTINGS, output_type="debug")
    by_id = {o["component_id"]: o for o in result[0]["outputs"]}
    score = by_id["EmbeddingSimilarityComponent-s1"]["results"]["similarity_data"]["data"]["similarity_score"]
    first, second = embed("the cat sat on the mat"), embed("the cat sat on a mat")
    if key == "euclidean_distance":
        expected = math.sqrt(sum((a - b) ** 2 for a, b in zip(first, second)))
    else:
        expected = sum(abs(a - b) for a, b in zip(first, second))
    assert score[key] == pytest.approx(expected) and expected > 0


@pytest.mark.parametrize("provider, key_variable, server_type", [
    ("Google Generative AI", "GOOGLE_API_KEY", GeminiServer),
    ("IBM WatsonX", "WATSONX_APIKEY", WatsonxServer),
    ("Cohere", "COHERE_API_KEY", CohereServer),
])
async def test_the_embedding_model_node_covers_the_providers(provider: str, key_variable: str, server_type: type, servers: dict[type, ModelServer],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """1.13's Embedding Model node: the provider from its model list, the key from the tenant's variable."""
    server = servers[server_type]
    server.reset()
    {GeminiServer: _gemini, CohereServer: _cohere, WatsonxServer: _watsonx}[server_type](monkeypatch, server)
    values = {"model": [{"name": "embed-model-1", "provider": provider}], "project_id": "p9", "base_url_ibm_watsonx": server.url}
    emb = node("EmbeddingModel-e1", "EmbeddingModel", {k: v for k, v in values.items() if k == "model"})
    for name, value in values.items():
        emb["data"]["node"]["template"].setdefault(name, {"name": name, "type": "str", "show": True})["value"] = value
    exported = flow("em", [emb, node("TextInput-t1", "TextInput", {"input_value": "hello world"}), node("TextEmbedderComponent-x1", "TextEmbedderComponent")], [
        edge("EmbeddingModel-e1", "embeddings", "TextEmbedderComponent-x1", "embedding_model", output_types=["Embeddings"], input_types=["Embeddings"]),
        edge("TextInput-t1", "text", "TextEmbedderComponent-x1", "message"),
    ])
    result = await arun_flow_from_json(exported, settings=SETTINGS, output_type="debug", variables={key_variable: "tenant-key"})
    by_id = {o["component_id"]: o for o in result[0]["outputs"]}
    assert by_id["TextEmbedderComponent-x1"]["results"]["embeddings"]["data"]["embeddings"] == pytest.approx(embed("hello world"))
    last = [r for r in server.requests if "token" not in r.path][-1]
    assert "tenant-key" in str(last.headers) or server_type is WatsonxServer
    if server_type is WatsonxServer:
        assert last.body["project_id"] == "p9" and last.body["model_id"] == "embed-model-1"


def test_providers_table_is_consistent() -> None:
    """Every provider resolves by its display name, and every alias names a provider."""
    for provider in providers.PROVIDERS.values():
        assert providers.find_provider(provider.name) is provider
    assert all(target in providers.PROVIDERS for target in providers.ALIASES.values())
    assert providers.find_provider("IBM WatsonX") is providers.find_provider("ibm watsonx.ai")


async def test_fake_embeddings_need_no_model() -> None:
    exported = flow("fake", [
        node("LangChainFakeEmbeddings-f1", "LangChainFakeEmbeddings", {"dimensions": 8}),
        node("TextInput-t1", "TextInput", {"input_value": "same words"}),
        node("TextEmbedderComponent-x1", "TextEmbedderComponent"),
    ], [
        edge("LangChainFakeEmbeddings-f1", "embeddings", "TextEmbedderComponent-x1", "embedding_model", output_types=["Embeddings"], input_types=["Embeddings"]),
        edge("TextInput-t1", "text", "TextEmbedderComponent-x1", "message"),
    ])
    first, second = [await arun_flow_from_json(exported, settings=SETTINGS, output_type="debug") for _ in range(2)]
    vectors = [{o["component_id"]: o for o in r[0]["outputs"]}["TextEmbedderComponent-x1"]["results"]["embeddings"]["data"]["embeddings"] for r in (first, second)]
    assert len(vectors[0]) == 8 and vectors[0] == vectors[1] and math.isclose(sum(v * v for v in vectors[0]), 1.0)


@pytest.mark.parametrize("provider, model, server_type, variables", [
    ("Cohere", "embed-english-v3.0", CohereServer, {"COHERE_API_KEY": "tenant-co"}),
    ("Google Generative AI", "text-embedding-004", GeminiServer, {"GOOGLE_API_KEY": "tenant-g"}),
    ("IBM watsonx.ai", "ibm/slate-30m-english-rtrvr", WatsonxServer, {"WATSONX_APIKEY": "wx", "WATSONX_PROJECT_ID": "p1", "WATSONX_URL": "{url}"}),
])
async def test_a_knowledge_base_embeds_with_the_provider(provider: str, model: str, server_type: type, variables: dict[str, str],
                                                         servers: dict[type, ModelServer], monkeypatch: pytest.MonkeyPatch) -> None:
    """A knowledge base created for a provider: ingestion and retrieval embed through it, keys from the tenant's variables."""
    from flowless_engine.vectors.base import KnowledgeBaseSpec
    from flowless_engine.vectors.memory import InMemoryKnowledgeBases, InMemoryVectorStore

    server = servers[server_type]
    server.reset()
    {GeminiServer: _gemini, CohereServer: _cohere, WatsonxServer: _watsonx}[server_type](monkeypatch, server)
    variables = {k: v.replace("{url}", server.url) for k, v in variables.items()}
    vectors, knowledge = InMemoryVectorStore(), InMemoryKnowledgeBases([KnowledgeBaseSpec("notes", provider, model)])
    ingest = flow("ingest", [
        node("ChatInput-i1", "ChatInput"),
        node("TypeConverterComponent-c1", "TypeConverterComponent", {"output_type": "DataFrame"}),
        node("Knowledge-k1", "Knowledge", {"knowledge_base": "notes", "mode": "Ingest"}),
    ], [
        edge("ChatInput-i1", "message", "TypeConverterComponent-c1", "input_data"),
        edge("TypeConverterComponent-c1", "dataframe_output", "Knowledge-k1", "input_df", output_types=["DataFrame"], input_types=["DataFrame"]),
    ])
    for text in ("Parcels ship every weekday", "Refunds take fourteen days"):
        await arun_flow_from_json(ingest, text, settings=SETTINGS, variables=variables, vectors=vectors, knowledge=knowledge)
    retrieve = flow("retrieve", [
        node("ChatInput-i1", "ChatInput"),
        node("Knowledge-k1", "Knowledge", {"knowledge_base": "notes", "mode": "Retrieve", "top_k": 1}),
    ], [edge("ChatInput-i1", "message", "Knowledge-k1", "search_query")])
    result = await arun_flow_from_json(retrieve, "when do parcels ship", settings=SETTINGS, variables=variables, vectors=vectors,
                                       knowledge=knowledge, output_type="debug")
    rows = {o["component_id"]: o for o in result[0]["outputs"]}["Knowledge-k1"]["results"]
    assert "Parcels ship every weekday" in str(rows) and "Refunds" not in str(rows)  # the closest chunk only (top_k 1)
    embedded = [r for r in server.requests if "token" not in r.path]
    assert len(embedded) == 3  # two documents, one query
