"""Docling: convert documents on a Docling Serve instance, export DoclingDocuments.

- `DoclingRemote` ("Docling Serve"): each of the tenant's files (the node's uploads, or paths
  from `file_path`) is sent base64-encoded to `POST <api_url>/v1/convert/source/async` asking
  for the JSON format; the task is polled at `GET /v1/status/poll/<task_id>` until `success` /
  `failure` (bounded by `max_poll_timeout`), then `GET /v1/result/<task_id>` hands the
  DoclingDocument (`document.json_content`), kept as a plain dict under `doc` with the file's
  path. A `task_id` polls an existing task instead. Headers (e.g. `X-Api-Key`) come from the
  `api_headers` table; a value naming a tenant variable is replaced by it.
- `ExportDoclingDocument`: a DoclingDocument (the `doc` column of a table, or Data) exported to
  Markdown, HTML, plain text or DocTags by the reader below (reading order from `body`, groups
  for lists, headings, code, formulas, tables from their cell grid, pictures as a placeholder or
  their embedded data URI). DocTags carry no location tokens.

Every request goes through the guarded HTTP client: 401/403 is a clear 4xx naming Docling Serve,
429/5xx are retried then 502, a conversion past its poll time 504.
"""

from __future__ import annotations

import asyncio
import base64
import html
import json
import time
from pathlib import PurePosixPath
from typing import Any

from flowless_engine.components.apis import call_json
from flowless_engine.components.base import Component, Input, Output, to_bool, to_int, to_text
from flowless_engine.components.files import UploadedFiles
from flowless_engine.errors import ConfigurationError, FileMissingError, ProviderError, ProviderTimeoutError
from flowless_engine.schema import Data, DataFrame, Message

PROVIDER = "Docling Serve"
VALID_EXTENSIONS = frozenset({
    "adoc", "asciidoc", "asc", "bmp", "csv", "dotx", "dotm", "docm", "docx", "htm", "html", "jpeg", "jpg", "json", "md", "pdf", "png",
    "potx", "ppsx", "pptm", "potm", "ppsm", "pptx", "tiff", "txt", "xls", "xlsx", "xhtml", "xml", "webp"})


def _header_rows(value: Any) -> list[tuple[str, Any]]:
    """(key, value) pairs of the `api_headers` field: table rows {key, value}, a dict, Data, JSON text."""
    items = value if isinstance(value, list) else [value]
    pairs: list[tuple[str, Any]] = []
    for item in items:
        if isinstance(item, Data):
            item = item.data
        if isinstance(item, Message):
            try:
                item = json.loads(item.plain_text)
            except ValueError:
                continue
        if isinstance(item, str):
            try:
                item = json.loads(item) if item.strip() else {}
            except ValueError:
                continue
        if not isinstance(item, dict):
            continue
        if "key" in item and "value" in item:
            pairs.append((str(item["key"]).strip(), item["value"]))
        else:
            pairs.extend((str(k).strip(), v) for k, v in item.items() if k not in ("text_key", "default_value"))
    return [(k, v) for k, v in pairs if k and k != "None"]


