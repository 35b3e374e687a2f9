"""Approved user code for a tenant's run: the check every entry point calls, and the code runner.

    runner = check_flow_code(tenant, graph)   # 422 CODE_NOT_APPROVED, or the run's code runner
    RunContext(..., code_runner=runner, tenant=tenant)

/run, /build, webhooks (and MCP, workflows) call it before anything runs, so a flow with
unapproved code is refused the same way everywhere; the engine checks again, sub-flows included.

The runner hands each code-bearing vertex to the sandbox: the CustomCodeFunction (Lambda tenant
isolation mode, invoked with the tenant as tenant id) when CUSTOM_CODE_FUNCTION is set, else a
local subprocess with the same protocol and limits (flowless/local/sandbox.py).
"""

from __future__ import annotations

import asyncio
import json
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from flowless.settings import get_settings

if TYPE_CHECKING:
    from flowless_engine.graph.model import Graph


class TenantCodeRunner:
    """The tenant's approved hashes (read on first need, kept briefly per warm process) and the
    sandbox to call. One per run; sub-flows the run calls share it."""

    def __init__(self, tenant: str, approved: set[str] | None = None) -> None:
        self.tenant = tenant
        self._approved = frozenset(approved) if approved is not None else None

    def approved(self, sha256: str) -> bool:
        if self._approved is None:
            from flowless.store.code_approvals import ApprovalRepository

            self._approved = ApprovalRepository(self.tenant).approved_set()
        return sha256 in self._approved

    async def run(self, call: dict[str, Any]) -> dict[str, Any]:
        call = {**call, "tenant": self.tenant}
        settings = get_settings()
        if settings.custom_code_function:
            return await asyncio.to_thread(_invoke_lambda, settings.custom_code_function, self.tenant, call)
        from flowless.local.sandbox import SubprocessSandbox

        sandbox = SubprocessSandbox(timeout_s=settings.custom_code_timeout_seconds, memory_mb=settings.custom_code_memory_mb)
        return await sandbox.call(call)


def check_flow_code(tenant: str, graph: "Graph") -> TenantCodeRunner:
    """Refuse (CodeNotApprovedError, 422) a graph holding code the tenant has not approved, before
    anything runs; otherwise the runner to put in the RunContext (it reads no approval until a
    graph holds code: a flow without code costs nothing). Every entry point that runs a flow
    calls this."""
    from flowless_engine.runtime.code import check_code

    runner = TenantCodeRunner(tenant)
    if any(vertex.runs_code for vertex in graph.vertices.values()):
        check_code(graph, runner)
    return runner


def flow_code_report(tenant: str | None, graph: "Graph") -> list[dict[str, Any]]:
    """Every piece of code of the graph with its hash and approval state (the flow check)."""
    from flowless_engine.runtime.code import code_items

    items = code_items(graph)
    approved: set[str] = set()
    if items and tenant:
        from flowless.store.code_approvals import ApprovalRepository

        approved = ApprovalRepository(tenant).approved({item.sha256 for item in items})
    return [{**item.to_dict(), "approved": item.sha256 in approved} for item in items]


@lru_cache(maxsize=1)
def _lambda_client() -> Any:
    import boto3
    from botocore.config import Config

    settings = get_settings()
    # The call's own limit is the sandbox function's timeout; the read timeout is a little longer.
    config = Config(read_timeout=settings.custom_code_timeout_seconds + 5, retries={"mode": "standard", "max_attempts": 1})
    return boto3.client("lambda", region_name=settings.region, config=config)


def _invoke_lambda(function: str, tenant: str, call: dict[str, Any]) -> dict[str, Any]:
    try:
        response = _lambda_client().invoke(FunctionName=function, TenantId=tenant, Payload=json.dumps(call).encode())
    except Exception as exc:  # the sandbox function could not be reached: the node fails, clearly
        return {"ok": False, "kind": "crash", "error": f"the sandbox function could not be invoked ({type(exc).__name__})", "logs": []}
    payload = response["Payload"].read()
    if response.get("FunctionError"):
        try:
            detail = json.loads(payload).get("errorMessage", "")
        except (ValueError, AttributeError):
            detail = ""
        kind = "timeout" if "timed out" in str(detail).lower() else "crash"
        return {"ok": False, "kind": kind, "error": f"the sandbox function failed: {str(detail)[:300]}", "logs": []}
    try:
        answer = json.loads(payload)
    except ValueError:
        return {"ok": False, "kind": "crash", "error": "the sandbox function answered no JSON", "logs": []}
    return answer if isinstance(answer, dict) else {"ok": False, "kind": "crash", "error": "the sandbox function answered no object", "logs": []}
