"""Cassandra and Cassandra Chat Memory beyond the store contract: the database ID resolved through
Astra's DevOps API, the tables made in cassio's layout, a table Langflow filled read back, body
search, the chat history in cassio's layout shared with Message History / Message Store, and the
refusals (TTL) as configuration errors naming what is missing. Contact points (CQL): test_cassandra_cql.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from flowless_engine.errors import ConfigurationError, ProviderError
from flowless_engine.settings import EngineSettings
from tests.support.astra_tables_server import AstraTablesServer
from tests.support.engine_kit import chat_flow, component_node, edge, flow, run
from tests.support.model_server import ModelServer, embed

SETTINGS = EngineSettings(allow_loopback=True, http_retries=0)
TOKEN = "AstraCS:cassandra-token"
DB = "0b7e6c1d-2a3f-4e5d-9c8b-7a6f5e4d3c2b"
VARIABLES = {"OPENAI_API_KEY": "k", "ASTRA_TOKEN": TOKEN}
MEMORY_EDGE = {"output_types": ("Memory",), "input_types": ("Memory",)}


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[AstraTablesServer, ModelServer]]:
    with AstraTablesServer(tokens=(TOKEN,), databases={DB: "eu-west-1"}) as astra, ModelServer() as models:
        yield astra, models


def _node(node_id: str, type_name: str, astra: AstraTablesServer, **values: Any) -> dict[str, Any]:
    node = component_node(node_id, type_name, **{"database_ref": DB, "token": "ASTRA_TOKEN", "keyspace": "default_keyspace", **values})
    node["data"]["node"]["template"]["token"]["load_from_db"] = True
    return node


async def _rows(astra: AstraTablesServer, models: ModelServer, query: str, **values: Any) -> list[dict[str, Any]]:
    exported = flow([component_node("ChatInput-1", "ChatInput"),
                     component_node("OpenAIEmbeddings-1", "OpenAIEmbeddings", openai_api_base=models.base_url),
                     _node("Cassandra-1", "Cassandra", astra, **values)],
                    [edge("ChatInput-1", "message", "Cassandra-1", "search_query"),
                     edge("OpenAIEmbeddings-1", "embeddings", "Cassandra-1", "embedding", output_types=("Embeddings",), input_types=("Embeddings",))])
    ran = await run(exported, query, variables={**VARIABLES, "ASTRA_DEVOPS_API_URL": astra.base_url}, settings=SETTINGS)
    return [d.data for d in ran.vertex("Cassandra-1").values["search_results"]]


async def test_the_database_id_is_resolved_and_the_table_made_in_cassios_layout(servers: tuple[AstraTablesServer, ModelServer]) -> None:
    astra, models = servers
    start = len(astra.requests)
    rows = await _rows(astra, models, "do cats purr", table_name="pets", number_of_results=1,
                       ingest_data=[{"text": "Cats purr", "legs": 4, "wild": False}, {"text": "Snakes hiss", "legs": 0}])
    assert rows == [{"legs": "4.0", "wild": "false", "text": "Cats purr", "_score": rows[0]["_score"]}] and rows[0]["_score"] > 0.5
    sent = astra.requests[start:]
    devops = sent[0]
    assert (devops.method, devops.path, devops.headers["authorization"]) == ("GET", f"/v2/databases/{DB}", f"Bearer {TOKEN}")
    create = next(r.body["createTable"] for r in sent if isinstance(r.body, dict) and "createTable" in r.body)
    assert create["definition"] == {"columns": {"row_id": {"type": "text"}, "body_blob": {"type": "text"},
                                                "vector": {"type": "vector", "dimension": 64},
                                                "metadata_s": {"type": "map", "keyType": "text", "valueType": "text"},
                                                "attributes_blob": {"type": "text"}}, "primaryKey": "row_id"}
    assert {i["definition"]["column"] if isinstance(i["definition"]["column"], str) else "metadata_s:entries"
            for i in astra.tables["default_keyspace"]["pets"]["indexes"].values()} == {"vector", "metadata_s:entries"}
    assert all(r.headers.get("token") == TOKEN for r in sent[1:])
    await _rows(astra, models, "snakes", table_name="pets")
    assert [r.path for r in astra.requests[start:]].count(f"/v2/databases/{DB}") == 1  # the endpoint is kept per warm container


async def test_a_table_langflow_filled_and_a_filter_on_its_metadata(servers: tuple[AstraTablesServer, ModelServer]) -> None:
    astra, models = servers
    astra._createTable("default_keyspace", {"name": "lc_docs", "definition": {"columns": {
        "row_id": {"type": "text"}, "body_blob": {"type": "text"}, "vector": {"type": "vector", "dimension": 64},
        "metadata_s": {"type": "map", "keyType": "text", "valueType": "text"}, "attributes_blob": {"type": "text"}}, "primaryKey": "row_id"}})
    table = astra.tables["default_keyspace"]["lc_docs"]
    table["indexes"] = {"idx_vector_lc_docs": {"command": "createVectorIndex", "column": "vector", "definition": {"column": "vector"}},
                        "eidx_metadata_s_lc_docs": {"command": "createIndex", "column": "metadata_s", "definition": {}}}
    for i, (text, source) in enumerate([("Invoices go out monthly", "billing.md"), ("Invoices are paid by card", "cards.md")]):
        table["rows"][(f"r{i}",)] = {"row_id": f"r{i}", "body_blob": text, "vector": embed(text), "metadata_s": {"source": source},
                                     "attributes_blob": json.dumps({"page": i + 1})}
    rows = await _rows(astra, models, "invoices", table_name="lc_docs", search_filter={"source": "cards.md"})
    assert [(r["text"], r["source"], r["page"]) for r in rows] == [("Invoices are paid by card", "cards.md", 2)]
    find = next(r.body["find"] for r in reversed(astra.requests) if isinstance(r.body, dict) and "find" in r.body)
    assert find["filter"] == {"metadata_s": {"$all": [["source", "cards.md"]]}}


async def test_body_search_needs_the_text_index_made_with_the_table(servers: tuple[AstraTablesServer, ModelServer]) -> None:
    astra, models = servers
    docs = [{"text": "Refunds take fourteen days"}, {"text": "Refund requests need a receipt"}]
    rows = await _rows(astra, models, "refund", table_name="faq", enable_body_search=True, ingest_data=docs, body_search="receipt")
    assert [r["text"] for r in rows] == ["Refund requests need a receipt"]
    with pytest.raises(ConfigurationError, match="enable body search"):
        await _rows(astra, models, "refund", table_name="faq", body_search="receipt")


async def test_what_the_data_api_cannot_do_is_a_configuration_error(servers: tuple[AstraTablesServer, ModelServer]) -> None:
    astra, models = servers
    with pytest.raises(ConfigurationError, match="time-to-live"):
        await _rows(astra, models, "x", table_name="t", ttl_seconds=60, ingest_data=[{"text": "a"}])
    with pytest.raises(ProviderError, match=r"Cassandra \(Astra DB\) failed while looking up Astra database .* \(HTTP 404\)"):
        await _rows(astra, models, "x", database_ref="9e0a6c1d-2a3f-4e5d-9c8b-7a6f5e4d3c2b", table_name="t")


async def test_the_api_endpoint_may_be_named_instead_of_the_id(servers: tuple[AstraTablesServer, ModelServer]) -> None:
    astra, models = servers
    start = len(astra.requests)
    rows = await _rows(astra, models, "parrots", database_ref=astra.base_url, table_name="birds", ingest_data=[{"text": "Parrots talk"}])
    assert rows[0]["text"] == "Parrots talk"
    assert not any(r.path.startswith("/v2/databases") for r in astra.requests[start:])


async def test_cassandra_chat_memory_keeps_cassios_chat_table(servers: tuple[AstraTablesServer, ModelServer]) -> None:
    astra, _ = servers
    memory = _node("CassMem-1", "CassandraChatMemory", astra, table_name="chat_history")
    store = chat_flow(memory, component_node("StoreMessage-1", "StoreMessage"),
                      edges=[edge("ChatInput-1", "message", "StoreMessage-1", "message"),
                             edge("CassMem-1", "memory", "StoreMessage-1", "memory", **MEMORY_EDGE),
                             edge("StoreMessage-1", "stored_messages", "ChatOutput-1", "input_value")])
    variables = {**VARIABLES, "ASTRA_DEVOPS_API_URL": astra.base_url}
    for text in ("remember the milk", "and the eggs"):
        await run(store, text, variables=variables, settings=SETTINGS, session_id="s1")
    for i in range(22):  # a long history of another session: read page after page (20 rows a page)
        await run(store, f"note {i}", variables=variables, settings=SETTINGS, session_id="s-long")
    table = astra.tables["default_keyspace"]["chat_history"]
    assert table["primaryKey"] == {"partitionBy": ["partition_id"], "partitionSort": {"row_id": -1}}
    assert table["columns"]["row_id"] == {"type": "timeuuid"}
    stored = [r for r in astra.rows("chat_history") if r["partition_id"] == "s1"]
    assert {json.loads(r["body_blob"])["data"]["content"] for r in stored} == {"remember the milk", "and the eggs"}
    assert {json.loads(r["body_blob"])["type"] for r in stored} == {"human"}
    recall = chat_flow(memory, component_node("Memory-1", "Memory", n_messages=10),
                       edges=[edge("CassMem-1", "memory", "Memory-1", "memory", **MEMORY_EDGE),
                              edge("Memory-1", "messages_text", "ChatOutput-1", "input_value")])
    ran = await run(recall, "what did I say?", variables=variables, settings=SETTINGS, session_id="s1")
    assert ran.text() == "User: remember the milk\nUser: and the eggs"
    other = await run(recall, "here?", variables=variables, settings=SETTINGS, session_id="s2")
    assert other.text() == ""
    recall_all = chat_flow(memory, component_node("Memory-1", "Memory", n_messages=100),
                           edges=[edge("CassMem-1", "memory", "Memory-1", "memory", **MEMORY_EDGE),
                                  edge("Memory-1", "messages_text", "ChatOutput-1", "input_value")])
    long = await run(recall_all, "and?", variables=variables, settings=SETTINGS, session_id="s-long")
    assert long.text().splitlines() == [f"User: note {i}" for i in range(22)]


async def test_the_astra_cql_tool_reads_a_table_through_the_rest_api(servers: tuple[AstraTablesServer, ModelServer]) -> None:
    from tests.support.engine_kit import FakeChatModel, tool_call

    astra, _ = servers
    astra._createTable("default_keyspace", {"name": "orders", "definition": {"columns": {
        "customer": {"type": "text"}, "order_id": {"type": "int"}, "status": {"type": "text"}, "placed": {"type": "text"}},
        "primaryKey": {"partitionBy": ["customer"], "partitionSort": {"order_id": 1}}}})
    rows = astra.tables["default_keyspace"]["orders"]["rows"]
    for customer, order_id, status, placed in (("ann", 1, "shipped", "2026-01-02T00:00:00.000Z"), ("ann", 2, "open", "2026-02-01T00:00:00.000Z"),
                                               ("bob", 3, "open", "2026-02-03T00:00:00.000Z")):
        rows[(customer, str(order_id))] = {"customer": customer, "order_id": order_id, "status": status, "placed": placed}
    tool = component_node("CQL-1", "AstraDBCQLToolComponent", api_endpoint=astra.base_url, token="ASTRA_TOKEN", collection_name="orders", database_name="db",
                          tool_name="orders", tool_description="Orders of a customer", projection_fields="order_id, status",
                          static_filters={"status": "open"}, tools_params=[
                              {"name": "customer", "field_name": "", "description": "The customer", "mandatory": True, "is_timestamp": False,
                               "operator": "$eq"},
                              {"name": "since", "field_name": "placed", "description": "Orders since", "mandatory": False,
                               "is_timestamp": True, "operator": "$gte"},
                              {"name": "status", "field_name": "", "description": "Status", "mandatory": False, "is_timestamp": False,
                               "operator": "$eq"}])
    tool["data"]["node"]["template"]["token"]["load_from_db"] = True
    agent_model = FakeChatModel([tool_call("orders", {"customer": "ann", "since": "2026-01-15"}), "Ann has order 2 open."])
    exported = chat_flow(tool, component_node("Agent-1", "Agent"),
                         edges=[edge("ChatInput-1", "message", "Agent-1", "input_value"),
                                edge("CQL-1", "api_build_tool", "Agent-1", "tools", output_types=("Tool",), input_types=("Tool",)),
                                edge("Agent-1", "response", "ChatOutput-1", "input_value")])
    ran = await run(exported, "what does ann have open?", model=agent_model, variables=VARIABLES, settings=SETTINGS)
    assert ran.text() == "Ann has order 2 open."
    offered = agent_model.calls[0]["tools"][0]
    assert offered.name == "orders" and set(offered.parameters["properties"]) == {"customer", "since"}  # status is static
    assert offered.parameters["required"] == ["customer"]
    request = next(r for r in reversed(astra.requests) if r.path.startswith("/api/rest/v2/"))
    assert request.path == "/api/rest/v2/keyspaces/default_keyspace/orders/" and request.headers["x-cassandra-token"] == TOKEN
    assert json.loads(request.query["where"][0]) == {"customer": {"$eq": "ann"}, "placed": {"$gte": "2026-01-15T00:00:00.000Z"},
                                                     "status": {"$eq": "open"}}
    assert request.query["fields"] == ["order_id,status"] and request.query["page-size"] == ["5"]
    result = next(m for m in agent_model.calls[1]["messages"] if m.role == "tool")
    assert json.loads(result.content) == [{"order_id": 2, "status": "open"}]
