"""Astra DB Data API (1.13's `AstraDBDataAPI` node) against the local Data API server: every
operation, its three outputs (a write wired to several outputs runs once), the errors
(missing fields, the Data API's own, a count past its bound) and the node as an Agent tool."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from flowless_engine.errors import ConfigurationError, ProviderError
from flowless_engine.settings import EngineSettings
from tests.support.astra_server import AstraServer
from tests.support.engine_kit import FakeChatModel, chat_flow, component_node, edge, flow, run, tool_call

SETTINGS = EngineSettings(allow_loopback=True, http_retries=0)
TOKEN = "AstraCS:data-api"
PEOPLE = [{"_id": "ada", "name": "Ada", "age": 36, "team": "math"}, {"_id": "alan", "name": "Alan", "age": 41, "team": "math"},
          {"_id": "grace", "name": "Grace", "age": 85, "team": "navy"}]


@pytest.fixture(scope="module")
def astra() -> Iterator[AstraServer]:
    with AstraServer(tokens=(TOKEN,)) as server:
        server.data["default_keyspace"]["people"] = {"options": {}, "documents": {}}
        yield server


def _node(astra: AstraServer, **values: Any) -> dict[str, Any]:
    node = component_node("Data-1", "AstraDBDataAPI", api_endpoint=astra.api_endpoint, database_name="db", collection_name="people",
                          token="ASTRA_TOKEN", **values)
    node["data"]["node"]["template"]["token"]["load_from_db"] = True
    return node


async def _run(astra: AstraServer, **values: Any) -> dict[str, Any]:
    nodes = [_node(astra, **values), *(component_node(f"Out-{o}", "ChatOutput") for o in ("data", "dataframe", "raw"))]
    edges = [edge("Data-1", o, f"Out-{o}", "input_value", output_types=(t,), input_types=(t,))
             for o, t in (("data", "Data"), ("dataframe", "DataFrame"), ("raw", "Data"))]
    ran = await run(flow(nodes, edges), variables={"ASTRA_TOKEN": TOKEN}, settings=SETTINGS)
    return ran.vertex("Data-1").values


async def test_every_operation(astra: AstraServer) -> None:
    values = await _run(astra, operation="Insert Many", documents=PEOPLE)
    assert values["data"][0].data == {"inserted_ids": ["ada", "alan", "grace"], "inserted_count": 3}
    assert values["raw"].data == values["data"][0].data
    assert [c for c in astra.commands()].count("insertMany") == 1  # data, dataframe and raw: one insert
    found = await _run(astra, operation="Find", filter_query={"team": "math"}, sort={"age": -1}, projection={"name": 1}, limit=1, skip=1)
    assert [d.data for d in found["data"]] == [{"_id": "ada", "name": "Ada"}] and found["dataframe"].rows == [{"_id": "ada", "name": "Ada"}]
    assert found["raw"].data == {"count": 1, "documents": [{"_id": "ada", "name": "Ada"}]}
    one = await _run(astra, operation="Find One", filter_query={"age": {"$gt": 80}})
    assert [d.data["name"] for d in one["data"]] == ["Grace"]
    updated = await _run(astra, operation="Update Many", filter_query={"team": "math"}, update={"$inc": {"age": 1}})
    assert updated["data"][0].data == {"matched_count": 2, "modified_count": 2, "upserted_id": None}
    upserted = await _run(astra, operation="Update One", filter_query={"name": "Linus"}, update={"$set": {"team": "os"}}, upsert=True)
    assert upserted["data"][0].data["matched_count"] == 0 and upserted["data"][0].data["upserted_id"]
    assert (await _run(astra, operation="Count Documents", filter_query={"team": {"$in": ["math", "os"]}}))["data"][0].data == \
        {"count": 3, "upper_bound": 1000}
    assert (await _run(astra, operation="Delete One", filter_query={"name": "Linus"}))["data"][0].data == {"deleted_count": 1}
    assert (await _run(astra, operation="Estimated Count"))["data"][0].data == {"estimated_count": 3}
    inserted = await _run(astra, operation="Insert One", document={"_id": "hedy", "name": "Hedy", "age": 45})
    assert inserted["data"][0].data == {"inserted_id": "hedy"}
    assert (await _run(astra, operation="Delete Many", filter_query={"age": {"$lt": 44}}))["data"][0].data == {"deleted_count": 2}
    assert sorted(d["name"] for d in astra.documents("people")) == ["Grace", "Hedy"]
    assert all(r.headers["token"] == TOKEN for r in astra.requests)


async def test_what_cannot_run_is_named(astra: AstraServer) -> None:
    with pytest.raises(ConfigurationError, match="field 'filter_query' is required"):
        await _run(astra, operation="Delete Many")
    with pytest.raises(ConfigurationError, match="Insert Many requires a non-empty list"):
        await _run(astra, operation="Insert Many", documents=["not a document"])
    with pytest.raises(ProviderError, match=r"Astra DB failed while running Update One on collection 'people': UNSUPPORTED_UPDATE_OPERATION"):
        await _run(astra, operation="Update One", filter_query={"name": "Alan"}, update={"$rename": {"a": "b"}})
    with pytest.raises(ConfigurationError, match="more than 1 documents match"):
        await _run(astra, operation="Count Documents", upper_bound=1)


async def test_the_node_as_an_agent_tool(astra: AstraServer) -> None:
    node = _node(astra)
    node["data"]["node"]["outputs"] = [{"name": "component_as_tool", "method": "to_toolkit", "types": ["Tool"], "selected": "Tool"}]
    model = FakeChatModel([tool_call("run_operation", {"operation": "Find", "filter_query": {"team": "navy"}, "limit": 5}), "Grace is in the navy."])
    exported = chat_flow(node, component_node("Agent-1", "Agent"),
                         edges=[edge("ChatInput-1", "message", "Agent-1", "input_value"),
                                edge("Data-1", "component_as_tool", "Agent-1", "tools", output_types=("Tool",), input_types=("Tool",)),
                                edge("Agent-1", "response", "ChatOutput-1", "input_value")])
    ran = await run(exported, "who is in the navy?", model=model, variables={"ASTRA_TOKEN": TOKEN}, settings=SETTINGS)
    assert ran.text() == "Grace is in the navy."
    assert {"run_operation", "as_dataframe", "raw_result"} <= {t.name for t in model.calls[0]["tools"]}
    result = next(m for m in model.calls[1]["messages"] if m.role == "tool")
    assert '"name": "Grace"' in result.content and "Alan" not in result.content


async def test_every_page_is_read(astra: AstraServer) -> None:
    """The Data API answers a find without a vector sort 20 documents at a time: a long chat
    history and a large Find are read page by page."""
    import json
    import time

    astra.data["default_keyspace"]["history"] = {"options": {}, "documents": {
        f"m{i:02d}": {"_id": f"m{i:02d}", "session_id": "s-long", "timestamp": time.time() - 100 + i,
                      "body_blob": json.dumps({"type": "human", "data": {"content": f"message {i}", "type": "human"}})} for i in range(25)}}
    memory = component_node("AstraMem-1", "AstraDBChatMemory", api_endpoint=astra.api_endpoint, collection_name="history", database_name="db",
                            token="ASTRA_TOKEN")
    memory["data"]["node"]["template"]["token"]["load_from_db"] = True
    recall = chat_flow(memory, component_node("Memory-1", "Memory", n_messages=100),
                       edges=[edge("AstraMem-1", "memory", "Memory-1", "memory", output_types=("Memory",), input_types=("Memory",)),
                              edge("Memory-1", "messages_text", "ChatOutput-1", "input_value")])
    ran = await run(recall, "what did I say?", variables={"ASTRA_TOKEN": TOKEN}, settings=SETTINGS, session_id="s-long")
    assert ran.text().splitlines() == [f"User: message {i}" for i in range(25)]
    astra.data["default_keyspace"]["people"]["documents"] = {f"p{i}": {"_id": f"p{i}", "n": i} for i in range(45)}
    found = await _run(astra, operation="Find", limit=30)
    assert len(found["data"]) == 30
    assert len((await _run(astra, operation="Find", limit=0))["data"]) == 45
