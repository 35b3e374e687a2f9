"""template.yaml routes every route of the routers to the function that serves it, and declares
no route that no handler serves. Explicit routes only: API Gateway `{proxy+}` is not acceptable.

The mapping: each API function's app.py names its route groups (`GROUPS`); its Api events must be
exactly the routes of `create_app(GROUPS)` at /api/v1/... and /lf/{langflow_id}/api/v1/...
Adding a group is one entry in a function's GROUPS (or a new function) plus the Events block that
the failure message prints.
"""

from __future__ import annotations

import os
from collections import defaultdict
from typing import Any

import pytest

from tests.deploy import template_routes as routes

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

# The function that streams over a Function URL serves the same groups as this one, without Api events.
STREAMING = {"RunStreamFunction": "RunFunction"}
# Route groups whose routers exist but whose Lambda functions and resources are not in template.yaml
# yet. Each entry is a deliberate, visible gap: remove it when the group's function is added.
NOT_DEPLOYED_YET: dict[str, str] = {}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return routes.load()


def api_functions(template: dict[str, Any]) -> list[str]:
    return sorted(name for name, resource in routes.functions(template).items() if routes.api_events(resource))


def groups_of(template: dict[str, Any], function: str) -> tuple[str, ...]:
    return tuple(routes.function_module(function, template).GROUPS)


def test_each_function_declares_exactly_the_routes_its_app_serves(template: dict[str, Any]) -> None:
    declared = routes.template_routes(template)
    problems = []
    for function in api_functions(template):
        served = routes.app_routes(groups_of(template, function))
        missing = set(served) - declared[function]
        extra = declared[function] - set(served)
        if missing:
            problems.append(f"{function} serves routes template.yaml does not route to it; add to its Events:\n"
                            + routes.events_yaml(missing, served))
        if extra:
            problems.append(f"{function} declares routes its app does not serve: {sorted(extra)}")
    assert not problems, "\n\n".join(problems)


def test_every_route_group_is_served_by_exactly_one_api_function(template: dict[str, Any]) -> None:
    from flowless.api.app import GROUPS

    owners: dict[str, list[str]] = defaultdict(list)
    for function in api_functions(template):
        for group in groups_of(template, function):
            owners[group].append(function)
    unserved = [group for group in GROUPS if not owners.get(group) and group not in NOT_DEPLOYED_YET]
    doubled = {group: names for group, names in owners.items() if len(names) > 1}
    deployed_meanwhile = sorted(set(owners) & set(NOT_DEPLOYED_YET))
    assert not deployed_meanwhile, f"remove {deployed_meanwhile} from NOT_DEPLOYED_YET: a function serves them now"
    hints = [f"group {group!r}: add it to a function's GROUPS (functions/<group>/app.py) and these Events:\n"
             + routes.events_yaml(routes.app_routes((group,)), routes.app_routes((group,))) for group in unserved]
    assert not unserved, "route groups served by no function:\n" + "\n\n".join(hints)
    assert not doubled, f"route groups served by several functions: {doubled}"
    assert set(owners) <= set(GROUPS), f"unknown groups: {set(owners) - set(GROUPS)}"


def test_groups_not_deployed_yet_are_real_groups() -> None:
    from flowless.api.app import GROUPS

    assert set(NOT_DEPLOYED_YET) <= set(GROUPS), "NOT_DEPLOYED_YET names a group that no longer exists"


def test_no_template_route_is_left_without_a_handler(template: dict[str, Any]) -> None:
    served_anywhere = set(routes.app_routes(tuple(__import__("flowless.api.app", fromlist=["GROUPS"]).GROUPS)))
    for function, declared in routes.template_routes(template).items():
        orphans = declared - served_anywhere
        assert not orphans, f"{function} routes {sorted(orphans)}, which no router serves"


