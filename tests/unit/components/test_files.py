"""Read File: text, CSV, JSON, PDF and DOCX from the file store; errors and silent mode."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest

from flowless_engine.components.files import FileComponent
from flowless_engine.graph.model import Vertex
from flowless_engine.runtime.context import RunContext
from flowless_engine.runtime.services import LocalFileStore
from flowless_engine.schema import Data, Message

FLOW = "f"


def make(tmp_path: Path, files: list[str] | None = None, **params: Any) -> FileComponent:
    """A File node as the UI saves it: uploaded paths in the `path` field's `file_path`."""
    fields = {name: {"value": value} for name, value in params.items()}
    fields["path"] = {"type": "file", "value": "", "file_path": files or []}
    vertex = Vertex(id="File-t1", type="File", display_name="Read File", fields=fields, outputs=[o.to_template() for o in FileComponent.outputs])
    return FileComponent(vertex, {"path": "", **params}, RunContext(flow_id=FLOW, session_id="s", files=LocalFileStore(tmp_path)))


def store(tmp_path: Path, name: str, content: bytes | str) -> str:
    path = f"{FLOW}/2026-01-01_12-00-00_{name}"
    target = tmp_path / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def minimal_pdf(text: str) -> bytes:
    """A one-page PDF showing `text` in Helvetica, with a correct cross-reference table."""
    content = f"BT /F1 18 Tf 20 100 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 144] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


def minimal_docx(paragraphs: list[str]) -> bytes:
    ns = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    body = "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", f'<w:document xmlns:w="{ns}"><w:body>{body}</w:body></w:document>')
    return buffer.getvalue()


async def test_text_file_message(tmp_path: Path) -> None:
    path = store(tmp_path, "notes.txt", "Hello file\nsecond line")
    message = await make(tmp_path, [path]).load_files_message()
    assert isinstance(message, Message)
    assert message.text == "Hello file\nsecond line"


async def test_several_files_joined_by_separator(tmp_path: Path) -> None:
    paths = [store(tmp_path, "a.md", "# A"), store(tmp_path, "b.txt", "B")]
    component = make(tmp_path, paths, separator="\n===\n")
    assert (await component.load_files_message()).text == "# A\n===\nB"
    assert (await component.load_files()).rows == [{"file_path": paths[0], "text": "# A"}, {"file_path": paths[1], "text": "B"}]
    assert (await component.load_files_path()).text == "\n".join(paths)
    # the `data` output of ≤1.1 exports: one Data per file
    assert [d.data for d in await component.load_files_data()] == [{"file_path": paths[0], "text": "# A"}, {"file_path": paths[1], "text": "B"}]


async def test_csv_rows_and_raw_text(tmp_path: Path) -> None:
    path = store(tmp_path, "people.csv", "name,age,score\nann,31,1.5\nbo,7,\n")
    component = make(tmp_path, [path])
    assert (await component.load_files()).rows == [{"name": "ann", "age": 31, "score": 1.5}, {"name": "bo", "age": 7, "score": None}]
    assert (await component.load_files_message()).text == "name,age,score\nann,31,1.5\nbo,7,\n"


async def test_json_is_normalised_and_parsed(tmp_path: Path) -> None:
    path = store(tmp_path, "data.json", '{\n  "name": "Zoë",\n  "n": [1, 2]\n}')
    component = make(tmp_path, [path])
    # Langflow stores JSON compact with top-level strings NFKD-normalised ("ë" → "e" + U+0308).
    assert (await component.load_files_message()).text == '{"name":"Zoe\u0308","n":[1,2]}'
    structured = await component.load_files_json()
    assert isinstance(structured, Data)
    assert structured.data == {"name": "Zoe\u0308", "n": [1, 2]}


async def test_pdf_text_extraction(tmp_path: Path) -> None:
    path = store(tmp_path, "report.pdf", minimal_pdf("Quarterly revenue grew"))
    assert "Quarterly revenue grew" in (await make(tmp_path, [path]).load_files_message()).text


