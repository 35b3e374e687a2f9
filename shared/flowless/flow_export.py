"""Flow files in and out: exports without secrets, uploads as JSON or ZIP, ZIP downloads.

An export is the flow as read, minus what belongs to this installation (owner, folder,
access, timestamps) and minus the editor's node state. Secret field values are emptied
unless they name a variable (`load_from_db`), which is a reference, not a secret. `code`
values are kept as uploaded (Flowless never runs them).
"""

from __future__ import annotations

import copy
import io
import json
import re
import zipfile
from pathlib import PurePosixPath
from typing import Any

# Top-level keys an export leaves out (Langflow's list, plus Flowless's own answer fields).
DROPPED_KEYS = frozenset(
    {"user_id", "folder_id", "access_type", "gradient", "updated_at", "created_at", "workspace_id", "version_token", "flowless"}
)
DROPPED_NODE_KEYS = frozenset({"positionAbsolute", "dragging", "selected"})
SECRET_INPUT_TYPE = "SecretStrInput"
MAX_ZIP_MEMBERS = 1000
MAX_UNZIPPED_BYTES = 64 * 1024 * 1024


class UploadError(ValueError):
    """The uploaded file is not a flow, a bundle of flows or a ZIP of them."""


def export_flow(flow: dict[str, Any]) -> dict[str, Any]:
    """A FlowRead-shaped flow as a file to share: installation fields dropped, secrets emptied."""
    exported = {key: value for key, value in flow.items() if key not in DROPPED_KEYS}
    if isinstance(flow.get("data"), dict):
        exported["data"] = export_data(flow["data"])
    return exported


def export_data(data: dict[str, Any]) -> dict[str, Any]:
    cleaned = copy.deepcopy(data)
    _clean_nodes(cleaned.get("nodes"))
    return cleaned


def is_secret(spec: dict[str, Any]) -> bool:
    return spec.get("password") is True or spec.get("_input_type") == SECRET_INPUT_TYPE


def _clean_nodes(nodes: Any) -> None:
    for node in nodes if isinstance(nodes, list) else ():
        if not isinstance(node, dict):
            continue
        for key in DROPPED_NODE_KEYS:
            node.pop(key, None)
        body = (node.get("data") or {}).get("node") if isinstance(node.get("data"), dict) else None
        if not isinstance(body, dict):
            continue
        for spec in (body.get("template") or {}).values():
            if isinstance(spec, dict) and is_secret(spec) and not (spec.get("load_from_db") and spec.get("value")):
                spec["value"] = ""
        inner = body.get("flow")  # a group node carries its own graph
        if isinstance(inner, dict) and isinstance(inner.get("data"), dict):
            _clean_nodes(inner["data"].get("nodes"))


# --- uploads ----------------------------------------------------------------------------------


def read_upload(filename: str, content: bytes) -> list[dict[str, Any]]:
    """The flows in an uploaded file: one flow, `{"flows": [...]}`, a bare graph, or a ZIP of those."""
    if zipfile.is_zipfile(io.BytesIO(content)):
        return _read_zip(content)
    return _flows_in(_parse_json(filename, content), _stem(filename))


def _read_zip(content: bytes) -> list[dict[str, Any]]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        members = [m for m in archive.infolist() if _is_flow_member(m)]
        if len(members) > MAX_ZIP_MEMBERS:
            raise UploadError(f"The ZIP holds more than {MAX_ZIP_MEMBERS} JSON files")
        # The declared sizes bound what zipfile will read, so this also stops a ZIP bomb.
        if sum(m.file_size for m in members) > MAX_UNZIPPED_BYTES:
            raise UploadError(f"The ZIP unpacks to more than {MAX_UNZIPPED_BYTES // (1024 * 1024)} MB")
        flows: list[dict[str, Any]] = []
        for member in sorted(members, key=lambda m: m.filename):
            flows.extend(_flows_in(_parse_json(member.filename, archive.read(member)), _stem(member.filename)))
    if not flows:
        raise UploadError("The ZIP holds no flow JSON files")
    return flows


def _is_flow_member(member: zipfile.ZipInfo) -> bool:
    path = PurePosixPath(member.filename)
    return not member.is_dir() and path.suffix.lower() == ".json" and "__MACOSX" not in path.parts and not path.name.startswith(".")


def _parse_json(filename: str, content: bytes) -> Any:
    try:
        return json.loads(content)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise UploadError(f"{filename or 'The file'} is not valid JSON") from None


def _flows_in(document: Any, stem: str) -> list[dict[str, Any]]:
    if isinstance(document, dict) and isinstance(document.get("flows"), list):
        flows = document["flows"]
    elif isinstance(document, dict) and "nodes" in document and "data" not in document:
        flows = [{"name": stem, "data": document}]  # a bare graph
    else:
        flows = [document]
    if not all(isinstance(flow, dict) for flow in flows):
        raise UploadError("A flow must be a JSON object")
    return [flow if flow.get("name") else {**flow, "name": stem} for flow in flows]


def _stem(filename: str) -> str:
    return PurePosixPath(filename or "flow").stem or "flow"


# --- downloads --------------------------------------------------------------------------------


def zip_flows(flows: list[dict[str, Any]]) -> bytes:
    """A ZIP with one `<name>.json` per exported flow."""
    buffer = io.BytesIO()
    used: set[str] = set()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for flow in flows:
            name = _file_name(str(flow.get("name") or flow.get("id") or "flow"))
            if name in used:
                name = _file_name(f"{flow.get('name')} {flow.get('id')}")
            used.add(name)
            archive.writestr(name, json.dumps(flow, indent=2, ensure_ascii=False))
    return buffer.getvalue()


def _file_name(name: str) -> str:
    return re.sub(r'[\\/:*?"<>|\x00-\x1f]', "_", name).strip() + ".json"
