"""Redis beyond the store contract, against a real Redis Stack: an index LangChain's layout made
(another prefix, TEXT and NUMERIC metadata) searched as FT.INFO describes it, metadata fields
added to the index as they appear, filters; Redis Chat Memory read and written by Message History
and Message Store in LangChain's list format with the session TTL; ACL users; errors named."""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from typing import Any

import pytest

from flowless_engine.errors import BlockedURLError, ConfigurationError, ProviderAuthError, ProviderError
from flowless_engine.runtime.services import InMemoryMessageStore
from flowless_engine.settings import EngineSettings
from flowless_engine.vectors.redis import RedisClient, RedisIndex, RedisTarget
from tests.support.engine_kit import chat_flow, component_node, edge, flow, run
from tests.support.model_server import ModelServer, embed
from tests.support.redis_server import RedisServer

SETTINGS = EngineSettings(allow_loopback=True, http_retries=0)


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[RedisServer, ModelServer]]:
    with RedisServer(password="r3dis-s3cret", users={"chat-app": "ch@t pass"}) as redis, ModelServer() as models:
        yield redis, models


def store_flow(models: ModelServer, **fields: Any) -> dict[str, Any]:
    node = component_node("Redis-1", "Redis", **{"redis_server_url": "REDIS_URL", **fields})
    node["data"]["node"]["template"]["redis_server_url"]["load_from_db"] = True
    return flow(
        [component_node("ChatInput-1", "ChatInput"), component_node("OpenAIEmbeddings-1", "OpenAIEmbeddings", openai_api_base=models.base_url), node],
        [edge("ChatInput-1", "message", "Redis-1", "search_query"),
         edge("OpenAIEmbeddings-1", "embeddings", "Redis-1", "embedding", output_types=("Embeddings",), input_types=("Embeddings",))],
    )


async def search(servers: tuple[RedisServer, ModelServer], query: str, url: str | None = None, **fields: Any) -> list[dict[str, Any]]:
    redis, models = servers
    ran = await run(store_flow(models, **fields), query, settings=SETTINGS, variables={"OPENAI_API_KEY": "k", "REDIS_URL": url or redis.url()})
    return [d.data for d in ran.vertex("Redis-1").values["search_results"]]


def vector(text: str) -> bytes:
    return struct.pack("<64f", *embed(text))


async def test_an_index_langchain_made_is_read_as_ft_info_describes_it(servers) -> None:
    redis, _ = servers
    redis.call("FT.CREATE", "lc_docs", "ON", "HASH", "PREFIX", "1", "doc:lc_docs_prefix:", "SCHEMA", "content", "TEXT", "source", "TEXT",
               "page", "NUMERIC", "content_vector", "VECTOR", "FLAT", "6", "TYPE", "FLOAT32", "DIM", "64", "DISTANCE_METRIC", "COSINE")
    redis.call("HSET", "doc:lc_docs_prefix:a1", "content", "Refunds are paid within fourteen days", "source", "faq.md", "page", "2",
               "content_vector", vector("Refunds are paid within fourteen days"))
    redis.call("HSET", "doc:lc_docs_prefix:b2", "content", "Parrots can talk", "source", "pets.md", "page", "1",
               "content_vector", vector("Parrots can talk"))
    rows = await search(servers, "Refunds are paid within fourteen days", redis_index_name="lc_docs", number_of_results=1)
    assert rows == [{"id": "doc:lc_docs_prefix:a1", "source": "faq.md", "page": 2, "text": "Refunds are paid within fourteen days",
                     "_score": pytest.approx(1.0, abs=1e-5)}]
    # Ingesting into it writes under its own prefix, with its field names.
    await search(servers, "", redis_index_name="lc_docs", ingest_data=[{"text": "Invoices go out monthly", "source": "billing.md"}])
    new = [k for k in redis.keys("doc:lc_docs_prefix:*") if k not in ("doc:lc_docs_prefix:a1", "doc:lc_docs_prefix:b2")]
    assert len(new) == 1 and redis.call("HGET", new[0], "content") == b"Invoices go out monthly"


async def test_new_metadata_fields_are_indexed_and_filter(servers) -> None:
    redis, _ = servers
    await search(servers, "", redis_index_name="grow", ingest_data=[{"text": "alpha", "tag": "one"}])
    await search(servers, "", redis_index_name="grow", ingest_data=[{"text": "beta", "tag": "two", "year": 2026}])
    info = redis.call("FT.INFO", "grow")
    text = lambda v: v.decode() if isinstance(v, bytes) else str(v)  # noqa: E731
    attributes = {text(a[1]): text(a[5]) for a in info[[text(v) for v in info].index("attributes") + 1]}
    assert attributes == {"content": "TEXT", "content_vector": "VECTOR", "tag": "TEXT", "year": "NUMERIC"}
    index = RedisIndex(RedisClient(RedisTarget.parse(redis.url()), allow_private=False, allow_loopback=True), "grow")
    await index.load()
    found = await index.search(vector=embed("alpha"), text=None, k=2, filter={"year": 2026}, with_vectors=True)
    assert [(h.text, h.metadata["year"], len(h.vector or ())) for h in found.hits] == [("beta", 2026, 64)]
    assert [h.text for h in await index.scan(5, {"tag": "one"})] == ["alpha"]
    assert await index.delete_where("tag", ["two"]) == 1 and [h.text for h in await index.scan(5, None)] == ["alpha"]
    with pytest.raises(ConfigurationError, match="no field 'colour'"):
        await index.scan(5, {"colour": "red"})


