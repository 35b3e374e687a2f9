"""Files v1 and v2 through the ASGI app on moto's S3 and DynamoDB: upload then run a shared flow
that reads the file, listings, downloads, deletes, limits, types, tenants and paths."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from tests.api.conftest import OTHER_TENANT, TENANT, shared_flow, store_flow

MODEL = [{"name": "gpt-4o-mini", "provider": "OpenAI"}]
REPORT = """Acme Corp annual report.
COMPANY: Acme
REVENUE: 120M
GROSS_PROFIT: 60M
EBITDA: 30M
EBIT: 25M
NET_INCOME: 18M
NET_MARGIN: 15%
"""
STAMPED = re.compile(r"^\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2}_")


@pytest.fixture
def files_bucket(api_env: dict[str, Any], moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The files bucket on the session's moto server (emptied with it before each test)."""
    from flowless.store.files import ensure_files_bucket

    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_endpoint)
    assert ensure_files_bucket()


def headers(key: str) -> dict[str, str]:
    return {"x-api-key": key}


def upload_v1(client: Any, flow_id: str, key: str, name: str, content: bytes, content_type: str = "text/plain") -> Any:
    return client.post(f"/api/v1/files/upload/{flow_id}", files={"file": (name, content, content_type)}, headers=headers(key))


def upload_v2(client: Any, key: str, name: str, content: bytes, content_type: str = "text/plain") -> Any:
    return client.post("/api/v2/files", files={"file": (name, content, content_type)}, headers=headers(key))


def run(client: Any, flow_id: str, key: str, tweaks: dict[str, Any]) -> Any:
    return client.post(f"/api/v1/run/{flow_id}", json={"input_value": "", "tweaks": tweaks}, headers=headers(key))


def texts(response: Any) -> list[str]:
    return [o["results"]["message"]["text"] for o in response.json()["outputs"][0]["outputs"]]


# --- the scenario: upload, then run a flow that reads the file ------------------------------


def test_uploaded_report_feeds_financial_report_parser(client, api_env, files_bucket):
    flow_id = store_flow(TENANT, shared_flow("Financial Report Parser"))
    uploaded = upload_v1(client, flow_id, api_env["key"], "report.txt", REPORT.encode())
    assert uploaded.status_code == 201
    body = uploaded.json()
    assert body["flowId"] == flow_id
    folder, name = body["file_path"].split("/")
    assert folder == flow_id and STAMPED.match(name) and name.endswith("_report.txt")

    response = run(client, flow_id, api_env["key"], {"File-NGW2N": {"path": [body["file_path"]]}, "Agent-6rJWA": {"model": MODEL}})
    assert response.status_code == 200, response.text
    (table,) = texts(response)
    assert table.splitlines()[0] == "## 📊 Acme"
    for row in ("| Revenue | 120M |", "| Gross Profit | 60M |", "| EBITDA | 30M |", "| Net Income | 18M |"):
        assert row in table
    (request,) = api_env["server"].requests
    assert "Acme Corp annual report." in request.body["messages"][-1]["content"]


def test_v2_file_feeds_text_sentiment_analysis(client, api_env, files_bucket):
    flow_id = store_flow(TENANT, shared_flow("Text Sentiment Analysis"))
    uploaded = upload_v2(client, api_env["key"], "messages.txt", b"Loving the new release, but the docs need work.")
    assert uploaded.status_code == 201
    file = uploaded.json()
    assert set(file) == {"id", "name", "path", "size"}
    assert file["name"] == "messages" and file["path"] == f"files/{file['id']}/messages.txt" and file["size"] == 47

    tweaks = {"File-a3YoT": {"path": [file["path"]]}, **{f"Agent-tsa-{x}": {"model": MODEL} for x in "abc"}}
    response = run(client, flow_id, api_env["key"], tweaks)
    assert response.status_code == 200, response.text
    analysis, recommendation = texts(response)
    assert analysis == "Echo: Loving the new release, but the docs need work."
    assert "Echo: Loving the new release" in recommendation


# --- v1 and v2 routes -----------------------------------------------------------------------------


