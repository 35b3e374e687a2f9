"""What every vector-store component a flow names (Astra DB, Qdrant, FAISS...) does the same way.

One run of such a node: open the collection (`open_collection`, the store's own fields), store
the rows of `ingest_data` (text → `text`, every other column → metadata; ids derived from the
content, so running a flow again does not store its documents twice), then answer `search_query`:

- `Similarity`: the `number_of_results` closest documents;
- `Similarity with score threshold`: those whose score reaches `search_score_threshold`;
- `MMR (Max Marginal Relevance)`: `number_of_results` picked among 4× as many close ones,
  balancing closeness and diversity;
- no query but a metadata filter: up to `number_of_results` matching documents, unranked.

Each result is a Data row as Langflow gives it (`text` plus the document's metadata) with the
store's similarity under `_score`. Both outputs (and the Agent tool, in tool mode) share one
ingestion and one search per run.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from flowless_engine.components.base import Component, Input, Output, Tool, to_bool, to_int, to_text
from flowless_engine.components.knowledge import content_id, search_text, storable, table_rows
from flowless_engine.errors import ConfigurationError
from flowless_engine.schema import Data, DataFrame
from flowless_engine.vectors.external import Collection, Document, Hit, mmr

SIMILARITY = "Similarity"
THRESHOLD = "Similarity with score threshold"
MMR = "MMR (Max Marginal Relevance)"
MAX_RESULTS = 1000
MMR_FETCH_FACTOR = 4

# The fields every LangChain-based store node of Langflow shares (LCVectorStoreComponent).
INGEST_INPUT = Input("ingest_data", "Ingest Data", "other", "", input_types=("Data", "DataFrame", "Table"), is_list=True, input_kind="HandleInput")
QUERY_INPUT = Input("search_query", "Search Query", "query", "", input_types=("Message",), input_kind="QueryInput",
                    info="Enter a query to run a similarity search.")
CACHE_INPUT = Input("should_cache_vector_store", "Cache Vector Store", "bool", True, advanced=True, input_kind="BoolInput")
SEARCH_OUTPUTS = (
    Output("search_results", "search_documents", ("Data",), "Search Results"),
    Output("dataframe", "as_dataframe", ("DataFrame",), "DataFrame"),
)
CONNECTION_OUTPUT = Output("vectorstoreconnection", "as_vector_store", ("VectorStore",), "Vector Store Connection")


class VectorStoreHandle:
    """What a node's `VectorStore`/`Retriever` outputs carry: the configured component, for the
    nodes that take a store as input. Shows as the store's name."""

    def __init__(self, component: "StoreComponent") -> None:
        self.component = component

    def __repr__(self) -> str:
        return f"<{self.component.type_name} vector store '{self.component.name}'>"

    def __str__(self) -> str:
        return repr(self)


