"""Cassandra tables of an Astra DB database through the Data API's table commands (HTTP), for the
`Cassandra` nodes that name an Astra database (Langflow reaches them over CQL with cassio).

The tables keep cassio's layouts, so a table Langflow filled is read here and the other way round:
- vector store (LangChain's `Cassandra`): `row_id text` primary key, `body_blob text`,
  `vector vector<float, N>`, `metadata_s map<text, text>` (every metadata value as text, as
  cassio writes it), `attributes_blob text`; a vector index on `vector` (cosine) and an index on
  the entries of `metadata_s`; filters are map-entry filters, `$similarity` is the Data API's
  (1 + cosine) / 2;
- chat history (LangChain's `CassandraChatMessageHistory`): `partition_id text` (the session),
  `row_id timeuuid` (clustered, newest first), `body_blob text` (the message as LangChain's dict).

`database_ref` is the database ID (its Data API endpoint is read from Astra's DevOps API:
`GET /v2/databases/<id>`, the token as Bearer) or the API endpoint itself.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Sequence
from typing import Any

from flowless_engine.errors import ConfigurationError, ProviderError
from flowless_engine.vectors.external import Document, Hit, SearchResult, store_failure

DEVOPS_API = "https://api.astra.datastax.com"
LABEL = "Cassandra (Astra DB)"
MAX_LIMIT = 1000
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_endpoints: dict[tuple[str, str], str] = {}  # (database id, token digest) → Data API endpoint, per warm container


def is_astra_reference(database_ref: str) -> bool:
    ref = database_ref.strip()
    return bool(_UUID.match(ref)) or ref.startswith(("https://", "http://"))


async def resolve_endpoint(http: Any, database_ref: str, token: str, devops_api: str = DEVOPS_API) -> str:
    """The Data API endpoint of the database a node names (its ID, or the endpoint itself)."""
    from flowless_engine.http import HttpError, HttpTimeout

    ref = database_ref.strip()
    if ref.startswith(("https://", "http://")):
        return ref.rstrip("/")
    key = (ref.lower(), hashlib.sha256(token.encode()).hexdigest())
    if key in _endpoints:
        return _endpoints[key]
    action = f"looking up Astra database {ref}"
    try:
        response = await http.request("GET", f"{devops_api.rstrip('/')}/v2/databases/{ref}",
                                      headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})
        body = response.json()
    except (HttpError, HttpTimeout) as exc:
        raise store_failure(LABEL, exc, action) from exc
    except ValueError as exc:
        raise ProviderError(f"{LABEL} answered with something that is not JSON while {action}", provider=LABEL) from exc
    info = body.get("info") or {} if isinstance(body, dict) else {}
    endpoint = str(body.get("dataEndpointUrl") or "") if isinstance(body, dict) else ""
    if endpoint:
        endpoint = endpoint.split("/api/")[0]
    else:
        region = info.get("region") or next((d.get("region") for d in info.get("datacenters") or [] if isinstance(d, dict)), None)
        if not region:
            raise ProviderError(f"{LABEL}: the DevOps API did not give the region of database {ref}", provider=LABEL)
        endpoint = f"https://{ref}-{region}.apps.astra.datastax.com"
    if len(_endpoints) >= 256:  # bounded: a warm container serves few databases
        _endpoints.clear()
    _endpoints[key] = endpoint
    return endpoint


def metadata_text(value: Any) -> str:
    """A metadata value as cassio keeps it in `metadata_s` (text): strings as they are, booleans,
    numbers (integers as floats, so 1 and 1.0 match) and null as JSON, anything else `str()`."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int):
        return json.dumps(float(value))
    if isinstance(value, float):
        return json.dumps(value)
    return str(value)



def cassio_hit(row: dict[str, Any], score: Any = None) -> Hit:
    """A row of cassio's vector table (Data API or CQL alike) as a hit: the text, the metadata from
    `attributes_blob` (JSON) then `metadata_s`, the row id, the vector when it was read."""
    metadata: dict[str, Any] = {}
    attributes = row.get("attributes_blob")
    if isinstance(attributes, str) and attributes:
        try:
            loaded = json.loads(attributes)
            metadata.update(loaded if isinstance(loaded, dict) else {})
        except ValueError:
            pass
    metadata.update(row.get("metadata_s") or {})
    vector = row.get("vector")
    return Hit(str(row.get("body_blob") or ""), metadata, float(score) if score is not None else None, str(row.get("row_id") or ""),
               list(vector) if isinstance(vector, list) else None)

