"""A project's flows as an MCP server (what Langflow's project MCP server answers).

Flows marked `mcp_enabled` in a project are tools: the name is the flow's `action_name` (else its
name) made MCP-safe, the description its `action_description` (else its description), the input
schema the visible fields of its input components plus `session_id`. A call is a run of the flow:
`input_value` is the message, `session_id` the session (a new one when omitted), other arguments
are tweaks of the input components. JSON-RPC 2.0 over any transport: `handle_message` answers one
message (None for a notification). Stateless: no server state between messages, so it runs on Lambda.

Projects are the tenant's projects (flowless.store.projects): a flow belongs to its `folder_id`.
"""

from __future__ import annotations

import json
import re
import unicodedata
import uuid
from dataclasses import dataclass
from typing import Any

PROTOCOL_VERSIONS = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")
LATEST_PROTOCOL_VERSION = "2025-11-25"  # what Langflow 1.13 answers
MAX_TOOL_NAME_LENGTH = 30  # Langflow's MAX_MCP_TOOL_NAME_LENGTH
SESSION_ID_SCHEMA = {
    "type": "string",
    "description": "Optional session identifier used to persist conversation history across tool calls. Omit to start a new session.",
}
# JSON-RPC error codes
PARSE_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS = -32700, -32600, -32601, -32602
_FIELD_TYPES = {
    "str": "string", "int": "integer", "float": "number", "slider": "number", "bool": "boolean", "dict": "object",
    "NestedDict": "object", "mcp": "object", "table": "array", "file": "string", "prompt": "string", "other": "string",
}


@dataclass
class Project:
    id: str
    name: str
    flows: list[Any]  # store Flow records (without data)


def load_project(tenant: str, project_id: str) -> Project | None:
    """The tenant's project and its flows (not components), or None (unknown or another tenant's).
    Flows saved before projects existed (no folder) belong to the default project."""
    from flowless.store.flows import FlowRepository
    from flowless.store.projects import ProjectRepository

    projects = ProjectRepository(tenant)
    project = projects.get(project_id)
    if project is None:
        return None
    flows = FlowRepository(tenant).list(include_data=False).items
    members = [f for f in flows if not f.is_component and (f.folder_id or projects.default_id) == project.id]
    return Project(project.id, project.name, sorted(members, key=lambda f: f.id))


def sanitize_name(name: str, max_length: int = 46) -> str:
    """Letters, digits and underscores, lower case, not starting with a digit (Langflow's rule)."""
    name = "".join(c for c in unicodedata.normalize("NFD", name or "") if unicodedata.category(c) != "Mn")
    name = "".join(c for c in name if ord(c) < 0x24C2 and c not in "\u200d\u23cf\u23e9\u231a")  # emoji and symbols
    name = re.sub(r"[^\w\s-]", "", name)
    name = re.sub(r"[-\s]+", "_", name)
    name = re.sub(r"_+", "_", name).strip("_")
    if name and name[0].isdigit():
        name = f"_{name}"
    name = name.lower()
    if len(name) > max_length:
        name = name[:max_length].rstrip("_")
    return name or "unnamed"


def server_name(project: Project) -> str:
    return "lf-" + (sanitize_name(project.name) or "unnamed")


def tool_names(flows: list[Any]) -> dict[str, Any]:
    """Published tool name → flow, in flow-id order; clashes get `_1`, `_2`... (as Langflow)."""
    names: dict[str, Any] = {}
    for flow in flows:
        base = sanitize_name(flow.action_name) if flow.action_name else sanitize_name(flow.name)
        name, i = base[:MAX_TOOL_NAME_LENGTH], 0
        while name in names:
            i += 1
            name = f"{base[:MAX_TOOL_NAME_LENGTH - len(str(i)) - 1]}_{i}"
        names[name] = flow
    return names


def tool_description(flow: Any, name: str) -> str:
    return flow.action_description or flow.description or f"Tool generated from flow: {name}"


def settings_entry(flow: Any) -> dict[str, Any]:
    """One row of `GET /mcp/project/{id}`."""
    name = sanitize_name(flow.action_name) if flow.action_name else sanitize_name(flow.name)
    return {"id": flow.id, "mcp_enabled": flow.mcp_enabled, "action_name": name,
            "action_description": tool_description(flow, name), "name": flow.name, "description": flow.description}


def _exposed_fields(graph: Any) -> list[tuple[str, str, dict[str, Any]]]:
    """(vertex id, field name, field) of the input components' fields a tool advertises: shown and
    not advanced; only the `api_editable` ones (and input_value) when the flow marks any."""
    inputs = [v for v in graph.vertices.values() if v.is_input]
    visible = [(v.id, name, field) for v in inputs for name, field in v.fields.items()
               if isinstance(field, dict) and field.get("show", False) and not field.get("advanced", False)]
    if any(field.get("api_editable") is True for v in inputs for field in v.fields.values() if isinstance(field, dict)):
        visible = [(vid, name, field) for vid, name, field in visible if name == "input_value" or field.get("api_editable") is True]
    return visible


def input_schema(graph: Any) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    required: list[str] = []
    for _, name, field in _exposed_fields(graph):
        json_type = _FIELD_TYPES.get(str(field.get("type")), "string")
        schema: dict[str, Any] = {"type": json_type}
        if field.get("list") is True and json_type != "array":
            schema = {"type": "array", "items": {"type": json_type}}
        properties[name] = {**schema, "description": field.get("info") or f"Input for {name}"}
        if field.get("required") and name not in required:
            required.append(name)
    properties.setdefault("session_id", dict(SESSION_ID_SCHEMA))
    return {"type": "object", "properties": properties, "required": required}


