"""OpenSearch (`OpenSearchVectorStoreComponent`, lfx-bundles' elastic family) over its REST API.

`filter_expression` is Langflow's JSON: explicit clauses `{"filter": [{"term": {...}}, {"terms":
{...}}], "limit": n, "score_threshold": s}` or a context map `{"data_sources": [...],
"document_types": [...], "owners": [...], "<field>": [...]}` (lists; an empty list matches
nothing; `__IMPOSSIBLE_VALUE__` is ignored). `docs_metadata` rows (`key`, `value`) are added to
every ingested document. Authentication: basic (username/password) or a JWT in a header.
Certificates are always verified (`verify_certs` off is not honoured).
"""

from __future__ import annotations

import json
from typing import Any

from flowless_engine.components.base import Input, to_bool, to_int, to_text
from flowless_engine.components.knowledge import search_text
from flowless_engine.components.store_base import CACHE_INPUT, INGEST_INPUT, QUERY_INPUT, SEARCH_OUTPUTS, StoreComponent
from flowless_engine.errors import ConfigurationError
from flowless_engine.schema import Data
from flowless_engine.vectors.external import Document

_IMPOSSIBLE = "__IMPOSSIBLE_VALUE__"
_CONTEXT_FIELDS = {"data_sources": "filename", "document_types": "mimetype", "owners": "owner"}


