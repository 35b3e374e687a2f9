"""Least privilege, proven offline: every AWS call each function's code makes is allowed by its
policy in template.yaml, and every statement of every policy is used by some call (or says in the
template why no test reaches it).

The tour (module fixture `tour`) drives every function of the template through its own handler,
routed as API Gateway routes (tests/support/iam/gateway.py), against the stack 'deployed' in moto
(tests/iam/conftest.py): every file of events/, then the paths only AWS takes (KMS-encrypted
variables, S3 files, S3 Vectors knowledge bases, the webhook queue and its delivery function,
builds through the BuildJob state machine, payloads in the jobs bucket, the functions invoking
themselves, RunStreamFunction's app). tests/support/iam/recorder.py records each call as the IAM
requests it takes (action, resource ARN, dynamodb:LeadingKeys); the tests below evaluate them.

Adding a function, a route or an AWS call: drive it here (or in the suite: every test's calls
are checked as it runs) and grant it in template.yaml; `test_every_function_is_toured` names a
function the tour does not reach.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from tests.iam.conftest import TENANT, Deployed
from tests.support.custom_code import component_code, sha256
from tests.support.iam.evaluator import evaluate, matches
from tests.support.iam.recorder import RECORDER, Recorded, acting_as, denied, describe_denials, distinct_pairs
from tests.support.iam.stack import Stack, default_stack

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

REPO = Path(__file__).resolve().parents[2]
EVENTS = REPO / "events"
# Functions that run tenant code and must hold no grant at all (the custom-code sandbox).
SANDBOX_FUNCTIONS = {"CustomCodeFunction"}


def h(key: str) -> dict[str, str]:
    return {"x-api-key": key}


def ok(response: Any, *codes: int) -> Any:
    assert response.status_code in (codes or (200, 201, 202, 204)), f"{response.function}: {response.status_code} {response.text[:500]}"
    return response


# --- the tour -------------------------------------------------------------------------------------


def events_through_their_functions(d: Deployed) -> None:
    """Every events/*.json through the function the template routes it to (tenant "local")."""
    from tests.support.iam.gateway import function_handler
    from tests.support.lambda_context import FakeLambdaContext
    from flowless.auth.keys import create_api_key
    from flowless.local.server import load_flows
    from flowless.store.runs import persist_run
    from flowless_engine.schema import Message
    from tests.handlers.conftest import event_catalogue as catalogue

    create_api_key(catalogue.TENANT, "events", scopes=["read", "execute", "write", "admin"], plaintext=catalogue.API_KEY)
    load_flows(catalogue.TENANT, REPO / "flows")
    stored = Message(text="Stored before the events ran", sender="User", sender_name="User", session_id=catalogue.KNOWN_SESSION,
                     flow_id=catalogue.ECHO_FLOW_ID, id=catalogue.KNOWN_MESSAGE_ID)
    persist_run(catalogue.TENANT, catalogue.ECHO_FLOW_ID, catalogue.KNOWN_SESSION, [stored])
    for path in sorted(EVENTS.glob("*.json")):
        event = json.loads(path.read_text(encoding="utf-8"))
        route, _ = d.gateway.route(event["httpMethod"], event["path"])
        with d.gateway._invocation(route.function):
            answer = function_handler(route.function)(event, FakeLambdaContext(d.stack.physical_name(route.function)))
        assert answer["statusCode"] < 500, f"{path.name} through {route.function}: {answer['statusCode']} {str(answer.get('body'))[:300]}"
    d.run_pending()


def keys(d: Deployed) -> None:
    gw, key = d.gateway, d.key
    made = ok(gw.post("/api/v1/api_key", json={"name": "tour"}, headers=h(key))).json()
    assert any(k["id"] == made["id"] for k in ok(gw.get("/api/v1/api_key", headers=h(key))).json()["api_keys"])
    ok(gw.delete(f"/api/v1/api_key/{made['id']}", headers=h(key)))


def flows_and_variables(d: Deployed) -> dict[str, str]:
    """FlowsFunction: the example flows uploaded, read, changed, downloaded and deleted; variables
    encrypted with the KMS key (the credential the model flows use is one of them)."""
    from flowless.local.server import load_flows
    from tests.api.test_variables import create

    gw, key = d.gateway, d.key
    ids = {f.name: f.id for f in load_flows(TENANT, REPO / "flows")}
    echo = ids["Echo Prompt"]
    ok(gw.get("/api/v1/flows/", headers=h(key), params={"get_all": "true"}))
    body = ok(gw.get(f"/api/v1/flows/{echo}", headers=h(key))).json()
    copy = ok(gw.post("/api/v1/flows/", json={"name": "Tour copy", "data": body["data"]}, headers=h(key))).json()
    ok(gw.patch(f"/api/v1/flows/{copy['id']}", json={"description": "changed"}, headers=h(key)))
    ok(gw.post("/api/v1/flows/download/", json=[echo, copy["id"]], headers=h(key)))
    ok(gw.delete("/api/v1/flows/", json=[copy["id"]], headers=h(key)))
    assert ok(create(gw, key, "OPENAI_API_KEY", "sk-tour-credential", "Credential")).status_code == 201
    generic = ok(create(gw, key, "TOUR_SETTING", "first")).json()
    ok(gw.patch(f"/api/v1/variables/{generic['id']}", json={"id": generic["id"], "value": "second"}, headers=h(key)))
    assert any(v["name"] == "TOUR_SETTING" for v in ok(gw.get("/api/v1/variables/", headers=h(key))).json())
    ok(gw.delete(f"/api/v1/variables/{generic['id']}", headers=h(key)))
    ok(gw.get("/api/v1/all", headers=h(key)))
    return ids


def files(d: Deployed, ids: dict[str, str]) -> dict[str, str]:
    """FilesFunction: v1 and v2 uploads, lists, downloads, deletes; returns what the runs read."""
    from tests.api.conftest import shared_flow, store_flow
    from tests.api.test_files import REPORT, upload_v1, upload_v2

    gw, key = d.gateway, d.key
    report_flow = store_flow(TENANT, shared_flow("Financial Report Parser"))
    report = ok(upload_v1(gw, report_flow, key, "report.txt", REPORT.encode())).json()["file_path"]
    scratch = ok(upload_v1(gw, ids["Echo Prompt"], key, "scratch.txt", b"scratch")).json()["file_path"].split("/")[1]
    assert scratch in ok(gw.get(f"/api/v1/files/list/{ids['Echo Prompt']}", headers=h(key))).text
    assert ok(gw.get(f"/api/v1/files/download/{ids['Echo Prompt']}/{scratch}", headers=h(key))).content == b"scratch"
    ok(gw.delete(f"/api/v1/files/delete/{ids['Echo Prompt']}/{scratch}", headers=h(key)))
    handbook = ok(upload_v2(gw, key, "security.md", b"Badges are worn at all times.\nVisitors sign in at the desk.")).json()
    other = ok(upload_v2(gw, key, "other.txt", b"to delete")).json()
    assert other["id"] in ok(gw.get("/api/v2/files", headers=h(key))).text
    assert ok(gw.get(f"/api/v2/files/{other['id']}", headers=h(key))).content == b"to delete"
    ok(gw.delete(f"/api/v2/files/{other['id']}", headers=h(key)))
    return {"report_flow": report_flow, "report": report, "handbook": handbook["path"]}


def knowledge(d: Deployed, uploads: dict[str, str]) -> dict[str, str]:
    """KnowledgeFunction on S3 Vectors: a base created, filled in the request, from an uploaded
    file, and by a background ingest it hands to itself (chunks through the jobs bucket), read,
    listed; a second base deleted with its index."""
    import dataclasses

    from flowless.store import blobs
    from flowless.store.connection import configure, store_settings
    from tests.api.test_knowledge import DOCS, KB, create_kb, ingest

    gw, key = d.gateway, d.key
    ok(create_kb(gw, key))
    ok(ingest(gw, key, DOCS, metadata=json.dumps({"department": "hr"})))
    ok(gw.post(f"/api/v1/knowledge_bases/{KB}/ingest", data={"file_paths": uploads["handbook"], "chunk_size": "70", "chunk_overlap": "0"},
               headers=h(key)))
    previous, limit = store_settings(), blobs.INLINE_LIMIT
    configure(dataclasses.replace(previous, ingest_async_chunks=2))
    blobs.INLINE_LIMIT = 64  # the chunks travel through the jobs bucket
    try:
        ok(create_kb(gw, key, "background_base"))
        started = ok(ingest(gw, key, DOCS, name="background_base"), 202).json()
        d.run_pending()  # KnowledgeFunction's own asynchronous invocation
        job = ok(gw.get(started["href"], headers=h(key))).json()
        assert job["status"] == "completed", job
    finally:
        configure(previous)
        blobs.INLINE_LIMIT = limit
    ok(gw.get("/api/v1/knowledge_bases", headers=h(key)))
    ok(gw.get(f"/api/v1/knowledge_bases/{KB}", headers=h(key)))
    ok(gw.get(f"/api/v1/knowledge_bases/{KB}/chunks", headers=h(key)))
    ok(gw.delete("/api/v1/knowledge_bases/background_base", headers=h(key)))
    return {"kb": KB}


MEMORY_FLOW_ID = "0d9f3a8e-6c41-4b7e-9e35-1f2a3b4c5d61"


def flows_that_touch_aws(d: Deployed, ids: dict[str, str], uploads: dict[str, str]) -> None:
    """The flows whose nodes reach AWS, stored once, their inputs set in the nodes (webhook runs
    and builds take no tweaks), each with a Webhook node so that a webhook can run it too:
    basic-chat (its model credential is a KMS-encrypted variable), the report parser (a File
    node reading an upload), Knowledge Retrieval (S3 Vectors), Chroma (fills its collection),
    a Message History flow (session history). Chroma gets a collection per principal."""
    import copy

    from tests.api.conftest import shared_flow, store_flow
    from tests.api.test_files import MODEL
    from tests.api.test_knowledge import KB, KNOWLEDGE_NODES, RETRIEVAL
    from tests.support.custom_code import custom_flow
    from tests.support.engine_kit import component_node, edge, flow
    from tests.unit.components.test_knowledge import chroma_flow

    def stored(name: str, exported: dict[str, Any], values: dict[str, dict[str, Any]], flow_id: str | None = None) -> str:
        data = copy.deepcopy(exported["data"])
        for node in data["nodes"]:
            for field_name, value in values.get(node["id"], {}).items():
                node["data"]["node"]["template"].setdefault(field_name, {})["value"] = value
        data["nodes"].append(component_node("Webhook-iam", "Webhook"))
        return store_flow(TENANT, {"id": flow_id or str(__import__("uuid").uuid4()), "name": name, "data": data})

    basic = ok(d.gateway.get(f"/api/v1/flows/{ids['Basic Chat']}", headers=h(d.key))).json()
    ids["chat"] = stored("IAM chat", basic, {})
    ids["report"] = stored("IAM report", shared_flow("Financial Report Parser"),
                           {"File-NGW2N": {"path": [uploads["report"]]}, "Agent-6rJWA": {"model": MODEL}})
    ids["retrieval"] = stored("IAM retrieval", shared_flow(RETRIEVAL), {KNOWLEDGE_NODES[RETRIEVAL]: {"knowledge_base": KB}})
    embedding = component_node("OpenAIEmbeddings-1", "OpenAIEmbeddings")
    for principal in ("RunFunction", "RunStreamFunction", "WebhookFunction", "BuildWorkerFunction", "BuildFunction"):
        ids[f"chroma/{principal}"] = stored(f"IAM chroma {principal}", chroma_flow(embedding), {
            "Chroma-1": {"collection_name": f"notes_{principal.lower()}"}, "ChatInput-1": {"input_value": "Cats purr. Dogs bark. Parrots can talk"}})
    memory = flow([component_node("ChatInput-1", "ChatInput"), component_node("Memory-1", "Memory"), component_node("ChatOutput-1", "ChatOutput")],
                  [edge("Memory-1", "messages_text", "ChatOutput-1", "input_value")])
    ids["memory"] = stored("IAM memory", memory, {}, MEMORY_FLOW_ID)
    # Memory Base across the flow's sessions (the messages' sessions listed by tenant).
    recall = flow([component_node("ChatInput-1", "ChatInput", input_value="recall notes"), component_node("MemoryBase-1", "MemoryBase", memory_base="notes", filter_by_session=False),
                   component_node("ChatOutput-1", "ChatOutput")],
                  [edge("ChatInput-1", "message", "MemoryBase-1", "search_query"),
                   edge("MemoryBase-1", "retrieve_data", "ChatOutput-1", "input_value", output_types=("DataFrame",),
                        input_types=("Data", "DataFrame", "Message"))])
    ids["recall"] = stored("IAM recall", recall, {}, MEMORY_FLOW_ID.replace("0d9f", "1d9f"))
    # Write File: a new file of the tenant under <tenant>/files/.
    write = flow([component_node("ChatInput-1", "ChatInput"), component_node("SaveToFile-1", "SaveToFile", file_name="tour-notes", file_format="txt"),
                  component_node("ChatOutput-1", "ChatOutput")],
                 [edge("ChatInput-1", "message", "SaveToFile-1", "input"), edge("SaveToFile-1", "message", "ChatOutput-1", "input_value")])
    ids["write"] = stored("IAM write", write, {})
    ids["custom"] = stored("IAM custom code", custom_flow(CUSTOM_CODE), {})


CUSTOM_CODE = component_code("        return Message(text='approved: ' + self.input_value)")


def custom_code_approvals(d: Deployed, ids: dict[str, str]) -> None:
    """KeysFunction's /custom_code routes: the flow's code reviewed, approved, listed; another
    approval made and withdrawn. The approved flow then runs on every run path (CustomCodeFunction)."""
    gw, key = d.gateway, d.key
    review = ok(gw.get(f"/api/v1/custom_code/flows/{ids['custom']}", headers=h(key))).json()
    assert review["code"][0]["sha256"] == sha256(CUSTOM_CODE)
    ok(gw.post("/api/v1/custom_code/approvals", json={"sha256": [sha256(CUSTOM_CODE)], "note": "IAM tour"}, headers=h(key)), 201)
    withdrawn = sha256("withdrawn")
    ok(gw.post("/api/v1/custom_code/approvals", json={"sha256": [withdrawn]}, headers=h(key)), 201)
    assert len(ok(gw.get("/api/v1/custom_code/approvals", headers=h(key))).json()["approvals"]) == 2
    ok(gw.delete(f"/api/v1/custom_code/approvals/{withdrawn}", headers=h(key)), 204)


def runs(client: Any, d: Deployed, ids: dict[str, str], name: str) -> None:
    """The run path (RunFunction, and RunStreamFunction's app): a plain run, a streamed one, the
    flows that touch AWS (one with an empty search: a scan of the index), the memory flow twice
    (the second run reads the session's history), health."""
    from tests.api.test_knowledge import KNOWLEDGE_NODES, RETRIEVAL, answer_of

    key = d.key
    ok(client.post(f"/api/v1/run/{ids['Echo Prompt']}", json={"input_value": f"hello {name}", "session_id": f"s-{name}"}, headers=h(key)))
    ok(client.post(f"/api/v1/run/{ids['Echo Prompt']}?stream=true", json={"input_value": "streamed"}, headers=h(key)))
    assert answer_of(client.post(f"/api/v1/run/{ids['chat']}", json={"input_value": "via variable"}, headers=h(key))) == "Echo: via variable"
    for flow in ("report", "retrieval", f"chroma/{name}"):
        answer_of(client.post(f"/api/v1/run/{ids[flow]}", json={"input_value": "How often do passwords rotate?"}, headers=h(key)))
    answer_of(client.post(f"/api/v1/run/{ids['retrieval']}", json={"input_value": "", "tweaks": {KNOWLEDGE_NODES[RETRIEVAL]: {"search_query": ""}}},
                          headers=h(key)))
    for text in ("remember me", "and now?"):
        answer_of(client.post(f"/api/v1/run/{ids['memory']}", json={"input_value": text, "session_id": f"memory-{name}"}, headers=h(key)))
    assert answer_of(client.post(f"/api/v1/run/{ids['custom']}", json={"input_value": name}, headers=h(key))) == f"approved: {name}"
    assert "saved successfully" in answer_of(client.post(f"/api/v1/run/{ids['write']}", json={"input_value": f"notes of {name}"}, headers=h(key)))
    for session in ("recall-1", "recall-2"):
        answer_of(client.post(f"/api/v1/run/{ids['recall']}", json={"input_value": "recall notes", "session_id": f"{session}-{name}"}, headers=h(key)))
    ok(client.get("/health_check"))


def monitor(d: Deployed, ids: dict[str, str]) -> None:
    """MonitorFunction on the runs' messages: a session listed, a message edited and moved to another
    session, one deleted, a session renamed, the sessions listed and deleted."""
    gw, key, echo = d.gateway, d.key, ids["Echo Prompt"]
    found = ok(gw.get("/api/v1/monitor/messages", params={"flow_id": echo, "session_id": "s-RunFunction"}, headers=h(key))).json()
    assert len(found) == 2, found
    ok(gw.put(f"/api/v1/monitor/messages/{found[0]['id']}", json={"text": "edited", "session_id": "s-moved"}, headers=h(key)))
    ok(gw.delete("/api/v1/monitor/messages", json=[found[1]["id"]], headers=h(key)))
    ok(gw.patch("/api/v1/monitor/messages/session/s-moved", params={"new_session_id": "s-renamed"}, headers=h(key)))
    assert "s-renamed" in ok(gw.get("/api/v1/monitor/messages/sessions", params={"flow_id": echo}, headers=h(key))).json()
    ok(gw.delete("/api/v1/monitor/messages/session/s-renamed", headers=h(key)))
    ok(gw.delete("/api/v1/monitor/messages/sessions", json=["s-RunStreamFunction"], headers=h(key)))


def webhook_runs(d: Deployed, ids: dict[str, str]) -> None:
    """WebhookFunction: the same flows started by webhooks, each run in the function's own
    asynchronous invocation; a webhook flow's job read back."""
    from tests.api.conftest import store_flow
    from tests.api.test_webhooks import webhook_flow

    gw, key = d.gateway, d.key
    store_flow(TENANT, webhook_flow())
    jobs = [ok(gw.post("/api/v1/webhook/order-hook", json={"order_id": "Z", "customer": "Eve"}, headers=h(key)), 202).json()["job_id"]]
    for flow in ("Echo Prompt", "chat", "report", "retrieval", "chroma/WebhookFunction", "memory", "memory", "custom", "write", "recall"):
        jobs.append(ok(gw.post(f"/api/v1/webhook/{ids[flow]}", json={"question": "How often do passwords rotate?"}, headers=h(key)), 202).json()["job_id"])
        d.run_pending()  # in order: the memory flow's second run reads the first one's messages
    for job in jobs:
        body = ok(gw.get(f"/api/v1/webhook/jobs/{job}", headers=h(key))).json()
        assert body["status"] == "completed", body


def workflows(d: Deployed, ids: dict[str, str]) -> None:
    """BuildFunction's /api/v2/workflows: sync runs of the flows that touch AWS (variables, files,
    knowledge searched and scanned, Chroma filled, history twice), one streamed."""
    from tests.api.test_knowledge import KNOWLEDGE_NODES, RETRIEVAL

    gw, key = d.gateway, d.key
    for flow, text in (("chat", "workflow"), ("report", ""), ("retrieval", "How often do passwords rotate?"), ("memory", "one"), ("memory", "two")):
        body = ok(gw.post("/api/v2/workflows", json={"flow_id": ids[flow], "input_value": text, "session_id": "workflow-session"}, headers=h(key))).json()
        assert body["status"] == "completed", body
    empty_search = {KNOWLEDGE_NODES[RETRIEVAL]: {"search_query": ""}}  # a scan of the index
    ok(gw.post("/api/v2/workflows", json={"flow_id": ids["retrieval"], "input_value": "", "tweaks": empty_search}, headers=h(key)))
    ok(gw.post("/api/v2/workflows", json={"flow_id": ids["chroma/BuildFunction"], "input_value": "Cats purr. Dogs bark. Parrots can talk"},
               headers=h(key)))
    streamed = ok(gw.post("/api/v2/workflows", json={"flow_id": ids["chat"], "input_value": "streamed", "mode": "stream"}, headers=h(key)))
    assert "streamed" in streamed.text


def builds(d: Deployed, ids: dict[str, str]) -> None:
    """BuildFunction starting the BuildJob state machine (moto runs it: the worker's handler per
    step) for the flows that touch AWS; checkpoints, events and the request's graph in the jobs
    bucket; the events read back; vertex builds listed and deleted; a running build stopped."""
    from flowless.store import blobs
    from tests.api.test_build import poll_until_end

    gw, key, echo = d.gateway, d.key, ids["Echo Prompt"]
    limit = blobs.INLINE_LIMIT
    blobs.INLINE_LIMIT = 64  # every checkpoint, event page and request graph through S3
    try:
        graph = ok(gw.get(f"/api/v1/flows/{echo}", headers=h(key))).json()["data"]
        started = [ok(gw.post(f"/api/v1/build/{echo}/flow", json={"inputs": {"input_value": "built"}, "data": graph}, headers=h(key))).json()["job_id"]]

        def build(flow: str, text: str) -> str:
            body = {"inputs": {"input_value": text, "session": "build-session"}}
            return ok(gw.post(f"/api/v1/build/{ids[flow]}/flow", json=body, headers=h(key))).json()["job_id"]

        # Started together (the state machine runs them side by side), then followed to their end.
        started += [build(flow, text) for flow, text in (
            ("chat", "hello"), ("report", ""), ("retrieval", "How often do passwords rotate?"), ("retrieval", ""),
            ("chroma/BuildWorkerFunction", "Cats purr. Dogs bark. Parrots can talk"), ("memory", "one"),
            ("custom", "built"), ("write", "built notes"), ("recall", "recall notes"))]
        for job in started:
            events = poll_until_end(gw, key, job, timeout=60)
            assert events[-1]["event"] == "end", events
        poll_until_end(gw, key, build("memory", "two"), timeout=60)  # reads the history the first one left
        ok(gw.get(f"/api/v1/build/{started[0]}/status", headers=h(key)))
    finally:
        blobs.INLINE_LIMIT = limit
    ok(gw.get("/api/v1/monitor/builds", params={"flow_id": echo}, headers=h(key)))
    ok(gw.delete("/api/v1/monitor/builds", params={"flow_id": echo}, headers=h(key)))
    d.hold.clear()  # the next build waits in its first layer until it is cancelled
    try:
        job = ok(gw.post(f"/api/v1/build/{echo}/flow", json={"inputs": {"input_value": "cancelled"}}, headers=h(key))).json()["job_id"]
        assert d.held.wait(20), "the build never reached its first layer"
        assert ok(gw.post(f"/api/v1/build/{job}/cancel", headers=h(key))).json()["success"] is True
    finally:
        d.hold.set()


def run_the_tour(d: Deployed) -> None:
    from fastapi.testclient import TestClient

    from tests.api.test_webhooks import deliveries, subscribe
    from tests.deploy.template_routes import function_module
    from tests.support.receiver import Receiver

    events_through_their_functions(d)
    keys(d)
    ids = flows_and_variables(d)
    uploads = files(d, ids)
    knowledge(d, uploads)
    flows_that_touch_aws(d, ids, uploads)
    custom_code_approvals(d, ids)
    gw, key = d.gateway, d.key
    with Receiver() as receiver:
        # Every run's events go to the queue: the run functions send them, the delivery function delivers.
        hooks = {flow: ok(subscribe(gw, key, ids[flow], receiver.url, events=["flow_completed"])).json()["id"] for flow in ("Echo Prompt", "chat")}
        ok(gw.get(f"/api/v1/flows/{ids['chat']}/webhooks", headers=h(key)))
        runs(gw, d, ids, "RunFunction")
        with acting_as("RunStreamFunction"), TestClient(function_module("RunStreamFunction").app) as stream:
            runs(stream, d, ids, "RunStreamFunction")
        monitor(d, ids)
        webhook_runs(d, ids)
        workflows(d, ids)
        builds(d, ids)
        messages = d.queued_messages()
        assert {r.function for r in RECORDER.records if r.request.action == "sqs:SendMessage"} >= {"RunFunction", "RunStreamFunction", "WebhookFunction"}
        receiver.fail_next(1)
        answer = gw.invoke("WebhookDeliveryFunction", d.sqs_event(messages[:10]))
        assert len(answer["batchItemFailures"]) == 1, answer
        assert deliveries(gw, key, ids["chat"], hooks["chat"]) or deliveries(gw, key, ids["Echo Prompt"], hooks["Echo Prompt"])
        ok(gw.get(f"/api/v1/flows/{ids['chat']}/webhooks/{hooks['chat']}", headers=h(key)))
        for flow, hook in hooks.items():
            ok(gw.delete(f"/api/v1/flows/{ids[flow]}/webhooks/{hook}", headers=h(key)))


@pytest.fixture(scope="module")
def tour(deployed: Deployed) -> list[Recorded]:
    mark, started = RECORDER.mark(), time.perf_counter()
    run_the_tour(deployed)
    print(f"\nIAM tour: {time.perf_counter() - started:.1f} s")
    return RECORDER.since(mark)


# --- the checks -----------------------------------------------------------------------------------


def test_every_call_of_the_tour_is_allowed(tour: list[Recorded]) -> None:
    pairs = distinct_pairs(tour)
    functions = {f for f, _, _ in pairs}
    print(f"\nIAM tour: {len(pairs)} distinct (function, action, resource) from {len(tour)} recorded requests of "
          f"{len(functions)} principals")
    denials = denied(tour)
    assert not denials, describe_denials(denials)
    assert len(pairs) >= 50 and len(functions) >= 10


def unused_grants(stack: Stack, records: list[Recorded]) -> list[str]:
    """Per declared statement, action and resource: no recorded call of its principal uses that
    pair (and the template does not say why)."""
    from tests.support.iam.evaluator import wildcard_match

    by_principal: dict[str, set[Any]] = defaultdict(set)
    for record in records:
        by_principal[record.function].add(record.request)
    unused = []
    for principal in stack.principals:
        for statement in stack.policies[principal]:
            if not statement.declared or statement.effect != "Allow" or "*" in statement.unexercised:
                continue
            used = [r for r in by_principal[principal] if matches(statement, r)]
            for action in statement.actions or ["*"]:
                if action in statement.unexercised:
                    continue
                for resource in statement.resources or ["*"]:
                    if not any(wildcard_match(action, r.action, ignore_case=True) and wildcard_match(resource, r.resource) for r in used):
                        unused.append(f"{principal} {statement.label}: {action} on {resource}")
    return unused


def test_every_grant_is_used_or_justified_in_the_template(tour: list[Recorded]) -> None:
    unused = unused_grants(default_stack(), tour)
    assert not unused, ("grants no call of the tour uses (remove them, drive their path in tests/iam, or add a "
                        "'# unexercised <Action>: <path>; <why>' comment to the statement):\n  " + "\n  ".join(unused))


def test_no_unexercised_note_names_a_grant_the_tour_uses(tour: list[Recorded]) -> None:
    """A '# unexercised' note is a claim that no test reaches the grant: once the tour does, it goes."""
    from tests.support.iam.evaluator import wildcard_match

    stack, stale = default_stack(), []
    for principal in stack.principals:
        made = [r.request for r in tour if r.function == principal]
        for statement in stack.policies[principal]:
            used = [r for r in made if matches(statement, r)]
            for action in statement.unexercised:
                if any(action == "*" or wildcard_match(action, r.action, ignore_case=True) for r in used):
                    stale.append(f"{principal} {statement.label}: {action}")
    assert not stale, "notes saying the tour does not reach a grant it now uses:\n  " + "\n  ".join(stale)


def test_every_function_is_toured(tour: list[Recorded]) -> None:
    stack = default_stack()
    toured = {r.function for r in tour}
    missing = [p for p in stack.principals if p not in toured and p not in SANDBOX_FUNCTIONS]
    assert not missing, f"the tour records no AWS call of {missing}: drive them in tests/iam/test_least_privilege.py"


def test_the_sandbox_function_may_only_write_its_own_logs(tour: list[Recorded]) -> None:
    """CustomCodeFunction runs tenant code: its role allows its own log group's writes and nothing
    else, and none of the calls the other functions made would be allowed under it."""
    stack = default_stack()
    for function in SANDBOX_FUNCTIONS:
        role = stack.resources[function]["Properties"]["Role"]
        role_id = (role.get("Fn::GetAtt") or [""])[0] if isinstance(role, dict) else str(role).split(".")[0]
        policies = stack.resources[role_id]["Properties"].get("Policies") or []
        statements = [st for p in policies for st in p["PolicyDocument"]["Statement"]]
        assert stack.resources[role_id]["Properties"].get("ManagedPolicyArns") in (None, [])
        assert [sorted(st["Action"]) for st in statements] == [["logs:CreateLogStream", "logs:PutLogEvents"]]
        assert [stack.resolver.resolve(st["Resource"]) for st in statements] == [stack.arn(f"{function}Logs")]
        assert [r for r in tour if r.function == function] == []
        granted = [stack_statement(function, st) for st in statements]
        everything = {r.request for r in tour}
        assert everything and all(not evaluate(granted, request).allowed for request in everything)
    # The run functions did invoke it, one vertex per call.
    invoked = {r.function for r in tour if r.request.action == "lambda:InvokeFunction" and r.request.resource == stack.arn("CustomCodeFunction")}
    assert invoked == {"RunFunction", "RunStreamFunction", "WebhookFunction", "BuildWorkerFunction"}


def stack_statement(principal: str, raw: dict[str, Any]) -> Any:
    from tests.support.iam.stack import statement

    resolved = {**raw, "Resource": default_stack().resolver.resolve(raw["Resource"])}
    return statement(principal, raw.get("Sid", ""), "inline", resolved)


def test_a_functions_calls_are_denied_under_another_functions_role(tour: list[Recorded]) -> None:
    stack = default_stack()
    requests: dict[str, set[Any]] = defaultdict(set)
    for record in tour:
        requests[record.function].add(record.request)
    lines, without_denial = [], []
    for function, made in sorted(requests.items()):
        for other in stack.principals:
            if other == function:
                continue
            refused = [r for r in made if not evaluate(stack.policies[other], r).allowed]
            lines.append(f"{function} under {other}'s role: {len(refused)}/{len(made)} denied")
            if not refused:
                without_denial.append((function, other))
    print("\n" + "\n".join(lines))
    # Each function needs something no other function's role grants, but for the roles that are
    # meant to be supersets: the streaming twin of RunFunction (same code, same IAM).
    twins = {("RunFunction", "RunStreamFunction"), ("RunStreamFunction", "RunFunction")}
    assert set(without_denial) <= twins, f"calls wholly allowed under another function's role: {sorted(set(without_denial) - twins)}"
    # And the message names function, action and resource: KeysFunction creating a key under RunFunction's role.
    keys_calls = [r for r in tour if r.function == "KeysFunction" and r.request.action == "dynamodb:PutItem"]
    refused = [(r, evaluate(stack.policies["RunFunction"], r.request)) for r in keys_calls[:1]]
    message = describe_denials([(Recorded("KeysFunction", r.service, r.operation, r.request, r.test), d) for r, d in refused])
    assert refused and not refused[0][1].allowed
    assert "KeysFunction: dynamodb:PutItem on arn:aws:dynamodb:us-east-1:123456789012:table/flowless-dev-api-keys" in message


def test_removing_any_statement_denies_a_call_of_the_tour(tour: list[Recorded]) -> None:
    """Every used statement is needed: without it some recorded call is denied (no two statements
    grant the same call)."""
    stack = default_stack()
    redundant = []
    for principal in stack.principals:
        made = {r.request for r in tour if r.function == principal}
        for statement in stack.policies[principal]:
            if not statement.declared or not any(matches(statement, r) for r in made):
                continue
            rest = [s for s in stack.policies[principal] if s is not statement]
            if all(evaluate(rest, r).allowed for r in made):
                redundant.append(str(statement))
    assert not redundant, "statements whose every use another statement also grants:\n  " + "\n  ".join(redundant)


@pytest.mark.parametrize(("principal", "label"), [
    ("RunFunction", "VariableValuesDecrypt"), ("BuildFunction", "BuildExecutionsStart"), ("KeysFunction", "ApiKeysListByTenant"),
    ("WebhookDeliveryFunction", "DeliveryLogWrite"), ("KnowledgeFunction", "KnowledgeBaseVectors"),
    ("BuildJobStateMachine", "LambdaInvokePolicy"),
])
def test_a_template_without_a_statement_fails_naming_function_action_and_resource(tour: list[Recorded], tmp_path: Path,
                                                                                 principal: str, label: str) -> None:
    """On a copy of template.yaml with one statement deleted, the tour's calls that needed it are
    denied, and the failure names function, action and resource."""
    copy = tmp_path / "template.yaml"
    copy.write_text(default_stack().without_statement(principal, label), encoding="utf-8")
    trimmed = Stack(copy)
    assert len(trimmed.policies[principal]) == len(default_stack().policies[principal]) - 1
    denials = [(r, d) for r, d in denied(tour, trimmed)]
    assert denials and {r.function for r, _ in denials} == {principal}, describe_denials(denials)
    statement = next(s for s in default_stack().policies[principal] if s.label == label)
    message = describe_denials(denials)
    for record, decision in denials:
        assert decision.outcome == "ImplicitDeny"
        assert any(matches(statement, record.request) for _ in [0])
        assert f"{principal}: {record.request.action} on {record.request.resource}" in message
