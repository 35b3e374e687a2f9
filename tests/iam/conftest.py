"""The stack 'deployed' in-process for the least-privilege tour: every resource of template.yaml
created in moto under the name the stack gives it (tables flowless-dev-*, the files and jobs
buckets, the S3 Vectors bucket, the webhook queue, the BuildJob state machine with the worker
function, the functions that invoke themselves), a KMS key for the secrets, and every function's
environment as template.yaml sets it (resolved with tests/support/iam/stack.py). Requests go
through `Gateway` (API Gateway's routing, the functions' own handlers).

Lambda in moto cannot run Python: `LambdaSimpleBackend.invoke` is replaced by a dispatcher that
runs the worker's handler for the state machine's synchronous invocations and queues the
asynchronous ones (InvocationType Event: the webhook and knowledge functions' own background
runs) in `Deployed.pending`, run by `Deployed.run_pending()` as Lambda would run them after the
request.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import io
import json
import os
import threading
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import model_server  # noqa: F401  (session fixture)
from tests.support.iam.gateway import Gateway, function_handler
from tests.support.iam.stack import Stack, default_stack
from tests.support.lambda_context import FakeLambdaContext

REPO = Path(__file__).resolve().parents[2]
TENANT = "acme"
MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
# Functions that invoke themselves asynchronously (created in moto's Lambda to be invocable).
SELF_INVOKING = ("WebhookFunction", "KnowledgeFunction")
# Functions the run functions invoke to run approved custom code (each vertex in a subprocess here).
SANDBOXES = ("CustomCodeFunction",)
OVERRIDES = {
    "FLOWLESS_EVENTS_LONG_POLL_SECONDS": "1",  # the template's 25 s long poll, shortened for the tests
    "FLOWLESS_WEBHOOK_BACKOFF_S": "1",
    "FLOWLESS_ALLOW_LOOPBACK": "true",  # the receiver and the model server listen on 127.0.0.1
    "FLOWLESS_WEBHOOK_CACHE_SECONDS": "0",
    "FLOWLESS_READ_CACHE_SECONDS": "0",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "Flowless",
}


def stack_environment(stack: Stack) -> dict[str, str]:
    """Globals' variables, then every function's own (the union: each is read only by its function)."""
    env: dict[str, str] = {}
    sources = [((stack.template.get("Globals") or {}).get("Function") or {}).get("Environment")]
    sources += [(stack.resources[f].get("Properties") or {}).get("Environment") for f in stack.functions]
    for source in sources:
        for name, value in ((source or {}).get("Variables") or {}).items():
            resolved = stack.resolver.resolve(value)
            if name not in env and isinstance(resolved, (str, int, float)):
                env[name] = str(resolved)
    env.pop("AWS_LAMBDA_EXEC_WRAPPER", None)
    return env


@dataclass
class Deployed:
    stack: Stack
    gateway: Gateway
    key: str
    other_key: str
    queue_url: str
    kms_key_id: str
    server: Any
    pending: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Cleared: the state machine's next run_layer step waits (setting `held`) until it is set again.
    hold: threading.Event = field(default_factory=threading.Event)
    held: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.hold.set()

    def run_pending(self) -> list[Any]:
        """The asynchronous invocations queued so far, run as Lambda would (each its own invocation)."""
        results = []
        while True:
            with self.lock:
                if not self.pending:
                    return results
                function, event = self.pending.pop(0)
            results.append(self.gateway.invoke(function, event))

    def queued_messages(self) -> list[dict[str, Any]]:
        """Receive what the runs enqueued, as the SQS event source mapping would (not a function's call)."""
        import boto3

        sqs = boto3.client("sqs", region_name="us-east-1")
        found: list[dict[str, Any]] = []
        while True:
            batch = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                        MessageSystemAttributeNames=["ApproximateReceiveCount"]).get("Messages", [])
            if not batch:
                return found
            found += batch

    def sqs_event(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        arn = self.stack.arn("WebhookQueue")
        return {"Records": [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                             "attributes": {"ApproximateReceiveCount": (m.get("Attributes") or {}).get("ApproximateReceiveCount", "1")},
                             "messageAttributes": {}, "md5OfBody": m["MD5OfBody"], "eventSource": "aws:sqs",
                             "eventSourceARN": arn, "awsRegion": "us-east-1"} for m in messages]}


