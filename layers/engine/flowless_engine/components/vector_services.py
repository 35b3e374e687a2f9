"""Vector stores reached over their HTTP APIs (lfx-bundles): Qdrant, ... Each node maps its
fields to a `vectors/<store>.py` client; ingestion, search and outputs are store_base's."""

from __future__ import annotations

from typing import Any

from flowless_engine.components.base import Input, to_int, to_text
from flowless_engine.components.store_base import CACHE_INPUT, INGEST_INPUT, QUERY_INPUT, SEARCH_OUTPUTS, StoreComponent
from flowless_engine.errors import ConfigurationError
from flowless_engine.vectors.external import Document

EMBEDDING_INPUT = Input("embedding", "Embedding", "other", "", input_types=("Embeddings",), input_kind="HandleInput")
RESULTS_INPUT = Input("number_of_results", "Number of Results", "int", 4, advanced=True, input_kind="IntInput")
# The fields most lfx-bundles stores end with, in their order: documents in, query, cache, embedding, top-k.
STORE_TAIL = (INGEST_INPUT, QUERY_INPUT, CACHE_INPUT, EMBEDDING_INPUT, RESULTS_INPUT)


class QdrantComponent(StoreComponent):
    type_name = "QdrantVectorStoreComponent"
    display_name = "Qdrant"
    description = "Qdrant Vector Store with search capabilities"
    icon = "Qdrant"
    inputs = (
        Input("collection_name", "Collection Name", "str", "", required=True, input_kind="StrInput"),
        Input("host", "Host", "str", "localhost", advanced=True, input_kind="StrInput"),
        Input("port", "Port", "int", 6333, advanced=True, input_kind="IntInput"),
        Input("grpc_port", "gRPC Port", "int", 6334, advanced=True, input_kind="IntInput"),
        Input("api_key", "Qdrant API Key", "str", "", password=True, advanced=True, input_kind="SecretStrInput"),
        Input("prefix", "Prefix", "str", "", advanced=True, input_kind="StrInput"),
        Input("timeout", "Timeout", "int", None, advanced=True, input_kind="IntInput"),
        Input("path", "Path", "str", "", advanced=True, input_kind="StrInput"),
        Input("url", "URL", "str", "", advanced=True, input_kind="StrInput"),
        Input("distance_func", "Distance Function", "str", "Cosine", options=("Cosine", "Euclidean", "Dot Product"), advanced=True,
              input_kind="DropdownInput"),
        Input("content_payload_key", "Content Payload Key", "str", "page_content", advanced=True, input_kind="StrInput"),
        Input("metadata_payload_key", "Metadata Payload Key", "str", "metadata", advanced=True, input_kind="StrInput"),
        *STORE_TAIL,
    )
    outputs = SEARCH_OUTPUTS

    async def open_collection(self, documents: list[Document]) -> Any:
        from flowless_engine.vectors.qdrant import QdrantCollection

        if to_text(self.param("path", "")).strip() and not (self.params.get("url") or self.params.get("host")):
            raise ConfigurationError(f"Component '{self.name}': an on-disk Qdrant (`path`) is not available in Flowless; name a Qdrant server")
        url = to_text(self.param("url", "")).strip()
        if not url:
            host = to_text(self.param("host", "")).strip() or "localhost"
            url = f"http://{host}:{to_int(self.param('port', 6333), 6333)}"
        prefix = to_text(self.param("prefix", "")).strip().strip("/")
        if prefix:
            url = f"{url.rstrip('/')}/{prefix}"
        name = to_text(self.param("collection_name", "")).strip()
        if not name:
            raise ConfigurationError(f"Component '{self.name}' needs a collection name")
        timeout = float(to_int(self.params.get("timeout"), 0)) or None
        collection = QdrantCollection(self.ctx.http, url, name, api_key=to_text(await self.secret("api_key") or ""),
                                      content_key=to_text(self.param("content_payload_key", "")) or "page_content",
                                      metadata_key=to_text(self.param("metadata_payload_key", "")) or "metadata",
                                      distance=to_text(self.param("distance_func", "Cosine")) or "Cosine", timeout=timeout)
        await collection.load()
        return collection

    async def ensure_collection(self, collection: Any, documents: list[Document]) -> None:
        if not collection.exists:
            await collection.create(len(documents[0].vector or ()))


