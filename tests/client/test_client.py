"""`flowless.Client` and `flowless.AsyncClient` against the local server subprocess, and their
retry/error handling against loopback stubs."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from flowless.client import (
    AsyncClient,
    AuthError,
    Client,
    ConnectionError,
    FlowlessError,
    FlowRunError,
    FrameParser,
    NotFoundError,
    RateLimitError,
    RunResult,
    ServerError,
    ValidationError,
)
from tests.client.conftest import CHAT_FLOW_ID, DEV_KEY, ECHO_FLOW_ID, Reply, has_route
from tests.support.flows import agent_chat_flow

ECHO_TEXT = "You said: {}\nFlowless answered without a model."


@pytest.fixture
def client(local_server):
    with Client(local_server["base"], DEV_KEY) as c:
        yield c


# ----------------------------------------------------------------------------- runs


def test_run_flow_answers_a_run_result(client):
    result = client.run_flow("echo-prompt", "hi")
    assert isinstance(result, RunResult)
    assert result.output == ECHO_TEXT.format("hi") and str(result) == result.output
    assert result.session_id == ECHO_FLOW_ID  # Langflow's default: the flow id
    assert result.outputs[0]["outputs"][0]["component_id"] == "ChatOutput-ech03"
    assert result.token_usage is None  # no model in this flow


def test_run_flow_seed_style_with_flow_id_keyword_and_tweaks(client):
    result = client.run_flow(flow_id="echo-prompt", input_value="Hello!", tweaks={"Prompt-ech02": {"template": "Tweaked: {question}"}})
    assert result.output == "Tweaked: Hello!"
    with pytest.raises(TypeError):
        client.run_flow("echo-prompt", "x", flow_id="echo-prompt")


def test_token_usage_is_summed_from_the_model_usage(client):
    result = client.run_flow("basic-chat", "one two three", session_id=f"usage-{uuid.uuid4().hex[:6]}")
    assert result.output == "Echo: one two three"
    usage = result.token_usage
    assert usage and usage["output_tokens"] == 4 and usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


def test_hosted_form_sends_a_bearer_key_under_lf(local_server):
    with Client(local_server["base"], DEV_KEY, langflow_id="local") as hosted:
        assert hosted.url("/run/x") == f"{local_server['base']}/lf/local/api/v1/run/x"
        assert "Authorization" in hosted.headers and "x-api-key" not in hosted.headers
        assert hosted.run_flow("echo-prompt", "hosted").output == ECHO_TEXT.format("hosted")
    with Client(local_server["base"], DEV_KEY, langflow_id="someone-else") as other, pytest.raises(NotFoundError):
        other.run_flow("echo-prompt", "x")


def test_sessions_and_messages_helpers(client):
    session = f"client-{uuid.uuid4().hex[:8]}"
    client.run_flow("basic-chat", "first", session_id=session)
    client.run_flow("basic-chat", "second", session_id=session)
    stored = client.messages(session_id=session)
    assert [(m["sender"], m["text"]) for m in stored] == [("User", "first"), ("Machine", "Echo: first"), ("User", "second"), ("Machine", "Echo: second")]
    assert session in client.sessions(CHAT_FLOW_ID)
    assert client.delete_session(session) is None
    assert client.messages(session_id=session) == []


# ----------------------------------------------------------------------------- streaming


def test_stream_flow_yields_events_in_order_as_they_arrive(client, model_server):
    model_server.chunk_delay_s = 0.04
    try:
        started = time.monotonic()
        events = [(event, time.monotonic() - started) for event in client.stream_flow("basic-chat", "one two three four five", session_id="stream-order")]
    finally:
        model_server.chunk_delay_s = 0.002
    names = [e["event"] for e, _ in events]
    assert names[0] == "add_message" and events[0][0]["data"]["sender"] == "User"
    assert names[1] == "add_message" and events[1][0]["data"]["properties"]["state"] == "partial"
    assert names[-2] == "add_message" and events[-2][0]["data"]["properties"]["state"] == "complete"
    assert names[-1] == "end" and set(names[2:-2]) == {"token"}
    chunks = "".join(e["data"]["chunk"] for e, _ in events if e["event"] == "token")
    assert chunks == "Echo: one two three four five" == events[-2][0]["data"]["text"]
    assert RunResult.from_response(events[-1][0]["data"]["result"]).output == chunks
    first_token = next(t for e, t in events if e["event"] == "token")
    assert first_token < events[-1][1] - 0.1  # tokens were not held back until the end


def test_stream_error_event_raises_flow_run_error(client, model_server):
    model_server.fail_next(1, 400)
    events = []
    with pytest.raises(FlowRunError) as caught:
        for event in client.stream_flow("basic-chat", "this fails", session_id="stream-error"):
            events.append(event["event"])
    assert caught.value.status is None and caught.value.message
    assert events[0] == "add_message"  # what came before the failure was delivered
    model_server.fail_next(1, 400)
    last = list(client.stream_flow("basic-chat", "this fails", session_id="stream-error", raise_on_error=False))[-1]
    assert last["event"] == "error"


async def test_async_client_runs_and_streams(local_server):
    async with AsyncClient(local_server["base"], DEV_KEY) as client:
        result = await client.run_flow("echo-prompt", "async hi")
        assert result.output == ECHO_TEXT.format("async hi")
        events = [event async for event in client.stream_flow("basic-chat", "async stream", session_id="async-s")]
        assert [e["event"] for e in events][-1] == "end"
        assert "".join(e["data"]["chunk"] for e in events if e["event"] == "token") == "Echo: async stream"
        assert [m["text"] for m in await client.messages(session_id="async-s")] == ["async stream", "Echo: async stream"]
        with pytest.raises(NotFoundError):
            await client.run_flow("no-such-flow", "x")


def test_frame_parser_handles_any_split_and_other_framings():
    frames = '{"event": "token", "data": {"chunk": "a"}}\n\n{"event": "end", "data": {"result": {}}}\n\n'
    for size in (1, 3, 7, len(frames)):
        parser = FrameParser()
        events = [e for i in range(0, len(frames), size) for e in parser.feed(frames[i : i + size])] + parser.close()
        assert [e["event"] for e in events] == ["token", "end"]
    parser = FrameParser()  # pretty-printed frames, SSE data: lines and NDJSON
    text = '{\n  "event": "a",\n  "data": {}\n}\n\nevent: b\ndata: {"event": "b", "data": {}}\n\n{"event": "c", "data": {}}\n'
    assert [e["event"] for e in parser.feed(text) + parser.close()] == ["a", "b", "c"]


# ----------------------------------------------------------------------------- errors


def test_errors_are_typed_with_status_and_detail(local_server, client):
    with Client(local_server["base"], "sk-wrong-key-0000000000000000000000000000000") as wrong, pytest.raises(AuthError) as bad_key:
        wrong.run_flow("echo-prompt", "x")
    assert bad_key.value.status == 403 and bad_key.value.detail == "Invalid or missing API key"
    with Client(local_server["base"], api_key="") as keyless, pytest.raises(AuthError):
        keyless.run_flow("echo-prompt", "x")
    with pytest.raises(NotFoundError) as missing:
        client.run_flow("no-such-flow", "x")
    assert missing.value.status == 404 and "no-such-flow" in str(missing.value)
    with pytest.raises(ValidationError) as refused:
        client.run_flow("echo-prompt", "x", tweaks={"Prompt-ech02": {"code": "import os"}})
    assert refused.value.status == 422 and refused.value.detail["code"] == "TWEAKS_REFUSED"
    with pytest.raises(ValidationError) as clash:
        client.run_flow("echo-prompt", "x", tweaks={"ChatInput-ech01": {"input_value": "y"}})
    assert clash.value.status == 400


def test_retries_503_then_succeeds(stub):
    replies = [Reply(503, {"detail": "busy"}, {"Retry-After": "0"}), Reply(503, {"detail": "busy"})]
    with stub(replies) as server, Client(server.url, "sk-stub", backoff=0.01) as client:
        result = client.run_flow("any", "hi")
    assert result.output == "stub answer" and result.session_id == "stub-session"
    assert [method for method, _, _ in server.requests] == ["POST"] * 3


def test_retry_after_is_honoured(stub):
    with stub([Reply(429, {"detail": "Too many requests."}, {"Retry-After": "0.4"})]) as server, Client(server.url, "sk-stub") as client:
        client.run_flow("any", "hi")
    (_, _, first), (_, _, second) = server.requests
    assert second - first >= 0.38


async def test_async_retries_and_gives_up_with_a_typed_error(stub):
    with stub([Reply(503, {"detail": "busy"})] * 2) as server:
        async with AsyncClient(server.url, "sk-stub", backoff=0.01) as client:
            assert (await client.run_flow("any", "hi")).output == "stub answer"
    with stub([], default=Reply(429, {"detail": "Too many requests."}, {"Retry-After": "0"})) as server:
        async with AsyncClient(server.url, "sk-stub", retries=2) as client:
            with pytest.raises(RateLimitError) as limited:
                await client.run_flow("any", "hi")
    assert limited.value.status == 429 and limited.value.retry_after == 0 and len(server.requests) == 3


def test_no_retry_on_500_and_a_server_error(stub):
    body = {"detail": '{"message": "Error running graph: boom", "traceback": null}'}
    with stub([], default=Reply(500, body)) as server, Client(server.url, "sk-stub", backoff=0.01) as client:
        with pytest.raises(ServerError) as failed:
            client.run_flow("any", "hi")
    assert failed.value.status == 500 and str(failed.value) == "500 Error running graph: boom"
    assert len(server.requests) == 1


def test_an_answer_that_is_not_the_api_is_a_flowless_error(stub):
    with stub([], default=Reply(200, "<html>a proxy page</html>")) as server, Client(server.url, "sk-stub") as client:
        with pytest.raises(FlowlessError) as odd:
            client.run_flow("any", "hi")
    assert odd.value.status == 200 and "unexpected answer" in str(odd.value)


def test_path_segments_are_quoted(stub):
    with stub([], default=Reply(204)) as server, Client(server.url, "sk-stub") as client:
        client.delete_session("user:42/a b")
    assert server.requests[0][1] == "/api/v1/monitor/messages/session/user%3A42%2Fa%20b"


def test_an_unreachable_server_is_a_connection_error(stub):
    with stub([]) as server:
        url = server.url
    with Client(url, "sk-stub", retries=1, backoff=0.01) as client, pytest.raises(ConnectionError) as down:
        client.list_flows()
    assert down.value.status is None and url in str(down.value)


def test_import_flowless_stays_cheap():
    code = "import sys, flowless; assert 'httpx' not in sys.modules; flowless.Client; assert 'httpx' in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)


# ----------------------------------------------------------------------------- flows, keys, files, builds


def test_flows_helpers(local_server, client):
    if not has_route(local_server, "/api/v1/flows/"):
        pytest.skip("the /api/v1/flows routes are not served by this build")
    flow = agent_chat_flow(f"Client Flow {uuid.uuid4().hex[:6]}")
    pushed = client.push_flow(flow)
    assert [f["id"] for f in pushed] == [flow["id"]]
    assert any(f["id"] == flow["id"] for f in client.list_flows())
    assert client.get_flow(flow["id"])["name"] == flow["name"]
    assert client.update_flow(flow["id"], description="changed")["description"] == "changed"
    export = client.download_flow(flow["id"])
    assert export["id"] == flow["id"] and "user_id" not in export
    copy = {k: v for k, v in export.items() if k not in ("id", "endpoint_name")}
    created = client.create_flow(copy)  # the same name again: Langflow suffixes it
    assert created["id"] != flow["id"] and created["name"].startswith(flow["name"])
    for flow_id in (flow["id"], created["id"]):
        client.delete_flow(flow_id)
    with pytest.raises(NotFoundError):
        client.get_flow(flow["id"])


def test_push_flow_from_a_file_replaces_by_id(local_server, client, tmp_path: Path):
    if not has_route(local_server, "/api/v1/flows/upload/"):
        pytest.skip("the /api/v1/flows/upload/ route is not served by this build")
    export = client.download_flow(ECHO_FLOW_ID)
    path = tmp_path / "echo.json"
    path.write_text(__import__("json").dumps(export))
    assert [f["id"] for f in client.push_flow(path)] == [ECHO_FLOW_ID]
    assert client.run_flow("echo-prompt", "still").output == ECHO_TEXT.format("still")


def test_api_key_helpers(local_server, client):
    if not has_route(local_server, "/api/v1/api_key/"):
        pytest.skip("the /api/v1/api_key routes are not served by this build")
    created = client.create_api_key("client-test", scopes=["execute"])
    assert created["api_key"].startswith("sk-") and created["scopes"] == ["execute"]
    listed = {k["id"]: k for k in client.list_api_keys()}
    assert "*" in listed[created["id"]]["api_key"]
    with Client(local_server["base"], created["api_key"]) as runner:
        assert runner.run_flow("echo-prompt", "scoped").output
        with pytest.raises(AuthError) as lacking:
            runner.list_api_keys()  # admin only
        assert lacking.value.status == 403
        client.delete_api_key(created["id"])
        with pytest.raises(AuthError):
            runner.run_flow("echo-prompt", "revoked")
    with pytest.raises(NotFoundError):
        client.delete_api_key(created["id"])


def test_upload_file(local_server, client, tmp_path: Path):
    if not has_route(local_server, "/api/v1/files/upload/{flow_id}"):
        pytest.skip("POST /api/v1/files/upload/{flow_id} is not served by this build yet")
    path = tmp_path / "notes.txt"
    path.write_text("some notes")
    uploaded = client.upload_file(ECHO_FLOW_ID, path)
    assert uploaded["flowId"] == ECHO_FLOW_ID and uploaded["file_path"].startswith(f"{ECHO_FLOW_ID}/") and uploaded["file_path"].endswith("notes.txt")


def test_build_job_helpers(local_server, client):
    if not has_route(local_server, "/api/v1/build/{flow_id}/flow"):
        pytest.skip("the /api/v1/build routes are not served by this build yet")
    job_id = client.build_flow(ECHO_FLOW_ID, "built")
    events = list(client.build_events(job_id))
    names = [e["event"] for e in events]
    assert names[0] == "vertices_sorted" and names[-1] == "end"
    assert any(e["event"] == "add_message" and e["data"].get("text") == ECHO_TEXT.format("built") for e in events)