class DoclingRemoteComponent(UploadedFiles, Component):
    accepted_extensions = VALID_EXTENSIONS
    files_provider = PROVIDER
    type_name = "DoclingRemote"
    display_name = "Docling Serve"
    description = "Uses Docling to process input documents connecting to your instance of Docling Serve."
    category = "docling"
    icon = "Docling"
    inputs = (
        Input("path", "Files", "file", [], is_list=True, info="Supported file extensions: " + ", ".join(sorted(VALID_EXTENSIONS)), input_kind="FileInput"),
        Input("file_path", "Server File Path", "other", "", input_types=("Data", "JSON", "Message"), is_list=True, advanced=True, input_kind="HandleInput"),
        Input("separator", "Separator", "str", "\n\n", advanced=True, input_kind="StrInput"),
        Input("silent_errors", "Silent Errors", "bool", False, advanced=True, input_kind="BoolInput"),
        Input("delete_server_file_after_processing", "Delete Server File After Processing", "bool", True, advanced=True, input_kind="BoolInput"),
        Input("ignore_unsupported_extensions", "Ignore Unsupported Extensions", "bool", True, advanced=True, input_kind="BoolInput"),
        Input("ignore_unspecified_files", "Ignore Unspecified Files", "bool", False, advanced=True, input_kind="BoolInput"),
        Input("api_url", "Server address", "str", "", required=True, info="URL of the Docling Serve instance.", input_kind="StrInput"),
        Input("task_id", "Task ID", "str", "", info="Optional task ID from a previous Docling Serve upload.", input_kind="StrInput"),
        Input("max_concurrency", "Concurrency", "int", 2, input_types=("Message",), advanced=True,
              info="Maximum number of concurrent requests for the server.", input_kind="IntInput"),
        Input("max_poll_timeout", "Maximum poll time", "float", 3600, input_types=("Message",), advanced=True,
              info="Maximum waiting time for the document conversion to complete.", input_kind="FloatInput"),
        Input("api_headers", "HTTP headers", "table", [], input_types=("Data", "JSON"), advanced=True,
              info="Optional headers required for connecting to Docling Serve.", input_kind="TableInput"),
        Input("docling_serve_opts", "Docling options", "NestedDict", {}, input_types=("Message",), advanced=True,
              info="Optional dictionary of additional options.", input_kind="NestedDictInput"),
    )
    outputs = (Output("dataframe", "load_files", ("Table",), "Files"),)
    POLL_INTERVAL_S = 2.0

    def _base(self) -> str:
        url = to_text(self.params.get("api_url")).strip().rstrip("/")
        if not url:
            raise ConfigurationError(f"{self.name}: the Docling Serve address (api_url) is empty", provider=PROVIDER)
        if not url.startswith(("http://", "https://")):
            raise ConfigurationError(f"{self.name}: the Docling Serve address must be an http(s) URL: {url}", provider=PROVIDER)
        return f"{url}/v1"

    async def _headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        for key, value in _header_rows(self.params.get("api_headers")):
            text = to_text(value)
            resolved = await self.ctx.variable(text) if text and text.replace("_", "").isalnum() else None
            headers[key] = resolved if resolved is not None else text
        return headers

    def _options(self) -> dict[str, Any]:
        extra = self.params.get("docling_serve_opts")
        if isinstance(extra, Message):
            extra = extra.plain_text
        if isinstance(extra, str):
            try:
                extra = json.loads(extra) if extra.strip() else {}
            except ValueError as exc:
                raise ConfigurationError(f"{self.name}: Docling options are not a JSON object: {exc}", provider=PROVIDER) from exc
        if isinstance(extra, Data):
            extra = extra.data
        return {"to_formats": ["json"], "image_export_mode": "placeholder", **(extra if isinstance(extra, dict) else {})}

    async def _poll(self, base: str, headers: dict[str, str], task_id: str, file_path: str | None) -> Data | None:
        limit = float(to_text(self.param("max_poll_timeout", 3600)) or 3600)
        started = time.monotonic()
        while True:
            task = await call_json(self, PROVIDER, "GET", f"{base}/status/poll/{task_id}", headers=headers)
            status = task.get("task_status")
            if status in ("success", "failure"):
                break
            waited = time.monotonic() - started
            if waited >= limit:
                raise ProviderTimeoutError(f"Processing time {waited:.1f}s exceeds the maximum poll timeout {limit:g}s "
                                           f"(Docling Serve task {task_id}, last status {status}).", provider=PROVIDER)
            await asyncio.sleep(min(self.POLL_INTERVAL_S, max(0.0, limit - waited)))
        result = await call_json(self, PROVIDER, "GET", f"{base}/result/{task_id}", headers=headers)
        errors = result.get("errors") or []
        if result.get("status") == "failure" or errors or status == "failure":
            messages = [e.get("error_message") if isinstance(e, dict) else str(e) for e in errors]
            detail = "; ".join(m for m in messages if m) or "Unknown Docling processing error"
            raise ProviderError(f"Docling processing failed: {detail}", provider=PROVIDER)
        document = (result.get("document") or {}).get("json_content")
        if not isinstance(document, dict):
            self.log("No JSON DoclingDocument found in the result.")
            return None
        return Data(data={"doc": document, **({"file_path": file_path} if file_path else {})})

    async def _convert(self, base: str, headers: dict[str, str], path: str, options: dict[str, Any]) -> Data | None:
        try:
            raw = await self.ctx.files.read(path)
        except FileNotFoundError as exc:
            raise FileMissingError(f"File not found: {path}", path=path) from exc
        payload = {"options": options, "sources": [{"kind": "file", "base64_string": base64.b64encode(raw).decode(), "filename": PurePosixPath(path).name}]}
        task = await call_json(self, PROVIDER, "POST", f"{base}/convert/source/async", json_body=payload, headers=headers)
        if not task.get("task_id"):
            raise ProviderError("Docling Serve did not return a task id", provider=PROVIDER)
        return await self._poll(base, headers, task["task_id"], path)

    def _files(self) -> list[str]:
        return self._accepted_files()

    async def load_files(self) -> DataFrame:
        base, headers = self._base(), await self._headers()
        task_id = to_text(self.params.get("task_id")).strip()
        if task_id:
            found = await self._poll(base, headers, task_id, None)
            return DataFrame(rows=[found.data] if found else [])
        paths = self._files()
        if not paths:
            if to_bool(self.param("silent_errors", False)):
                return DataFrame(rows=[])
            raise ConfigurationError(f"{self.name}: no files to process", provider=PROVIDER)
        options = self._options()
        gate = asyncio.Semaphore(max(1, to_int(to_text(self.param("max_concurrency", 2)), 2)))

        async def one(path: str) -> Data | None:
            async with gate:
                return await self._convert(base, headers, path, options)

        results = await asyncio.gather(*(one(p) for p in paths))
        rows = [r.data for r in results if r is not None]
        self.status = f"{len(rows)} document(s) converted"
        return DataFrame(rows=rows)


