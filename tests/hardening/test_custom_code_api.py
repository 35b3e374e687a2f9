"""Approved custom code through the HTTP API: the flow check, the admin approval routes, refusal on
run / build / webhook, and hostile code approved on purpose (the local sandbox: a subprocess per
call, clean environment, limits). Every hostile test ends with a normal run that still works."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.hardening.conftest import OTHER_TENANT, TENANT, headers, run_body
from tests.support.custom_code import component_code, custom_flow, sha256

APPROVALS = "/api/v1/custom_code/approvals"


def save(client: Any, key: str, code: str, name: str = "Custom code", **kwargs: Any) -> dict[str, Any]:
    exported = custom_flow(code, name=name, **kwargs)
    saved = client.post("/api/v1/flows/", json={"name": name, "data": exported["data"]}, headers=headers(key))
    assert saved.status_code == 201, saved.text
    return saved.json()


def approve(client: Any, key: str, code: str) -> Any:
    return client.post(APPROVALS, json={"sha256": [sha256(code)], "note": "tests"}, headers=headers(key))


def run(client: Any, key: str, flow_id: str, text: str = "hello") -> Any:
    return client.post(f"/api/v1/run/{flow_id}", json=run_body(text), headers=headers(key))


def text_of(answer: Any) -> str:
    return answer.json()["outputs"][0]["outputs"][0]["results"]["message"]["text"]


ECHO = component_code("        return Message(text='echo: ' + self.input_value)")


@pytest.fixture
def sandbox_limits(monkeypatch: pytest.MonkeyPatch):
    from flowless.settings import reset_settings_cache

    monkeypatch.setenv("FLOWLESS_CUSTOM_CODE_TIMEOUT_SECONDS", "3")
    monkeypatch.setenv("FLOWLESS_CUSTOM_CODE_MEMORY_MB", "256")
    monkeypatch.setenv("FLOWLESS_SECRET_OF_THE_RUN_FUNCTION", "hunter2-run-function")
    reset_settings_cache()
    yield
    reset_settings_cache()


def approved_flow(client: Any, key: str, body: str, *, name: str = "Hostile", imports: str = "") -> str:
    code = component_code(body, imports=imports)
    flow = save(client, key, code, name=name)
    assert approve(client, key, code).status_code == 201
    return flow["id"]


def still_serving(client: Any, key: str) -> None:
    flow_id = approved_flow(client, key, "        return Message(text='fine: ' + self.input_value)", name="After")
    answer = run(client, key, flow_id, "again")
    assert answer.status_code == 200 and text_of(answer) == "fine: again"


# ---- the flow check, approvals, refusal --------------------------------------------------------------


def test_the_flow_check_lists_code_and_an_admin_approves_it_with_who_and_when(app_client, api_env):
    key = api_env["key"]
    flow = save(app_client, key, ECHO)
    assert flow["flowless"]["runnable"] is False
    assert flow["flowless"]["code"] == [{"node_id": "Custom-1", "type": "Custom", "display_name": "Custom", "field": "code", "sha256": sha256(ECHO), "approved": False}]
    refused = run(app_client, key, flow["id"])
    assert refused.status_code == 422
    assert refused.json()["detail"]["code"] == "CODE_NOT_APPROVED" and refused.json()["detail"]["nodes"][0]["sha256"] == sha256(ECHO)

    review = app_client.get(f"/api/v1/custom_code/flows/{flow['id']}", headers=headers(key))
    assert review.status_code == 200 and review.json()["code"][0]["code"] == ECHO
    approved = approve(app_client, key, ECHO)
    assert approved.status_code == 201
    [record] = app_client.get(APPROVALS, headers=headers(key)).json()["approvals"]
    assert record["sha256"] == sha256(ECHO) and record["approved_by"].startswith("api_key:") and record["approved_at"] and record["note"] == "tests"
    assert app_client.get(f"/api/v1/flows/{flow['id']}", headers=headers(key)).status_code == 200
    checked = app_client.patch(f"/api/v1/flows/{flow['id']}", json={"description": "x"}, headers=headers(key)).json()["flowless"]
    assert checked["runnable"] is True and checked["code"][0]["approved"] is True

    answer = run(app_client, key, flow["id"])
    assert answer.status_code == 200, answer.text
    assert text_of(answer) == "echo: hello"

    assert app_client.delete(f"{APPROVALS}/{sha256(ECHO)}", headers=headers(key)).status_code == 204
    assert run(app_client, key, flow["id"]).status_code == 422
    assert app_client.delete(f"{APPROVALS}/{sha256(ECHO)}", headers=headers(key)).status_code == 404


def test_only_admin_keys_approve_and_an_approval_is_the_tenants_own(app_client, api_env, scoped_keys):
    key = api_env["key"]
    flow = save(app_client, key, ECHO)
    for scope in ("read", "execute", "write"):
        assert approve(app_client, scoped_keys[scope]["with"], ECHO).status_code == 403
        assert app_client.get(APPROVALS, headers=headers(scoped_keys[scope]["with"])).status_code == 403
    assert approve(app_client, api_env["other_key"], ECHO).status_code == 201  # tenant B approves the same code
    assert run(app_client, key, flow["id"]).status_code == 422  # ... which approves nothing for tenant A
    assert app_client.get(APPROVALS, headers=headers(key)).json()["approvals"] == []
    assert app_client.get(f"/api/v1/custom_code/flows/{flow['id']}", headers=headers(api_env["other_key"])).status_code == 404
    wrong = app_client.post(APPROVALS, json={"sha256": ["not-a-hash"]}, headers=headers(key))
    assert wrong.status_code == 422


def test_unapproved_code_is_refused_on_webhook_and_build(app_client, api_env, tmp_path: Path):
    key = api_env["key"]
    marker = tmp_path / "ran"
    code = component_code(f"        open({str(marker)!r}, 'w').write('x')\n        return Message(text='ran')")
    flow = save(app_client, key, code)
    hooked = app_client.post(f"/api/v1/webhook/{flow['id']}", json={"any": "body"}, headers=headers(key))
    assert hooked.status_code == 422 and hooked.json()["detail"]["code"] == "CODE_NOT_APPROVED"
    built = app_client.post(f"/api/v1/build/{flow['id']}/flow", json={"inputs": {"input_value": "hi"}}, params={"event_delivery": "direct"}, headers=headers(key))
    assert built.status_code == 200
    assert '"error"' in built.text and "Custom-1" in built.text and sha256(code)[:12] in built.text
    streamed = app_client.post(f"/api/v1/run/{flow['id']}?stream=true", json=run_body("hi"), headers=headers(key))
    assert "has not been approved" in streamed.text and '"event": "end"' not in streamed.text
    assert not marker.exists()


def test_code_tweaks_are_refused_even_when_the_code_is_approved(app_client, api_env):
    key = api_env["key"]
    flow = save(app_client, key, ECHO)
    approve(app_client, key, ECHO)
    for tweaks in ({"Custom-1": {"code": "import os"}}, {"code": "import os"}):
        answer = app_client.post(f"/api/v1/run/{flow['id']}", json=run_body("hi", tweaks=tweaks), headers=headers(key))
        assert answer.status_code == 422 and answer.json()["detail"]["code"] == "TWEAKS_REFUSED"


# ---- hostile approved code -----------------------------------------------------------------------------


def test_approved_code_cannot_read_the_run_functions_environment_or_credentials(app_client, api_env, sandbox_limits):
    import os

    key = api_env["key"]
    body = """        import os, json
        parent = os.getppid()
        try:
            leaked = open(f"/proc/{parent}/environ", "rb").read().decode("utf-8", "replace")
        except OSError as exc:
            leaked = f"refused: {type(exc).__name__}"
        return Message(text=json.dumps({"env": dict(os.environ), "parent": leaked}))"""
    answer = run(app_client, key, approved_flow(app_client, key, body))
    assert answer.status_code == 200, answer.text
    seen = json.loads(text_of(answer))
    assert set(seen["env"]) <= {"PATH", "HOME", "TMPDIR", "LANG", "LC_CTYPE", "PYTHONDONTWRITEBYTECODE", "AWS_EC2_METADATA_DISABLED"}, seen["env"]
    assert seen["parent"].startswith("refused")
    from flowless.store.connection import store_settings

    for secret in (os.environ["AWS_SECRET_ACCESS_KEY"], "hunter2-run-function", store_settings().dynamodb_endpoint):
        assert secret not in answer.text
    still_serving(app_client, key)


def test_approved_code_cannot_reach_dynamodb_or_s3(app_client, api_env, sandbox_limits):
    key = api_env["key"]
    body = """        import boto3
        results = []
        for service, call in (("dynamodb", "list_tables"), ("s3", "list_buckets")):
            try:
                getattr(boto3.client(service, region_name="us-east-1"), call)()
                results.append(f"{service}: reached")
            except Exception as exc:
                results.append(f"{service}: {type(exc).__name__}")
        return Message(text="; ".join(results))"""
    answer = run(app_client, key, approved_flow(app_client, key, body))
    assert answer.status_code == 200, answer.text
    assert text_of(answer) == "dynamodb: NoCredentialsError; s3: NoCredentialsError"
    still_serving(app_client, key)


def test_approved_code_cannot_see_another_tenants_inputs(app_client, api_env, sandbox_limits):
    body = """        import builtins, os, tempfile
        seen = getattr(builtins, "_seen", [])
        kept = os.path.join(tempfile.gettempdir(), "kept.txt")
        if os.path.exists(kept):
            seen.append(open(kept).read())
        builtins._seen = seen + [self.input_value]
        open(kept, "w").write(self.input_value)
        return Message(text="|".join(seen) or "nothing")"""
    first = run(app_client, api_env["key"], approved_flow(app_client, api_env["key"], body), "tenant A's secret")
    second = run(app_client, api_env["other_key"], approved_flow(app_client, api_env["other_key"], body), "tenant B")
    assert (text_of(first), text_of(second)) == ("nothing", "nothing")
    assert "tenant A's secret" not in second.text


def test_approved_code_cannot_outlive_its_time_limit(app_client, api_env, sandbox_limits, tmp_path: Path):
    key = api_env["key"]
    marker = tmp_path / "child-still-running"
    body = f"""        import os, time
        if os.fork() == 0:
            time.sleep(5)
            open({str(marker)!r}, "w").write("x")
            os._exit(0)
        while True:
            pass"""
    started = time.perf_counter()
    answer = run(app_client, key, approved_flow(app_client, key, body))
    elapsed = time.perf_counter() - started
    assert answer.status_code == 502, answer.text
    detail = answer.json()["detail"]
    assert detail["code"] == "CUSTOM_CODE_ERROR" and detail["node_id"] == "Custom-1" and "limit of 3 s" in detail["message"]
    assert elapsed < 8
    time.sleep(5.5)
    assert not marker.exists(), "a process the code started outlived the call"
    still_serving(app_client, key)


@pytest.mark.parametrize(("body", "says"), [
    ("        import os\n        os._exit(3)", "without an answer"),
    ("        import ctypes\n        ctypes.string_at(0)", "killed"),
    ("        block = bytearray(2 * 1024 * 1024 * 1024)\n        return Message(text=str(len(block)))", "memory"),
    ("        raise RuntimeError('boom')", "RuntimeError: boom"),
    ("        import sys\n        sys.stdout.write('not json')\n        sys.stdout.flush()\n        import os\n        os._exit(0)", "without an answer"),
], ids=["exit", "segfault", "memory", "exception", "garbage-answer"])
def test_approved_code_cannot_crash_the_run(app_client, api_env, sandbox_limits, body, says):
    key = api_env["key"]
    answer = run(app_client, key, approved_flow(app_client, key, body))
    assert answer.status_code == 502, answer.text
    detail = answer.json()["detail"]
    assert detail["code"] == "CUSTOM_CODE_ERROR" and detail["node_id"] == "Custom-1" and detail["component"] == "Custom"
    assert says.lower() in detail["message"].lower(), detail["message"]
    still_serving(app_client, key)


def test_the_run_refuses_tenant_ids_from_the_call_the_sandbox_gets_the_runs_tenant(app_client, api_env, sandbox_limits):
    """The tenant a call carries is the run's own (the Lambda tenant id in AWS)."""
    body = "        return Message(text=self.graph.flow_id)"
    flow_id = approved_flow(app_client, api_env["key"], body)
    assert text_of(run(app_client, api_env["key"], flow_id)) == flow_id
    assert run(app_client, api_env["other_key"], flow_id).status_code == 404
    assert (TENANT, OTHER_TENANT) == ("acme", "globex")


