"""Knowledge bases (RAG): 1.13's "Knowledge" component (modes Ingest and Retrieve) and the
legacy "Knowledge Ingestion" / "Knowledge Base" types it replaced ("Knowledge Retrieval", type
KnowledgeRetrieval, in 1.5-1.7 exports, is served as Knowledge Base), on the run's vector store.

Retrieve embeds `search_query` with the knowledge base's own embedding model and returns a
table of the `top_k` closest chunks: `content`, `_score` (when there is a query) and, with
`include_metadata`, the chunk's stored metadata. Without a query it lists `top_k` chunks unranked.
`metadata_filter` is a JSON object `{key: value | [values]}` (AND across keys, OR within one).

Ingest stores the rows of `input_df`: the `column_config` columns marked `vectorize` become the
chunk's content, the `identifier` columns its id (a SHA-256, so the same row is stored once unless
`allow_duplicates`), every other column its metadata; `metadata_json` is attached to each chunk.
The knowledge base must exist (POST /api/v1/knowledge_bases), as in Langflow.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime, timezone
from typing import Any

from flowless_engine.components.base import Component, Input, Output, to_bool, to_int, to_text
from flowless_engine.errors import ConfigurationError
from flowless_engine.schema import Data, DataFrame, Message
from flowless_engine.vectors.base import IngestStats, KnowledgeBases, KnowledgeBaseSpec, VectorItem, VectorStore, normalize_filter

MODE_INGEST = "Ingest"
MODE_RETRIEVE = "Retrieve"
MAX_TOP_K = 100  # S3 Vectors answers at most 100 neighbours per query
_TABLE_INPUTS = ("Message", "Data", "JSON", "DataFrame", "Table")
_DEFAULT_COLUMNS = ({"column_name": "text", "vectorize": True, "identifier": True},)


# ---- shared with the vector-store components ------------------------------------------------


def knowledge_services(component: Component) -> tuple[VectorStore, KnowledgeBases]:
    ctx = component.ctx
    if ctx.vectors is None or ctx.knowledge is None:
        raise ConfigurationError(f"Component '{component.name}' needs a knowledge base store, and none is configured for this run")
    return ctx.vectors, ctx.knowledge


async def find_knowledge_base(component: Component, name: str) -> KnowledgeBaseSpec:
    _, knowledge = knowledge_services(component)
    if not name:
        raise ConfigurationError(f"Component '{component.name}' needs a knowledge base name")
    spec = await knowledge.get(name)
    if spec is None:
        raise ConfigurationError(f"Knowledge base '{name}' not found")
    return spec


async def embedder_for(component: Component, spec: KnowledgeBaseSpec, *, key_field: str = "api_key", batch_size: int | None = None) -> Any:
    """The knowledge base's embedding model, with the node's key or the tenant's credentials."""
    from flowless_engine.llm.embeddings import resolve_embedding_config

    api_key = await component.secret(key_field) if component.params.get(key_field) else None
    config = await resolve_embedding_config(
        spec.embedding_provider, spec.embedding_model, component.ctx.variable,
        api_key=api_key, dimensions=spec.dimensions, batch_size=batch_size,
    )
    return component.ctx.embedder(config)


