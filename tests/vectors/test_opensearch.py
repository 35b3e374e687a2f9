"""OpenSearch beyond the store contract: the index mapping it creates, Langflow's two filter
expression shapes (with limit and score threshold), document metadata rows, JWT authentication,
and OpenSearch's error answers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from flowless_engine.errors import ConfigurationError, ProviderError
from flowless_engine.settings import EngineSettings
from tests.support.engine_kit import component_node, edge, flow, run
from tests.support.model_server import ModelServer
from tests.support.opensearch_server import OpenSearchServer

SETTINGS = EngineSettings(allow_loopback=True, http_retries=0)
DOCS = [
    {"text": "Refunds are paid within fourteen days", "filename": "refunds.pdf", "mimetype": "application/pdf"},
    {"text": "Parrots can talk and mimic sounds", "filename": "birds.txt", "mimetype": "text/plain"},
    {"text": "Invoices are sent monthly", "filename": "invoices.pdf", "mimetype": "application/pdf"},
]


@pytest.fixture(scope="module")
def models() -> Iterator[ModelServer]:
    with ModelServer() as server:
        yield server


@pytest.fixture
def opensearch() -> Iterator[OpenSearchServer]:
    with OpenSearchServer(users={"admin": "admin"}, tokens=("jwt-123",)) as server:
        yield server


def os_flow(server: OpenSearchServer, models: ModelServer, **fields: Any) -> dict[str, Any]:
    values = {"opensearch_url": server.base_url, "index_name": "docs", "ingest_data": DOCS, **fields}
    return flow(
        [component_node("ChatInput-1", "ChatInput"), component_node("OpenAIEmbeddings-1", "OpenAIEmbeddings", openai_api_base=models.base_url),
         component_node("OpenSearch-1", "OpenSearchVectorStoreComponent", **values)],
        [edge("ChatInput-1", "message", "OpenSearch-1", "search_query"),
         edge("OpenAIEmbeddings-1", "embeddings", "OpenSearch-1", "embedding", output_types=("Embeddings",), input_types=("Embeddings",))],
    )


async def rows(exported: dict[str, Any], query: str) -> list[dict[str, Any]]:
    ran = await run(exported, query, variables={"OPENAI_API_KEY": "k", "JWT": "jwt-123"}, settings=SETTINGS)
    return [d.data for d in ran.vertex("OpenSearch-1").values["search_results"]]


async def test_the_index_is_created_with_a_knn_mapping(opensearch: OpenSearchServer, models: ModelServer) -> None:
    await rows(os_flow(opensearch, models, space_type="cosinesimil", engine="lucene", m=24), "")
    index = opensearch.indexes["docs"]
    field = index["mappings"]["properties"]["chunk_embedding"]
    assert field == {"type": "knn_vector", "dimension": 64, "method": {"name": "hnsw", "space_type": "cosinesimil", "engine": "lucene",
                                                                         "parameters": {"ef_construction": 512, "m": 24}}}
    assert index["settings"]["index"]["knn"] is True
    stored = opensearch.documents("docs")[0]
    assert set(stored) == {"text", "filename", "mimetype", "chunk_embedding"}


async def test_context_style_filters_limit_and_threshold(opensearch: OpenSearchServer, models: ModelServer) -> None:
    found = await rows(os_flow(opensearch, models, filter_expression=json.dumps({"document_types": ["application/pdf"]})), "paid refunds")
    assert [r["filename"] for r in found] == ["refunds.pdf", "invoices.pdf"]
    found = await rows(os_flow(opensearch, models, ingest_data=[], filter_expression=json.dumps({"data_sources": []})), "refunds")
    assert found == []  # an empty list matches nothing
    found = await rows(os_flow(opensearch, models, ingest_data=[], filter_expression=json.dumps({"limit": 1})), "parrots talk")
    assert [r["filename"] for r in found] == ["birds.txt"]
    top = (await rows(os_flow(opensearch, models, ingest_data=[]), "parrots talk"))[0]["_score"]
    found = await rows(os_flow(opensearch, models, ingest_data=[], filter_expression=json.dumps({"score_threshold": top - 1e-6})), "parrots talk")
    assert len(found) == 1
    body = [r.body for r in opensearch.requests if r.path.endswith("/_search")][-1]
    assert body["min_score"] == pytest.approx(top - 1e-6) and body["query"]["bool"]["should"][0]["knn"]["chunk_embedding"]["k"] == 10


async def test_document_metadata_rows_tag_every_document(opensearch: OpenSearchServer, models: ModelServer) -> None:
    await rows(os_flow(opensearch, models, docs_metadata=[{"key": "owner", "value": "team-a"}]), "")
    assert {d["owner"] for d in opensearch.documents("docs")} == {"team-a"}


async def test_jwt_authentication(opensearch: OpenSearchServer, models: ModelServer) -> None:
    found = await rows(os_flow(opensearch, models, auth_mode="jwt", jwt_token="JWT"), "parrots")
    assert found and all(r.headers["authorization"] == "Bearer jwt-123" for r in opensearch.requests)
    with pytest.raises(ConfigurationError, match="username/password"):
        await rows(os_flow(opensearch, models, password=""), "x")


async def test_opensearch_errors_are_named(opensearch: OpenSearchServer, models: ModelServer) -> None:
    with pytest.raises(ProviderError) as caught:
        await rows(os_flow(opensearch, models, password="wrong"), "x")
    assert caught.value.provider == "OpenSearch" and caught.value.status == 401 and "HTTP 401" in caught.value.message  # HEAD: no body
    opensearch.indexes["docs"] = {"settings": {}, "mappings": {"properties": {"chunk_embedding": {"type": "knn_vector", "dimension": 3}}}, "docs": {}}
    with pytest.raises(ProviderError, match="Vector dimension mismatch"):
        await rows(os_flow(opensearch, models), "x")
