"""Redis (lfx-bundles): the `Redis` vector store and `RedisChatMemory`, over the engine's RESP
client (vectors/redis.py has the key layout and the network guard).

Redis vector store: ingestion, search and outputs are store_base's. The index `redis_index_name`
is created on the first ingestion (its dimension from the embeddings); a search-only node reads
an existing index as `FT.INFO` describes it, so `schema` (in Langflow a YAML schema file on the
Langflow server) is not needed and is ignored. `code` is data, never executed. Documents get ids
from their content, so running a flow again does not store them twice (LangChain gives random
ids).

Redis Chat Memory: the `Memory` a Message History or Message Store node takes in `memory`; the
session's list expires with the flow's session TTL (Flowless's messages table keeps the same).
"""

from __future__ import annotations

from typing import Any

from flowless_engine.components.base import Component, Input, Output, to_int, to_text
from flowless_engine.components.store_base import CACHE_INPUT, INGEST_INPUT, QUERY_INPUT, SEARCH_OUTPUTS, StoreComponent
from flowless_engine.errors import ConfigurationError
from flowless_engine.vectors.external import Document


def _client(component: Component, target: Any) -> Any:
    from flowless_engine.vectors.redis import RedisClient

    settings = component.ctx.settings
    return RedisClient(target, allow_private=settings.allow_private_networks, allow_loopback=settings.allow_loopback,
                       timeout=settings.http_timeout_s)


class RedisVectorStoreComponent(StoreComponent):
    type_name = "Redis"
    display_name = "Redis"
    description = "Implementation of Vector Store using Redis"
    icon = "Redis"
    inputs = (
        Input("redis_server_url", "Redis Server Connection String", "str", "", required=True, password=True, input_kind="SecretStrInput"),
        Input("redis_index_name", "Redis Index", "str", "", input_kind="StrInput"),
        Input("code", "Code", "str", "", advanced=True, input_kind="StrInput"),
        Input("schema", "Schema", "str", "", input_kind="StrInput"),
        INGEST_INPUT,
        QUERY_INPUT,
        CACHE_INPUT,
        Input("number_of_results", "Number of Results", "int", 4, advanced=True, input_kind="IntInput", info="Number of results to return."),
        Input("embedding", "Embedding", "other", "", input_types=("Embeddings",), input_kind="HandleInput"),
    )
    outputs = SEARCH_OUTPUTS

    async def open_collection(self, documents: list[Document]) -> Any:
        from flowless_engine.vectors.redis import RedisIndex, RedisTarget

        url = to_text(await self.secret("redis_server_url") or "").strip()
        name = to_text(await self.secret("redis_index_name") or "").strip()  # may name a tenant variable (load_from_db)
        if not url or not name:
            raise ConfigurationError(f"Component '{self.name}' needs the Redis server connection string and the Redis Index name")
        index = RedisIndex(_client(self, RedisTarget.parse(url)), name)
        await index.load()
        return index

    def documents(self) -> list[Document]:
        """The flow's documents, split as Langflow's Redis node splits them before storing
        (LangChain's CharacterTextSplitter: 1000 characters, no overlap, on blank lines)."""
        import json

        from flowless_engine.components.knowledge import content_id
        from flowless_engine.components.processing import CharacterSplitter

        splitter = CharacterSplitter(1000, 0, "\n\n")
        out: dict[str, Document] = {}
        for document in super().documents():
            chunks = splitter.split(document.text) if len(document.text) > 1000 else [document.text]
            for chunk in chunks:
                doc_id = content_id(chunk, json.dumps(document.metadata, sort_keys=True, default=str))[:32]
                out.setdefault(doc_id, Document(chunk, dict(document.metadata), doc_id))
        return list(out.values())

    async def to_store(self, collection: Any, documents: list[Document]) -> list[Document]:
        return await collection.missing(documents)  # embed only what the index lacks

    async def ensure_collection(self, collection: Any, documents: list[Document]) -> None:
        dimension = len(documents[0].vector or ())
        if not collection.exists:
            await collection.create(dimension, documents)
            return
        indexed = collection.dimension
        if indexed and dimension and indexed != dimension:  # Redis would store them but never index them
            raise ConfigurationError(f"Component '{self.name}': the Redis index '{collection.name}' holds vectors of {indexed} dimensions; "
                                     f"the embedding model gives {dimension}")
        await collection.extend(documents)


class RedisChatMemoryComponent(Component):
    type_name = "RedisChatMemory"
    display_name = "Redis Chat Memory"
    description = "Retrieves and store chat messages from Redis."
    category = "memories"
    icon = "Redis"
    inputs = (
        Input("host", "hostname", "str", "localhost", required=True, input_kind="StrInput", info="IP address or hostname."),
        Input("port", "port", "int", 6379, required=True, input_kind="IntInput", info="Redis Port Number."),
        Input("database", "database", "str", "0", required=True, input_kind="StrInput", info="Redis database."),
        Input("username", "Username", "str", "", input_types=("Message",), advanced=True, input_kind="MessageTextInput",
              info="The Redis user name."),
        Input("password", "Redis Password", "str", "", password=True, advanced=True, input_kind="SecretStrInput",
              info="The password for username."),
        Input("key_prefix", "Key prefix", "str", "", advanced=True, input_kind="StrInput", info="Key prefix."),
        Input("session_id", "Session ID", "str", "", input_types=("Message",), advanced=True, input_kind="MessageTextInput",
              info="Session ID for the message."),
    )
    outputs = (Output("memory", "build_message_history", ("Memory",), "Memory"),)

    async def build_message_history(self) -> Any:
        from flowless_engine.vectors.redis import RedisChatHistory, RedisTarget

        host = to_text(await self.secret("host") or "").strip()  # fields may name tenant variables (load_from_db)
        if not host:
            raise ConfigurationError(f"Component '{self.name}' needs the Redis host name")
        database = to_text(await self.secret("database") or "0").strip() or "0"
        if not database.isdigit():
            raise ConfigurationError(f"Component '{self.name}': the Redis database must be a number")
        target = RedisTarget(host, to_int(self.param("port", 6379), 6379), to_text(await self.secret("username") or "").strip(),
                             to_text(await self.secret("password") or ""), int(database))
        ttl_minutes = getattr(self.ctx.messages, "session_ttl_minutes", None)
        return RedisChatHistory(_client(self, target), to_text(self.param("session_id", "")).strip() or self.ctx.session_id,
                                to_text(self.param("key_prefix", "")) or "message_store:",
                                int(float(ttl_minutes) * 60) if ttl_minutes else None)
