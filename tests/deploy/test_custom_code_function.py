"""The sandbox function in template.yaml: Lambda tenant isolation, a role that can only write its
own logs, nothing of Flowless's (no Globals, layers, secrets or tracing), no SnapStart; and the
functions that run flows may invoke it, with its name in their environment."""

from __future__ import annotations

from typing import Any

import pytest

from tests.deploy import template_routes as routes

RUNNERS = ("RunFunction", "RunStreamFunction", "BuildWorkerFunction", "WebhookFunction")


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return routes.load()


def test_tenant_isolation_limits_and_no_snapstart(template):
    function = template["Resources"]["CustomCodeFunction"]
    assert function["Type"] == "AWS::Lambda::Function"  # not Serverless: Globals (layers, settings, tracing) never reach it
    properties = function["Properties"]
    assert properties["TenancyConfig"] == {"TenantIsolationMode": "PER_TENANT"}
    assert "SnapStart" not in properties and "TracingConfig" not in properties and "VpcConfig" not in properties
    assert 1 <= properties["Timeout"] <= 30 and 128 <= properties["MemorySize"] <= 1024
    assert properties["Layers"] == [{"Ref": "SandboxLayer"}]
    assert properties["Environment"]["Variables"] == {"PYTHONDONTWRITEBYTECODE": "1"}  # no secrets, no endpoints, no table names
    assert properties["Code"] == "functions/custom_code/" and properties["Handler"] == "app.handler"


def test_the_sandbox_role_can_only_write_its_own_logs(template):
    resources = template["Resources"]
    role = resources["CustomCodeFunction"]["Properties"]["Role"]
    assert role == {"Fn::GetAtt": ["CustomCodeFunctionRole", "Arn"]} or role == {"GetAtt": "CustomCodeFunctionRole.Arn"}
    properties = resources["CustomCodeFunctionRole"]["Properties"]
    assert "ManagedPolicyArns" not in properties and "PermissionsBoundary" not in properties
    statements = [statement for policy in properties["Policies"] for statement in policy["PolicyDocument"]["Statement"]]
    actions = sorted(action for statement in statements for action in statement["Action"])
    assert actions == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert all(statement["Effect"] == "Allow" for statement in statements)
    assert all("CustomCodeFunctionLogs" in str(statement["Resource"]) for statement in statements)  # its own log group only
    assert properties["AssumeRolePolicyDocument"]["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]


def test_the_functions_that_run_flows_may_invoke_it_and_nothing_else_may(template):
    resources = template["Resources"]
    assert template["Globals"]["Function"]["Environment"]["Variables"]["CUSTOM_CODE_FUNCTION"] == {"Ref": "CustomCodeFunction"}
    invokers = set()
    for name, function in routes.functions(template).items():
        for policy in function["Properties"].get("Policies") or []:
            for statement in policy["Statement"]:
                if "lambda:InvokeFunction" in statement["Action"] and "CustomCodeFunction" in str(statement["Resource"]):
                    invokers.add(name)
    assert invokers == set(RUNNERS)
    assert resources["SandboxLayer"]["Properties"]["ContentUri"] == "layers/sandbox/"
