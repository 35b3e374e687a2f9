"""Read File ("File"): load uploaded files from the file store and return their text.

Paths are those the files API returned (e.g. "<flow_id>/2026-01-01_12-00-00_report.txt").
Text formats are decoded, JSON is normalised like Langflow does, PDFs go through pypdf and
DOCX through the standard library's zip and XML readers.
"""

from __future__ import annotations

import asyncio
import io
import json
import unicodedata
import zipfile
from pathlib import PurePosixPath
from typing import Any
from xml.etree import ElementTree

from flowless_engine.components.base import Component, Input, Output, Tool, to_bool, to_text
from flowless_engine.components.processing import csv_rows
from flowless_engine.schema import Data, DataFrame, Message
from flowless_engine.errors import FileMissingError

TEXT_EXTENSIONS = frozenset(
    {"txt", "md", "mdx", "csv", "json", "yaml", "yml", "xml", "html", "htm", "py", "sh", "sql", "js", "ts", "tsx"}
)
SUPPORTED_EXTENSIONS = TEXT_EXTENSIONS | {"pdf", "docx"}
# Langflow reads these only with its Docling-based "Advanced Parser", which Flowless does not run.
ADVANCED_PARSER_EXTENSIONS = frozenset(
    {"adoc", "asciidoc", "asc", "bmp", "dotx", "dotm", "docm", "jpg", "jpeg", "png", "potx", "ppsx", "pptm",
     "potm", "ppsm", "pptx", "tiff", "xls", "xlsx", "xhtml", "webp"}
)
MAX_DOCX_XML_BYTES = 64 * 1024 * 1024
_WORD = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_FILE_TYPES_INFO = "Supported file extensions: " + ", ".join(sorted(SUPPORTED_EXTENSIONS))


