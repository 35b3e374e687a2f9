"""Docling Serve and DoclingDocument export (components/docling.py)."""

TYPES: dict[str, str] = {
    "DoclingRemote": "docling:DoclingRemoteComponent",
    "ExportDoclingDocument": "docling:ExportDoclingDocumentComponent",
    "ChunkDoclingDocument": "docling:ChunkDoclingDocumentComponent",
}