class AstraTable:
    """One Cassandra table of an Astra database, over the Data API (wire and errors as for
    collections: `vectors/astra.py`)."""

    def __init__(self, http: Any, endpoint: str, token: str, keyspace: str, name: str, *, batch_size: int = 16,
                 label: str = LABEL) -> None:
        from flowless_engine.vectors.astra import AstraCollection

        self.wire = AstraCollection(http, endpoint, token, keyspace, name, label=label)
        self.label = label
        self.name = name
        self.keyspace = keyspace
        self.batch_size = max(1, min(batch_size, 100))
        self.columns: dict[str, Any] | None = None  # None: the table does not exist

    embeds_server_side = False

    @property
    def exists(self) -> bool:
        return self.columns is not None

    async def run(self, payload: dict[str, Any], action: str, *, on_table: bool = True) -> dict[str, Any]:
        body = await self.wire.command(payload, on_collection=on_table, action=action)
        self.wire.raise_errors(body, action)
        return body

    async def load(self) -> None:
        body = await self.run({"listTables": {"options": {"explain": True}}}, f"listing the tables of keyspace '{self.keyspace}'", on_table=False)
        self.columns = None
        for table in (body.get("status") or {}).get("tables") or []:
            if isinstance(table, dict) and table.get("name") == self.name:
                self.columns = dict((table.get("definition") or {}).get("columns") or {})

    async def create(self, columns: dict[str, Any], primary_key: Any, indexes: Sequence[dict[str, Any]] = ()) -> None:
        action = f"creating table '{self.name}'"
        await self.run({"createTable": {"name": self.name, "definition": {"columns": columns, "primaryKey": primary_key},
                                        "options": {"ifNotExists": True}}}, action, on_table=False)
        for index in indexes:
            await self.run(index, f"indexing table '{self.name}'")
        self.columns = dict(columns)

    async def insert(self, rows: list[dict[str, Any]], action: str) -> int:
        inserted = 0
        for start in range(0, len(rows), self.batch_size):
            body = await self.run({"insertMany": {"documents": rows[start:start + self.batch_size], "options": {"ordered": False}}}, action)
            inserted += len((body.get("status") or {}).get("insertedIds") or [])
        return inserted

    async def find(self, find: dict[str, Any], action: str) -> list[dict[str, Any]]:
        """Every row a `find` answers, page after page (`nextPageState`), up to its limit."""
        rows: list[dict[str, Any]] = []
        page_state = None
        while True:
            options = {**(find.get("options") or {}), **({"pageState": page_state} if page_state else {})}
            body = await self.run({"find": {**find, "options": options}}, action)
            data = body.get("data") or {}
            rows.extend(d for d in data.get("documents") or [] if isinstance(d, dict))
            page_state = data.get("nextPageState")
            limit = int(options.get("limit") or 0)
            if not page_state or (limit and len(rows) >= limit):
                return rows[:limit] if limit else rows


