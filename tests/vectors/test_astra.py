"""Astra DB beyond the store contract: server-side embeddings (vectorize), the template
generations real exports carry (1.0's AstraVectorStoreComponent / AstraDBSearch fields, 1.1's
embedding_choice, 1.13's embedding_model), LangChain's document shape, collection creation,
the deletion field, the Data API's error answers, and the collection options read once per warm
container."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from flowless_engine.errors import BlockedURLError, ConfigurationError, ProviderError
from flowless_engine.settings import EngineSettings
from flowless_engine.vectors import astra as astra_module
from tests.support.astra_server import AstraServer
from tests.support.engine_kit import component_node, edge, flow, run
from tests.support.model_server import ModelServer, embed

TOKEN = "AstraCS:test-token"
SETTINGS = EngineSettings(allow_loopback=True, http_retries=0)
VARIABLES = {"ASTRA_DB_APPLICATION_TOKEN": TOKEN, "OPENAI_API_KEY": "sk-test"}
DOCS = [
    {"text": "Refunds are paid within fourteen days", "source": "refunds.md"},
    {"text": "Parrots can talk and mimic many sounds", "source": "birds.md"},
    {"text": "The office opens at nine in the morning", "source": "office.md"},
]


@pytest.fixture
def astra() -> Iterator[AstraServer]:
    astra_module._options_cache.clear()
    with AstraServer(tokens=(TOKEN, "AstraCS:other")) as server:
        yield server


@pytest.fixture(scope="module")
def models() -> Iterator[ModelServer]:
    with ModelServer() as server:
        yield server


def astra_flow(astra: AstraServer, models: ModelServer | None, *, type_name: str = "AstraDB", query_field: str = "search_query",
               embedding_field: str = "embedding_model", **fields: Any) -> dict[str, Any]:
    values = {"api_endpoint": astra.api_endpoint, "collection_name": "docs", "database_name": "db", "ingest_data": DOCS, **fields}
    nodes = [component_node("ChatInput-1", "ChatInput"), component_node("Astra-1", type_name, **values)]
    edges = [edge("ChatInput-1", "message", "Astra-1", query_field)]
    if models is not None:
        nodes.append(component_node("OpenAIEmbeddings-1", "OpenAIEmbeddings", openai_api_base=models.base_url))
        edges.append(edge("OpenAIEmbeddings-1", "embeddings", "Astra-1", embedding_field, output_types=("Embeddings",), input_types=("Embeddings",)))
    return flow(nodes, edges)


async def results(exported: dict[str, Any], query: str, variables: dict[str, str] | None = None, **kwargs: Any) -> list[dict[str, Any]]:
    ran = await run(exported, query, variables={**VARIABLES, **(variables or {})}, settings=kwargs.pop("settings", SETTINGS), **kwargs)
    return [d.data for d in ran.vertex("Astra-1").values["search_results"]]


async def test_documents_are_stored_in_langchains_shape(astra: AstraServer, models: ModelServer) -> None:
    await results(astra_flow(astra, models), "")
    options = astra.collection("docs")["options"]["vector"]
    assert options == {"metric": "cosine", "dimension": 64}  # created with the embedding model's dimension
    stored = {d["content"]: d for d in astra.documents("docs")}
    refund = stored["Refunds are paid within fourteen days"]
    assert set(refund) == {"_id", "content", "metadata", "$vector"}
    assert refund["metadata"] == {"source": "refunds.md"} and len(refund["$vector"]) == 64
    find = [r.body["find"] for r in astra.requests if "find" in (r.body or {})]
    assert find == []  # no query: no search
    assert all(r.headers["token"] == TOKEN for r in astra.requests)


async def test_a_collection_langflow_filled_is_searched(astra: AstraServer, models: ModelServer) -> None:
    astra.data["default_keyspace"]["docs"] = {"options": {"vector": {"dimension": 64, "metric": "cosine"}}, "documents": {
        "a": {"_id": "a", "content": "Cats purr when they are happy", "metadata": {"source": "cats.md", "page": 2}, "$vector": embed("Cats purr when they are happy")},
        "b": {"_id": "b", "content": "Dogs wag their tails", "metadata": {"source": "dogs.md"}, "$vector": embed("Dogs wag their tails")},
    }}
    rows = await results(astra_flow(astra, models, ingest_data="", number_of_results=1), "why do cats purr")
    assert rows == [{"source": "cats.md", "page": 2, "text": "Cats purr when they are happy", "_score": pytest.approx(rows[0]["_score"])}]
    assert 0.5 < rows[0]["_score"] <= 1.0  # the Data API's (1 + cosine) / 2
    (find,) = [r.body["find"] for r in astra.requests if "find" in (r.body or {})]
    assert find["options"] == {"limit": 1, "includeSimilarity": True} and len(find["sort"]["$vector"]) == 64


async def test_vectorize_collections_embed_on_the_server(astra: AstraServer) -> None:
    astra.data["default_keyspace"]["docs"] = {"options": {"vector": {"dimension": 1024, "metric": "cosine",
                                                                     "service": {"provider": "nvidia", "modelName": "NV-Embed-QA"}}}, "documents": {}}
    rows = await results(astra_flow(astra, None, number_of_results=1), "can parrots talk")  # no embedding model wired
    assert rows[0]["text"] == "Parrots can talk and mimic many sounds" and rows[0]["source"] == "birds.md"
    stored = astra.documents("docs")
    assert {d["$vectorize"] for d in stored} == {d["text"] for d in DOCS} and all("content" not in d for d in stored)
    (find,) = [r.body["find"] for r in astra.requests if "find" in (r.body or {})]
    assert find["sort"] == {"$vectorize": "can parrots talk"}
    mmr = await results(astra_flow(astra, None, ingest_data="", search_type="MMR (Max Marginal Relevance)",
                                         number_of_results=2), "parrots")
    assert len(mmr) == 2
    last_find = [r.body["find"] for r in astra.requests if "find" in (r.body or {})][-1]
    assert last_find["options"]["includeSortVector"] is True and last_find["options"]["limit"] == 8


async def test_older_exports_astra_vectorize_creates_the_collection(astra: AstraServer) -> None:
    rows = await results(astra_flow(astra, None, embedding_choice="Astra Vectorize", embedding_provider="Nvidia", model="NV-Embed-QA",
                                    z_02_api_key_name="", number_of_results=1), "office hours")
    assert astra.collection("docs")["options"]["vector"]["service"] == {"provider": "nvidia", "modelName": "NV-Embed-QA"}
    assert rows[0]["text"] == "The office opens at nine in the morning"


async def test_the_1_0_template_fields(astra: AstraServer, models: ModelServer) -> None:
    """AstraVectorStoreComponent (1.0): `search_input`, `search_filter`, `embedding`, `namespace`,
    and the endpoint held in a tenant variable (load_from_db)."""
    astra.data["team"] = {}
    exported = astra_flow(astra, models, type_name="AstraVectorStoreComponent", query_field="search_input", embedding_field="embedding",
                          search_input="", embedding="",
                          namespace="team", api_endpoint="ASTRA_API_ENDPOINT", search_filter={"source": "birds.md"}, metric="dot_product")
    exported["data"]["nodes"][1]["data"]["node"]["template"]["api_endpoint"]["load_from_db"] = True
    rows = await results(exported, "what can talk", {"ASTRA_API_ENDPOINT": astra.api_endpoint})
    assert [r["source"] for r in rows] == ["birds.md"]
    assert astra.collection("docs", "team")["options"]["vector"]["metric"] == "dot_product"
    (find,) = [r.body["find"] for r in astra.requests if "find" in (r.body or {})]
    assert find["filter"] == {"metadata.source": "birds.md"}


async def test_the_1_13_embedding_model_field(astra: AstraServer, models: ModelServer) -> None:
    exported = astra_flow(astra, None, embedding_model=[{"name": "text-embedding-3-small", "provider": "OpenAI"}],
                          api_key="sk-node-key", number_of_results=1)
    rows = await results(exported, "refunds", {"OPENAI_BASE_URL": models.base_url})
    assert rows[0]["source"] == "refunds.md"
    assert models.requests[-1].headers["authorization"] == "Bearer sk-node-key"


async def test_deletion_field_replaces_a_sources_documents(astra: AstraServer, models: ModelServer) -> None:
    await results(astra_flow(astra, models), "")
    await results(astra_flow(astra, models, ingest_data=[{"text": "Refunds now take five days", "source": "refunds.md"}],
                             deletion_field="source"), "")
    texts = sorted(d["content"] for d in astra.documents("docs"))
    assert texts == ["Parrots can talk and mimic many sounds", "Refunds now take five days", "The office opens at nine in the morning"]


async def test_large_ingestions_go_in_batches(astra: AstraServer, models: ModelServer) -> None:
    many = [{"text": f"Document number {n}", "n": n} for n in range(45)]
    await results(astra_flow(astra, models, ingest_data=many), "")
    inserts = [len(r.body["insertMany"]["documents"]) for r in astra.requests if "insertMany" in (r.body or {})]
    assert inserts == [20, 20, 5] and len(astra.documents("docs")) == 45


async def test_collection_options_are_read_once_per_warm_container(astra: AstraServer, models: ModelServer) -> None:
    await results(astra_flow(astra, models), "refunds")
    await results(astra_flow(astra, models, ingest_data=""), "refunds")
    assert astra.commands().count("findCollections") == 1
    # Another token (another tenant's credentials) is never served from that cache.
    await results(astra_flow(astra, models, ingest_data=""), "refunds", {"ASTRA_DB_APPLICATION_TOKEN": "AstraCS:other"})
    assert astra.commands().count("findCollections") == 2


async def test_searching_a_collection_that_does_not_exist_finds_nothing(astra: AstraServer, models: ModelServer) -> None:
    assert await results(astra_flow(astra, models, ingest_data=""), "refunds") == []
    assert "find" not in astra.commands()


async def test_data_api_errors_name_astra_db(astra: AstraServer, models: ModelServer) -> None:
    astra.data["default_keyspace"]["docs"] = {"options": {"vector": {"dimension": 8, "metric": "cosine"}}, "documents": {}}
    with pytest.raises(ProviderError) as caught:
        await results(astra_flow(astra, models), "refunds")  # 64-dimensional vectors into an 8-dimensional collection
    assert caught.value.provider == "Astra DB"
    assert "VECTOR_SIZE_MISMATCH" in caught.value.message and "inserting documents into collection 'docs'" in caught.value.message
    with pytest.raises(ProviderError) as caught:
        await results(astra_flow(astra, models), "refunds", {"ASTRA_DB_APPLICATION_TOKEN": "AstraCS:wrong"})
    assert caught.value.status == 401 and "Astra DB" in caught.value.message and "AstraCS:wrong" not in caught.value.message


async def test_missing_connection_fields_are_configuration_errors(astra: AstraServer, models: ModelServer) -> None:
    with pytest.raises(ConfigurationError, match="API endpoint"):
        await results(astra_flow(astra, models, api_endpoint=""), "x")
    with pytest.raises(ConfigurationError, match="needs an embedding model"):
        await results(astra_flow(astra, None), "x")


async def test_the_endpoint_goes_through_the_network_guard(astra: AstraServer, models: ModelServer) -> None:
    with pytest.raises(BlockedURLError, match="metadata"):
        await results(astra_flow(astra, models, api_endpoint="http://169.254.169.254"), "x",
                      settings=EngineSettings(allow_loopback=True, allow_private_networks=True))
    assert astra.requests == []


async def test_a_database_name_written_as_an_endpoint(astra: AstraServer, models: ModelServer) -> None:
    rows = await results(astra_flow(astra, models, api_endpoint="", database_name=astra.api_endpoint + "/api/json/v1"), "parrots")
    assert rows[0]["source"] == "birds.md"


# ---- Astra DB Tool ---------------------------------------------------------------------------------

PRODUCTS = {
    "p1": {"_id": "p1", "productName": "Kettle", "price": 30, "metadata": {"colour": "red", "added": {"$date": 1_700_000_000_000}}},
    "p2": {"_id": "p2", "productName": "Toaster", "price": 45, "metadata": {"colour": "blue"}},
    "p3": {"_id": "p3", "productName": "Lamp", "price": 12, "metadata": {"colour": "red"}},
}


def tool_flow(astra: AstraServer, **fields: Any) -> dict[str, Any]:
    from tests.support.engine_kit import chat_flow

    values = {"api_endpoint": astra.api_endpoint, "collection_name": "products", "database_name": "db", "tool_name": "DatabaseLookupTool",
              "tool_description": "Look products up by name", **fields}
    return chat_flow(
        component_node("AstraTool-1", "AstraDBToolComponent", **values),
        component_node("Agent-1", "Agent"),
        edges=[edge("ChatInput-1", "message", "Agent-1", "input_value"),
               edge("AstraTool-1", "api_build_tool", "Agent-1", "tools", output_types=("Tool",), input_types=("Tool",)),
               edge("Agent-1", "response", "ChatOutput-1", "input_value")],
    )


def with_products(astra: AstraServer, service: dict[str, Any] | None = None) -> None:
    from copy import deepcopy

    vector = {"dimension": 1024, "metric": "cosine", **({"service": service} if service else {})} if service else None
    documents = deepcopy(PRODUCTS)
    if service:
        for doc in documents.values():
            doc["$vectorize"] = f"A {doc['productName'].lower()} for the kitchen" if doc["_id"] != "p3" else "A lamp for reading"
            doc["$vector"] = embed(doc["$vectorize"], 1024)
    astra.data["default_keyspace"]["products"] = {"options": {"vector": vector} if vector else {}, "documents": documents}


async def agent_asks(exported: dict[str, Any], *calls: dict[str, Any]) -> list[Any]:
    from tests.support.engine_kit import FakeChatModel, tool_call

    model = FakeChatModel([*(tool_call("DatabaseLookupTool", c, f"call_{n}") for n, c in enumerate(calls)), "done"])
    await run(exported, "question", model=model, variables=VARIABLES, settings=SETTINGS)
    import json

    return [json.loads(m.content) for call in model.calls for m in call["messages"] if m.role == "tool"][-len(calls):]


async def test_astra_tool_with_the_older_tool_params(astra: AstraServer) -> None:
    with_products(astra)
    exported = tool_flow(astra, tool_params=[{"!productName": "The product's name"}])
    (found,) = await agent_asks(exported, {"productName": "Toaster"})
    assert found == [{"_id": "p2", "productName": "Toaster", "price": 45, "metadata": {"colour": "blue"}}]
    (find,) = [r.body["find"] for r in astra.requests if "find" in (r.body or {})]
    assert find["filter"] == {"productName": {"$eq": "Toaster"}} and find["options"]["limit"] == 5


async def test_astra_tool_parameters_v2_static_filters_and_projection(astra: AstraServer) -> None:
    with_products(astra)
    params = [{"name": "colours", "attribute_name": "colour", "description": "Colours, comma separated", "metadata": "True",
               "mandatory": "False", "is_timestamp": "False", "operator": "$in"},
              {"name": "since", "attribute_name": "added", "description": "Added since", "metadata": True, "mandatory": False,
               "is_timestamp": True, "operator": "$gte"}]
    exported = tool_flow(astra, tools_params_v2=params, static_filters={"price": {"$lt": 40}}, projection_attributes="productName,!_id")
    first, second = await agent_asks(exported, {"colours": "red,green"}, {"since": "2023-01-01"})
    assert first == [{"productName": "Kettle"}, {"productName": "Lamp"}]
    finds = [r.body["find"] for r in astra.requests if "find" in (r.body or {})]
    assert finds[0]["filter"] == {"price": {"$lt": 40}, "metadata.colour": {"$in": ["red", "green"]}}
    assert finds[0]["projection"] == {"$vector": False, "productName": True, "_id": False}
    assert finds[1]["filter"]["metadata.added"] == {"$gte": {"$date": 1672531200000}}


async def test_astra_tool_semantic_search_with_vectorize(astra: AstraServer) -> None:
    with_products(astra, {"provider": "nvidia", "modelName": "NV-Embed-QA"})
    exported = tool_flow(astra, tool_params={}, use_search_query=True, use_vectorize=True, number_of_results=1)
    (found,) = await agent_asks(exported, {"search_query": "something for reading"})
    assert [d["productName"] for d in found] == ["Lamp"]
    find = [r.body["find"] for r in astra.requests if "find" in (r.body or {})][0]
    assert find["sort"] == {"$vectorize": "something for reading"}


async def test_astra_tool_schema_marks_mandatory_parameters(astra: AstraServer) -> None:
    from flowless_engine.components.datastax import AstraDBToolComponent

    exported = tool_flow(astra, tool_params=[{"!post_type": "Type of post"}, {"author": ""}], use_search_query=True)
    from flowless_engine.graph.loader import load_graph
    from flowless_engine.runtime.context import RunContext

    graph = load_graph(exported)
    vertex = graph.vertices["AstraTool-1"]
    component = AstraDBToolComponent(vertex, {n: f.get("value") for n, f in vertex.fields.items()}, RunContext(flow_id="f", session_id="s"))
    assert component.schema() == {"type": "object", "required": ["post_type", "search_query"], "properties": {
        "post_type": {"type": "string", "description": "Type of post"},
        "author": {"type": "string", "description": "author"},
        "search_query": {"type": "string", "description": "Search query to find relevant documents."}}}


# ---- Hybrid search (1.13's Hybrid Search RAG starter) ------------------------------------------------

HYBRID = {
    "vector": {"dimension": 1024, "metric": "cosine", "service": {"provider": "nvidia", "modelName": "NV-Embed-QA"}},
    "lexical": {"enabled": True, "analyzer": "standard"},
    "rerank": {"enabled": True, "service": {"provider": "nvidia", "modelName": "nvidia/llama-3.2-nv-rerankqa-1b-v2"}},
}


async def test_hybrid_search_collections_store_lexical_text_and_find_and_rerank(astra: AstraServer) -> None:
    astra.data["default_keyspace"]["docs"] = {"options": HYBRID, "documents": {}}
    rows = await results(astra_flow(astra, None, search_method="Hybrid Search", lexical_terms="parrots sounds"), "which animal can talk")
    stored = astra.documents("docs")
    assert all(d["$lexical"] == d["$vectorize"] for d in stored) and len(stored) == 3
    (rerank,) = [r.body["findAndRerank"] for r in astra.requests if "findAndRerank" in (r.body or {})]
    assert rerank["sort"] == {"$hybrid": {"$vectorize": "which animal can talk", "$lexical": "parrots sounds"}}
    assert rerank["options"]["includeScores"] is True and rerank["options"]["limit"] == 4
    assert rows[0]["text"] == "Parrots can talk and mimic many sounds" and rows[0]["_score"] > rows[-1]["_score"]


async def test_hybrid_search_on_a_plain_collection_is_a_vector_search(astra: AstraServer, models: ModelServer) -> None:
    rows = await results(astra_flow(astra, models, search_method="Hybrid Search", number_of_results=1), "parrots")
    assert rows[0]["source"] == "birds.md"
    assert "findAndRerank" not in astra.commands() and "find" in astra.commands()


def test_the_hybrid_search_rag_starter(astra: AstraServer, models: ModelServer, tmp_path: Any) -> None:
    """Langflow 1.13's starter: File → Split Text → Astra DB (ingest); Chat Input → Agent (lexical
    terms) and → Astra DB (hybrid search) → Parser → Chat Output, on a collection the user made
    with Astra's embeddings, lexical index and reranker."""
    from flowless_engine.api import run_flow_from_json
    from tests.support.starters import starter_flow

    astra.data["default_keyspace"]["docs"] = {"options": HYBRID, "documents": {}}
    (tmp_path / "notes.txt").write_text("Parrots can talk and mimic many sounds.\n\nRefunds are paid within fourteen days.", encoding="utf-8")
    connection = {"api_endpoint": astra.api_endpoint, "database_name": "db", "collection_name": "docs", "token": TOKEN}
    tweaks = {"AstraDB-hsri": connection, "AstraDB-AkDya": {**connection, "number_of_results": 1}, "File-hsri": {"path": ["notes.txt"]},
              "SplitText-hsri": {"chunk_size": 50, "chunk_overlap": 0, "separator": "\n\n"}}
    kwargs = {"variables": {**VARIABLES, "OPENAI_BASE_URL": models.base_url}, "settings": SETTINGS, "files_root": tmp_path, "tweaks": tweaks}
    run_flow_from_json(starter_flow("Hybrid Search RAG"), "What can parrots do?", **kwargs)  # ingests (and searches what was there)
    assert {d["$vectorize"] for d in astra.documents("docs")} == {"Parrots can talk and mimic many sounds.", "Refunds are paid within fourteen days."}
    outputs = run_flow_from_json(starter_flow("Hybrid Search RAG"), "What can parrots do?", **kwargs)
    assert outputs[0]["outputs"][0]["results"]["message"]["text"] == "Parrots can talk and mimic many sounds."
    rerank = [r.body["findAndRerank"] for r in astra.requests if "findAndRerank" in (r.body or {})][-1]
    assert rerank["sort"]["$hybrid"]["$lexical"].startswith("Echo:")  # the Agent's keywords