# ---- through Lambda's Invoke API (the CustomCodeFunction's path in AWS) -----------------------------


@pytest.fixture
def lambda_sandbox(monkeypatch: pytest.MonkeyPatch):
    from flowless import custom_code
    from flowless.settings import reset_settings_cache
    from tests.support.lambda_server import LambdaServer

    with LambdaServer(timeout_s=3) as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", server.base_url)
        monkeypatch.setenv("CUSTOM_CODE_FUNCTION", "flowless-test-custom-code")
        monkeypatch.setenv("FLOWLESS_CUSTOM_CODE_TIMEOUT_SECONDS", "3")
        reset_settings_cache()
        custom_code._lambda_client.cache_clear()
        yield server
    reset_settings_cache()
    custom_code._lambda_client.cache_clear()


def test_in_aws_each_vertex_is_one_invocation_with_the_tenant_as_tenant_id(app_client, api_env, lambda_sandbox):
    key = api_env["key"]
    flow = save(app_client, key, ECHO)
    approve(app_client, key, ECHO)
    answer = run(app_client, key, flow["id"], "from A")
    assert answer.status_code == 200, answer.text
    assert text_of(answer) == "echo: from A"
    [invocation] = lambda_sandbox.requests
    assert invocation.path == "/2015-03-31/functions/flowless-test-custom-code/invocations"
    assert invocation.headers["x-amz-tenant-id"] == TENANT
    call = json.loads(invocation.body)
    assert call["tenant"] == TENANT and call["node"]["code"] == {"code": ECHO} and call["inputs"]["input_value"]["text"] == "from A"

    other = save(app_client, api_env["other_key"], ECHO)
    approve(app_client, api_env["other_key"], ECHO)
    assert text_of(run(app_client, api_env["other_key"], other["id"], "from B")) == "echo: from B"
    assert lambda_sandbox.requests[-1].headers["x-amz-tenant-id"] == OTHER_TENANT
    assert "from A" not in lambda_sandbox.requests[-1].body.decode()


def test_in_aws_a_timed_out_or_crashed_sandbox_is_a_502_naming_the_node(app_client, api_env, lambda_sandbox):
    key = api_env["key"]
    for body, says in (("        import time\n        time.sleep(30)", "timed out"), ("        import os\n        os._exit(7)", "exit status 7")):
        answer = run(app_client, key, approved_flow(app_client, key, body, name=says))
        assert answer.status_code == 502, answer.text
        assert answer.json()["detail"]["node_id"] == "Custom-1" and says in answer.json()["detail"]["message"]
    still_serving(app_client, key)
