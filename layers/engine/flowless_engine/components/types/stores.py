"""Vector stores and chat memories a flow names itself (h17): DataStax, and the stores below."""

TYPES: dict[str, str] = {
    "AstraDB": "datastax:AstraDBComponent",
    "AstraVectorStoreComponent": "datastax:AstraDBComponent",
    "AstraDBSearch": "datastax:AstraDBComponent",
    "AstraDBVectorStoreComponent": "datastax:AstraDBComponent",
    "AstraDBToolComponent": "datastax:AstraDBToolComponent",
    "AstraDBTool": "datastax:AstraDBToolComponent",
    "HCD": "datastax:HCDComponent",
    "OpenSearchVectorStoreComponent": "elastic:OpenSearchComponent",
    "OpenSearch": "elastic:OpenSearchComponent",  # the name the node goes by in docs and older exports
    "QdrantVectorStoreComponent": "vector_services:QdrantComponent",
    "Qdrant": "vector_services:QdrantComponent",
    "Pinecone": "vector_services:PineconeComponent",
    "pgvector": "vector_services:PGVectorComponent",
    "PGVector": "vector_services:PGVectorComponent",
    "Elasticsearch": "elastic:ElasticsearchComponent",
    "Upstash": "vector_services:UpstashComponent",
    "SupabaseVectorStore": "vector_services:SupabaseComponent",
    "Milvus": "vector_services:MilvusComponent",
    "FAISS": "faiss_index:FAISSComponent",
    "AstraDBChatMemory": "datastax:AstraDBChatMemoryComponent",
    "StoreMessage": "memories:StoreMessageComponent",
    "MemoryBase": "memories:MemoryBaseComponent",
}
