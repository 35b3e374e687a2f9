"""FAISS beyond the store contract: the index name is a file name, the persist directory scopes it,
an unchanged ingestion embeds nothing again, and a search-only node reads what an ingest node of
another run built."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from flowless_engine.errors import ConfigurationError
from flowless_engine.settings import EngineSettings
from flowless_engine.vectors.memory import InMemoryVectorStore
from tests.support.engine_kit import component_node, edge, flow, run
from tests.support.model_server import ModelServer

SETTINGS = EngineSettings(allow_loopback=True, http_retries=0)
DOCS = [{"text": "Refunds are paid within fourteen days", "source": "a"}, {"text": "Parrots can talk", "source": "b"}]


@pytest.fixture(scope="module")
def models() -> Iterator[ModelServer]:
    with ModelServer() as server:
        yield server


def faiss_flow(models: ModelServer, **fields: Any) -> dict[str, Any]:
    return flow(
        [component_node("ChatInput-1", "ChatInput"), component_node("OpenAIEmbeddings-1", "OpenAIEmbeddings", openai_api_base=models.base_url),
         component_node("FAISS-1", "FAISS", **{"ingest_data": DOCS, **fields})],
        [edge("ChatInput-1", "message", "FAISS-1", "search_query"),
         edge("OpenAIEmbeddings-1", "embeddings", "FAISS-1", "embedding", output_types=("Embeddings",), input_types=("Embeddings",))],
    )


async def texts(models: ModelServer, vectors: Any, query: str, **fields: Any) -> list[str]:
    ran = await run(faiss_flow(models, **fields), query, variables={"OPENAI_API_KEY": "k"}, settings=SETTINGS, context={"vectors": vectors})
    return [d.data["text"] for d in ran.vertex("FAISS-1").values["search_results"]]


async def test_an_unchanged_ingestion_embeds_nothing_again(models: ModelServer) -> None:
    vectors = InMemoryVectorStore()
    await texts(models, vectors, "parrots")
    calls = len([r for r in models.requests if r.path == "/v1/embeddings"])
    assert await texts(models, vectors, "can parrots talk") == ["Parrots can talk", "Refunds are paid within fourteen days"]
    embedded = [r.body["input"] for r in models.requests if r.path == "/v1/embeddings"][calls:]
    assert embedded == [["can parrots talk"]]  # only the query
    (ref,) = vectors.indexes
    assert (ref.name, ref.metric) == ("faiss:langflow_index", "euclidean")


async def test_the_persist_directory_scopes_the_index(models: ModelServer) -> None:
    vectors = InMemoryVectorStore()
    await texts(models, vectors, "", persist_directory="/data/one", index_name="idx")
    assert await texts(models, vectors, "parrots", persist_directory="/data/two", index_name="idx", ingest_data=[]) == []
    assert await texts(models, vectors, "parrots", persist_directory="/data/one", index_name="idx", ingest_data=[], number_of_results=1) == ["Parrots can talk"]


@pytest.mark.parametrize("name", ["../etc", "a/b", ".", ""])
async def test_the_index_name_is_a_file_name(models: ModelServer, name: str) -> None:
    if name == "":  # empty means Langflow's default name
        assert await texts(models, InMemoryVectorStore(), "x", index_name=name, ingest_data=[]) == []
        return
    with pytest.raises(ConfigurationError, match="file name"):
        await texts(models, InMemoryVectorStore(), "x", index_name=name)


async def test_without_the_tenants_store_the_node_says_so(models: ModelServer) -> None:
    with pytest.raises(ConfigurationError, match="vector store"):
        await run(faiss_flow(models), "x", variables={"OPENAI_API_KEY": "k"}, settings=SETTINGS)