# ---- DoclingDocument → text ---------------------------------------------------------------

_SKIPPED_LABELS = frozenset({"page_header", "page_footer"})


class DoclingReader:
    """Walks a DoclingDocument dict (`body` in reading order, through `groups`), yielding blocks."""

    def __init__(self, doc: dict[str, Any]) -> None:
        if not isinstance(doc, dict) or "body" not in doc:
            raise ValueError("not a DoclingDocument (no 'body')")
        self.doc = doc

    def resolve(self, ref: Any) -> dict[str, Any] | None:
        pointer = ref.get("$ref") if isinstance(ref, dict) else ref
        if not isinstance(pointer, str) or not pointer.startswith("#/"):
            return None
        parts = pointer[2:].split("/")
        node: Any = self.doc
        for part in parts:
            if isinstance(node, list):
                index = int(part) if part.isdigit() else -1
                node = node[index] if 0 <= index < len(node) else None
            elif isinstance(node, dict):
                node = node.get(part)
            if node is None:
                return None
        return node if isinstance(node, dict) else None

    def blocks(self) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
        """(kind, item, context) in reading order; kind: title, heading, text, list_item, code,
        formula, caption, table, picture; context: list info and page."""
        out: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
        captions = {c.get("$ref") for item in (self.doc.get("tables") or []) + (self.doc.get("pictures") or []) for c in item.get("captions") or [] if isinstance(c, dict)}

        def page(item: dict[str, Any]) -> int | None:
            prov = item.get("prov") or []
            return prov[0].get("page_no") if prov and isinstance(prov[0], dict) else None

        def walk(node: dict[str, Any], in_list: dict[str, Any] | None, depth: int) -> None:
            if depth > 64:
                return
            for index, ref in enumerate(node.get("children") or []):
                item = self.resolve(ref)
                if item is None:
                    continue
                label = str(item.get("label") or "")
                self_ref = item.get("self_ref", "")
                if item.get("content_layer") not in (None, "body") or label in _SKIPPED_LABELS:
                    continue
                if self_ref.startswith("#/groups/"):
                    is_list = label in ("list", "ordered_list") or item.get("name") == "list"
                    walk(item, {"ordered": label == "ordered_list", "depth": (in_list or {}).get("depth", -1) + 1} if is_list else in_list, depth + 1)
                    continue
                context = {"page": page(item), "list": in_list, "index": index}
                if self_ref.startswith("#/tables/"):
                    out.append(("table", item, context))
                elif self_ref.startswith("#/pictures/"):
                    out.append(("picture", item, context))
                elif self_ref in captions:
                    pass  # printed with its table or picture
                elif label == "title":
                    out.append(("title", item, context))
                elif label in ("section_header", "chapter"):
                    out.append(("heading", item, context))
                elif label == "list_item":
                    out.append(("list_item", item, context))
                elif label == "code":
                    out.append(("code", item, context))
                elif label == "formula":
                    out.append(("formula", item, context))
                elif self_ref.startswith("#/texts/"):
                    out.append(("text", item, context))
                if item.get("children") and not self_ref.startswith("#/groups/"):
                    walk(item, in_list, depth + 1)

        walk(self.doc.get("body") or {}, None, 0)
        return out

    def caption(self, item: dict[str, Any]) -> str:
        return " ".join(str((self.resolve(c) or {}).get("text") or "") for c in item.get("captions") or []).strip()

    @staticmethod
    def grid(table: dict[str, Any]) -> list[list[str]]:
        data = table.get("data") or {}
        rows, cols = int(data.get("num_rows") or 0), int(data.get("num_cols") or 0)
        grid = [["" for _ in range(cols)] for _ in range(rows)]
        for cell in data.get("table_cells") or []:
            for r in range(int(cell.get("start_row_offset_idx", 0)), min(rows, int(cell.get("end_row_offset_idx", 0)))):
                for c in range(int(cell.get("start_col_offset_idx", 0)), min(cols, int(cell.get("end_col_offset_idx", 0)))):
                    grid[r][c] = str(cell.get("text") or "")
        return grid

    @staticmethod
    def image_uri(picture: dict[str, Any]) -> str:
        uri = str(((picture.get("image") or {}).get("uri")) or "")
        return uri if uri.startswith("data:") else ""


