"""Older agents that do not use the model's native tool calling:

- `XMLAgent`: the model asks for a tool with `<tool>name</tool><tool_input>text</tool_input>` and
  gets `<observation>...</observation>` back in its scratchpad, until it answers in
  `<final_answer>...</final_answer>`;
- `OpenAPIAgent`: an agent over an OpenAPI spec from the tenant's files (JSON or YAML): tools list
  the endpoints, describe one, and — only when the node allows dangerous requests — call the API
  at the spec's server URL through the engine's guarded HTTP client.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flowless_engine.components.agents_legacy import _loop_inputs, _model_inputs, _ToolsAgent, history_messages, wired_model_config
from flowless_engine.components.base import Input, Tool, to_bool, to_text
from flowless_engine.errors import ComponentError, ConfigurationError, LimitExceededError

_MESSAGE = ("Message",)
XML_SYSTEM_PROMPT = """You are a helpful assistant. Help the user answer any questions.

You have access to the following tools:

{tools}

In order to use a tool, you can use <tool></tool> and <tool_input></tool_input> tags. You will then get back a response in the form <observation></observation>

For example, if you have a tool called 'search' that could run a google search, in order to search for the weather in SF you would respond:

<tool>search</tool><tool_input>weather in SF</tool_input>

<observation>64 degrees</observation>

When you are done, respond with a final answer between <final_answer></final_answer>. For example:

<final_answer>The weather in SF is 64 degrees</final_answer>

Begin!

Question: {input}

{agent_scratchpad}
            """  # Langflow's field default (a value of the template, not code)
_TOOL = re.compile(r"<tool>(.*?)</tool>\s*<tool_input>(.*?)(?:</tool_input>|$)", re.S)
_FINAL = re.compile(r"<final_answer>(.*?)(?:</final_answer>|$)", re.S)


def tool_arguments(tool: Tool, text: str) -> dict[str, Any]:
    """A tool's arguments from the model's plain-text input: a JSON object as it is, otherwise the
    text as the tool's first (required) parameter."""
    text = text.strip()
    if text.startswith("{"):
        try:
            value = json.loads(text)
            if isinstance(value, dict):
                return value
        except ValueError:
            pass
    properties = list((tool.parameters or {}).get("properties") or {})
    required = list((tool.parameters or {}).get("required") or [])
    name = (required or properties or ["input"])[0]
    return {name: text}


class XMLAgentComponent(_ToolsAgent):
    type_name = "XMLAgent"
    display_name = "XML Agent"
    description = "Agent that uses tools formatting instructions as xml to the Language Model."
    inputs = (
        Input("input_value", "Input", value="", input_types=_MESSAGE, input_kind="MessageInput"),
        *_loop_inputs(),
        Input("tools", "Tools", "other", "", input_types=("Tool",), is_list=True, input_kind="HandleInput"),
        *_model_inputs(),
        Input("chat_history", "Chat History", "other", "", input_types=("Data", "JSON"), is_list=True, advanced=True, input_kind="JSONInput"),
        Input("system_prompt", "System Prompt", value=XML_SYSTEM_PROMPT, multiline=True, info="System prompt for the agent.", input_kind="MultilineInput"),
        Input("user_prompt", "Prompt", value="{input}", multiline=True, info="This prompt must contain 'input' key.", input_kind="MultilineInput"),
        Input("llm", "Language Model", "other", "", input_types=("LanguageModel",), advanced=True, input_kind="HandleInput"),
    )

    async def answer(self, text: str) -> str:
        from flowless_engine.llm.base import ChatMessage

        user_prompt = to_text(self.param("user_prompt", "{input}")) or "{input}"
        if "{input}" not in user_prompt:
            raise ConfigurationError(f"Component '{self.name}': Prompt must contain 'input' key.")
        tools = self._tools()
        listing = "\n".join(f"{t.name}: {t.description}" for t in tools.values()) or "(no tools)"
        system = to_text(self.param("system_prompt", XML_SYSTEM_PROMPT)) or XML_SYSTEM_PROMPT
        chat = self.ctx.chat_model(await wired_model_config(self))
        history = history_messages(self.params.get("chat_history"))
        scratchpad = ""
        for _ in range(self._max_iterations()):
            values = {"tools": listing, "input": text, "agent_scratchpad": scratchpad}
            messages = [ChatMessage(role="system", content=re.sub(r"\{(tools|input|agent_scratchpad)\}", lambda m: values[m.group(1)], system)),
                        *history, ChatMessage(role="user", content=user_prompt.replace("{input}", text))]
            if scratchpad:
                messages.append(ChatMessage(role="assistant", content=scratchpad))
            result = await chat.complete(messages)
            self.add_usage(result.usage)
            reply = result.text or ""
            call = _TOOL.search(reply)
            final = _FINAL.search(reply)
            if final and (not call or final.start() < call.start()):
                return final.group(1).strip()
            if not call:
                if to_bool(self.param("handle_parsing_errors", True)):
                    return reply.strip()
                raise ComponentError(self.id, self.name, f"the model's reply has neither a <tool> nor a <final_answer>: {reply[:200]!r}")
            name, tool_input = call.group(1).strip(), call.group(2).strip()
            tool = tools.get(name)
            if tool is None:
                observation = f"Error: unknown tool '{name}' (tools: {', '.join(tools) or 'none'})"
            else:
                try:
                    observation = await tool.run(tool_arguments(tool, tool_input))
                except Exception as exc:  # the model sees the failure and can recover
                    observation = f"Error: {type(exc).__name__}: {exc}"
            self.log({"tool": name, "input": tool_input, "output": observation}, name="tool_call")
            scratchpad += f"<tool>{name}</tool><tool_input>{tool_input}</tool_input><observation>{observation}</observation>"
        raise LimitExceededError(f"Agent '{self.name}' reached max_iterations ({self._max_iterations()}) without a final answer")


