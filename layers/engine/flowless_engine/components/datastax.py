"""DataStax Astra DB (the `lfx-datastax` bundle; `AstraDB` in every export since 1.0) over the
Data API.

The database is the node's `api_endpoint` (or a `database_name` written as an endpoint URL);
the token is `token` (a tenant variable when `load_from_db`); the collection is created on first
ingestion when it does not exist: with the wired embedding model's dimension, or with Astra's
server-side embeddings ("vectorize") when the node asks for them (older exports'
`embedding_choice` "Astra Vectorize" with `embedding_provider`/`model`). A collection that
embeds on the server is searched with `$vectorize`: no embedding model is needed.
"""

from __future__ import annotations

import json
from typing import Any

from flowless_engine.components.base import Component, Input, Output, Tool, to_bool, to_int, to_text
from flowless_engine.components.knowledge import search_text
from flowless_engine.components.store_base import (
    CACHE_INPUT,
    CONNECTION_OUTPUT,
    INGEST_INPUT,
    QUERY_INPUT,
    SEARCH_OUTPUTS,
    StoreComponent,
)
from flowless_engine.errors import ConfigurationError
from flowless_engine.schema import Data
from flowless_engine.vectors.external import Document

DEFAULT_KEYSPACE = "default_keyspace"
# Older exports name the vectorize provider as the Astra portal shows it.
_PROVIDERS = {"nvidia": "nvidia", "openai": "openai", "azure openai": "azureOpenAI", "hugging face": "huggingface",
              "hugging face - dedicated": "huggingfaceDedicated", "jina ai": "jinaAI", "mistral ai": "mistral",
              "upstage": "upstageAI", "voyage ai": "voyageAI", "cohere": "cohere", "vertex ai": "vertexai"}

ASTRA_CONNECTION_INPUTS = (
    Input("token", "Astra DB Application Token", "str", "ASTRA_DB_APPLICATION_TOKEN", required=True, password=True,
          load_from_db=True, input_kind="SecretStrInput", info="Authentication token for accessing Astra DB."),
    Input("environment", "Environment", "str", "prod", options=("prod", "test", "dev"), advanced=True, input_kind="DropdownInput",
          info="The environment for the Astra DB API Endpoint."),
    Input("database_name", "Database", "str", "", required=True, input_kind="DropdownInput",
          info="The Database name for the Astra DB instance."),
    Input("api_endpoint", "Astra DB API Endpoint", "str", "", advanced=True, input_kind="DropdownInput",
          info="The API Endpoint for the Astra DB instance. Supersedes database selection."),
    Input("keyspace", "Keyspace", "str", "", advanced=True, input_kind="DropdownInput",
          info="Optional keyspace within Astra DB to use for the collection."),
    Input("collection_name", "Collection", "str", "", required=True, input_kind="DropdownInput",
          info="The name of the collection within Astra DB where the vectors will be stored."),
    Input("autodetect_collection", "Autodetect Collection", "bool", True, advanced=True, input_kind="BoolInput"),
)


async def astra_collection(component: Any, *, content_field: str = "") -> Any:
    """The node's collection client, options loaded (no request is made twice in a warm container)."""
    from flowless_engine.vectors.astra import AstraCollection

    field = next((f for f in ("api_endpoint", "d_api_endpoint") if component.params.get(f)), "api_endpoint")
    endpoint = to_text(await component.secret(field) or "").strip()  # a variable name when `load_from_db`
    database = to_text(component.param("database_name", "")).strip()
    if not endpoint and database.startswith(("https://", "http://")):
        endpoint = database
    if not endpoint:
        where = f" (database '{database}')" if database else ""
        raise ConfigurationError(f"Component '{component.name}' needs its Astra DB API endpoint{where}: set `api_endpoint` "
                                 "to the database's https://<id>-<region>.apps.astra.datastax.com address")
    token = await component.secret("token")
    if not token:
        raise ConfigurationError(f"Component '{component.name}' needs an Astra DB application token")
    collection_name = to_text(component.param("collection_name", "")).strip()
    if not collection_name:
        raise ConfigurationError(f"Component '{component.name}' needs a collection name")
    keyspace = to_text(component.first_param(("keyspace", "namespace"), "")).strip() or DEFAULT_KEYSPACE
    collection = AstraCollection(component.ctx.http, endpoint, token, keyspace, collection_name, content_field=content_field,
                                 batch_size=to_int(component.params.get("batch_size"), 0) or 20)
    await collection.load_options()
    return collection