async def test_docx_paragraphs(tmp_path: Path) -> None:
    path = store(tmp_path, "memo.docx", minimal_docx(["First", "Second"]))
    assert (await make(tmp_path, [path]).load_files_message()).text == "First\n\nSecond"


async def test_explicit_and_fallback_encodings(tmp_path: Path) -> None:
    path = store(tmp_path, "latin.txt", "café".encode("latin-1"))
    assert (await make(tmp_path, [path], text_encoding="latin-1").load_files_message()).text == "café"
    assert (await make(tmp_path, [path]).load_files_message()).text == "café"  # not UTF-8 → cp1252


async def test_file_path_edge_supersedes_uploads(tmp_path: Path) -> None:
    uploaded = store(tmp_path, "uploaded.txt", "uploaded")
    other = store(tmp_path, "other.txt", "from edge")
    component = make(tmp_path, [uploaded], file_path=[Data(data={"file_path": other})])
    assert (await component.load_files_message()).text == "from edge"


async def test_unsupported_extension(tmp_path: Path) -> None:
    path = store(tmp_path, "tool.exe", b"MZ")
    with pytest.raises(ValueError, match=r"Unsupported file extension: \.exe"):
        await make(tmp_path, [path], ignore_unsupported_extensions=False).load_files_message()
    with pytest.raises(ValueError, match=r"No files to process \(unsupported extensions: .*tool\.exe\)"):
        await make(tmp_path, [path]).load_files_message()
    assert (await make(tmp_path, [path], silent_errors=True).load_files_message()).text == ""


async def test_advanced_parser_formats_are_refused_clearly(tmp_path: Path) -> None:
    path = store(tmp_path, "scan.png", b"\x89PNG")
    with pytest.raises(ValueError, match="Advanced Parser"):
        await make(tmp_path, [path]).load_files_message()


async def test_missing_file_and_silent_errors(tmp_path: Path) -> None:
    present = store(tmp_path, "ok.txt", "ok")
    from flowless_engine.errors import FileMissingError

    with pytest.raises(FileMissingError, match="File not found: f/missing.txt") as missing:
        await make(tmp_path, ["f/missing.txt", present]).load_files_message()
    assert missing.value.to_dict() == {"code": "FILE_NOT_FOUND", "message": "File not found: f/missing.txt", "path": "f/missing.txt"}
    assert (await make(tmp_path, ["f/missing.txt", present], silent_errors=True).load_files_message()).text == "ok"


async def test_broken_json_names_the_file(tmp_path: Path) -> None:
    path = store(tmp_path, "bad.json", "{nope")
    with pytest.raises(ValueError, match=f"Error loading file {path}"):
        await make(tmp_path, [path]).load_files_message()


async def test_as_tool_reads_the_uploaded_files(tmp_path: Path) -> None:
    path = store(tmp_path, "facts.txt", "The sky is blue.")
    (tool,) = make(tmp_path, [path]).as_tools()
    assert tool.name == "load_files_message"
    assert "facts.txt" in tool.description
    assert await tool.run({}) == "The sky is blue."
    (broken,) = make(tmp_path, ["f/gone.txt"]).as_tools()
    assert (await broken.run({})).startswith("Error reading files: File not found")


async def test_a_path_outside_the_store_is_refused_as_bad_input(tmp_path: Path) -> None:
    from flowless_engine.errors import FileRefusedError

    (tmp_path.parent / "outside.txt").write_text("secret")
    with pytest.raises(FileRefusedError) as refused:
        await make(tmp_path, ["../outside.txt"]).load_data()
    assert refused.value.code == "FILE_REFUSED" and "../outside.txt" in refused.value.message
    assert await make(tmp_path, ["../outside.txt"], silent_errors=True).load_data() == []  # silent mode skips it
