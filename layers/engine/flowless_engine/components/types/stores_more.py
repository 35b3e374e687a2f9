"""Vector stores and chat memories over HTTP (h25): Weaviate, Cassandra and the Astra DB CQL tool through Astra DB, Mem0, Zep."""

TYPES: dict[str, str] = {
    "Weaviate": "stores_more:WeaviateComponent",
    "Cassandra": "stores_more:CassandraComponent",
    "CassandraChatMemory": "stores_more:CassandraChatMemoryComponent",
    "AstraDBCQLToolComponent": "stores_more:AstraDBCQLToolComponent",
    "AstraDBDataAPI": "stores_more:AstraDBDataAPIComponent",
    "mem0_chat_memory": "chat_memories:Mem0ChatMemoryComponent",
    "ZepChatMemory": "chat_memories:ZepChatMemoryComponent",
}
