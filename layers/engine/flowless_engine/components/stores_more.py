"""More vector stores reached over HTTP (lfx-bundles, lfx-datastax): Weaviate, and Cassandra when
the node names an Astra DB database. Each node maps its fields to a `vectors/<store>.py` client;
ingestion, search and outputs are store_base's."""

from __future__ import annotations

from typing import Any

from flowless_engine.components.base import Input, to_int, to_text
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
