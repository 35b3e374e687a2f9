"""Embedding providers over real HTTP (the test model server; a small Ollama stand-in) and Bedrock
with a stubbed botocore client: batching, order, retries, options and credential resolution."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from flowless_engine.errors import ConfigurationError, ProviderError
from flowless_engine.http import HttpClient
from flowless_engine.llm.embeddings import (
    BedrockEmbeddings,
    EmbeddingConfig,
    OllamaEmbeddings,
    OpenAIEmbeddings,
    get_embeddings,
    is_supported_provider,
    resolve_embedding_config,
)
from tests.support.model_server import ModelServer, embed


@pytest.fixture(scope="module")
def server() -> Iterator[ModelServer]:
    with ModelServer() as server:
        yield server


@pytest.fixture
def http() -> HttpClient:
    return HttpClient(timeout_s=5, retries=2, allow_loopback=True, backoff_s=0.01)


def openai(server: ModelServer, http: HttpClient, **config: Any) -> OpenAIEmbeddings:
    return OpenAIEmbeddings(EmbeddingConfig("OpenAI", "text-embedding-3-small", api_key="sk-test", base_url=server.base_url, **config), http)


async def test_openai_batches_in_order_with_bounded_concurrency(server: ModelServer, http: HttpClient) -> None:
    server.reset()
    texts = [f"document number {n}" for n in range(23)]
    vectors = await openai(server, http, batch_size=5, concurrency=2).embed_documents(texts)
    assert vectors == [pytest.approx(embed(t)) for t in texts]
    calls = [r for r in server.requests if r.path == "/v1/embeddings"]
    assert sorted(len(r.body["input"]) for r in calls) == [3, 5, 5, 5, 5]
    assert all(r.headers["authorization"] == "Bearer sk-test" and r.body["model"] == "text-embedding-3-small" for r in calls)


async def test_openai_options_blank_texts_and_query(server: ModelServer, http: HttpClient) -> None:
    server.reset()
    model = openai(server, http, dimensions=16)
    vectors = await model.embed_documents(["", "text"])
    assert [len(v) for v in vectors] == [16, 16]
    assert server.requests[-1].body["input"] == [" ", "text"] and server.requests[-1].body["dimensions"] == 16
    assert len(await model.embed_query("hello")) == 16


async def test_openai_retries_through_the_http_client(server: ModelServer, http: HttpClient) -> None:
    server.reset()
    server.fail_next(2, status=503)
    assert await openai(server, http).embed_query("retry me") == pytest.approx(embed("retry me"))
    server.fail_next(3, status=500)
    with pytest.raises(ProviderError, match="OpenAI returned 500"):
        await openai(server, http).embed_query("fails")


def test_openai_needs_a_key_for_openai_itself(http: HttpClient) -> None:
    with pytest.raises(ConfigurationError, match="API key is missing"):
        OpenAIEmbeddings(EmbeddingConfig("OpenAI", "text-embedding-3-small"), http)
    assert isinstance(get_embeddings(EmbeddingConfig("Groq", "m", api_key="k"), http), OpenAIEmbeddings)
    with pytest.raises(ConfigurationError, match="not supported"):
        get_embeddings(EmbeddingConfig("Mistral Direct", "m"), http)
    assert is_supported_provider("amazon_bedrock") and is_supported_provider("Ollama") and not is_supported_provider("Cohere Direct")


class _Ollama(BaseHTTPRequestHandler):
    requests: list[dict[str, Any]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        self.requests.append({"path": self.path, **body})
        data = json.dumps({"model": body["model"], "embeddings": [embed(t, 8) for t in body["input"]]}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


async def test_ollama_embed_endpoint(http: HttpClient) -> None:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Ollama)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{httpd.server_address[1]}/v1"  # the OpenAI-style address people paste
        model = get_embeddings(EmbeddingConfig("Ollama", "nomic-embed-text", base_url=base, batch_size=2), http)
        assert isinstance(model, OllamaEmbeddings)
        vectors = await model.embed_documents(["a", "b", "c"])
        assert vectors == [pytest.approx(embed(t, 8)) for t in "abc"]
        assert {r["path"] for r in _Ollama.requests} == {"/api/embed"}
        assert sorted(len(r["input"]) for r in _Ollama.requests) == [1, 2]
    finally:
        httpd.shutdown()
        httpd.server_close()


class FakeBedrock:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def invoke_model(self, **request: Any) -> dict[str, Any]:
        body = json.loads(request["body"])
        self.calls.append({"modelId": request["modelId"], **body})
        if "texts" in body:
            payload: dict[str, Any] = {"embeddings": [embed(t, 4) for t in body["texts"]]}
        else:
            payload = {"embedding": embed(body["inputText"], 4), "inputTextTokenCount": 2}
        return {"body": io.BytesIO(json.dumps(payload).encode())}


async def test_bedrock_titan_one_text_per_call(http: HttpClient) -> None:
    client = FakeBedrock()
    config = EmbeddingConfig("Amazon Bedrock", "amazon.titan-embed-text-v2:0", dimensions=256, extra={"region": "us-east-1"})
    model = BedrockEmbeddings(config, http, client=client)
    assert await model.embed_documents(["x", "y"]) == [pytest.approx(embed(t, 4)) for t in "xy"]
    assert [c["inputText"] for c in client.calls] == ["x", "y"]
    assert client.calls[0] == {"modelId": "amazon.titan-embed-text-v2:0", "inputText": "x", "normalize": True, "dimensions": 256}
    assert config.batch_size == 100  # the caller's config is left as it was


async def test_bedrock_cohere_batches_and_marks_queries(http: HttpClient) -> None:
    client = FakeBedrock()
    model = BedrockEmbeddings(EmbeddingConfig("Amazon Bedrock", "cohere.embed-english-v3", extra={"region": "eu-west-1"}), http, client=client)
    await model.embed_documents(["a", "b", "c"])
    await model.embed_query("q")
    assert [(len(c["texts"]), c["input_type"]) for c in client.calls] == [(3, "search_document"), (1, "search_query")]


async def test_credentials_resolve_like_the_chat_models(monkeypatch: pytest.MonkeyPatch) -> None:
    variables = {"OPENAI_API_KEY": "sk-tenant"}

    async def lookup(name: str) -> str | None:
        return variables.get(name)

    monkeypatch.setenv("OPENAI_BASE_URL", "http://env.example/v1")
    config = await resolve_embedding_config(None, None, lookup)
    assert (config.provider, config.model, config.api_key, config.base_url) == ("OpenAI", "text-embedding-3-small", "sk-tenant", "http://env.example/v1")
    variables["OPENAI_BASE_URL"] = "http://tenant.example/v1"
    explicit = await resolve_embedding_config("OpenAI", "text-embedding-3-large", lookup, api_key="sk-node", batch_size=7)
    assert (explicit.api_key, explicit.base_url, explicit.batch_size) == ("sk-node", "http://tenant.example/v1", 7)
    monkeypatch.setenv("OLLAMA_BASE_URL", "http://ollama.example:11434")
    ollama = await resolve_embedding_config("Ollama", "nomic-embed-text", lookup)
    assert (ollama.api_key, ollama.base_url) == (None, "http://ollama.example:11434")
    assert "sk-node" not in repr(explicit)