def _md_escape(text: str) -> str:
    return text.replace("_", "\\_")


def _md_table(grid: list[list[str]]) -> str:
    if not grid or not grid[0]:
        return ""
    widths = [max(3, *(len(row[c]) for row in grid)) for c in range(len(grid[0]))]
    line = lambda row: "| " + " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) + " |"  # noqa: E731
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(grid[0]), rule, *(line(row) for row in grid[1:])])


def export_markdown(doc: dict[str, Any], image_mode: str = "placeholder", image_placeholder: str = "<!-- image -->",
                    page_break: str = "", strict_text: bool = False) -> str:
    reader = DoclingReader(doc)
    parts: list[tuple[str, str]] = []  # (text, the list it belongs to: items of one list sit on consecutive lines)
    last_page = None
    for kind, item, context in reader.blocks():
        if page_break and not strict_text and context["page"] is not None:
            if last_page is not None and context["page"] != last_page:
                parts.append((page_break, ""))
            last_page = context["page"]
        text = str(item.get("text") or "")
        esc = text if strict_text else _md_escape(text)
        if kind == "title":
            parts.append((text if strict_text else f"# {esc}", ""))
        elif kind == "heading":
            parts.append((text if strict_text else f"{'#' * (int(item.get('level') or 1) + 1)} {esc}", ""))
        elif kind == "list_item":
            info = context["list"] or {}
            indent = "    " * max(0, info.get("depth", 0))
            marker = f"{context['index'] + 1}." if info.get("ordered") or item.get("enumerated") else "-"
            parts.append((text if strict_text else f"{indent}{marker} {esc}", str((item.get("parent") or {}).get("$ref") or "list")))
        elif kind == "code":
            parts.append((text if strict_text else f"```\n{text}\n```", ""))
        elif kind == "formula":
            parts.append((text if strict_text else (f"$${text}$$" if text else "<!-- formula-not-decoded -->"), ""))
        elif kind == "table":
            caption = reader.caption(item)
            grid = reader.grid(item)
            body = "\n".join(" ".join(row) for row in grid) if strict_text else _md_table(grid)
            parts.extend((p, "") for p in (caption, body) if p)
        elif kind == "picture":
            caption = reader.caption(item)
            if caption:
                parts.append((caption, ""))
            if not strict_text:
                uri = reader.image_uri(item)
                parts.append((f"![Image]({uri})" if image_mode == "embedded" and uri else image_placeholder, ""))
        elif text:
            parts.append((esc, ""))
    blocks: list[str] = []
    previous = ""
    for text, in_list in parts:
        if blocks and in_list and in_list == previous:
            blocks[-1] += "\n" + text
        else:
            blocks.append(text)
        previous = in_list
    return "\n\n".join(b for b in blocks if b)


