"""Milvus beyond the store contract: a collection LangChain created (auto ids) is read and written,
filter expressions, and Milvus's error codes (HTTP 200, non-zero `code`)."""

from __future__ import annotations

import pytest

from flowless_engine.errors import ConfigurationError, ProviderError
from flowless_engine.settings import EngineSettings
from flowless_engine.vectors.milvus import filter_expression
from tests.support.engine_kit import component_node, edge, flow, run
from tests.support.milvus_server import MilvusServer
from tests.support.model_server import ModelServer, embed

SETTINGS = EngineSettings(allow_loopback=True, http_retries=0)


def test_filter_expression() -> None:
    assert filter_expression({"tag": "a", "year": 2026, "kinds": ["x", "y"]}) == 'tag == "a" and year == 2026 and kinds in ["x", "y"]'


async def test_a_langchain_collection_with_auto_ids() -> None:
    with MilvusServer(token="t") as milvus, ModelServer() as models:
        milvus.collections["lc"] = {"dimension": 64, "metric": "L2", "pk": "pk", "vector": "vector", "autoId": True, "next": 2,
                                    "rows": {"1": {"pk": 1, "text": "Cats purr", "source": "cats.md", "vector": embed("Cats purr")}}}

        async def rows(**fields: object) -> list[dict]:
            exported = flow(
                [component_node("ChatInput-1", "ChatInput"), component_node("OpenAIEmbeddings-1", "OpenAIEmbeddings", openai_api_base=models.base_url),
                 component_node("Milvus-1", "Milvus", **{"uri": milvus.base_url, "collection_name": "lc", "password": "t", **fields})],
                [edge("ChatInput-1", "message", "Milvus-1", "search_query"),
                 edge("OpenAIEmbeddings-1", "embeddings", "Milvus-1", "embedding", output_types=("Embeddings",), input_types=("Embeddings",))])
            ran = await run(exported, "do cats purr", variables={"OPENAI_API_KEY": "k"}, settings=SETTINGS)
            return [d.data for d in ran.vertex("Milvus-1").values["search_results"]]

        found = await rows(ingest_data=[{"text": "Dogs bark", "source": "dogs.md"}])
        assert found[0]["text"] == "Cats purr" and found[0]["source"] == "cats.md" and 0 < found[0]["_score"] <= 1  # L2: 1 / (1 + d)
        assert sorted(r["text"] for r in milvus.entities("lc")) == ["Cats purr", "Dogs bark"]
        assert {r["pk"] for r in milvus.entities("lc")} == {1, 2}  # Milvus numbered the new entity
        with pytest.raises(ProviderError, match="user hasn't authenticated"):
            await rows(password="wrong")
        with pytest.raises(ConfigurationError, match="http"):
            await rows(uri="./milvus_demo.db")
