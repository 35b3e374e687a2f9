"""Chroma DB when the node names a Chroma server (`chroma_server_host`): a real client of that
server's HTTP API (vectors/chroma.py), in the collection `collection_name` (created on first
ingestion). Without a host the node keeps using the tenant's own store (vectorstores.py)."""

from __future__ import annotations

from typing import Any

from flowless_engine.components.base import to_bool, to_int, to_text
from flowless_engine.components.store_base import StoreComponent
from flowless_engine.errors import ConfigurationError
from flowless_engine.vectors.external import Document


def chroma_server_url(params: dict[str, Any]) -> str | None:
    host = to_text(params.get("chroma_server_host") or "").strip()
    if not host:
        return None
    if "://" in host:
        return host.rstrip("/")
    scheme = "https" if to_bool(params.get("chroma_server_ssl_enabled", False)) else "http"
    port = to_int(params.get("chroma_server_http_port"), 0) or 8000
    return f"{scheme}://{host}:{port}"


class ChromaServerStore(StoreComponent):
    """Not registered on its own: the Chroma node hands its run to it when a server is named."""

    type_name = "Chroma"
    display_name = "Chroma DB"
    default_count = 10

    async def open_collection(self, documents: list[Document]) -> Any:
        from flowless_engine.vectors.chroma import ChromaCollection

        url = chroma_server_url(self.params)
        if url is None:
            raise ConfigurationError(f"Component '{self.name}' names no Chroma server")
        name = to_text(self.param("collection_name", "")).strip() or "langflow"
        collection = ChromaCollection(self.ctx.http, url, name)
        await collection.load()
        return collection

    def documents(self) -> list[Document]:
        documents = super().documents()
        if to_bool(self.param("allow_duplicates", False)):
            import uuid

            for doc in documents:
                doc.id = uuid.uuid4().hex
        return documents
