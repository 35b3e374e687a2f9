"""Knowledge (Ingest / Retrieve), its legacy types, Embedding Model / OpenAI Embeddings and the Chroma
node, run in-process on the engine's in-memory vector store with deterministic embeddings."""

from __future__ import annotations

import json
from typing import Any

import pytest

from flowless_engine.errors import ConfigurationError
from flowless_engine.graph.loader import load_graph
from flowless_engine.llm.embeddings import EmbeddingConfig
from flowless_engine.runtime.context import RunContext
from flowless_engine.runtime.request import RunRequest
from flowless_engine.runtime.run import run_graph
from flowless_engine.runtime.services import DictVariableResolver
from flowless_engine.schema import DataFrame
from flowless_engine.vectors.base import KnowledgeBaseSpec, VectorItem
from flowless_engine.vectors.memory import InMemoryKnowledgeBases, InMemoryVectorStore
from tests.support.engine_kit import component_node, edge, flow
from tests.support.model_server import embed

SPEC = KnowledgeBaseSpec("handbook", "OpenAI", "text-embedding-3-small")
CHUNKS = {
    "Our office opens at nine in the morning": {"file_name": "hours.txt", "tag": "office"},
    "Refunds are paid within fourteen days": {"file_name": "refunds.txt", "tag": "billing"},
    "Invoices are sent on the first of each month": {"file_name": "invoices.txt", "tag": "billing"},
}


class FakeEmbeddings:
    """Deterministic in-process embeddings (the test model server's hashed bag of words)."""

    def __init__(self, log: list[EmbeddingConfig], config: EmbeddingConfig) -> None:
        log.append(config)
        self.provider, self.model, self.config = config.provider, config.model, config

    async def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [embed(t) for t in texts]

    async def embed_query(self, text: str) -> list[float]:
        return embed(text)


class Harness:
    def __init__(self, specs: list[KnowledgeBaseSpec] | None = None) -> None:
        self.vectors = InMemoryVectorStore()
        self.knowledge = InMemoryKnowledgeBases(specs if specs is not None else [SPEC])
        self.configs: list[EmbeddingConfig] = []

    async def fill(self, spec: KnowledgeBaseSpec = SPEC) -> None:
        items = [VectorItem(f"c{n}", embed(text), text, meta) for n, (text, meta) in enumerate(CHUNKS.items())]
        await self.vectors.upsert(spec.index(), items)

    async def run(self, exported: dict[str, Any], input_value: str | None = None, *, variables: dict[str, str] | None = None,
                  configured: bool = True, **request: Any) -> Any:
        graph = load_graph(exported)
        ctx = RunContext(
            flow_id=graph.flow_id, session_id="s", variables=DictVariableResolver(variables or {}),
            vectors=self.vectors if configured else None, knowledge=self.knowledge if configured else None,
            embeddings=lambda config: FakeEmbeddings(self.configs, config),
        )
        return await run_graph(graph, RunRequest(input_value=input_value, **request), ctx)


def retrieve_flow(type_name: str = "Knowledge", **values: Any) -> dict[str, Any]:
    """ChatInput → Knowledge (Retrieve) → Parser → ChatOutput, like the Knowledge Retrieval starter."""
    values = {"knowledge_base": "handbook", "mode": "Retrieve", **values}
    return flow(
        [
            component_node("ChatInput-1", "ChatInput"),
            component_node("Knowledge-1", type_name, **values),
            component_node("parser-1", "parser", pattern="{content}"),
            component_node("ChatOutput-1", "ChatOutput"),
        ],
        [
            edge("ChatInput-1", "message", "Knowledge-1", "search_query"),
            edge("Knowledge-1", "retrieve_data", "parser-1", "input_data", output_types=("Table",), input_types=("Table",)),
            edge("parser-1", "parsed_text", "ChatOutput-1", "input_value"),
        ],
    )


def table(result: Any, vertex: str = "Knowledge-1", output: str = "retrieve_data") -> list[dict[str, Any]]:
    value = result.all_results[vertex].values[output]
    assert isinstance(value, DataFrame)
    return value.rows


