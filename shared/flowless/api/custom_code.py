"""`/custom_code` routes (admin scope): the tenant's approvals of user code, by SHA-256.

  GET    /custom_code/approvals                 every approval, with who and when
  POST   /custom_code/approvals                 approve {"sha256": [...], "note": "..."}
  DELETE /custom_code/approvals/{sha256}        revoke
  GET    /custom_code/flows/{flow_id}           the flow's code: nodes, hashes, approval, the code
                                                itself (to read before approving)
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field

from flowless.api.auth import Caller, requires
from flowless.api.errors import ApiError
from flowless.store.code_approvals import SHA256, ApprovalRepository

router = APIRouter(prefix="/custom_code", tags=["Custom code"])


class ApprovalRequest(BaseModel):
    sha256: list[str] = Field(min_length=1, max_length=100)
    note: str | None = Field(default=None, max_length=500)


def _who(caller: Caller) -> str:
    return f"api_key:{caller.key_id}"


@router.get("/approvals")
def list_approvals(caller: Caller = Depends(requires("admin"))) -> dict[str, Any]:
    return {"approvals": [a.to_dict() for a in ApprovalRepository(caller.tenant).list()]}


@router.post("/approvals", status_code=201)
def approve(body: ApprovalRequest, caller: Caller = Depends(requires("admin"))) -> dict[str, Any]:
    wrong = [value for value in body.sha256 if not SHA256.match(value)]
    if wrong:
        raise ApiError(422, {"code": "INVALID_SHA256", "message": "Each sha256 is 64 lowercase hex digits", "values": wrong[:10]})
    repo = ApprovalRepository(caller.tenant)
    return {"approvals": [repo.approve(value, _who(caller), body.note).to_dict() for value in dict.fromkeys(body.sha256)]}


@router.delete("/approvals/{sha256}", status_code=204)
def revoke(sha256: str, caller: Caller = Depends(requires("admin"))) -> Response:
    if not SHA256.match(sha256) or not ApprovalRepository(caller.tenant).revoke(sha256):
        raise ApiError(404, "Approval not found")
    return Response(status_code=204)


@router.get("/flows/{flow_id}")
def flow_code(flow_id: UUID, caller: Caller = Depends(requires("admin"))) -> dict[str, Any]:
    from flowless.custom_code import flow_code_report
    from flowless.store.flows import FlowRepository
    from flowless_engine.graph.loader import load_graph

    flow = FlowRepository(caller.tenant).get(str(flow_id))
    if flow is None:
        raise ApiError(404, "Flow not found")
    graph = load_graph({"data": flow.data or {"nodes": [], "edges": []}}, flow_id=flow.id, flow_name=flow.name)
    items = flow_code_report(caller.tenant, graph)
    for item in items:
        item["code"] = graph.vertices[item["node_id"]].user_code[item["field"]]
    return {"flow_id": flow.id, "name": flow.name, "code": items}
