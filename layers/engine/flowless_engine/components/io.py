"""Inputs and outputs: Chat Input/Output (stored, streamed), Text Input/Output, Webhook."""

from __future__ import annotations

import json
from typing import Any

from flowless_engine.components.base import Component, Input, Output, to_bool, to_text
from flowless_engine.runtime.results import serialize_message
from flowless_engine.schema import Data, DataFrame, Message, TextStream

_MESSAGE_TYPES = ("Message",)
_ANY_TYPES = ("Data", "JSON", "DataFrame", "Table", "Message")


def message_event(message: Message) -> dict[str, Any]:
    """`add_message` payload: the serialized message with its id at the top level."""
    return {**serialize_message(message), "id": message.id}


def source_of(component: Component, field: str = "input_value") -> dict[str, Any]:
    """`properties.source` of a message: the component that produced its content."""
    upstream = component.sources.get(field)
    if upstream is None:
        return {"id": component.id, "display_name": component.name, "source": component.name}
    return {"id": upstream.id, "display_name": upstream.display_name, "source": upstream.display_name}


class ChatInput(Component):
    type_name = "ChatInput"
    display_name = "Chat Input"
    description = "Get chat inputs from the Playground."
    category = "input_output"
    icon = "MessagesSquare"
    is_input = True
    stores_messages = True
    inputs = (
        Input("input_value", "Input Text", value="", multiline=True),
        Input("should_store_message", "Store Messages", "bool", True, advanced=True),
        Input("sender", "Sender Type", value="User", advanced=True, options=("Machine", "User")),
        Input("sender_name", "Sender Name", value="User", advanced=True, input_types=_MESSAGE_TYPES),
        Input("session_id", "Session ID", value="", advanced=True, input_types=_MESSAGE_TYPES),
        Input("context_id", "Context ID", value="", advanced=True, input_types=_MESSAGE_TYPES),
        Input("files", "Files", "file", "", advanced=True, is_list=True),
    )
    outputs = (Output("message", "message_response", ("Message",), "Chat Message"),)

    async def message_response(self) -> Message:
        files = self.param("files") or []
        message = Message(
            text=to_text(self.param("input_value", "")),
            sender=to_text(self.param("sender")) or "User",
            sender_name=to_text(self.param("sender_name")) or "User",
            session_id=to_text(self.param("session_id")),
            context_id=to_text(self.param("context_id")),
            flow_id=self.ctx.flow_id,
            run_id=self.ctx.run_id,
            files=[f for f in (files if isinstance(files, list) else [files]) if f],
            properties={"source": {"id": self.id, "display_name": self.name, "source": self.name}},
        )
        if to_bool(self.param("should_store_message", True)) and message.session_id:
            await self.ctx.store_message(message)
            self.ctx.emit("add_message", message_event(message))
        return message


class ChatOutput(Component):
    type_name = "ChatOutput"
    display_name = "Chat Output"
    description = "Display a chat message in the Playground."
    category = "input_output"
    icon = "MessagesSquare"
    is_output = True
    stores_messages = True
    inputs = (
        Input("input_value", "Inputs", "other", value="", input_types=_ANY_TYPES, required=True, input_kind="HandleInput"),
        Input("should_store_message", "Store Messages", "bool", True, advanced=True),
        Input("sender", "Sender Type", value="Machine", advanced=True, options=("Machine", "User")),
        Input("sender_name", "Sender Name", value="AI", advanced=True, input_types=_MESSAGE_TYPES),
        Input("session_id", "Session ID", value="", advanced=True, input_types=_MESSAGE_TYPES),
        Input("context_id", "Context ID", value="", advanced=True, input_types=_MESSAGE_TYPES),
        Input("data_template", "Data Template", value="{text}", advanced=True, input_types=_MESSAGE_TYPES),
        Input("clean_data", "Basic Clean Data", "bool", True, advanced=True),
    )
    outputs = (Output("message", "message_response", ("Message",), "Output Message"),)

    async def message_response(self) -> Message:
        value = self.params.get("input_value")
        upstream = value if isinstance(value, Message) else None
        source = source_of(self)
        if upstream is not None and upstream.properties.get("source", {}).get("source"):
            source = dict(upstream.properties["source"])
        message = Message(
            text=upstream.text if upstream is not None else self._render(value),
            sender=to_text(self.param("sender")) or "Machine",
            sender_name=to_text(self.param("sender_name")) or "AI",
            session_id=to_text(self.param("session_id")),
            context_id=to_text(self.param("context_id")),
            flow_id=self.ctx.flow_id,
            run_id=self.ctx.run_id,
            files=list(upstream.files) if upstream is not None else [],
            properties={"source": source, "icon": upstream.properties.get("icon") if upstream else None},
        )
        if upstream is not None and upstream.usage is not None:
            message.usage = upstream.usage
        store = to_bool(self.param("should_store_message", True)) and bool(message.session_id)
        if isinstance(message.text, TextStream):
            await self._stream(message, announce=store)
        if upstream is not None and upstream.usage is not None:
            message.usage = upstream.usage
        if store:
            await self.ctx.store_message(message)
            self.ctx.emit("add_message", message_event(message))
        return message

    def _render(self, value: Any) -> str:
        template = to_text(self.param("data_template")) or "{text}"
        if isinstance(value, DataFrame):
            return _markdown_table(value)
        if isinstance(value, (Data, list)):
            return to_text(value, template)
        return to_text(value)

    async def _stream(self, message: Message, *, announce: bool) -> None:
        """Langflow's stream protocol: partial add_message with the first chunk, tokens, then
        (by the caller) the complete message. As in Langflow, only a message that is stored
        (and so announced) streams: tokens never refer to a message the client has not seen."""
        stream: TextStream = message.text
        first = True
        if self.ctx.stream and announce:
            async for chunk in stream.chunks():
                if first:
                    partial = Message(**{**message.__dict__, "text": chunk, "properties": {**message.properties, "state": "partial"}})
                    self.ctx.emit("add_message", message_event(partial))
                first = False
                self.ctx.emit("token", {"chunk": chunk, "id": message.id})
        message.text = await stream.text()
        if stream.usage is not None:
            message.usage = stream.usage


