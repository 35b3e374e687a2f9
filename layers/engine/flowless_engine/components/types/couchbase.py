"""Couchbase's vector store over its Query and Search HTTP services (h26)."""

TYPES: dict[str, str] = {
    "Couchbase": "couchbase:CouchbaseComponent",
    "CouchbaseVectorStoreComponent": "couchbase:CouchbaseComponent",
}
