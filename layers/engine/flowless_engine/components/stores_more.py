"""More vector stores reached over HTTP (lfx-bundles, lfx-datastax): Weaviate, and Cassandra (its
vector store and chat memory) when the node names an Astra DB database. Each node maps its fields
to a `vectors/<store>.py` client; ingestion, search and outputs are store_base's."""

from __future__ import annotations

from typing import Any

from flowless_engine.components.base import Component, Input, Output, to_int, to_text
from flowless_engine.components.store_base import CACHE_INPUT, INGEST_INPUT, QUERY_INPUT, SEARCH_OUTPUTS, StoreComponent
from flowless_engine.errors import ConfigurationError
from flowless_engine.vectors.external import Document

EMBEDDING_INPUT = Input("embedding", "Embedding", "other", "", input_types=("Embeddings",), input_kind="HandleInput")
RESULTS_INPUT = Input("number_of_results", "Number of Results", "int", 4, advanced=True, input_kind="IntInput",
                      info="Number of results to return.")
SEARCH_TYPE_INPUT = Input("search_type", "Search Type", "str", "Similarity",
                          options=("Similarity", "Similarity with score threshold", "MMR (Max Marginal Relevance)"), advanced=True,
                          input_kind="DropdownInput")
THRESHOLD_INPUT = Input("search_score_threshold", "Search Score Threshold", "float", 0, advanced=True, input_kind="FloatInput")


class WeaviateComponent(StoreComponent):
    """Weaviate over REST + GraphQL at `url` (the gRPC fields are kept for the template: Flowless
    does not use gRPC). The index (class) is created on first ingestion. A metadata filter may be
    given in `search_filter` (`{key: value}` or a Weaviate `where` object)."""

    type_name = "Weaviate"
    display_name = "Weaviate"
    description = "Weaviate Vector Store with search capabilities"
    icon = "Weaviate"
    inputs = (
        Input("url", "Weaviate URL", "str", "http://localhost:8080", required=True, input_kind="StrInput"),
        Input("api_key", "API Key", "str", "", password=True, input_kind="SecretStrInput"),
        Input("index_name", "Index Name", "str", "", required=True, input_kind="StrInput", info="Requires capitalized index name."),
        Input("text_key", "Text Key", "str", "text", advanced=True, input_kind="StrInput"),
        Input("grpc_host", "gRPC Host", "str", "", advanced=True, input_kind="StrInput",
              info="gRPC host for a self-hosted Weaviate instance (not used by Flowless, which speaks REST and GraphQL)."),
        Input("grpc_port", "gRPC Port", "int", 50051, advanced=True, input_kind="IntInput"),
        INGEST_INPUT,
        QUERY_INPUT,
        CACHE_INPUT,
        EMBEDDING_INPUT,
        RESULTS_INPUT,
        Input("search_by_text", "Search By Text", "bool", False, advanced=True, input_kind="BoolInput",
              info="Retained for backward compatibility: keyword search is used when no embedding is wired."),
    )
    outputs = SEARCH_OUTPUTS

    async def open_collection(self, documents: list[Document]) -> Any:
        from flowless_engine.vectors.weaviate import WeaviateClass

        url = to_text(self.param("url", "")).strip()
        name = to_text(self.param("index_name", "")).strip()
        if not url.startswith(("http://", "https://")):
            raise ConfigurationError(f"Component '{self.name}' needs the Weaviate URL (http:// or https://)")
        if not name:
            raise ConfigurationError(f"Component '{self.name}' needs an index name")
        if name != name.capitalize():  # Langflow's own rule for the class name
            raise ConfigurationError(f"Component '{self.name}': Weaviate requires the index name to be capitalized. Use: {name.capitalize()}")
        collection = WeaviateClass(self.ctx.http, url, name, api_key=to_text(await self.secret("api_key") or "").strip(),
                                   text_key=to_text(self.param("text_key", "")).strip() or "text")
        await collection.load()
        return collection

    async def ensure_collection(self, collection: Any, documents: list[Document]) -> None:
        if not collection.exists:
            await collection.create()

    async def _ranked(self, collection: Any, text: str, k: int, where: dict[str, Any], search_type: str) -> list[Any]:
        if await self.embedding() is None:  # no embedding wired: Weaviate's keyword (BM25) search, as Langflow's node does
            return (await collection.search(vector=None, text=text, k=k, filter=where or None, with_vectors=False)).hits
        return await super()._ranked(collection, text, k, where, search_type)


