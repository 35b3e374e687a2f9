"""`flowless invoke`: the template read as Lambda would run it, and a real invocation in a fresh process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flowless.local.invoke import EVENTS_API_KEY, Resolver, function_spec, invoke, load_template, parse_overrides
from tests.handlers.conftest import REPO, TEMPLATE, event_catalogue


def test_function_spec_applies_globals_and_resolves_refs() -> None:
    spec = function_spec(load_template(TEMPLATE), "RunFunction", root=REPO)
    assert spec.handler == "app.handler"
    assert spec.code_dir == REPO / "functions" / "run"
    assert spec.layer_dirs == [REPO / "layers" / "engine", REPO / "shared", REPO / "layers" / "connectors"]
    env = spec.environment
    assert env["FLOWS_TABLE"] == "flowless-dev-flows"
    assert env["API_KEYS_TABLE"] == "flowless-dev-api-keys"
    assert env["POWERTOOLS_LOG_LEVEL"] == "INFO"
    assert env["FLOWLESS_SESSION_TTL_MINUTES"] == "30"
    assert (spec.memory_mb, spec.timeout_s) == (1024, 29)


def test_parameter_overrides_reach_the_environment() -> None:
    overrides = parse_overrides("Stage=prod LogLevel=DEBUG ParameterKey=SessionTtlMinutes,ParameterValue=5")
    spec = function_spec(load_template(TEMPLATE), "MonitorFunction", root=REPO, parameters=overrides)
    assert spec.environment["MESSAGES_TABLE"] == "flowless-prod-messages"
    assert spec.environment["POWERTOOLS_LOG_LEVEL"] == "DEBUG"
    assert spec.environment["FLOWLESS_SESSION_TTL_MINUTES"] == "5"
    assert spec.memory_mb == 512


def test_conditions_and_external_layers_resolve() -> None:
    spec = function_spec(load_template(TEMPLATE), "RunStreamFunction", root=REPO, region="eu-west-1")
    assert spec.external_layers == ["arn:aws:lambda:eu-west-1:753240598075:layer:LambdaAdapterLayerArm64:25"]
    assert spec.environment["AWS_LWA_INVOKE_MODE"] == "response_stream"
    with pytest.raises(ValueError, match="Lambda Web Adapter"):
        invoke(spec, [{}])


def test_resolver_intrinsics() -> None:
    template = {"Parameters": {"Stage": {"Default": "dev"}}, "Conditions": {"IsDev": {"Fn::Equals": [{"Ref": "Stage"}, "dev"]}},
                "Resources": {"T": {"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": {"Fn::Sub": "x-${Stage}"}}}}}
    resolver = Resolver(template, region="us-west-2")
    assert resolver.resolve({"Fn::Sub": "${AWS::Region}/${T}/${T.Arn}"}) == "us-west-2/x-dev/arn:aws:dynamodb:us-west-2:123456789012:table/x-dev"
    assert resolver.resolve({"Fn::If": ["IsDev", "a", "b"]}) == "a"
    assert resolver.resolve({"Fn::Join": ["-", ["a", {"Ref": "Stage"}]]}) == "a-dev"
    assert resolver.resolve({"Fn::Select": [1, {"Fn::Split": [",", "p,q"]}]}) == "q"
    assert resolver.resolve([{"Ref": "AWS::NoValue"}, 1]) == [1]
    with pytest.raises(ValueError):
        Resolver(template, parameters={"Nope": "1"})


def test_unknown_function_is_named_in_the_error() -> None:
    with pytest.raises(ValueError, match="RunFunction"):
        function_spec(load_template(TEMPLATE), "NoSuchFunction", root=REPO)


@pytest.mark.parametrize("exported_key", [None, "sk-my-own-local-key-0000000000000000000000000000"], ids=["no-key", "FLOWLESS_API_KEY-exported"])
def test_flowless_invoke_runs_the_example_flow_in_a_fresh_process(tmp_path: Path, exported_key: str | None) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "FLOWLESS_"))}
    env["FLOWLESS_LOCAL_KEY_FILE"] = str(tmp_path / "local.key")
    if exported_key:  # a user who also runs `flowless run` with their own key: the events' key still works
        env["FLOWLESS_API_KEY"] = exported_key
    process = subprocess.run(
        [sys.executable, "-m", "flowless", "invoke", "RunFunction", "-e", "events/run-basic.json"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=180,
    )
    assert process.returncode == 0, process.stderr[-3000:]
    response = json.loads(process.stdout.splitlines()[0])
    assert response["statusCode"] == 200, response
    body = json.loads(response["body"])
    assert body["outputs"][0]["outputs"][0]["results"]["message"]["text"] == "You said: Hello, Flowless\nFlowless answered without a model."
    assert "Init Duration:" in process.stderr and "REPORT RequestId:" in process.stderr
    request_log = next(json.loads(line) for line in process.stderr.splitlines() if '"message":"request"' in line)
    assert request_log["function_name"] == "RunFunction" and request_log["tenant"] == event_catalogue.TENANT
    assert event_catalogue.API_KEY == EVENTS_API_KEY
