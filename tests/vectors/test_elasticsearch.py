"""Elasticsearch beyond the store contract: the Elastic Cloud ID, the dense_vector mapping it
creates, LangChain's document shape and the score threshold."""

from __future__ import annotations

import base64

import pytest

from flowless_engine.errors import ConfigurationError
from flowless_engine.settings import EngineSettings
from flowless_engine.vectors.elasticsearch import cloud_id_url
from tests.support.elasticsearch_server import ElasticsearchServer
from tests.support.engine_kit import component_node, edge, flow, run
from tests.support.model_server import ModelServer


def test_cloud_ids() -> None:
    encoded = base64.b64encode(b"us-east-1.aws.found.io$abc123$kib456").decode()
    assert cloud_id_url(f"my-deployment:{encoded}") == "https://abc123.us-east-1.aws.found.io"
    encoded = base64.b64encode(b"eu.example.com:9243$esid$kb").decode()
    assert cloud_id_url(f"x:{encoded}") == "https://esid.eu.example.com:9243"
    with pytest.raises(ConfigurationError):
        cloud_id_url("not-a-cloud-id")


async def test_mapping_document_shape_and_threshold() -> None:
    with ElasticsearchServer(users={"elastic": "pw"}) as es, ModelServer() as models:
        docs = [{"text": "Refunds are paid within fourteen days", "source": "a"}, {"text": "Parrots can talk", "source": "b"}]

        async def search(**fields: object) -> list[dict]:
            exported = flow(
                [component_node("ChatInput-1", "ChatInput"), component_node("OpenAIEmbeddings-1", "OpenAIEmbeddings", openai_api_base=models.base_url),
                 component_node("ES-1", "Elasticsearch", elasticsearch_url=es.base_url, username="elastic", password="pw", ingest_data=docs, **fields)],
                [edge("ChatInput-1", "message", "ES-1", "search_query"),
                 edge("OpenAIEmbeddings-1", "embeddings", "ES-1", "embedding", output_types=("Embeddings",), input_types=("Embeddings",))])
            ran = await run(exported, "can parrots talk", variables={"OPENAI_API_KEY": "k"}, settings=EngineSettings(allow_loopback=True, http_retries=0))
            return [d.data for d in ran.vertex("ES-1").values["search_results"]]

        rows = await search()
        assert es.indexes["langflow"]["mappings"]["properties"]["vector"] == {"type": "dense_vector", "dims": 64, "index": True, "similarity": "cosine"}
        assert set(es.documents("langflow")[0]) == {"text", "metadata", "vector"}
        assert [r["source"] for r in rows] == ["b", "a"]
        assert [r["source"] for r in await search(search_score_threshold=(rows[0]["_score"] + rows[1]["_score"]) / 2)] == ["b"]
