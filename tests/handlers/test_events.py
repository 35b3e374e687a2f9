"""Every file in events/ through the real Lambda handler of the function the template routes it
to (functions/<group>/app.py, in-process, moto DynamoDB), with its status and body asserted."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.deploy import template_routes
from tests.handlers.conftest import EVENTS, event_catalogue, load_event

# Requests that record no metric (all but /run) make Powertools warn once per invocation.
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

ECHO_TEXT = "You said: Hello, Flowless\nFlowless answered without a model."


def body_of(response: dict[str, Any]) -> Any:
    raw = response.get("body") or ""
    if response.get("isBase64Encoded"):
        raw = base64.b64decode(raw).decode()
    content_type = {k.lower(): v for k, v in (response.get("headers") or {}).items()}.get("content-type", "")
    return json.loads(raw) if raw and "json" in content_type else raw


def first_text(body: dict[str, Any]) -> str:
    return body["outputs"][0]["outputs"][0]["results"]["message"]["text"]


def frames(body: str) -> list[dict[str, Any]]:
    return [json.loads(chunk) for chunk in body.split("\n\n") if chunk.strip()]


def check_stream(body: str) -> None:
    events = frames(body)
    assert [e["event"] for e in events][-1] == "end"
    assert first_text(events[-1]["data"]["result"]) == ECHO_TEXT
    assert any(e["event"] == "add_message" for e in events)


def check_listed(body: list[dict[str, Any]]) -> None:
    assert [m["id"] for m in body] == [event_catalogue.KNOWN_MESSAGE_ID]
    assert body[0]["session_id"] == event_catalogue.KNOWN_SESSION


# event file -> (status, check of the decoded body or None)
EXPECTED: dict[str, tuple[int, Callable[[Any], None] | None]] = {
    "run-basic": (200, lambda b: first_text(b) == ECHO_TEXT or pytest.fail(first_text(b))),
    "run-by-id": (200, lambda b: first_text(b) == ECHO_TEXT or pytest.fail(first_text(b))),
    "run-stream": (200, check_stream),
    "run-tweaks": (200, lambda b: first_text(b) == "Tweaked: Hello, Flowless" or pytest.fail(first_text(b))),
    "run-tweaks-refused": (422, lambda b: b["detail"]["code"] == "TWEAKS_REFUSED" or pytest.fail(str(b))),
    "run-session": (200, lambda b: b["session_id"] == event_catalogue.KNOWN_SESSION or pytest.fail(str(b["session_id"]))),
    "run-form": (200, lambda b: first_text(b).startswith("You said: Hello from a form") or pytest.fail(first_text(b))),
    "run-bearer": (200, lambda b: first_text(b) == ECHO_TEXT or pytest.fail(first_text(b))),
    "run-advanced": (200, lambda b: "Hello, advanced" in json.dumps(b) or pytest.fail(json.dumps(b)[:300])),
    "run-bad-key": (403, lambda b: b == {"detail": "Invalid or missing API key"} or pytest.fail(str(b))),
    "run-missing-key": (403, lambda b: b == {"detail": "An API key must be passed as query or header"} or pytest.fail(str(b))),
    "run-unknown-flow": (404, lambda b: "no-such-flow" in b["detail"] or pytest.fail(str(b))),
    "run-invalid-json": (400, lambda b: b == {"detail": "Request body is not valid JSON"} or pytest.fail(str(b))),
    "run-json-as-form": (415, lambda b: "Content-Type: application/json" in b["detail"] or pytest.fail(str(b))),
    "run-lf-tenant": (200, lambda b: first_text(b) == ECHO_TEXT or pytest.fail(first_text(b))),
    "run-lf-other-tenant": (404, lambda b: b == {"detail": "Not Found"} or pytest.fail(str(b))),
    "health": (200, lambda b: b == {"status": "ok"} or pytest.fail(str(b))),
    "health-check": (200, lambda b: b["db"] == "ok" or pytest.fail(str(b))),
    "version": (200, lambda b: b["version"] == "1.13.0" or pytest.fail(str(b))),
    "version-lf": (200, lambda b: b["package"] == "Flowless" or pytest.fail(str(b))),
    "monitor-messages": (200, check_listed),
    "monitor-messages-session": (200, check_listed),
    "monitor-messages-lf": (200, check_listed),
    "monitor-messages-lf-other-tenant": (404, None),
    "monitor-messages-missing-key": (403, None),
    "monitor-sessions": (200, lambda b: b == [event_catalogue.KNOWN_SESSION] or pytest.fail(str(b))),
    "monitor-update-message": (200, lambda b: (b["text"], b["edit"]) == ("Edited through the monitor", True) or pytest.fail(str(b))),
    "monitor-update-unknown-message": (404, None),
    "monitor-rename-session": (200, lambda b: [m["session_id"] for m in b] == ["events-session-renamed"] or pytest.fail(str(b))),
    "monitor-delete-session": (204, lambda b: b == "" or pytest.fail(repr(b))),
    "monitor-delete-sessions": (200, lambda b: b["deleted_count"] == 1 or pytest.fail(str(b))),
    "monitor-delete-messages": (204, lambda b: b == "" or pytest.fail(repr(b))),
    "flows-list": (200, lambda b: sorted(f["endpoint_name"] for f in b) == ["basic-chat", "echo-prompt"] or pytest.fail(str(b)[:300])),
    "flows-read": (200, lambda b: (b["id"], b["name"]) == (event_catalogue.ECHO_FLOW_ID, "Echo Prompt") or pytest.fail(str(b)[:300])),
    "flows-read-lf": (200, lambda b: b["id"] == event_catalogue.ECHO_FLOW_ID or pytest.fail(str(b)[:300])),
    "projects-list": (200, lambda b: b[0]["name"] == "Starter Project" or pytest.fail(str(b)[:300])),
    "projects-create": (201, lambda b: b["name"].startswith("Created by an event") or pytest.fail(str(b)[:300])),
    "projects-read-lf-other-tenant": (404, lambda b: b == {"detail": "Not Found"} or pytest.fail(str(b))),
    "folders-list": (200, lambda b: b[0]["name"] == "Starter Project" or pytest.fail(str(b)[:300])),
    "flows-create": (201, lambda b: b["name"] == "Created by an event" or pytest.fail(str(b)[:300])),
    "flows-delete-unknown": (404, None),
    "variables-create": (201, lambda b: (b["name"], b["value"]) == ("EVENTS_VARIABLE", "from an event") or pytest.fail(str(b))),
    "variables-list": (200, lambda b: b == [] or pytest.fail(str(b))),
    "catalogue-all": (200, lambda b: "ChatInput" in json.dumps(b) or pytest.fail(str(b)[:300])),
    "config": (200, lambda b: isinstance(b, dict) or pytest.fail(str(b)[:300])),
    "keys-list": (200, lambda b: [k["name"] for k in b["api_keys"]] == ["events"] or pytest.fail(str(b))),
    "keys-create": (200, lambda b: b["name"] == "created-by-an-event" and b["api_key"].startswith("sk-") or pytest.fail(str(b))),
    "keys-delete-unknown": (404, None),
    "files-upload": (201, lambda b: (b["flowId"], b["file_path"].endswith("_report.txt")) == (event_catalogue.ECHO_FLOW_ID, True)
                     or pytest.fail(str(b))),
    "files-upload-executable": (415, lambda b: "executable" in b["detail"] or pytest.fail(str(b))),
    "files-list": (200, lambda b: b == {"files": []} or pytest.fail(str(b))),
    "files-list-lf-other-tenant": (404, None),
    "files-v2-upload": (201, lambda b: (b["name"], b["size"]) == ("notes", 7) and b["path"].endswith("/notes.md") or pytest.fail(str(b))),
    "files-v2-list": (200, lambda b: b == [] or pytest.fail(str(b))),
    "webhook-run": (202, lambda b: b["status"] == "in progress" and b["job_id"] or pytest.fail(str(b))),
    "webhook-empty-body": (400, lambda b: b["detail"].startswith("Request body is empty") or pytest.fail(str(b))),
    "webhook-missing-key": (403, lambda b: b == {"detail": "API key required when webhook authentication is enabled"} or pytest.fail(str(b))),
    "webhook-job-unknown": (404, None),
    "webhooks-list": (200, lambda b: b == {"webhooks": []} or pytest.fail(str(b))),
    "webhooks-create-blocked": (422, lambda b: b["detail"]["code"] == "URL_BLOCKED" or pytest.fail(str(b))),
    "build-flow": (200, lambda b: set(b) == {"job_id"} or pytest.fail(str(b))),
    "build-flow-lf": (200, lambda b: set(b) == {"job_id"} or pytest.fail(str(b))),
    "build-flow-unknown": (404, lambda b: b == {"detail": f"Flow with id {event_catalogue.UNKNOWN_ID} not found"} or pytest.fail(str(b))),
    "build-flow-extra-input": (422, lambda b: b["detail"][0]["loc"] == ["body", "inputs", "tweaks"] or pytest.fail(str(b))),
    "build-events-unknown-job": (404, lambda b: b == {"detail": f"Job not found: {event_catalogue.UNKNOWN_ID}"} or pytest.fail(str(b))),
    "build-status-unknown-job": (404, lambda b: b == {"detail": f"Job not found: {event_catalogue.UNKNOWN_ID}"} or pytest.fail(str(b))),
    "build-cancel-unknown-job": (404, lambda b: b == {"detail": f"Job not found: {event_catalogue.UNKNOWN_ID}"} or pytest.fail(str(b))),
    "monitor-builds": (200, lambda b: b == {"vertex_builds": {}} or pytest.fail(str(b)[:300])),
    "monitor-builds-delete": (204, lambda b: b == "" or pytest.fail(repr(b))),
    "knowledge-create": (201, lambda b: (b["dir_name"], b["status"]) == ("events_handbook", "empty") or pytest.fail(str(b))),
    "knowledge-list": (200, lambda b: isinstance(b, list) or pytest.fail(str(b))),
    "knowledge-read-unknown": (404, lambda b: b == {"detail": "Knowledge base 'no_such_kb' not found"} or pytest.fail(str(b))),
    "knowledge-lf-other-tenant": (404, lambda b: b == {"detail": "Not Found"} or pytest.fail(str(b))),
    "knowledge-ingest-unknown": (404, lambda b: b == {"detail": "Knowledge base 'no_such_kb' not found"} or pytest.fail(str(b))),
}

EVENT_FILES = sorted(path.stem for path in EVENTS.glob("*.json"))


def test_every_event_file_has_an_expectation_and_the_reverse() -> None:
    assert sorted(EXPECTED) == EVENT_FILES


def test_events_are_api_gateway_rest_proxy_events() -> None:
    keys = {"resource", "path", "httpMethod", "headers", "multiValueHeaders", "queryStringParameters",
            "multiValueQueryStringParameters", "pathParameters", "stageVariables", "requestContext", "body", "isBase64Encoded"}
    for name in EVENT_FILES:
        event = load_event(name)
        assert set(event) == keys, name
        assert event["requestContext"]["resourcePath"] == event["resource"], name
        assert event["requestContext"]["path"] == f"/{event['requestContext']['stage']}{event['path']}", name
        assert "{proxy+}" not in event["resource"], name


@pytest.mark.parametrize("name", EVENT_FILES)
def test_event_through_its_handler(name: str, events_data: dict[str, Any], call: Callable[[str, dict[str, Any]], dict[str, Any]]) -> None:
    event = load_event(name)
    function = template_routes.function_for(template_routes.load(), event["httpMethod"], event["resource"])
    assert function is not None, f"template.yaml routes no function for {event['httpMethod']} {event['resource']}"
    response = call(function, event)
    status, check = EXPECTED[name]
    body = body_of(response)
    assert response["statusCode"] == status, f"{name}: {response['statusCode']} {str(body)[:500]}"
    if check is not None:
        check(body)


def test_run_stream_arrives_buffered_as_an_event_stream(events_data: dict[str, Any], call: Callable[..., dict[str, Any]]) -> None:
    response = call("RunFunction", load_event("run-stream"))
    headers = {k.lower(): v for k, v in response["headers"].items()}
    assert headers["content-type"].startswith("text/event-stream")
    assert response["isBase64Encoded"] is False


def test_request_log_line_carries_the_tenant_flow_and_session(events_data: dict[str, Any], call: Callable[..., dict[str, Any]],
                                                              caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    import logging

    with caplog.at_level(logging.INFO, logger="flowless"):
        call("RunFunction", load_event("run-session"))
    request = next(record for record in caplog.records if record.getMessage() == "request")
    assert request.tenant == event_catalogue.TENANT
    assert request.flow == "echo-prompt"
    assert request.session_id == event_catalogue.KNOWN_SESSION
    assert request.status == 200
    # Powertools' formatter renders these keys, with the API Gateway request id as correlation id.
    from flowless.observability import logger

    rendered = json.loads(logger().registered_formatter.format(request))
    assert rendered["tenant"] == event_catalogue.TENANT
    assert rendered["correlation_id"] == load_event("run-session")["requestContext"]["requestId"]
    # EMF metrics are printed: run latency split into model and engine time.
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    assert any({"RunLatency", "ModelLatency", "EngineLatency"} <= set(line) for line in emitted)
