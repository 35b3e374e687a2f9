"""cassio's Cassandra tables over CQL (vectors/cql.py), for the `Cassandra` nodes on contact points.
The layouts are cassio's (the Astra path, vectors/astra_tables.py, mirrors them too):

- vector store: `row_id text PRIMARY KEY, body_blob text, vector vector<float, N>,
  metadata_s map<text, text>, attributes_blob text`, an SAI index on `vector` (cosine) and one on
  `ENTRIES(metadata_s)`; search is `ORDER BY vector ANN OF ? LIMIT k` with
  `similarity_cosine(vector, ?)` as the score; metadata filters are `metadata_s[?] = ?`;
- chat history: `partition_id text, row_id timeuuid, body_blob text`,
  `PRIMARY KEY ((partition_id), row_id)` newest first; a message is LangChain's dict as JSON.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

from flowless_engine.errors import ConfigurationError
from flowless_engine.vectors.astra_tables import cassio_hit, chat_blob, chat_messages, metadata_text
from flowless_engine.vectors.cql import LABEL, CqlClient, Vector, quote_name
from flowless_engine.vectors.external import Document, Hit, SearchResult

MAX_LIMIT = 1000
SAI = "org.apache.cassandra.index.sai.StorageAttachedIndex"


class CqlTable:
    def __init__(self, client: CqlClient, keyspace: str, name: str, *, batch_size: int = 16) -> None:
        self.client = client
        self.label = LABEL
        self.keyspace, self.name = keyspace, name
        self.qualified = f"{quote_name(keyspace)}.{quote_name(name)}"
        self.batch_size = max(1, batch_size)
        self.columns: dict[str, str] | None = None

    embeds_server_side = False

    @property
    def exists(self) -> bool:
        return self.columns is not None

    async def load(self) -> None:
        found = await self.client.query("SELECT column_name, type FROM system_schema.columns WHERE keyspace_name = ? AND table_name = ?",
                                        [self.keyspace, self.name], action=f"reading the schema of table '{self.name}'")
        rows = found.rows if found else []
        self.columns = {str(r["column_name"]): str(r["type"]) for r in rows} if rows else None


class CassandraCqlVectorTable(CqlTable):
    """cassio's vector table as a `vectors.external.Collection`."""

    def __init__(self, *args: Any, body_search: bool = False, ttl_seconds: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.body_search = body_search
        self.body_terms = ""
        self.ttl_seconds = ttl_seconds

    async def create_for(self, dimension: int) -> None:
        action = f"creating table '{self.name}'"
        q = self.client.query
        await q(f"CREATE TABLE IF NOT EXISTS {self.qualified} (row_id text, body_blob text, vector vector<float, {int(dimension)}>, "
                "metadata_s map<text, text>, attributes_blob text, PRIMARY KEY ((row_id)))", action=action)
        await q(f"CREATE CUSTOM INDEX IF NOT EXISTS {quote_name('idx_vector_' + self.name)} ON {self.qualified} (vector) USING '{SAI}' "
                "WITH OPTIONS = {'similarity_function': 'cosine'}", action=action)
        await q(f"CREATE CUSTOM INDEX IF NOT EXISTS {quote_name('eidx_metadata_s_' + self.name)} ON {self.qualified} (ENTRIES(metadata_s)) "
                f"USING '{SAI}'", action=action)
        if self.body_search:
            await q(f"CREATE CUSTOM INDEX IF NOT EXISTS {quote_name('idx_body_' + self.name)} ON {self.qualified} (body_blob) USING '{SAI}' "
                    "WITH OPTIONS = {'index_analyzer': 'STANDARD'}", action=action)
        await self.load()

    async def held(self, documents: Sequence[Document]) -> set[str]:
        if not self.exists or not documents:
            return set()
        found: set[str] = set()
        ids = [d.id for d in documents]
        for start in range(0, len(ids), 100):
            part = ids[start:start + 100]
            rows = await self.client.query(f"SELECT row_id FROM {self.qualified} WHERE row_id IN ({', '.join('?' * len(part))})", part,
                                           action=f"reading table '{self.name}'")
            found.update(str(r["row_id"]) for r in (rows.rows if rows else []))
        return found

    async def add(self, documents: Sequence[Document]) -> int:
        ttl = f" USING TTL {int(self.ttl_seconds)}" if self.ttl_seconds > 0 else ""
        statement = f"INSERT INTO {self.qualified} (row_id, body_blob, vector, metadata_s) VALUES (?, ?, ?, ?){ttl}"
        # an insert of an existing primary key overwrites it (Cassandra's upsert); batch_size inserts in flight at a time
        await self.client.execute_many(statement, [[d.id, d.text, Vector(float(x) for x in d.vector or ()),
                                                    {str(k): metadata_text(v) for k, v in d.metadata.items()}] for d in documents],
                                       action=f"inserting rows into table '{self.name}'", batch_size=self.batch_size)
        return len(documents)

    def _where(self, where: dict[str, Any] | None) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        values: list[Any] = []
        for key, value in (where or {}).items():
            clauses.append("metadata_s[?] = ?")
            values += [str(key), metadata_text(value)]
        if self.body_terms:
            clauses.append("body_blob : ?")
            values.append(self.body_terms)
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), values

    def decode(self, row: dict[str, Any], score: Any = None) -> Hit:
        return cassio_hit(row, score)

    async def search(self, *, vector: Sequence[float] | None, text: str | None, k: int, filter: dict[str, Any] | None,
                     with_vectors: bool) -> SearchResult:
        if not self.exists or vector is None:
            return SearchResult([])
        where, values = self._where(filter)
        columns = "row_id, body_blob, metadata_s, attributes_blob" + (", vector" if with_vectors else "")
        probe = Vector(float(x) for x in vector)
        found = await self.client.query(
            f"SELECT {columns}, similarity_cosine(vector, ?) AS score FROM {self.qualified}{where} ORDER BY vector ANN OF ? "
            f"LIMIT {max(1, min(k, MAX_LIMIT))}", [probe, *values, probe], action=f"searching table '{self.name}'")
        return SearchResult([self.decode(r, r.get("score")) for r in (found.rows if found else [])])

    async def scan(self, k: int, filter: dict[str, Any] | None) -> list[Hit]:
        if not self.exists:
            return []
        where, values = self._where(filter)
        found = await self.client.query(f"SELECT row_id, body_blob, metadata_s, attributes_blob FROM {self.qualified}{where} "
                                        f"LIMIT {max(1, min(k, MAX_LIMIT))}", values, action=f"reading table '{self.name}'")
        return [self.decode(r) for r in (found.rows if found else [])]

    async def delete_where(self, key: str, values: Sequence[Any]) -> int:
        raise ConfigurationError(f"{LABEL}: deleting rows by a metadata field is not available (cassio deletes rows by row_id)")


