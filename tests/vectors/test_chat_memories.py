"""The external chat memories over HTTP — Mem0 (platform API) and Zep (v1 and v2 sessions API) —
through the engine, against local servers written from their API references: their own outputs,
and as the `memory` of Message History and Message Store (the same Message shape as the flow's
own history). Credentials from tenant variables; errors name the service."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from flowless_engine.errors import ConfigurationError, ProviderError
from flowless_engine.settings import EngineSettings
from tests.support.engine_kit import chat_flow, component_node, edge, run
from tests.support.mem0_server import Mem0Server
from tests.support.zep_server import ZepServer

SETTINGS = EngineSettings(allow_loopback=True, http_retries=0)
MEMORY_EDGE = {"output_types": ("Memory",), "input_types": ("Memory",)}


@pytest.fixture(scope="module")
def mem0() -> Iterator[Mem0Server]:
    with Mem0Server(api_key="m0-key") as server:
        yield server


@pytest.fixture(scope="module")
def zep() -> Iterator[ZepServer]:
    with ZepServer(api_key="zep-key") as server:
        yield server


def _mem0_node(server: Mem0Server, **values: Any) -> dict[str, Any]:
    node = component_node("Mem0-1", "mem0_chat_memory", mem0_config={"host": server.base_url}, mem0_api_key="MEM0_API_KEY", **values)
    node["data"]["node"]["template"]["mem0_api_key"]["load_from_db"] = True
    return node


def _store_then_recall(memory_node: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    store = chat_flow(memory_node, component_node("StoreMessage-1", "StoreMessage"),
                      edges=[edge("ChatInput-1", "message", "StoreMessage-1", "message"),
                             edge(memory_node["id"], "memory", "StoreMessage-1", "memory", **MEMORY_EDGE),
                             edge("StoreMessage-1", "stored_messages", "ChatOutput-1", "input_value")])
    recall = chat_flow(memory_node, component_node("Memory-1", "Memory", n_messages=10),
                       edges=[edge(memory_node["id"], "memory", "Memory-1", "memory", **MEMORY_EDGE),
                              edge("Memory-1", "messages_text", "ChatOutput-1", "input_value")])
    return store, recall


# ---- Mem0 -----------------------------------------------------------------------------------


async def test_mem0_ingests_then_searches_a_users_memories(mem0: Mem0Server) -> None:
    variables = {"MEM0_API_KEY": "m0-key"}
    ingest = chat_flow(_mem0_node(mem0, user_id="alice"),
                       edges=[edge("ChatInput-1", "message", "Mem0-1", "ingest_message"),
                              edge("Mem0-1", "search_results", "ChatOutput-1", "input_value", output_types=("Data",), input_types=("Data",))])
    for text in ("I am allergic to peanuts", "My favourite colour is green"):
        ran = await run(ingest, text, variables=variables, settings=SETTINGS)
    listed = ran.vertex("Mem0-1").values["search_results"]  # no query: every memory of the user
    assert [d.data["memory"] for d in listed] == ["I am allergic to peanuts", "My favourite colour is green"]
    assert listed[0].text == "I am allergic to peanuts" and listed[0].data["user_id"] == "alice"
    add = next(r for r in mem0.requests if r.path == "/v1/memories/")
    assert add.headers["authorization"] == "Token m0-key"
    assert add.body == {"messages": [{"role": "user", "content": "I am allergic to peanuts"}], "user_id": "alice"}

    search = chat_flow(_mem0_node(mem0, user_id="alice", metadata={"source": "chat"}),
                       edges=[edge("ChatInput-1", "message", "Mem0-1", "search_query"),
                              edge("Mem0-1", "search_results", "ChatOutput-1", "input_value", output_types=("Data",), input_types=("Data",))])
    ran = await run(search, "what am I allergic to", variables=variables, settings=SETTINGS)
    found = ran.vertex("Mem0-1").values["search_results"]
    assert found[0].data["memory"] == "I am allergic to peanuts" and found[0].data["score"] > found[-1].data["score"]
    assert mem0.requests[-1].body == {"query": "what am I allergic to", "filters": {"user_id": "alice"}}
    assert mem0.of("bob") == []


async def test_mem0_as_the_external_memory_of_message_history(mem0: Mem0Server) -> None:
    store, recall = _store_then_recall(_mem0_node(mem0, user_id="carol"))
    await run(store, "I live in Lisbon", variables={"MEM0_API_KEY": "m0-key"}, settings=SETTINGS, session_id="s1")
    assert mem0.of("carol") == ["I live in Lisbon"]
    ran = await run(recall, "where do I live?", variables={"MEM0_API_KEY": "m0-key"}, settings=SETTINGS, session_id="s1")
    assert ran.text() == "Mem0: I live in Lisbon"


async def test_mem0_errors_name_the_service(mem0: Mem0Server) -> None:
    search = chat_flow(_mem0_node(mem0, user_id="alice"),
                       edges=[edge("ChatInput-1", "message", "Mem0-1", "search_query"),
                              edge("Mem0-1", "search_results", "ChatOutput-1", "input_value", output_types=("Data",), input_types=("Data",))])
    with pytest.raises(ProviderError, match=r"Mem0 failed while searching memories \(HTTP 401\): Invalid API key") as caught:
        await run(search, "peanuts", variables={"MEM0_API_KEY": "stolen-key"}, settings=SETTINGS)
    assert caught.value.provider == "Mem0" and "stolen-key" not in caught.value.message
    local = chat_flow(component_node("Mem0-1", "mem0_chat_memory", user_id="alice"),
                      edges=[edge("ChatInput-1", "message", "Mem0-1", "search_query"),
                             edge("Mem0-1", "search_results", "ChatOutput-1", "input_value", output_types=("Data",), input_types=("Data",))])
    with pytest.raises(ConfigurationError, match="local .* not available in Flowless; set `mem0_api_key`"):
        await run(local, "peanuts", settings=SETTINGS)


# ---- Zep ------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["v1", "v2"])
async def test_zep_keeps_the_sessions_messages(zep: ZepServer, version: str) -> None:
    node = component_node("Zep-1", "ZepChatMemory", url=zep.base_url, api_key="ZEP_API_KEY", api_base_path=f"api/{version}")
    node["data"]["node"]["template"]["api_key"]["load_from_db"] = True
    store, recall = _store_then_recall(node)
    variables = {"ZEP_API_KEY": "zep-key"}
    session = f"chat-{version}"
    await run(store, "remember the milk", variables=variables, settings=SETTINGS, session_id=session)
    stored = zep.messages(session, version)
    assert [(m["role"], m["content"]) for m in stored] == [("human" if version == "v1" else "User", "remember the milk")]
    if version == "v2":
        assert stored[0]["role_type"] == "user"
        assert any(r.path == "/api/v2/sessions" and r.body == {"session_id": session} for r in zep.requests)  # made on first write
    scheme = "Bearer" if version == "v1" else "Api-Key"
    assert {r.headers["authorization"] for r in zep.requests if f"/{version}/" in r.path} == {f"{scheme} zep-key"}
    ran = await run(recall, "what did I say?", variables=variables, settings=SETTINGS, session_id=session)
    assert ran.text() == "User: remember the milk"
    other = await run(recall, "and here?", variables=variables, settings=SETTINGS, session_id="another-session")
    assert other.text() == ""  # an unknown session has no messages


async def test_zep_errors_name_the_service(zep: ZepServer) -> None:
    node = component_node("Zep-1", "ZepChatMemory", url=zep.base_url, api_key="wrong-key")
    store, _ = _store_then_recall(node)
    with pytest.raises(ProviderError, match=r"Zep failed while storing messages in session 's9' \(HTTP 401\): unauthorized") as caught:
        await run(store, "hello", settings=SETTINGS, session_id="s9")
    assert "wrong-key" not in caught.value.message
    store, _ = _store_then_recall(component_node("Zep-1", "ZepChatMemory", url="zep.internal"))
    with pytest.raises(ConfigurationError, match="needs the Zep URL"):
        await run(store, "hello", settings=SETTINGS)
