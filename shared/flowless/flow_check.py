"""Checking a flow against the engine when it is saved: can Flowless run it as stored?

The graph is parsed and validated, never executed. A malformed `data` raises the loader's
InvalidFlowError (answered 422 with every problem); anything else is reported, not refused,
so a flow with components Flowless lacks can still be stored and edited. Code that needs
approval (custom components, edited stock code, executed code inputs) is listed with its
SHA-256 and whether the tenant approved it; unapproved code makes the flow not runnable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flowless.custom_code import flow_code_report
from flowless_engine.components.registry import is_supported
from flowless_engine.errors import InvalidFlowError
from flowless_engine.graph.loader import load_graph
from flowless_engine.graph.validate import find_problems

WEBHOOK_TYPE = "Webhook"


@dataclass(frozen=True)
class FlowCheck:
    unsupported: dict[str, list[str]] = field(default_factory=dict)  # component type -> node ids
    problems: list[dict[str, Any]] = field(default_factory=list)
    webhook: bool = False  # the flow has a Webhook node (Langflow's `webhook` flag)
    # Code to approve: {node_id, type, display_name, field, sha256, approved}
    code: list[dict[str, Any]] = field(default_factory=list)

    @property
    def runnable(self) -> bool:
        return not self.unsupported and not self.problems and all(item["approved"] for item in self.code)

    def to_dict(self) -> dict[str, Any]:
        return {
            "runnable": self.runnable,
            "unsupported": [{"type": t, "node_ids": ids} for t, ids in sorted(self.unsupported.items())],
            "problems": self.problems,
            "code": self.code,
        }


def check_flow(data: dict[str, Any] | None, tenant: str | None = None) -> FlowCheck:
    """Parse and validate `data` (a flow's `{nodes, edges}`). Raises InvalidFlowError when malformed."""
    if data is None:
        return FlowCheck(problems=[_empty()])
    graph = load_graph({"data": data})
    if not graph.vertices:
        return FlowCheck(problems=[_empty()])
    unsupported: dict[str, list[str]] = {}
    for vertex in graph.vertices.values():
        if not vertex.runs_code and not is_supported(vertex.type):
            unsupported.setdefault(vertex.type, []).append(vertex.id)
    return FlowCheck(
        unsupported=unsupported,
        problems=[problem.to_dict() for problem in find_problems(graph)],
        webhook=any(vertex.type == WEBHOOK_TYPE for vertex in graph.vertices.values()),
        code=flow_code_report(tenant, graph),
    )


def report_flow(data: dict[str, Any] | None, tenant: str | None = None) -> FlowCheck:
    """Like `check_flow`, for data already stored: a malformed graph is reported, not raised."""
    try:
        return check_flow(data, tenant)
    except InvalidFlowError as exc:
        return FlowCheck(problems=[problem.to_dict() for problem in exc.problems])


def _empty() -> dict[str, Any]:
    return {"kind": "empty_flow", "message": "Flow has no components"}