class CassandraCqlChatHistory(CqlTable):
    """cassio's chat-history table: one partition per session, messages newest first."""

    def __init__(self, *args: Any, session_id: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.session_id = session_id

    async def get_messages(self, session_id: str | None = None, limit: int = 100) -> list[Any]:
        if self.columns is None:
            await self.load()
        if not self.exists:
            return []
        session = session_id or self.session_id
        found = await self.client.query(f"SELECT row_id, body_blob FROM {self.qualified} WHERE partition_id = ?", [session],
                                        action=f"reading table '{self.name}'", max_rows=limit or 0)
        rows = list(reversed(found.rows if found else []))  # stored newest first
        return chat_messages(rows, session)

    async def add_messages(self, messages: list[Any], session_id: str | None = None) -> None:
        if self.columns is None:
            await self.load()
        if not self.exists:
            await self.client.query(f"CREATE TABLE IF NOT EXISTS {self.qualified} (partition_id text, row_id timeuuid, body_blob text, "
                                    "PRIMARY KEY ((partition_id), row_id)) WITH CLUSTERING ORDER BY (row_id DESC)",
                                    action=f"creating table '{self.name}'")
            self.columns = {"partition_id": "text", "row_id": "timeuuid", "body_blob": "text"}
        for message in messages:
            await self.client.query(f"INSERT INTO {self.qualified} (partition_id, row_id, body_blob) VALUES (?, ?, ?)",
                                    [session_id or self.session_id, uuid.uuid1(), chat_blob(message)],
                                    action=f"storing chat messages in table '{self.name}'")

    async def clear(self, session_id: str | None = None) -> None:
        if self.columns is None:
            await self.load()
        if self.exists:
            await self.client.query(f"DELETE FROM {self.qualified} WHERE partition_id = ?", [session_id or self.session_id],
                                    action=f"clearing chat messages in table '{self.name}'")
