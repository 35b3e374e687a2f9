"""Weaviate beyond the store contract: the requests Flowless sends (class schema, batch objects,
GraphQL Get with hybrid / bm25), a class LangChain filled, Langflow's capitalized-name rule, and
Weaviate's error shapes (GraphQL `errors` with HTTP 200, per-object batch errors, 401)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from flowless_engine.errors import ConfigurationError, ProviderError
from flowless_engine.settings import EngineSettings
from flowless_engine.vectors.weaviate import Enum, graphql_value, where_filter
from tests.support.engine_kit import component_node, edge, flow, run
from tests.support.model_server import ModelServer, embed
from tests.support.weaviate_server import WeaviateServer

SETTINGS = EngineSettings(allow_loopback=True, http_retries=0)
DOCS = [{"text": "Cats purr when they are happy", "kind": "cat"}, {"text": "Dogs bark at strangers", "kind": "dog"}]


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[WeaviateServer, ModelServer]]:
    with WeaviateServer(api_keys=("wv-key",)) as weaviate, ModelServer() as models:
        yield weaviate, models


async def _rows(weaviate: WeaviateServer, models: ModelServer | None, query: str, *, embedding: bool = True, **fields: Any) -> list[dict]:
    nodes = [component_node("ChatInput-1", "ChatInput"),
             component_node("W-1", "Weaviate", **{"url": weaviate.base_url, "api_key": "wv-key", **fields})]
    edges = [edge("ChatInput-1", "message", "W-1", "search_query")]
    if embedding and models is not None:
        nodes.append(component_node("OpenAIEmbeddings-1", "OpenAIEmbeddings", openai_api_base=models.base_url))
        edges.append(edge("OpenAIEmbeddings-1", "embeddings", "W-1", "embedding", output_types=("Embeddings",), input_types=("Embeddings",)))
    ran = await run(flow(nodes, edges), query, variables={"OPENAI_API_KEY": "k"}, settings=SETTINGS)
    return [d.data for d in ran.vertex("W-1").values["search_results"]]


async def test_ingest_sends_schema_batch_and_a_hybrid_graphql_query(servers: tuple[WeaviateServer, ModelServer]) -> None:
    weaviate, models = servers
    start = len(weaviate.requests)
    rows = await _rows(weaviate, models, "do cats purr", index_name="Pets", ingest_data=DOCS, number_of_results=1)
    assert rows[0]["text"] == "Cats purr when they are happy" and rows[0]["kind"] == "cat" and 0 < rows[0]["_score"] <= 1
    sent = weaviate.requests[start:]
    assert all(r.headers.get("authorization") == "Bearer wv-key" for r in sent)
    schema = next(r.body for r in sent if r.method == "POST" and r.path == "/v1/schema")
    assert schema["class"] == "Pets" and schema["vectorizer"] == "none" and schema["properties"] == [{"name": "text", "dataType": ["text"]}]
    batch = next(r.body for r in sent if r.path == "/v1/batch/objects")
    assert {o["properties"]["text"] for o in batch["objects"]} == {d["text"] for d in DOCS}
    assert all(o["class"] == "Pets" and len(o["vector"]) == 64 for o in batch["objects"])
    query = next(r.body["query"] for r in sent if r.path == "/v1/graphql")
    assert "Pets(" in query and "hybrid: {query: \"do cats purr\", vector: [" in query and "limit: 1" in query
    assert "_additional { id distance certainty score }" in query
    assert {p["name"] for p in weaviate.classes["Pets"]["schema"]["properties"]} == {"text", "kind"}  # auto-schema


async def test_a_langchain_class_without_an_embedding_is_searched_by_keywords(servers: tuple[WeaviateServer, ModelServer]) -> None:
    weaviate, _ = servers
    weaviate.classes["Notes"] = {"schema": {"class": "Notes", "vectorizer": "none", "properties": [
        {"name": "page", "dataType": ["text"]}, {"name": "source", "dataType": ["text"]},
        {"name": "owner", "dataType": ["Person"]}, {"name": "place", "dataType": ["geoCoordinates"]}]}, "objects": {}}
    for i, text in enumerate(["Invoices go out monthly", "Refunds take fourteen days"]):
        object_id = f"00000000-0000-0000-0000-00000000000{i}"
        weaviate.classes["Notes"]["objects"][object_id] = {"class": "Notes", "id": object_id, "vector": embed(text),
                                                          "properties": {"page": text, "source": f"{i}.md"}}
    rows = await _rows(weaviate, None, "refunds", embedding=False, index_name="Notes", text_key="page")
    assert rows == [{"text": "Refunds take fourteen days", "source": "1.md", "_score": rows[0]["_score"]}] and rows[0]["_score"] > 0
    query = weaviate.requests[-1].body["query"]
    assert "bm25: {query: \"refunds\"}" in query
    assert "{ page source _additional" in query  # a cross-reference or geo property needs a sub-selection: not asked


async def test_langflows_capitalized_index_name_rule(servers: tuple[WeaviateServer, ModelServer]) -> None:
    weaviate, models = servers
    with pytest.raises(ConfigurationError, match="capitalized. Use: Mydocs"):
        await _rows(weaviate, models, "x", index_name="MyDocs")


async def test_weaviate_errors_are_named(servers: tuple[WeaviateServer, ModelServer]) -> None:
    weaviate, models = servers
    await _rows(weaviate, models, "", index_name="Sized", ingest_data=DOCS)
    weaviate.classes["Sized"]["objects"] = {k: {**o, "vector": o["vector"][:8]} for k, o in weaviate.classes["Sized"]["objects"].items()}
    with pytest.raises(ProviderError, match="Weaviate failed while searching class 'Sized': .*vector lengths don't match") as caught:
        await _rows(weaviate, models, "cats", index_name="Sized")  # a GraphQL `errors` array, HTTP 200
    assert caught.value.provider == "Weaviate"
    with pytest.raises(ProviderError, match="storing objects in class 'Sized': new node has a vector with length 64"):
        await _rows(weaviate, models, "", index_name="Sized", ingest_data=[{"text": "Birds sing"}])  # per-object batch error
    with pytest.raises(ProviderError, match=r"\(HTTP 401\): unauthorized: invalid api key") as caught:
        await _rows(weaviate, models, "cats", index_name="Sized", api_key="wrong")
    assert "wrong" not in caught.value.message


async def test_deletion_field_and_filters_over_graphql(servers: tuple[WeaviateServer, ModelServer]) -> None:
    weaviate, models = servers
    await _rows(weaviate, models, "", index_name="Versions", ingest_data=DOCS)
    rows = await _rows(weaviate, models, "animals", index_name="Versions", search_filter={"kind": ["dog", "bird"]})
    assert [r["kind"] for r in rows] == ["dog"]
    await _rows(weaviate, models, "", index_name="Versions", ingest_data=[{"text": "Dogs wag tails", "kind": "dog"}], deletion_field="kind")
    assert sorted(o["properties"]["text"] for o in weaviate.objects("Versions")) == ["Cats purr when they are happy", "Dogs wag tails"]


def test_graphql_literals_and_where_filters() -> None:
    assert graphql_value({"query": 'say "hi"', "alpha": 0.5, "limit": 3, "ok": True, "path": ["a"], "op": Enum("Equal")}) == \
        '{query: "say \\"hi\\"", alpha: 0.5, limit: 3, ok: true, path: ["a"], op: Equal}'
    assert where_filter({"tag": "a", "year": 2026}) == {"operator": "And", "operands": [
        {"path": ["tag"], "operator": "Equal", "valueText": "a"}, {"path": ["year"], "operator": "Equal", "valueNumber": 2026}]}
    written = where_filter({"path": "year", "operator": "GreaterThan", "valueNumber": 2000})
    assert isinstance(written["operator"], Enum) and written["path"] == ["year"]


async def test_running_again_embeds_and_sends_only_new_documents(servers: tuple[WeaviateServer, ModelServer]) -> None:
    weaviate, models = servers
    await _rows(weaviate, models, "", index_name="Again", ingest_data=DOCS)
    start, embedded = len(weaviate.requests), len(models.requests)
    await _rows(weaviate, models, "", index_name="Again", ingest_data=[*DOCS, {"text": "Birds sing at dawn", "kind": "bird"}])
    batch = [r.body for r in weaviate.requests[start:] if r.path == "/v1/batch/objects"]
    assert [[o["properties"]["text"] for o in b["objects"]] for b in batch] == [["Birds sing at dawn"]]
    inputs = [r.body.get("input") for r in models.requests[embedded:] if r.path.endswith("/embeddings")]
    assert inputs == [["Birds sing at dawn"]]
    assert len(weaviate.objects("Again")) == 3
