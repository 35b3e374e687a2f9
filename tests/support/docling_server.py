"""Docling Serve on 127.0.0.1, from its public API (docling-serve's /v1 routes): `POST
/v1/convert/source/async` ({options, sources: [{kind: file, base64_string, filename}]}) →
TaskStatusResponse {task_id, task_type, task_status: pending, task_position}; `GET
/v1/status/poll/<task_id>` → `started` for `started_polls` polls, then `success` (or `failure`);
`GET /v1/result/<task_id>` → ConvertDocumentResponse {document: {filename, json_content},
status, errors, processing_time}. With `api_key` set, requests need `X-Api-Key` (401
`{"detail": ...}` otherwise). A file named `broken.*` fails with Docling's error list.

The DoclingDocument returned is built from the uploaded text: its first line the title, then
a section header, paragraphs, a bulleted and a numbered list, a table, a picture with caption,
code, a formula, and a paragraph on page 2.
"""

from __future__ import annotations

import base64
import itertools
from typing import Any

from tests.support.stub_http import Answer, StubRequest, StubServer

API_KEY = "docling-test-key"


def docling_document(filename: str, text: str) -> dict[str, Any]:
    first = text.strip().splitlines()[0] if text.strip() else filename
    texts: list[dict[str, Any]] = []
    body_children: list[dict[str, str]] = []
    groups: list[dict[str, Any]] = []

    def add_text(label: str, value: str, parent: str = "#/body", page: int = 1, **extra: Any) -> str:
        ref = f"#/texts/{len(texts)}"
        texts.append({"self_ref": ref, "parent": {"$ref": parent}, "children": [], "content_layer": "body", "label": label,
                      "prov": [{"page_no": page, "bbox": {"l": 0, "t": 0, "r": 1, "b": 1, "coord_origin": "BOTTOMLEFT"}, "charspan": [0, len(value)]}],
                      "orig": value, "text": value, **extra})
        if parent == "#/body":
            body_children.append({"$ref": ref})
        return ref

    def add_list(items: list[str], enumerated: bool) -> None:
        gref = f"#/groups/{len(groups)}"
        group = {"self_ref": gref, "parent": {"$ref": "#/body"}, "children": [], "content_layer": "body", "name": "list", "label": "list"}
        groups.append(group)
        body_children.append({"$ref": gref})
        for i, item in enumerate(items):
            ref = add_text("list_item", item, gref, enumerated=enumerated, marker=f"{i + 1}." if enumerated else "-")
            group["children"].append({"$ref": ref})

    add_text("page_header", "Running header")
    add_text("title", first)
    add_text("section_header", "Introduction", level=1)
    add_text("text", "Docling converts documents_with_underscores.")
    add_list(["first point", "second point"], enumerated=False)
    add_list(["step one", "step two"], enumerated=True)
    table_caption = add_text("caption", "Table 1: numbers", parent="#/tables/0")
    body_children.append({"$ref": "#/tables/0"})
    cells = [{"text": t, "start_row_offset_idx": r, "end_row_offset_idx": r + 1, "start_col_offset_idx": c, "end_col_offset_idx": c + 1,
              "column_header": r == 0, "row_header": False, "row_span": 1, "col_span": 1}
             for r, row in enumerate([["name", "value"], ["a", "1"], ["b", "22"]]) for c, t in enumerate(row)]
    tables = [{"self_ref": "#/tables/0", "parent": {"$ref": "#/body"}, "children": [], "content_layer": "body", "label": "table",
               "prov": [{"page_no": 1}], "captions": [{"$ref": table_caption}], "references": [], "footnotes": [],
               "data": {"table_cells": cells, "num_rows": 3, "num_cols": 2}}]
    picture_caption = add_text("caption", "Figure 1: a chart", parent="#/pictures/0")
    body_children.append({"$ref": "#/pictures/0"})
    pictures = [{"self_ref": "#/pictures/0", "parent": {"$ref": "#/body"}, "children": [], "content_layer": "body", "label": "picture",
                 "prov": [{"page_no": 1}], "captions": [{"$ref": picture_caption}], "references": [], "footnotes": [], "annotations": [],
                 "image": {"mimetype": "image/png", "dpi": 72, "size": {"width": 1, "height": 1}, "uri": "data:image/png;base64,iVBORw0KGgo="}}]
    add_text("code", "print('hi')", code_language="python")
    add_text("formula", "E = mc^2")
    add_text("text", "Second page text.", page=2)
    add_text("page_footer", "Page 2")
    return {"schema_name": "DoclingDocument", "version": "1.5.0", "name": filename.rsplit(".", 1)[0],
            "origin": {"mimetype": "application/pdf", "binary_hash": 1234567890123, "filename": filename},
            "furniture": {"self_ref": "#/furniture", "children": [], "content_layer": "furniture", "name": "_root_", "label": "unspecified"},
            "body": {"self_ref": "#/body", "children": body_children, "content_layer": "body", "name": "_root_", "label": "unspecified"},
            "groups": groups, "texts": texts, "pictures": pictures, "tables": tables, "key_value_items": [], "form_items": [],
            "pages": {"1": {"size": {"width": 612, "height": 792}, "page_no": 1}, "2": {"size": {"width": 612, "height": 792}, "page_no": 2}}}


class DoclingServer(StubServer):
    def __init__(self) -> None:
        super().__init__()
        self.api_key = API_KEY
        self.started_polls = 1
        self.tasks: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)

    def failure_body(self, status: int) -> tuple[str, Any]:
        return "application/json", {"detail": f"scripted failure {status}"}

    def route(self, r: StubRequest) -> Answer:
        if self.api_key and r.headers.get("x-api-key") != self.api_key:
            return 401, "application/json", {"detail": "Api key is required as the X-Api-Key header."}
        if r.path == "/v1/convert/source/async" and r.method == "POST":
            body = r.json()
            (source,) = body["sources"]
            task_id = f"task-{next(self._ids)}"
            self.tasks[task_id] = {"filename": source["filename"], "text": base64.b64decode(source["base64_string"]).decode("utf-8", "replace"),
                                   "options": body.get("options"), "polls": 0}
            return 200, "application/json", {"task_id": task_id, "task_type": "convert", "task_status": "pending", "task_position": 1, "task_meta": None}
        if r.path.startswith("/v1/status/poll/"):
            task_id = r.path.rsplit("/", 1)[-1]
            task = self.tasks.get(task_id)
            if task is None:
                return 404, "application/json", {"detail": "Task not found."}
            task["polls"] += 1
            status = "started" if task["polls"] <= self.started_polls else ("failure" if task["filename"].startswith("broken") else "success")
            return 200, "application/json", {"task_id": task_id, "task_type": "convert", "task_status": status, "task_position": None, "task_meta": None}
        if r.path.startswith("/v1/result/"):
            task = self.tasks.get(r.path.rsplit("/", 1)[-1])
            if task is None:
                return 404, "application/json", {"detail": "Task result not found. Please wait for a completion status."}
            if task["filename"].startswith("broken"):
                return 200, "application/json", {"document": {"filename": task["filename"], "json_content": None}, "status": "failure",
                                                 "errors": [{"component_type": "document_backend", "module_name": "pdf", "error_message": "Input document is not valid."}],
                                                 "processing_time": 0.1, "timings": {}}
            return 200, "application/json", {"document": {"filename": task["filename"], "md_content": None,
                                                          "json_content": docling_document(task["filename"], task["text"])},
                                             "status": "success", "errors": [], "processing_time": 0.2, "timings": {}}
        return 404, "application/json", {"detail": "Not Found"}