def _clear_caches() -> None:
    from flowless import runs
    from flowless.auth.keys import clear_auth_cache
    from flowless.settings import reset_settings_cache
    from flowless.store import blobs, files
    from flowless.store.read_cache import clear_read_caches
    from flowless.vectors import s3vectors
    from flowless.webhooks import outbound

    reset_settings_cache()
    clear_auth_cache()
    clear_read_caches()
    runs.engine_settings.cache_clear()
    runs.graph_cache().clear()
    for cached in (blobs._client, files._client, s3vectors._client, outbound._sqs_queue):
        cached.cache_clear()
    s3vectors.S3VectorsStore._created.clear()
    outbound._subscribed.clear()
    cold_container()


def cold_container() -> None:
    """What a function's own warm container would not have cached (each function is its own process
    in AWS; here they share one): data keys, read caches, subscriptions."""
    from flowless.auth.keys import clear_auth_cache
    from flowless.store import crypto
    from flowless.store.read_cache import clear_read_caches
    from flowless.webhooks import outbound

    clear_auth_cache()
    crypto._encryptors.clear()
    clear_read_caches()
    outbound._subscribed.clear()


@pytest.fixture(scope="module")
def deployed(moto_endpoint: str, model_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:  # noqa: F811
    import boto3
    from moto import mock_aws
    from moto.awslambda_simple.models import LambdaSimpleBackend

    from flowless.auth.keys import create_api_key
    from flowless.settings import Settings
    from flowless.store import configure, create_tables
    from flowless.store.connection import store_settings
    from tests.vectors import moto_s3vectors

    stack = default_stack()
    previous = store_settings()
    # Lambda's Python runtime starts each process with no event loop set: Mangum makes the main
    # thread's. A previous asyncio test may have left the policy with none (and "set" called).
    policy = asyncio.get_event_loop_policy()
    saved = (getattr(policy._local, "_loop", None), getattr(policy._local, "_set_called", False))
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    urllib.request.urlopen(urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")).close()
    mock = mock_aws(config=MOTO_CONFIG)
    with pytest.MonkeyPatch.context() as patch:
        for name in ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_S3VECTORS", "AWS_ENDPOINT_URL_SQS", "FLOWLESS_VECTOR_STORE",
                     "FLOWLESS_VECTORS_DIR", "FLOWLESS_ASYNC_FUNCTION_NAME", "AWS_LAMBDA_RUNTIME_API"):
            patch.delenv(name, raising=False)
        for name, value in {**stack_environment(stack), **OVERRIDES, "OPENAI_BASE_URL": model_server.base_url}.items():
            patch.setenv(name, value)
        mock.start(reset=False)  # keeps the tables on the session's moto server (same process, same state)
        try:
            kms_key_id = boto3.client("kms", region_name="us-east-1").create_key(Description="SecretsKey stand-in")["KeyMetadata"]["KeyId"]
            patch.setenv("FLOWLESS_KMS_KEY_ID", kms_key_id)
            _clear_caches()
            configure(dataclasses.replace(Settings.from_env(), dynamodb_endpoint=moto_endpoint,
                                          local_key_file=str(tmp_path_factory.mktemp("iam") / "local.key")))
            create_tables()
            s3 = boto3.client("s3", region_name="us-east-1")
            for bucket in ("FilesBucket", "JobsBucket"):
                s3.create_bucket(Bucket=stack.physical_name(bucket))
            moto_s3vectors.install(patch)
            boto3.client("s3vectors", region_name="us-east-1").create_vector_bucket(vectorBucketName=stack.physical_name("VectorBucket"))
            queue_url = boto3.client("sqs", region_name="us-east-1").create_queue(QueueName=stack.physical_name("WebhookQueue"))["QueueUrl"]
            assert queue_url == os.environ["FLOWLESS_WEBHOOK_QUEUE_URL"], (queue_url, os.environ["FLOWLESS_WEBHOOK_QUEUE_URL"])

            role = boto3.client("iam", region_name="us-east-1").create_role(
                RoleName="iam-tour", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))["Role"]["Arn"]
            code = io.BytesIO()
            with zipfile.ZipFile(code, "w") as archive:
                archive.writestr("app.py", "handler = None\n")
            lambdas = boto3.client("lambda", region_name="us-east-1")
            by_name = {}
            for function in ("BuildWorkerFunction", *SELF_INVOKING, *SANDBOXES):
                name = stack.physical_name(function)
                created = lambdas.create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler",
                                                  Code={"ZipFile": code.getvalue()})
                assert created["FunctionArn"] == stack.arn(function)
                by_name[name] = function
            definition = (REPO / "statemachine" / "build_job.asl.json").read_text().replace(
                "${BuildWorkerFunctionArn}", stack.arn("BuildWorkerFunction"))
            machine = boto3.client("stepfunctions", region_name="us-east-1").create_state_machine(
                name=stack.physical_name("BuildJobStateMachine"), definition=definition, roleArn=role)["stateMachineArn"]
            assert machine == os.environ["BUILD_STATE_MACHINE_ARN"], (machine, os.environ["BUILD_STATE_MACHINE_ARN"])

            key, _ = create_api_key(TENANT, "iam-tour", scopes=["read", "execute", "write", "admin"])
            other_key, _ = create_api_key("globex", "iam-tour", scopes=["read", "execute", "write", "admin"])
            deployed = Deployed(stack, Gateway(stack), key, other_key, queue_url, kms_key_id, model_server)

            @contextlib.contextmanager
            def around(function: str) -> Iterator[None]:
                """What Lambda sets per function: its name (the self-invoking ones hand tasks to it)."""
                cold_container()
                saved = os.environ.get("FLOWLESS_ASYNC_FUNCTION_NAME")
                os.environ["FLOWLESS_ASYNC_FUNCTION_NAME"] = stack.physical_name(function)
                try:
                    yield
                finally:
                    if saved is None:
                        os.environ.pop("FLOWLESS_ASYNC_FUNCTION_NAME", None)
                    else:
                        os.environ["FLOWLESS_ASYNC_FUNCTION_NAME"] = saved

            deployed.gateway.around = around

            def invoke(self: Any, function_name: str, qualifier: str | None, body: Any, headers: Any, response_headers: dict[str, str]) -> bytes:
                self.get_function(function_name, qualifier)
                name = function_name.rsplit(":", 1)[-1] if function_name.startswith("arn:") else function_name
                function = by_name[name.split(":")[0]]
                event = json.loads(body)
                if function in SANDBOXES:  # its own process, as the sandbox function's execution environment is
                    from flowless.local.sandbox import SubprocessSandbox
                    return json.dumps(asyncio.run(SubprocessSandbox().call(event))).encode()
                if (headers or {}).get("X-Amz-Invocation-Type", "RequestResponse") == "Event":
                    with deployed.lock:
                        deployed.pending.append((function, event))
                    return b""
                if event.get("action") == "run_layer" and not deployed.hold.is_set():
                    deployed.held.set()
                    deployed.hold.wait(20)
                try:
                    result = function_handler(function)(event, FakeLambdaContext(name))
                except Exception as exc:  # Lambda's answer for an unhandled error
                    response_headers["x-amz-function-error"] = "Unhandled"
                    return json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc), "stackTrace": []}).encode()
                return json.dumps(result).encode()

            patch.setattr(LambdaSimpleBackend, "invoke", invoke)
            yield deployed
        finally:
            mock.stop()
            _clear_caches()
    _clear_caches()
    configure(previous)
    loop.close()
    policy._local._loop, policy._local._set_called = saved  # as found: later tests rely on the default
