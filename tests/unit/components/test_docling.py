"""Docling Serve (DoclingRemote) and ExportDoclingDocument through the engine, against
tests/support/docling_server.py, reading the tenant's files from a local file store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from flowless_engine.components import docling as docling_module
from flowless_engine.errors import ConfigurationError, ProviderError, ProviderTimeoutError
from flowless_engine.runtime.services import LocalFileStore
from flowless_engine.settings import EngineSettings
from tests.support.component_runs import run_flow, value
from tests.support.docling_server import API_KEY, DoclingServer, docling_document
from tests.support.flows import edge, flow, node

HEADERS = [{"key": "X-Api-Key", "value": "DOCLING_KEY"}]  # the value names a tenant variable


@pytest.fixture(scope="module")
def server() -> Iterator[DoclingServer]:
    with DoclingServer() as s:
        yield s


@pytest.fixture(autouse=True)
def fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(docling_module.DoclingRemoteComponent, "POLL_INTERVAL_S", 0.01)


@pytest.fixture
def store(tmp_path: Path) -> LocalFileStore:
    (tmp_path / "flow1").mkdir()
    (tmp_path / "flow1" / "report.pdf").write_text("Quarterly Report\nbody")
    (tmp_path / "flow1" / "notes.md").write_text("Notes\nmore")
    (tmp_path / "flow1" / "broken.pdf").write_text("x")
    (tmp_path / "flow1" / "skip.exe").write_text("x")
    return LocalFileStore(tmp_path)


def settings() -> EngineSettings:
    return EngineSettings(allow_loopback=True, http_retries=2)


def pipeline(server: DoclingServer, files: list[str], export: dict | None = None, **remote: object) -> dict:
    nodes = [node("DoclingRemote-d1", "DoclingRemote", {"api_url": server.base_url, "path": files, "api_headers": HEADERS, **remote}),
             node("ExportDoclingDocument-e1", "ExportDoclingDocument", export or {}),
             node("ChatOutput-o1", "ChatOutput"), node("ChatOutput-o2", "ChatOutput")]
    edges = [edge("DoclingRemote-d1", "dataframe", "ExportDoclingDocument-e1", "data_inputs", output_types=["DataFrame"]),
             edge("ExportDoclingDocument-e1", "data", "ChatOutput-o1", "input_value", output_types=["Data"]),
             edge("ExportDoclingDocument-e1", "dataframe", "ChatOutput-o2", "input_value", output_types=["DataFrame"])]
    return flow("t", nodes, edges)


async def run(f: dict, store: LocalFileStore, variables: dict | None = None, s: EngineSettings | None = None):
    return await run_flow(f, settings=s or settings(), variables={"DOCLING_KEY": API_KEY} if variables is None else variables, files=store)


async def test_convert_then_export_markdown(server: DoclingServer, store: LocalFileStore) -> None:
    server.reset()
    f = pipeline(server, ["flow1/report.pdf", "flow1/notes.md", "flow1/skip.exe"], {"md_page_break_placeholder": "<!-- page -->"},
                 docling_serve_opts={"do_ocr": False})
    result = await run(f, store)
    frame = value(result, "DoclingRemote-d1", "dataframe")
    assert [r["file_path"] for r in frame.rows] == ["flow1/report.pdf", "flow1/notes.md"]  # .exe ignored
    assert frame.rows[0]["doc"]["schema_name"] == "DoclingDocument"
    submit = next(r for r in server.requests if r.path == "/v1/convert/source/async" and b"report" in r.body)
    assert submit.json()["options"] == {"to_formats": ["json"], "image_export_mode": "placeholder", "do_ocr": False}
    assert submit.json()["sources"][0]["filename"] == "report.pdf" and submit.headers["x-api-key"] == API_KEY
    assert sum(1 for r in server.requests if r.path.startswith("/v1/status/poll/")) == 4  # started, then success, for each file
    exported = value(result, "ExportDoclingDocument-e1", "data")
    assert exported[0].data == {"text": exported[0].data["text"], "export_format": "Markdown", "name": "report", "filename": "report.pdf",
                                "document_id": "1234567890123", "mimetype": "application/pdf"}
    assert exported[0].data["text"] == (
        "# Quarterly Report\n\n## Introduction\n\nDocling converts documents\\_with\\_underscores.\n\n"
        "- first point\n- second point\n\n1. step one\n2. step two\n\nTable 1: numbers\n\n"
        "| name | value |\n|------|-------|\n| a    | 1     |\n| b    | 22    |\n\n"
        "Figure 1: a chart\n\n<!-- image -->\n\n```\nprint('hi')\n```\n\n$$E = mc^2$$\n\n<!-- page -->\n\nSecond page text.")
    assert [r["name"] for r in value(result, "ExportDoclingDocument-e1", "dataframe").rows] == ["report", "notes"]


@pytest.mark.parametrize(("fmt", "expected"), [
    ("HTML", ["<h1>Quarterly Report</h1>", "<ul>\n<li>first point</li>", "<ol>\n<li>step one</li>", "<th>name</th>",
              '<figure><img src="data:image/png;base64,iVBORw0KGgo="><figcaption>Figure 1: a chart</figcaption></figure>']),
    ("Plaintext", ["Quarterly Report\n\nIntroduction\n\nDocling converts documents_with_underscores.\n\nfirst point\nsecond point", "name value\na 1"]),
    ("DocTags", ["<doctag><title>Quarterly Report</title>", "<section_header_level_1>Introduction</section_header_level_1>",
                 "<unordered_list>\n<list_item>first point</list_item>", "<otsl><ched>name<ched>value<nl><fcel>a<fcel>1<nl>"]),
])
def test_export_formats(fmt: str, expected: list[str]) -> None:
    from flowless_engine.components.docling import export_doctags, export_html, export_markdown

    doc = docling_document("report.pdf", "Quarterly Report")
    text = {"HTML": lambda: export_html(doc, "embedded"), "Plaintext": lambda: export_markdown(doc, strict_text=True), "DocTags": lambda: export_doctags(doc)}[fmt]()
    for piece in expected:
        assert piece in text, (piece, text)
    assert "Running header" not in text and "Page 2" not in text  # page furniture is left out


async def test_errors(server: DoclingServer, store: LocalFileStore) -> None:
    with pytest.raises(ConfigurationError, match=r"Docling Serve refused the credentials \(401\)"):
        await run(pipeline(server, ["flow1/report.pdf"]), store, variables={"DOCLING_KEY": "wrong"})
    with pytest.raises(ProviderError, match="Docling processing failed: Input document is not valid."):
        await run(pipeline(server, ["flow1/broken.pdf"]), store)
    server.fail_next(2, 503)  # retried by the client
    result = await run(pipeline(server, ["flow1/notes.md"]), store)
    assert len(value(result, "DoclingRemote-d1", "dataframe").rows) == 1
    server.fail_next(3, 502)
    with pytest.raises(ProviderError, match="Docling Serve failed"):
        await run(pipeline(server, ["flow1/notes.md"]), store)
    server.started_polls = 1000
    try:
        with pytest.raises(ProviderTimeoutError, match="exceeds the maximum poll timeout 0.05s"):
            await run(pipeline(server, ["flow1/notes.md"], max_poll_timeout=0.05), store)
    finally:
        server.started_polls = 1
    with pytest.raises(ConfigurationError, match="no files to process"):
        await run(pipeline(server, ["flow1/skip.exe"]), store)


async def test_existing_task_id_and_a_table_without_the_doc_column(server: DoclingServer, store: LocalFileStore) -> None:
    server.reset()
    first = await run(pipeline(server, ["flow1/notes.md"]), store)
    task_id = list(server.tasks)[-1]
    assert value(first, "DoclingRemote-d1", "dataframe").rows
    result = await run(pipeline(server, [], {"doc_key": "document"}, task_id=task_id), store)
    rows = value(result, "DoclingRemote-d1", "dataframe").rows
    assert list(rows[0]) == ["doc"]  # no file path for a task polled by id
    assert value(result, "ExportDoclingDocument-e1", "data")[0].data["text"].startswith("# Notes")  # found in the `doc` column


async def test_hierarchical_chunks_after_conversion(server: DoclingServer, store: LocalFileStore) -> None:
    import json

    nodes = [node("DoclingRemote-d1", "DoclingRemote", {"api_url": server.base_url, "path": ["flow1/report.pdf"], "api_headers": HEADERS}),
             node("ChunkDoclingDocument-c1", "ChunkDoclingDocument", {"chunker": "HierarchicalChunker", "always_emit_headings": True})]
    edges = [edge("DoclingRemote-d1", "dataframe", "ChunkDoclingDocument-c1", "data_inputs", output_types=["DataFrame"])]
    rows = value(await run(flow("t", nodes, edges), store), "ChunkDoclingDocument-c1", "dataframe").rows
    texts = [r["text"] for r in rows]
    assert texts[0] == "Quarterly Report\nIntroduction\nDocling converts documents_with_underscores."
    assert texts[1] == "Quarterly Report\nIntroduction\n- first point\n- second point"
    assert texts[2] == "Quarterly Report\nIntroduction\n1. step one\n2. step two"
    assert texts[3] == "Quarterly Report\nIntroduction\nTable 1: numbers\n\na, value = 1. b, value = 22"
    assert texts[4] == "Quarterly Report\nIntroduction\nFigure 1: a chart"
    assert rows[0]["document_id"] == "1234567890123" and json.loads(rows[1]["doc_items"]) == ["#/texts/4", "#/texts/5"]
    assert len(rows) == 8  # + code, formula, the page-2 paragraph
    with pytest.raises(ConfigurationError, match="HybridChunker counts tokens with a model tokenizer"):
        nodes[1] = node("ChunkDoclingDocument-c1", "ChunkDoclingDocument", {})
        await run(flow("t", nodes, edges), store)