class CassandraVectorTable(AstraTable):
    """cassio's vector table as a `vectors.external.Collection`."""

    def __init__(self, *args: Any, body_search: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.body_search = body_search
        self.body_terms = ""

    async def create_for(self, dimension: int) -> None:
        columns = {"row_id": {"type": "text"}, "body_blob": {"type": "text"}, "vector": {"type": "vector", "dimension": dimension},
                   "metadata_s": {"type": "map", "keyType": "text", "valueType": "text"}, "attributes_blob": {"type": "text"}}
        indexes: list[dict[str, Any]] = [
            {"createVectorIndex": {"name": f"idx_vector_{self.name}", "definition": {"column": "vector", "options": {"metric": "cosine"}},
                                   "options": {"ifNotExists": True}}},
            {"createIndex": {"name": f"eidx_metadata_s_{self.name}", "definition": {"column": {"metadata_s": "$entries"}},
                             "options": {"ifNotExists": True}}},
        ]
        if self.body_search:
            indexes.append({"createTextIndex": {"name": f"idx_body_{self.name}", "definition": {"column": "body_blob",
                                                "options": {"analyzer": "STANDARD"}}, "options": {"ifNotExists": True}}})
        await self.create(columns, "row_id", indexes)

    async def held(self, documents: Sequence[Document]) -> set[str]:
        """The ids of `documents` the table already holds."""
        if not self.exists or not documents:
            return set()
        found: set[str] = set()
        ids = [d.id for d in documents]
        for start in range(0, len(ids), 100):
            part = ids[start:start + 100]
            rows = await self.find({"filter": {"row_id": {"$in": part}}, "projection": {"row_id": True}, "options": {"limit": len(part)}},
                                   f"reading table '{self.name}'")
            found.update(str(r.get("row_id")) for r in rows)
        return found

    async def add(self, documents: Sequence[Document]) -> int:
        rows = [{"row_id": d.id, "body_blob": d.text, "vector": list(d.vector or ()),
                 "metadata_s": {str(k): metadata_text(v) for k, v in d.metadata.items()}} for d in documents]
        # An insert of an existing primary key overwrites it (Cassandra's upsert): nothing is stored twice.
        return await self.insert(rows, f"inserting rows into table '{self.name}'")

    def translate_filter(self, where: dict[str, Any] | None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if where:
            out["metadata_s"] = {"$all": [[str(k), metadata_text(v)] for k, v in where.items()]}
        if self.body_terms:
            out["body_blob"] = {"$match": self.body_terms}
        return out

    def decode(self, row: dict[str, Any]) -> Hit:
        return cassio_hit(row, row.get("$similarity"))

    async def search(self, *, vector: Sequence[float] | None, text: str | None, k: int, filter: dict[str, Any] | None,
                     with_vectors: bool) -> SearchResult:
        if not self.exists or vector is None:
            return SearchResult([])
        find: dict[str, Any] = {"filter": self.translate_filter(filter), "sort": {"vector": list(vector)},
                                "options": {"limit": max(1, min(k, MAX_LIMIT)), "includeSimilarity": True}}
        if not with_vectors:
            find["projection"] = {"vector": False}
        return SearchResult([self.decode(r) for r in await self.find(find, f"searching table '{self.name}'")])

    async def scan(self, k: int, filter: dict[str, Any] | None) -> list[Hit]:
        if not self.exists:
            return []
        found = await self.find({"filter": self.translate_filter(filter), "projection": {"vector": False},
                                 "options": {"limit": max(1, min(k, MAX_LIMIT))}}, f"reading table '{self.name}'")
        return [self.decode(r) for r in found]

    async def delete_where(self, key: str, values: Sequence[Any]) -> int:
        raise ConfigurationError(f"{self.label}: deleting rows by a metadata field is not available (the Data API deletes table rows "
                                 "by primary key only)")


class CassandraChatHistory(AstraTable):
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
        rows = await self.find({"filter": {"partition_id": session}, "options": {"limit": MAX_LIMIT}}, f"reading table '{self.name}'")
        rows.sort(key=lambda r: _uuid_time(r.get("row_id")))
        return chat_messages(rows[-limit:] if limit else rows, session)

    async def add_messages(self, messages: list[Any], session_id: str | None = None) -> None:
        if self.columns is None:
            await self.load()
        if not self.exists:
            await self.create({"partition_id": {"type": "text"}, "row_id": {"type": "timeuuid"}, "body_blob": {"type": "text"}},
                              {"partitionBy": ["partition_id"], "partitionSort": {"row_id": -1}})
        rows = [{"partition_id": session_id or self.session_id, "row_id": str(uuid.uuid1()), "body_blob": chat_blob(message)} for message in messages]
        await self.insert(rows, f"storing chat messages in table '{self.name}'")


def chat_messages(rows: list[dict[str, Any]], session: str) -> list[Any]:
    """Rows of cassio's chat-history table (LangChain's message JSON in `body_blob`) as messages."""
    from flowless_engine.schema import Message

    messages = []
    for row in rows:
        try:
            body = json.loads(row.get("body_blob") or "{}")
        except ValueError:
            continue
        kind = body.get("type") or (body.get("data") or {}).get("type")
        content = (body.get("data") or {}).get("content", "")
        human = kind == "human"
        messages.append(Message(text=content if isinstance(content, str) else json.dumps(content), sender="User" if human else "Machine",
                                sender_name="User" if human else "AI", session_id=session, id=str(row.get("row_id") or "")))
    return messages


def chat_blob(message: Any) -> str:
    """A message as LangChain's message JSON, the `body_blob` of cassio's chat-history table."""
    kind = "human" if (message.sender or "") == "User" else "ai"
    return json.dumps({"type": kind, "data": {"content": message.plain_text, "additional_kwargs": {}, "response_metadata": {}, "type": kind,
                                              "name": None, "id": None}})


def _uuid_time(value: Any) -> int:
    try:
        parsed = uuid.UUID(str(value))
        return parsed.time if parsed.version == 1 else 0
    except ValueError:
        return 0
