"""The official JavaScript client, @datastax/langflow-client (pinned in tests/js/package.json and
package-lock.json), used as its README shows against the local server subprocess: the hosted
form (/lf/<langflowId>/, Bearer key) and the open-source form (x-api-key).

The first run installs it with `npm ci` into tests/js/node_modules (gitignored)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.client.conftest import DEV_KEY, ECHO_FLOW_ID, has_route
from tests.e2e.conftest import REPO

JS_DIR = REPO / "tests" / "js"
ECHO_TEXT = "You said: {}\nFlowless answered without a model."


@pytest.fixture(scope="module")
def js_client() -> Path:
    """tests/js with its node_modules installed exactly as package-lock.json pins them."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed for the JavaScript client tests")
    lock = JS_DIR / "package-lock.json"
    installed = JS_DIR / "node_modules" / ".package-lock.json"  # npm writes it on every install
    if not installed.is_file() or installed.stat().st_mtime < lock.stat().st_mtime:
        result = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=JS_DIR, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, f"npm ci failed:\n{result.stdout}\n{result.stderr}"
    return JS_DIR


def run_client(local_server: dict[str, Any], *args: str) -> dict[str, Any]:
    env = {**os.environ, "FLOWLESS_URL": local_server["base"], "FLOWLESS_API_KEY": DEV_KEY}
    result = subprocess.run(["node", str(JS_DIR / "run_client.mjs"), *args], capture_output=True, text=True, timeout=60, env=env, cwd=JS_DIR)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def check_runs(report: dict[str, Any]) -> None:
    assert report["run"] == {"text": ECHO_TEXT.format("hello from js"), "sessionId": "js-session", "outputs": 1}
    assert report["tweaks"] == {"chained": "Tweaked: chained", "option": "Option: option"}
    events = report["stream"]["events"]
    names = [e["event"] for e in events]
    assert names[0] == "add_message" and events[0]["sender"] == "User" and names[-1] == "end"
    tokens = [e for e in events if e["event"] == "token"]
    assert "".join(t["chunk"] for t in tokens) == "Echo: one two three four five six" == report["stream"]["endText"]
    assert tokens[0]["at"] < events[-1]["at"] - 100  # tokens arrived as they came (ms), not at the end
    assert report["missingFlow"]["isLangflowError"] and report["missingFlow"]["status"] == 404
    assert report["badKey"]["isLangflowError"] and report["badKey"]["status"] == 403


def test_hosted_form_with_langflow_id_and_bearer_key(js_client, local_server, model_server):
    model_server.chunk_delay_s = 0.04
    try:
        report = run_client(local_server, "hosted")
    finally:
        model_server.chunk_delay_s = 0.002
    assert report["basePath"] == "/lf/local/api"
    check_runs(report)
    # Every request went to /lf/local/api/v1/... with the key as a Bearer token, as hosted Langflow's.
    for request in report["sent"]:
        assert request["url"].startswith("https://api.langflow.astra.datastax.com/lf/local/api/v1/run/")
        assert request["target"].startswith(f"{local_server['base']}/lf/local/api/v1/run/")
        assert request["authorization"].startswith("Bearer sk-") and request["xApiKey"] is None
    assert any(r["url"].endswith("?stream=true") for r in report["sent"])


def test_open_source_form_with_x_api_key(js_client, local_server, model_server):
    model_server.chunk_delay_s = 0.04
    try:
        report = run_client(local_server, "oss")
    finally:
        model_server.chunk_delay_s = 0.002
    assert report["basePath"] == "/api"
    check_runs(report)
    for request in report["sent"]:
        assert request["url"].startswith(f"{local_server['base']}/api/v1/run/")
        assert request["xApiKey"].startswith("sk-") and request["authorization"] is None


def test_upload_file(js_client, local_server, tmp_path: Path):
    if not has_route(local_server, "/api/v1/files/upload/{flow_id}"):
        pytest.skip("POST /api/v1/files/upload/{flow_id} is not served by this build yet")
    notes = tmp_path / "notes.txt"
    notes.write_text("some notes")
    report = run_client(local_server, "upload", str(notes), ECHO_FLOW_ID)
    assert "uploadError" not in report, report.get("uploadError")
    assert report["upload"]["flowId"] == ECHO_FLOW_ID and report["upload"]["filePath"].endswith("notes.txt")
