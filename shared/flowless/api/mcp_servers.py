"""`/api/v2/mcp/servers`: the tenant's MCP servers, by name, as Langflow keeps them per user.

Flow exports name an MCP server without its config; MCPTools nodes read the config of that name
from the tenant variable `MCP_SERVER_<NAME>` (flowless_engine.components.mcp). These routes manage
those variables with Langflow's shapes: `GET /servers` (`?action_count=true` connects to each and
counts its tools), `GET|POST|PATCH|DELETE /servers/{name}` with a config `{"url", "headers", "type"}`.
Header values are masked in answers and stored encrypted (a Credential variable). Configs that
start a local command (stdio) are refused: Flowless never executes local programs.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict

from flowless.api.auth import Caller, requires
from flowless.api.errors import ApiError

v2_router = APIRouter(prefix="/mcp/servers", tags=["MCP"])
MASK = "********"  # Langflow's MCP_CONFIG_VALUE_MASK
NOT_FOUND = "Server not found."


class McpServerConfig(BaseModel):
    """Langflow's MCPServerConfig: a URL and headers (or a command, refused here), other keys kept."""

    model_config = ConfigDict(extra="allow")

    command: str | None = None
    args: list[str] | None = None
    env: dict[str, str] | None = None
    headers: dict[str, str] | None = None
    url: str | None = None


def _repo(caller: Caller) -> Any:
    from flowless.store.variables import VariableRepository

    return VariableRepository(caller.tenant)


def _stored(caller: Caller, name: str) -> tuple[Any, dict[str, Any]] | None:
    from flowless_engine.components.mcp import variable_name

    variable = _repo(caller).get(variable_name(name))
    if variable is None or not variable.value:
        return None
    try:
        config = json.loads(variable.value)
    except ValueError:
        config = {"url": variable.value}
    return variable, config if isinstance(config, dict) else {"url": str(config)}


def _public(config: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in config.items() if k != "name"}
    for secret in ("headers", "env"):
        if isinstance(out.get(secret), dict):
            out[secret] = {k: MASK if v else v for k, v in out[secret].items()}
    return out


def _checked(name: str, body: McpServerConfig) -> dict[str, Any]:
    from flowless_engine.components.mcp import STDIO_REFUSED

    config = body.model_dump(exclude_unset=True)
    if config.get("command"):
        raise ApiError(422, STDIO_REFUSED.format(name=name))
    return config


def _names(caller: Caller) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for variable in _repo(caller).list(include_values=False):
        if variable.name.startswith("MCP_SERVER_"):
            stored = _repo(caller).get(variable.name)
            try:
                config = json.loads(stored.value) if stored and stored.value else {}
            except ValueError:
                config = {"url": stored.value}
            config = config if isinstance(config, dict) else {}
            found.append((str(config.get("name") or variable.name[len("MCP_SERVER_"):].lower()), config))
    return sorted(found)


@v2_router.get("")
@v2_router.get("/", include_in_schema=False)
async def list_servers(action_count: bool | None = None, caller: Caller = Depends(requires("read"))) -> list[dict[str, Any]]:
    servers = _names(caller)
    if not action_count:
        return [{"name": name, "mode": None, "toolsCount": None} for name, _ in servers]
    return [await _check(name, config) for name, config in servers]


async def _check(name: str, config: dict[str, Any]) -> dict[str, Any]:
    """Connect and count the tools (Langflow's action_count), through the engine's guarded client."""
    from flowless.runs import engine_settings
    from flowless_engine.errors import FlowError
    from flowless_engine.http import default_client
    from flowless_engine.mcp_client import McpClient, ServerSpec

    info: dict[str, Any] = {"name": name, "mode": None, "toolsCount": None}
    kind = str(config.get("type") or "").lower().replace("-", "_")
    spec = ServerSpec(name=name, url=str(config.get("url") or ""), headers=tuple(sorted((config.get("headers") or {}).items())),
                      transport="sse" if kind == "sse" else "auto", timeout_s=min(engine_settings().http_timeout_s, 20.0))
    client = McpClient(spec, default_client(engine_settings()))
    try:
        tools = await client.list_tools(use_cache=False)
    except FlowError as exc:
        info["error"] = f"Error loading server: {exc.message}"
        return info
    info["mode"] = client.transport
    info["toolsCount"] = len(tools)
    if not tools:
        info["error"] = "No tools found"
    return info


@v2_router.get("/{server_name}")
async def get_server(server_name: str, caller: Caller = Depends(requires("read"))) -> dict[str, Any]:
    stored = _stored(caller, server_name)
    if stored is None:
        raise ApiError(404, NOT_FOUND)
    return _public(stored[1])


@v2_router.post("/{server_name}")
async def add_server(server_name: str, body: McpServerConfig, caller: Caller = Depends(requires("write"))) -> dict[str, Any]:
    from flowless.store.errors import Conflict
    from flowless_engine.components.mcp import variable_name

    config = _checked(server_name, body)
    try:
        _repo(caller).create(variable_name(server_name), json.dumps({**config, "name": server_name}), type="Credential")
    except Conflict:
        raise ApiError(409, "Server already exists.") from None
    return _public(config)


@v2_router.patch("/{server_name}")
async def update_server(server_name: str, body: McpServerConfig, caller: Caller = Depends(requires("write"))) -> dict[str, Any]:
    stored = _stored(caller, server_name)
    if stored is None:
        raise ApiError(404, NOT_FOUND)
    variable, current = stored
    config = _checked(server_name, body)
    merged = {**current, **config, "name": server_name}
    if isinstance(config.get("headers"), dict):  # a masked value keeps the stored one
        old = current.get("headers") if isinstance(current.get("headers"), dict) else {}
        merged["headers"] = {k: old.get(k, v) if v == MASK else v for k, v in config["headers"].items()}
    _repo(caller).update(variable.id, value=json.dumps(merged))
    return _public(merged)


@v2_router.delete("/{server_name}")
async def delete_server(server_name: str, caller: Caller = Depends(requires("write"))) -> None:
    stored = _stored(caller, server_name)
    if stored is None:
        raise ApiError(404, NOT_FOUND)
    _repo(caller).delete(stored[0].id)
    return None
