"""Vector stores and chat memories over HTTP (h25): Weaviate, Cassandra through Astra DB, Mem0, Zep."""

TYPES: dict[str, str] = {
    "Weaviate": "stores_more:WeaviateComponent",
}
