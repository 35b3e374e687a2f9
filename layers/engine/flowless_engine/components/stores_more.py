"""More stores (lfx-bundles, lfx-datastax): Weaviate over HTTP; Cassandra (its vector store
and chat memory) over CQL on contact points or the Data API on an Astra DB database; the Astra DB CQL tool (Astra's REST
API) and 1.13's Astra DB Data API node. The vector stores map their fields to a
`vectors/<store>.py` client; ingestion, search and outputs are store_base's."""

from __future__ import annotations

from typing import Any

from flowless_engine.components.base import Component, Input, Output, to_int, to_text
from flowless_engine.components.datastax import ASTRA_CONNECTION_INPUTS
from flowless_engine.components.store_base import CACHE_INPUT, INGEST_INPUT, QUERY_INPUT, SEARCH_OUTPUTS, StoreComponent
from flowless_engine.components.toolmode import ToolModeMixin
from flowless_engine.components.vector_services import EMBEDDING_INPUT
from flowless_engine.errors import ConfigurationError
from flowless_engine.vectors.external import Document

RESULTS_INPUT = Input("number_of_results", "Number of Results", "int", 4, advanced=True, input_kind="IntInput",
                      info="Number of results to return.")
STORE_TAIL = (INGEST_INPUT, QUERY_INPUT, CACHE_INPUT, EMBEDDING_INPUT, RESULTS_INPUT)  # vector_services' tail, with this top-k's info
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
        *STORE_TAIL,
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

    async def to_store(self, collection: Any, documents: list[Document]) -> list[Document]:
        held = await collection.held(documents)  # what an earlier run stored is not embedded again
        return [d for d in documents if d.id not in held]

    async def _ranked(self, collection: Any, text: str, k: int, where: dict[str, Any], search_type: str) -> list[Any]:
        if await self.embedding() is None:  # no embedding wired: Weaviate's keyword (BM25) search, as Langflow's node does
            return (await collection.search(vector=None, text=text, k=k, filter=where or None, with_vectors=False)).hits
        return await super()._ranked(collection, text, k, where, search_type)


# ---- Cassandra (DataStax) ----------------------------------------------------------------------


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


def names_astra(component: Any) -> bool:
    """Whether `database_ref` names an Astra database (its ID or API endpoint), not contact points."""
    from flowless_engine.vectors.astra_tables import is_astra_reference

    ref = to_text(component.param("database_ref", "")).strip()
    if not ref:
        raise ConfigurationError(f"Component '{component.name}' needs an Astra DB database ID (or contact points)")
    return is_astra_reference(ref)


async def cql_target(component: Any) -> tuple[Any, str, str]:
    """(CQL client, keyspace, table) of a Cassandra node on contact points (`database_ref`
    `host[:port],...`; `cluster_kwargs` may give `port`, and `ssl_context`/`ssl_options` for TLS)."""
    from flowless_engine.vectors.cql import ContactPoints, CqlClient

    kwargs = component.param("cluster_kwargs", {}) or {}
    if isinstance(kwargs, list):  # a list of one-pair dicts, as DictInput lists save it
        kwargs = {k: v for item in kwargs if isinstance(item, dict) for k, v in item.items()}
    kwargs = kwargs if isinstance(kwargs, dict) else {}
    try:
        port = int(kwargs.get("port") or 9042)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"Component '{component.name}': cluster_kwargs.port must be a number") from exc
    tls = bool(kwargs.get("ssl_context") or kwargs.get("ssl_options") or str(kwargs.get("ssl", "")).lower() in ("1", "true", "yes"))
    points = ContactPoints.parse(to_text(component.param("database_ref", "")), port=port, tls=tls,
                                 username=to_text(component.param("username", "")).strip(),
                                 password=to_text(await component.secret("token") or ""))
    keyspace = to_text(component.param("keyspace", "")).strip()
    table = to_text(component.param("table_name", "")).strip()
    if not keyspace or not table:
        raise ConfigurationError(f"Component '{component.name}' needs a keyspace and a table name")
    settings = component.ctx.settings
    client = CqlClient(points, allow_private=settings.allow_private_networks, allow_loopback=settings.allow_loopback,
                       timeout=settings.http_timeout_s)
    return client, keyspace, table


