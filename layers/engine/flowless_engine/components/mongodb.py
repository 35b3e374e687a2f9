"""MongoDB Atlas (`MongoDBAtlasVector`, lfx-bundles): a vector store over MongoDB's wire protocol
(pymongo from the connectors layer; vectors/mongodb.py has the document shape and the network
guard). Ingestion, search and outputs are store_base's.

As in Langflow: `insert_mode` "overwrite" empties the collection before storing the flow's
documents; the vector search index `index_name` is created when missing (vector field
`index_field`, `number_dimensions`, `similarity`, `quantization`, and `filter_field` as a filter
field); a search needs a query (no query, no results). Where Flowless differs: documents get ids
from their content, so running a flow again does not store them twice; the vectors are stored in
`index_field` (LangChain always writes `embedding`, the default); and an index about to be created
for vectors whose length is not `number_dimensions` is refused up front (Atlas would index them
but never return them).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from typing import Any

from flowless_engine.components.base import Input, to_bool, to_int, to_text
from flowless_engine.components.store_base import CACHE_INPUT, INGEST_INPUT, QUERY_INPUT, SEARCH_OUTPUTS, StoreComponent
from flowless_engine.errors import ConfigurationError
from flowless_engine.vectors.external import Document

SIMILARITIES = ("cosine", "euclidean", "dotProduct")


class MongoDBAtlasComponent(StoreComponent):
    type_name = "MongoDBAtlasVector"
    display_name = "MongoDB Atlas"
    description = "MongoDB Atlas Vector Store with search capabilities"
    icon = "MongoDB"
    inputs = (
        Input("mongodb_atlas_cluster_uri", "MongoDB Atlas Cluster URI", "str", "", required=True, password=True, input_kind="SecretStrInput"),
        Input("enable_mtls", "Enable mTLS", "bool", False, required=True, advanced=True, input_kind="BoolInput"),
        Input("mongodb_atlas_client_cert", "MongoDB Atlas Combined Client Certificate", "str", "", password=True, input_kind="SecretStrInput",
              info="Client Certificate combined with the private key (PEM: the private key, then the certificate)."),
        Input("db_name", "Database Name", "str", "", required=True, input_kind="StrInput"),
        Input("collection_name", "Collection Name", "str", "", required=True, input_kind="StrInput"),
        Input("index_name", "Index Name", "str", "", required=True, input_kind="StrInput",
              info="The name of Atlas Search index, it should be a Vector Search."),
        INGEST_INPUT,
        QUERY_INPUT,
        CACHE_INPUT,
        Input("insert_mode", "Insert Mode", "str", "append", options=("append", "overwrite"), advanced=True, input_kind="DropdownInput",
              info="How to insert new documents into the collection."),
        Input("embedding", "Embedding", "other", "", input_types=("Embeddings",), input_kind="HandleInput"),
        Input("number_of_results", "Number of Results", "int", 4, advanced=True, input_kind="IntInput", info="Number of results to return."),
        Input("index_field", "Index Field", "str", "embedding", required=True, advanced=True, input_kind="StrInput", info="The field to index."),
        Input("filter_field", "Filter Field", "str", "", advanced=True, input_kind="StrInput", info="The field to filter the index."),
        Input("number_dimensions", "Number of Dimensions", "int", 1536, required=True, advanced=True, input_kind="IntInput",
              info="Embedding Context Length."),
        Input("similarity", "Similarity", "str", "cosine", options=SIMILARITIES, advanced=True, input_kind="DropdownInput",
              info="The method used to measure the similarity between vectors."),
        Input("quantization", "Quantization", "str", None, options=("scalar", "binary"), advanced=True, input_kind="DropdownInput",
              info="Quantization reduces memory costs converting 32-bit floats to smaller data types"),
    )
    outputs = SEARCH_OUTPUTS

    async def open_collection(self, documents: list[Document]) -> Any:
        from flowless_engine.vectors.mongodb import MongoCollection, MongoTarget

        uri = to_text(await self.secret("mongodb_atlas_cluster_uri") or "").strip()
        # Any field may name a tenant variable (load_from_db), as in Langflow.
        names = {n: to_text(await self.secret(n) or "").strip() for n in ("db_name", "collection_name", "index_name")}
        if not uri or not all(names.values()):
            missing = [n for n in ("mongodb_atlas_cluster_uri", *names) if not (uri if n == "mongodb_atlas_cluster_uri" else names[n])]
            raise ConfigurationError(f"Component '{self.name}' needs {', '.join(missing)} to reach MongoDB Atlas")
        similarity = to_text(self.param("similarity", "cosine")) or "cosine"
        if similarity not in SIMILARITIES:
            raise ConfigurationError(f"Component '{self.name}': Similarity must be one of {', '.join(SIMILARITIES)}")
        settings = self.ctx.settings
        target = MongoTarget(uri, allow_private=settings.allow_private_networks, allow_loopback=settings.allow_loopback)
        await target.vet()
        collection = MongoCollection(
            target, names["db_name"], names["collection_name"], names["index_name"],
            vector_field=to_text(self.param("index_field", "")).strip() or "embedding",
            filter_field=to_text(self.param("filter_field", "")).strip(),
            dimensions=to_int(self.param("number_dimensions", 1536), 1536),
            similarity=similarity,
            quantization=to_text(self.param("quantization", "")).strip() or None,
            certificate_file=await self._certificate_file(),
        )
        if documents and to_text(self.param("insert_mode", "append")) == "overwrite":
            removed = await collection.clear()
            self.log(f"Removed {removed} documents from {names['db_name']}.{names['collection_name']} (insert mode overwrite)")
        return collection

    async def ensure_collection(self, collection: Any, documents: list[Document]) -> None:
        """Before storing: refuse vectors the index about to be created could not hold (the index
        itself is created once the documents are stored: Atlas indexes existing collections)."""
        length = len(documents[0].vector or ())
        if length and length != collection.dimensions:
            if not await collection.index_exists():
                raise ConfigurationError(f"Component '{self.name}': Number of Dimensions is {collection.dimensions} but the embedding "
                                         f"model gives vectors of {length}; set Number of Dimensions to {length}")

    async def _certificate_file(self) -> str | None:
        """The mTLS client certificate (key + certificate, PEM) in a private temp file named by
        its digest, so warm runs reuse the file and the client."""
        if not to_bool(self.param("enable_mtls", False)):
            return None
        pem = to_text(await self.secret("mongodb_atlas_client_cert") or "").strip()
        if "-----BEGIN" not in pem:
            raise ConfigurationError(f"Component '{self.name}': Enable mTLS needs the combined client certificate (PEM)")
        pem = pem_text(pem)
        path = os.path.join(tempfile.gettempdir(), f"flowless-mongo-{hashlib.sha256(pem.encode()).hexdigest()[:24]}.pem")
        if not os.path.exists(path):
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(pem + "\n")
        return path


def pem_text(pem: str) -> str:
    """A PEM pasted on one line (its line breaks became spaces, as a single-line secret field
    keeps it) with its line breaks back; a PEM with line breaks as it is."""
    if "\n" in pem:
        return pem
    blocks = re.findall(r"-----BEGIN ([A-Z ]+)-----(.*?)-----END \1-----", pem, re.S)
    return "\n".join(f"-----BEGIN {label}-----\n" + "\n".join(body.split()) + f"\n-----END {label}-----" for label, body in blocks)