class StoreComponent(Component):
    """Base of the external vector-store components. Subclasses declare their fields and open
    their collection; `query_fields`, `filter_fields` and `count_fields` list the field names the
    node's template generations used for the query, the metadata filter and the result count."""

    category = "vectorstores"
    query_fields: ClassVar[tuple[str, ...]] = ("search_query", "search_input", "input_value")
    filter_fields: ClassVar[tuple[str, ...]] = ("advanced_search_filter", "search_filter")
    count_fields: ClassVar[tuple[str, ...]] = ("number_of_results", "k", "top_k")
    default_count: ClassVar[int] = 4

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._collection: Collection | None = None
        self._results: list[Data] | None = None
        self._ingested = False

    # ---- subclasses --------------------------------------------------------------------

    async def open_collection(self, documents: list[Document]) -> Collection:
        """The collection this node names (`documents` are about to be stored)."""
        raise NotImplementedError

    async def to_store(self, collection: Collection, documents: list[Document]) -> list[Document]:
        """The documents to embed and store (all by default; a store may skip what it holds)."""
        return documents

    async def ensure_collection(self, collection: Collection, documents: list[Document]) -> None:
        """Create the collection if the store needs that before storing `documents` (their
        vectors, when set, tell the dimension). Nothing by default."""

    # ---- shared behaviour --------------------------------------------------------------

    def first_param(self, names: tuple[str, ...], default: Any = None) -> Any:
        for name in names:
            value = self.params.get(name)
            if value not in (None, "", [], {}):
                return value
        return default

    async def embedding(self) -> Any:
        """The wired or selected embedding model (an EmbeddingConfig), or None."""
        from flowless_engine.components.embeddings import embedding_config
        from flowless_engine.llm.embeddings import EmbeddingConfig

        for name in ("embedding_model", "embedding"):
            value = self.params.get(name)
            if isinstance(value, EmbeddingConfig):
                return value
            if isinstance(value, list) and value and isinstance(value[0], dict) and value[0].get("name"):
                choice = value[0]
                return await embedding_config(self, str(choice.get("provider") or "OpenAI"), str(choice["name"]),
                                              key_field="api_key", url_fields=())
        return None

    def documents(self) -> list[Document]:
        documents: dict[str, Document] = {}
        for row in table_rows(self.params.get("ingest_data")):
            text = to_text(row.pop("text", ""))
            metadata = {str(k): storable(v) for k, v in row.items() if v is not None}
            doc_id = content_id(text, json.dumps(metadata, sort_keys=True, default=str))[:32]
            documents.setdefault(doc_id, Document(text, metadata, doc_id))
        return list(documents.values())

    async def collection(self) -> Collection:
        if self._collection is None or not to_bool(self.param("should_cache_vector_store", True)):
            documents = self.documents()
            collection = await self.open_collection(documents)
            if documents:
                documents = await self.to_store(collection, documents)
            if documents and not collection.embeds_server_side:
                config = await self.embedding()
                if config is None:
                    raise ConfigurationError(f"Component '{self.name}' needs an embedding model to store documents in {collection.label}")
                vectors = await self.ctx.embedder(config).embed_documents([d.text for d in documents])
                for doc, vector in zip(documents, vectors):
                    doc.vector = list(vector)
            if documents:
                await self.ensure_collection(collection, documents)
            await self._ingest(collection, documents)
            self._collection = collection
        return self._collection

    async def _ingest(self, collection: Collection, documents: list[Document]) -> None:
        if not documents or self._ingested:
            return
        deletion_field = to_text(self.param("deletion_field", "")).strip()
        if deletion_field:
            values = sorted({str(d.metadata[deletion_field]) for d in documents if deletion_field in d.metadata})
            if values:
                deleted = await collection.delete_where(deletion_field, values)
                self.log(f"Deleted {deleted} documents where {deletion_field} is one of {values}")
        added = await collection.add(documents)
        self._ingested = True
        self.log(f"Added {added} documents to {collection.label} ({len(documents) - added} already stored)")

    def search_filter(self) -> dict[str, Any]:
        raw = self.first_param(self.filter_fields, {})
        if isinstance(raw, str):
            try:
                raw = json.loads(raw) if raw.strip() else {}
            except ValueError as exc:
                raise ConfigurationError(f"Component '{self.name}': the search filter is not a JSON object") from exc
        if isinstance(raw, list):  # a NestedDict saved as a list of one-key objects
            merged: dict[str, Any] = {}
            for part in raw:
                if isinstance(part, dict):
                    merged.update({k: v for k, v in part.items() if k})
            raw = merged
        if not isinstance(raw, dict):
            raise ConfigurationError(f"Component '{self.name}': the search filter must be a JSON object")
        return {str(k): v for k, v in raw.items() if k}

    def result_count(self) -> int:
        count = to_int(self.first_param(self.count_fields, self.default_count), self.default_count)
        return min(max(count, 1), MAX_RESULTS)

    async def search(self, query: str | None = None) -> list[Data]:
        collection = await self.collection()
        text = query if query is not None else await search_text(self.first_param(self.query_fields, ""))
        where = self.search_filter()
        k = self.result_count()
        if not text:
            if not where:
                return []
            return [self.row(hit) for hit in await collection.scan(k, where)]
        search_type = to_text(self.param("search_type", SIMILARITY)) or SIMILARITY
        hits = await self._ranked(collection, text, k, where, search_type)
        return [self.row(hit) for hit in hits]

    async def _ranked(self, collection: Collection, text: str, k: int, where: dict[str, Any], search_type: str) -> list[Hit]:
        vector = None
        if not collection.embeds_server_side:
            config = await self.embedding()
            if config is None:
                raise ConfigurationError(f"Component '{self.name}' needs an embedding model to search {collection.label}")
            vector = await self.ctx.embedder(config).embed_query(text)
        use_mmr = search_type.lower().startswith("mmr")
        fetch = min(k * MMR_FETCH_FACTOR, MAX_RESULTS) if use_mmr else k
        found = await collection.search(vector=vector, text=text, k=fetch, filter=where or None, with_vectors=use_mmr)
        hits = found.hits
        if use_mmr:
            query_vector = vector if vector is not None else found.query_vector
            if query_vector is not None and hits and any(h.vector is None for h in hits) and not collection.embeds_server_side:
                # The store does not return vectors: embed the candidates (the model is the store's).
                config = await self.embedding()
                for hit, hit_vector in zip(hits, await self.ctx.embedder(config).embed_documents([h.text for h in hits])):
                    hit.vector = list(hit_vector)
            hits = mmr(query_vector, hits, k) if query_vector is not None else hits[:k]
        elif search_type == THRESHOLD:
            threshold = float(self.param("search_score_threshold", 0) or 0)
            hits = [h for h in hits if h.score is not None and h.score >= threshold]
        return hits[:k]

    @staticmethod
    def row(hit: Hit) -> Data:
        data: dict[str, Any] = {**hit.metadata, "text": hit.text}
        if hit.score is not None:
            data["_score"] = round(hit.score, 6)
        return Data(data=data)

    # ---- outputs -----------------------------------------------------------------------

    async def search_documents(self) -> list[Data]:
        if self._results is None:
            self._results = await self.search()
            self.status = self._results
        return self._results

    async def as_dataframe(self) -> DataFrame:
        return DataFrame(rows=[dict(d.data) for d in await self.search_documents()])

    async def as_vector_store(self) -> VectorStoreHandle:
        await self.collection()  # ingests, as Langflow's build does
        return VectorStoreHandle(self)

    build_base_retriever = as_vector_store
    cast_vector_store = as_vector_store

    def as_tools(self) -> list[Tool]:
        name, description = self.tool_metadata("search_documents", f"Search {self.display_name} for documents relevant to a query.")

        async def run(arguments: dict[str, Any]) -> str:
            query = to_text(arguments.get("search_query") or arguments.get("query") or arguments.get("input") or "")
            rows = await self.search(query.strip())
            return json.dumps([r.data for r in rows], ensure_ascii=False, default=str)

        parameters = {
            "type": "object",
            "properties": {"search_query": {"type": "string", "description": "Enter a query to run a similarity search."}},
            "required": ["search_query"],
        }
        return [Tool(name=name, description=description, parameters=parameters, run=run, source_id=self.id)]