class _ListTags:
    """Opens a list before its first item, switches between ordered and unordered, closes it
    before anything else (the tag names are the format's)."""

    def __init__(self, out: list[str], ordered: str, unordered: str) -> None:
        self.out, self.names, self.open = out, (unordered, ordered), None

    def item(self, ordered: bool) -> None:
        tag = self.names[ordered]
        if self.open != tag:
            self.close()
            self.out.append(f"<{tag}>")
            self.open = tag

    def close(self) -> None:
        if self.open:
            self.out.append(f"</{self.open}>")
            self.open = None


def export_html(doc: dict[str, Any], image_mode: str = "placeholder") -> str:
    reader = DoclingReader(doc)
    body: list[str] = []
    lists = _ListTags(body, "ol", "ul")
    for kind, item, context in reader.blocks():
        text = html.escape(str(item.get("text") or ""))
        if kind != "list_item":
            lists.close()
        if kind == "title":
            body.append(f"<h1>{text}</h1>")
        elif kind == "heading":
            level = min(6, int(item.get("level") or 1) + 1)
            body.append(f"<h{level}>{text}</h{level}>")
        elif kind == "list_item":
            lists.item(bool((context["list"] or {}).get("ordered") or item.get("enumerated")))
            body.append(f"<li>{text}</li>")
        elif kind == "code":
            body.append(f"<pre><code>{text}</code></pre>")
        elif kind == "formula":
            body.append(f"<div class=\"formula\">{text}</div>")
        elif kind == "table":
            rows = reader.grid(item)
            caption = html.escape(reader.caption(item))
            cells = "".join("<tr>" + "".join(f"<{'th' if i == 0 else 'td'}>{html.escape(c)}</{'th' if i == 0 else 'td'}>" for c in row) + "</tr>"
                            for i, row in enumerate(rows))
            body.append(f"<table>{f'<caption>{caption}</caption>' if caption else ''}<tbody>{cells}</tbody></table>")
        elif kind == "picture":
            uri = reader.image_uri(item)
            image = f'<img src="{html.escape(uri)}">' if image_mode == "embedded" and uri else "<!-- image -->"
            caption = html.escape(reader.caption(item))
            body.append(f"<figure>{image}{f'<figcaption>{caption}</figcaption>' if caption else ''}</figure>")
        elif text:
            body.append(f"<p>{text}</p>")
    lists.close()
    title = html.escape(str(doc.get("name") or ""))
    return ("<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"UTF-8\">\n"
            f"<title>{title}</title>\n</head>\n<body>\n<div class='page'>\n" + "\n".join(body) + "\n</div>\n</body>\n</html>")


def export_doctags(doc: dict[str, Any]) -> str:
    reader = DoclingReader(doc)
    parts: list[str] = []
    lists = _ListTags(parts, "ordered_list", "unordered_list")
    for kind, item, context in reader.blocks():
        text = str(item.get("text") or "")
        if kind != "list_item":
            lists.close()
        if kind == "list_item":
            lists.item(bool((context["list"] or {}).get("ordered") or item.get("enumerated")))
            parts.append(f"<list_item>{text}</list_item>")
        elif kind == "heading":
            parts.append(f"<section_header_level_{int(item.get('level') or 1)}>{text}</section_header_level_{int(item.get('level') or 1)}>")
        elif kind == "table":
            cells = "".join("".join(f"<{'ched' if i == 0 else 'fcel'}>{c}" for c in row) + "<nl>" for i, row in enumerate(reader.grid(item)))
            caption = reader.caption(item)
            parts.append(f"<otsl>{cells}{f'<caption>{caption}</caption>' if caption else ''}</otsl>")
        elif kind == "picture":
            caption = reader.caption(item)
            parts.append(f"<picture>{f'<caption>{caption}</caption>' if caption else ''}</picture>")
        else:
            parts.append(f"<{kind if kind != 'text' else str(item.get('label') or 'text')}>{text}</{kind if kind != 'text' else str(item.get('label') or 'text')}>")
    lists.close()
    return "<doctag>" + "\n".join(parts) + "\n</doctag>"