async def test_retrieve_returns_the_closest_chunks_with_scores_and_metadata() -> None:
    harness = Harness()
    await harness.fill()
    result = await harness.run(retrieve_flow(top_k=2), "when are refunds paid")
    rows = table(result)
    assert [r["content"] for r in rows][0] == "Refunds are paid within fourteen days"
    assert len(rows) == 2 and rows[0]["_score"] >= rows[1]["_score"]
    assert rows[0]["file_name"] == "refunds.txt" and rows[0]["tag"] == "billing"
    assert result.response()["outputs"][0]["outputs"][0]["results"]["message"]["text"].startswith("Refunds are paid")
    assert [(c.provider, c.model) for c in harness.configs] == [("OpenAI", "text-embedding-3-small")]
    assert harness.vectors.queries == [(SPEC.index(), 2)]


async def test_retrieve_options_metadata_filter_and_no_metadata() -> None:
    harness = Harness()
    await harness.fill()
    result = await harness.run(retrieve_flow(top_k=5, metadata_filter='{"tag": "billing"}', include_metadata=False), "refunds")
    rows = table(result)
    assert {r["content"] for r in rows} == {"Refunds are paid within fourteen days", "Invoices are sent on the first of each month"}
    assert all(set(r) == {"content", "_score"} for r in rows)


async def test_retrieve_without_a_query_lists_chunks_unranked() -> None:
    harness = Harness()
    await harness.fill()
    exported = retrieve_flow(top_k=2, search_query="")
    exported["data"]["edges"] = exported["data"]["edges"][1:]  # no query wired
    result = await harness.run(exported)
    rows = table(result)
    assert len(rows) == 2 and all("_score" not in r for r in rows)
    assert harness.configs == []  # nothing embedded


async def test_legacy_knowledge_base_type_retrieves() -> None:
    harness = Harness()
    await harness.fill()
    result = await harness.run(retrieve_flow("KnowledgeBase", mode=""), "office opens")
    assert table(result)[0]["content"] == "Our office opens at nine in the morning"


async def test_unknown_knowledge_base_and_missing_store_are_clear_errors() -> None:
    harness = Harness()
    with pytest.raises(ConfigurationError, match="Knowledge base 'nope' not found"):
        await harness.run(retrieve_flow(knowledge_base="nope"), "x")
    with pytest.raises(ConfigurationError, match="needs a knowledge base store"):
        await harness.run(retrieve_flow(), "x", configured=False)


def ingest_flow(type_name: str = "Knowledge", **values: Any) -> dict[str, Any]:
    """ChatInput → Type Convert (DataFrame) → Knowledge (Ingest)."""
    values = {"knowledge_base": "handbook", "mode": "Ingest", **values}
    return flow(
        [
            component_node("ChatInput-1", "ChatInput"),
            component_node("TypeConverterComponent-1", "TypeConverterComponent", output_type="DataFrame"),
            component_node("Knowledge-1", type_name, **values),
        ],
        [
            edge("ChatInput-1", "message", "TypeConverterComponent-1", "input_data"),
            edge("TypeConverterComponent-1", "dataframe_output", "Knowledge-1", "input_df", output_types=("DataFrame",), input_types=("DataFrame",)),
        ],
    )


async def test_ingest_stores_rows_once_with_user_metadata() -> None:
    harness = Harness()
    exported = ingest_flow(metadata_json='{"tag": "faq", "year": 2026}')
    result = await harness.run(exported, "Parcels ship every weekday")
    info = result.all_results["Knowledge-1"].values["dataframe_output"].data
    assert (info["kb_name"], info["rows"], info["chunks_created"], info["skipped"]) == ("handbook", 1, 1, 0)
    assert info["column_metadata"]["summary"] == {"vectorized_columns": ["text"], "identifier_columns": ["text"]}
    again = await harness.run(exported, "Parcels ship every weekday")
    assert again.all_results["Knowledge-1"].values["dataframe_output"].data["chunks_created"] == 0
    (stored,) = await harness.vectors.scan(SPEC.index(), 10)
    assert stored.text == "Parcels ship every weekday"
    assert json.loads(stored.metadata["source_metadata"]) == {"tag": "faq", "year": 2026}
    assert stored.metadata["tag"] == "faq" and stored.metadata["_id"] == stored.id
    assert harness.knowledge.stats["handbook"].chunks == 1
    # what was ingested by one node is found by another
    found = await harness.run(retrieve_flow(metadata_filter='{"year": "2026"}'), "when do parcels ship")
    assert table(found)[0]["content"] == "Parcels ship every weekday"


async def test_legacy_ingestion_type_and_duplicates_allowed() -> None:
    harness = Harness()
    exported = ingest_flow("KnowledgeIngestion", mode="", allow_duplicates=True)
    for _ in range(2):
        await harness.run(exported, "Same row twice")
    assert await harness.vectors.count(SPEC.index()) == 2


