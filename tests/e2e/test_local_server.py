"""End to end: `flowless run` as a user starts it, called over real HTTP — including the
Python script of Langflow 1.13's API pane, run unchanged but for what the pane fills in."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.e2e.conftest import REPO
from tests.support.starters import api_pane_python_script

def test_welcome_line_prints_url_key_and_a_working_curl(local_server):
    text = local_server["log"].read_text()
    assert f"Welcome to Flowless" in text and local_server["base"] in text
    assert local_server["key"] in text
    curl = text[text.index("curl "):].split("\n\n")[0]
    command = re.sub(r"\\\n\s*", " ", curl)
    result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["outputs"][0]["outputs"][0]["results"]["message"]["text"].startswith("You said: Hello, Flowless")


def test_sync_run_over_http(local_server):
    response = requests.post(
        f"{local_server['base']}/api/v1/run/basic-chat",
        json={"input_value": "hello over http", "output_type": "chat", "input_type": "chat"},
        headers={"x-api-key": local_server["key"]},
        timeout=30,
    )
    assert response.status_code == 200
    assert response.json()["outputs"][0]["outputs"][0]["results"]["message"]["text"] == "Echo: hello over http"


def test_stream_tokens_arrive_before_the_end(local_server, model_server):
    model_server.chunk_delay_s = 0.05  # the model trickles its answer
    try:
        started = time.monotonic()
        arrivals: list[tuple[str, float]] = []
        with requests.post(
            f"{local_server['base']}/api/v1/run/basic-chat?stream=true",
            json={"input_value": "one two three four five six"},
            headers={"x-api-key": local_server["key"]},
            stream=True,
            timeout=30,
        ) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            buffer = ""
            for chunk in response.iter_content(chunk_size=None, decode_unicode=True):
                buffer += chunk
                while "\n\n" in buffer:
                    frame, buffer = buffer.split("\n\n", 1)
                    if frame.strip():
                        arrivals.append((json.loads(frame)["event"], time.monotonic() - started))
    finally:
        model_server.chunk_delay_s = 0.002
    tokens = [t for name, t in arrivals if name == "token"]
    end = next(t for name, t in arrivals if name == "end")
    assert len(tokens) >= 5
    # Tokens were delivered as they came, not buffered until the end.
    assert tokens[0] < end - 0.15


def test_a_session_used_twice_remembers(local_server, model_server):
    from tests.support.flows import agent_chat_flow

    flow = agent_chat_flow("E2E Agent")
    headers = {"x-api-key": local_server["key"]}
    # The flow is pushed the way a user's own tooling would: straight into the running server's store.
    _push_flow(local_server, flow)
    for text in ("My name is Bob", "What is my name?"):
        response = requests.post(f"{local_server['base']}/api/v1/run/e2e-agent", json={"input_value": text, "session_id": "e2e"}, headers=headers, timeout=30)
        assert response.status_code == 200, response.text
    history = [m["content"] for m in model_server.requests[-1].body["messages"] if m["role"] != "system"]
    assert history == ["My name is Bob", "Echo: My name is Bob", "What is my name?"]


def _push_flow(local_server, flow):
    """Write the flow into the server's DynamoDB (its endpoint is printed in the welcome line)."""
    import os

    endpoint = re.search(r"DynamoDB:\s+(\S+)", local_server["log"].read_text()).group(1)
    code = (
        "import json, sys\n"
        "from flowless.store.connection import configure\n"
        "from flowless.local.server import DEV_TENANT\n"
        "from flowless.store.flows import FlowRepository\n"
        "flow = json.loads(sys.stdin.read())\n"
        "configure()\n"
        "FlowRepository(DEV_TENANT).upsert(flow['id'], name=flow['name'], data=flow['data'], endpoint_name=flow['endpoint_name'])\n"
    )
    env = {**os.environ, "AWS_ENDPOINT_URL_DYNAMODB": endpoint, "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": "us-east-1"}
    subprocess.run([sys.executable, "-c", code], input=json.dumps(flow), text=True, env=env, check=True, timeout=60)