def test_v1_list_download_delete(client, api_env, files_bucket):
    flow_id = api_env["flows"]["Echo Prompt"]
    key = api_env["key"]
    first = upload_v1(client, flow_id, key, "notes.md", b"# Notes\n", "text/markdown").json()["file_path"].split("/")[1]
    image = upload_v1(client, flow_id, key, "dot.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 16, "image/png").json()["file_path"].split("/")[1]

    listed = client.get(f"/api/v1/files/list/{flow_id}", headers=headers(key))
    assert listed.status_code == 200 and listed.json() == {"files": sorted([first, image])}

    downloaded = client.get(f"/api/v1/files/download/{flow_id}/{first}", headers=headers(key))
    assert downloaded.status_code == 200 and downloaded.content == b"# Notes\n"
    assert downloaded.headers["content-type"].startswith("text/markdown")
    assert downloaded.headers["content-disposition"].startswith("attachment;")
    assert downloaded.headers["x-content-type-options"] == "nosniff"
    shown = client.get(f"/api/v1/files/images/{flow_id}/{image}", headers=headers(key))
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/png"
    assert client.get(f"/api/v1/files/images/{flow_id}/{first}", headers=headers(key)).status_code == 415

    deleted = client.delete(f"/api/v1/files/delete/{flow_id}/{first}", headers=headers(key))
    assert deleted.status_code == 200 and deleted.json() == {"message": f"File {first} deleted successfully"}
    assert client.get(f"/api/v1/files/list/{flow_id}", headers=headers(key)).json() == {"files": [image]}
    assert client.get(f"/api/v1/files/download/{flow_id}/{first}", headers=headers(key)).status_code == 404
    assert client.delete(f"/api/v1/files/delete/{flow_id}/{first}", headers=headers(key)).status_code == 404


def test_v2_list_download_delete_and_tenant_prefix(client, api_env, files_bucket):
    key = api_env["key"]
    file = upload_v2(client, key, "data.csv", b"a,b\n1,2\n", "text/csv").json()
    listed = client.get("/api/v2/files", headers=headers(key)).json()
    assert [(f["id"], f["name"], f["path"], f["size"]) for f in listed] == [(file["id"], "data", file["path"], 8)]

    downloaded = client.get(f"/api/v2/files/{file['id']}", headers=headers(key))
    assert downloaded.status_code == 200 and downloaded.content == b"a,b\n1,2\n"
    assert 'filename="data.csv"' in downloaded.headers["content-disposition"]

    from flowless.store.files import FileObjects

    assert list(FileObjects(TENANT).names(f"{TENANT}/files/{file['id']}/")) == ["data.csv"]  # the storage layout

    deleted = client.delete(f"/api/v2/files/{file['id']}", headers=headers(key))
    assert deleted.status_code == 200 and deleted.json() == {"detail": "File data deleted successfully"}
    assert client.get("/api/v2/files", headers=headers(key)).json() == []
    assert client.get(f"/api/v2/files/{file['id']}", headers=headers(key)).status_code == 404
    assert list(FileObjects(TENANT).names(f"{TENANT}/files/{file['id']}/")) == []


def test_scopes(client, api_env, files_bucket, scoped_keys):
    flow_id = api_env["flows"]["Echo Prompt"]
    assert upload_v1(client, flow_id, scoped_keys["execute"]["with"], "a.txt", b"a").status_code == 201
    assert upload_v1(client, flow_id, scoped_keys["execute"]["without"], "a.txt", b"a").status_code == 403
    assert client.get(f"/api/v1/files/list/{flow_id}", headers=headers(scoped_keys["read"]["without"])).status_code == 403
    file_id = upload_v2(client, api_env["key"], "b.txt", b"b").json()["id"]
    assert client.delete(f"/api/v2/files/{file_id}", headers=headers(scoped_keys["write"]["without"])).status_code == 403
    assert client.post("/api/v2/files", headers=headers(api_env["key"])).status_code == 422  # no file part


# --- limits and types ------------------------------------------------------------------------------


def test_size_limit_is_413(client, api_env, files_bucket, monkeypatch):
    monkeypatch.setenv("FLOWLESS_MAX_UPLOAD_MB", "1")
    big = b"x" * (1024 * 1024 + 1)
    for response in (upload_v1(client, api_env["flows"]["Echo Prompt"], api_env["key"], "big.txt", big),
                     upload_v2(client, api_env["key"], "big.txt", big)):
        assert response.status_code == 413
        assert response.json() == {"detail": "File size is larger than the maximum file size 1MB."}
    assert upload_v2(client, api_env["key"], "fits.txt", b"x" * (1024 * 1024)).status_code == 201


@pytest.mark.parametrize(
    ("name", "content", "content_type", "reason"),
    [
        ("tool.exe", b"MZ\x90\x00", "application/octet-stream", "'.exe' files are executable"),
        ("notes.txt", b"MZ\x90\x00\x03", "text/plain", "a Windows executable"),
        ("report.pdf", b"\x7fELF\x02\x01", "application/pdf", "an ELF executable"),
        ("run.txt", b"#!/bin/sh\nrm -rf /\n", "text/plain", "interpreter line"),
        ("report.pdf", b"not really a pdf", "application/pdf", "not a valid .pdf file"),
        ("archive.zip", b"PK\x03\x04", "application/zip", "Unsupported file type: '.zip'"),
        ("data.txt", b"hello", "application/x-msdownload", "executable type"),
    ],
)
def test_refused_types_are_415(client, api_env, files_bucket, name, content, content_type, reason):
    for response in (upload_v1(client, api_env["flows"]["Echo Prompt"], api_env["key"], name, content, content_type),
                     upload_v2(client, api_env["key"], name, content, content_type)):
        assert response.status_code == 415
        assert reason in response.json()["detail"]
    assert client.get("/api/v2/files", headers=headers(api_env["key"])).json() == []


def test_accepted_types(client, api_env, files_bucket):
    samples = {
        "paper.pdf": b"%PDF-1.7\n...", "photo.jpg": b"\xff\xd8\xff\xe0rest", "sheet.xlsx": b"PK\x03\x04rest",
        "data.json": b'{"a": 1}', "page.html": b"<p>hi</p>", "legacy.doc": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest",
    }
    for name, content in samples.items():
        assert upload_v2(client, api_env["key"], name, content, "application/octet-stream").status_code == 201, name


# --- tenants and paths -----------------------------------------------------------------------------


def test_every_files_route_hides_other_tenants(client, api_env, files_bucket):
    flow_id = api_env["flows"]["Echo Prompt"]
    name = upload_v1(client, flow_id, api_env["key"], "secret.txt", b"tenant A only").json()["file_path"].split("/")[1]
    file_id = upload_v2(client, api_env["key"], "secret.txt", b"tenant A only").json()["id"]
    other = headers(api_env["other_key"])
    answers = [
        upload_v1(client, flow_id, api_env["other_key"], "x.txt", b"x"),
        client.get(f"/api/v1/files/download/{flow_id}/{name}", headers=other),
        client.get(f"/api/v1/files/images/{flow_id}/{name}", headers=other),
        client.get(f"/api/v1/files/list/{flow_id}", headers=other),
        client.delete(f"/api/v1/files/delete/{flow_id}/{name}", headers=other),
        client.get(f"/api/v2/files/{file_id}", headers=other),
        client.delete(f"/api/v2/files/{file_id}", headers=other),
        client.get(f"/lf/{TENANT}/api/v2/files", headers=other),
        client.get(f"/lf/{OTHER_TENANT}/api/v1/files/list/{flow_id}", headers=headers(api_env["key"])),
    ]
    assert [a.status_code for a in answers] == [404] * len(answers)
    assert client.get("/api/v2/files", headers=other).json() == []
    # Tenant A still has everything.
    assert client.get(f"/api/v1/files/download/{flow_id}/{name}", headers=headers(api_env["key"])).content == b"tenant A only"
    assert client.get(f"/api/v2/files/{file_id}", headers=headers(api_env["key"])).content == b"tenant A only"


def test_path_traversal_is_refused(client, api_env, files_bucket):
    flow_id = api_env["flows"]["Echo Prompt"]
    key = api_env["key"]
    for name in ("..", "%2e%2e", "..%2F..%2Fglobex%2Fflows", "a%5C..%5Cb"):
        assert client.get(f"/api/v1/files/download/{flow_id}/{name}", headers=headers(key)).status_code == 404
        assert client.delete(f"/api/v1/files/delete/{flow_id}/{name}", headers=headers(key)).status_code == 404
    # A client-sent directory part is dropped from the stored name.
    uploaded = upload_v1(client, flow_id, key, "../../globex/evil.txt", b"x").json()["file_path"]
    assert uploaded.startswith(f"{flow_id}/") and uploaded.endswith("_evil.txt") and uploaded.count("/") == 1


def test_file_store_resolves_only_inside_the_tenant(client, api_env, files_bucket):
    from flowless.store.files import PathRefused, S3FileStore, object_key

    other_flow = store_flow(OTHER_TENANT, shared_flow("Financial Report Parser"))
    other_path = upload_v1(client, other_flow, api_env["other_key"], "report.txt", REPORT.encode()).json()["file_path"]
    assert asyncio.run(S3FileStore(OTHER_TENANT).read(other_path)) == REPORT.encode()
    with pytest.raises(FileNotFoundError):  # the same path, read for tenant A, is looked up under A's prefix
        asyncio.run(S3FileStore(TENANT).read(other_path))
    assert object_key(TENANT, other_path) == f"{TENANT}/flows/{other_path}"
    refused = ["", "/etc/passwd", "../globex/flows/x/y.txt", f"{other_flow}/../../globex/x.txt", f"{other_flow}/./x.txt",
               "globex/flows/x.txt", f"files/{other_flow}/a/b.txt", "files/not-a-uuid/x.txt", "C:\\x.txt", f"{other_flow}/a\x00b"]
    for path in refused:
        with pytest.raises(PathRefused):
            object_key(TENANT, path)

    # In a run: tenant A's flow pointed at tenant B's upload, or at a traversal, fails without reading it.
    flow_id = store_flow(TENANT, shared_flow("Financial Report Parser"))
    response = run(client, flow_id, api_env["key"], {"File-NGW2N": {"path": [other_path]}, "Agent-6rJWA": {"model": MODEL}})
    # looked up under A's prefix: not there, a 422 naming the path (bad input, never a 500)
    assert response.status_code == 422 and response.json()["detail"]["code"] == "FILE_NOT_FOUND" and "File not found" in response.text
    assert "Acme" not in response.text
    for path in (f"../{OTHER_TENANT}/flows/{other_path}", "/etc/secrets.txt"):  # refused before any lookup: bad input, 422
        response = run(client, flow_id, api_env["key"], {"File-NGW2N": {"path": [path]}, "Agent-6rJWA": {"model": MODEL}})
        assert response.status_code == 422, response.text
        detail = response.json()["detail"]
        assert detail["code"] == "FILE_REFUSED" and detail["path"] == path and "File path refused" in detail["message"]
        assert "Acme" not in response.text
    assert api_env["server"].requests == []
