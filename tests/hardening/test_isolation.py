"""Tenant isolation matrix: every resource a tenant owns × every operation on it, tenant B's key
(all scopes) against tenant A's ids → 404 (or, for listings and filters, an answer that shows
nothing of A's), and A's resource reads back unchanged with A's key. Then every route under
`/lf/<other tenant>/` with a valid key → 404.

To cover a new resource, add a `Resource` row to RESOURCES: how tenant A creates one (returning
its ids), how A reads it back, and the operations B tries. Nothing else changes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from flowless.store.tenancy import default_project_id
from tests.hardening.conftest import CHAT_FLOW, ECHO_FLOW, OTHER_TENANT, TENANT, headers, run_body

Ids = dict[str, str]
SECRET = "tenant-a-private-marker"  # in A's messages, variables and files: must never show up for B


@dataclass
class Op:
    label: str
    method: str
    path: str  # formatted with the resource's ids
    body: Callable[[Ids], Any] | None = None
    params: Callable[[Ids], dict[str, Any]] | None = None
    expect: str = "404"  # "404", or "hidden": a 2xx (or 404) answer showing none of A's ids or content
    files: Callable[[Ids], Any] | None = None


@dataclass
class Resource:
    name: str
    create: Callable[[Any, dict[str, Any]], Ids]  # (client, env) → ids of A's resource
    read_back: Callable[[Any, dict[str, Any], Ids], Any]  # what must not change
    ops: list[Op] = field(default_factory=list)


def ok(response: Any) -> Any:
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


# ---- resources: how A makes one, how A reads it back -------------------------------------------


def create_flow(client: Any, env: dict[str, Any]) -> Ids:
    from tests.api.conftest import EXAMPLE_FLOWS

    export = json.loads((EXAMPLE_FLOWS / "echo-prompt.json").read_text())
    made = ok(client.post("/api/v1/flows/", json={"name": "A private flow", "data": export["data"], "endpoint_name": "a-private"}, headers=headers(env["key"])))
    return {"flow": made["id"], "endpoint": "a-private"}


def read_flow(client: Any, env: dict[str, Any], ids: Ids) -> Any:
    return ok(client.get(f"/api/v1/flows/{ids['flow']}", headers=headers(env["key"])))


def create_conversation(client: Any, env: dict[str, Any]) -> Ids:
    flow_id = env["flows"][CHAT_FLOW]
    ok(client.post(f"/api/v1/run/{flow_id}", json=run_body(f"hello {SECRET}", session_id="a-session"), headers=headers(env["key"])))
    messages = ok(client.get("/api/v1/monitor/messages", params={"session_id": "a-session"}, headers=headers(env["key"])))
    return {"flow": flow_id, "session": "a-session", "message": messages[0]["id"], "message2": messages[1]["id"]}


def read_conversation(client: Any, env: dict[str, Any], ids: Ids) -> Any:
    return (
        ok(client.get("/api/v1/monitor/messages", params={"session_id": ids["session"]}, headers=headers(env["key"]))),
        ok(client.get("/api/v1/monitor/messages/sessions", headers=headers(env["key"]))),
    )


def create_key(client: Any, env: dict[str, Any]) -> Ids:
    made = ok(client.post("/api/v1/api_key/", json={"name": "a-extra"}, headers=headers(env["key"])))
    return {"key_id": made["id"], "plaintext": made["api_key"]}


def read_keys(client: Any, env: dict[str, Any], ids: Ids) -> Any:
    listed = ok(client.get("/api/v1/api_key/", headers=headers(env["key"])))["api_keys"]
    usable = client.get("/api/v1/flows/", headers=headers(ids["plaintext"])).status_code
    return sorted((k["id"], k["name"], k["is_active"]) for k in listed), usable


def create_variable(client: Any, env: dict[str, Any]) -> Ids:
    made = ok(client.post("/api/v1/variables/", json={"name": "A_SECRET", "value": SECRET, "type": "Credential"}, headers=headers(env["key"])))
    return {"variable": made["id"], "name": "A_SECRET"}


def read_variable(client: Any, env: dict[str, Any], ids: Ids) -> Any:
    from flowless.store.variables import VariableRepository

    listed = ok(client.get("/api/v1/variables/", headers=headers(env["key"])))
    return listed, VariableRepository(TENANT).get(ids["name"]).value


def create_build(client: Any, env: dict[str, Any]) -> Ids:
    flow_id = env["flows"][ECHO_FLOW]
    job = ok(client.post(f"/api/v1/build/{flow_id}/flow", json={"inputs": {"input_value": SECRET}}, headers=headers(env["key"])))["job_id"]
    deadline = time.monotonic() + 15
    while ok(client.get(f"/api/v1/build/{job}/status", headers=headers(env["key"])))["status"] not in ("completed", "failed", "cancelled"):
        assert time.monotonic() < deadline, "the build did not finish"
        time.sleep(0.05)
    return {"job": job, "flow": flow_id}


def read_build(client: Any, env: dict[str, Any], ids: Ids) -> Any:
    status = ok(client.get(f"/api/v1/build/{ids['job']}/status", headers=headers(env["key"])))
    events = client.get(f"/api/v1/build/{ids['job']}/events", params={"event_delivery": "polling"}, headers=headers(env["key"])).text
    builds = ok(client.get("/api/v1/monitor/builds", params={"flow_id": ids["flow"]}, headers=headers(env["key"])))
    return status["status"], len(events.splitlines()), len(json.dumps(builds))


def create_webhook_job(client: Any, env: dict[str, Any]) -> Ids:
    flow_id = env["flows"][ECHO_FLOW]
    started = client.post(f"/api/v1/webhook/{flow_id}", json={"note": SECRET}, headers=headers(env["key"]))
    assert started.status_code == 202, started.text
    job = started.json()["job_id"]
    deadline = time.monotonic() + 15
    while ok(client.get(f"/api/v1/webhook/jobs/{job}", headers=headers(env["key"])))["status"] not in ("completed", "failed"):
        assert time.monotonic() < deadline, "the webhook run did not finish"
        time.sleep(0.05)
    return {"job": job, "flow": flow_id}


def read_webhook_job(client: Any, env: dict[str, Any], ids: Ids) -> Any:
    return ok(client.get(f"/api/v1/webhook/jobs/{ids['job']}", headers=headers(env["key"])))


def create_flow_file(client: Any, env: dict[str, Any]) -> Ids:
    flow_id = env["flows"][ECHO_FLOW]
    made = ok(client.post(f"/api/v1/files/upload/{flow_id}", files={"file": ("a.txt", SECRET.encode(), "text/plain")}, headers=headers(env["key"])))
    return {"flow": flow_id, "name": made["file_path"].split("/", 1)[1]}


def read_flow_file(client: Any, env: dict[str, Any], ids: Ids) -> Any:
    listed = ok(client.get(f"/api/v1/files/list/{ids['flow']}", headers=headers(env["key"])))
    content = client.get(f"/api/v1/files/download/{ids['flow']}/{ids['name']}", headers=headers(env["key"])).content
    return listed, content


def create_user_file(client: Any, env: dict[str, Any]) -> Ids:
    made = ok(client.post("/api/v2/files/", files={"file": ("b.txt", SECRET.encode(), "text/plain")}, headers=headers(env["key"])))
    return {"file": made["id"]}


def read_user_file(client: Any, env: dict[str, Any], ids: Ids) -> Any:
    listed = ok(client.get("/api/v2/files/", headers=headers(env["key"])))
    return [f["id"] for f in listed], client.get(f"/api/v2/files/{ids['file']}", headers=headers(env["key"])).content


def create_subscription(client: Any, env: dict[str, Any]) -> Ids:
    flow_ids = create_flow(client, env)  # a flow of its own, never run: no deliveries in the background
    url = env["server"].url + "/hook"
    made = client.post(f"/api/v1/flows/{flow_ids['flow']}/webhooks", json={"url": url}, headers=headers(env["key"]))
    assert made.status_code == 201, made.text
    return {"flow": flow_ids["flow"], "hook": made.json()["id"]}


def read_subscription(client: Any, env: dict[str, Any], ids: Ids) -> Any:
    return ok(client.get(f"/api/v1/flows/{ids['flow']}/webhooks", headers=headers(env["key"])))


def create_knowledge_base(client: Any, env: dict[str, Any]) -> Ids:
    made = client.post("/api/v1/knowledge_bases", json={"name": "privatekb"}, headers=headers(env["key"]))
    assert made.status_code == 201, made.text
    return {"kb": made.json()["name"]}


def read_knowledge_base(client: Any, env: dict[str, Any], ids: Ids) -> Any:
    return ok(client.get(f"/api/v1/knowledge_bases/{ids['kb']}", headers=headers(env["key"])))


FLOW_OPS = [
    Op("read", "GET", "/api/v1/flows/{flow}"),
    Op("update", "PATCH", "/api/v1/flows/{flow}", body=lambda ids: {"name": "stolen"}),
    Op("delete", "DELETE", "/api/v1/flows/{flow}"),
    Op("delete many", "DELETE", "/api/v1/flows/", body=lambda ids: [ids["flow"]], expect="hidden"),
    Op("download", "POST", "/api/v1/flows/download/", body=lambda ids: [ids["flow"]]),
    Op("list", "GET", "/api/v1/flows/", expect="hidden"),
    Op("run by id", "POST", "/api/v1/run/{flow}", body=lambda ids: run_body("x")),
    Op("run by endpoint", "POST", "/api/v1/run/{endpoint}", body=lambda ids: run_body("x")),
    Op("run streamed", "POST", "/api/v1/run/{flow}", body=lambda ids: run_body("x"), params=lambda ids: {"stream": "true"}),
    Op("run advanced", "POST", "/api/v1/run/advanced/{flow}", body=lambda ids: {"inputs": [{"input_value": "x"}]}),
    Op("simple run", "POST", "/api/v1/flows/{flow}/run", body=lambda ids: {"input_value": "x"}),
    Op("webhook run", "POST", "/api/v1/webhook/{flow}", body=lambda ids: {"x": 1}),
    Op("build", "POST", "/api/v1/build/{flow}/flow", body=lambda ids: {"inputs": {"input_value": "x"}}),
    Op("upload file", "POST", "/api/v1/files/upload/{flow}", files=lambda ids: {"file": ("x.txt", b"x", "text/plain")}),
    Op("list files", "GET", "/api/v1/files/list/{flow}"),
    Op("subscribe", "POST", "/api/v1/flows/{flow}/webhooks", body=lambda ids: {"url": "http://127.0.0.1:9/x"}),
    Op("list subscriptions", "GET", "/api/v1/flows/{flow}/webhooks"),
    Op("messages of the flow", "GET", "/api/v1/monitor/messages", params=lambda ids: {"flow_id": ids["flow"]}, expect="hidden"),
    Op("vertex builds of the flow", "GET", "/api/v1/monitor/builds", params=lambda ids: {"flow_id": ids["flow"]}, expect="hidden"),
    Op("delete vertex builds of the flow", "DELETE", "/api/v1/monitor/builds", params=lambda ids: {"flow_id": ids["flow"]}, expect="hidden"),
]
CONVERSATION_OPS = [
    Op("list messages of the session", "GET", "/api/v1/monitor/messages", params=lambda ids: {"session_id": ids["session"]}, expect="hidden"),
    Op("list all messages", "GET", "/api/v1/monitor/messages", expect="hidden"),
    Op("edit a message", "PUT", "/api/v1/monitor/messages/{message}", body=lambda ids: {"text": "forged"}),
    Op("move a message to B's session", "PUT", "/api/v1/monitor/messages/{message2}", body=lambda ids: {"session_id": "b-session"}),
    Op("delete messages", "DELETE", "/api/v1/monitor/messages", body=lambda ids: [ids["message"], ids["message2"]], expect="hidden"),
    Op("list sessions", "GET", "/api/v1/monitor/messages/sessions", expect="hidden"),
    Op("rename the session", "PATCH", "/api/v1/monitor/messages/session/{session}", params=lambda ids: {"new_session_id": "taken"}),
    Op("delete the session", "DELETE", "/api/v1/monitor/messages/session/{session}", expect="hidden"),
    Op("delete sessions", "DELETE", "/api/v1/monitor/messages/sessions", body=lambda ids: [ids["session"]], expect="hidden"),
    Op("continue the session", "POST", "/api/v1/run/{flow}", body=lambda ids: run_body("x", session_id=ids["session"])),
]
KEY_OPS = [
    Op("delete", "DELETE", "/api/v1/api_key/{key_id}"),
    Op("list", "GET", "/api/v1/api_key/", expect="hidden"),
]
VARIABLE_OPS = [
    Op("update", "PATCH", "/api/v1/variables/{variable}", body=lambda ids: {"value": "forged"}),
    Op("rename", "PATCH", "/api/v1/variables/{variable}", body=lambda ids: {"name": "MINE"}),
    Op("delete", "DELETE", "/api/v1/variables/{variable}"),
    Op("list", "GET", "/api/v1/variables/", expect="hidden"),
]
BUILD_OPS = [
    Op("status", "GET", "/api/v1/build/{job}/status"),
    Op("events (polling)", "GET", "/api/v1/build/{job}/events", params=lambda ids: {"event_delivery": "polling"}),
    Op("events (streaming)", "GET", "/api/v1/build/{job}/events"),
    Op("cancel", "POST", "/api/v1/build/{job}/cancel"),
]
WEBHOOK_JOB_OPS = [Op("follow", "GET", "/api/v1/webhook/jobs/{job}")]
FLOW_FILE_OPS = [
    Op("download", "GET", "/api/v1/files/download/{flow}/{name}"),
    Op("image", "GET", "/api/v1/files/images/{flow}/{name}"),
    Op("delete", "DELETE", "/api/v1/files/delete/{flow}/{name}"),
    Op("list", "GET", "/api/v1/files/list/{flow}"),
]
USER_FILE_OPS = [
    Op("download", "GET", "/api/v2/files/{file}"),
    Op("delete", "DELETE", "/api/v2/files/{file}"),
    Op("list", "GET", "/api/v2/files/", expect="hidden"),
]
SUBSCRIPTION_OPS = [
    Op("read", "GET", "/api/v1/flows/{flow}/webhooks/{hook}"),
    Op("deliveries", "GET", "/api/v1/flows/{flow}/webhooks/{hook}/deliveries"),
    Op("delete", "DELETE", "/api/v1/flows/{flow}/webhooks/{hook}"),
    Op("read through B's own flow", "GET", "/api/v1/flows/{b_flow}/webhooks/{hook}"),
    Op("delete through B's own flow", "DELETE", "/api/v1/flows/{b_flow}/webhooks/{hook}"),
]

KNOWLEDGE_OPS = [
    Op("read", "GET", "/api/v1/knowledge_bases/{kb}"),
    Op("chunks", "GET", "/api/v1/knowledge_bases/{kb}/chunks"),
    Op("ingest", "POST", "/api/v1/knowledge_bases/{kb}/ingest", files=lambda ids: {"files": ("x.txt", b"forged", "text/plain")}),
    Op("ingest job", "GET", "/api/v1/knowledge_bases/{kb}/jobs/00000000-0000-4000-8000-000000000000"),
    Op("delete", "DELETE", "/api/v1/knowledge_bases/{kb}"),
    Op("delete many", "DELETE", "/api/v1/knowledge_bases", body=lambda ids: {"kb_names": [ids["kb"]]}, expect="hidden"),
    Op("list", "GET", "/api/v1/knowledge_bases", expect="hidden"),
]

RESOURCES = [
    Resource("flows", create_flow, read_flow, FLOW_OPS),
    Resource("messages and sessions", create_conversation, read_conversation, CONVERSATION_OPS),
    Resource("api keys", create_key, read_keys, KEY_OPS),
    Resource("variables", create_variable, read_variable, VARIABLE_OPS),
    Resource("build jobs", create_build, read_build, BUILD_OPS),
    Resource("webhook jobs", create_webhook_job, read_webhook_job, WEBHOOK_JOB_OPS),
    Resource("flow files (v1)", create_flow_file, read_flow_file, FLOW_FILE_OPS),
    Resource("user files (v2)", create_user_file, read_user_file, USER_FILE_OPS),
    Resource("webhook subscriptions", create_subscription, read_subscription, SUBSCRIPTION_OPS),
    Resource("knowledge bases", create_knowledge_base, read_knowledge_base, KNOWLEDGE_OPS),
]


@pytest.fixture
def isolation_env(api_env: dict[str, Any], files_bucket: None, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    from flowless.settings import reset_settings_cache
    from tests.api.conftest import EXAMPLE_FLOWS

    monkeypatch.delenv("BUILD_STATE_MACHINE_ARN", raising=False)  # builds run in process
    monkeypatch.setenv("FLOWLESS_EVENTS_LONG_POLL_SECONDS", "1")
    monkeypatch.setenv("FLOWLESS_EVENTS_POLL_INTERVAL_MS", "10")
    reset_settings_cache()
    from tests.hardening.conftest import store_flow

    # B has a flow of its own, to aim at A's things from its side too.
    b_flow = store_flow(OTHER_TENANT, json.loads((EXAMPLE_FLOWS / "echo-prompt.json").read_text()) | {"id": "0b0b0b0b-0000-4000-8000-000000000001"})
    yield {**api_env, "b_flow": b_flow}
    reset_settings_cache()


def leaked(response: Any, ids: Ids, sent: str) -> list[str]:
    """A's content, or A's ids B did not send itself (a 404 may echo the id it was asked for)."""
    text = response.text
    return [value for value in (*ids.values(), SECRET) if len(value) > 3 and value in text and value not in sent]


def test_tenant_b_cannot_touch_tenant_a_resources(app_client, isolation_env, capsys):
    env = isolation_env
    failures: list[str] = []
    cells = 0
    for resource in RESOURCES:
        ids = resource.create(app_client, env)
        ids_for_paths = {**ids, "b_flow": env["b_flow"]}
        for op in resource.ops:
            before = resource.read_back(app_client, env, ids)
            answer = app_client.request(
                op.method,
                op.path.format(**ids_for_paths),
                headers=headers(env["other_key"]),
                params=op.params(ids) if op.params else None,
                json=op.body(ids) if op.body else None,
                files=op.files(ids) if op.files else None,
            )
            after = resource.read_back(app_client, env, ids)
            cells += 1
            where = f"{resource.name} / {op.label}: {op.method} {op.path}"
            if op.expect == "404" and answer.status_code != 404:
                failures.append(f"{where} → {answer.status_code} {answer.text[:200]}")
            if op.expect == "hidden" and not (answer.status_code < 300 or answer.status_code == 404):
                failures.append(f"{where} → {answer.status_code} {answer.text[:200]}")
            if answer.status_code >= 500:
                failures.append(f"{where} → server error")
            body = op.body(ids) if op.body else None
            sent = str(answer.request.url) + (json.dumps(body) if body is not None else "")
            if leaked(answer, ids, sent):
                failures.append(f"{where} leaked {leaked(answer, ids, sent)}")
            if before != after:
                failures.append(f"{where} changed A's {resource.name}")
    with capsys.disabled():
        print(f"\nisolation: {len(RESOURCES)} resources, {cells} cells (tenant B against tenant A's ids)")
    assert not failures, "\n".join(failures)


def test_b_cannot_use_a_variable_of_a_by_name(app_client, isolation_env):
    """A flow of B asking for A's credential by name (load_from_db) does not get A's value."""
    from tests.api.conftest import EXAMPLE_FLOWS

    ok(app_client.post("/api/v1/variables/", json={"name": "OPENAI_API_KEY", "value": SECRET, "type": "Credential"}, headers=headers(isolation_env["key"])))
    export = json.loads((EXAMPLE_FLOWS / "basic-chat.json").read_text())
    from tests.hardening.conftest import store_flow

    b_chat = store_flow(OTHER_TENANT, export | {"id": "0b0b0b0b-0000-4000-8000-000000000002", "endpoint_name": "b-chat"})
    answer = app_client.post(f"/api/v1/run/{b_chat}", json=run_body("hi"), headers=headers(isolation_env["other_key"]))
    assert SECRET not in answer.text
    sent = [r for r in isolation_env["server"].requests if r.path.endswith("/chat/completions")]
    assert all(SECRET not in json.dumps(r.headers) for r in sent)


# Routes that need no key and answer the same for everyone (Langflow's version).
PUBLIC_ROUTES = {"/lf/{langflow_id}/api/v1/version"}


def lf_operations() -> list[tuple[str, str]]:
    from flowless.api.app import create_app

    spec = create_app().openapi()
    return sorted(
        (method.upper(), path)
        for path, item in spec["paths"].items()
        if path.startswith("/lf/{langflow_id}/")
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    )


def test_every_route_under_another_tenants_prefix_is_a_404(app_client, isolation_env, capsys):
    """`/lf/<B>/...` with A's valid (admin) key: 404, the answer of an unknown path, on every
    route, with real ids of A's in the path."""
    env = isolation_env
    conversation = create_conversation(app_client, env)
    values = {"flow_id": env["flows"][ECHO_FLOW], "flow_id_or_name": env["flows"][ECHO_FLOW], "job_id": "00000000-0000-4000-8000-000000000000",
              "file_name": "a.txt", "file_id": "00000000-0000-4000-8000-000000000000", "hook_id": "h", "key_id": "k", "sha256": "a" * 64,
              "variable_id": "00000000-0000-4000-8000-000000000000", "kb_name": "kb", "message_id": conversation["message"],
              "project_id": default_project_id(TENANT),
              "old_session_id": conversation["session"], "session_id": conversation["session"]}
    failures = []
    operations = lf_operations()
    public = []
    for method, path in operations:
        concrete = path.replace("{langflow_id}", OTHER_TENANT)
        for name, value in values.items():
            concrete = concrete.replace("{" + name + "}", value)
        assert "{" not in concrete, f"no value for a parameter of {path}"
        body = {} if method in {"POST", "PUT", "PATCH"} else None
        answer = app_client.request(method, concrete, headers=headers(env["key"]), json=body)
        if answer.status_code == 404:
            continue
        if path in PUBLIC_ROUTES and app_client.request(method, concrete).status_code == answer.status_code == 200:
            public.append(path)  # needs no key at all and holds nothing of a tenant's
            continue
        failures.append(f"{method} {concrete} → {answer.status_code} {answer.text[:120]}")
    with capsys.disabled():
        print(f"\nisolation: {len(operations) - len(public)} routes under /lf/<other tenant>/ → 404 ({len(public)} public: {public})")
    assert public == sorted(PUBLIC_ROUTES)
    assert len(operations) >= 50
    assert not failures, "\n".join(failures)
