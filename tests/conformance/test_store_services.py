"""The conformance kit's services for Weaviate, Cassandra (Astra), the Astra DB CQL tool and Data API, Mem0 and Zep: a flow as an
export leaves these nodes (no server, no credentials) runs end to end once the kit points them
at its local servers (Cassandra contact points: the local CQL server)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conformance.runner import Kit, check_flow
from tests.support.engine_kit import chat_flow, component_node, edge

MEMORY_EDGE = {"output_types": ("Memory",), "input_types": ("Memory",)}
EMBEDDINGS = {"output_types": ("Embeddings",), "input_types": ("Embeddings",)}


@pytest.fixture(scope="module")
def kit() -> Iterator[Kit]:
    from concurrent.futures import ThreadPoolExecutor

    kit = Kit()
    yield kit
    with ThreadPoolExecutor(8) as pool:  # each server's shutdown waits out its poll interval: stop them together
        list(pool.map(lambda service: service.stop(), kit.started.values()))


def _store(type_name: str, **values: Any) -> dict[str, Any]:
    return chat_flow(component_node("Store-1", type_name, ingest_data=[{"text": "Parrots can talk"}], **values),
                     component_node("OpenAIEmbeddings-1", "OpenAIEmbeddings"),
                     edges=[edge("ChatInput-1", "message", "Store-1", "search_query"),
                            edge("OpenAIEmbeddings-1", "embeddings", "Store-1", "embedding", **EMBEDDINGS),
                            edge("Store-1", "dataframe", "ChatOutput-1", "input_value", output_types=("DataFrame",), input_types=("DataFrame",))])


def _memory(type_name: str, **values: Any) -> dict[str, Any]:
    return chat_flow(component_node("Mem-1", type_name, **values), component_node("StoreMessage-1", "StoreMessage"),
                     edges=[edge("ChatInput-1", "message", "StoreMessage-1", "message"),
                            edge("Mem-1", "memory", "StoreMessage-1", "memory", **MEMORY_EDGE),
                            edge("StoreMessage-1", "stored_messages", "ChatOutput-1", "input_value")])


FLOWS = {
    "weaviate": lambda: _store("Weaviate"),
    "cassandra by database id": lambda: _store("Cassandra", database_ref="5d1e0c2b-0000-4000-8000-00000000abcd"),
    "cassandra chat memory": lambda: _memory("CassandraChatMemory"),
    "zep": lambda: _memory("ZepChatMemory"),
    "astra db data api": lambda: chat_flow(
        component_node("DataAPI-1", "AstraDBDataAPI", operation="Count Documents"),
        edges=[edge("DataAPI-1", "data", "ChatOutput-1", "input_value", output_types=("Data",), input_types=("Data",))]),
    "astra db cql tool": lambda: chat_flow(
        component_node("CQL-1", "AstraDBCQLToolComponent", tool_name="t", tool_description="d", collection_name="orders"),
        edges=[edge("CQL-1", "api_run_model", "ChatOutput-1", "input_value", output_types=("Data",), input_types=("Data",))]),
    "mem0": lambda: chat_flow(component_node("Mem0-1", "mem0_chat_memory", user_id="u1"),
                              edges=[edge("ChatInput-1", "message", "Mem0-1", "ingest_message"),
                                     edge("Mem0-1", "search_results", "ChatOutput-1", "input_value", output_types=("Data",), input_types=("Data",))]),
}


@pytest.mark.parametrize("name", sorted(FLOWS))
def test_the_kit_runs_the_node(kit: Kit, name: str) -> None:
    outcome = check_flow(FLOWS[name](), kit, 20)
    assert outcome.line() == "runs"


def test_cassandra_contact_points_run_over_cql(kit: Kit) -> None:
    for exported in (_store("Cassandra", database_ref="10.0.0.5", keyspace="docs"), _memory("CassandraChatMemory", database_ref="cassandra.internal")):
        assert check_flow(exported, kit, 20).line() == "runs"
    cql = kit.started["cassandra"].cql
    assert any(s.startswith("SELECT") and "ANN OF ?" in s for s, _ in cql.queries)
