"""Message History (`Memory`): retrieve the session's messages, or store one explicitly."""

from __future__ import annotations

from typing import Any

from flowless_engine.components.base import Component, Input, Output, format_data, to_int, to_text
from flowless_engine.schema import Data, DataFrame, Message

_SENDER_FILTER = {"Machine": "Machine", "User": "User"}


class MemoryComponent(Component):
    type_name = "Memory"
    display_name = "Message History"
    description = "Stores or retrieves stored chat messages of the session."
    category = "helpers"
    icon = "message-square-more"
    inputs = (
        Input("mode", "Mode", "tab", "Retrieve", options=("Retrieve", "Store"), input_kind="TabInput"),
        Input("memory", "External Memory", "other", "", input_types=("Memory",), advanced=True, input_kind="HandleInput"),
        Input("message", "Message", value="", input_types=("Message",)),
        Input("sender_type", "Sender Type", value="Machine and User", options=("Machine", "User", "Machine and User"), advanced=True),
        Input("sender", "Sender", value="", advanced=True),
        Input("sender_name", "Sender Name", value="", advanced=True, input_types=("Message",)),
        Input("n_messages", "Number of Messages", "int", 100, advanced=True),
        Input("session_id", "Session ID", value="", advanced=True, input_types=("Message",)),
        Input("context_id", "Context ID", value="", advanced=True, input_types=("Message",), input_kind="MessageTextInput"),
        Input("order", "Order", value="Ascending", options=("Ascending", "Descending"), advanced=True),
        Input("template", "Template", value="{sender_name}: {text}", advanced=True, multiline=True),
    )
    outputs = (
        Output("messages_text", "retrieve_messages_as_text", ("Message",), "Message"),
        Output("dataframe", "retrieve_messages_dataframe", ("DataFrame",), "Dataframe"),
        Output("messages", "retrieve_messages_data", ("Data",), "Data"),
    )

    _found: list[Message] | None = None

    async def _messages(self) -> list[Message]:
        """The messages every output renders; computed once per run, so Store mode writes once
        however many outputs are wired."""
        if self._found is None:
            self._found = await self._store() if str(self.param("mode", "Retrieve")) == "Store" else await self._retrieve()
        return self._found

    def _external(self) -> Any:
        """An external chat memory wired into `memory` (e.g. Astra DB Chat Memory), or None."""
        memory = self.params.get("memory")
        return memory if hasattr(memory, "get_messages") and hasattr(memory, "add_messages") else None

    async def _retrieve(self) -> list[Message]:
        session_id = to_text(self.param("session_id")) or self.ctx.session_id
        external = self._external()
        if external is not None:
            found = await external.get_messages(session_id, limit=to_int(self.param("n_messages", 100), 100))
            sender = _SENDER_FILTER.get(to_text(self.param("sender_type")) or to_text(self.param("sender")))
            found = [m for m in found if sender is None or m.sender == sender]
            return list(reversed(found)) if str(self.param("order", "Ascending")).lower().startswith("desc") else found
        sender = _SENDER_FILTER.get(to_text(self.param("sender_type")) or to_text(self.param("sender")))
        found = await self.ctx.messages.get_messages(
            flow_id=self.ctx.flow_id,
            session_id=session_id,
            limit=to_int(self.param("n_messages", 100), 100),
            sender=sender,
            sender_name=to_text(self.param("sender_name")) or None,
        )
        if str(self.param("order", "Ascending")).lower().startswith("desc"):
            found = list(reversed(found))
        return found

    async def _store(self) -> list[Message]:
        value = self.params.get("message")
        if isinstance(value, Message):
            await value.resolve()
            message = Message(**{**value.__dict__})
        else:
            message = Message(text=to_text(value), sender=to_text(self.param("sender")) or "Machine")
        message.session_id = to_text(self.param("session_id")) or self.ctx.session_id
        message.sender_name = to_text(self.param("sender_name")) or message.sender_name or "AI"
        message.flow_id = self.ctx.flow_id
        message.run_id = self.ctx.run_id
        external = self._external()
        if external is not None:
            await external.add_messages([message], message.session_id)
        else:
            await self.ctx.store_message(message)
        return [message]

    async def retrieve_messages_as_text(self) -> Message:
        template = to_text(self.param("template")) or "{sender_name}: {text}"
        rows = [format_data(_as_data(m), template) for m in await self._messages()]
        return Message(text="\n".join(rows), session_id=self.ctx.session_id, flow_id=self.ctx.flow_id)

    async def retrieve_messages_dataframe(self) -> DataFrame:
        return DataFrame(rows=[_as_data(m).data for m in await self._messages()])

    async def retrieve_messages_data(self) -> list[Data]:
        return [_as_data(m) for m in await self._messages()]


def _as_data(message: Message) -> Data:
    return Data(
        data={
            "text": message.plain_text,
            "sender": message.sender,
            "sender_name": message.sender_name,
            "session_id": message.session_id,
            "timestamp": message.timestamp,
            "id": message.id,
        }
    )
