"""Vector-store nodes of older exports, served by the run's own vector store.

`Chroma` keeps its collection as the tenant's knowledge base of the same name (created on first
use with the wired embedding model; a knowledge base made through the API can be searched by a
Chroma node using the same model). Every run ingests `ingest_data` (rows already stored, by
content, are not embedded again unless `allow_duplicates`), then answers `search_query` with the
`number_of_results` closest documents as Data (`text` plus the stored metadata), like Langflow's
vector-store components. `persist_directory` has no effect here. When the node names a Chroma
server (`chroma_server_host`, `chroma_server_http_port`, `chroma_server_ssl_enabled`), it is a real
client of that server instead (components/chroma_server.py).
External stores Flowless does not run (AstraDB, Pinecone...) stay unsupported components.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from flowless_engine.components.base import Component, Input, Output, Tool, to_bool, to_int, to_text
from flowless_engine.components.knowledge import (
    MAX_TOP_K,
    content_id,
    embedder_for,
    knowledge_services,
    search_text,
    storable,
    table_rows,
)
from flowless_engine.errors import ConfigurationError
from flowless_engine.llm.embeddings import EmbeddingConfig, normalise_provider
from flowless_engine.schema import Data, DataFrame
from flowless_engine.vectors.base import IngestStats, KnowledgeBaseSpec, VectorItem


def _same_model(spec: KnowledgeBaseSpec, config: EmbeddingConfig) -> bool:
    return (normalise_provider(spec.embedding_provider), spec.embedding_model, spec.dimensions or None) == (
        normalise_provider(config.provider), config.model, config.dimensions or None,
    )


class ChromaComponent(Component):
    type_name = "Chroma"
    display_name = "Chroma DB"
    description = "Chroma Vector Store with search capabilities"
    category = "vectorstores"
    icon = "Chroma"
    inputs = (
        Input("collection_name", "Collection Name", "str", "langflow", input_kind="StrInput"),
        Input("persist_directory", "Persist Directory", "str", "", input_kind="StrInput"),
        Input("ingest_data", "Ingest Data", "other", "", input_types=("Data", "DataFrame"), is_list=True, input_kind="HandleInput"),
        Input("search_query", "Search Query", "str", "", input_types=("Message",), input_kind="QueryInput"),
        Input("should_cache_vector_store", "Cache Vector Store", "bool", True, advanced=True, input_kind="BoolInput"),
        Input("embedding", "Embedding", "other", "", input_types=("Embeddings",), input_kind="HandleInput"),
        Input("allow_duplicates", "Allow Duplicates", "bool", False, advanced=True, input_kind="BoolInput"),
        Input("search_type", "Search Type", "str", "Similarity", options=("Similarity", "MMR"), advanced=True, input_kind="DropdownInput"),
        Input("number_of_results", "Number of Results", "int", 10, advanced=True, input_kind="IntInput"),
        Input("limit", "Limit", "int", None, advanced=True, input_kind="IntInput"),
        Input("chroma_server_cors_allow_origins", "Server CORS Allow Origins", "str", "", advanced=True, input_kind="StrInput"),
        Input("chroma_server_host", "Server Host", "str", "", advanced=True, input_kind="StrInput"),
        Input("chroma_server_http_port", "Server HTTP Port", "int", None, advanced=True, input_kind="IntInput"),
        Input("chroma_server_grpc_port", "Server gRPC Port", "int", None, advanced=True, input_kind="IntInput"),
        Input("chroma_server_ssl_enabled", "Server SSL Enabled", "bool", False, advanced=True, input_kind="BoolInput"),
    )
    outputs = (
        Output("search_results", "search_documents", ("Data",), "Search Results"),
        Output("dataframe", "as_dataframe", ("DataFrame",), "DataFrame"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._results: list[Data] | None = None  # both outputs share one ingest and one search

    async def search_documents(self) -> list[Data]:
        if self._results is None and self._server() is not None:
            self._results = await self._server().search_documents()
        if self._results is None:
            spec, embedder = await self._collection()
            await self._ingest(spec, embedder)
            self._results = await self._search(spec, embedder)
        return self._results

    async def as_dataframe(self) -> DataFrame:
        return DataFrame(rows=[dict(d.data) for d in await self.search_documents()])

    def as_tools(self) -> list[Tool]:
        if self._server() is not None:
            return self._server().as_tools()
        name, description = self.tool_metadata("search_documents", "Search Chroma DB for documents relevant to a query.")

        async def run(arguments: dict[str, Any]) -> str:
            self.params["search_query"] = to_text(arguments.get("search_query") or "")
            self._results = None
            return json.dumps([d.data for d in await self.search_documents()], ensure_ascii=False, default=str)

        parameters = {"type": "object", "properties": {"search_query": {"type": "string", "description": "Enter a query to run a similarity search."}},
                      "required": ["search_query"]}
        return [Tool(name=name, description=description, parameters=parameters, run=run, source_id=self.id)]

    def _server(self) -> Any:
        """The Chroma server client when the node names a server host (components/chroma_server.py)."""
        if not to_text(self.params.get("chroma_server_host") or "").strip():
            return None
        if getattr(self, "_server_node", None) is None:
            from flowless_engine.components.chroma_server import ChromaServerStore

            self._server_node = ChromaServerStore(self.vertex, self.params, self.ctx)
            self._server_node.logs = self.logs
        return self._server_node

    async def _collection(self) -> tuple[KnowledgeBaseSpec, Any]:
        _, knowledge = knowledge_services(self)
        name = to_text(self.param("collection_name", "")).strip() or "langflow"
        wired = self.params.get("embedding")
        spec = await knowledge.get(name)
        if isinstance(wired, EmbeddingConfig):
            if spec is None:
                spec = await knowledge.create(
                    KnowledgeBaseSpec(name, wired.provider, wired.model, wired.dimensions), source="Chroma",
                )
            if not _same_model(spec, wired):
                raise ConfigurationError(
                    f"Collection '{name}' holds embeddings of {spec.model_key}; this node embeds with {wired.identity}"
                )
            return spec, self.ctx.embedder(wired)
        if spec is None:
            raise ConfigurationError(f"Component '{self.name}' needs an embedding model to create collection '{name}'")
        return spec, await embedder_for(self, spec)

    async def _ingest(self, spec: KnowledgeBaseSpec, embedder: Any) -> None:
        vectors, knowledge = knowledge_services(self)
        allow_duplicates = to_bool(self.param("allow_duplicates", False))
        items: dict[str, VectorItem] = {}
        for row in table_rows(self.params.get("ingest_data")):
            text = to_text(row.pop("text", ""))
            metadata = {str(k): storable(v) for k, v in row.items() if v is not None}
            item_id = str(uuid.uuid4()) if allow_duplicates else content_id(text, *(f"{k}={metadata[k]}" for k in sorted(metadata)))
            items.setdefault(item_id, VectorItem(item_id, [], text, metadata))
        if not items:
            return
        index = spec.index()
        if not allow_duplicates:
            for stored in await vectors.existing(index, list(items)):
                items.pop(stored)
        if not items:
            return
        new = list(items.values())
        stats = IngestStats()
        for item, vector in zip(new, await embedder.embed_documents([i.text for i in new])):
            item.vector = vector
            stats.add_text(item.text)
        await vectors.upsert(index, new)
        await knowledge.record_ingest(spec.name, stats)
        self.log(f"Added {stats.chunks} documents to collection '{spec.name}'")

    async def _search(self, spec: KnowledgeBaseSpec, embedder: Any) -> list[Data]:
        query = await search_text(self.params.get("search_query"))
        if not query:
            return []
        if to_text(self.param("search_type", "Similarity")) == "MMR":
            self.log("MMR search is not supported by Flowless; a similarity search was made")
        vectors, _ = knowledge_services(self)
        top_k = min(max(to_int(self.param("number_of_results", 10), 10), 1), MAX_TOP_K)
        matches = await vectors.query(spec.index(), await embedder.embed_query(query), top_k)
        results = [Data(data={**m.metadata, "text": m.text}) for m in matches]
        self.status = results
        return results
