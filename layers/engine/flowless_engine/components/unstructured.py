"""Unstructured's partition API (`POST /general/v0/general`, multipart `files`, the
`unstructured-api-key` header) over the tenant's uploaded files, as Langflow's Unstructured node:
one row per element the API returns (its text, metadata, `category`, `element_id`), the file's
stored path under `file_path`. The endpoint is the node's `api_url`, else Unstructured's serverless
API (replaceable through `EngineSettings.service_urls`: unstructured). Errors as every hosted API."""

from __future__ import annotations

import json
import uuid
from pathlib import PurePosixPath
from typing import Any

from flowless_engine.components.apis import api_key, call_json, service_url
from flowless_engine.components.base import Component, Input, Output, to_bool, to_text
from flowless_engine.components.files import UploadedFiles
from flowless_engine.errors import ConfigurationError, FileMissingError, ProviderError
from flowless_engine.schema import Data, DataFrame, Message

PROVIDER = "Unstructured"
DEFAULT_URL = "https://api.unstructuredapp.io"
PARTITION_PATH = "/general/v0/general"
VALID_EXTENSIONS = ("bmp", "csv", "doc", "docx", "eml", "epub", "heic", "html", "jpeg", "png", "md", "msg", "odt", "org", "p7s", "pdf",
                    "ppt", "pptx", "rst", "rtf", "tiff", "txt", "tsv", "xls", "xlsx", "xml")


def multipart(fields: dict[str, str], filename: str, content: bytes) -> tuple[bytes, str]:
    boundary = f"flowless-{uuid.uuid4().hex}"
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    safe = filename.replace('"', "_")
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{safe}"\r\n'
                 f"Content-Type: application/octet-stream\r\n\r\n".encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class UnstructuredComponent(UploadedFiles, Component):
    accepted_extensions = VALID_EXTENSIONS
    files_provider = PROVIDER
    type_name = "Unstructured"
    display_name = "Unstructured API"
    description = "Uses Unstructured.io API to extract clean text from raw source documents. Supports a wide range of file types."
    icon = "Unstructured"
    inputs = (
        Input("path", "Files", "file", [], is_list=True, info="Supported file extensions: " + ", ".join(VALID_EXTENSIONS), input_kind="FileInput"),
        Input("file_path", "Server File Path", "other", "", input_types=("Data", "JSON", "Message"), is_list=True, advanced=True, input_kind="HandleInput"),
        Input("separator", "Separator", "str", "\n\n", advanced=True, input_kind="StrInput"),
        Input("silent_errors", "Silent Errors", "bool", False, advanced=True, input_kind="BoolInput"),
        Input("delete_server_file_after_processing", "Delete Server File After Processing", "bool", True, advanced=True, input_kind="BoolInput"),
        Input("ignore_unsupported_extensions", "Ignore Unsupported Extensions", "bool", True, advanced=True, input_kind="BoolInput"),
        Input("ignore_unspecified_files", "Ignore Unspecified Files", "bool", False, advanced=True, input_kind="BoolInput"),
        Input("api_key", "Unstructured.io Serverless API Key", "str", "", required=True, password=True, load_from_db=True,
              info="Unstructured API Key. Create at: https://app.unstructured.io/", input_kind="SecretStrInput"),
        Input("api_url", "Unstructured.io API URL", "str", "", input_types=("Message",), info="Unstructured API URL.", input_kind="MessageTextInput"),
        Input("chunking_strategy", "Chunking Strategy", "str", "", options=("", "basic", "by_title", "by_page", "by_similarity"),
              info="Chunking strategy to use, see https://docs.unstructured.io/api-reference/api-services/chunking", input_kind="DropdownInput"),
        Input("unstructured_args", "Additional Arguments", "NestedDict", {}, input_kind="NestedDictInput",
              info="Optional dictionary of additional arguments to the Loader. "
                   "See https://docs.unstructured.io/api-reference/api-services/api-parameters for more information."),
    )
    outputs = (Output("dataframe", "load_files", ("Table",), "Files"),)

    def _paths(self) -> list[str]:
        return self._accepted_files()

    def _fields(self) -> dict[str, str]:
        args = self.params.get("unstructured_args") or {}
        if isinstance(args, Data):
            args = args.data
        if isinstance(args, str):
            try:
                args = json.loads(args) if args.strip() else {}
            except ValueError as exc:
                raise ConfigurationError(f"{self.name}: Additional Arguments are not a JSON object: {exc}", provider=PROVIDER) from exc
        if not isinstance(args, dict):
            raise ConfigurationError(f"{self.name}: Additional Arguments must be an object", provider=PROVIDER)
        fields = {str(k): (json.dumps(v) if isinstance(v, (dict, list)) else ("true" if v is True else "false" if v is False else str(v)))
                  for k, v in args.items() if v is not None and k not in ("api_key", "url", "partition_via_api")}
        strategy = to_text(self.params.get("chunking_strategy")).strip()
        if strategy:
            fields["chunking_strategy"] = strategy
        return fields

    async def load_files(self) -> DataFrame:
        paths = self._paths()
        if not paths:
            self.log("No files to process.")
            return DataFrame(rows=[])
        key = await api_key(self, "api_key", PROVIDER)
        own = self.params.get("api_url")
        own_url = (own.plain_text if isinstance(own, Message) else to_text(own)).strip().rstrip("/")
        base = own_url or service_url(self, "unstructured", DEFAULT_URL)
        url = base if base.endswith(PARTITION_PATH) else base + PARTITION_PATH
        fields = self._fields()
        rows: list[dict[str, Any]] = []
        for path in paths:
            try:
                raw = await self.ctx.files.read(path)
            except FileNotFoundError as exc:
                if to_bool(self.param("silent_errors", False)):
                    self.log(f"File not found: {path}")
                    continue
                raise FileMissingError(f"File not found: {path}", path=path) from exc
            body, content_type = multipart(fields, PurePosixPath(path).name, raw)
            elements = await call_json(self, PROVIDER, "POST", url, content=body,
                                       headers={"unstructured-api-key": key, "Content-Type": content_type, "Accept": "application/json"})
            if not isinstance(elements, list):
                raise ProviderError("Unstructured answered something other than a list of elements", provider=PROVIDER)
            for element in elements:
                if not isinstance(element, dict):
                    continue
                metadata = dict(element.get("metadata") or {})
                rows.append({"text": to_text(element.get("text")), **metadata, "category": element.get("type"),
                             "element_id": element.get("element_id"), "file_path": path})
        self.status = f"{len(rows)} element(s) from {len(paths)} file(s)"
        return DataFrame(rows=rows)
