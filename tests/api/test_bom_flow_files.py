"""Flow files with a UTF-8 byte-order mark: accepted by the upload route (single file and zip
member), by `flowless run --flows` (load_flows) and by the Python client's create_flow(path)."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from pathlib import Path

from tests.api.conftest import EXAMPLE_FLOWS, TENANT

BOM = b"\xef\xbb\xbf"
FLOWS = "/api/v1/flows/"


def _echo(name: str) -> bytes:
    flow = json.loads((EXAMPLE_FLOWS / "echo-prompt.json").read_text(encoding="utf-8"))
    flow.pop("endpoint_name", None)
    flow["id"], flow["name"] = str(uuid.uuid4()), name
    return BOM + json.dumps(flow).encode("utf-8")


def test_upload_route_accepts_a_bom_in_a_json_file_and_in_a_zip_member(client, api_env):
    headers = {"x-api-key": api_env["key"]}
    single = client.post(f"{FLOWS}upload/", files={"file": ("bom.json", _echo("With BOM"))}, headers=headers)
    assert single.status_code == 201, single.text
    assert [f["name"] for f in single.json()] == ["With BOM"]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("a.json", _echo("Zipped BOM"))
    zipped_upload = client.post(f"{FLOWS}upload/", files={"file": ("flows.zip", archive.getvalue())}, headers=headers)
    assert zipped_upload.status_code == 201, zipped_upload.text
    flow_id = zipped_upload.json()[0]["id"]
    ran = client.post(f"/api/v1/run/{flow_id}", json={"input_value": "bom"}, headers=headers)
    assert ran.status_code == 200 and ran.json()["outputs"][0]["outputs"][0]["results"]["message"]["text"].startswith("You said: bom")


def test_local_server_loads_a_flows_folder_file_with_a_bom(api_env, tmp_path: Path, capsys):
    from flowless.local.server import load_flows

    (tmp_path / "bom.json").write_bytes(_echo("Folder BOM"))
    loaded = load_flows(TENANT, tmp_path)
    assert [f.name for f in loaded] == ["Folder BOM"]
    assert "skipped" not in capsys.readouterr().err


def test_client_create_flow_reads_a_file_with_a_bom(tmp_path: Path):
    from flowless.client import _load_flow

    path = tmp_path / "bom.json"
    path.write_bytes(_echo("Client BOM"))
    assert _load_flow(path)["name"] == "Client BOM"
