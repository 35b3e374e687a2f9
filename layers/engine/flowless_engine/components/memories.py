"""Chat memory beyond Message History: `StoreMessage` (Message Store) and 1.13's `MemoryBase`.

Both read and write the history `/run` keeps (the run's message store: Flowless's messages
table, with its session TTL).

- Message Store stores one message (sender, sender name and session from its fields, else from
  the message, else the AI's) and answers it; with an external chat memory wired into `memory`
  (Astra DB Chat Memory), it is stored there instead.
- Memory Base is the long-term memory an Agent searches as a tool: the messages of this flow,
  of the current session (`filter_by_session`, the default) or of every live session of the
  flow, ranked by how well their words match `search_query` (BM25), best `top_k` first. The
  rows hold `content`, `_score` and, with `include_metadata`, the message's `session_id`,
  `sender`, `sender_name`, `timestamp` and `id`; the current run's own messages are left out.
  `memory_base` names the memory; in Flowless a
  flow has one, its chat history, so the name only labels it.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from typing import Any

from flowless_engine.components.base import Component, Input, Output, Tool, to_bool, to_int, to_text
from flowless_engine.errors import ConfigurationError
from flowless_engine.schema import DataFrame, Message

MAX_SESSIONS = 50  # sessions read for a cross-session recall
PER_SESSION = 200  # messages read per session
_WORD = re.compile(r"\w+", re.UNICODE)


class StoreMessageComponent(Component):
    type_name = "StoreMessage"
    display_name = "Message Store"
    description = "Stores a chat message or text into Langflow tables or an external memory."
    category = "processing"
    icon = "message-square-text"
    inputs = (
        Input("message", "Message", "str", "", input_types=("Message",), required=True, input_kind="MessageTextInput"),
        Input("memory", "External Memory", "other", "", input_types=("Memory",), input_kind="HandleInput"),
        Input("sender", "Sender", "str", "", input_types=("Message",), advanced=True, input_kind="MessageTextInput"),
        Input("sender_name", "Sender Name", "str", "", input_types=("Message",), advanced=True, input_kind="MessageTextInput"),
        Input("session_id", "Session ID", "str", "", input_types=("Message",), advanced=True, input_kind="MessageTextInput"),
    )
    outputs = (Output("stored_messages", "store_message", ("Message",), "Stored Messages"),)

    async def store_message(self) -> Message:
        value = self.params.get("message")
        if isinstance(value, Message):
            await value.resolve()
            message = Message(**{**value.__dict__})
        else:
            message = Message(text=to_text(value))
        if not message.plain_text:
            raise ConfigurationError(f"Component '{self.name}' has no message to store")
        message.session_id = to_text(self.param("session_id")) or message.session_id or self.ctx.session_id
        message.sender = to_text(self.param("sender")) or message.sender or "Machine"
        message.sender_name = to_text(self.param("sender_name")) or message.sender_name or "AI"
        message.flow_id = self.ctx.flow_id
        message.run_id = self.ctx.run_id
        memory = self.params.get("memory")
        if hasattr(memory, "add_messages") and hasattr(memory, "get_messages"):  # an external chat memory node
            await memory.add_messages([message], message.session_id)
        elif memory not in (None, ""):
            raise ConfigurationError(f"Component '{self.name}': this memory is not supported by Flowless; "
                                     "leave External Memory empty to use the flow's own history")
        else:
            await self.ctx.store_message(message)
        self.status = message
        return message


def _words(text: str) -> list[str]:
    return [w.casefold() for w in _WORD.findall(text)]


def bm25(query: str, documents: list[str], *, k1: float = 1.2, b: float = 0.75) -> list[float]:
    """One relevance score per document (0 when no query word occurs in it)."""
    terms = set(_words(query))
    tokenised = [_words(d) for d in documents]
    if not terms or not tokenised:
        return [0.0] * len(documents)
    average = sum(len(t) for t in tokenised) / len(tokenised) or 1.0
    frequency = Counter(w for t in tokenised for w in set(t) if w in terms)
    total = len(tokenised)
    scores = []
    for words in tokenised:
        counts = Counter(words)
        score = 0.0
        for term in terms:
            tf = counts.get(term, 0)
            if tf:
                idf = math.log(1 + (total - frequency[term] + 0.5) / (frequency[term] + 0.5))
                score += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(words) / average))
        scores.append(score)
    return scores


class MemoryBaseComponent(Component):
    type_name = "MemoryBase"
    display_name = "Memory Base"
    description = ("Retrieve long-term memory from a Memory Base attached to this workflow. "
                   "When 'Filter by Session' is off, queries run across all sessions.")
    category = "files_and_knowledge"
    icon = "brain"
    inputs = (
        Input("memory_base", "Memory Base", "str", "", required=True, input_kind="DropdownInput",
              info="Memory Base whose captured conversation history will be searched."),
        Input("search_query", "Search Query", "str", "", input_types=("Message",), input_kind="MessageTextInput",
              info="Query used for semantic retrieval against the memory base."),
        Input("top_k", "Top K Results", "int", 5, advanced=True, input_kind="IntInput"),
        Input("include_metadata", "Include Metadata", "bool", True, advanced=True, input_kind="BoolInput"),
        Input("filter_by_session", "Filter by Session", "bool", True, advanced=True, input_kind="BoolInput"),
    )
    outputs = (Output("retrieve_data", "retrieve_memory", ("DataFrame",), "Results"),)

    async def retrieve_memory(self, query: str | None = None) -> DataFrame:
        if query is None:
            value = self.params.get("search_query")
            if isinstance(value, Message):
                await value.resolve()
            query = to_text(value)
        query = query.strip()
        if not query:
            return DataFrame(rows=[])
        messages = await self._messages()
        texts = [m.plain_text for m in messages]
        scored = sorted(((s, i) for i, s in enumerate(bm25(query, texts)) if s > 0), key=lambda pair: (-pair[0], -pair[1]))
        include_metadata = to_bool(self.param("include_metadata", True))
        rows = []
        for score, index in scored[: max(1, to_int(self.param("top_k", 5), 5))]:
            message = messages[index]
            row: dict[str, Any] = {"content": message.plain_text, "_score": round(score, 6)}
            if include_metadata:
                row.update(session_id=message.session_id, sender=message.sender, sender_name=message.sender_name,
                           timestamp=message.timestamp, id=message.id)
            rows.append(row)
        self.status = rows
        return DataFrame(rows=rows)

    async def _messages(self) -> list[Message]:
        store = self.ctx.messages
        session_ids = [self.ctx.session_id]
        if not to_bool(self.param("filter_by_session", True)):
            listing = getattr(store, "session_ids", None)
            if listing is not None:
                others = [s for s in await listing(self.ctx.flow_id) if s != self.ctx.session_id]
                session_ids = [self.ctx.session_id, *others[-(MAX_SESSIONS - 1):]]
        found: list[Message] = []
        for session_id in session_ids:
            found.extend(await store.get_messages(flow_id=self.ctx.flow_id, session_id=session_id, limit=PER_SESSION))
        # What this run said is the question being asked, not a memory.
        return [m for m in found if not (m.run_id and m.run_id == self.ctx.run_id)]

    def as_tools(self) -> list[Tool]:
        name, description = self.tool_metadata(
            "retrieve_memory",
            "Returns matching memory chunks. Scoped to the current session by default; turn 'Filter by Session' off to retrieve across sessions.",
        )

        async def run(arguments: dict[str, Any]) -> str:
            frame = await self.retrieve_memory(to_text(arguments.get("search_query") or ""))
            return json.dumps(frame.rows, ensure_ascii=False, default=str)

        parameters = {
            "type": "object",
            "properties": {"search_query": {"type": "string", "description": "Query used for semantic retrieval against the memory base."}},
            "required": ["search_query"],
        }
        return [Tool(name=name, description=description, parameters=parameters, run=run, source_id=self.id)]
