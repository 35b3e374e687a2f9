"""A vertex whose behaviour is approved user code: its outputs are computed by the code runner
(runtime/code.py), one call per output, with the vertex's resolved inputs as JSON."""

from __future__ import annotations

from typing import Any

from flowless_engine.components.base import Component, Output, Tool, to_text
from flowless_engine.errors import CodeNotApprovedError, CustomCodeError


# Edited chat components keep Langflow's storage rule: their messages are stored and announced.
_CHAT_TYPES = {"ChatInput", "ChatOutput"}


class SandboxedComponent(Component):
    category = "custom_components"

    def __init__(self, vertex, params, ctx) -> None:  # type: ignore[no-untyped-def]
        super().__init__(vertex, params, ctx)
        self.stores_messages = vertex.type in _CHAT_TYPES
        declared = [o for o in vertex.outputs if o.get("name")]
        self.outputs = tuple(Output(o["name"], "_from_sandbox", tuple(o.get("types") or ())) for o in declared) or (Output("output", "_from_sandbox", ("Data",)),)

    async def compute_output(self, output: Output) -> Any:
        from flowless_engine.runtime.build import NotCheckpointable, from_checkpoint, to_checkpoint
        from flowless_engine.schema import Message

        self._current_output = output.name
        runner = self.ctx.code_runner
        hashes = self.vertex.code_hashes
        if runner is None or not all(runner.approved(digest) for digest in hashes.values()):
            raise CodeNotApprovedError([{"node_id": self.id, "type": self.vertex.type, "field": f, "sha256": h} for f, h in hashes.items()])
        inputs: dict[str, Any] = {}
        for name, value in self.params.items():
            if isinstance(value, Message) and value.is_streaming:
                await value.resolve()
            try:
                inputs[name] = to_checkpoint(await self._credential(name, value))
            except NotCheckpointable as exc:
                raise CustomCodeError(self.id, self.name, f"input '{name}' carries a {exc}, which cannot be handed to custom code") from None
        call = {
            "tenant": self.ctx.tenant,
            "flow_id": self.ctx.flow_id,
            "run_id": self.ctx.run_id,
            "session_id": self.ctx.session_id,
            "node": {
                "id": self.id,
                "type": self.vertex.type,
                "display_name": self.name,
                "code": dict(self.vertex.user_code),
                "outputs": [{"name": o.get("name"), "method": o.get("method"), "types": o.get("types") or []} for o in self.vertex.outputs],
            },
            "output": output.name,
            "fields": {name: {k: v for k, v in spec.items() if k in _FIELD_KEYS} for name, spec in self.vertex.fields.items()},
            "inputs": inputs,
        }
        answer = await runner.run(call)
        for entry in answer.get("logs") or []:
            if isinstance(entry, dict):
                self.log(entry.get("message"), str(entry.get("name") or ""))
        if not answer.get("ok"):
            raise CustomCodeError(self.id, self.name, str(answer.get("error") or "the sandbox gave no answer"))
        if answer.get("status") is not None:
            self.status = answer["status"]
        if answer.get("stop"):
            for name in answer["stop"]:
                self.stop(str(name))
        try:
            value = from_checkpoint(answer.get("value"))
        except (ValueError, KeyError, TypeError) as exc:
            raise CustomCodeError(self.id, self.name, f"the output is not a value Flowless can pass on ({exc})") from None
        if self.stores_messages and isinstance(value, Message):
            await self._store(value)
        return value

    async def _store(self, message: "Message") -> None:
        from flowless_engine.components.base import to_bool
        from flowless_engine.components.io import message_event

        message.session_id = message.session_id or self.ctx.session_id
        message.flow_id = message.flow_id or self.ctx.flow_id
        message.run_id = self.ctx.run_id
        message.sender = message.sender or ("User" if self.vertex.type == "ChatInput" else "Machine")
        message.sender_name = message.sender_name or ("User" if self.vertex.type == "ChatInput" else "AI")
        if to_bool(self.params.get("should_store_message", True)) and message.session_id:
            await self.ctx.store_message(message)
            self.ctx.emit("add_message", message_event(message))

    def as_tools(self) -> list[Tool]:
        """Tool mode: one tool per output, its arguments the fields marked `tool_mode`; each call
        of a tool is one sandbox call with those fields set from the Agent's arguments."""
        arguments = [name for name, spec in self.vertex.fields.items() if spec.get("tool_mode")]
        schema = {
            "type": "object",
            "properties": {name: {"type": "string", "description": str(self.vertex.fields[name].get("info") or self.vertex.fields[name].get("display_name") or name)} for name in arguments},
            "required": [],
        }
        rows = [row for row in self.params.get("tools_metadata") or [] if isinstance(row, dict)]
        tools = []
        for index, output in enumerate(o for o in self.outputs if o.name != "component_as_tool"):
            row = rows[index] if index < len(rows) else {}
            if row.get("status") is False:
                continue
            name = str(row.get("name") or output.name)
            description = str(row.get("description") or self.vertex.description or self.name)

            async def run(args: dict[str, Any], output: Output = output) -> str:
                saved = dict(self.params)
                self.params.update({key: value for key, value in args.items() if key in arguments})
                try:
                    return to_text(await self.compute_output(output))
                finally:
                    self.params = saved

            tools.append(Tool(name, description, schema, run, source_id=self.id))
        return tools

    async def _credential(self, name: str, value: Any) -> Any:
        """A `load_from_db` field of this node: the variable's value (this node's own, only), from
        the tenant's variables or the request's, never from the process environment (the
        environment fallback would hand the run function's own credentials to the code)."""
        from flowless_engine.errors import MissingVariableError
        from flowless_engine.runtime.services import DictVariableResolver

        spec = self.field_spec(name)
        if not (spec.get("load_from_db") and isinstance(value, str) and value):
            return value
        for candidate in (value, value.upper()):
            if candidate in self.ctx.request_variables:
                return self.ctx.request_variables[candidate]
        resolver = getattr(self.ctx.variables, "primary", self.ctx.variables)  # past an environment fallback
        stored = resolver.values.get(value) if isinstance(resolver, DictVariableResolver) else await resolver.get(value)
        if stored is None:
            raise MissingVariableError(value, field=name)
        return stored


# Field attributes the code may look at (its template), never the engine's own bookkeeping.
_FIELD_KEYS = {"type", "value", "list", "required", "options", "input_types", "display_name", "advanced", "_input_type", "tool_mode", "password"}