class PineconeComponent(StoreComponent):
    """The index must exist (as in Langflow). Its control plane is https://api.pinecone.io, or the
    tenant variable PINECONE_API_URL when set."""

    type_name = "Pinecone"
    display_name = "Pinecone"
    description = "Pinecone Vector Store with search capabilities"
    icon = "Pinecone"
    inputs = (
        Input("index_name", "Index Name", "str", "", required=True, input_kind="StrInput"),
        Input("namespace", "Namespace", "str", "", input_kind="StrInput", info="Namespace for the index."),
        Input("distance_strategy", "Distance Strategy", "str", "Cosine", options=("Cosine", "Euclidean", "Dot Product"), advanced=True,
              input_kind="DropdownInput"),
        Input("pinecone_api_key", "Pinecone API Key", "str", "", required=True, password=True, input_kind="SecretStrInput"),
        Input("text_key", "Text Key", "str", "text", advanced=True, input_kind="StrInput"),
        *STORE_TAIL,
    )
    outputs = SEARCH_OUTPUTS

    async def open_collection(self, documents: list[Document]) -> Any:
        from flowless_engine.vectors.pinecone import CONTROL_PLANE, PineconeIndex

        api_key = to_text(await self.secret("pinecone_api_key") or "").strip()
        name = to_text(self.param("index_name", "")).strip()
        if not api_key or not name:
            raise ConfigurationError(f"Component '{self.name}' needs a Pinecone API key and an index name")
        control_plane = await self.ctx.variable("PINECONE_API_URL") or CONTROL_PLANE
        index = PineconeIndex(self.ctx.http, api_key, name, namespace=to_text(self.param("namespace", "")).strip(),
                              text_key=to_text(self.param("text_key", "")) or "text", control_plane=control_plane)
        await index.load()
        return index


class PGVectorComponent(StoreComponent):
    """PostgreSQL + pgvector through the connectors layer's driver (vectors/pgvector.py)."""

    type_name = "pgvector"
    display_name = "PGVector"
    description = "PGVector Vector Store with search capabilities"
    icon = "cpu"
    inputs = (
        Input("pg_server_url", "PostgreSQL Server Connection String", "str", "", required=True, password=True, input_kind="SecretStrInput"),
        Input("collection_name", "Table", "str", "", required=True, input_kind="StrInput"),
        INGEST_INPUT,
        QUERY_INPUT,
        CACHE_INPUT,
        Input("embedding", "Embedding", "other", "", required=True, input_types=("Embeddings",), input_kind="HandleInput"),
        RESULTS_INPUT,
    )
    outputs = SEARCH_OUTPUTS

    async def open_collection(self, documents: list[Document]) -> Any:
        from flowless_engine.vectors.pgvector import PGVectorCollection, PostgresClient, PostgresTarget

        url = to_text(await self.secret("pg_server_url") or "").strip()
        name = to_text(self.param("collection_name", "")).strip()
        if not url or not name:
            raise ConfigurationError(f"Component '{self.name}' needs a PostgreSQL connection string and a collection (table) name")
        settings = self.ctx.settings
        client = PostgresClient(PostgresTarget.parse(url), allow_private=settings.allow_private_networks, allow_loopback=settings.allow_loopback)
        collection = PGVectorCollection(client, name)
        await collection.load(create=bool(documents))
        return collection


class UpstashComponent(StoreComponent):
    """Upstash Vector: without an embedding model Upstash embeds the texts itself;
    `metadata_filter` is written in Upstash's filter language (`genre = 'drama' AND year > 2000`)."""

    type_name = "Upstash"
    display_name = "Upstash"
    description = "Upstash Vector Store with search capabilities"
    icon = "Upstash"
    inputs = (
        Input("index_url", "Index URL", "str", "", required=True, input_kind="StrInput", info="The URL of the Upstash index."),
        Input("index_token", "Upstash Index Token", "str", "", required=True, password=True, input_kind="SecretStrInput"),
        Input("text_key", "Text Key", "str", "text", advanced=True, input_kind="StrInput"),
        Input("namespace", "Namespace", "str", "", input_kind="StrInput", info="Leave empty for default namespace."),
        INGEST_INPUT,
        QUERY_INPUT,
        CACHE_INPUT,
        Input("metadata_filter", "Metadata Filter", "str", "", input_kind="MultilineInput", multiline=True),
        Input("embedding", "Embedding", "other", "", input_types=("Embeddings",), input_kind="HandleInput",
              info="To use Upstash's embeddings, don't provide an embedding."),
        RESULTS_INPUT,
    )
    outputs = SEARCH_OUTPUTS
    filter_fields = ()

    async def open_collection(self, documents: list[Document]) -> Any:
        from flowless_engine.vectors.upstash import UpstashIndex

        url = to_text(self.param("index_url", "")).strip()
        token = to_text(await self.secret("index_token") or "").strip()
        if not url or not token:
            raise ConfigurationError(f"Component '{self.name}' needs the Upstash index URL and token")
        return UpstashIndex(self.ctx.http, url, token, namespace=to_text(self.param("namespace", "")).strip(),
                            text_key=to_text(self.param("text_key", "")) or "text", server_embeds=await self.embedding() is None,
                            filter=to_text(self.param("metadata_filter", "")).strip())

    def search_filter(self) -> dict[str, Any]:
        return {}  # the filter text goes to Upstash as written