async def test_long_documents_are_split_as_langflow_splits_them(servers) -> None:
    redis, _ = servers
    long_text = "\n\n".join(f"Paragraph {n}: " + "word " * 60 for n in range(12))  # ~3,900 characters
    await search(servers, "", redis_index_name="long", ingest_data=[{"text": long_text, "source": "book.md"}])
    chunks = [redis.call("HGET", key, "content").decode() for key in redis.keys("doc:long:*")]
    assert len(chunks) == 4 and all(len(c) <= 1000 for c in chunks)
    assert sorted(chunks, key=lambda c: int(c.split(":")[0].split()[1])) == [
        "\n\n".join(long_text.split("\n\n")[i:i + 3]).strip() for i in (0, 3, 6, 9)]


def memory_flow(node: str = "StoreMessage", **memory_fields: Any) -> dict[str, Any]:
    """Message Store writing the user's message to Redis, or Message History reading the session."""
    memory = {"host": "127.0.0.1", "database": "2", **memory_fields}
    wired = component_node(f"{node}-1", node, **({"n_messages": 10} if node == "Memory" else {}))
    edges = [edge("RedisChatMemory-1", "memory", f"{node}-1", "memory", output_types=("Memory",), input_types=("Memory",))]
    if node == "StoreMessage":
        edges += [edge("ChatInput-1", "message", "StoreMessage-1", "message"), edge("StoreMessage-1", "stored_messages", "ChatOutput-1", "input_value")]
    else:
        edges += [edge("Memory-1", "messages_text", "ChatOutput-1", "input_value")]
    return chat_flow(component_node("RedisChatMemory-1", "RedisChatMemory", **memory), wired, edges=edges)


class TtlMessages(InMemoryMessageStore):
    session_ttl_minutes = 30


async def test_redis_chat_memory_keeps_the_session_in_langchains_list(servers) -> None:
    redis, _ = servers
    fields = {"port": redis.port, "password": "r3dis-s3cret", "session_id": "chat-1"}
    redis.call("SELECT", "2")
    # A message LangChain's RedisChatMessageHistory wrote earlier (LPUSH, newest first).
    earlier = {"type": "ai", "data": {"content": "Hello, how can I help?", "additional_kwargs": {}, "type": "ai"}}
    redis_db2 = RedisClient(RedisTarget("127.0.0.1", redis.port, "", "r3dis-s3cret", 2), allow_private=False, allow_loopback=True)
    await redis_db2.command("seeding", "LPUSH", "message_store:chat-1", json.dumps(earlier))
    # As in Langflow, the Message Store / History node's session (here the run's) is the one used.
    await run(memory_flow(**fields), "I like green tea", settings=SETTINGS, messages=TtlMessages(), session_id="chat-1")
    ran = await run(memory_flow("Memory", **fields), "what do I like?", settings=SETTINGS, session_id="chat-1")
    assert ran.text() == "AI: Hello, how can I help?\nUser: I like green tea"
    items = await redis_db2.command("reading", "LRANGE", "message_store:chat-1", 0, -1)
    newest = json.loads(items[0])
    assert newest["type"] == "human" and newest["data"]["content"] == "I like green tea" and newest["data"]["type"] == "human"
    assert 0 < await redis_db2.command("ttl", "TTL", "message_store:chat-1") <= 30 * 60  # the flow's session TTL
    assert redis.call("EXISTS", "message_store:chat-1") == 0  # database 0 holds nothing of it

    # Another prefix, an ACL user; a wrong password is the store's auth failure (422), named.
    await run(memory_flow(port=redis.port, username="chat-app", password="ch@t pass", key_prefix="lf:"), "hi", settings=SETTINGS, session_id="s9")
    assert await redis_db2.command("reading", "LLEN", "lf:s9") == 1
    with pytest.raises(ProviderAuthError) as refused:
        await run(memory_flow(port=redis.port, password="nope"), "hi", settings=SETTINGS)
    assert refused.value.provider == "Redis" and "WRONGPASS" in refused.value.message and "nope" not in refused.value.message
    with pytest.raises(BlockedURLError, match="loopback"):
        await run(memory_flow(**fields), "hi", settings=EngineSettings(http_retries=0))


async def test_errors_and_urls(servers) -> None:
    from flowless.api.errors import engine_error_response

    redis, _ = servers
    with pytest.raises(ProviderAuthError) as refused:
        await search(servers, "x", url=redis.url("wrong"), redis_index_name="e1")
    assert engine_error_response(refused.value)[0] == 422
    redis.call("SET", "doc:e2:x", "not a hash")
    redis.call("FT.CREATE", "e2", "ON", "HASH", "PREFIX", "1", "doc:e2:", "SCHEMA", "content", "TEXT", "content_vector", "VECTOR", "FLAT", "6",
               "TYPE", "FLOAT32", "DIM", "8", "DISTANCE_METRIC", "COSINE")
    with pytest.raises(ProviderError) as failed:  # a query vector of the wrong size for the index
        await search(servers, "x", redis_index_name="e2")
    status, detail = engine_error_response(failed.value)
    assert status == 502 and detail["provider"] == "Redis" and "searching index 'e2'" in detail["message"]
    assert "r3dis-s3cret" not in str(detail)
    with pytest.raises(ConfigurationError, match="holds vectors of 8 dimensions; the embedding model gives 64"):
        await search(servers, "", redis_index_name="e2", ingest_data=[{"text": "a"}])
    assert RedisTarget.parse("rediss://u:p%40ss@cache.example.com:6380/3") == RedisTarget("cache.example.com", 6380, "u", "p@ss", 3, True)
    with pytest.raises(BlockedURLError):
        RedisTarget.parse("unix:///tmp/redis.sock")
    with pytest.raises(ConfigurationError, match="Sentinel"):
        RedisTarget.parse("redis+sentinel://host:26379/mymaster")
    with pytest.raises(ConfigurationError, match="redis://"):
        await search(servers, "x", url="http://127.0.0.1:6379", redis_index_name="e3")