class AstraDBComponent(StoreComponent):
    type_name = "AstraDB"
    display_name = "Astra DB"
    description = "Ingest and search documents in Astra DB"
    icon = "AstraDB"
    inputs = (
        *ASTRA_CONNECTION_INPUTS,
        INGEST_INPUT,
        QUERY_INPUT,
        CACHE_INPUT,
        Input("embedding_model", "Embedding Model", "model", "", input_types=("Embeddings",), input_kind="ModelInput",
              info="Specify the Embedding Model. Not required for Astra Vectorize collections."),
        Input("api_key", "API Key", "str", "", password=True, advanced=True, input_kind="SecretStrInput"),
        Input("content_field", "Content Field", "str", "", advanced=True, input_kind="StrInput"),
        Input("deletion_field", "Deletion Based On Field", "str", "", advanced=True, input_kind="StrInput"),
        Input("ignore_invalid_documents", "Ignore Invalid Documents", "bool", False, advanced=True, input_kind="BoolInput"),
        Input("astradb_vectorstore_kwargs", "AstraDBVectorStore Parameters", "NestedDict", {}, advanced=True, input_kind="NestedDictInput"),
        Input("search_method", "Search Method", "str", "Vector Search", options=("Hybrid Search", "Vector Search"), advanced=True,
              input_kind="DropdownInput"),
        Input("reranker", "Reranker", "str", "", input_kind="DropdownInput"),
        Input("lexical_terms", "Lexical Terms", "query", "", input_types=("Message",), input_kind="QueryInput"),
        Input("number_of_results", "Number of Search Results", "int", 4, advanced=True, input_kind="IntInput"),
        Input("search_type", "Search Type", "str", "Similarity",
              options=("Similarity", "Similarity with score threshold", "MMR (Max Marginal Relevance)"), advanced=True,
              input_kind="DropdownInput"),
        Input("search_score_threshold", "Search Score Threshold", "float", 0, advanced=True, input_kind="FloatInput"),
        Input("advanced_search_filter", "Search Metadata Filter", "NestedDict", {}, advanced=True, input_kind="NestedDictInput"),
    )
    outputs = (
        *SEARCH_OUTPUTS,
        CONNECTION_OUTPUT,
        # Older exports' handles for LangChain nodes.
        Output("base_retriever", "build_base_retriever", ("Retriever",), "Retriever"),
        Output("vector_store", "cast_vector_store", ("VectorStore",), "Vector Store"),
    )

    async def open_collection(self, documents: list[Document]) -> Any:
        collection = await astra_collection(self, content_field=to_text(self.param("content_field", "")).strip())
        if documents and not collection.options.exists:
            service = self.vectorize_service(collection.name)
            if service is not None:
                await self._create(collection, None, service)
        return collection

    async def ensure_collection(self, collection: Any, documents: list[Document]) -> None:
        if collection.options.exists:
            return
        vectors = [d.vector for d in documents if d.vector is not None]
        await self._create(collection, to_int(self.params.get("dimension"), 0) or len(vectors[0]), None)

    async def _create(self, collection: Any, dimension: int | None, service: dict[str, Any] | None) -> None:
        metric = to_text(self.param("metric", "")).strip() or "cosine"
        await collection.create(dimension=dimension, metric=metric, service=service)
        self.log(f"Created collection '{collection.name}'")

    async def _ranked(self, collection: Any, text: str, k: int, where: dict[str, Any], search_type: str) -> list[Any]:
        """Hybrid Search (the default of 1.13 collections with lexical and rerank): Astra's
        `findAndRerank`, the lexical part from `lexical_terms` (else the query)."""
        if not collection.options.exists:  # nothing was ever stored there: nothing to find (as Langflow answers)
            return []
        if to_text(self.param("search_method", "")) == "Hybrid Search":
            if collection.options.hybrid:
                lexical = await search_text(self.params.get("lexical_terms"))
                return (await collection.hybrid_search(text=text, lexical=lexical, k=k, filter=where or None)).hits
            self.log(f"Collection '{collection.name}' has no lexical index and reranker: a vector search is made")
        return await super()._ranked(collection, text, k, where, search_type)

    def vectorize_service(self, collection_name: str = "") -> dict[str, Any] | None:
        """Astra vectorize as older exports configure it (`embedding_choice` "Astra Vectorize").
        Nodes of 1.1–1.2 carry no provider fields: they rely on an existing collection whose
        vectorize integration is detected (so does Flowless); a missing one cannot be created."""
        if to_text(self.param("embedding_choice", "")) != "Astra Vectorize":
            return None
        provider = to_text(self.param("embedding_provider", "")).strip()
        model = to_text(self.param("model", "")).strip()
        if not provider or not model:
            raise ConfigurationError(
                f"Component '{self.name}' uses Astra Vectorize, but collection '{collection_name}' does not exist and the node "
                "names no vectorize provider and model to create it: create the collection with an embedding provider in Astra, "
                "or choose Embedding Model")
        service: dict[str, Any] = {"provider": _PROVIDERS.get(provider.lower(), provider.lower()), "modelName": model}
        key_name = to_text(self.param("z_02_api_key_name", "")).strip()
        if key_name:
            service["authentication"] = {"providerKey": key_name}
        return service