def docling_documents(value: Any, doc_key: str) -> tuple[list[dict[str, Any]], str | None]:
    """The DoclingDocuments of a table (`doc_key` column, else the first column holding one) or
    of Data items; a warning when another column was used."""
    def is_doc(v: Any) -> bool:
        return isinstance(v, dict) and "body" in v and (v.get("schema_name") in (None, "DoclingDocument"))

    def as_doc(v: Any) -> Any:
        if isinstance(v, str):
            try:
                return json.loads(v)
            except ValueError:
                return v
        return v

    if isinstance(value, DataFrame):
        if not value.rows:
            raise ValueError("DataFrame is empty")
        columns = list(dict.fromkeys(k for row in value.rows for k in row))
        if doc_key in columns:
            return [as_doc(row.get(doc_key)) for row in value.rows], None
        found = next((c for c in columns if any(is_doc(as_doc(row.get(c))) for row in value.rows)), None)
        if found is None:
            raise ValueError(f"Column '{doc_key}' not found in DataFrame. Available columns: {columns}.")
        return ([as_doc(row.get(found)) for row in value.rows],
                f"Column '{doc_key}' not found, but found DoclingDocument objects in column '{found}'. Using '{found}' instead.")
    items = value if isinstance(value, list) else [value]
    docs = []
    for item in items:
        data = item.data if isinstance(item, Data) else item if isinstance(item, dict) else None
        if data is None or doc_key not in data:
            raise ValueError(f"'{doc_key}' field not available in the input Data. Check that your input is a DoclingDocument.")
        docs.append(as_doc(data[doc_key]))
    return docs, None


class ExportDoclingDocumentComponent(Component):
    type_name = "ExportDoclingDocument"
    display_name = "Export DoclingDocument"
    description = "Export DoclingDocument to markdown, html or other formats."
    category = "docling"
    icon = "Docling"
    inputs = (
        Input("data_inputs", "JSON or Table", "other", "", input_types=("Data", "JSON", "DataFrame", "Table"), required=True,
              info="The data with documents to export.", input_kind="HandleInput"),
        Input("export_format", "Export format", "str", "Markdown", options=("Markdown", "HTML", "Plaintext", "DocTags"),
              info="Select the export format to convert the input.", input_kind="DropdownInput"),
        Input("image_mode", "Image export mode", "str", "placeholder", options=("placeholder", "embedded"),
              info="Placeholder replaces the images with a string; Embedded includes them as base64 encoded images.", input_kind="DropdownInput"),
        Input("md_image_placeholder", "Image placeholder", "str", "<!-- image -->", advanced=True, input_kind="StrInput"),
        Input("md_page_break_placeholder", "Page break placeholder", "str", "", advanced=True, input_kind="StrInput"),
        Input("doc_key", "Doc Key", "str", "doc", input_types=("Message",), advanced=True, info="The key to use for the DoclingDocument column.",
              input_kind="MessageTextInput"),
    )
    outputs = (Output("data", "export_document", ("JSON",), "Exported data"), Output("dataframe", "as_dataframe", ("Table",), "Table"))

    async def export_document(self) -> list[Data]:
        cached = getattr(self, "_exported", None)
        if cached is not None:
            return cached
        fmt = to_text(self.param("export_format", "Markdown")) or "Markdown"
        if fmt not in ("Markdown", "HTML", "Plaintext", "DocTags"):
            raise ConfigurationError(f"{self.name}: unknown export format '{fmt}'")
        try:
            documents, warning = docling_documents(self.params.get("data_inputs"), to_text(self.param("doc_key", "doc")) or "doc")
        except ValueError as exc:
            raise ConfigurationError(f"{self.name}: {exc}") from exc
        if warning:
            self.status = warning
            self.log(warning)
        image_mode = to_text(self.param("image_mode", "placeholder")) or "placeholder"
        results = []
        for doc in documents:
            try:
                if fmt == "Markdown":
                    content = export_markdown(doc, image_mode, to_text(self.param("md_image_placeholder", "<!-- image -->")),
                                              to_text(self.param("md_page_break_placeholder", "")))
                elif fmt == "HTML":
                    content = export_html(doc, image_mode)
                elif fmt == "Plaintext":
                    content = export_markdown(doc, strict_text=True)
                else:
                    content = export_doctags(doc)
            except (ValueError, TypeError, AttributeError) as exc:
                raise ConfigurationError(f"{self.name}: Error exporting document: {exc}") from exc
            metadata: dict[str, Any] = {"export_format": fmt}
            origin = doc.get("origin") or {}
            if doc.get("name"):
                metadata["name"] = doc["name"]
            for key, target in (("filename", "filename"), ("binary_hash", "document_id"), ("mimetype", "mimetype")):
                if origin.get(key):
                    metadata[target] = str(origin[key])
            results.append(Data(data={"text": content, **metadata}))
        self._exported = results
        return results

    async def as_dataframe(self) -> DataFrame:
        return DataFrame(rows=[d.data for d in await self.export_document()])


