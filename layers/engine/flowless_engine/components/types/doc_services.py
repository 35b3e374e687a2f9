"""Rerankers, document services and their stores (h29): components/doc_services.py, doc_stores.py."""

TYPES: dict[str, str] = {
    "CohereRerank": "doc_services:CohereRerankComponent",
    "NvidiaRerankComponent": "doc_services:NvidiaRerankComponent",
    "needle": "doc_services:NeedleComponent",
    "Confluence": "doc_services:ConfluenceComponent",
    "VectaraRAG": "doc_services:VectaraRagComponent",
}
TYPES.update({
    "Vectara": "doc_stores:VectaraComponent",
    "Clickhouse": "doc_stores:ClickhouseVectorStoreComponent",
})
TYPES.update({"Unstructured": "unstructured:UnstructuredComponent"})
TYPES.update({"FileDescriptionGeneratorComponent": "file_descriptions:FileDescriptionGeneratorComponent"})