_OPERATORS = ("$gt", "$gte", "$lt", "$lte", "$eq", "$ne", "$in", "$nin", "$exists", "$all", "$size")
_DATE_FORMATS = ("%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S", "%d/%m/%Y", "%Y/%m/%d")


def _flag(value: Any) -> bool:
    return value is True or str(value).strip().lower() == "true"


def _dict_entries(value: Any) -> dict[str, Any]:
    """A DictInput's value: one object, or (list fields) a list of one-key objects."""
    if isinstance(value, dict):
        return {str(k): v for k, v in value.items() if k}
    if isinstance(value, list):
        merged: dict[str, Any] = {}
        for part in value:
            merged.update(_dict_entries(part))
        return merged
    return {}


class AstraDBToolComponent(Component):
    """Astra DB Tool (legacy in 1.13): an Agent tool that looks documents up in a collection by the
    attributes the model passes (`tools_params_v2`, or the older `tool_params` where `!name` marks
    a mandatory one), plus `static_filters`, optionally ranked by a semantic `search_query`."""

    type_name = "AstraDBToolComponent"
    display_name = "Astra DB Tool"
    description = "Tool to run hybrid vector and metadata search on DataStax Astra DB Collection"
    category = "vectorstores"
    icon = "AstraDB"
    inputs = (
        *ASTRA_CONNECTION_INPUTS,
        Input("tool_name", "Tool Name", "str", "", required=True, input_kind="StrInput"),
        Input("tool_description", "Tool Description", "str", "", required=True, input_kind="StrInput"),
        Input("projection_attributes", "Projection Attributes", "str", "*", required=True, advanced=True, input_kind="StrInput"),
        Input("tools_params_v2", "Tools Parameters", "table", [], input_kind="TableInput"),
        Input("tool_params", "Tool params", "dict", {}, is_list=True, advanced=True, input_kind="DictInput"),
        Input("static_filters", "Static filters", "dict", {}, is_list=True, advanced=True, input_kind="DictInput"),
        Input("number_of_results", "Number of Results", "int", 5, advanced=True, input_kind="IntInput"),
        Input("use_search_query", "Semantic Search", "bool", False, input_kind="BoolInput"),
        Input("use_vectorize", "Use Astra DB Vectorize", "bool", False, input_kind="BoolInput"),
        Input("semantic_search_instruction", "Semantic Search Instruction", "str", "Search query to find relevant documents.",
              required=True, advanced=True, input_kind="StrInput"),
    )
    outputs = (
        Output("api_run_model", "run_model", ("Data",), "Data"),
        Output("api_build_tool", "build_tool", ("Tool",), "Tool"),
    )

    first_param = StoreComponent.first_param

    def parameters(self) -> list[dict[str, Any]]:
        """The tool's parameters as `tools_params_v2` rows (the older `tool_params` converted)."""
        legacy = _dict_entries(self.params.get("tool_params"))
        if legacy:
            return [{"name": k.lstrip("!"), "attribute_name": "", "description": str(v or k.lstrip("!")), "metadata": False,
                     "mandatory": k.startswith("!"), "is_timestamp": False, "operator": "$eq"} for k, v in legacy.items()]
        rows = self.params.get("tools_params_v2") or []
        return [r for r in rows if isinstance(r, dict) and r.get("name")] if isinstance(rows, list) else []

    def schema(self) -> dict[str, Any]:
        properties: dict[str, Any] = {}
        required: list[str] = []
        for row in self.parameters():
            properties[row["name"]] = {"type": "string", "description": str(row.get("description") or row["name"])}
            if _flag(row.get("mandatory")):
                required.append(row["name"])
        if to_bool(self.param("use_search_query", False)):
            properties["search_query"] = {"type": "string", "description": to_text(self.param("semantic_search_instruction", ""))
                                          or "Search query to find relevant documents."}
            required.append("search_query")
        return {"type": "object", "properties": properties, "required": required}

    def build_filter(self, arguments: dict[str, Any]) -> dict[str, Any]:
        filters: dict[str, Any] = dict(_dict_entries(self.params.get("static_filters")))
        for row in self.parameters():
            value = arguments.get(row["name"])
            if value is None or row["name"] == "search_query":
                continue
            attribute = to_text(row.get("attribute_name")) or row["name"]
            key = f"metadata.{attribute}" if _flag(row.get("metadata")) else attribute
            operator = row.get("operator") if row.get("operator") in _OPERATORS else "$eq"
            if operator == "$exists":
                value = True
            elif operator in ("$in", "$nin", "$all"):
                value = value.split(",") if isinstance(value, str) else value
            elif _flag(row.get("is_timestamp")):
                value = {"$date": _epoch_ms(to_text(value))}
            current = filters.get(key)
            filters[key] = {**(current if isinstance(current, dict) else {}), operator: value}
        return filters

    def projection(self) -> dict[str, Any] | None:
        elements = [e.strip() for e in to_text(self.param("projection_attributes", "*")).split(",") if e.strip()]
        if not elements or elements == ["*"]:
            return None
        projection: dict[str, Any] = {"$vector": False}
        for element in elements:
            projection[element.lstrip("!")] = not element.startswith("!")
        return projection

    async def lookup(self, arguments: dict[str, Any]) -> list[Data]:
        collection = await astra_collection(self)
        sort: dict[str, Any] | None = None
        query = to_text(arguments.get("search_query") or "").strip()
        if to_bool(self.param("use_search_query", False)) and query:
            if to_bool(self.param("use_vectorize", False)):
                sort = {"$vectorize": query}
            else:
                config = self.params.get("embedding")
                from flowless_engine.llm.embeddings import EmbeddingConfig

                if not isinstance(config, EmbeddingConfig):
                    raise ConfigurationError(f"Component '{self.name}' needs an embedding model (or Astra DB Vectorize) for semantic search")
                sort = {"$vector": await self.ctx.embedder(config).embed_query(query)}
        documents = await collection.find_documents(self.build_filter(arguments), sort=sort,
                                                    limit=to_int(self.param("number_of_results", 5), 5), projection=self.projection())
        rows = [Data(data={k: v for k, v in d.items() if k != "$vector"}) for d in documents]
        self.status = rows
        return rows

    async def run_model(self) -> list[Data]:
        return await self.lookup({})

    async def build_tool(self) -> Tool:
        name = to_text(self.param("tool_name", "")).strip() or "astra_db_lookup"
        description = to_text(self.param("tool_description", "")).strip() or self.description

        async def run(arguments: dict[str, Any]) -> str:
            rows = await self.lookup(arguments)
            return json.dumps([r.data for r in rows], ensure_ascii=False, default=str)

        return Tool(name=name, description=description, parameters=self.schema(), run=run, source_id=self.id)