# ---- Cassandra (DataStax) ----------------------------------------------------------------------

CQL_UNAVAILABLE = ("Cassandra contact points need the CQL binary protocol, which Flowless does not speak; "
                   "name an Astra DB database instead (its database ID, or its Data API endpoint https://<id>-<region>.apps.astra.datastax.com)")

CASSANDRA_CONNECTION_INPUTS = (
    Input("database_ref", "Contact Points / Astra Database ID", "str", "", required=True, input_types=("Message",),
          input_kind="MessageTextInput", info="Contact points for the database (or Astra DB database ID)"),
    Input("username", "Username", "str", "", input_types=("Message",), input_kind="MessageTextInput",
          info="Username for the database (leave empty for Astra DB)."),
    Input("token", "Password / Astra DB Token", "str", "", required=True, password=True, input_kind="SecretStrInput",
          info="User password for the database (or Astra DB token)."),
    Input("keyspace", "Keyspace", "str", "", required=True, input_types=("Message",), input_kind="MessageTextInput",
          info="Table Keyspace (or Astra DB namespace)."),
    Input("table_name", "Table Name", "str", "", required=True, input_types=("Message",), input_kind="MessageTextInput",
          info="The name of the table (or Astra DB collection) where vectors will be stored."),
)


async def cassandra_target(component: Any) -> tuple[str, str, str, str]:
    """(Data API endpoint, token, keyspace, table) of a Cassandra node naming an Astra database;
    a configuration error naming the missing capability for CQL contact points."""
    from flowless_engine.vectors.astra_tables import DEVOPS_API, is_astra_reference, resolve_endpoint

    ref = to_text(component.param("database_ref", "")).strip()
    if not ref:
        raise ConfigurationError(f"Component '{component.name}' needs an Astra DB database ID (or contact points)")
    if not is_astra_reference(ref):
        raise ConfigurationError(f"Component '{component.name}': {CQL_UNAVAILABLE}")
    token = to_text(await component.secret("token") or "").strip()
    keyspace = to_text(component.param("keyspace", "")).strip()
    table = to_text(component.param("table_name", "")).strip()
    if not token or not keyspace or not table:
        raise ConfigurationError(f"Component '{component.name}' needs the Astra DB token, a keyspace and a table name")
    devops = to_text(await component.ctx.variable("ASTRA_DEVOPS_API_URL") or "").strip() or DEVOPS_API
    endpoint = await resolve_endpoint(component.ctx.http, ref, token, devops)
    return endpoint, token, keyspace, table


