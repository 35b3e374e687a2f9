"""`GET|PATCH /mcp/project/{project_id}`: which of a project's flows are MCP tools, and their
tool names and descriptions (Langflow's project MCP settings). Reading needs `read`, changing
`write`; another tenant's project is a 404. The MCP transports themselves are in mcp.py."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from flowless.api.auth import Caller, requires
from flowless.api.mcp import project_of

router = APIRouter(tags=["MCP"])


class McpFlowSettings(BaseModel):
    id: str
    mcp_enabled: bool | None = None
    action_name: str | None = None
    action_description: str | None = None
    name: str | None = None
    description: str | None = None


class McpProjectUpdate(BaseModel):
    settings: list[McpFlowSettings]
    auth_settings: dict[str, Any] | None = None


@router.get("/mcp/project/{project_id}")
async def list_project_tools(project_id: str, mcp_enabled: bool = True, caller: Caller = Depends(requires("read"))) -> dict[str, Any]:
    from flowless.mcp_server import server_name, settings_entry

    project = project_of(caller, project_id)
    flows = [f for f in project.flows if f.mcp_enabled or not mcp_enabled]
    return {"tools": [settings_entry(f) for f in flows], "auth_settings": None, "server_name": server_name(project)}


@router.patch("/mcp/project/{project_id}")
async def update_project_mcp_settings(project_id: str, body: McpProjectUpdate, caller: Caller = Depends(requires("write"))) -> dict[str, Any]:
    from flowless.store.flows import FlowRepository

    project = project_of(caller, project_id)
    wanted = {s.id.lower(): s for s in body.settings}
    repo = FlowRepository(caller.tenant)
    updated = 0
    for flow in project.flows:
        setting = wanted.get(flow.id)
        if setting is not None:
            repo.update(flow.id, mcp_enabled=bool(setting.mcp_enabled), action_name=setting.action_name,
                        action_description=setting.action_description)
            updated += 1
    return {"message": f"Updated MCP settings for {updated} flows and project auth settings"}