class FileComponent(Component):
    type_name = "File"
    display_name = "Read File"
    description = "Loads and returns the content from uploaded files."
    category = "data"
    icon = "file-text"
    inputs = (
        Input("path", "Files", "file", "", is_list=True, info=_FILE_TYPES_INFO, input_kind="FileInput"),
        Input("file_path", "Server File Path", "other", "", input_types=("Data", "JSON", "Message"), is_list=True, advanced=True, input_kind="HandleInput"),
        Input("separator", "Separator", "str", "\n\n", advanced=True, input_kind="StrInput"),
        Input("silent_errors", "Silent Errors", "bool", False, advanced=True, input_kind="BoolInput"),
        Input("delete_server_file_after_processing", "Delete Server File After Processing", "bool", True, advanced=True, input_kind="BoolInput"),
        Input("ignore_unsupported_extensions", "Ignore Unsupported Extensions", "bool", True, advanced=True, input_kind="BoolInput"),
        Input("ignore_unspecified_files", "Ignore Unspecified Files", "bool", False, advanced=True, input_kind="BoolInput"),
        Input("text_encoding", "Text Encoding", "str", "", advanced=True, input_kind="StrInput"),
        # Langflow 1.13's storage choices: Local is the tenant's files; AWS / Google Drive are refused.
        Input("storage_location", "Storage Location", "sortableList", [{"icon": "hard-drive", "name": "Local"}],
              options=({"name": "Local", "icon": "hard-drive"}, {"name": "AWS", "icon": "Amazon"}, {"name": "Google Drive", "icon": "google"}),
              advanced=True, input_kind="SortableListInput"),
        Input("file_path_str", "File Path", "str", "", advanced=True, info="A path of the tenant's files (tool mode).", input_kind="StrInput"),
        Input("aws_access_key_id", "AWS Access Key ID", "str", "", password=True, load_from_db=True, input_kind="SecretStrInput"),
        Input("aws_secret_access_key", "AWS Secret Key", "str", "", password=True, load_from_db=True, input_kind="SecretStrInput"),
        Input("bucket_name", "S3 Bucket Name", "str", "", input_kind="StrInput"),
        Input("aws_region", "AWS Region", "str", "", input_kind="StrInput"),
        Input("s3_file_key", "S3 File Key", "str", "", input_kind="StrInput"),
        Input("service_account_key", "GCP Credentials Secret Key", "str", "", password=True, load_from_db=True, input_kind="SecretStrInput"),
        Input("file_id", "Google Drive File ID", "str", "", input_kind="StrInput"),
        # Docling's advanced parser is not part of Flowless: the standard parser reads the file.
        Input("advanced_mode", "Advanced Parser", "bool", False, input_kind="BoolInput"),
        Input("pipeline", "Pipeline", "str", "standard", options=("standard", "vlm"), advanced=True, input_kind="DropdownInput"),
        Input("ocr_engine", "OCR Engine", "str", "easyocr", options=("None", "easyocr"), advanced=True, input_kind="DropdownInput"),
        Input("md_image_placeholder", "Image placeholder", "str", "<!-- image -->", advanced=True, input_kind="StrInput"),
        Input("md_page_break_placeholder", "Page break placeholder", "str", "", advanced=True, input_kind="StrInput"),
        Input("doc_key", "Doc Key", "str", "doc", input_types=("Message",), advanced=True, input_kind="MessageTextInput"),
        Input("use_multithreading", "[Deprecated] Use Multithreading", "bool", True, advanced=True, input_kind="BoolInput"),
        Input("concurrency_multithreading", "Processing Concurrency", "int", 1, advanced=True, input_kind="IntInput"),
        Input("markdown", "Markdown Export", "bool", False, input_kind="BoolInput"),
    )
    # Langflow shows a subset depending on the files chosen; `message` is always there.
    outputs = (
        Output("message", "load_files_message", ("Message",), "Raw Content"),
        Output("dataframe", "load_files", ("DataFrame",), "Files"),
        Output("json", "load_files_json", ("Data",), "Structured Content"),
        Output("path", "load_files_path", ("Message",), "File Path"),
        # ≤1.1 exports wire `data`: one Data per file
        Output("data", "load_files_data", ("Data",), "Data"),
    )

    _loaded: list[Data] | None = None

    # ---- outputs ---------------------------------------------------------------------------

    async def load_files_message(self) -> Message:
        separator = to_text(self.param("separator", "")) or "\n\n"
        return Message(text=separator.join(item.text for item in await self.load_data()))

    async def load_files(self) -> DataFrame:
        """One row per file ({file_path, text}); a single CSV file gives its own rows instead."""
        items = await self.load_data()
        if len(items) == 1 and _extension(items[0].data["file_path"]) == "csv":
            return DataFrame(rows=csv_rows(items[0].text))
        return DataFrame(rows=[dict(item.data) for item in items])

    async def load_files_json(self) -> Data:
        items = await self.load_data()
        if not items:
            return Data()
        try:
            parsed = json.loads(items[0].text)
        except ValueError:
            parsed = None
        return Data(data=parsed if isinstance(parsed, dict) else {"value": items[0].text})

    async def load_files_data(self) -> list[Data]:
        return list(await self.load_data())

    async def load_files_path(self) -> Message:
        return Message(text="\n".join(self._paths()))

    def as_tools(self) -> list[Tool]:
        names = ", ".join(PurePosixPath(p).name for p in self._paths())
        default = self.description + (f" Available files: {names}. Call this tool to read these files." if names else "")
        name, description = self.tool_metadata("load_files_message", default)

        async def run(arguments: dict[str, Any]) -> str:
            try:
                return (await self.load_files_message()).plain_text
            except (ValueError, OSError) as exc:
                return f"Error reading files: {exc}"

        parameters = {"type": "object", "properties": {}}
        return [Tool(name=name, description=description, parameters=parameters, run=run, source_id=self.id)]

    # ---- loading ---------------------------------------------------------------------------

    async def load_data(self) -> list[Data]:
        """One Data({file_path, text}) per readable file, in the order given (read once per run)."""
        if self._loaded is None:
            self._loaded = await self._load()
        return self._loaded

    async def _load(self) -> list[Data]:
        silent = to_bool(self.param("silent_errors", False))
        paths = self._paths()
        ignored = [p for p in paths if self._ignored(p)]
        if ignored:
            self.log(f"Ignored files: {[PurePosixPath(p).name for p in ignored]}")
        to_read = [p for p in paths if p not in ignored]
        if not to_read:
            if silent:
                return []
            reason = f" (unsupported extensions: {', '.join(PurePosixPath(p).name for p in ignored)})" if ignored else ""
            raise ValueError(f"No files to process{reason}.")
        items: list[Data] = []
        for path in to_read:
            try:
                items.append(Data(data={"file_path": path, "text": await self._read_text(path)}))
            except (ValueError, OSError) as exc:
                self.log(f"Error processing {path}: {exc}")
                if not silent:
                    raise
        return items

    def _paths(self) -> list[str]:
        """`file_path` (Data/Message from an edge) supersedes `path` (the uploaded files)."""
        location = self.params.get("storage_location")
        if isinstance(location, list) and location and isinstance(location[0], dict) and location[0].get("name") not in (None, "Local"):
            from flowless_engine.errors import ConfigurationError

            raise ConfigurationError(f"{self.name}: reading from {location[0]['name']} is not available in Flowless; choose Local (the tenant's files)")
        if to_text(self.params.get("file_path_str")).strip():
            return [to_text(self.params.get("file_path_str")).strip()]
        upstream = self.params.get("file_path")
        if upstream not in (None, "", []):
            return self._upstream_paths(upstream if isinstance(upstream, list) else [upstream])
        # Uploads keep the stored paths in `file_path`; `value` holds them after a tweak.
        stored = self.field_spec("path").get("file_path") or self.params.get("path")
        values = stored if isinstance(stored, list) else [stored]
        return [to_text(v).strip() for v in values if v and to_text(v).strip()]

    def _upstream_paths(self, items: list[Any]) -> list[str]:
        paths = []
        for item in items:
            if isinstance(item, Message):
                path = item.plain_text
            elif isinstance(item, (Data, dict)):
                path = (item.data if isinstance(item, Data) else item).get("file_path")
            else:
                path = to_text(item)
            if path:
                paths.append(str(path).strip())
            elif to_bool(self.param("ignore_unspecified_files", False)):
                self.log(f"Ignoring Data object missing 'file_path' property: {item}")
            elif not to_bool(self.param("silent_errors", False)):
                raise ValueError("Data object missing 'file_path' property.")
        return paths

    def _ignored(self, path: str) -> bool:
        extension = _extension(path)
        if extension in SUPPORTED_EXTENSIONS or extension in ADVANCED_PARSER_EXTENSIONS:
            return False
        return to_bool(self.param("ignore_unsupported_extensions", True))

    async def _read_text(self, path: str) -> str:
        extension = _extension(path)
        name = PurePosixPath(path).name
        if extension in ADVANCED_PARSER_EXTENSIONS:
            raise ValueError(
                f"File '{name}' has extension '.{extension}' which requires Langflow's Advanced Parser (Docling); "
                "Flowless reads only " + ", ".join(sorted(SUPPORTED_EXTENSIONS))
            )
        if extension not in SUPPORTED_EXTENSIONS:
            raise ValueError(f"Unsupported file extension: .{extension or '(none)'} ('{name}')")
        try:
            raw = await self.ctx.files.read(path)
        except FileNotFoundError as exc:
            raise FileMissingError(f"File not found: {path}", path=path) from exc
        try:
            if extension == "pdf":
                return await asyncio.to_thread(pdf_text, raw)
            if extension == "docx":
                return await asyncio.to_thread(docx_text, raw)
            text = self._decode(raw, name)
            return normalized_json(text) if extension == "json" else text
        except Exception as exc:  # parsers raise many types; all mean "this file cannot be read"
            raise ValueError(f"Error loading file {path}: {exc}") from exc

    def _decode(self, raw: bytes, name: str) -> str:
        encoding = to_text(self.param("text_encoding", "")).strip()
        if encoding:
            try:
                return raw.decode(encoding, errors="replace")
            except LookupError as exc:
                raise ValueError(f"Unknown text encoding '{encoding}'") from exc
        if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            return raw.decode("utf-16")
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            # Not UTF-8: the common legacy case is a Windows Western-European export.
            self.log(f"Read {name} with text encoding 'cp1252' (automatic). If text looks incorrect, set Text Encoding.")
            return raw.decode("cp1252", errors="replace")