def _triplets(grid: list[list[str]]) -> str:
    """A table as Docling's chunking text: `row, column = value` for every body cell ('. ' joined)."""
    if not grid or not grid[0]:
        return ""
    if len(grid[0]) == 1:
        values = [row[0].strip() for row in grid[1:]]
        return ". ".join(f"{grid[0][0].strip()} = {v}" for v in values) if values else grid[0][0].strip()
    header = [c.strip() for c in grid[0]]
    text = ". ".join(f"{row[0].strip()}, {header[j]} = {row[j].strip()}" for row in grid[1:] for j in range(1, len(header)))
    return text or ". ".join(c.strip() for row in grid for c in row if c.strip())


def hierarchical_chunks(doc: dict[str, Any], always_emit_headings: bool = False) -> list[dict[str, Any]]:
    """Docling's hierarchical chunking: one chunk per paragraph, list, table, picture caption, code
    or formula, carrying the headings in scope; `text` is the headings then the chunk, one per line."""
    reader = DoclingReader(doc)
    headings: dict[int, dict[str, Any]] = {}
    emitted: set[str] = set()
    chunks: list[tuple[str, list[str], list[str]]] = []  # (text, headings, item refs)

    def scope() -> list[dict[str, Any]]:
        return [headings[k] for k in sorted(headings)]

    def emit_heading_only() -> None:
        if always_emit_headings and headings and scope()[-1].get("self_ref") not in emitted:
            chunks.append(("", [h.get("text", "") for h in scope()], [h.get("self_ref", "") for h in scope()]))
            emitted.add(scope()[-1].get("self_ref", ""))

    blocks = reader.blocks()
    index = 0
    while index < len(blocks):
        kind, item, context = blocks[index]
        index += 1
        if kind in ("title", "heading"):
            level = 0 if kind == "title" else int(item.get("level") or 1)
            if any(k >= level for k in headings):
                emit_heading_only()
            for key in [k for k in headings if k >= level]:
                headings.pop(key)
            headings[level] = item
            continue
        refs = [str(item.get("self_ref", ""))]
        if kind == "list_item":
            parent = (item.get("parent") or {}).get("$ref")
            lines = [f"{'1.' if item.get('enumerated') else '-'} {item.get('text', '')}"]
            while index < len(blocks) and blocks[index][0] == "list_item" and (blocks[index][1].get("parent") or {}).get("$ref") == parent:
                following = blocks[index][1]
                lines.append(f"{str(len(lines) + 1) + '.' if following.get('enumerated') else '-'} {following.get('text', '')}")
                refs.append(str(following.get("self_ref", "")))
                index += 1
            text = "\n".join(lines)
        elif kind == "table":
            text = "\n\n".join(p for p in (reader.caption(item), _triplets(reader.grid(item))) if p)
        elif kind == "picture":
            text = reader.caption(item)
        elif kind == "code":
            text = f"```\n{item.get('text', '')}\n```"
        elif kind == "formula":
            text = f"$${item.get('text', '')}$$" if item.get("text") else ""
        else:
            text = str(item.get("text") or "")
        if not text:
            continue
        chunks.append((text, [h.get("text", "") for h in scope()], refs))
        if headings:
            emitted.add(scope()[-1].get("self_ref", ""))
    emit_heading_only()
    return [{"text": "\n".join([*heads, text]) if text else "\n".join(heads), "doc_items": refs} for text, heads, refs in chunks]