async def cassandra_target(component: Any) -> tuple[str, str, str, str]:
    """(Data API endpoint, token, keyspace, table) of a Cassandra node naming an Astra database."""
    from flowless_engine.vectors.astra_tables import DEVOPS_API, resolve_endpoint

    ref = to_text(component.param("database_ref", "")).strip()
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
    layout): over CQL (vectors/cql.py) on contact points, over the Astra Data API when
    `database_ref` names an Astra database."""

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
        *STORE_TAIL,
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

        body_search = to_text(self.param("body_search", "")).strip()
        enabled = to_bool(self.param("enable_body_search", False))
        if not names_astra(self):
            from flowless_engine.vectors.cassandra import CassandraCqlVectorTable

            if body_search and not enabled:
                raise ConfigurationError(f"Component '{self.name}': You should enable body search when creating the table to search the body field.")
            client, keyspace, table_name = await cql_target(self)
            cql = CassandraCqlVectorTable(client, keyspace, table_name, body_search=enabled, ttl_seconds=to_int(self.params.get("ttl_seconds"), 0) or 0,
                                          batch_size=to_int(self.params.get("batch_size"), 16) or 16)
            cql.body_terms = body_search
            await cql.load()
            return cql
        endpoint, token, keyspace, table_name = await cassandra_target(self)
        if documents and to_int(self.params.get("ttl_seconds"), 0) > 0:
            raise ConfigurationError(f"Component '{self.name}': a time-to-live on stored rows (`ttl_seconds`) is not available through "
                                     "the Astra Data API; clear it to store documents")
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

    async def to_store(self, collection: Any, documents: list[Document]) -> list[Document]:
        held = await collection.held(documents)  # what an earlier run stored is not embedded again
        return [d for d in documents if d.id not in held]


class CassandraChatMemoryComponent(Component):
    """Cassandra Chat Memory in cassio's chat table: over CQL on contact points, over the Data API
    on an Astra DB database (its ID or API endpoint in `database_ref`). Message History /
    Message Store use it through `memory`."""

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

        session = to_text(self.param("session_id", "")).strip() or self.ctx.session_id
        if not names_astra(self):
            from flowless_engine.vectors.cassandra import CassandraCqlChatHistory

            client, keyspace, table_name = await cql_target(self)
            # Cassandra refuses a null or empty partition key: without a session, the flow's (as in Langflow)
            return CassandraCqlChatHistory(client, keyspace, table_name, session_id=session or self.ctx.flow_id or "default")
        endpoint, token, keyspace, table = await cassandra_target(self)
        return CassandraChatHistory(self.ctx.http, endpoint, token, keyspace, table,
                                    session_id=to_text(self.param("session_id", "")).strip() or self.ctx.session_id)


# ---- Astra DB CQL Tool ----------------------------------------------------------------------

_CQL_OPERATORS = ("$gt", "$gte", "$lt", "$lte", "$eq", "$ne", "$in", "$nin", "$exists", "$all", "$size")


def rest_timestamp(text: str) -> str:
    """A date the model gives as Astra's REST API writes timestamps (UTC, milliseconds)."""
    from datetime import datetime, timezone

    for fmt in ("%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S", "%d/%m/%Y", "%Y/%m/%d"):
        try:
            parsed = datetime.strptime(text.strip(), fmt)
        except ValueError:
            continue
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        return parsed.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    raise ConfigurationError(f"Error parsing timestamp: Could not parse date: {text} - Use the prompt to specify the date in the correct format")


