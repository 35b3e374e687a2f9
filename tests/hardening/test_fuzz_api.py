"""Schemathesis against Flowless's own OpenAPI document, in process (ASGI), every operation,
with a valid key and without one: no 5xx, and every error is a JSON object with `detail`.

One test walks every operation so the environment (moto tables, keys, flows) is set up once.
Per operation and per caller, Hypothesis draws `EXAMPLES` cases, derandomized (the same cases
on every run): schema-valid ones and, where the schema allows, schema-violating ones. Path
parameters naming a flow or a tenant are sometimes set to real ones so the cases reach past
the 404s into the handlers. Failures are collected (not raised at the first), then reported.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from tests.hardening.conftest import CHAT_FLOW, ECHO_FLOW, TENANT

EXAMPLES = 6  # per operation, per caller, per generation mode
# Operations whose success is a stream or a file download rather than a JSON body.
NON_JSON_OK = ("/events", "/download", "/images", "/files/{file_id}")


@dataclass
class FuzzReport:
    operations: int = 0
    cases: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def record(self, label: str, case: Any, status: int, problem: str | None) -> None:
        self.cases += 1
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if problem:
            self.failures.append(f"{label} → {status}: {problem}\n    {case.as_curl_command()}")


def problem_with(response: Any, path: str) -> str | None:
    status = response.status_code
    if status >= 500:
        return f"server error: {response.text[:300]}"
    if status < 400:
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        return f"error body is not JSON: {response.text[:200]!r}"
    if not isinstance(body, dict) or "detail" not in body:
        return f"error body has no detail: {response.text[:200]!r}"
    return None


def strategies(operation: Any, flow_ids: list[str]) -> Any:
    """Cases for one operation: generated path parameters, and some with real flows/tenant."""
    params = {p.name for p in operation.iter_parameters() if p.location.value == "path"}
    overrides: list[dict[str, Any]] = [{}]
    known: dict[str, Any] = {}
    if "langflow_id" in params:
        known["langflow_id"] = TENANT
    for name in ("flow_id", "flow_id_or_name"):
        if name in params:
            known[name] = flow_ids[0]
    if known:
        overrides.append(known)
        if any(name in known for name in ("flow_id", "flow_id_or_name")):
            overrides.append({**known, **{name: flow_ids[1] for name in ("flow_id", "flow_id_or_name") if name in known}})
    options = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        for override in overrides:
            try:
                options.append(operation.as_strategy(generation_mode=mode, path_parameters=override or None))
            except Exception:  # a mode that cannot apply to this operation (nothing to negate)
                continue
    return st.one_of(options)


def fuzz_operation(operation: Any, key: str | None, flow_ids: list[str], report: FuzzReport, session: Any) -> None:
    label = f"{operation.label} [{'key' if key else 'no key'}]"
    headers = {"x-api-key": key} if key else {}

    @settings(
        max_examples=EXAMPLES * 2,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategies(operation, flow_ids))
    def check(case: Any) -> None:
        if key is None and case.headers:
            case.headers.pop("x-api-key", None)
        response = case.call(headers=headers, session=session, timeout=30)
        report.record(label, case, response.status_code, problem_with(response, operation.path))

    check()


def test_the_openapi_document_is_valid_and_declares_every_path_parameter():
    """Client generators and fuzzers reject an operation whose path names a parameter it does
    not declare (`/lf/{langflow_id}/...` did not): the document validates as OpenAPI 3, and
    Schemathesis loads every operation without a schema error."""
    from openapi_spec_validator import validate
    from schemathesis.core.result import Err

    from flowless.api.app import create_app

    app = create_app()
    document = app.openapi()
    validate(document)
    undeclared = [
        f"{method.upper()} {path}: {name}"
        for path, item in document["paths"].items()
        for method, operation in item.items()
        for name in re.findall(r"{(\w+)}", path)
        if name not in {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
    ]
    assert not undeclared
    tenant_operations = [m for path, item in document["paths"].items() if path.startswith("/lf/{langflow_id}/") for m in item]
    assert len(tenant_operations) >= 60
    results = list(schemathesis.openapi.from_dict(document).get_all_operations())
    errors = [str(result.err()) for result in results if isinstance(result, Err)]
    assert not errors and len(results) >= 100


def test_every_operation_with_and_without_a_key_answers_no_5xx_and_json_errors(api_env, files_bucket, capsys):
    from flowless.api.app import create_app
    from schemathesis.python import asgi

    app = create_app()
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    flow_ids = [api_env["flows"][ECHO_FLOW], api_env["flows"][CHAT_FLOW]]
    report = FuzzReport(operations=len(operations))
    started = time.perf_counter()
    with asgi.get_client(app) as session:
        for operation in operations:
            for key in (api_env["key"], None):
                fuzz_operation(operation, key, flow_ids, report, session)
    elapsed = time.perf_counter() - started
    with capsys.disabled():
        print(f"\nfuzz: {report.operations} operations, {report.cases} cases in {elapsed:.1f}s; statuses {dict(sorted(report.statuses.items()))}")
    assert report.operations >= 100, "the OpenAPI document lost operations"
    assert not report.failures, f"{len(report.failures)} failing cases:\n" + "\n".join(report.failures[:40])