def content_id(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def storable(value: Any) -> Any:
    """A metadata value as stores keep it: text, numbers, booleans, lists of text; else JSON text."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)


def user_metadata(raw: Any) -> dict[str, Any]:
    """A JSON object of user metadata (text or dict); malformed input is no metadata, as in Langflow."""
    if isinstance(raw, Message):
        raw = raw.plain_text
    if isinstance(raw, str):
        if not raw.strip():
            return {}
        try:
            raw = json.loads(raw)
        except ValueError:
            return {}
    return dict(raw) if isinstance(raw, dict) else {}


def tag_metadata(metadata: dict[str, Any], tag: dict[str, Any]) -> None:
    """Attach user metadata: as Langflow's `source_metadata` JSON text, and key by key (without
    replacing the chunk's own keys) so metadata filters can match it."""
    if not tag:
        return
    metadata["source_metadata"] = json.dumps(tag, ensure_ascii=False, sort_keys=True, default=str)
    for key, value in tag.items():
        metadata.setdefault(str(key), storable(value))


def table_rows(value: Any) -> list[dict[str, Any]]:
    """Rows of a Table/DataFrame, Data, Message, dict, text or a list of them."""
    if value is None or value == "":
        return []
    if isinstance(value, DataFrame):
        return [dict(row) for row in value.rows]
    if isinstance(value, Data):
        return [dict(value.data)]
    if isinstance(value, Message):
        return [{"text": value.plain_text}]
    if isinstance(value, dict):
        return [dict(value)]
    if isinstance(value, (list, tuple)):
        return [row for item in value for row in table_rows(item)]
    return [{"text": str(value)}]


async def search_text(value: Any) -> str:
    if isinstance(value, Message):
        await value.resolve()
    return to_text(value).strip()


# ---- the component -----------------------------------------------------------------------------


class KnowledgeComponent(Component):
    type_name = "Knowledge"
    display_name = "Knowledge"
    description = "Ingest into or retrieve from a Langflow knowledge base."
    category = "files_and_knowledge"
    icon = "database"
    default_mode = MODE_INGEST
    inputs = (
        Input("knowledge_base", "Knowledge", "str", "", required=True, input_kind="DropdownInput"),
        Input("mode", "Mode", "tab", MODE_INGEST, options=(MODE_INGEST, MODE_RETRIEVE), input_kind="TabInput"),
        Input("input_df", "Input", "other", "", input_types=_TABLE_INPUTS, required=True, input_kind="HandleInput"),
        Input("column_config", "Column Configuration", "table", list(_DEFAULT_COLUMNS), input_types=("DataFrame", "Table"), required=True, input_kind="TableInput"),
        Input("chunk_size", "Chunk Size", "int", 1000, advanced=True, input_kind="IntInput"),
        Input("api_key", "Embedding Provider API Key", "str", "", password=True, advanced=True, input_kind="SecretStrInput"),
        Input("allow_duplicates", "Allow Duplicates", "bool", False, advanced=True, input_kind="BoolInput"),
        Input("metadata_json", "Metadata", "str", "", advanced=True, input_kind="StrInput"),
        Input("search_query", "Search Query", "str", "", input_types=("Message",), input_kind="MessageTextInput"),
        Input("top_k", "Top K Results", "int", 5, advanced=True, input_kind="IntInput"),
        Input("include_metadata", "Include Metadata", "bool", True, input_kind="BoolInput"),
        Input("include_embeddings", "Include Embeddings", "bool", False, advanced=True, input_kind="BoolInput"),
        Input("metadata_filter", "Metadata Filter", "str", "", input_types=("Message",), advanced=True, input_kind="MessageTextInput"),
    )
    outputs = (
        Output("dataframe_output", "build_kb_info", ("JSON",), "Results"),
        Output("retrieve_data", "retrieve_data", ("Table",), "Results"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._result: Data | DataFrame | None = None  # both outputs run the selected mode once

    def _retrieving(self) -> bool:
        mode = self.params.get("mode")
        # Older saves carry emoji labels ("🔍 Retrieve"); Langflow matches on the word.
        return "Retrieve" in mode if isinstance(mode, str) and mode else self.default_mode == MODE_RETRIEVE

    async def build_kb_info(self) -> Data | DataFrame:
        if self._result is None:
            self._result = await (self._retrieve() if self._retrieving() else self._ingest())
        return self._result

    async def retrieve_data(self) -> Data | DataFrame:
        return await self.build_kb_info()

    # ---- Retrieve ---------------------------------------------------------------------------

    async def _retrieve(self) -> DataFrame:
        vectors, _ = knowledge_services(self)
        spec = await find_knowledge_base(self, to_text(self.param("knowledge_base", "")).strip())
        top_k = min(max(to_int(self.param("top_k", 5), 5), 1), MAX_TOP_K)
        raw_filter = self.params.get("metadata_filter")
        where = normalize_filter(raw_filter.plain_text if isinstance(raw_filter, Message) else raw_filter) or None
        query = await search_text(self.params.get("search_query"))
        if query:
            embedder = await embedder_for(self, spec)
            matches = await vectors.query(spec.index(), await embedder.embed_query(query), top_k, where)
        else:
            matches = await vectors.scan(spec.index(), top_k, where)
        if to_bool(self.param("include_embeddings", False)):
            self.log("Include Embeddings is not supported by Flowless: chunks are returned without their vectors")
        include_metadata = to_bool(self.param("include_metadata", True))
        rows = []
        for match in matches:
            row: dict[str, Any] = {"content": match.text}
            if query:
                row["_score"] = match.score
            if include_metadata:
                row.update({k: v for k, v in match.metadata.items() if k not in ("content", "_score")})
            rows.append(row)
        self.status = f"{len(rows)} chunk(s) from '{spec.name}'"
        return DataFrame(rows=rows)

    # ---- Ingest -----------------------------------------------------------------------------

    async def _ingest(self) -> Data:
        vectors, knowledge = knowledge_services(self)
        spec = await find_knowledge_base(self, to_text(self.param("knowledge_base", "")).strip())
        rows = table_rows(self.params.get("input_df"))
        columns = self._column_config(rows)
        content_columns = [c["column_name"] for c in columns if c["vectorize"]]
        identifier_columns = [c["column_name"] for c in columns if c["identifier"]]
        allow_duplicates = to_bool(self.param("allow_duplicates", False))
        tag = user_metadata(self.params.get("metadata_json"))

        items: dict[str, VectorItem] = {}
        for row in rows:
            content = " ".join(str(row[c]) for c in content_columns if row.get(c) not in (None, ""))
            identity = " ".join(str(row[c]) for c in identifier_columns if row.get(c) not in (None, "")) if identifier_columns else content
            metadata = {str(k): storable(v) for k, v in row.items() if k not in content_columns and v is not None}
            metadata["_id"] = content_id(identity)
            tag_metadata(metadata, tag)
            item_id = str(uuid.uuid4()) if allow_duplicates else metadata["_id"]
            items.setdefault(item_id, VectorItem(item_id, [], content, metadata))
        index = spec.index()
        if not allow_duplicates and items:
            for stored in await vectors.existing(index, list(items)):
                items.pop(stored)
        stats = IngestStats()
        if items:
            # Langflow's `chunk_size` here is the embedding batch size.
            embedder = await embedder_for(self, spec, batch_size=to_int(self.param("chunk_size", 1000), 1000))
            new = list(items.values())
            for item, vector in zip(new, await embedder.embed_documents([i.text for i in new])):
                item.vector = vector
                stats.add_text(item.text)
            await vectors.upsert(index, new)
            await knowledge.record_ingest(spec.name, stats)
        self.log(f"Added {stats.chunks} documents to vector store '{spec.name}'")
        self.status = f"KB {spec.name} saved · {stats.chunks} chunks · {len(rows) - stats.chunks} rows skipped."
        return Data(data={
            "kb_id": None,
            "kb_name": spec.name,
            "rows": len(rows),
            "chunks_created": stats.chunks,
            "skipped": len(rows) - stats.chunks,
            "column_metadata": _column_metadata(columns, rows),
            "path": None,
            "config_columns": len(columns),
            "timestamp": datetime.now(timezone.utc).isoformat(),
        })

    def _column_config(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        raw = self.params.get("column_config")
        if isinstance(raw, DataFrame):
            raw = raw.rows
        config = [c for c in raw if isinstance(c, dict) and c.get("column_name")] if isinstance(raw, list) else []
        if not config:
            raise ValueError("Column configuration cannot be empty")
        present = {key for row in rows for key in row}
        for column in config:
            if rows and column["column_name"] not in present:
                raise ValueError(f"Column '{column['column_name']}' not found in DataFrame. Available columns: {sorted(present)}")
        return [{"column_name": str(c["column_name"]), "vectorize": to_bool(c.get("vectorize")), "identifier": to_bool(c.get("identifier"))} for c in config]


def _column_metadata(columns: list[dict[str, Any]], rows: list[dict[str, Any]]) -> dict[str, Any]:
    present = list(dict.fromkeys(key for row in rows for key in row))
    return {
        "total_columns": len(present),
        "mapped_columns": len(columns),
        "unmapped_columns": len(present) - len(columns),
        "columns": [{"name": c["column_name"], "vectorize": c["vectorize"], "identifier": c["identifier"]} for c in columns],
        "summary": {
            "vectorized_columns": [c["column_name"] for c in columns if c["vectorize"]],
            "identifier_columns": [c["column_name"] for c in columns if c["identifier"]],
        },
    }


class KnowledgeIngestionComponent(KnowledgeComponent):
    """The legacy "Knowledge Ingestion" node: the Knowledge component pinned to Ingest."""

    type_name = "KnowledgeIngestion"
    display_name = "Knowledge Ingestion"
    default_mode = MODE_INGEST

    def _retrieving(self) -> bool:
        return False


class KnowledgeBaseComponent(KnowledgeComponent):
    """The legacy "Knowledge Base" (retrieval) node: the Knowledge component pinned to Retrieve."""

    type_name = "KnowledgeBase"
    display_name = "Knowledge Base"
    default_mode = MODE_RETRIEVE

    def _retrieving(self) -> bool:
        return True