class AstraDBCQLToolComponent(Component):
    """Astra DB CQL Tool: an Agent tool that reads rows of a CQL table through Astra's REST API
    (`GET <endpoint>/api/rest/v2/keyspaces/<keyspace>/<table>/?where=...`, `X-Cassandra-Token`),
    its `where` built from the columns the model passes (`tools_params`) and `static_filters`."""

    type_name = "AstraDBCQLToolComponent"
    display_name = "Astra DB CQL"
    description = "Create a tool to get transactional data from DataStax Astra DB CQL Table"
    category = "vectorstores"
    icon = "AstraDB"
    first_param = StoreComponent.first_param

    inputs = (
        *ASTRA_CONNECTION_INPUTS,
        Input("tool_name", "Tool Name", "str", "", required=True, input_kind="StrInput", info="The name of the tool."),
        Input("tool_description", "Tool Description", "str", "", required=True, input_kind="StrInput",
              info="The tool description to be passed to the model."),
        Input("projection_fields", "Projection fields", "str", "*", required=True, advanced=True, input_kind="StrInput",
              info="Attributes to return separated by comma."),
        Input("tools_params", "Tools Parameters", "table", [], input_kind="TableInput"),
        Input("partition_keys", "DEPRECATED: Partition Keys", "dict", {}, is_list=True, advanced=True, input_kind="DictInput"),
        Input("clustering_keys", "DEPRECATED: Clustering Keys", "dict", {}, is_list=True, advanced=True, input_kind="DictInput"),
        Input("static_filters", "Static Filters", "dict", {}, is_list=True, advanced=True, input_kind="DictInput",
              info="Field name and value. When filled, it will not be generated by the LLM."),
        Input("number_of_results", "Number of Results", "int", 5, advanced=True, input_kind="IntInput"),
    )

    outputs = (
        Output("api_run_model", "run_model", ("Data",), "Data"),
        Output("api_build_tool", "build_tool", ("Tool",), "Tool"),
    )

    def parameters(self) -> list[dict[str, Any]]:
        rows = self.params.get("tools_params") or []
        return [r for r in rows if isinstance(r, dict) and r.get("name")] if isinstance(rows, list) else []

    def static_filters(self) -> dict[str, Any]:
        from flowless_engine.components.datastax import _dict_entries

        return _dict_entries(self.params.get("static_filters"))

    def schema(self) -> dict[str, Any]:
        from flowless_engine.components.datastax import _flag

        statics = self.static_filters()
        properties: dict[str, Any] = {}
        required: list[str] = []
        for row in self.parameters():
            if (to_text(row.get("field_name")) or row["name"]) in statics:
                continue
            properties[row["name"]] = {"type": "string", "description": str(row.get("description") or row["name"])}
            if _flag(row.get("mandatory")):
                required.append(row["name"])
        return {"type": "object", "properties": properties, "required": required}

    def where(self, arguments: dict[str, Any]) -> dict[str, Any]:
        from flowless_engine.components.datastax import _flag

        statics = self.static_filters()
        where: dict[str, Any] = {}
        for row in self.parameters():
            column = to_text(row.get("field_name")) or row["name"]
            value = statics[column] if column in statics else arguments.get(row["name"])
            if value is None:
                continue
            if _flag(row.get("is_timestamp")):
                value = rest_timestamp(to_text(value))
            operator = row.get("operator") if row.get("operator") in _CQL_OPERATORS else "$eq"
            if operator == "$exists":
                value = True
            elif operator in ("$in", "$nin", "$all"):
                value = value.split(",") if isinstance(value, str) else value
            where[column] = {**where.get(column, {}), operator: value}
        return where

    async def lookup(self, arguments: dict[str, Any]) -> list[Any]:
        import json
        from urllib.parse import quote

        from flowless_engine.components.datastax import DEFAULT_KEYSPACE
        from flowless_engine.schema import Data
        from flowless_engine.vectors.astra import normalise_endpoint
        from flowless_engine.vectors.external import RestStore

        field = next((f for f in ("api_endpoint", "d_api_endpoint") if self.params.get(f)), "api_endpoint")
        endpoint = to_text(await self.secret(field) or "").strip()
        database = to_text(self.param("database_name", "")).strip()
        if not endpoint and database.startswith(("https://", "http://")):
            endpoint = database
        token = to_text(await self.secret("token") or "").strip()
        table = to_text(self.param("collection_name", "")).strip()
        if not endpoint or not token or not table:
            raise ConfigurationError(f"Component '{self.name}' needs its Astra DB API endpoint, a token and a table (`collection_name`)")
        keyspace = to_text(self.first_param(("keyspace",), "")).strip() or DEFAULT_KEYSPACE
        rest = RestStore(self.ctx.http, normalise_endpoint(endpoint), {"X-Cassandra-Token": token})
        rest.label = "Astra DB"
        query = f"?page-size={max(1, to_int(self.param('number_of_results', 5), 5))}&where={quote(json.dumps(self.where(arguments)))}"
        fields = to_text(self.param("projection_fields", "*")).replace(" ", "")
        if fields and fields != "*":
            query += f"&fields={quote(fields)}"
        answer = await rest.call("GET", f"/api/rest/v2/keyspaces/{quote(keyspace, safe='')}/{quote(table, safe='')}/{query}",
                                 f"reading table '{table}' (tool {to_text(self.param('tool_name', ''))})")
        rows = [Data(data=r) for r in (answer or {}).get("data") or [] if isinstance(r, dict)]
        self.status = rows
        return rows

    async def run_model(self) -> list[Any]:
        return await self.lookup({})

    async def build_tool(self) -> Any:
        import json

        from flowless_engine.components.base import Tool

        name = to_text(self.param("tool_name", "")).strip() or "astra_db_cql"
        description = to_text(self.param("tool_description", "")).strip() or self.description

        async def run(arguments: dict[str, Any]) -> str:
            return json.dumps([r.data for r in await self.lookup(arguments)], ensure_ascii=False, default=str)

        return Tool(name=name, description=description, parameters=self.schema(), run=run, source_id=self.id)