class SupabaseComponent(StoreComponent):
    type_name = "SupabaseVectorStore"
    display_name = "Supabase"
    description = "Supabase Vector Store with search capabilities"
    icon = "Supabase"
    inputs = (
        Input("supabase_url", "Supabase URL", "str", "", required=True, input_kind="StrInput"),
        Input("supabase_service_key", "Supabase Service Key", "str", "", required=True, password=True, input_kind="SecretStrInput"),
        Input("table_name", "Table Name", "str", "", advanced=True, input_kind="StrInput"),
        Input("query_name", "Query Name", "str", "", input_kind="StrInput"),
        *STORE_TAIL,
    )
    outputs = SEARCH_OUTPUTS

    async def open_collection(self, documents: list[Document]) -> Any:
        from flowless_engine.vectors.supabase import SupabaseTable

        url = to_text(self.param("supabase_url", "")).strip()
        key = to_text(await self.secret("supabase_service_key") or "").strip()
        if not url or not key:
            raise ConfigurationError(f"Component '{self.name}' needs the Supabase URL and service key")
        return SupabaseTable(self.ctx.http, url, key, to_text(self.param("table_name", "")).strip() or "documents",
                             to_text(self.param("query_name", "")).strip() or "match_documents")


class MilvusComponent(StoreComponent):
    """Milvus over its RESTful API at `uri` (Milvus and Zilliz Cloud serve it on the same address);
    `password` is the token (`user:password` or a Zilliz API key)."""

    type_name = "Milvus"
    display_name = "Milvus"
    description = "Milvus vector store with search capabilities"
    icon = "Milvus"
    inputs = (
        Input("collection_name", "Collection Name", "str", "langflow", input_kind="StrInput"),
        Input("collection_description", "Collection Description", "str", "", input_kind="StrInput"),
        Input("uri", "Connection URI", "str", "http://localhost:19530", input_kind="StrInput"),
        Input("password", "Milvus Token", "str", "", password=True, input_kind="SecretStrInput"),
        Input("connection_args", "Other Connection Arguments", "dict", {}, advanced=True, input_kind="DictInput"),
        Input("primary_field", "Primary Field Name", "str", "pk", input_kind="StrInput"),
        Input("text_field", "Text Field Name", "str", "text", input_kind="StrInput"),
        Input("vector_field", "Vector Field Name", "str", "vector", input_kind="StrInput"),
        Input("consistency_level", "Consistencey Level", "str", "Session", options=("Bounded", "Session", "Strong", "Eventual"), advanced=True,
              input_kind="DropdownInput"),
        Input("index_params", "Index Parameters", "dict", {}, advanced=True, input_kind="DictInput"),
        Input("search_params", "Search Parameters", "dict", {}, advanced=True, input_kind="DictInput"),
        Input("drop_old", "Drop Old Collection", "bool", False, advanced=True, input_kind="BoolInput"),
        Input("timeout", "Timeout", "float", None, advanced=True, input_kind="FloatInput"),
        *STORE_TAIL,
    )
    outputs = SEARCH_OUTPUTS

    async def open_collection(self, documents: list[Document]) -> Any:
        from flowless_engine.components.base import to_bool
        from flowless_engine.vectors.milvus import MilvusCollection

        uri = to_text(self.param("uri", "")).strip()
        if not uri.startswith(("http://", "https://")):
            raise ConfigurationError(f"Component '{self.name}': the Milvus URI must be an http(s) address (Milvus Lite files are not available)")
        timeout = self.params.get("timeout")
        collection = MilvusCollection(self.ctx.http, uri, to_text(await self.secret("password") or ""),
                                      to_text(self.param("collection_name", "")).strip() or "langflow",
                                      primary_field=to_text(self.param("primary_field", "")) or "pk",
                                      text_field=to_text(self.param("text_field", "")) or "text",
                                      vector_field=to_text(self.param("vector_field", "")) or "vector",
                                      description=to_text(self.param("collection_description", "")),
                                      timeout=float(timeout) if isinstance(timeout, (int, float)) and timeout > 0 else None)
        await collection.load()
        if documents and collection.exists and to_bool(self.param("drop_old", False)):
            await collection.drop()
        return collection

    async def ensure_collection(self, collection: Any, documents: list[Document]) -> None:
        if not collection.exists:
            await collection.create(len(documents[0].vector or ()))
