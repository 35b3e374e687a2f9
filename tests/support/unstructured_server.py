"""A local Unstructured partition API from its public reference: `POST /general/v0/general`,
multipart/form-data (`files` plus form parameters such as `strategy`, `chunking_strategy`), the
`unstructured-api-key` header (401 `{"detail"}` otherwise), 422 `{"detail": [...]}` without a file.
Answers a JSON list of elements `{type, element_id, text, metadata: {filename, filetype,
languages, page_number}}`: each paragraph of a text file an element (the first a Title), or one
`CompositeElement` of them all when a chunking strategy is asked."""

from __future__ import annotations

import hashlib
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from tests.support.stub_http import Answer, StubRequest, StubServer

API_KEY = "unstructured-key"


def form_parts(request: StubRequest) -> tuple[dict[str, str], list[tuple[str, bytes]]]:
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + request.headers.get("content-type", "").encode() + b"\r\n\r\n" + request.body)
    fields: dict[str, str] = {}
    files: list[tuple[str, bytes]] = []
    for part in message.iter_parts() if message.is_multipart() else []:
        name = part.get_param("name", header="content-disposition")
        filename = part.get_filename()
        payload = part.get_payload(decode=True) or b""
        if filename is not None and name == "files":
            files.append((filename, payload))
        elif name:
            fields[name] = payload.decode()
    return fields, files


class UnstructuredServer(StubServer):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, str]] = []

    def failure_body(self, status: int) -> tuple[str, Any]:
        return "application/json", {"detail": f"scripted failure {status}"}

    def route(self, r: StubRequest) -> Answer:
        if (r.method, r.path) != ("POST", "/general/v0/general"):
            return 404, "application/json", {"detail": "Not Found"}
        if r.headers.get("unstructured-api-key") != API_KEY:
            return 401, "application/json", {"detail": "API key is malformed, please type the API key correctly in the header."}
        fields, files = form_parts(r)
        self.forms.append(fields)
        if not files:
            return 422, "application/json", {"detail": [{"loc": ["body", "files"], "msg": "field required", "type": "value_error.missing"}]}
        elements: list[dict[str, Any]] = []
        for filename, content in files:
            paragraphs = [p.strip() for p in content.decode("utf-8", errors="replace").split("\n\n") if p.strip()]
            metadata = {"filename": filename, "filetype": "text/plain", "languages": ["eng"], "page_number": 1}
            if fields.get("chunking_strategy"):
                paragraphs, kinds = ["\n\n".join(paragraphs)], ["CompositeElement"]
            else:
                kinds = ["Title"] + ["NarrativeText"] * (len(paragraphs) - 1)
            for text, kind in zip(paragraphs, kinds):
                elements.append({"type": kind, "element_id": hashlib.sha256(f"{filename}{text}".encode()).hexdigest()[:32], "text": text,
                                 "metadata": dict(metadata)})
        return 200, "application/json", elements