def _extension(path: str) -> str:
    return PurePosixPath(path).suffix[1:].lower()


def normalized_json(text: str) -> str:
    """What Langflow stores for a .json file: top-level strings NFKD-normalised, compact JSON."""
    loaded = json.loads(text)
    if isinstance(loaded, dict):
        loaded = {k: unicodedata.normalize("NFKD", v) if isinstance(v, str) else v for k, v in loaded.items()}
    elif isinstance(loaded, list):
        loaded = [unicodedata.normalize("NFKD", v) if isinstance(v, str) else v for v in loaded]
    return json.dumps(loaded, ensure_ascii=False, separators=(",", ":"))


def pdf_text(raw: bytes) -> str:
    """Text of every page, pages separated by a blank line (pypdf, imported only when needed)."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(raw))
    return "\n\n".join(page.extract_text() or "" for page in reader.pages)


def docx_text(raw: bytes) -> str:
    """The body paragraphs of a Word document, separated by a blank line (like python-docx)."""
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        info = archive.getinfo("word/document.xml")
        if info.file_size > MAX_DOCX_XML_BYTES:
            raise ValueError("document body is too large")
        root = ElementTree.fromstring(archive.read(info))
    body = root.find(f"{_WORD}body")
    paragraphs = [] if body is None else body.findall(f"{_WORD}p")
    return "\n\n".join(_paragraph_text(p) for p in paragraphs)


def _paragraph_text(paragraph: ElementTree.Element) -> str:
    parts = []
    for node in paragraph.iter():
        if node.tag == f"{_WORD}t":
            parts.append(node.text or "")
        elif node.tag == f"{_WORD}tab":
            parts.append("\t")
        elif node.tag in (f"{_WORD}br", f"{_WORD}cr"):
            parts.append("\n")
    return "".join(parts)


class UploadedFiles:
    """For nodes that read the tenant's uploads (or paths an edge carries) as the File node does and
    accept only some extensions: `accepted_extensions`, and `files_provider` to name the errors."""

    accepted_extensions: frozenset[str] | tuple[str, ...] = ()
    files_provider = ""

    def _accepted_files(self) -> list[str]:
        from flowless_engine.errors import ConfigurationError

        kept = []
        for path in FileComponent._paths(self):  # type: ignore[arg-type]
            extension = PurePosixPath(path).suffix.lstrip(".").lower()
            if extension in self.accepted_extensions:
                kept.append(path)
            elif to_bool(self.param("ignore_unsupported_extensions", True)):  # type: ignore[attr-defined]
                self.log(f"Ignoring unsupported file: {path}")  # type: ignore[attr-defined]
            else:
                raise ConfigurationError(f"{self.name}: unsupported file extension '.{extension}' ({PurePosixPath(path).name})",  # type: ignore[attr-defined]
                                         provider=self.files_provider)
        return kept

    def _upstream_paths(self, items: list[Any]) -> list[str]:
        return FileComponent._upstream_paths(self, items)  # type: ignore[arg-type]