# ---- OpenAPI agent -----------------------------------------------------------------------------

_METHODS = ("get", "post", "put", "patch", "delete")
_READ_ONLY = ("get",)
MAX_RESPONSE_CHARS = 8000
_OPENAPI_PROMPT = (
    "You are an agent that answers questions by calling an HTTP API described by an OpenAPI spec. First list the "
    "endpoints, then read the description of the ones you need, then call them. Answer from the API's responses only."
)


class OpenAPIAgentComponent(_ToolsAgent):
    type_name = "OpenAPIAgent"
    display_name = "OpenAPI Agent"
    description = "Agent to interact with OpenAPI API."
    inputs = (
        Input("input_value", "Input", value="", input_types=_MESSAGE, input_kind="MessageInput"),
        *_loop_inputs(),
        *_model_inputs(),
        Input("path", "File Path", "file", "", required=True, info="The OpenAPI spec (json, yaml, yml).", input_kind="FileInput"),
        Input("allow_dangerous_requests", "Allow Dangerous Requests", "bool", False, required=True, input_kind="BoolInput"),
        Input("llm", "Language Model", "other", "", input_types=("LanguageModel",), advanced=True, input_kind="HandleInput"),
    )

    async def spec(self) -> dict[str, Any]:
        path = self.params.get("path")
        path = path[0] if isinstance(path, list) and path else path
        path = to_text(path).strip()
        if not path:
            raise ConfigurationError(f"Component '{self.name}' needs an OpenAPI spec file")
        try:
            raw = (await self.ctx.files.read(path)).decode("utf-8", errors="replace")
        except FileNotFoundError as exc:
            raise ConfigurationError(f"Component '{self.name}': file not found: {path}") from exc
        try:
            if path.lower().endswith((".yaml", ".yml")):
                import yaml

                spec = yaml.safe_load(raw)
            else:
                spec = json.loads(raw)
        except Exception as exc:  # any parser error means the same: not a readable spec
            raise ConfigurationError(f"Component '{self.name}': the OpenAPI spec {path} cannot be read: {exc}") from exc
        if not isinstance(spec, dict) or not isinstance(spec.get("paths"), dict):
            raise ConfigurationError(f"Component '{self.name}': {path} is not an OpenAPI spec (no 'paths')")
        return spec

    async def answer(self, text: str) -> str:
        from flowless_engine.llm.base import ChatMessage

        if not to_bool(self.param("allow_dangerous_requests", False)):
            raise ConfigurationError(
                f"Component '{self.name}' calls the API the spec describes: turn on 'Allow Dangerous Requests' to let it make requests"
            )
        spec = await self.spec()
        servers = spec.get("servers") or []
        base = str(servers[0].get("url", "")).rstrip("/") if servers and isinstance(servers[0], dict) else ""
        if not base.startswith(("http://", "https://")):
            raise ConfigurationError(f"Component '{self.name}': the spec names no absolute server URL (servers[0].url)")
        tools = {t.name: t for t in self._api_tools(spec, base)}
        messages = [ChatMessage(role="system", content=_OPENAPI_PROMPT), ChatMessage(role="user", content=text)]
        return await self._loop(self.ctx.chat_model(await wired_model_config(self)), messages, tools)

    def _api_tools(self, spec: dict[str, Any], base: str) -> list[Tool]:
        paths: dict[str, Any] = spec["paths"]

        async def list_endpoints(args: dict[str, Any]) -> str:
            lines = []
            for route, item in paths.items():
                for method in _METHODS:
                    operation = item.get(method) if isinstance(item, dict) else None
                    if isinstance(operation, dict):
                        lines.append(f"{method.upper()} {route}: {operation.get('summary') or operation.get('description') or ''}".rstrip(": "))
            return "\n".join(lines) or "(no endpoints)"

        async def describe(args: dict[str, Any]) -> str:
            method, route = str(args.get("method", "get")).lower(), str(args.get("path", ""))
            operation = (paths.get(route) or {}).get(method)
            if not isinstance(operation, dict):
                return f"Error: no {method.upper()} {route} in the spec"
            return json.dumps(_resolved(operation, spec), ensure_ascii=False, default=str)[:MAX_RESPONSE_CHARS]

        async def call(args: dict[str, Any]) -> str:
            from urllib.parse import urlencode

            method, route = str(args.get("method", "get")).lower(), str(args.get("path", ""))
            if method not in _METHODS:
                return f"Error: method must be one of {', '.join(m.upper() for m in _METHODS)}"
            template = _matching_route(paths, route, method)
            if template is None:
                return f"Error: {method.upper()} {route} is not an endpoint of the spec"
            query = args.get("params") or {}
            url = base + route + (("?" + urlencode(query, doseq=True)) if isinstance(query, dict) and query else "")
            body = args.get("body")
            response = await self.ctx.http.request(method.upper(), url, json=body if method not in _READ_ONLY else None,
                                                   raise_for_status=False, follow_redirects=False)
            return f"HTTP {response.status}\n{response.text[:MAX_RESPONSE_CHARS]}"

        endpoint = {"method": {"type": "string", "enum": [m.upper() for m in _METHODS]}, "path": {"type": "string", "description": "e.g. /pets/1"}}
        return [
            Tool("list_endpoints", "Lists the API's endpoints (method, path, summary).", {"type": "object", "properties": {}}, list_endpoints, self.id),
            Tool("describe_endpoint", "The spec of one endpoint: parameters, request body, responses.",
                 {"type": "object", "properties": endpoint, "required": ["method", "path"]}, describe, self.id),
            Tool("request", "Calls an endpoint of the API. `path` with its path parameters filled in; `params` the query "
                 "parameters; `body` the JSON body (not for GET).",
                 {"type": "object", "properties": {**endpoint, "params": {"type": "object"}, "body": {"type": "object"}}, "required": ["method", "path"]},
                 call, self.id),
        ]


def _matching_route(paths: dict[str, Any], route: str, method: str) -> str | None:
    """The spec's path template a concrete path fills (`/pets/{id}` for `/pets/7`), for `method`."""
    for template, item in paths.items():
        if not isinstance(item, dict) or method not in item:
            continue
        pattern = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, route.split("?")[0]):
            return template
    return None


def _resolved(value: Any, spec: dict[str, Any], depth: int = 0) -> Any:
    """`$ref`s into the spec inlined (a few levels deep: enough to read, never looping)."""
    if depth > 6:
        return value
    if isinstance(value, dict):
        ref = value.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            target: Any = spec
            for part in ref[2:].split("/"):
                target = target.get(part, {}) if isinstance(target, dict) else {}
            return _resolved(target, spec, depth + 1)
        return {k: _resolved(v, spec, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolved(v, spec, depth + 1) for v in value]
    return value
