"""Write File (SaveToFile): content saved as a new file of the tenant (the files API lists it;
on AWS an S3 object under the tenant's prefix), returning its path. Local storage means the
tenant's files; the AWS and Google Drive destinations of Langflow are refused (a flow cannot
write into arbitrary buckets or drives through Flowless)."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

from flowless_engine.components.base import Component, Input, Output, to_bool, to_data_list, to_int, to_text
from flowless_engine.components.processing import markdown_table
from flowless_engine.components.toolmode import ToolModeMixin
from flowless_engine.errors import ConfigurationError, FileMissingError, FileRefusedError
from flowless_engine.schema import Data, DataFrame, Message

_STORAGE = ({"name": "Local", "icon": "hard-drive"}, {"name": "AWS", "icon": "Amazon"}, {"name": "Google Drive", "icon": "google"})
LOCAL_FORMATS = ("csv", "excel", "json", "markdown", "txt", "html")
MESSAGE_FORMATS = ("txt", "json", "markdown")
_CONTENT_TYPES = {"csv": "text/csv", "json": "application/json", "markdown": "text/markdown", "md": "text/markdown", "txt": "text/plain", "html": "text/html"}


def _html_table(rows: list[dict[str, Any]]) -> str:
    from html import escape

    columns = list(dict.fromkeys(k for r in rows for k in r))
    head = "".join(f"<th>{escape(str(c))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{escape(to_text(r.get(c, '')))}</td>" for c in columns) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _csv(rows: list[dict[str, Any]]) -> str:
    columns = list(dict.fromkeys(k for r in rows for k in r))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (json.dumps(v) if isinstance(v, (dict, list)) else v) for k, v in row.items()})
    return out.getvalue()


class SaveToFileComponent(ToolModeMixin, Component):
    type_name = "SaveToFile"
    display_name = "Write File"
    description = "Save content to a file in the specified format and return its path."
    category = "files_and_knowledge"
    icon = "file-text"
    inputs = (
        Input("storage_location", "Storage Location", "sortableList", [{"icon": "hard-drive", "name": "Local"}], options=_STORAGE, advanced=True,
              info="Choose where to save the file.", input_kind="SortableListInput"),
        Input("input", "File Content", "other", "", input_types=("Data", "JSON", "DataFrame", "Table", "Message"), required=True,
              info="The input to save.", input_kind="HandleInput"),
        Input("file_name", "File Name", "str", "", required=True, info="File name without extension (e.g. 'report'). Extension is added automatically.", input_kind="StrInput"),
        Input("file_format", "File Format (Tool)", "str", "", info="The file format when used as a tool (e.g. 'csv', 'json', 'txt').", input_kind="StrInput"),
        Input("append_mode", "Append", "bool", False, info="Append to file if it exists (plain text formats).", input_kind="BoolInput"),
        Input("local_format", "File Format", "str", "json", options=LOCAL_FORMATS, info="Select the file format for local storage.", input_kind="DropdownInput"),
        Input("aws_format", "File Format", "str", "txt", options=("txt", "json", "csv", "xml", "html", "md", "yaml", "log", "tsv", "jsonl", "parquet", "xlsx", "zip"), input_kind="DropdownInput"),
        Input("gdrive_format", "File Format", "str", "txt", options=("txt", "html", "json", "csv", "xlsx", "slides", "docs", "jpg", "mp3"), input_kind="DropdownInput"),
        Input("aws_access_key_id", "AWS Access Key ID", "str", "", advanced=True, password=True, load_from_db=True, input_kind="SecretStrInput"),
        Input("aws_secret_access_key", "AWS Secret Key", "str", "", advanced=True, password=True, load_from_db=True, input_kind="SecretStrInput"),
        Input("bucket_name", "S3 Bucket Name", "str", "", advanced=True, input_kind="StrInput"),
        Input("aws_region", "AWS Region", "str", "", advanced=True, input_kind="StrInput"),
        Input("s3_prefix", "S3 Prefix", "str", "", advanced=True, input_kind="StrInput"),
        Input("service_account_key", "GCP Credentials Secret Key", "str", "", advanced=True, password=True, load_from_db=True, input_kind="SecretStrInput"),
        Input("folder_id", "Google Drive Folder ID", "str", "", advanced=True, input_kind="StrInput"),
    )
    # `confirmation` is the output of Save to File before 1.4 (same answer).
    outputs = (Output("message", "save_to_file", ("Message",), "File Path"), Output("confirmation", "save_to_file", ("Message",), "Confirmation"))
    tool_outputs = ("message",)
    tool_fields = {
        "input": ("string", "The content to save."),
        "file_name": ("string", "File name without extension, e.g. 'report'."),
        "file_format": ("string", "csv, json, markdown, txt or html."),
    }

    async def save_to_file(self) -> Message:
        if "file_name" not in self.vertex.fields and "file_path" in self.vertex.fields:
            name, value = self._older_node()
        else:
            name, value = to_text(self.params.get("file_name")).strip(), self.params.get("input")
        if not name:
            raise ValueError("File name must be provided.")
        if value is None or value == "":
            raise ValueError("Input type is not set.")
        if isinstance(value, str):
            value = self._coerce(value)
        elif isinstance(value, list):  # a list of Data (a multi-item output): one Data, or a table of them
            items = to_data_list(value)
            value = items[0] if len(items) == 1 else DataFrame(rows=[dict(d.data) for d in items])
        elif isinstance(value, dict):
            value = Data(data=value)
        storage = self._storage()
        if storage != "Local":
            raise ConfigurationError(f"{self.name}: saving to {storage} is not available in Flowless; choose Local (the tenant's files)")
        kind = "Message" if isinstance(value, Message) else "DataFrame" if isinstance(value, DataFrame) else "Data"
        fmt = (to_text(self.params.get("file_format")).strip().lower() or to_text(self.param("local_format", "json")) or "json").lstrip(".")
        fmt = {"md": "markdown", "xlsx": "excel"}.get(fmt, fmt)
        allowed = MESSAGE_FORMATS if kind == "Message" else LOCAL_FORMATS
        if fmt not in allowed:
            raise ValueError(f"Invalid file format '{fmt}' for {kind}. Allowed: {list(allowed)}")
        if fmt == "excel":
            raise ConfigurationError(f"{self.name}: the excel format is not available in Flowless; use csv")
        if to_bool(self.param("append_mode", False)):
            self.log("Append is not available for the tenant's files: a new file is written")
        content = await self._render(value, kind, fmt)
        base = re.sub(r"[\\/\x00-\x1f]", "_", name.rsplit("/", 1)[-1])[:200] or "file"
        extension = {"markdown": "md"}.get(fmt, fmt)
        file_name = base if base.lower().endswith(f".{extension}") else f"{base}.{extension}"
        path = await self.ctx.files.write(file_name, content.encode("utf-8"), _CONTENT_TYPES.get(fmt, "text/plain"))
        text = f"{kind} saved successfully as '{path}'"
        self.status = text
        return Message(text=text)

    def _older_node(self) -> tuple[str, Any]:
        """Save to File before 1.4: `input_type` picks the `df`, `data` or `message` field and
        `file_path` names the file (only its last segment counts: it lands in the tenant's files);
        `file_format` is the format, as it is for the current node."""
        kind = to_text(self.param("input_type", "DataFrame")) or "DataFrame"
        value = self.params.get({"DataFrame": "df", "Data": "data", "Message": "message"}.get(kind, "df"))
        path = to_text(self.params.get("file_path")).strip().replace("\\", "/").rstrip("/")
        name = path.rsplit("/", 1)[-1]
        return ("" if name in {".", ".."} else name), value

    def _storage(self) -> str:
        value = self.params.get("storage_location")
        if isinstance(value, list):
            value = value[0] if value else {"name": "Local"}
        if isinstance(value, dict):
            return str(value.get("name") or "Local")
        return to_text(value) or "Local"

    @staticmethod
    def _coerce(text: str) -> DataFrame | Message:
        """Tool-mode text: JSON rows become a table, anything else a message."""
        try:
            parsed = json.loads(text)
        except ValueError:
            return Message(text=text)
        if isinstance(parsed, list) and parsed and all(isinstance(r, dict) for r in parsed):
            return DataFrame(rows=parsed)
        if isinstance(parsed, dict):
            return DataFrame(rows=[parsed])
        return Message(text=text)

    async def _render(self, value: Any, kind: str, fmt: str) -> str:
        if kind == "Message":
            text = await value.resolve() if isinstance(value, Message) else to_text(value)
            if fmt == "json":
                return json.dumps({"message": text}, indent=2, ensure_ascii=False)
            return f"**Message:**\n\n{text}" if fmt == "markdown" else text
        if kind == "Data":
            assert isinstance(value, Data)
            if fmt == "json":
                return json.dumps(value.data, indent=2, ensure_ascii=False, default=str)
            rows = [value.data]
        else:
            rows = list(value.rows)
            if fmt == "json":
                return json.dumps(rows, indent=2, ensure_ascii=False, default=str)
        if fmt == "csv":
            return _csv(rows)
        if fmt == "markdown":
            return markdown_table(rows)
        if fmt == "html":
            return _html_table(rows)
        return "\n".join(json.dumps(r, ensure_ascii=False, default=str) for r in rows)


# ---- Load CSV / Load JSON over the tenant's files ------------------------------------------------


async def _tenant_file_text(component: Component, path: str) -> str:
    """A file of the tenant (a path the files API returned) as text."""
    if isinstance(path, list):
        path = path[0] if path else ""
    try:
        raw = await component.ctx.files.read(to_text(path).strip())
    except FileNotFoundError as exc:
        raise FileMissingError(f"File not found: {path}", path=to_text(path)) from exc
    except FileRefusedError:
        raise
    except PermissionError as exc:
        raise FileRefusedError(f"File path refused: {path}", path=to_text(path)) from exc
    return raw.decode("utf-8-sig", errors="replace")


class CSVToDataComponent(Component):
    type_name = "CSVtoData"
    display_name = "Load CSV"
    description = "Load a CSV file, CSV from a file path, or a valid CSV string and convert it to a list of Data"
    category = "data_source"
    icon = "file-spreadsheet"
    inputs = (
        Input("csv_file", "CSV File", "file", "", info="Upload a CSV file to convert to a list of Data objects", input_kind="FileInput"),
        Input("csv_path", "CSV File Path", "str", "", input_types=("Message",), info="Provide the path to the CSV file as pure text", input_kind="MessageTextInput"),
        Input("csv_string", "CSV String", "str", "", input_types=("Message",), multiline=True, info="Paste a CSV string directly to convert to a list of Data objects", input_kind="MultilineInput"),
        Input("text_key", "Text Key", "str", "text", input_types=("Message",), info="The key to use for the text column. Defaults to 'text'.", input_kind="MessageTextInput"),
    )
    outputs = (Output("data_list", "load_csv_to_data", ("JSON",), "JSON List"),)

    async def load_csv_to_data(self) -> list[Data]:
        sources = [n for n in ("csv_file", "csv_path", "csv_string") if self.params.get(n) not in (None, "", [])]
        if len(sources) != 1:
            raise ValueError("Please provide exactly one of: CSV file, file path, or CSV string.")
        source = sources[0]
        if source == "csv_string":
            text = to_text(self.params.get("csv_string"))
        else:
            path = self.params.get(source)
            name = to_text(path[0] if isinstance(path, list) and path else path)
            if not name.lower().endswith(".csv"):
                raise ValueError("The provided file must be a CSV file.")
            text = await _tenant_file_text(self, name)
        text_key = to_text(self.param("text_key", "text")) or "text"
        rows = list(csv.DictReader(io.StringIO(text)))
        result = [Data(data=dict(row), text_key=text_key) for row in rows]
        self.status = result
        return result


class JSONToDataComponent(Component):
    type_name = "JSONtoData"
    display_name = "Load JSON"
    description = "Convert a JSON file, JSON from a file path, or a JSON string to a Data object or a list of Data objects"
    category = "data_source"
    icon = "braces"
    inputs = (
        Input("json_file", "JSON File", "file", "", info="Upload a JSON file to convert to a Data object or list of Data objects", input_kind="FileInput"),
        Input("json_path", "JSON File Path", "str", "", input_types=("Message",), info="Provide the path to the JSON file as pure text", input_kind="MessageTextInput"),
        Input("json_string", "JSON String", "str", "", input_types=("Message",), multiline=True, info="Enter a valid JSON string (object or array) to convert to a Data object or list of Data objects", input_kind="MultilineInput"),
    )
    outputs = (Output("data", "convert_json_to_data", ("JSON",), "JSON"),)

    async def convert_json_to_data(self) -> Data | list[Data]:
        from flowless_engine.components.processing_more import loads_lenient

        sources = [n for n in ("json_file", "json_path", "json_string") if self.params.get(n) not in (None, "", [])]
        if len(sources) != 1:
            raise ValueError("Please provide exactly one of: JSON file, file path, or JSON string.")
        source = sources[0]
        if source == "json_string":
            text = to_text(self.params.get("json_string"))
        else:
            path = self.params.get(source)
            name = to_text(path[0] if isinstance(path, list) and path else path)
            if not name.lower().endswith(".json"):
                raise ValueError("The provided file must be a JSON file.")
            text = await _tenant_file_text(self, name)
        parsed = loads_lenient(text)
        if isinstance(parsed, list):
            result: Data | list[Data] = [Data(data=item) if isinstance(item, dict) else Data(data={"value": item}) for item in parsed]
        else:
            result = Data(data=parsed if isinstance(parsed, dict) else {"value": parsed})
        self.status = result
        return result


# ---- Directory: the tenant's files ----------------------------------------------------------------

_DIRECTORY_TYPES = ("csv", "json", "pdf", "txt", "md", "mdx", "yaml", "yml", "xml", "html", "htm", "docx", "py", "sh", "sql", "js", "ts", "tsx")


class DirectoryComponent(Component):
    """Langflow's Directory over the tenant's files: `path` is a folder of the files API's paths
    ("." or "" = every file; "files/<id>" = one upload), `depth`/`recursive` as in Langflow."""

    type_name = "Directory"
    display_name = "Directory"
    description = "Recursively load files from a directory."
    category = "files_and_knowledge"
    icon = "folder"
    inputs = (
        Input("path", "Path", "str", ".", input_types=("Message",), info="Path to the directory to load files from. Defaults to current directory ('.')", input_kind="MessageTextInput"),
        Input("types", "File Types", "str", [], options=_DIRECTORY_TYPES, is_list=True, info="File types to load. Select one or more types or leave empty to load all supported types.", input_kind="MultiselectInput"),
        Input("depth", "Depth", "int", 0, info="Depth to search for files.", input_kind="IntInput"),
        Input("max_concurrency", "Max Concurrency", "int", 2, advanced=True, input_kind="IntInput"),
        Input("load_hidden", "Load Hidden", "bool", False, advanced=True, info="If true, hidden files will be loaded.", input_kind="BoolInput"),
        Input("recursive", "Recursive", "bool", False, advanced=True, info="If true, the search will be recursive.", input_kind="BoolInput"),
        Input("silent_errors", "Silent Errors", "bool", False, advanced=True, input_kind="BoolInput"),
        Input("use_multithreading", "Use Multithreading", "bool", False, advanced=True, input_kind="BoolInput"),
    )
    outputs = (Output("dataframe", "as_dataframe", ("Table",), "Loaded Files"),)

    async def load_directory(self) -> list[Data]:
        from pathlib import PurePosixPath

        from flowless_engine.components.files import FileComponent

        lister = getattr(self.ctx.files, "list", None)
        if lister is None:
            raise ConfigurationError(f"{self.name}: the tenant's files cannot be listed here")
        folder = to_text(self.params.get("path")).strip().strip("/")
        folder = "" if folder in (".", "./") else folder
        wanted = {to_text(t).lower().lstrip(".") for t in (self.params.get("types") or []) if to_text(t)} or set(_DIRECTORY_TYPES)
        recursive = to_bool(self.param("recursive", False))
        depth = to_int(self.param("depth", 0), 0)
        chosen = []
        for path in await lister():
            parts = PurePosixPath(path).parts
            if folder and not path.startswith(folder + "/"):
                continue
            below = len(parts) - len(PurePosixPath(folder).parts if folder else ()) - 1
            if folder and not recursive and below > max(depth, 0):
                continue
            name = parts[-1]
            if name.startswith(".") and not to_bool(self.param("load_hidden", False)):
                continue
            if PurePosixPath(name).suffix.lower().lstrip(".") in wanted:
                chosen.append(path)
        reader = FileComponent(self.vertex, {"silent_errors": self.params.get("silent_errors")}, self.ctx)
        items = []
        for path in chosen:
            try:
                items.append(Data(data={"file_path": path, "text": await reader._read_text(path)}))
            except (ValueError, OSError) as exc:
                if not to_bool(self.param("silent_errors", False)):
                    raise
                self.log(f"Error loading {path}: {exc}")
        self.status = items
        return items

    async def as_dataframe(self) -> "DataFrame":
        return DataFrame(rows=[d.data for d in await self.load_directory()])