class CassandraComponent(StoreComponent):
    """Apache Cassandra / Astra DB tables as LangChain's Cassandra store keeps them (cassio's
    layout), reached over the Astra Data API when `database_ref` names an Astra database."""

    type_name = "Cassandra"
    display_name = "Cassandra"
    description = "Cassandra Vector Store with search capabilities"
    icon = "Cassandra"
    filter_fields = ("search_filter",)
    inputs = (
        *CASSANDRA_CONNECTION_INPUTS,
        Input("ttl_seconds", "TTL Seconds", "int", None, advanced=True, input_kind="IntInput", info="Optional time-to-live for the added texts."),
        Input("batch_size", "Batch Size", "int", 16, advanced=True, input_kind="IntInput",
              info="Optional number of data to process in a single batch."),
        Input("setup_mode", "Setup Mode", "str", "Sync", options=("Sync", "Async", "Off"), advanced=True, input_kind="DropdownInput",
              info="Configuration mode for setting up the Cassandra table, with options like 'Sync', 'Async', or 'Off'."),
        Input("cluster_kwargs", "Cluster arguments", "dict", {}, advanced=True, is_list=True, input_kind="DictInput",
              info="Optional dictionary of additional keyword arguments for the Cassandra cluster."),
        INGEST_INPUT,
        QUERY_INPUT,
        CACHE_INPUT,
        EMBEDDING_INPUT,
        RESULTS_INPUT,
        SEARCH_TYPE_INPUT,
        THRESHOLD_INPUT,
        Input("search_filter", "Search Metadata Filter", "dict", {}, advanced=True, is_list=True, input_kind="DictInput",
              info="Optional dictionary of filters to apply to the search query."),
        Input("body_search", "Search Body", "str", "", advanced=True, input_types=("Message",), input_kind="MessageTextInput",
              info="Document textual search terms to apply to the search query."),
        Input("enable_body_search", "Enable Body Search", "bool", False, advanced=True, input_kind="BoolInput",
              info="Flag to enable body search. This must be enabled BEFORE the table is created."),
    )
    outputs = SEARCH_OUTPUTS

    async def open_collection(self, documents: list[Document]) -> Any:
        from flowless_engine.components.base import to_bool
        from flowless_engine.vectors.astra_tables import CassandraVectorTable

        endpoint, token, keyspace, table_name = await cassandra_target(self)
        if documents and to_int(self.params.get("ttl_seconds"), 0) > 0:
            raise ConfigurationError(f"Component '{self.name}': a time-to-live on stored rows (`ttl_seconds`) is not available through "
                                     "the Astra Data API; clear it to store documents")
        body_search = to_text(self.param("body_search", "")).strip()
        enabled = to_bool(self.param("enable_body_search", False))
        if body_search and not enabled:
            raise ConfigurationError(f"Component '{self.name}': You should enable body search when creating the table to search the body field.")
        table = CassandraVectorTable(self.ctx.http, endpoint, token, keyspace, table_name, body_search=enabled,
                                     batch_size=to_int(self.params.get("batch_size"), 16) or 16)
        table.body_terms = body_search
        await table.load()
        return table

    async def ensure_collection(self, collection: Any, documents: list[Document]) -> None:
        if collection.exists:
            return
        if to_text(self.param("setup_mode", "Sync")) == "Off":
            raise ConfigurationError(f"Component '{self.name}': table '{collection.name}' does not exist and Setup Mode is Off")
        await collection.create_for(len(documents[0].vector or ()))


class CassandraChatMemoryComponent(Component):
    """Cassandra Chat Memory on an Astra DB database (its ID or API endpoint in `database_ref`),
    over the Data API, in cassio's chat table; plain Cassandra contact points need CQL and
    answer a configuration error. Message History / Message Store use it through `memory`."""

    type_name = "CassandraChatMemory"
    display_name = "Cassandra Chat Memory"
    description = "Retrieves and store chat messages from Apache Cassandra."
    category = "memories"
    icon = "Cassandra"
    inputs = (
        *CASSANDRA_CONNECTION_INPUTS,
        Input("session_id", "Session ID", "str", "", input_types=("Message",), advanced=True, input_kind="MessageTextInput",
              info="Session ID for the message."),
        Input("cluster_kwargs", "Cluster arguments", "dict", {}, advanced=True, is_list=True, input_kind="DictInput",
              info="Optional dictionary of additional keyword arguments for the Cassandra cluster."),
    )
    outputs = (Output("memory", "build_message_history", ("Memory",), "Memory"),)

    async def build_message_history(self) -> Any:
        from flowless_engine.vectors.astra_tables import CassandraChatHistory

        endpoint, token, keyspace, table = await cassandra_target(self)
        return CassandraChatHistory(self.ctx.http, endpoint, token, keyspace, table,
                                    session_id=to_text(self.param("session_id", "")).strip() or self.ctx.session_id)
