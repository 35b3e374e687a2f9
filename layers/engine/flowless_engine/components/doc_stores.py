"""Vectara (REST v2, Vectara embeds the texts) and ClickHouse (its HTTP interface, vectors from the
wired embedding model) as Langflow's vector-store nodes: ingest then search, as every store node."""

from __future__ import annotations

from typing import Any

from flowless_engine.components.apis import service_url
from flowless_engine.components.base import Input, to_bool, to_int, to_text
from flowless_engine.components.doc_services import VECTARA_CREDENTIALS, VECTARA_URL, vectara_corpus, vectara_headers
from flowless_engine.components.store_base import CACHE_INPUT, INGEST_INPUT, QUERY_INPUT, SEARCH_OUTPUTS, StoreComponent
from flowless_engine.errors import ConfigurationError
from flowless_engine.schema import Data
from flowless_engine.vectors.external import Document

_EMBEDDING = Input("embedding", "Embedding", "other", "", input_types=("Embeddings",), input_kind="HandleInput")
_RESULTS = Input("number_of_results", "Number of Results", "int", 4, advanced=True, input_kind="IntInput", info="Number of results to return.")


class VectaraComponent(StoreComponent):
    """Vectara embeds what it stores and the query itself: a wired embedding model is not used."""

    type_name = "Vectara"
    display_name = "Vectara"
    description = "Vectara Vector Store with search capabilities"
    icon = "Vectara"
    inputs = (
        *VECTARA_CREDENTIALS,
        Input("embedding", "Embedding", "other", "", input_types=("Embeddings",), input_kind="HandleInput",
              info="Not used: Vectara embeds the documents and the query itself."),
        INGEST_INPUT,
        QUERY_INPUT,
        CACHE_INPUT,
        _RESULTS,
    )
    outputs = SEARCH_OUTPUTS
    filter_fields = ()

    async def open_collection(self, documents: list[Document]) -> Any:
        from flowless_engine.vectors.vectara import VectaraCorpus

        headers = await vectara_headers(self)
        return VectaraCorpus(self.ctx.http, service_url(self, "vectara", VECTARA_URL), vectara_corpus(self), headers)


class ClickhouseVectorStoreComponent(StoreComponent):
    type_name = "Clickhouse"
    display_name = "ClickHouse"
    description = "ClickHouse Vector Store with search capabilities"
    icon = "Clickhouse"
    inputs = (
        Input("host", "hostname", "str", "localhost", required=True, input_kind="StrInput"),
        Input("port", "port", "int", 8123, required=True, input_kind="IntInput"),
        Input("database", "database", "str", "", required=True, input_kind="StrInput"),
        Input("table", "Table name", "str", "", required=True, input_kind="StrInput"),
        Input("username", "The ClickHouse user name.", "str", "", required=True, input_kind="StrInput"),
        Input("password", "Clickhouse Password", "str", "", required=True, password=True, load_from_db=True, input_kind="SecretStrInput"),
        Input("index_type", "index_type", "str", "annoy", options=("annoy", "vector_similarity"), advanced=True, input_kind="DropdownInput",
              info="Type of the index."),
        Input("metric", "metric", "str", "angular", options=("angular", "euclidean", "manhattan", "hamming", "dot"), advanced=True,
              input_kind="DropdownInput", info="Metric to compute distance."),
        Input("secure", "Use https/TLS. This overrides inferred values from the interface or port arguments.", "bool", False, advanced=True,
              input_kind="BoolInput"),
        Input("index_param", "Param of the index", "str", "100,'L2Distance'", advanced=True, input_kind="StrInput"),
        Input("index_query_params", "index query params", "dict", {}, advanced=True, input_kind="DictInput"),
        INGEST_INPUT,
        QUERY_INPUT,
        CACHE_INPUT,
        _EMBEDDING,
        _RESULTS,
        Input("score_threshold", "Score threshold", "float", None, advanced=True, input_kind="FloatInput"),
    )
    outputs = SEARCH_OUTPUTS
    filter_fields = ()

    async def open_collection(self, documents: list[Document]) -> Any:
        from flowless_engine.vectors.clickhouse import ClickHouseTable

        host = to_text(self.param("host", "localhost")).strip()
        port = to_int(self.param("port", 8123), 8123)
        database = to_text(self.params.get("database")).strip() or "default"
        table = to_text(self.params.get("table")).strip()
        if not host or not table:
            raise ConfigurationError(f"Component '{self.name}' needs the ClickHouse host and table name")
        scheme = "https" if to_bool(self.param("secure", False)) else "http"
        password = to_text(await self.secret("password") or "")
        return ClickHouseTable(self.ctx.http, f"{scheme}://{host}:{port}", database, table, to_text(self.params.get("username")).strip(),
                               password, metric=to_text(self.param("metric", "angular")) or "angular")

    async def ensure_collection(self, collection: Any, documents: list[Document]) -> None:
        dimension = len(documents[0].vector or ())
        await collection.ensure(dimension)

    async def search(self, query: str | None = None) -> list[Data]:
        rows = await super().search(query)
        threshold = self.params.get("score_threshold")
        if threshold in (None, "", 0, 0.0):
            return rows
        return [r for r in rows if float(r.data.get("_score", 0.0)) >= float(threshold)]