# ---- Astra DB Chat Memory -------------------------------------------------------------------------


async def test_astra_chat_memory_with_message_store_and_history(astra: AstraServer) -> None:
    """Message Store writes into the Astra collection (LangChain's chat-history documents); Message
    History reads the session back from it, a message Langflow stored included."""
    import json as jsonlib
    import time

    from tests.support.engine_kit import chat_flow

    astra.data["default_keyspace"]["chat"] = {"options": {}, "documents": {"old": {
        "_id": "old", "session_id": "s1", "timestamp": time.time() - 60,
        "body_blob": jsonlib.dumps({"type": "human", "data": {"content": "Hello from Langflow", "type": "human"}})}}}
    memory_node = component_node("AstraMem-1", "AstraDBChatMemory", api_endpoint=astra.api_endpoint, collection_name="chat", database_name="db")
    store = chat_flow(
        memory_node, component_node("StoreMessage-1", "StoreMessage"),
        edges=[edge("ChatInput-1", "message", "StoreMessage-1", "message"),
               edge("AstraMem-1", "memory", "StoreMessage-1", "memory", output_types=("Memory",), input_types=("Memory",)),
               edge("StoreMessage-1", "stored_messages", "ChatOutput-1", "input_value")])
    await run(store, "remember the milk", variables=VARIABLES, settings=SETTINGS, session_id="s1")
    stored = [d for d in astra.documents("chat") if d["_id"] != "old"]
    assert [(d["session_id"], jsonlib.loads(d["body_blob"])["data"]["content"], jsonlib.loads(d["body_blob"])["type"]) for d in stored] == \
        [("s1", "remember the milk", "human")]
    history = chat_flow(
        memory_node, component_node("Memory-1", "Memory", n_messages=10),
        edges=[edge("AstraMem-1", "memory", "Memory-1", "memory", output_types=("Memory",), input_types=("Memory",)),
               edge("Memory-1", "messages_text", "ChatOutput-1", "input_value")])
    ran = await run(history, "what did I say?", variables=VARIABLES, settings=SETTINGS, session_id="s1")
    assert ran.text() == "User: Hello from Langflow\nUser: remember the milk"


async def test_a_1_2_vectorize_node_uses_the_existing_collection_or_says_why_not(astra: AstraServer, models: ModelServer) -> None:
    """1.1–1.2 nodes choose "Astra Vectorize" without provider fields (the collection was made in
    Astra's dialog): an existing vectorize collection serves them; a missing one is a clear error."""
    exported = astra_flow(astra, models, embedding_choice="Astra Vectorize", number_of_results=1)
    with pytest.raises(ConfigurationError, match="collection 'docs' does not exist and the node names no vectorize provider"):
        await results(exported, "office hours")
    astra.data["default_keyspace"]["docs"] = {"options": {"vector": {"dimension": 1024, "metric": "cosine",
                                                                     "service": {"provider": "nvidia", "modelName": "NV-Embed-QA"}}}, "documents": {}}
    rows = await results(exported, "office hours")
    assert rows[0]["text"] == "The office opens at nine in the morning"
