"""Writes the API Gateway (REST, payload v1) events in this folder: one file per route case.

The shape is `sam local generate-event apigateway aws-proxy`'s, with the fields API Gateway really
sends for our routes (resource with its {params}, pathParameters, text bodies not base64 unless
the media type is binary). Every event carries the dev key that `flowless invoke` and the tests
register in the tenant "local".

    python events/generate.py        # rewrite every events/*.json from the table below

tests/handlers/test_events.py states what each event must answer.
"""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
API_KEY = "sk-flowless-dev-key-for-events-0000000000000000"
TENANT = "local"
OTHER_TENANT = "globex"
STAGE = "dev"
API_ID = "a1b2c3d4e5"
HOST = f"{API_ID}.execute-api.us-east-1.amazonaws.com"
ECHO_FLOW_ID = "8f0a4c1e-2b7d-4e49-9a51-0c6f1d2e3a01"  # flows/echo-prompt.json
# A message the handler tests store before the monitor events run (monitor-update-message).
KNOWN_MESSAGE_ID = "0b6f8a52-4e0d-4c77-9d4b-3f1a5f0e9c11"
KNOWN_SESSION = "events-session"
RUN_BODY = {"input_value": "Hello, Flowless", "output_type": "chat", "input_type": "chat"}


def event(
    name: str,
    method: str,
    resource: str,
    path_parameters: dict[str, str] | None = None,
    *,
    query: dict[str, str] | None = None,
    body: Any = None,
    headers: dict[str, str] | None = None,
    api_key: str | None = API_KEY,
    content_type: str | None = "application/json",
    binary: bool = False,
    trailing_slash: bool = False,
) -> dict[str, Any]:
    path = resource
    for key, value in (path_parameters or {}).items():
        path = path.replace("{" + key + "}", quote(value, safe=""))
    if trailing_slash:  # Langflow's clients call /flows/, /variables/, /api_key/; API Gateway keeps the slash
        path += "/"
    all_headers = {
        "Accept": "application/json" if "stream" not in name else "text/event-stream",
        "Host": HOST,
        "User-Agent": "flowless-events/1.0",
        "X-Amzn-Trace-Id": "Root=1-67a0b1c2-0123456789abcdef01234567",
        "X-Forwarded-For": "203.0.113.10",
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
    }
    if body is not None and content_type:
        all_headers["Content-Type"] = content_type
    if api_key:
        all_headers["x-api-key"] = api_key
    all_headers.update(headers or {})
    if body is None:
        text = None
    elif isinstance(body, (bytes, str)):
        text = body.decode() if isinstance(body, bytes) else body
    else:
        text = json.dumps(body)
    if binary and text is not None:
        text = base64.b64encode(text.encode()).decode()
    request_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"flowless-events/{name}"))
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": dict(query) if query else None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": dict(path_parameters) if path_parameters else None,
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": API_ID,
            "domainName": HOST,
            "domainPrefix": API_ID,
            "extendedRequestId": request_id[:16],
            "httpMethod": method,
            "identity": {
                "accessKey": None,
                "accountId": None,
                "caller": None,
                "cognitoAuthenticationProvider": None,
                "cognitoAuthenticationType": None,
                "cognitoIdentityId": None,
                "cognitoIdentityPoolId": None,
                "principalOrgId": None,
                "sourceIp": "203.0.113.10",
                "user": None,
                "userAgent": "flowless-events/1.0",
                "userArn": None,
            },
            "path": f"/{STAGE}{path}",
            "protocol": "HTTP/1.1",
            "requestId": request_id,
            "requestTime": "21/Nov/2026:12:00:00 +0000",
            "requestTimeEpoch": 1795262400000,
            "resourceId": "abc123",
            "resourcePath": resource,
            "stage": STAGE,
        },
        "body": text,
        "isBase64Encoded": bool(binary and text is not None),
    }


RUN = "/api/v1/run/{flow_id_or_name}"
RUN_LF = "/lf/{langflow_id}/api/v1/run/{flow_id_or_name}"
MESSAGES = "/api/v1/monitor/messages"
# API Gateway's one variable name per level: {id} is a flow id for /flow, a job id otherwise.
BUILD = "/api/v1/build/{id}"
BUILD_BODY = {"inputs": {"input_value": "Hello, Flowless", "session": KNOWN_SESSION}}
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


def multipart(fields: dict[str, str], boundary: str = "flowlessboundary") -> str:
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in fields.items()]
    return "".join(parts) + f"--{boundary}--\r\n"


FILES = "/api/v1/files"
WEBHOOK = "/api/v1/webhook/{flow_id_or_name}"
HOOKS = "/api/v1/flows/{flow_id}/webhooks"
KNOWLEDGE = "/api/v1/knowledge_bases"
MULTIPART = "multipart/form-data; boundary=flowlessboundary"