async def test_ingest_refuses_a_column_config_naming_missing_columns() -> None:
    harness = Harness()
    exported = ingest_flow(column_config=[{"column_name": "body", "vectorize": True, "identifier": False}])
    with pytest.raises(Exception, match="Column 'body' not found"):
        await harness.run(exported, "x")


def chroma_flow(embedding_node: dict[str, Any], **chroma: Any) -> dict[str, Any]:
    """An older vector-store RAG: ChatInput → Split Text → Chroma (ingest; its search_query set on the
    node), Embeddings → Chroma, Chroma → Parse Data → ChatOutput."""
    return flow(
        [
            component_node("ChatInput-1", "ChatInput"),
            component_node("SplitText-1", "SplitText", chunk_size=25, chunk_overlap=0, separator="."),
            embedding_node,
            component_node("Chroma-1", "Chroma", **{"collection_name": "notes", "number_of_results": 1, "search_query": "can parrots talk", **chroma}),
            component_node("ParseData-1", "ParseData", template="{text}"),
            component_node("ChatOutput-1", "ChatOutput"),
        ],
        [
            edge("ChatInput-1", "message", "SplitText-1", "data_inputs"),
            edge("SplitText-1", "chunks", "Chroma-1", "ingest_data", output_types=("Data",), input_types=("Data",)),
            edge(embedding_node["id"], "embeddings", "Chroma-1", "embedding", output_types=("Embeddings",), input_types=("Embeddings",)),
            edge("Chroma-1", "search_results", "ParseData-1", "data", output_types=("Data",), input_types=("Data",)),
            edge("ParseData-1", "text", "ChatOutput-1", "input_value"),
        ],
    )


async def test_chroma_ingests_and_searches_its_collection() -> None:
    harness = Harness(specs=[])
    embedding = component_node("OpenAIEmbeddings-1", "OpenAIEmbeddings")
    text = "Cats purr when happy. Dogs wag their tails. Parrots can talk"
    result = await harness.run(chroma_flow(embedding), text, variables={"OPENAI_API_KEY": "sk-test"})
    answer = result.response()["outputs"][0]["outputs"][0]["results"]["message"]["text"]
    assert answer == "Parrots can talk"
    spec = await harness.knowledge.get("notes")
    assert (spec.embedding_provider, spec.embedding_model) == ("OpenAI", "text-embedding-3-small")
    assert await harness.vectors.count(spec.index()) == 3
    assert harness.configs[0].api_key == "sk-test"
    assert "sk-test" not in repr(harness.configs[0])  # a wired config never shows its key
    await harness.run(chroma_flow(embedding), text, variables={"OPENAI_API_KEY": "sk-test"})
    assert await harness.vectors.count(spec.index()) == 3  # the same documents are not stored twice


async def test_chroma_refuses_a_collection_of_another_model() -> None:
    harness = Harness(specs=[KnowledgeBaseSpec("notes", "Ollama", "nomic-embed-text")])
    embedding = component_node("EmbeddingModel-1", "EmbeddingModel", model=[{"name": "text-embedding-3-large", "provider": "OpenAI"}])
    with pytest.raises(ConfigurationError, match="holds embeddings of Ollama/nomic-embed-text"):
        await harness.run(chroma_flow(embedding), "hello", variables={"OPENAI_API_KEY": "k"})


async def test_embedding_model_node_options() -> None:
    harness = Harness(specs=[])
    embedding = component_node(
        "EmbeddingModel-1", "EmbeddingModel", model=[{"name": "nomic-embed-text", "provider": "Ollama"}],
        api_base="http://ollama.internal:11434", dimensions=256, chunk_size=16,
    )
    await harness.run(chroma_flow(embedding), "One. Two")
    (config,) = {(c.provider, c.model, c.base_url, c.dimensions, c.batch_size) for c in harness.configs}
    assert config == ("Ollama", "nomic-embed-text", "http://ollama.internal:11434", 256, 16)
    assert (await harness.knowledge.get("notes")).model_key == "Ollama/nomic-embed-text/256"


async def test_search_query_empty_returns_nothing_from_chroma() -> None:
    harness = Harness(specs=[])
    exported = chroma_flow(component_node("OpenAIEmbeddings-1", "OpenAIEmbeddings"), search_query="")
    result = await harness.run(exported, "Some text to store", variables={"OPENAI_API_KEY": "k"})
    assert result.all_results["Chroma-1"].values["search_results"] == []
