"""A fake Cohere v2 API server (stdlib only), from Cohere's public API reference: `POST /v2/chat`
(JSON, or server-sent events when `stream` is true: message-start, content-delta, tool-call-start,
tool-call-delta, message-end) and `POST /v2/embed` (`embeddings.float`), bearer key (401 without)."""

from __future__ import annotations

import json
from typing import Any

from tests.support.model_server import Conversation, ModelServer, Turn, _count_words, _halves, _Handler, _pieces, _text_of, embed


class _CohereHandler(_Handler):
    def _is_chat(self, path: str) -> bool:
        return path == "/v2/chat"

    def _routes(self) -> dict[tuple[str, str], Any]:
        return {("POST", "/v2/chat"): self._chat, ("POST", "/v2/embed"): self._embed}

    def _error_body(self, path: str, status: int, message: str) -> Any:
        return {"id": "err", "message": message}

    def _authorised(self) -> bool:
        if (self.headers.get("authorization") or "").startswith("Bearer ") and len(self.headers["authorization"]) > 7:
            return True
        self._send_json(401, {"id": "err", "message": "invalid api token"})
        return False

    def _chat(self, body: dict[str, Any]) -> None:
        if not self._authorised():
            return
        turns = [Turn(m.get("role", "user"), _text_of(m.get("content")) or m.get("tool_plan", "")) for m in body.get("messages") or []]
        tools = {t["function"]["name"]: t["function"].get("parameters") or {} for t in body.get("tools") or [] if t.get("function")}
        response_format = body.get("response_format") or {}
        conversation = Conversation(turns, tools, response_format.get("json_schema") if response_format.get("type") == "json_object" else None)
        answer = self.model_server.answer(conversation, self.arrival.scripted)
        counts = {"input_tokens": conversation.prompt_words, "output_tokens": answer.words}
        usage = {"billed_units": counts, "tokens": counts}
        calls = [{"id": self.model_server._next_call_id("call"), "type": "function", "function": {"name": n, "arguments": json.dumps(a)}}
                 for n, a in answer.tool_calls]
        finish = "TOOL_CALL" if calls else "COMPLETE"
        if not body.get("stream"):
            message: dict[str, Any] = {"role": "assistant"}
            if calls:
                message["tool_calls"] = calls
                message["tool_plan"] = "I will use a tool."
            else:
                message["content"] = [{"type": "text", "text": answer.text}]
            self._send_json(200, {"id": "chat-fake", "finish_reason": finish, "message": message, "usage": usage})
            return
        events: list[dict[str, Any]] = [{"type": "message-start", "id": "chat-fake", "delta": {"message": {"role": "assistant"}}}]
        if calls:
            for index, call in enumerate(calls):
                start = {**call, "function": {"name": call["function"]["name"], "arguments": ""}}
                events.append({"type": "tool-call-start", "index": index, "delta": {"message": {"tool_calls": start}}})
                events += [{"type": "tool-call-delta", "index": index, "delta": {"message": {"tool_calls": {"function": {"arguments": p}}}}}
                           for p in _halves(call["function"]["arguments"])]
                events.append({"type": "tool-call-end", "index": index})
        else:
            events.append({"type": "content-start", "index": 0, "delta": {"message": {"content": {"type": "text", "text": ""}}}})
            events += [{"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": p}}}} for p in _pieces(answer.text)]
            events.append({"type": "content-end", "index": 0})
        content_frames = len(events)
        events.append({"type": "message-end", "delta": {"finish_reason": finish, "usage": usage}})
        frames = [b"event: %s\ndata: %s\n\n" % (e["type"].encode(), json.dumps(e).encode()) for e in events]
        self._send_stream("text/event-stream", frames, content_frames)

    def _embed(self, body: dict[str, Any]) -> None:
        if not self._authorised():
            return
        texts = [str(t) for t in body.get("texts") or []]
        dimensions = int(body.get("output_dimension") or 64)
        words = sum(_count_words(t) for t in texts)
        self._send_json(200, {"id": "embed-fake", "texts": texts, "embeddings": {"float": [embed(t, dimensions) for t in texts]},
                              "meta": {"billed_units": {"input_tokens": words}}})


class CohereServer(ModelServer):
    handler = _CohereHandler

    def __init__(self, host: str = "127.0.0.1") -> None:
        super().__init__(host)
        self.base_url = self.url