def file_upload(filename: str, content_type: str, content: str, boundary: str = "flowlessboundary") -> str:
    """A multipart body with one `file` part, as the files routes take it."""
    return (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n{content}\r\n--{boundary}--\r\n")


EVENTS: dict[str, dict[str, Any]] = {
    # --- RunFunction ---------------------------------------------------------------------------
    "run-basic": event("run-basic", "POST", RUN, {"flow_id_or_name": "echo-prompt"}, body=RUN_BODY),
    "run-by-id": event("run-by-id", "POST", RUN, {"flow_id_or_name": ECHO_FLOW_ID}, body=RUN_BODY),
    "run-stream": event("run-stream", "POST", RUN, {"flow_id_or_name": "echo-prompt"}, query={"stream": "true"}, body=RUN_BODY),
    "run-tweaks": event("run-tweaks", "POST", RUN, {"flow_id_or_name": "echo-prompt"}, body={
        **RUN_BODY, "tweaks": {"Prompt-ech02": {"template": "Tweaked: {question}"}}}),
    "run-tweaks-refused": event("run-tweaks-refused", "POST", RUN, {"flow_id_or_name": "echo-prompt"}, body={
        **RUN_BODY, "tweaks": {"Prompt-ech02": {"code": "import os"}}}),
    "run-session": event("run-session", "POST", RUN, {"flow_id_or_name": "echo-prompt"}, body={**RUN_BODY, "session_id": KNOWN_SESSION}),
    "run-form": event("run-form", "POST", RUN, {"flow_id_or_name": "echo-prompt"},
                      body=multipart({"input_value": "Hello from a form", "tweaks": "{}"}),
                      content_type="multipart/form-data; boundary=flowlessboundary", binary=True),
    "run-bearer": event("run-bearer", "POST", RUN, {"flow_id_or_name": "echo-prompt"}, body=RUN_BODY, api_key=None,
                        headers={"Authorization": f"Bearer {API_KEY}"}),
    "run-advanced": event("run-advanced", "POST", "/api/v1/run/advanced/{flow_id_or_name}", {"flow_id_or_name": "echo-prompt"},
                          body={"inputs": [{"components": [], "input_value": "Hello, advanced"}], "outputs": [], "tweaks": {}}),
    "run-bad-key": event("run-bad-key", "POST", RUN, {"flow_id_or_name": "echo-prompt"}, body=RUN_BODY,
                         api_key="sk-not-a-real-key-000000000000000000000000000000"),
    "run-missing-key": event("run-missing-key", "POST", RUN, {"flow_id_or_name": "echo-prompt"}, body=RUN_BODY, api_key=None),
    "run-unknown-flow": event("run-unknown-flow", "POST", RUN, {"flow_id_or_name": "no-such-flow"}, body=RUN_BODY),
    "run-invalid-json": event("run-invalid-json", "POST", RUN, {"flow_id_or_name": "echo-prompt"}, body="{not json"),
    "run-json-as-form": event("run-json-as-form", "POST", RUN, {"flow_id_or_name": "echo-prompt"}, body=RUN_BODY,
                              content_type="application/x-www-form-urlencoded"),
    "run-lf-tenant": event("run-lf-tenant", "POST", RUN_LF, {"langflow_id": TENANT, "flow_id_or_name": "echo-prompt"}, body=RUN_BODY),
    "run-lf-other-tenant": event("run-lf-other-tenant", "POST", RUN_LF, {"langflow_id": OTHER_TENANT, "flow_id_or_name": "echo-prompt"},
                                 body=RUN_BODY),
    "health": event("health", "GET", "/health", api_key=None),
    "health-check": event("health-check", "GET", "/health_check", api_key=None),
    "version": event("version", "GET", "/api/v1/version", api_key=None),
    "version-lf": event("version-lf", "GET", "/lf/{langflow_id}/api/v1/version", {"langflow_id": TENANT}, api_key=None),
    # --- MonitorFunction -----------------------------------------------------------------------
    "monitor-messages": event("monitor-messages", "GET", MESSAGES, query={"flow_id": ECHO_FLOW_ID}),
    "monitor-messages-session": event("monitor-messages-session", "GET", MESSAGES,
                                      query={"session_id": KNOWN_SESSION, "order": "DESC", "limit": "10"}),
    "monitor-messages-lf": event("monitor-messages-lf", "GET", "/lf/{langflow_id}" + MESSAGES, {"langflow_id": TENANT}),
    "monitor-messages-lf-other-tenant": event("monitor-messages-lf-other-tenant", "GET", "/lf/{langflow_id}" + MESSAGES,
                                              {"langflow_id": OTHER_TENANT}),
    "monitor-messages-missing-key": event("monitor-messages-missing-key", "GET", MESSAGES, api_key=None),
    "monitor-sessions": event("monitor-sessions", "GET", MESSAGES + "/sessions"),
    "monitor-update-message": event("monitor-update-message", "PUT", MESSAGES + "/{message_id}", {"message_id": KNOWN_MESSAGE_ID},
                                    body={"text": "Edited through the monitor"}),
    "monitor-update-unknown-message": event("monitor-update-unknown-message", "PUT", MESSAGES + "/{message_id}",
                                            {"message_id": "00000000-0000-4000-8000-000000000000"}, body={"text": "nobody"}),
    "monitor-rename-session": event("monitor-rename-session", "PATCH", MESSAGES + "/session/{session_id}",
                                    {"session_id": KNOWN_SESSION}, query={"new_session_id": "events-session-renamed"}),
    "monitor-delete-session": event("monitor-delete-session", "DELETE", MESSAGES + "/session/{session_id}", {"session_id": KNOWN_SESSION}),
    "monitor-delete-sessions": event("monitor-delete-sessions", "DELETE", MESSAGES + "/sessions", body=[KNOWN_SESSION]),
    "monitor-delete-messages": event("monitor-delete-messages", "DELETE", MESSAGES, body=[KNOWN_MESSAGE_ID]),
    # --- FlowsFunction -------------------------------------------------------------------------
    "flows-list": event("flows-list", "GET", "/api/v1/flows", query={"header_flows": "true"}, trailing_slash=True),
    "flows-read": event("flows-read", "GET", "/api/v1/flows/{flow_id}", {"flow_id": ECHO_FLOW_ID}),
    "flows-read-lf": event("flows-read-lf", "GET", "/lf/{langflow_id}/api/v1/flows/{flow_id}", {"langflow_id": TENANT, "flow_id": ECHO_FLOW_ID}),
    "flows-create": event("flows-create", "POST", "/api/v1/flows", trailing_slash=True, body={
        "name": "Created by an event", "description": "An empty flow", "data": {"nodes": [], "edges": []}}),
    "flows-delete-unknown": event("flows-delete-unknown", "DELETE", "/api/v1/flows/{flow_id}", {"flow_id": "00000000-0000-4000-8000-000000000000"}),
    "projects-list": event("projects-list", "GET", "/api/v1/projects", trailing_slash=True),
    "projects-create": event("projects-create", "POST", "/api/v1/projects", trailing_slash=True, body={
        "name": "Created by an event", "description": "holds the echo flow", "flows_list": [ECHO_FLOW_ID]}),
    "projects-read-lf-other-tenant": event("projects-read-lf-other-tenant", "GET", "/lf/{langflow_id}/api/v1/projects/{project_id}",
                                           {"langflow_id": OTHER_TENANT, "project_id": UNKNOWN_ID}),
    "folders-list": event("folders-list", "GET", "/api/v1/folders", trailing_slash=True),
    "variables-create": event("variables-create", "POST", "/api/v1/variables", trailing_slash=True, body={
        "name": "EVENTS_VARIABLE", "value": "from an event", "type": "Generic", "default_fields": []}),
    "variables-list": event("variables-list", "GET", "/api/v1/variables", trailing_slash=True),
    "catalogue-all": event("catalogue-all", "GET", "/api/v1/all"),
    "config": event("config", "GET", "/api/v1/config"),
    # --- KeysFunction --------------------------------------------------------------------------
    "keys-list": event("keys-list", "GET", "/api/v1/api_key", trailing_slash=True),
    "keys-create": event("keys-create", "POST", "/api/v1/api_key", trailing_slash=True, body={"name": "created-by-an-event"}),
    "keys-delete-unknown": event("keys-delete-unknown", "DELETE", "/api/v1/api_key/{key_id}", {"key_id": "00000000-0000-4000-8000-000000000000"}),
    # --- FilesFunction -------------------------------------------------------------------------
    "files-upload": event("files-upload", "POST", FILES + "/upload/{flow_id}", {"flow_id": ECHO_FLOW_ID},
                          body=file_upload("report.txt", "text/plain", "Revenue: 120M"), content_type=MULTIPART, binary=True),
    "files-upload-executable": event("files-upload-executable", "POST", FILES + "/upload/{flow_id}", {"flow_id": ECHO_FLOW_ID},
                                     body=file_upload("tool.exe", "application/octet-stream", "MZ"), content_type=MULTIPART, binary=True),
    "files-list": event("files-list", "GET", FILES + "/list/{flow_id}", {"flow_id": ECHO_FLOW_ID}),
    "files-list-lf-other-tenant": event("files-list-lf-other-tenant", "GET", "/lf/{langflow_id}" + FILES + "/list/{flow_id}",
                                        {"langflow_id": OTHER_TENANT, "flow_id": ECHO_FLOW_ID}),
    "files-v2-upload": event("files-v2-upload", "POST", "/api/v2/files", body=file_upload("notes.md", "text/markdown", "# Notes"),
                             content_type=MULTIPART, binary=True),
    "files-v2-list": event("files-v2-list", "GET", "/api/v2/files"),
    # --- WebhookFunction -----------------------------------------------------------------------
    "webhook-run": event("webhook-run", "POST", WEBHOOK, {"flow_id_or_name": "echo-prompt"}, body={"order_id": "A-17"}),
    "webhook-empty-body": event("webhook-empty-body", "POST", WEBHOOK, {"flow_id_or_name": "echo-prompt"}, body=""),
    "webhook-missing-key": event("webhook-missing-key", "POST", WEBHOOK, {"flow_id_or_name": "echo-prompt"}, body={"a": 1}, api_key=None),
    "webhook-job-unknown": event("webhook-job-unknown", "GET", "/api/v1/webhook/jobs/{job_id}", {"job_id": "00000000-0000-4000-8000-000000000000"}),
    "webhooks-list": event("webhooks-list", "GET", HOOKS, {"flow_id": ECHO_FLOW_ID}),
    "webhooks-create-blocked": event("webhooks-create-blocked", "POST", HOOKS, {"flow_id": ECHO_FLOW_ID},
                                     body={"url": "http://169.254.169.254/latest/meta-data", "events": ["flow_completed"]}),
    # --- BuildFunction -------------------------------------------------------------------------
    "build-flow": event("build-flow", "POST", BUILD + "/flow", {"id": ECHO_FLOW_ID}, body=BUILD_BODY),
    "build-flow-lf": event("build-flow-lf", "POST", "/lf/{langflow_id}" + BUILD + "/flow", {"langflow_id": TENANT, "id": ECHO_FLOW_ID},
                           query={"event_delivery": "polling", "log_builds": "false"}, body=BUILD_BODY),
    "build-flow-unknown": event("build-flow-unknown", "POST", BUILD + "/flow", {"id": UNKNOWN_ID}, body=BUILD_BODY),
    "build-flow-extra-input": event("build-flow-extra-input", "POST", BUILD + "/flow", {"id": ECHO_FLOW_ID},
                                    body={"inputs": {"input_value": "x", "tweaks": {}}}),
    "build-events-unknown-job": event("build-events-unknown-job", "GET", BUILD + "/events", {"id": UNKNOWN_ID},
                                      query={"event_delivery": "polling", "after": "0"}),
    "build-status-unknown-job": event("build-status-unknown-job", "GET", BUILD + "/status", {"id": UNKNOWN_ID}),
    "build-cancel-unknown-job": event("build-cancel-unknown-job", "POST", BUILD + "/cancel", {"id": UNKNOWN_ID}),
    "monitor-builds": event("monitor-builds", "GET", "/api/v1/monitor/builds", query={"flow_id": ECHO_FLOW_ID}),
    "monitor-builds-delete": event("monitor-builds-delete", "DELETE", "/api/v1/monitor/builds", query={"flow_id": ECHO_FLOW_ID}),
    # --- KnowledgeFunction ---------------------------------------------------------------------
    "knowledge-create": event("knowledge-create", "POST", KNOWLEDGE, body={
        "name": "events handbook", "embedding_provider": "OpenAI", "embedding_model": "text-embedding-3-small"}),
    "knowledge-list": event("knowledge-list", "GET", KNOWLEDGE),
    "knowledge-read-unknown": event("knowledge-read-unknown", "GET", KNOWLEDGE + "/{kb_name}", {"kb_name": "no_such_kb"}),
    "knowledge-lf-other-tenant": event("knowledge-lf-other-tenant", "GET", "/lf/{langflow_id}" + KNOWLEDGE, {"langflow_id": OTHER_TENANT}),
    "knowledge-ingest-unknown": event("knowledge-ingest-unknown", "POST", KNOWLEDGE + "/{kb_name}/ingest", {"kb_name": "no_such_kb"},
                                      body=file_upload("notes.txt", "text/plain", "Some notes").replace('name="file"', 'name="files"'),
                                      content_type=MULTIPART, binary=True),
}


def main() -> None:
    for stale in HERE.glob("*.json"):
        if stale.stem not in EVENTS:
            stale.unlink()
    for name, body in EVENTS.items():
        (HERE / f"{name}.json").write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {len(EVENTS)} events to {HERE}")


if __name__ == "__main__":
    main()