def filter_clauses(raw: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(term/terms clauses, the expression object) from `filter_expression`."""
    if isinstance(raw, str):
        if not raw.strip():
            return [], {}
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise ConfigurationError(f"Invalid filter_expression JSON: {exc}") from exc
    if not isinstance(raw, dict) or not raw:
        return [], {}
    if "filter" in raw:
        explicit = raw["filter"] if isinstance(raw["filter"], list) else [raw["filter"]]
        clauses = []
        for clause in explicit:
            if not isinstance(clause, dict):
                continue
            if isinstance(clause.get("term"), dict) and _IMPOSSIBLE not in clause["term"].values():
                clauses.append(clause)
            elif isinstance(clause.get("terms"), dict) and any(isinstance(v, list) and v for v in clause["terms"].values()):
                clauses.append(clause)
        return clauses, raw
    clauses = []
    for key, values in raw.items():
        if not isinstance(values, list):
            continue
        field = _CONTEXT_FIELDS.get(key, key)
        if not values:
            clauses.append({"term": {field: _IMPOSSIBLE}})
        elif len(values) == 1:
            if values[0] != _IMPOSSIBLE:
                clauses.append({"term": {field: values[0]}})
        else:
            clauses.append({"terms": {field: values}})
    return clauses, raw


class OpenSearchComponent(StoreComponent):
    type_name = "OpenSearchVectorStoreComponent"
    display_name = "OpenSearch"
    description = ("Store and search documents using OpenSearch with hybrid semantic and keyword search capabilities.")
    icon = "OpenSearch"
    default_count = 10
    inputs = (
        Input("docs_metadata", "Document Metadata", "table", [], advanced=True, input_types=("Data",), input_kind="TableInput"),
        Input("opensearch_url", "OpenSearch URL", "str", "http://localhost:9200", input_kind="StrInput"),
        Input("index_name", "Index Name", "str", "langflow", input_kind="StrInput"),
        Input("engine", "Vector Engine", "str", "jvector", options=("nmslib", "faiss", "lucene", "jvector"), advanced=True, input_kind="DropdownInput"),
        Input("space_type", "Distance Metric", "str", "l2", options=("l2", "l1", "cosinesimil", "linf", "innerproduct"), advanced=True,
              input_kind="DropdownInput"),
        Input("ef_construction", "EF Construction", "int", 512, advanced=True, input_kind="IntInput"),
        Input("m", "M Parameter", "int", 16, advanced=True, input_kind="IntInput"),
        INGEST_INPUT,
        QUERY_INPUT,
        CACHE_INPUT,
        Input("embedding", "Embedding", "other", "", input_types=("Embeddings",), input_kind="HandleInput"),
        Input("vector_field", "Vector Field Name", "str", "chunk_embedding", advanced=True, input_kind="StrInput"),
        Input("number_of_results", "Default Result Limit", "int", 10, advanced=True, input_kind="IntInput"),
        Input("filter_expression", "Search Filters (JSON)", "str", "", multiline=True, input_kind="MultilineInput"),
        Input("auth_mode", "Authentication Mode", "str", "basic", options=("basic", "jwt"), input_kind="DropdownInput"),
        Input("username", "Username", "str", "admin", input_kind="StrInput"),
        Input("password", "OpenSearch Password", "str", "admin", password=True, input_kind="SecretStrInput"),
        Input("jwt_token", "JWT Token", "str", "JWT", password=True, load_from_db=True, input_kind="SecretStrInput"),
        Input("jwt_header", "JWT Header Name", "str", "Authorization", advanced=True, input_kind="StrInput"),
        Input("bearer_prefix", "Prefix 'Bearer '", "bool", True, advanced=True, input_kind="BoolInput"),
        Input("use_ssl", "Use SSL/TLS", "bool", True, advanced=True, input_kind="BoolInput"),
        Input("verify_certs", "Verify SSL Certificates", "bool", False, advanced=True, input_kind="BoolInput"),
        Input("request_timeout", "Request Timeout (seconds)", "int", 60, advanced=True, input_kind="IntInput"),
    )
    outputs = SEARCH_OUTPUTS

    async def auth_headers(self) -> dict[str, str]:
        from flowless_engine.vectors.opensearch import basic_auth

        if to_text(self.param("auth_mode", "basic")).strip().lower() == "jwt":
            token = to_text(await self.secret("jwt_token") or "").strip()
            if not token:
                raise ConfigurationError("Auth Mode is 'jwt' but no jwt_token was provided.")
            header = to_text(self.param("jwt_header", "")).strip() or "Authorization"
            return {header: f"Bearer {token}" if to_bool(self.param("bearer_prefix", True)) else token}
        username = to_text(self.param("username", "")).strip()
        password = to_text(await self.secret("password") or "").strip()
        if not username or not password:
            raise ConfigurationError("Auth Mode is 'basic' but username/password are missing.")
        return basic_auth(username, password)

    def mapping(self) -> dict[str, Any]:
        engine = to_text(self.param("engine", "jvector")) or "jvector"
        return {
            "settings": {"index": {"knn": True, "knn.algo_param.ef_search": 512}},
            "mappings": {"properties": {to_text(self.param("vector_field", "")) or "chunk_embedding": {
                "type": "knn_vector", "dimension": "__DIMENSION__",
                "method": {"name": "disk_ann" if engine.lower() == "jvector" else "hnsw", "space_type": to_text(self.param("space_type", "l2")) or "l2",
                           "engine": engine, "parameters": {"ef_construction": to_int(self.param("ef_construction", 512), 512),
                                                            "m": to_int(self.param("m", 16), 16)}},
            }}},
        }

    async def open_collection(self, documents: list[Document]) -> Any:
        from flowless_engine.vectors.opensearch import OpenSearchIndex

        url = to_text(self.param("opensearch_url", "")).strip()
        if not url:
            raise ConfigurationError(f"Component '{self.name}' needs the OpenSearch URL")
        if "://" not in url:
            url = ("https://" if to_bool(self.param("use_ssl", True)) else "http://") + url
        index = to_text(self.param("index_name", "")).strip() or "langflow"
        timeout = float(to_int(self.param("request_timeout", 60), 60) or 60)
        return OpenSearchIndex(self.ctx.http, url, index, await self.auth_headers(), vector_field=to_text(self.param("vector_field", "")) or "chunk_embedding",
                               mapping=self.mapping(), timeout=timeout)

    def documents(self) -> list[Document]:
        documents = super().documents()
        extra: dict[str, Any] = {}
        rows = self.params.get("docs_metadata")
        if isinstance(rows, list) and rows and isinstance(rows[-1], Data):
            extra.update(rows[-1].data)
        elif isinstance(rows, list):
            extra.update({str(r["key"]): r.get("value") for r in rows if isinstance(r, dict) and r.get("key")})
        for doc in documents:
            doc.metadata.update(extra)
        return documents

    async def ensure_collection(self, collection: Any, documents: list[Document]) -> None:
        if not await collection.check_exists():
            await collection.create(len(documents[0].vector or ()))

    def search_filter(self) -> dict[str, Any]:
        _, expression = filter_clauses(self.params.get("filter_expression"))
        return expression

    def result_count(self) -> int:
        _, expression = filter_clauses(self.params.get("filter_expression"))
        return to_int(expression.get("limit"), 0) or super().result_count()

    async def search(self, query: str | None = None) -> list[Data]:
        collection = await self.collection()
        text = query if query is not None else await search_text(self.first_param(self.query_fields, ""))
        clauses, expression = filter_clauses(self.params.get("filter_expression"))
        k = self.result_count()
        if not text.strip():
            return [self.row(hit) for hit in await collection.scan(k, clauses)] if clauses else []
        config = await self.embedding()
        if config is None:
            raise ConfigurationError("Embedding is required to run hybrid search (KNN + keyword).")
        vector = await self.ctx.embedder(config).embed_query(text)
        threshold = expression.get("score_threshold", 0)
        found = await collection.search(vector=vector, text=text, k=k, filter=clauses or None, with_vectors=False,
                                        min_score=float(threshold) if isinstance(threshold, (int, float)) else 0)
        return [self.row(hit) for hit in found.hits]


class ElasticsearchComponent(StoreComponent):
    """Elasticsearch (lfx-bundles): `search_type` similarity or mmr; `search_score_threshold` > 0
    drops results below it; the cluster is `elasticsearch_url` or an Elastic Cloud ID; an API key
    (`Authorization: ApiKey`) or username/password."""

    type_name = "Elasticsearch"
    display_name = "Elasticsearch"
    description = "Elasticsearch Vector Store with with advanced, customizable search capabilities."
    icon = "ElasticsearchStore"
    inputs = (
        Input("elasticsearch_url", "Elasticsearch URL", "str", "http://localhost:9200", input_kind="StrInput"),
        Input("cloud_id", "Elastic Cloud ID", "str", "", password=True, input_kind="SecretStrInput"),
        Input("index_name", "Index Name", "str", "langflow", input_kind="StrInput"),
        INGEST_INPUT,
        QUERY_INPUT,
        CACHE_INPUT,
        Input("username", "Username", "str", "", advanced=False, input_kind="StrInput"),
        Input("password", "Elasticsearch Password", "str", "", password=True, advanced=False, input_kind="SecretStrInput"),
        Input("embedding", "Embedding", "other", "", input_types=("Embeddings",), input_kind="HandleInput"),
        Input("search_type", "Search Type", "str", "similarity", options=("similarity", "mmr"), advanced=True, input_kind="DropdownInput"),
        Input("number_of_results", "Number of Results", "int", 4, advanced=True, input_kind="IntInput"),
        Input("search_score_threshold", "Search Score Threshold", "float", 0.0, advanced=True, input_kind="FloatInput"),
        Input("api_key", "Elastic API Key", "str", "", password=True, advanced=True, input_kind="SecretStrInput"),
        Input("verify_certs", "Verify SSL Certificates", "bool", True, advanced=True, input_kind="BoolInput"),
    )
    outputs = SEARCH_OUTPUTS

    async def open_collection(self, documents: list[Document]) -> Any:
        from flowless_engine.vectors.elasticsearch import ElasticsearchIndex, cloud_id_url
        from flowless_engine.vectors.opensearch import basic_auth

        cloud_id = to_text(await self.secret("cloud_id") or "").strip()
        url = cloud_id_url(cloud_id) if cloud_id else to_text(self.param("elasticsearch_url", "")).strip()
        if not url:
            raise ConfigurationError(f"Component '{self.name}' needs the Elasticsearch URL or an Elastic Cloud ID")
        api_key = to_text(await self.secret("api_key") or "").strip()
        username = to_text(self.param("username", "")).strip()
        headers = {"Authorization": f"ApiKey {api_key}"} if api_key else basic_auth(username, to_text(await self.secret("password") or "")) if username else {}
        index = ElasticsearchIndex(self.ctx.http, url, to_text(self.param("index_name", "")).strip() or "langflow", headers)
        await index.load()
        return index

    async def ensure_collection(self, collection: Any, documents: list[Document]) -> None:
        if not collection.exists:
            await collection.create(len(documents[0].vector or ()))

    async def _ranked(self, collection: Any, text: str, k: int, where: dict[str, Any], search_type: str) -> list[Any]:
        hits = await super()._ranked(collection, text, k, where, search_type)
        threshold = float(self.param("search_score_threshold", 0) or 0)
        return [h for h in hits if h.score is None or h.score >= threshold] if threshold > 0 else hits
