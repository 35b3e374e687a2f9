"""The `flowless` command against the local server subprocess: exit codes, output, and the code
it generates (snippets, export-python) executed for real."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from flowless.cli import build_parser, main
from flowless.client import Client
from tests.client.conftest import DEV_KEY, ECHO_FLOW_ID, has_route
from tests.e2e.conftest import REPO
from tests.support.flows import agent_chat_flow

ECHO_TEXT = "You said: {}\nFlowless answered without a model."


def cli(local_server: dict[str, Any], *args: str, stdin: str | None = None, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "FLOWLESS_URL": local_server["base"], "FLOWLESS_API_KEY": DEV_KEY, **env}
    return subprocess.run([sys.executable, "-m", "flowless", *args], input=stdin, capture_output=True, text=True, timeout=60, env=environment, cwd=cwd)


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("flowless: error: "), result.stderr
    return lines[0]


# ----------------------------------------------------------------------------- help and exit codes


def test_every_command_has_help(capsys):
    commands = [["run"], ["keys", "create"], ["keys", "ls"], ["keys", "revoke"], ["flows", "push"], ["flows", "pull"], ["flows", "ls"],
                ["flows", "rm"], ["chat"], ["snippet"], ["export-python"]]
    for command in commands:
        with pytest.raises(SystemExit) as done:
            main([*command, "--help"])
        assert done.value.code == 0
        assert "usage: flowless " + " ".join(command) in capsys.readouterr().out
    for action in build_parser()._subparsers._group_actions[0].choices.values():  # noqa: SLF001 - every subcommand
        assert action.description or action.format_help()


def test_usage_errors_exit_2(local_server):
    assert cli(local_server, "flows").returncode == 2
    assert cli(local_server, "snippet", "echo-prompt", "--lang", "rust").returncode == 2
    assert cli(local_server, "keys", "create", "--name", "x", "--dynamodb-endpoint", "http://127.0.0.1:1").returncode == 2


def test_runtime_failures_exit_1_with_one_line(local_server):
    wrong_key = cli(local_server, "flows", "ls", "--api-key", "sk-wrong-key-0000000000000000000000000000000")
    assert wrong_key.returncode == 1 and one_line_error(wrong_key) == "flowless: error: 403 Invalid or missing API key"
    unreachable = cli(local_server, "flows", "ls", "--url", "http://127.0.0.1:9")
    assert unreachable.returncode == 1 and "cannot reach http://127.0.0.1:9" in one_line_error(unreachable)
    unknown = cli(local_server, "flows", "rm", "no-such-flow")
    assert unknown.returncode == 1 and "no flow 'no-such-flow'" in one_line_error(unknown)


# ----------------------------------------------------------------------------- flows and keys


def test_flows_push_pull_ls_rm(local_server, tmp_path: Path):
    if not has_route(local_server, "/api/v1/flows/upload/"):
        pytest.skip("the /api/v1/flows routes are not served by this build")
    tag = uuid.uuid4().hex[:6]
    folder = tmp_path / "exports"
    folder.mkdir()
    flows = [agent_chat_flow(f"CLI One {tag}"), agent_chat_flow(f"CLI Two {tag}")]
    for flow in flows:
        (folder / f"{flow['endpoint_name']}.json").write_text(json.dumps(flow))
    pushed = cli(local_server, "flows", "push", str(folder))
    assert pushed.returncode == 0, pushed.stderr
    assert [line.split("\t")[0] for line in pushed.stdout.splitlines()] == [f["id"] for f in flows]
    assert "[2/2]" in pushed.stderr  # the progress bar (plain lines when not a terminal)

    listed = cli(local_server, "flows", "ls")
    assert listed.returncode == 0 and listed.stdout.startswith("ID")
    assert all(f["endpoint_name"] in listed.stdout for f in flows)
    as_json = json.loads(cli(local_server, "flows", "ls", "--json").stdout)
    assert {f["id"] for f in flows} <= {f["id"] for f in as_json}

    pulled = cli(local_server, "flows", "pull", flows[0]["endpoint_name"], "-o", str(tmp_path / "pulled"))
    assert pulled.returncode == 0, pulled.stderr
    export = json.loads(Path(pulled.stdout.strip()).read_text())
    assert export["id"] == flows[0]["id"] and export["data"]["nodes"]

    removed = cli(local_server, "flows", "rm", flows[0]["endpoint_name"], flows[1]["id"])
    assert removed.returncode == 0 and removed.stdout.count("deleted") == 2
    assert all(f["endpoint_name"] not in cli(local_server, "flows", "ls").stdout for f in flows)


def test_flows_push_reports_bad_files_and_exits_1(local_server, tmp_path: Path):
    if not has_route(local_server, "/api/v1/flows/upload/"):
        pytest.skip("the /api/v1/flows routes are not served by this build")
    good = agent_chat_flow(f"CLI Good {uuid.uuid4().hex[:6]}")
    (tmp_path / "a-good.json").write_text(json.dumps(good))
    (tmp_path / "b-bad.json").write_text("{not json")
    result = cli(local_server, "flows", "push", str(tmp_path))
    assert result.returncode == 1
    assert result.stdout.startswith(good["id"])  # the good one was still pushed
    assert "failed" in result.stderr and "b-bad.json" in result.stderr
    assert result.stderr.strip().splitlines()[-1] == "flowless: error: 1 of 2 files could not be pushed"
    Client(local_server["base"], DEV_KEY).delete_flow(good["id"])


def test_keys_create_ls_revoke_through_the_api(local_server):
    if not has_route(local_server, "/api/v1/api_key/"):
        pytest.skip("the /api/v1/api_key routes are not served by this build")
    created = cli(local_server, "keys", "create", "--name", "cli-key", "--scope", "execute")
    assert created.returncode == 0, created.stderr
    plaintext = created.stdout.strip()
    key_id = re.search(r"id=(\S+)", created.stderr).group(1)
    assert plaintext.startswith("sk-") and "scopes=execute" in created.stderr
    listed = cli(local_server, "keys", "ls")
    assert key_id in listed.stdout and plaintext not in listed.stdout and plaintext[:8] in listed.stdout
    assert cli(local_server, "keys", "revoke", key_id).returncode == 0
    again = cli(local_server, "keys", "revoke", key_id)
    assert again.returncode == 1 and one_line_error(again) == "flowless: error: 404 API Key not found"


# ----------------------------------------------------------------------------- chat


def test_chat_streams_answers_in_one_session(local_server):
    session = f"cli-chat-{uuid.uuid4().hex[:6]}"
    result = cli(local_server, "chat", "basic-chat", "--session", session, stdin="hello there\n\nwhat did I say?\n/exit\nnever sent\n")
    assert result.returncode == 0, result.stderr
    # Each answer printed once: the streamed tokens, not repeated by the final message.
    assert result.stdout == "Echo: hello there\nEcho: what did I say?\n"
    assert f"session {session}" in result.stderr
    stored = Client(local_server["base"], DEV_KEY).messages(session_id=session)
    assert [m["text"] for m in stored] == ["hello there", "Echo: hello there", "what did I say?", "Echo: what did I say?"]


def test_chat_prints_unstreamed_answers_and_ends_at_end_of_input(local_server):
    result = cli(local_server, "chat", "echo-prompt", stdin="one\ntwo\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ECHO_TEXT.format("one") + "\n" + ECHO_TEXT.format("two") + "\n"


def test_chat_with_a_wrong_flow_exits_1(local_server):
    result = cli(local_server, "chat", "no-such-flow", stdin="hi\n")
    assert result.returncode == 1
    # The server refuses before streaming, so the chat stops at once rather than per turn.
    assert result.stderr.strip().splitlines()[-1] == "flowless: error: 404 Flow identifier no-such-flow not found"


# ----------------------------------------------------------------------------- snippets and export


def test_curl_snippet_runs_and_names_every_node(local_server, tmp_path: Path):
    snippet = cli(local_server, "snippet", "echo-prompt", "--lang", "curl")
    assert snippet.returncode == 0, snippet.stderr
    assert all(f'"{node}": {{}}' in snippet.stdout for node in ("ChatInput-ech01", "Prompt-ech02", "ChatOutput-ech03"))
    assert DEV_KEY not in snippet.stdout  # the key comes from the environment
    ran = subprocess.run(["bash", "-c", snippet.stdout], capture_output=True, text=True, timeout=30, env={**os.environ, "FLOWLESS_API_KEY": DEV_KEY})
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["outputs"][0]["outputs"][0]["results"]["message"]["text"] == ECHO_TEXT.format("message")


def test_hosted_form_curl_snippet_from_a_local_file(local_server):
    snippet = cli(local_server, "snippet", str(REPO / "flows" / "echo-prompt.json"), "--lang", "curl", "--langflow-id", "local")
    assert "/lf/local/api/v1/run/echo-prompt" in snippet.stdout and "Authorization: Bearer $FLOWLESS_API_KEY" in snippet.stdout
    ran = subprocess.run(["bash", "-c", snippet.stdout], capture_output=True, text=True, timeout=30, env={**os.environ, "FLOWLESS_API_KEY": DEV_KEY})
    assert json.loads(ran.stdout)["session_id"] == ECHO_FLOW_ID


def test_python_snippet_runs_with_its_tweaks_flag(local_server, tmp_path: Path):
    script = tmp_path / "run_flow.py"
    script.write_text(cli(local_server, "snippet", "echo-prompt", "--lang", "python").stdout)
    env = {**os.environ, "FLOWLESS_API_KEY": DEV_KEY}
    ran = subprocess.run([sys.executable, str(script), "from python", "--tweaks", json.dumps({"Prompt-ech02": {"template": "Py: {question}"}})],
                         capture_output=True, text=True, timeout=30, env=env)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["outputs"][0]["outputs"][0]["results"]["message"]["text"] == "Py: from python"


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_js_snippet_runs_with_node(local_server, tmp_path: Path):
    script = tmp_path / "run_flow.mjs"
    script.write_text(cli(local_server, "snippet", ECHO_FLOW_ID, "--lang", "js").stdout)
    ran = subprocess.run(["node", str(script), "from js"], capture_output=True, text=True, timeout=30, env={**os.environ, "FLOWLESS_API_KEY": DEV_KEY})
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == ECHO_TEXT.format("from js") + "\n"


def test_export_python_of_a_server_flow_runs_standalone(local_server, tmp_path: Path):
    result = cli(local_server, "export-python", "echo-prompt", "-o", str(tmp_path / "echo.py"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "echo-prompt.json").is_file()  # the export, saved beside the script
    script = (tmp_path / "echo.py").read_text()
    assert "from flowless_engine import run_flow_from_json" in script and '"Prompt-ech02": {}' in script
    # Standalone: no server address, no key; run from another directory.
    ran = subprocess.run([sys.executable, str(tmp_path / "echo.py"), "offline"], capture_output=True, text=True, timeout=60, cwd=REPO.parent,
                         env={k: v for k, v in os.environ.items() if not k.startswith("FLOWLESS")})
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == ECHO_TEXT.format("offline") + "\n"


def test_export_python_of_a_local_file_to_stdout(local_server, tmp_path: Path):
    shutil.copy(REPO / "flows" / "echo-prompt.json", tmp_path / "mine.json")
    result = cli(local_server, "export-python", "mine.json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (tmp_path / "mine.py").write_text(result.stdout)
    ran = subprocess.run([sys.executable, "mine.py", "x", "--tweaks", json.dumps({"Prompt-ech02": {"template": "T: {question}"}})],
                         capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert ran.stdout == "T: x\n", ran.stderr


def test_export_python_of_a_local_file_with_a_bom(local_server, tmp_path: Path):
    (tmp_path / "bom.json").write_bytes(b"\xef\xbb\xbf" + (REPO / "flows" / "echo-prompt.json").read_bytes())
    result = cli(local_server, "export-python", "bom.json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (tmp_path / "bom.py").write_text(result.stdout)
    ran = subprocess.run([sys.executable, "bom.py", "with a bom"], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert ran.stdout == ECHO_TEXT.format("with a bom") + "\n", ran.stderr


def test_export_python_script_reaches_a_model_on_loopback_without_settings(local_server, tmp_path: Path):
    """A local Ollama/vLLM is the common case: the user's own script needs no FLOWLESS_ALLOW_* setting."""
    from tests.support.model_server import ModelServer

    shutil.copy(REPO / "flows" / "basic-chat.json", tmp_path / "chat.json")
    result = cli(local_server, "export-python", "chat.json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (tmp_path / "chat.py").write_text(result.stdout)
    with ModelServer() as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWLESS")}
        env.update(OPENAI_BASE_URL=server.base_url, OPENAI_API_KEY="local")
        ran = subprocess.run([sys.executable, "chat.py", "hello local model"], capture_output=True, text=True, timeout=60, cwd=tmp_path, env=env)
        assert ran.returncode == 0, ran.stderr
        assert ran.stdout.strip().endswith("hello local model")
        assert len(server.requests) == 1


# ----------------------------------------------------------------------------- components (custom code)


def test_components_approve_shows_the_code_then_approves_its_hash(local_server, tmp_path):
    from tests.support.custom_code import component_code, custom_flow, sha256

    code = component_code("        return Message(text='approved: ' + self.input_value)")
    exported = custom_flow(code, flow_id=str(uuid.uuid4()), name=f"cli-code-{uuid.uuid4().hex[:6]}")
    path = tmp_path / "custom.json"
    path.write_text(json.dumps(exported), encoding="utf-8")
    client = Client(local_server["base"], DEV_KEY)
    flow_id = client.create_flow(exported)["id"]
    with pytest.raises(Exception, match="has not been approved"):
        client.run_flow(flow_id, "hi")

    unconfirmed = cli(local_server, "components", "approve", str(path), stdin="")
    assert unconfirmed.returncode == 1 and "--yes" in unconfirmed.stderr
    assert sha256(code) in unconfirmed.stdout and "return Message(text='approved: '" in unconfirmed.stdout and "NOT APPROVED" in unconfirmed.stdout
    approved = cli(local_server, "components", "approve", str(path), "--yes")
    assert approved.returncode == 0, approved.stderr
    assert f"approved {sha256(code)} by api_key:" in approved.stdout
    assert sha256(code) in cli(local_server, "components", "ls").stdout
    answer = client.run_flow(flow_id, "hi")
    assert answer.output == "approved: hi"

    assert cli(local_server, "components", "revoke", sha256(code)).returncode == 0
    with pytest.raises(Exception, match="has not been approved"):
        client.run_flow(flow_id, "hi")