class McpError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


class ProjectServer:
    """The JSON-RPC side of one project for one caller."""

    def __init__(self, tenant: str, project: Project, request_variables: dict[str, str] | None = None) -> None:
        self.tenant = tenant
        self.project = project
        self.request_variables = request_variables or {}

    def enabled_tools(self) -> dict[str, Any]:
        return tool_names([f for f in self.project.flows if f.mcp_enabled])

    async def handle_message(self, message: Any) -> dict[str, Any] | None:
        """The answer to one JSON-RPC message; None for a notification or a response."""
        if not isinstance(message, dict) or message.get("jsonrpc") != "2.0" or not isinstance(message.get("method"), str):
            if isinstance(message, dict) and ("result" in message or "error" in message):
                return None  # a client's response to a server request: none are sent
            return _error(message.get("id") if isinstance(message, dict) else None, INVALID_REQUEST, "Invalid Request")
        is_request = "id" in message
        try:
            result = await self._dispatch(message["method"], message.get("params") or {})
        except McpError as exc:
            return _error(message.get("id"), exc.code, exc.message) if is_request else None
        return {"jsonrpc": "2.0", "id": message["id"], "result": result} if is_request else None

    async def _dispatch(self, method: str, params: dict[str, Any]) -> Any:
        if not isinstance(params, dict):
            raise McpError(INVALID_PARAMS, "params must be an object")
        if method.startswith("notifications/"):
            return None
        if method == "initialize":
            asked = params.get("protocolVersion")
            return {
                "protocolVersion": asked if asked in PROTOCOL_VERSIONS else LATEST_PROTOCOL_VERSION,
                "capabilities": {"prompts": {"listChanged": False}, "resources": {"subscribe": False, "listChanged": False},
                                 "tools": {"listChanged": False}},
                "serverInfo": {"name": f"langflow-mcp-project-{self.project.id}", "version": "1.13.0"},
            }
        if method == "ping":
            return {}
        if method == "tools/list":
            return {"tools": [await self._tool(name, flow) for name, flow in self.enabled_tools().items()]}
        if method == "tools/call":
            return await self._call(params)
        if method == "prompts/list":
            return {"prompts": []}
        if method == "resources/list":
            return {"resources": []}
        if method == "resources/templates/list":
            return {"resourceTemplates": []}
        raise McpError(METHOD_NOT_FOUND, f"Method not found: {method}")

    async def _tool(self, name: str, flow: Any) -> dict[str, Any]:
        from flowless.runs import load_flow_graph

        _, graph = load_flow_graph(self.tenant, flow.id)
        return {"name": name, "description": tool_description(flow, name), "inputSchema": input_schema(graph)}

    async def _call(self, params: dict[str, Any]) -> dict[str, Any]:
        from flowless.runs import load_flow_graph, run_stored_flow
        from flowless_engine.runtime.request import RunRequest

        name = params.get("name")
        arguments = params.get("arguments") or {}
        if not isinstance(name, str) or not isinstance(arguments, dict):
            raise McpError(INVALID_PARAMS, "tools/call needs a tool name and an arguments object")
        flow = self.enabled_tools().get(name)
        if flow is None:
            return _tool_error(f"Error executing tool {name}: Flow with name '{name}' not found")
        arguments = dict(arguments)
        session_id = arguments.pop("session_id", None) or str(uuid.uuid4())
        input_value = arguments.pop("input_value", "")
        try:
            resolved = load_flow_graph(self.tenant, flow.id)
            tweaks: dict[str, dict[str, Any]] = {}
            for vertex_id, field, _ in _exposed_fields(resolved[1]):
                if field in arguments:
                    tweaks.setdefault(vertex_id, {})[field] = arguments[field]
            request = RunRequest(input_value=input_value if isinstance(input_value, str) else str(input_value),
                                 session_id=str(session_id), tweaks=tweaks or None)
            outcome = await run_stored_flow(self.tenant, flow.id, request, request_variables=self.request_variables, resolved=resolved)
        except Exception as exc:  # an MCP client only tells a failure from an answer by isError
            from flowless.api.streaming import error_text

            return _tool_error(f"Error executing tool {name}: Error Executing the {flow.name} tool. Error: {error_text(exc)}")
        return {"content": [{"type": "text", "text": text} for text in result_texts(outcome.response)], "isError": False}


def result_texts(response: dict[str, Any]) -> list[str]:
    """Each distinct text of the run's outputs: messages, then results (as Langflow collects them)."""
    from flowless.results import result_data

    texts: list[str] = []
    for result in result_data(response):
        candidates = [m.get("message") for m in result.get("messages") or [] if isinstance(m, dict)]
        candidates += [_text(value) for value in (result.get("results") or {}).values()]
        for text in candidates:
            if isinstance(text, str) and text not in texts:
                texts.append(text)
    return texts


def _text(value: Any) -> str:
    if isinstance(value, dict) and isinstance(value.get("text"), str):
        return value["text"]
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _tool_error(text: str) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": text}], "isError": True}


def _error(message_id: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": message_id, "error": {"code": code, "message": message}}