def _epoch_ms(text: str) -> int:
    from datetime import datetime, timezone

    for fmt in _DATE_FORMATS:
        try:
            parsed = datetime.strptime(text.strip(), fmt)
        except ValueError:
            continue
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        return int(parsed.timestamp() * 1000)
    raise ConfigurationError(f"Could not parse date: {text} - use a date such as 2024-03-21")


def hcd_token(username: str, password: str) -> str:
    """The Data API token of a Hyper-Converged Database user (astrapy's username/password form)."""
    import base64

    def encode(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    return f"Cassandra:{encode(username)}:{encode(password)}"


class HCDComponent(StoreComponent):
    """DataStax Hyper-Converged Database: the Data API on your own cluster, with a username and
    password; documents, searches and errors as for Astra DB."""

    type_name = "HCD"
    display_name = "Hyper-Converged Database"
    description = "Implementation of Vector Store using Hyper-Converged Database (HCD) with search capabilities"
    icon = "HCD"
    filter_fields = ("search_filter",)
    inputs = (
        Input("collection_name", "Collection Name", "str", "", required=True, input_kind="StrInput"),
        Input("username", "HCD Username", "str", "hcd-superuser", required=True, input_kind="StrInput"),
        Input("password", "HCD Password", "str", "HCD_PASSWORD", required=True, password=True, load_from_db=True, input_kind="SecretStrInput"),
        Input("api_endpoint", "HCD API Endpoint", "str", "HCD_API_ENDPOINT", required=True, password=True, load_from_db=True,
              input_kind="SecretStrInput"),
        INGEST_INPUT,
        QUERY_INPUT,
        CACHE_INPUT,
        Input("namespace", "Namespace", "str", "default_namespace", required=True, input_kind="StrInput"),
        Input("ca_certificate", "CA Certificate", "str", "", advanced=True, multiline=True, input_kind="MultilineInput"),
        Input("metric", "Metric", "str", "", options=("cosine", "dot_product", "euclidean"), advanced=True, input_kind="DropdownInput"),
        Input("batch_size", "Batch Size", "int", None, advanced=True, input_kind="IntInput"),
        Input("bulk_insert_batch_concurrency", "Bulk Insert Batch Concurrency", "int", None, advanced=True, input_kind="IntInput"),
        Input("bulk_insert_overwrite_concurrency", "Bulk Insert Overwrite Concurrency", "int", None, advanced=True, input_kind="IntInput"),
        Input("bulk_delete_concurrency", "Bulk Delete Concurrency", "int", None, advanced=True, input_kind="IntInput"),
        Input("setup_mode", "Setup Mode", "str", "Sync", options=("Sync", "Async", "Off"), advanced=True, input_kind="DropdownInput"),
        Input("pre_delete_collection", "Pre Delete Collection", "bool", False, advanced=True, input_kind="BoolInput"),
        Input("metadata_indexing_include", "Metadata Indexing Include", "str", "", advanced=True, input_kind="StrInput"),
        Input("embedding", "Embedding or Astra Vectorize", "other", "", input_types=("Embeddings", "dict"), input_kind="HandleInput"),
        Input("metadata_indexing_exclude", "Metadata Indexing Exclude", "str", "", advanced=True, input_kind="StrInput"),
        Input("collection_indexing_policy", "Collection Indexing Policy", "str", "", advanced=True, input_kind="StrInput"),
        Input("number_of_results", "Number of Results", "int", 4, advanced=True, input_kind="IntInput"),
        Input("search_type", "Search Type", "str", "Similarity",
              options=("Similarity", "Similarity with score threshold", "MMR (Max Marginal Relevance)"), advanced=True, input_kind="DropdownInput"),
        Input("search_score_threshold", "Search Score Threshold", "float", 0, advanced=True, input_kind="FloatInput"),
        Input("search_filter", "Search Metadata Filter", "dict", {}, advanced=True, is_list=True, input_kind="DictInput"),
    )
    outputs = SEARCH_OUTPUTS

    async def open_collection(self, documents: list[Document]) -> Any:
        from flowless_engine.vectors.astra import AstraCollection

        endpoint = to_text(await self.secret("api_endpoint") or "").strip()
        password = await self.secret("password") or ""
        username = to_text(self.param("username", "")).strip()
        name = to_text(self.param("collection_name", "")).strip()
        if not endpoint or not username or not name:
            raise ConfigurationError(f"Component '{self.name}' needs the HCD API endpoint, a username and a collection name")
        keyspace = to_text(self.param("namespace", "")).strip() or "default_namespace"
        collection = AstraCollection(self.ctx.http, endpoint, hcd_token(username, password), keyspace, name,
                                     batch_size=to_int(self.params.get("batch_size"), 0) or 20, label="HCD")
        await collection.load_options()
        if documents and collection.options.exists and to_bool(self.param("pre_delete_collection", False)):
            body = await collection.command({"deleteCollection": {"name": name}}, on_collection=False, action=f"deleting collection '{name}'")
            collection.raise_errors(body, f"deleting collection '{name}'")
            collection.forget()
            collection.options = type(collection.options)(False)
        return collection

    async def ensure_collection(self, collection: Any, documents: list[Document]) -> None:
        if not collection.options.exists:
            vectors = [d.vector for d in documents if d.vector is not None]
            metric = to_text(self.param("metric", "")).strip() or "cosine"
            await collection.create(dimension=len(vectors[0]), metric=metric, service=None)


class AstraChatHistory:
    """A session's chat messages in an Astra DB collection, as LangChain's AstraDBChatMessageHistory
    keeps them: `{"_id", "session_id", "timestamp", "body_blob": <the message as LangChain's dict>}`.
    Message History and Message Store nodes read and write it through their `memory` input."""

    def __init__(self, collection: Any, session_id: str) -> None:
        self.collection = collection
        self.session_id = session_id

    async def get_messages(self, session_id: str | None = None, limit: int = 100) -> list[Any]:
        from flowless_engine.schema import Message

        if not self.collection.options.exists:
            return []
        documents = await self.collection.find_documents({"session_id": session_id or self.session_id}, limit=1000,
                                                         projection={"timestamp": 1, "body_blob": 1, "session_id": 1})
        documents.sort(key=lambda d: d.get("timestamp") or 0)
        messages = []
        for document in documents[-limit:] if limit else documents:
            try:
                body = json.loads(document.get("body_blob") or "{}")
            except ValueError:
                continue
            kind = body.get("type") or (body.get("data") or {}).get("type")
            content = (body.get("data") or {}).get("content", "")
            human = kind == "human"
            messages.append(Message(text=content if isinstance(content, str) else json.dumps(content), sender="User" if human else "Machine",
                                    sender_name="User" if human else "AI", session_id=document.get("session_id") or self.session_id))
        return messages

    async def add_messages(self, messages: list[Any], session_id: str | None = None) -> None:
        import time
        import uuid

        if not self.collection.options.exists:
            action = f"creating collection '{self.collection.name}'"
            body = await self.collection.command({"createCollection": {"name": self.collection.name}}, on_collection=False, action=action)
            self.collection.raise_errors(body, action)
            self.collection.options = type(self.collection.options)(True)
        documents = []
        for message in messages:
            kind = "human" if message.sender == "User" else "ai"
            blob = {"type": kind, "data": {"content": message.plain_text, "additional_kwargs": {}, "response_metadata": {}, "type": kind,
                                           "name": None, "id": None}}
            documents.append({"_id": uuid.uuid4().hex, "session_id": session_id or self.session_id, "timestamp": time.time(),
                              "body_blob": json.dumps(blob)})
        action = f"storing chat messages in collection '{self.collection.name}'"
        body = await self.collection.command({"insertMany": {"documents": documents, "options": {"ordered": True}}}, action=action)
        self.collection.raise_errors(body, action)


class AstraDBChatMemoryComponent(Component):
    type_name = "AstraDBChatMemory"
    display_name = "Astra DB Chat Memory"
    description = "Retrieves and stores chat messages from Astra DB."
    category = "memories"
    icon = "AstraDB"
    inputs = (
        *ASTRA_CONNECTION_INPUTS,
        Input("session_id", "Session ID", "str", "", input_types=("Message",), advanced=True, input_kind="MessageTextInput"),
    )
    outputs = (Output("memory", "build_message_history", ("Memory",), "Memory"),)

    first_param = StoreComponent.first_param

    async def build_message_history(self) -> AstraChatHistory:
        collection = await astra_collection(self)
        return AstraChatHistory(collection, to_text(self.param("session_id", "")) or self.ctx.session_id)
