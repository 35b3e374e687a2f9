"""One contract for every vector-store component a flow names (tests/vectors/stores.py lists the
backends): run through the engine, embeddings from the OpenAI-compatible test server over HTTP,
the store a local server speaking its API (or the real engine).

Ingest, search, scores, metadata filters, top-k by tweak, score threshold, MMR, idempotent
re-ingestion, tenant isolation (credentials and endpoints from the tenant's variables), store
failures named, and the node as an Agent tool.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from flowless_engine.errors import ProviderError
from flowless_engine.schema import Data, DataFrame
from flowless_engine.settings import EngineSettings
from tests.support.engine_kit import FakeChatModel, component_node, edge, flow, run, tool_call
from tests.support.model_server import ModelServer
from tests.vectors.stores import BACKENDS, Backend, having

SETTINGS = EngineSettings(allow_loopback=True, http_retries=0)
DOCS = [
    {"text": "The office opens at nine in the morning", "tag": "office", "year": 2026},
    {"text": "Refunds are paid within fourteen days", "tag": "billing", "year": 2025},
    {"text": "Refunds are paid within fourteen days of the request", "tag": "billing", "year": 2026},
    {"text": "Invoices are sent on the first of each month", "tag": "billing", "year": 2026},
    {"text": "Parrots can talk and mimic many sounds", "tag": "animals", "year": 2024},
]


@pytest.fixture(scope="module")
def models() -> Iterator[ModelServer]:
    with ModelServer() as server:
        yield server


@pytest.fixture(params=sorted(BACKENDS), scope="module")
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    """Every backend, unless a test names its own (`parametrize("backend", having(...), indirect=True)`)."""
    with BACKENDS[request.param]() as backend:
        yield backend


def store_flow(backend: Backend, collection: str, models: ModelServer, *, docs: list[dict[str, Any]] | None = None,
               **fields: Any) -> dict[str, Any]:
    """Embeddings → Store (its ingest_data set on the node) → Parser → ChatOutput; ChatInput → the query."""
    values = {**backend.fields(collection), "ingest_data": docs if docs is not None else DOCS, **fields}
    return flow(
        [
            component_node("ChatInput-1", "ChatInput"),
            component_node("OpenAIEmbeddings-1", "OpenAIEmbeddings", openai_api_base=models.base_url, **backend.extra.get("embedding", {})),
            store_node(backend, **values),
            component_node("ChatOutput-1", "ChatOutput"),
        ],
        [
            edge("ChatInput-1", "message", "Store-1", "search_query"),
            edge("OpenAIEmbeddings-1", "embeddings", "Store-1", _embedding_field(backend), output_types=("Embeddings",), input_types=("Embeddings",)),
            edge("Store-1", "dataframe", "ChatOutput-1", "input_value", output_types=("DataFrame",), input_types=("DataFrame",)),
        ],
    )


def store_node(backend: Backend, **values: Any) -> dict[str, Any]:
    node = component_node("Store-1", backend.type_name, **values)
    for name in backend.extra.get("from_variables", ()):  # credentials held in tenant variables
        node["data"]["node"]["template"][name]["load_from_db"] = True
    return node


def _embedding_field(backend: Backend) -> str:
    from flowless_engine.components.registry import get_component_class

    names = {i.name for i in get_component_class(backend.type_name).inputs}
    return "embedding_model" if "embedding_model" in names else "embedding"


async def search(backend: Backend, collection: str, models: ModelServer, query: str, *, variables: dict[str, str] | None = None,
                 tweaks: dict[str, Any] | None = None, tenant: str = "acme", **fields: Any) -> list[dict[str, Any]]:
    ran = await run(store_flow(backend, collection, models, **fields), query, context=backend.context(tenant),
                    variables={"OPENAI_API_KEY": "sk-test", **backend.variables, **(variables or {})}, settings=SETTINGS, tweaks=tweaks)
    frame = ran.vertex("Store-1").values["dataframe"]
    assert isinstance(frame, DataFrame)
    return frame.rows


async def test_ingests_then_searches_with_scores_and_metadata(backend: Backend, models: ModelServer) -> None:
    collection = backend.new_collection()
    rows = await search(backend, collection, models, "when are refunds paid")
    assert backend.count(collection) == len(DOCS)
    assert len(rows) == min(backend.extra.get("default_count", 4), len(DOCS))  # Langflow's default number_of_results
    assert rows[0]["text"].startswith("Refunds are paid")
    assert {"text", "tag", "year", "_score"} <= set(rows[0])
    scores = [r["_score"] for r in rows]
    assert scores == sorted(scores, reverse=True) and scores[0] > scores[-1]


async def test_running_again_stores_nothing_twice(backend: Backend, models: ModelServer) -> None:
    collection = backend.new_collection()
    await search(backend, collection, models, "refunds")
    await search(backend, collection, models, "refunds")
    assert backend.count(collection) == len(DOCS)
    await search(backend, collection, models, "refunds", docs=[{"text": "A new document", "tag": "new"}])
    assert backend.count(collection) == (1 if backend.replaces else len(DOCS) + 1)  # FAISS: the index is rebuilt


async def test_search_only_node_reads_what_an_earlier_run_stored(backend: Backend, models: ModelServer) -> None:
    collection = backend.new_collection()
    await search(backend, collection, models, "")  # ingest only: no query, no results
    rows = await search(backend, collection, models, "parrots talk", docs=[])
    assert rows[0]["text"] == "Parrots can talk and mimic many sounds" and rows[0]["tag"] == "animals"


async def test_top_k_by_tweak(backend: Backend, models: ModelServer) -> None:
    collection = backend.new_collection()
    rows = await search(backend, collection, models, "refunds", tweaks={"Store-1": {"number_of_results": 2}})
    assert len(rows) == 2
    rows = await search(backend, collection, models, "refunds", tweaks={"number_of_results": 5})
    assert len(rows) == 5


@pytest.mark.parametrize("backend", having("filter"), indirect=True)
async def test_metadata_filter(backend: Backend, models: ModelServer) -> None:
    collection = backend.new_collection()
    filter_field = backend.extra.get("filter_field") or "advanced_search_filter"
    where = backend.extra.get("filter", lambda where: where)
    rows = await search(backend, collection, models, "what happens each month", **{filter_field: where({"tag": "billing"})})
    assert rows and {r["tag"] for r in rows} == {"billing"}
    assert rows[0]["text"] == "Invoices are sent on the first of each month"
    if not backend.extra.get("no_scan"):  # stores that filter only a query (Upstash) list nothing without one
        rows = await search(backend, collection, models, "", **{filter_field: where({"tag": "animals"})})  # no query: listed by filter
        assert [r["text"] for r in rows] == ["Parrots can talk and mimic many sounds"]


@pytest.mark.parametrize("backend", having("search_type"), indirect=True)
async def test_score_threshold(backend: Backend, models: ModelServer) -> None:
    collection = backend.new_collection()
    everything = await search(backend, collection, models, "refunds paid", number_of_results=5)
    cut = (everything[1]["_score"] + everything[2]["_score"]) / 2
    rows = await search(backend, collection, models, "refunds paid", number_of_results=5,
                        search_type="Similarity with score threshold", search_score_threshold=cut)
    assert [r["text"] for r in rows] == [r["text"] for r in everything[:2]]


@pytest.mark.parametrize("backend", having("mmr"), indirect=True)
async def test_mmr_trades_closeness_for_diversity(backend: Backend, models: ModelServer) -> None:
    collection = backend.new_collection()
    plain = await search(backend, collection, models, "refunds paid within fourteen days", number_of_results=2)
    assert all(r["text"].startswith("Refunds") for r in plain)  # the two near-duplicates
    diverse = await search(backend, collection, models, "refunds paid within fourteen days", number_of_results=2,
                           search_type="MMR (Max Marginal Relevance)")
    assert diverse[0]["text"].startswith("Refunds")
    assert not diverse[1]["text"].startswith("Refunds")


@pytest.mark.parametrize("backend", having("credentials"), indirect=True)
async def test_credentials_come_from_the_tenant_variables(backend: Backend, models: ModelServer) -> None:
    collection = backend.new_collection()
    await search(backend, collection, models, "refunds")
    wrong = backend.extra.get("wrong") or {name: "not-the-credential" for name in backend.extra.get("secrets", backend.variables)}
    with pytest.raises(ProviderError) as caught:
        await search(backend, collection, models, "refunds", variables=wrong)
    assert caught.value.provider == backend.extra["label"] and backend.extra["label"] in caught.value.message
    assert "not-the-credential" not in caught.value.message and "nope" not in caught.value.message


@pytest.mark.parametrize("backend", having("tenant"), indirect=True)
async def test_a_tenant_scoped_index_is_the_tenants_own(backend: Backend, models: ModelServer) -> None:
    collection = backend.new_collection()
    await search(backend, collection, models, "", tenant="acme")
    assert await search(backend, collection, models, "refunds", docs=[], tenant="globex") == []
    assert (await search(backend, collection, models, "when are refunds paid", docs=[], tenant="acme"))[0]["text"].startswith("Refunds")


@pytest.mark.parametrize("backend", having("server"), indirect=True)
async def test_store_failure_names_the_store(backend: Backend, models: ModelServer) -> None:
    collection = backend.new_collection()
    await search(backend, collection, models, "refunds")
    backend.server.fail_next(5, 500)
    try:
        with pytest.raises(ProviderError) as caught:
            await search(backend, collection, models, "refunds", docs=[])
    finally:
        backend.server._failures.clear()
    assert caught.value.provider and caught.value.provider in caught.value.message and caught.value.status == 500


@pytest.mark.parametrize("backend", having("network"), indirect=True)
async def test_the_network_guard_applies_to_the_store(backend: Backend, models: ModelServer) -> None:
    from flowless_engine.errors import BlockedURLError

    collection = backend.new_collection()
    with pytest.raises(BlockedURLError):
        await run(store_flow(backend, collection, models), "refunds", context=backend.context("acme"), variables={"OPENAI_API_KEY": "k", **backend.variables},
                  settings=EngineSettings(allow_loopback=False, http_retries=0))


async def test_the_store_as_an_agent_tool(backend: Backend, models: ModelServer) -> None:
    collection = backend.new_collection()
    await search(backend, collection, models, "")  # fill the collection
    agent_model = FakeChatModel([tool_call("search_documents", {"search_query": "parrots talk"}), "Parrots talk."])
    exported = flow(
        [
            component_node("ChatInput-1", "ChatInput"),
            component_node("OpenAIEmbeddings-1", "OpenAIEmbeddings", openai_api_base=models.base_url, **backend.extra.get("embedding", {})),
            store_node(backend, **backend.fields(collection), number_of_results=1),
            component_node("Agent-1", "Agent"),
            component_node("ChatOutput-1", "ChatOutput"),
        ],
        [
            edge("ChatInput-1", "message", "Agent-1", "input_value"),
            edge("OpenAIEmbeddings-1", "embeddings", "Store-1", _embedding_field(backend), output_types=("Embeddings",), input_types=("Embeddings",)),
            edge("Store-1", "component_as_tool", "Agent-1", "tools", output_types=("Tool",), input_types=("Tool",)),
            edge("Agent-1", "response", "ChatOutput-1", "input_value"),
        ],
    )
    exported["data"]["nodes"][2]["data"]["node"]["outputs"] = [  # tool mode, as Langflow saves it
        {"name": "component_as_tool", "method": "to_toolkit", "types": ["Tool"], "selected": "Tool"}]
    ran = await run(exported, "Can parrots talk?", model=agent_model, context=backend.context("acme"),
                    variables={"OPENAI_API_KEY": "sk-test", **backend.variables}, settings=SETTINGS)
    assert ran.text() == "Parrots talk."
    tool_result = next(m for m in agent_model.calls[1]["messages"] if m.role == "tool")
    assert "Parrots can talk and mimic many sounds" in tool_result.content


def test_rows_are_langflow_data(backend: Backend) -> None:
    from flowless_engine.components.store_base import StoreComponent
    from flowless_engine.vectors.external import Hit

    row = StoreComponent.row(Hit("hello", {"source": "a.txt"}, 0.5))
    assert isinstance(row, Data) and row.data == {"source": "a.txt", "text": "hello", "_score": 0.5}