def test_explicit_routes_only_and_one_variable_name_per_path_level(template: dict[str, Any]) -> None:
    """API Gateway refuses sibling path variables with different names; sam validate does not check."""
    variable_names: dict[str, set[str]] = defaultdict(set)
    for resource in routes.functions(template).values():
        for event in routes.api_events(resource).values():
            path = event["Path"]
            assert "+}" not in path, f"greedy path {path}: declare explicit routes"
            assert path == "/" or not path.endswith("/"), f"{path}: API Gateway resources have no trailing slash"
            parts = path.strip("/").split("/")
            for depth, part in enumerate(parts):
                if part.startswith("{"):
                    variable_names["/" + "/".join(parts[:depth])].add(part)
    clashes = {parent: names for parent, names in variable_names.items() if len(names) > 1}
    assert not clashes, f"sibling path variables with different names: {clashes}"


def test_api_events_attach_to_the_one_rest_api(template: dict[str, Any]) -> None:
    assert template["Resources"]["Api"]["Type"] == "AWS::Serverless::Api"
    for name, resource in routes.functions(template).items():
        for event in routes.api_events(resource).values():
            assert event.get("RestApiId") == {"Ref": "Api"}, f"{name}: {event}"


def test_the_streaming_function_serves_the_run_groups_over_a_streaming_function_url(template: dict[str, Any]) -> None:
    for streaming, buffered in STREAMING.items():
        properties = template["Resources"][streaming]["Properties"]
        assert groups_of(template, streaming) == groups_of(template, buffered)
        assert properties["FunctionUrlConfig"]["InvokeMode"] == "RESPONSE_STREAM"
        assert properties["Environment"]["Variables"]["AWS_LWA_INVOKE_MODE"] == "response_stream"
        assert properties["Environment"]["Variables"]["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/bootstrap"
        script = routes.REPO / properties["CodeUri"] / properties["Handler"]
        assert script.is_file() and os.access(script, os.X_OK), f"{script} must exist and be executable"
        assert "uvicorn" in script.read_text() and "app:app" in script.read_text()


def test_run_function_uses_snapstart_through_its_alias(template: dict[str, Any]) -> None:
    properties = template["Resources"]["RunFunction"]["Properties"]
    assert properties["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    assert properties["AutoPublishAlias"] == "live"  # SAM then points the API integration at the alias


def test_least_privilege_no_wildcards_and_no_scan(template: dict[str, Any]) -> None:
    for name, resource in routes.functions(template).items():
        for policy in resource["Properties"].get("Policies") or []:
            assert isinstance(policy, dict) and "Statement" in policy, f"{name}: use inline statements, not managed policies"
            for statement in policy["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                assert all("*" not in action for action in actions), f"{name}: {actions}"
                assert "dynamodb:Scan" not in actions, f"{name}: the store never scans"
                resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
                assert "*" not in resources, f"{name}: {statement}"


def test_every_function_has_error_and_throttle_alarms_and_the_api_a_5xx_alarm(template: dict[str, Any]) -> None:
    alarms = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    watched = {(a["MetricName"], a["Dimensions"][0]["Value"]["Ref"]) for a in alarms if a["Namespace"] == "AWS/Lambda"}
    for function in routes.functions(template):
        assert ("Errors", function) in watched and ("Throttles", function) in watched, function
    assert any(a["Namespace"] == "AWS/ApiGateway" and a["MetricName"] == "5XXError" for a in alarms)


def test_functions_get_powertools_and_table_settings_from_globals(template: dict[str, Any]) -> None:
    from flowless.settings import TABLE_ENV_VARS

    globals_ = template["Globals"]["Function"]
    variables = globals_["Environment"]["Variables"]
    for name in ("POWERTOOLS_SERVICE_NAME", "POWERTOOLS_LOG_LEVEL", "POWERTOOLS_METRICS_NAMESPACE", "FLOWLESS_SESSION_TTL_MINUTES"):
        assert name in variables
    tables = {r: p for r, p in template["Resources"].items() if p["Type"] == "AWS::DynamoDB::Table"}
    for variable in TABLE_ENV_VARS.values():
        assert variables[variable]["Ref"] in tables, variable
    assert (globals_["Runtime"], globals_["Architectures"], globals_["Tracing"]) == ("python3.12", ["arm64"], "Active")