# ---- Astra DB Data API (1.13) ---------------------------------------------------------------

OPERATIONS = ("Find", "Find One", "Insert One", "Insert Many", "Update One", "Update Many", "Delete One", "Delete Many",
              "Count Documents", "Estimated Count")
COUNT_UPPER_BOUND = 1000
FIND_LIMIT = 100


def _mapping(component: Any, name: str, *, required: bool) -> dict[str, Any]:
    import json

    value = component.params.get(name)
    if isinstance(value, str) and value.strip():
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise ConfigurationError(f"Component '{component.name}': field '{name}' must be a JSON object") from exc
    if value in (None, "", {}):
        if required:
            raise ConfigurationError(f"Component '{component.name}': field '{name}' is required for this operation")
        return {}
    if not isinstance(value, dict):
        raise ConfigurationError(f"Component '{component.name}': field '{name}' must be a JSON object, got {type(value).__name__}")
    return value


def _id_text(value: Any) -> Any:
    return value if value is None or isinstance(value, (str, int, float, bool)) else str(value)


class AstraDBDataAPIComponent(ToolModeMixin, Component):
    """Astra DB Data API (beta in 1.13): one operation — find, insert, update, delete, count — on a
    collection, answered as Data rows (documents, or one summary row), a Table, or the raw result.
    In tool mode the model picks the operation, filter, limit, documents and update."""

    type_name = "AstraDBDataAPI"
    display_name = "Astra DB Data API"
    description = "Run Data API operations (find, filter, insert, update, delete, count) against an Astra DB collection using astrapy directly."
    category = "vectorstores"
    icon = "AstraDB"
    first_param = StoreComponent.first_param
    inputs = (
        *ASTRA_CONNECTION_INPUTS,
        Input("operation", "Operation", "str", "Find", options=OPERATIONS, input_kind="DropdownInput",
              info="Data API operation to run against the selected collection."),
        Input("filter_query", "Filter", "NestedDict", {}, input_kind="NestedDictInput",
              info='MongoDB-style filter, e.g. {"status": "active", "age": {"$gte": 18}}.'),
        Input("projection", "Projection", "NestedDict", {}, advanced=True, input_kind="NestedDictInput"),
        Input("sort", "Sort", "NestedDict", {}, advanced=True, input_kind="NestedDictInput",
              info='1 ascending, -1 descending; {"$vector": [...]} or {"$vectorize": "text"} for a vector search.'),
        Input("limit", "Limit", "int", FIND_LIMIT, input_kind="IntInput", info="Maximum number of documents to return."),
        Input("skip", "Skip", "int", 0, advanced=True, input_kind="IntInput", info="Number of documents to skip."),
        Input("include_similarity", "Include Similarity", "bool", False, advanced=True, input_kind="BoolInput"),
        Input("document", "Document", "NestedDict", {}, input_kind="NestedDictInput"),
        Input("documents", "Documents", "NestedDict", {}, input_kind="NestedDictInput"),
        Input("ordered", "Ordered Insert", "bool", False, advanced=True, input_kind="BoolInput"),
        Input("update", "Update", "NestedDict", {}, input_kind="NestedDictInput",
              info='Update operator document, e.g. {"$set": {"status": "archived"}}.'),
        Input("upsert", "Upsert", "bool", False, advanced=True, input_kind="BoolInput"),
        Input("upper_bound", "Count Upper Bound", "int", COUNT_UPPER_BOUND, advanced=True, input_kind="IntInput"),
    )
    outputs = (
        Output("data", "run_operation", ("Data",), "Data"),
        Output("dataframe", "as_dataframe", ("DataFrame",), "Table"),
        Output("raw", "raw_result", ("Data",), "Raw Result"),
    )
    tool_fields = {
        "operation": ("string", "One of: " + ", ".join(OPERATIONS)),
        "filter_query": ("object", "MongoDB-style filter of the documents"),
        "limit": ("integer", "Maximum number of documents to return"),
        "document": ("object", "The document to insert (Insert One)"),
        "documents": ("array", "The documents to insert (Insert Many)"),
        "update": ("object", 'Update operators, e.g. {"$set": {...}} (Update One / Update Many)'),
    }

    _done: tuple[str, Any] | None = None

    async def _dispatch(self) -> dict[str, Any]:
        """The operation's raw result (computed once per set of parameters: a write wired to
        several outputs runs once)."""
        import json

        key = json.dumps({k: self.params.get(k) for k in ("operation", *self.tool_fields, "sort", "projection", "skip", "upsert")},
                         sort_keys=True, default=str)
        if self._done is None or self._done[0] != key:
            self._done = (key, await self._run())
        return self._done[1]

    async def _run(self) -> dict[str, Any]:
        from flowless_engine.components.base import to_bool
        from flowless_engine.components.datastax import astra_collection

        operation = to_text(self.param("operation", "Find")) or "Find"
        if operation not in OPERATIONS:
            raise ConfigurationError(f"Component '{self.name}': unsupported operation '{operation}'")
        collection = await astra_collection(self)
        action = f"running {operation} on collection '{collection.name}'"

        async def command(payload: dict[str, Any]) -> dict[str, Any]:
            body = await collection.command(payload, action=action)
            collection.raise_errors(body, action)
            return body

        if operation in ("Find", "Find One"):
            find: dict[str, Any] = {"filter": _mapping(self, "filter_query", required=False)}
            for name in ("projection", "sort"):
                value = _mapping(self, name, required=False)
                if value:
                    find[name] = value
            options: dict[str, Any] = {}
            if to_bool(self.param("include_similarity", False)):
                options["includeSimilarity"] = True
            if operation == "Find One":
                body = await command({"findOne": {**find, **({"options": options} if options else {})}})
                document = (body.get("data") or {}).get("document")
                return {"document": document}
            limit = max(0, to_int(self.param("limit", FIND_LIMIT), FIND_LIMIT))
            skip = max(0, to_int(self.param("skip", 0), 0))
            if skip:
                options["skip"] = skip
            documents: list[dict[str, Any]] = []
            page_state = None
            while True:  # the Data API answers page by page
                page_options = {**options, **({"limit": limit} if limit else {}), **({"pageState": page_state} if page_state else {})}
                body = await command({"find": {**find, **({"options": page_options} if page_options else {})}})
                data = body.get("data") or {}
                documents.extend(d for d in data.get("documents") or [] if isinstance(d, dict))
                page_state = data.get("nextPageState")
                if not page_state or (limit and len(documents) >= limit):
                    break
            return {"count": len(documents[:limit] if limit else documents), "documents": documents[:limit] if limit else documents}
        if operation == "Insert One":
            body = await command({"insertOne": {"document": _mapping(self, "document", required=True)}})
            return {"inserted_id": _id_text(((body.get("status") or {}).get("insertedIds") or [None])[0])}
        if operation == "Insert Many":
            raw = self.params.get("documents")
            documents = [raw] if isinstance(raw, dict) and raw else raw if isinstance(raw, list) else []
            if not documents or not all(isinstance(d, dict) for d in documents):
                raise ConfigurationError(f"Component '{self.name}': Insert Many requires a non-empty list of JSON objects in `documents`")
            ordered = to_bool(self.param("ordered", False))
            inserted: list[Any] = []
            for start in range(0, len(documents), 100):  # the Data API takes up to 100 documents per call
                body = await command({"insertMany": {"documents": documents[start:start + 100], "options": {"ordered": ordered}}})
                inserted.extend((body.get("status") or {}).get("insertedIds") or [])
            return {"inserted_ids": [_id_text(i) for i in inserted], "inserted_count": len(inserted)}
        if operation in ("Update One", "Update Many"):
            payload = {"filter": _mapping(self, "filter_query", required=True), "update": _mapping(self, "update", required=True)}
            if to_bool(self.param("upsert", False)):
                payload["options"] = {"upsert": True}
            status = (await command({"updateOne" if operation == "Update One" else "updateMany": payload})).get("status") or {}
            return {"matched_count": status.get("matchedCount"), "modified_count": status.get("modifiedCount"),
                    "upserted_id": _id_text(status.get("upsertedId"))}
        if operation in ("Delete One", "Delete Many"):
            name = "deleteOne" if operation == "Delete One" else "deleteMany"
            status = (await command({name: {"filter": _mapping(self, "filter_query", required=True)}})).get("status") or {}
            return {"deleted_count": status.get("deletedCount")}
        if operation == "Count Documents":
            upper_bound = to_int(self.param("upper_bound", COUNT_UPPER_BOUND), COUNT_UPPER_BOUND) or COUNT_UPPER_BOUND
            status = (await command({"countDocuments": {"filter": _mapping(self, "filter_query", required=False)}})).get("status") or {}
            count = int(status.get("count") or 0)
            if status.get("moreData") or count > upper_bound:
                raise ConfigurationError(f"Component '{self.name}': more than {min(count, upper_bound)} documents match; "
                                         "raise `upper_bound` (the Data API counts up to 1000) or narrow the filter")
            return {"count": count, "upper_bound": upper_bound}
        status = (await command({"estimatedDocumentCount": {}})).get("status") or {}
        return {"estimated_count": status.get("count")}

    async def run_operation(self) -> list[Any]:
        from flowless_engine.schema import Data

        raw = await self._dispatch()
        operation = to_text(self.param("operation", "Find")) or "Find"
        if operation == "Find":
            rows = [Data(data=d) for d in raw["documents"]]
        elif operation == "Find One":
            rows = [Data(data=raw["document"])] if raw.get("document") else []
        else:
            rows = [Data(data=raw)]
        self.status = rows
        return rows

    async def as_dataframe(self) -> Any:
        from flowless_engine.schema import DataFrame

        return DataFrame(rows=[dict(d.data) for d in await self.run_operation()])

    async def raw_result(self) -> Any:
        from flowless_engine.schema import Data

        return Data(data=await self._dispatch())