def _run_api_pane_script(tmp_path: Path, url: str, key: str, payload: dict) -> dict:
    path = tmp_path / "api-pane.py"
    path.write_text(api_pane_python_script(url, payload, key), encoding="utf-8")
    result = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_langflow_api_pane_script_runs_unchanged(local_server, tmp_path: Path):
    """Langflow 1.13's API pane script (from the pinned wheel's frontend), filled in as the pane
    fills it: only the URL, the key and the payload differ."""
    payload = {"output_type": "chat", "input_type": "chat", "input_value": "tell me about something interesting"}
    body = _run_api_pane_script(tmp_path, f"{local_server['base']}/api/v1/run/echo-prompt", local_server["key"], payload)
    assert body["outputs"][0]["outputs"][0]["results"]["message"]["text"].startswith("You said: tell me about something interesting")
    assert body["session_id"] != "echo-prompt"  # the script sends a fresh uuid4 session
    # Its tweaks reach the flow too, also under the /lf/<langflow id>/ prefix of a hosted base URL.
    tweaked = {**payload, "input_value": "hi", "tweaks": {"Prompt-ech02": {"template": "Tweaked: {question}"}}}
    body = _run_api_pane_script(tmp_path, f"{local_server['base']}/lf/local/api/v1/run/echo-prompt", local_server["key"], tweaked)
    assert body["outputs"][0]["outputs"][0]["results"]["message"]["text"] == "Tweaked: hi"


def test_a_busy_port_fails_first_with_a_clear_message(tmp_path):
    """A second `make run` must not print a fresh key and a working-looking curl before failing."""
    import os
    import socket

    from tests.e2e.conftest import free_port

    port = free_port()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", port))
        busy.listen()
        env = {**os.environ, "FLOWLESS_LOCAL_KEY_FILE": str(tmp_path / "local.key")}
        env.pop("FLOWLESS_API_KEY", None)
        started = time.monotonic()
        result = subprocess.run([sys.executable, "-m", "flowless", "run", "--backend-only", "--port", str(port), "--flows", str(REPO / "flows")],
                                cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert f"127.0.0.1:{port}" in output and "--port" in output and "in use" in output.lower()
    assert "API key" not in output and "curl" not in output and "Traceback" not in output
    assert time.monotonic() - started < 20  # nothing (embedded DynamoDB, tables) was prepared first


def test_the_readme_keys_create_example_works_against_the_running_server(tmp_path):
    """The README's `flowless keys create --tenant ... --dynamodb-endpoint http://127.0.0.1:8000`, as a
    user runs it beside `make run`: no AWS credentials in the environment, the embedded DynamoDB
    on the README's port (here a free one, the machine's 8000 may be taken), and the key works."""
    import os
    import shlex

    from tests.e2e.conftest import free_port

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    line = next(l for l in readme.splitlines() if "keys create --tenant" in l and "--dynamodb-endpoint http://127.0.0.1:8000" in l)
    ddb_port, api_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "FLOWLESS_"))}
    env |= {"FLOWLESS_DYNAMODB_PORT": str(ddb_port), "FLOWLESS_LOCAL_KEY_FILE": str(tmp_path / "local.key"), "HOME": str(tmp_path)}
    server = subprocess.Popen([sys.executable, "-m", "flowless", "run", "--backend-only", "--port", str(api_port), "--flows", str(REPO / "flows")],
                              cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{api_port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{base}/health", timeout=1).ok:
                    break
            except requests.ConnectionError:
                assert time.monotonic() < deadline and server.poll() is None, "server did not start"
                time.sleep(0.2)
        argv = shlex.split(line.split("#")[0].replace(":8000", f":{ddb_port}"))
        assert argv[0] == ".venv/bin/flowless"
        created = subprocess.run([sys.executable, "-m", "flowless", *argv[1:]], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
        assert created.returncode == 0, created.stderr
        key = created.stdout.strip()
        assert key.startswith("sk-") and "tenant=acme" in created.stderr
        # The server knows the key: tenant acme (no flows there), scope execute only.
        ran = requests.post(f"{base}/api/v1/run/echo-prompt", json={"input_value": "x"}, headers={"x-api-key": key}, timeout=10)
        assert ran.status_code == 404 and ran.json() == {"detail": "Flow identifier echo-prompt not found"}
        listed = requests.get(f"{base}/api/v1/flows/", headers={"x-api-key": key}, timeout=10)
        assert listed.status_code == 403 and "'read' scope" in listed.json()["detail"]
    finally:
        server.terminate()
        output = server.communicate(timeout=10)[0]
    assert f"DynamoDB:  http://127.0.0.1:{ddb_port}" in output
