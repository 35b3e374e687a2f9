"""Message Store (StoreMessage) and Memory Base (MemoryBase) on the run's message store."""

from __future__ import annotations

import pytest

from flowless_engine.components.memories import bm25
from flowless_engine.errors import ConfigurationError
from flowless_engine.runtime.services import InMemoryMessageStore
from flowless_engine.schema import DataFrame, Message
from tests.support.engine_kit import chat_flow, component_node, edge, flow, run


def store_flow(**fields: object) -> dict:
    return chat_flow(
        component_node("StoreMessage-1", "StoreMessage", **fields),
        edges=[edge("ChatInput-1", "message", "StoreMessage-1", "message"),
               edge("StoreMessage-1", "stored_messages", "ChatOutput-1", "input_value")],
    )


async def test_store_message_writes_to_the_session_history() -> None:
    store = InMemoryMessageStore()
    ran = await run(store_flow(sender="Machine", sender_name="Archivist"), "remember the milk", messages=store, session_id="s1")
    stored = [m for m in store.messages if m.sender_name == "Archivist"]
    assert [(m.text, m.sender, m.session_id) for m in stored] == [("remember the milk", "Machine", "s1")]
    assert ran.vertex("StoreMessage-1").values["stored_messages"].text == "remember the milk"
    # Message History in the same session sees it.
    history = chat_flow(component_node("Memory-1", "Memory", n_messages=10),
                        edges=[edge("Memory-1", "messages_text", "ChatOutput-1", "input_value")])
    ran = await run(history, "next", messages=store, session_id="s1")
    assert "Archivist: remember the milk" in ran.text()


async def test_store_message_keeps_the_messages_own_sender() -> None:
    store = InMemoryMessageStore()
    await run(store_flow(), "note", messages=store, session_id="s1")
    notes = [m for m in store.messages if m.text == "note" and m.session_id == "s1"]  # ChatInput's, the node's, ChatOutput's
    # A Message keeps its own sender unless the node sets one (ChatInput's: User).
    assert len(notes) == 3 and (notes[1].sender, notes[1].sender_name) == ("User", "User")


async def test_store_message_refuses_external_memories() -> None:
    exported = store_flow(memory="redis-handle")
    with pytest.raises(ConfigurationError, match="not supported"):
        await run(exported, "x", messages=InMemoryMessageStore())


def seeded() -> InMemoryMessageStore:
    store = InMemoryMessageStore()
    for session, sender, text in [
        ("s1", "User", "My favourite colour is green"),
        ("s1", "Machine", "Green is a lovely colour"),
        ("s2", "User", "I live in Lisbon near the river"),
        ("s2", "Machine", "Lisbon is sunny"),
        ("s3", "User", "Nothing relevant here"),
    ]:
        store.messages.append(Message(text=text, sender=sender, sender_name=sender, session_id=session, flow_id="flow-1"))
    return store


def memory_flow(**fields: object) -> dict:
    return flow([component_node("ChatInput-1", "ChatInput"), component_node("MemoryBase-1", "MemoryBase", memory_base="mb", **fields)],
                [edge("ChatInput-1", "message", "MemoryBase-1", "search_query")])


async def rows(query: str, session: str, **fields: object) -> list[dict]:
    ran = await run(memory_flow(**fields), query, messages=seeded(), session_id=session)
    frame = ran.vertex("MemoryBase-1").values["retrieve_data"]
    assert isinstance(frame, DataFrame)
    return frame.rows


async def test_memory_base_searches_the_current_session_by_default() -> None:
    found = await rows("where do I live", "s1")
    assert found == []  # Lisbon is in another session
    found = await rows("what colour do I like", "s1")
    assert [r["content"] for r in found] == ["Green is a lovely colour", "My favourite colour is green"] or \
        [r["content"] for r in found] == ["My favourite colour is green", "Green is a lovely colour"]
    assert {"content", "_score", "session_id", "sender", "sender_name", "timestamp", "id"} <= set(found[0])


async def test_memory_base_across_sessions_ranks_and_limits() -> None:
    found = await rows("where do I live near the river", "s1", filter_by_session=False, top_k=1, include_metadata=False)
    assert found == [{"content": "I live in Lisbon near the river", "_score": found[0]["_score"]}]
    assert found[0]["_score"] > 0


async def test_memory_base_without_a_query_returns_nothing() -> None:
    assert await rows("", "s1") == []


def test_bm25_prefers_rare_words_and_ignores_absent_ones() -> None:
    scores = bm25("lisbon river", ["the river", "lisbon by the river", "nothing"])
    assert scores[1] > scores[0] > scores[2] == 0
