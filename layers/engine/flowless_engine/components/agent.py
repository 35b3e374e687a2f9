"""Agent: an LLM with the session's chat history, tools (connected components in tool mode,
plus the built-in calculator and current-date tools) and an optional structured output.

An Agent in tool mode (its `component_as_tool` output wired to another agent's `tools`) is one
tool, `Call_Agent` as Langflow names it: the calling agent passes `input_value`, the sub-agent runs
its own loop (its model, tools, instructions and the session's history) and its answer is the
tool result. Its usage counts toward the calling agent's; nesting is bounded (MAX_AGENT_DEPTH).
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import AsyncIterator
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any

from flowless_engine.components.base import Component, Input, Output, Tool, to_bool, to_int, to_text
from flowless_engine.components.models import PROVIDER_FIELDS, _images_of, resolve_model_config
from flowless_engine.errors import ComponentError, LimitExceededError
from flowless_engine.schema import Data, Message, TextStream, Usage

_SENDER_ROLE = {"User": "user", "Machine": "assistant"}

# Agents calling agents as tools: how deep the current call is, and where a sub-agent reports the
# usage of its model calls (the calling agent adds it to its own).
MAX_AGENT_DEPTH = 4
_AGENT_DEPTH: ContextVar[int] = ContextVar("flowless_agent_depth", default=0)
_TOOL_USAGE: ContextVar[list[Usage] | None] = ContextVar("flowless_tool_usage", default=None)
# What pre-1.13 Agent nodes (those with an `agent_description` field) describe themselves with.
DEFAULT_TOOLS_DESCRIPTION = "A helpful assistant with access to the following tools:"
AGENT_TOOL_NAME = "Call_Agent"
INPUT_INFO = "The input provided by the user for the agent to process."


@dataclasses.dataclass
class AgentTool(Tool):
    """An agent offered as a tool; `agent_name` (the node's display name) tells same-named ones apart."""

    agent_name: str = ""


def schema_from_table(rows: Any) -> dict[str, Any] | None:
    """JSON schema of Langflow's `output_schema` table (name, description, type, multiple)."""
    if not isinstance(rows, list) or not rows:
        return None
    kinds = {"str": "string", "int": "integer", "float": "number", "bool": "boolean", "dict": "object", "list": "array"}
    properties: dict[str, Any] = {}
    for row in rows:
        if not isinstance(row, dict) or not row.get("name"):
            continue
        item: dict[str, Any] = {"type": kinds.get(str(row.get("type", "str")), "string")}
        if row.get("description"):
            item["description"] = str(row["description"])
        if str(row.get("multiple", "False")).lower() == "true":
            item = {"type": "array", "items": item}
        properties[str(row["name"])] = item
    if not properties:
        return None
    return {"type": "object", "properties": properties, "required": list(properties)}


def calculator_tool(agent: Component) -> Tool:
    """Langflow's built-in calculator: the Calculator component as a tool (`evaluate_expression`)."""
    from flowless_engine.components.tools import CalculatorComponent

    return CalculatorComponent(agent.vertex, {}, agent.ctx).as_tools()[0]


def current_date_tool() -> Tool:
    async def current_date(args: dict[str, Any]) -> str:
        return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S %Z")

    return Tool(
        name="get_current_date",
        description="Returns the current date and time in UTC.",
        parameters={"type": "object", "properties": {}, "additionalProperties": False},
        run=current_date,
    )


class AgentComponent(Component):
    type_name = "Agent"
    display_name = "Agent"
    description = "Define the agent's instructions, then enter a task to complete using tools."
    category = "models_and_agents"
    icon = "bot"
    inputs = (
        Input("model", "Language Model", "model", "", input_types=("LanguageModel",), required=True),
        Input("api_key", "API Key", value="", password=True, advanced=True),
        Input("system_prompt", "Agent Instructions", value="You are a helpful assistant that can use tools to answer questions and perform tasks.", multiline=True),
        Input("input_value", "Input", value="", input_types=("Message",)),
        Input("tools", "Tools", "other", "", input_types=("Tool",), is_list=True),
        Input("n_messages", "Number of Chat History Messages", "int", 100, advanced=True),
        Input("add_calculator_tool", "Calculator", "bool", False, advanced=True),
        Input("add_current_date_tool", "Current Date", "bool", True, advanced=True),
        Input("max_iterations", "Max Iterations", "int", 15, advanced=True),
        Input("output_schema", "Output Schema", "table", [], advanced=True, is_list=True),
        Input("format_instructions", "Output Format Instructions", value="", advanced=True, multiline=True),
        Input("stream", "Stream", "bool", False, advanced=True),
        Input("max_tokens", "Max Tokens", "int", 0, advanced=True),
        Input("context_id", "Context ID", value="", advanced=True, input_types=("Message",)),
        *PROVIDER_FIELDS,
        Input("handle_parsing_errors", "Handle Parse Errors", "bool", True, advanced=True, input_kind="BoolInput"),
    )
    outputs = (
        Output("response", "message_response", ("Message",), "Response"),
        Output("structured_response", "json_response", ("Data",), "Structured Response"),
    )

    # ---- outputs --------------------------------------------------------------------------
    async def message_response(self) -> Message:
        config = await resolve_model_config(self)
        model = self.ctx.chat_model(config)
        messages = await self._conversation()
        tools = self._tools()
        source = {"id": self.id, "display_name": self.name, "source": config.model}
        if to_bool(self.param("stream", False)):
            usage_box: dict[str, Usage] = {}
            stream = TextStream(self._loop_stream(model, messages, tools, usage_box), on_done=lambda s: self._stream_done(s, usage_box))
            return Message(text=stream, session_id=self.ctx.session_id, flow_id=self.ctx.flow_id, properties={"source": source})
        text = await self._loop(model, messages, tools)
        message = Message(text=text, session_id=self.ctx.session_id, flow_id=self.ctx.flow_id, properties={"source": source})
        message.usage = self.usage
        return message

    async def json_response(self) -> Data:
        from flowless_engine.llm.base import ChatMessage

        config = await resolve_model_config(self)
        model = self.ctx.chat_model(config)
        schema = schema_from_table(self.params.get("output_schema")) or {"type": "object", "additionalProperties": True}
        instructions = "\n\n".join(p for p in (to_text(self.param("system_prompt")), to_text(self.param("format_instructions"))) if p)
        user = self.params.get("input_value")
        if isinstance(user, Message):
            await user.resolve()
        result = await model.complete(
            [ChatMessage(role="system", content=instructions), ChatMessage(role="user", content=to_text(user))],
            json_schema=schema,
        )
        self.add_usage(result.usage)
        try:
            parsed = json.loads(_strip_fences(result.text))
        except ValueError:
            raise ComponentError(self.id, self.name, "the model did not return valid JSON for the output schema") from None
        if isinstance(parsed, list):
            parsed = parsed[0] if len(parsed) == 1 and isinstance(parsed[0], dict) else {"results": parsed}
        return Data(data=parsed if isinstance(parsed, dict) else {"result": parsed})

    # ---- the agent as a tool --------------------------------------------------------------
    def as_tools(self) -> list[Tool]:
        from flowless_engine.components.toolmode import _tool_name

        if "message_response" not in {o.method for o in self.outputs}:  # crews answer through other outputs
            return super().as_tools()
        name, description = self.tool_metadata(AGENT_TOOL_NAME, self._tool_description())
        schema = {
            "type": "object",
            "properties": {"input_value": {"type": "string", "description": INPUT_INFO}},
            "required": ["input_value"],
        }
        return [AgentTool(name=_tool_name(name), description=description, parameters=schema, run=self._answer_as_tool,
                          source_id=self.id, agent_name=self.name)]

    def _tool_description(self) -> str:
        """Older Agent nodes: their `agent_description` followed by their tools' names (as Langflow
        wrote it, without a separator); 1.13 nodes: the node's description."""
        if "agent_description" in self.vertex.fields:
            names = ", ".join(t.name for t in self.params.get("tools") or [] if isinstance(t, Tool))
            return f"{to_text(self.param('agent_description')) or DEFAULT_TOOLS_DESCRIPTION}{names}"
        return self.vertex.description or self.description

    async def _answer_as_tool(self, arguments: dict[str, Any]) -> str:
        depth = _AGENT_DEPTH.get()
        if depth >= MAX_AGENT_DEPTH:
            raise LimitExceededError(f"Agent '{self.name}': agents calling agents nest deeper than {MAX_AGENT_DEPTH}")
        params = dict(self.params, stream=False)
        if "input_value" in arguments:
            params["input_value"] = to_text(arguments["input_value"])
        call = type(self)(self.vertex, params, self.ctx)  # one call's state, apart from other calls
        call.sources = self.sources
        token = _AGENT_DEPTH.set(depth + 1)
        try:
            message = await call.message_response()
        finally:
            _AGENT_DEPTH.reset(token)
            sink = _TOOL_USAGE.get()
            if sink is not None and call.usage is not None:
                sink.append(call.usage)
        return message.plain_text

    # ---- conversation and tools -------------------------------------------------------
    async def _conversation(self) -> list[Any]:
        from flowless_engine.llm.base import ChatMessage

        messages = []
        system = to_text(self.param("system_prompt"))
        if system:
            messages.append(ChatMessage(role="system", content=system))
        messages.extend(await self._history())
        user = self.params.get("input_value")
        if isinstance(user, Message):
            await user.resolve()
        messages.append(ChatMessage(role="user", content=to_text(user), images=await _images_of(self, user)))
        return messages

    async def _history(self) -> list[Any]:
        """The session's earlier messages (this run's own messages excluded), newest `n_messages`."""
        from flowless_engine.llm.base import ChatMessage

        limit = to_int(self.param("n_messages", 100), 100)
        if limit <= 0 or not self.ctx.session_id:
            return []
        # Fetch enough to still have `limit` earlier messages once this run's own are dropped.
        fetch = limit + len(self.ctx.stored_messages)
        history = await self.ctx.messages.get_messages(flow_id=self.ctx.flow_id, session_id=self.ctx.session_id, limit=fetch)
        current = {m.id for m in self.ctx.stored_messages}
        turns = [
            ChatMessage(role=_SENDER_ROLE[m.sender], content=m.plain_text)
            for m in history
            if m.sender in _SENDER_ROLE and m.id not in current and m.run_id != self.ctx.run_id
        ]
        return turns[-limit:]

    def _tools(self) -> dict[str, Tool]:
        tools: dict[str, Tool] = {}
        for tool in _distinct_names([t for t in self.params.get("tools") or [] if isinstance(t, Tool)]):
            tools[tool.name] = tool
        if to_bool(self.param("add_calculator_tool")):
            calculator = calculator_tool(self)
            tools.setdefault(calculator.name, calculator)
        if to_bool(self.param("add_current_date_tool")):
            date = current_date_tool()
            tools.setdefault(date.name, date)
        return tools

    def _max_iterations(self) -> int:
        wanted = to_int(self.param("max_iterations", 15), 15)
        return max(1, min(wanted, self.ctx.settings.max_agent_iterations))

    async def _loop(self, model: Any, messages: list[Any], tools: dict[str, Tool]) -> str:
        specs = _tool_specs(tools)
        for _ in range(self._max_iterations()):
            result = await model.complete(messages, tools=specs or None)
            self.add_usage(result.usage)
            if not result.tool_calls:
                return result.text
            self.add_usage(await self._run_tools(messages, result, tools))
        raise LimitExceededError(f"Agent '{self.name}' reached max_iterations ({self._max_iterations()}) without a final answer")

    async def _loop_stream(self, model: Any, messages: list[Any], tools: dict[str, Tool], usage_box: dict[str, Usage]) -> AsyncIterator[str]:
        """The same loop, streaming: text deltas of the final answer are yielded as they arrive."""
        specs = _tool_specs(tools)
        for _ in range(self._max_iterations()):
            final = None
            async for item in model.stream(messages, tools=specs or None):
                if isinstance(item, str):
                    yield item
                else:
                    final = item
            if final is None:
                return
            usage_box["usage"] = usage_box.get("usage", Usage()).add(final.usage)
            self.add_usage(final.usage)
            if not final.tool_calls:
                return
            used = await self._run_tools(messages, final, tools)
            if used is not None:
                usage_box["usage"] = usage_box.get("usage", Usage()).add(used)
                self.add_usage(used)
        raise LimitExceededError(f"Agent '{self.name}' reached max_iterations ({self._max_iterations()}) without a final answer")

    def _stream_done(self, stream: TextStream, usage_box: dict[str, Usage]) -> None:
        stream.usage = usage_box.get("usage")

    async def _run_tools(self, messages: list[Any], result: Any, tools: dict[str, Tool]) -> Usage | None:
        """Run the model's tool calls; answers the usage of the models the tools called (sub-agents)."""
        used: list[Usage] = []
        sink = _TOOL_USAGE.set(used)
        try:
            await self._call_tools(messages, result, tools)
        finally:
            _TOOL_USAGE.reset(sink)
        total = None
        for usage in used:
            total = (total or Usage()).add(usage)
        return total

    async def _call_tools(self, messages: list[Any], result: Any, tools: dict[str, Tool]) -> None:
        from flowless_engine.llm.base import ChatMessage

        messages.append(ChatMessage(role="assistant", content=result.text or None, tool_calls=list(result.tool_calls)))
        for call in result.tool_calls:
            tool = tools.get(call.name)
            self.ctx.emit("build_start", {"id": tool.source_id if tool and tool.source_id else self.id})
            if tool is None:
                output = f"Error: unknown tool '{call.name}'"
            else:
                try:
                    args = json.loads(call.arguments or "{}")
                    output = await tool.run(args if isinstance(args, dict) else {})
                except Exception as exc:  # the model sees the failure and can recover
                    output = f"Error: {type(exc).__name__}: {exc}"
            self.log({"tool": call.name, "arguments": call.arguments, "output": output}, name="tool_call")
            self.ctx.emit("build_end", {"id": tool.source_id if tool and tool.source_id else self.id})
            messages.append(ChatMessage(role="tool", content=output, tool_call_id=call.id, name=call.name))


def _distinct_names(tools: list[Tool]) -> list[Tool]:
    """Several agents wired as tools all answer to `Call_Agent`: same-named tools get their agent's
    display name appended (or a number), so the model can tell them apart and call each."""
    from flowless_engine.components.toolmode import _tool_name

    counts = Counter(t.name for t in tools)
    taken = {t.name for t in tools if counts[t.name] == 1}
    out: list[Tool] = []
    for tool in tools:
        if counts[tool.name] > 1:
            label = tool.agent_name if isinstance(tool, AgentTool) else ""
            name = _tool_name(f"{tool.name}_{label}") if label else tool.name
            index = 1
            while name in taken:
                index += 1
                name = _tool_name(f"{tool.name}_{label}")[:60] + f"_{index}" if label else f"{tool.name}_{index}"
            tool = dataclasses.replace(tool, name=name)
        taken.add(tool.name)
        out.append(tool)
    return out


def _tool_specs(tools: dict[str, Tool]) -> list[Any]:
    from flowless_engine.llm.base import ToolSpec

    return [ToolSpec(name=t.name, description=t.description, parameters=t.parameters) for t in tools.values()]


def _strip_fences(text: str) -> str:
    """Models sometimes wrap JSON in ``` fences."""
    stripped = text.strip()
    if stripped.startswith("```"):
        stripped = stripped.split("\n", 1)[1] if "\n" in stripped else ""
        stripped = stripped.rsplit("```", 1)[0]
    return stripped.strip()
