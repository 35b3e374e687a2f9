"""FAISS (lfx-bundles): an index the flow names, kept in the tenant's own vector store.

Langflow's node builds a FAISS flat L2 index from `ingest_data`, saves it as
`<persist_directory>/<index_name>.faiss` (+ a pickle), and a node with nothing to ingest loads the
saved index to search it. Flowless keeps the same index (same name, same documents, exact L2
ranking) in the tenant's vector store — local files when served locally, the tenant's prefix of
the vectors bucket in AWS — cached per warm container by that store. Pickle files are never
read (they can run code). Ingesting replaces the index with the node's documents, as Langflow's
save does; when the index already holds exactly those documents nothing is embedded again.

(faiss-cpu itself would add ~19 MB zipped, 66 MB unpacked plus numpy to a Lambda, for the exact
search the flat store already does on indexes of this size.)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from flowless_engine.components.base import Input, to_text
from flowless_engine.components.store_base import CACHE_INPUT, INGEST_INPUT, QUERY_INPUT, SEARCH_OUTPUTS, StoreComponent
from flowless_engine.errors import ConfigurationError
from flowless_engine.vectors.base import IndexRef, VectorItem, VectorStore
from flowless_engine.vectors.external import Document, Hit, SearchResult

_INDEX_NAME = re.compile(r"^[A-Za-z0-9._-]*[A-Za-z0-9_-][A-Za-z0-9._-]*$")


class TenantIndex:
    """A `vectors.external.Collection` over one index of the tenant's vector store."""

    embeds_server_side = False

    def __init__(self, vectors: VectorStore, ref: IndexRef | None, label: str, name: str) -> None:
        self.vectors = vectors
        self.ref = ref  # None until the embedding model is known (a search-only node learns it at search)
        self.label = label
        self.name = name

    async def add(self, documents: Sequence[Document]) -> int:
        assert self.ref is not None
        items = [VectorItem(d.id, list(d.vector or ()), d.text, d.metadata) for d in documents]
        return await self.vectors.upsert(self.ref, items)

    async def search(self, *, vector: Sequence[float] | None, text: str | None, k: int, filter: dict[str, Any] | None,
                     with_vectors: bool) -> SearchResult:
        if self.ref is None or vector is None:
            return SearchResult([])
        matches = await self.vectors.query(self.ref, vector, k, filter)
        return SearchResult([Hit(m.text, dict(m.metadata), m.score, m.id) for m in matches])

    async def scan(self, k: int, filter: dict[str, Any] | None) -> list[Hit]:
        if self.ref is None:
            return []
        return [Hit(m.text, dict(m.metadata), None, m.id) for m in await self.vectors.scan(self.ref, k, filter)]

    async def delete_where(self, key: str, values: Sequence[Any]) -> int:
        raise ConfigurationError(f"{self.label} cannot delete documents by a metadata field")


class FAISSComponent(StoreComponent):
    type_name = "FAISS"
    display_name = "FAISS"
    description = "FAISS Vector Store with search capabilities"
    icon = "FAISS"
    inputs = (
        Input("index_name", "Index Name", "str", "langflow_index", input_kind="StrInput"),
        Input("persist_directory", "Persist Directory", "str", "", input_kind="StrInput",
              info="Path to save the FAISS index. It will be relative to where Langflow is running."),
        INGEST_INPUT,
        QUERY_INPUT,
        CACHE_INPUT,
        Input("allow_dangerous_deserialization", "Allow Dangerous Deserialization", "bool", False, advanced=True, input_kind="BoolInput"),
        Input("embedding", "Embedding", "other", "", input_types=("Embeddings",), input_kind="HandleInput"),
        Input("number_of_results", "Number of Results", "int", 4, advanced=True, input_kind="IntInput"),
    )
    outputs = SEARCH_OUTPUTS

    def index_name(self) -> str:
        name = to_text(self.param("index_name", "")).strip() or "langflow_index"
        if not _INDEX_NAME.match(name):
            raise ConfigurationError("FAISS index name must be a file name, not a path.")
        directory = to_text(self.param("persist_directory", "")).strip().strip("/")
        return f"faiss:{directory}/{name}" if directory else f"faiss:{name}"

    async def index_ref(self) -> IndexRef | None:
        config = await self.embedding()
        return IndexRef(self.index_name(), config.identity, "euclidean") if config is not None else None

    async def open_collection(self, documents: list[Document]) -> TenantIndex:
        vectors = self.ctx.vectors
        if vectors is None:
            raise ConfigurationError(f"Component '{self.name}' needs the tenant's vector store, and none is configured for this run")
        return TenantIndex(vectors, await self.index_ref(), "FAISS", self.index_name())

    async def to_store(self, collection: Any, documents: list[Document]) -> list[Document]:
        """Replace the index with `documents`, unless it holds exactly them already."""
        if collection.ref is None:
            raise ConfigurationError(f"Component '{self.name}' needs an embedding model to build its FAISS index")
        ids = [d.id for d in documents]
        stored = await collection.vectors.existing(collection.ref, ids)
        if stored == set(ids) and await collection.vectors.count(collection.ref) == len(ids):
            return []
        await collection.vectors.delete_kb(collection.ref)
        return documents
