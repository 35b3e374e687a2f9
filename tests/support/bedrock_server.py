"""A fake Amazon Bedrock Runtime (stdlib only), from the public Converse API reference:
`POST /model/{modelId}/converse` (JSON) and `/model/{modelId}/converse-stream` (the AWS event
stream binary framing: prelude, headers, payload, CRC32s), SigV4-signed requests (a request
without an `AWS4-HMAC-SHA256` authorization is refused 403 with Bedrock's error shape), and
errors as `x-amzn-ErrorType` + `{"message"}`. Answers follow ModelServer's rules."""

from __future__ import annotations

import json
import re
import struct
import zlib
from typing import Any
from urllib.parse import unquote

from tests.support.model_server import Conversation, ModelServer, Turn, _halves, _Handler, _pieces, embed

_PATH = re.compile(r"^/model/(?P<model>[^/]+)/(?P<op>converse|converse-stream|invoke)$")
_ERROR_TYPES = {400: "ValidationException", 401: "UnrecognizedClientException", 403: "AccessDeniedException",
                429: "ThrottlingException", 500: "InternalServerException", 503: "ServiceUnavailableException"}


def event_frame(event_type: str, payload: dict[str, Any]) -> bytes:
    """One message of the AWS event stream encoding (application/vnd.amazon.eventstream)."""
    headers = b""
    for name, value in ((":event-type", event_type), (":content-type", "application/json"), (":message-type", "event")):
        raw_name, raw_value = name.encode(), value.encode()
        headers += struct.pack("!B", len(raw_name)) + raw_name + b"\x07" + struct.pack("!H", len(raw_value)) + raw_value
    body = json.dumps(payload).encode()
    total = 12 + len(headers) + len(body) + 4
    prelude = struct.pack("!II", total, len(headers))
    prelude += struct.pack("!I", zlib.crc32(prelude) & 0xFFFFFFFF)
    message = prelude + headers + body
    return message + struct.pack("!I", zlib.crc32(message) & 0xFFFFFFFF)


def _text(blocks: list[dict[str, Any]]) -> str:
    parts = []
    for block in blocks or []:
        if "text" in block:
            parts.append(block["text"])
        elif "toolResult" in block:
            parts += [c.get("text", "") for c in block["toolResult"].get("content") or []]
    return " ".join(parts)


class _BedrockHandler(_Handler):
    def _route_path(self, path: str) -> str:
        match = _PATH.match(unquote(path))
        return f"/bedrock/{match.group('op')}" if match else path

    def _is_chat(self, path: str) -> bool:
        return path in ("/bedrock/converse", "/bedrock/converse-stream")

    def _is_streaming(self, path: str, body: Any) -> bool:
        return path == "/bedrock/converse-stream"

    def _routes(self) -> dict[tuple[str, str], Any]:
        return {("POST", "/bedrock/converse"): self._converse, ("POST", "/bedrock/converse-stream"): self._converse,
                ("POST", "/bedrock/invoke"): self._invoke}

    def _fail(self, path: str, status: int, retry_after: float | None) -> None:
        self._send_json(status, {"message": f"injected failure ({status})"}, {"x-amzn-ErrorType": _ERROR_TYPES.get(status, "InternalServerException")})

    def _converse(self, body: dict[str, Any]) -> None:
        if not (self.headers.get("authorization") or "").startswith("AWS4-HMAC-SHA256 Credential="):
            self._send_json(403, {"message": "Missing Authentication Token"}, {"x-amzn-ErrorType": "AccessDeniedException"})
            return
        turns = [Turn("system", " ".join(s.get("text", "") for s in body.get("system") or []))] if body.get("system") else []
        for message in body.get("messages") or []:
            content = message.get("content") or []
            is_result = any("toolResult" in block for block in content)
            turns.append(Turn("tool" if is_result else message.get("role", "user"), _text(content)))
        tools = {t["toolSpec"]["name"]: t["toolSpec"]["inputSchema"]["json"] for t in (body.get("toolConfig") or {}).get("tools") or []}
        forced = ((body.get("toolConfig") or {}).get("toolChoice") or {}).get("tool", {}).get("name")
        conversation = Conversation(turns, tools, forced_tool=forced)
        answer = self.model_server.answer(conversation, self.arrival.scripted)
        usage = {"inputTokens": conversation.prompt_words, "outputTokens": answer.words, "totalTokens": conversation.prompt_words + answer.words}
        calls = [{"toolUseId": self.model_server._next_call_id("tooluse"), "name": n, "input": a} for n, a in answer.tool_calls]
        stop = "tool_use" if calls else "end_turn"
        if not self._is_streaming(self._route_path(self.path.split("?")[0]), body):
            content = [{"toolUse": c} for c in calls] or [{"text": answer.text}]
            self._send_json(200, {"output": {"message": {"role": "assistant", "content": content}}, "stopReason": stop,
                                  "usage": usage, "metrics": {"latencyMs": 1}})
            return
        frames = [event_frame("messageStart", {"role": "assistant"})]
        if calls:
            for index, call in enumerate(calls):
                frames.append(event_frame("contentBlockStart", {"contentBlockIndex": index, "start": {"toolUse": {"toolUseId": call["toolUseId"], "name": call["name"]}}}))
                frames += [event_frame("contentBlockDelta", {"contentBlockIndex": index, "delta": {"toolUse": {"input": p}}}) for p in _halves(json.dumps(call["input"]))]
                frames.append(event_frame("contentBlockStop", {"contentBlockIndex": index}))
        else:
            frames += [event_frame("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": p}}) for p in _pieces(answer.text)]
            frames.append(event_frame("contentBlockStop", {"contentBlockIndex": 0}))
        content_frames = len(frames)
        frames.append(event_frame("messageStop", {"stopReason": stop}))
        frames.append(event_frame("metadata", {"usage": usage, "metrics": {"latencyMs": 1}}))
        self._send_stream("application/vnd.amazon.eventstream", frames, content_frames)


    def _invoke(self, body: dict[str, Any]) -> None:
        """InvokeModel for the embedding models: Titan (`inputText` → `embedding`), Cohere (`texts` → `embeddings`)."""
        if not (self.headers.get("authorization") or "").startswith("AWS4-HMAC-SHA256 Credential="):
            self._send_json(403, {"message": "Missing Authentication Token"}, {"x-amzn-ErrorType": "AccessDeniedException"})
            return
        if "texts" in body:
            self._send_json(200, {"embeddings": [embed(t) for t in body["texts"]], "texts": body["texts"]})
        else:
            text = str(body.get("inputText", ""))
            self._send_json(200, {"embedding": embed(text, int(body.get("dimensions") or 64)), "inputTextTokenCount": len(text.split())})


class BedrockServer(ModelServer):
    handler = _BedrockHandler

    def __init__(self, host: str = "127.0.0.1") -> None:
        super().__init__(host)
        self.base_url = self.url
