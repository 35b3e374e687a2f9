"""Stores reached over their own wire protocols (h22): MongoDB Atlas (pymongo, connectors layer)
and Redis (RESP, the engine's own client)."""

TYPES: dict[str, str] = {
    "MongoDBAtlasVector": "mongodb:MongoDBAtlasComponent",
    "Redis": "redis:RedisVectorStoreComponent",
    "RedisVectorStoreComponent": "redis:RedisVectorStoreComponent",
    "RedisChatMemory": "redis:RedisChatMemoryComponent",
    "RedisIndexChatMemory": "redis:RedisChatMemoryComponent",
}
