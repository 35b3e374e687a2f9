"""Couchbase (lfx-bundles): the vector store over Couchbase's Query and Search HTTP services
(vectors/couchbase.py maps the connection string to them). Documents go to
`bucket.scope.collection` in LangChain's shape; searches use the scoped Search index
`index_name`, which must exist (with a vector field `embedding`), as Langflow requires."""

from __future__ import annotations

from typing import Any

from flowless_engine.components.base import Input, to_text
from flowless_engine.components.store_base import CACHE_INPUT, INGEST_INPUT, QUERY_INPUT, SEARCH_OUTPUTS, StoreComponent
from flowless_engine.errors import ConfigurationError
from flowless_engine.vectors.external import Document


class CouchbaseComponent(StoreComponent):
    type_name = "Couchbase"
    display_name = "Couchbase"
    description = "Couchbase Vector Store with search capabilities"
    icon = "Couchbase"
    inputs = (
        Input("couchbase_connection_string", "Couchbase Cluster connection string", "str", "", required=True, password=True,
              input_kind="SecretStrInput", info="couchbase://host or couchbases://host (TLS); Flowless reaches its Query "
              "(8093/18093) and Search (8094/18094) services over HTTP."),
        Input("couchbase_username", "Couchbase username", "str", "", required=True, input_kind="StrInput"),
        Input("couchbase_password", "Couchbase password", "str", "", required=True, password=True, input_kind="SecretStrInput"),
        Input("bucket_name", "Bucket Name", "str", "", required=True, input_kind="StrInput"),
        Input("scope_name", "Scope Name", "str", "", required=True, input_kind="StrInput"),
        Input("collection_name", "Collection Name", "str", "", required=True, input_kind="StrInput"),
        Input("index_name", "Index Name", "str", "", required=True, input_kind="StrInput"),
        INGEST_INPUT,
        QUERY_INPUT,
        CACHE_INPUT,
        Input("embedding", "Embedding", "other", "", input_types=("Embeddings",), input_kind="HandleInput"),
        Input("number_of_results", "Number of Results", "int", 4, advanced=True, input_kind="IntInput", info="Number of results to return."),
    )
    outputs = SEARCH_OUTPUTS

    async def open_collection(self, documents: list[Document]) -> Any:
        from flowless_engine.vectors.couchbase import CouchbaseCollection

        connection = to_text(await self.secret("couchbase_connection_string") or "").strip()
        username = to_text(await self.secret("couchbase_username") or "").strip()
        password = to_text(await self.secret("couchbase_password") or "")
        names = {field: to_text(self.param(field, "")).strip() for field in ("bucket_name", "scope_name", "collection_name", "index_name")}
        missing = [field for field, value in {"couchbase_connection_string": connection, "couchbase_username": username,
                                              "couchbase_password": password, **names}.items() if not value]
        if missing:
            raise ConfigurationError(f"Component '{self.name}' (Couchbase) needs {', '.join(missing)}")
        try:
            return CouchbaseCollection(self.ctx.http, connection, username=username, password=password, bucket=names["bucket_name"],
                                       scope=names["scope_name"], collection=names["collection_name"], index=names["index_name"])
        except ConfigurationError as exc:
            raise ConfigurationError(f"Component '{self.name}': {exc.message}") from exc

    async def to_store(self, collection: Any, documents: list[Document]) -> list[Document]:
        held = await collection.held(documents)  # what an earlier run stored is not embedded again
        return [d for d in documents if d.id not in held]