def _markdown_table(frame: DataFrame) -> str:
    rows = frame.to_list()
    if not rows:
        return ""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    lines = ["| " + " | ".join(columns) + " |", "| " + " | ".join("---" for _ in columns) + " |"]
    for row in rows:
        lines.append("| " + " | ".join(to_text(row.get(c, "")).replace("\n", " ") for c in columns) + " |")
    return "\n".join(lines)


class TextInput(Component):
    type_name = "TextInput"
    display_name = "Text Input"
    description = "Get text inputs from the Playground."
    category = "input_output"
    icon = "type"
    is_input = True
    inputs = (
        Input("input_value", "Text", value="", multiline=True, input_types=("Message",), input_kind="MultilineInput"),
        Input("use_global_variable", "Use Global Variable", "bool", False, advanced=True, input_kind="BoolInput",
              info="Enable to select from global variables (shows globe icon). Disables multiline editing."),
    )
    outputs = (Output("text", "text_response", ("Message",), "Output Text"),)

    async def text_response(self) -> Message:
        # With the globe toggle on, the exported field is load_from_db and its value names a variable.
        raw = await self.secret("input_value") if to_bool(self.param("use_global_variable", False)) else self.param("input_value", "")
        return Message(text=to_text(raw or ""), session_id=self.ctx.session_id, flow_id=self.ctx.flow_id)


class TextOutput(Component):
    type_name = "TextOutput"
    display_name = "Text Output"
    description = "Display a text output in the Playground."
    category = "input_output"
    icon = "type"
    is_output = True
    inputs = (Input("input_value", "Inputs", value="", input_types=("Message",)),)
    outputs = (Output("text", "text_response", ("Message",), "Output Text"),)

    async def text_response(self) -> Message:
        value = self.params.get("input_value")
        if isinstance(value, Message):
            await value.resolve()
        return Message(text=to_text(value), session_id=self.ctx.session_id, flow_id=self.ctx.flow_id)


class WebhookComponent(Component):
    type_name = "Webhook"
    display_name = "Webhook"
    description = "Receives the raw body of a webhook call and outputs it as Data."
    category = "input_output"
    icon = "webhook"
    is_input = True
    inputs = (
        Input("data", "Payload", value="", multiline=True),
        Input("curl", "cURL", value="", advanced=True),
        Input("endpoint", "Endpoint", value="", advanced=True),
    )
    outputs = (Output("output_data", "build_data", ("Data",), "Data"),)

    async def build_data(self) -> Data:
        raw = self.param("data", "")
        if isinstance(raw, Data):  # an upstream node feeds the payload (older flows chain webhooks)
            raw = raw.data
        elif not isinstance(raw, (str, dict, list)):
            raw = to_text(raw)
        if isinstance(raw, (dict, list)):
            body: Any = raw
        else:
            try:
                body = json.loads(raw) if raw else {}
            except ValueError:
                body = {"payload": raw}
        if not isinstance(body, dict):
            body = {"payload": body}
        return Data(data=body)
