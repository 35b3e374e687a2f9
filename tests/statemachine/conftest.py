"""The BuildJob state machine executed by moto's own ASL interpreter.

moto 5.2.5 runs an execution (`execute_state_machine: True`) in a thread; a Task state with
`arn:aws:states:::lambda:invoke` calls `lambda.invoke` through a boto3 client, which lands in
moto's Lambda backend. Without docker (`"lambda": {"use_docker": False}`) that backend is
`LambdaSimpleBackend`, whose `invoke` only echoes the payload (or replays a queue of canned
answers): it cannot run Python. So `LambdaSimpleBackend.invoke` is replaced here by a dispatcher
that calls the worker function's real handler (functions/build_worker/app.py) with the payload,
and, when the handler raises, answers as Lambda does for an unhandled error: the
`X-Amz-Function-Error: Unhandled` header and `{"errorType", "errorMessage"}`. moto's interpreter
then raises the Lambda error with `errorType` as the error name, so Retry/Catch on
`TransientError` and `States.ALL` behave as in AWS.

The definition is statemachine/build_job.asl.json, the file template.yaml's DefinitionUri names,
with `${BuildWorkerFunctionArn}` substituted as DefinitionSubstitutions would. DynamoDB is the
session's moto server (the `ddb` fixture); moto's state is per process, so the mock is started
without a reset to keep the tables.
"""

from __future__ import annotations

import importlib.util
import io
import json
import sys
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import api_env, model_server  # noqa: F401  (the API tests' tenants, keys and flows)

REPO = Path(__file__).resolve().parents[2]
DEFINITION = REPO / "statemachine" / "build_job.asl.json"
WORKER_APP = REPO / "functions" / "build_worker" / "app.py"
FUNCTION_NAME = "flowless-build-worker"
MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}


def worker_handler() -> Callable[[dict[str, Any], Any], Any]:
    """The deployed composition root's `handler` (imported by path, as Lambda would)."""
    name = "_build_worker_app"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, WORKER_APP)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name].handler


class LambdaContext:
    function_name = FUNCTION_NAME
    function_version = "$LATEST"
    memory_limit_in_mb = 1024
    invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{FUNCTION_NAME}"
    aws_request_id = "00000000-0000-0000-0000-000000000000"
    log_group_name = f"/aws/lambda/{FUNCTION_NAME}"
    log_stream_name = "test"

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


@dataclass
class Machine:
    """The deployed shape in moto: the worker function, the state machine, and what was invoked."""

    arn: str
    function_arn: str
    client: Any
    invocations: list[dict[str, Any]] = field(default_factory=list)
    # Hooks by action: called with the event before the handler; may raise or block.
    before: dict[str, Callable[[dict[str, Any]], None]] = field(default_factory=dict)

    def start(self, tenant: str, job_id: str) -> str:
        return self.client.start_execution(stateMachineArn=self.arn, name=job_id, input=json.dumps({"tenant": tenant, "job_id": job_id}))["executionArn"]

    def wait(self, execution_arn: str, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            described = self.client.describe_execution(executionArn=execution_arn)
            if described["status"] != "RUNNING":
                return described
            time.sleep(0.05)
        raise AssertionError(f"execution still running after {timeout}s")

    def actions(self) -> list[str]:
        return [e["action"] + (f"#{e['layer']}" if "layer" in e and e["action"] == "run_layer" else "") for e in self.invocations]

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        return self.client.get_execution_history(executionArn=execution_arn)["events"]


@pytest.fixture
def machine(ddb: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Machine]:
    import boto3
    from moto import mock_aws
    from moto.awslambda_simple.models import LambdaSimpleBackend

    mock = mock_aws(config=MOTO_CONFIG)
    mock.start(reset=False)  # keep the DynamoDB tables the ddb fixture made on the shared moto state
    try:
        iam = boto3.client("iam", region_name="us-east-1")
        role = iam.create_role(RoleName="build-job", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))["Role"]["Arn"]
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("app.py", "handler = None\n")
        function_arn = boto3.client("lambda", region_name="us-east-1").create_function(
            FunctionName=FUNCTION_NAME, Runtime="python3.12", Role=role, Handler="app.handler", Code={"ZipFile": code.getvalue()}
        )["FunctionArn"]
        definition = DEFINITION.read_text().replace("${BuildWorkerFunctionArn}", function_arn)
        client = boto3.client("stepfunctions", region_name="us-east-1")
        arn = client.create_state_machine(name="flowless-build-job", definition=definition, roleArn=role)["stateMachineArn"]
        machine = Machine(arn=arn, function_arn=function_arn, client=client)
        handler = worker_handler()
        lock = threading.Lock()

        def invoke(self: Any, function_name: str, qualifier: str | None, body: Any, headers: Any, response_headers: dict[str, str]) -> bytes:
            self.get_function(function_name, qualifier)  # an unknown function fails as in moto
            event = json.loads(body)
            with lock:
                machine.invocations.append(event)
            try:
                hook = machine.before.get(event.get("action", ""))
                if hook is not None:
                    hook(event)
                result = handler(event, LambdaContext())
            except Exception as exc:  # Lambda's answer for an unhandled error
                response_headers["x-amz-function-error"] = "Unhandled"
                return json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc), "stackTrace": []}).encode()
            return json.dumps(result).encode()

        monkeypatch.setattr(LambdaSimpleBackend, "invoke", invoke)
        yield machine
    finally:
        mock.stop()