class ChunkDoclingDocumentComponent(Component):
    type_name = "ChunkDoclingDocument"
    display_name = "Chunk DoclingDocument"
    description = "Use DoclingDocument chunkers to split the document into chunks."
    category = "docling"
    icon = "Docling"
    inputs = (
        Input("data_inputs", "JSON or Table", "other", "", input_types=("Data", "JSON", "DataFrame", "Table"), required=True,
              info="The data with documents to split in chunks.", input_kind="HandleInput"),
        Input("chunker", "Chunker", "str", "HybridChunker", options=("HybridChunker", "HierarchicalChunker"),
              info="Which chunker to use.", input_kind="DropdownInput"),
        Input("provider", "Provider", "str", "Hugging Face", options=("Hugging Face", "OpenAI"), info="Which tokenizer provider.", input_kind="DropdownInput"),
        Input("hf_model_name", "HF model name", "str", "sentence-transformers/all-MiniLM-L6-v2", advanced=True,
              info="Model name of the tokenizer to use with the HybridChunker when Hugging Face is chosen as a tokenizer.", input_kind="StrInput"),
        Input("openai_model_name", "OpenAI model name", "str", "gpt-4o", advanced=True,
              info="Model name of the tokenizer to use with the HybridChunker when OpenAI is chosen as a tokenizer.", input_kind="StrInput"),
        Input("max_tokens", "Maximum tokens", "int", None, advanced=True, info="Maximum number of tokens for the HybridChunker.", input_kind="IntInput"),
        Input("merge_peers", "Merge peers", "bool", True, advanced=True, info="Merge undersized peer chunks (HybridChunker).", input_kind="BoolInput"),
        Input("always_emit_headings", "Always emit headings", "bool", False, advanced=True,
              info="Emit a chunk for headings that have no content of their own.", input_kind="BoolInput"),
        Input("doc_key", "Doc Key", "str", "doc", input_types=("Message",), advanced=True, info="The key to use for the DoclingDocument column.",
              input_kind="MessageTextInput"),
    )
    outputs = (Output("dataframe", "chunk_documents", ("Table",), "Table"),)

    async def chunk_documents(self) -> DataFrame:
        chunker = to_text(self.param("chunker", "HybridChunker")) or "HybridChunker"
        if chunker == "HybridChunker":
            raise ConfigurationError(
                f"{self.name}: the HybridChunker counts tokens with a model tokenizer ({to_text(self.param('provider', 'Hugging Face'))}) "
                "that Flowless does not load; choose the HierarchicalChunker, or split the exported text with a text splitter")
        if chunker != "HierarchicalChunker":
            raise ConfigurationError(f"{self.name}: Unknown chunker: {chunker}")
        try:
            documents, warning = docling_documents(self.params.get("data_inputs"), to_text(self.param("doc_key", "doc")) or "doc")
        except ValueError as exc:
            raise ConfigurationError(f"{self.name}: {exc}") from exc
        if warning:
            self.status = warning
        rows = []
        for doc in documents:
            try:
                chunks = hierarchical_chunks(doc, to_bool(self.param("always_emit_headings", False)))
            except (ValueError, TypeError, AttributeError) as exc:
                raise ConfigurationError(f"{self.name}: Error splitting text: {exc}") from exc
            document_id = str((doc.get("origin") or {}).get("binary_hash", "None"))
            rows.extend({"text": c["text"], "document_id": document_id, "doc_items": json.dumps(c["doc_items"])} for c in chunks)
        return DataFrame(rows=rows)
