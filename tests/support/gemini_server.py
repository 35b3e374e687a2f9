"""A fake Google Gemini API server (stdlib only), from the public REST reference:
`POST /v1beta/models/{model}:generateContent`, `:streamGenerateContent?alt=sse` and
`:batchEmbedContents`, key in `x-goog-api-key` (a request without one is answered 401 with
Google's error shape). Answers come from ModelServer's deterministic rules; knobs are the same."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.support.model_server import Conversation, ModelServer, Turn, _Handler, _pieces, embed

_MODEL_PATH = re.compile(r"^/v1beta/models/(?P<model>[^:/]+):(?P<method>generateContent|streamGenerateContent|batchEmbedContents)$")


class _GeminiHandler(_Handler):
    def _route_path(self, path: str) -> str:
        match = _MODEL_PATH.match(path)
        return f"/gemini/{match.group('method')}" if match else path

    def _is_chat(self, path: str) -> bool:
        return path in ("/gemini/generateContent", "/gemini/streamGenerateContent")

    def _is_streaming(self, path: str, body: Any) -> bool:
        return path == "/gemini/streamGenerateContent"

    def _routes(self) -> dict[tuple[str, str], Any]:
        return {
            ("POST", "/gemini/generateContent"): self._generate,
            ("POST", "/gemini/streamGenerateContent"): self._generate,
            ("POST", "/gemini/batchEmbedContents"): self._embed,
        }

    def _error_body(self, path: str, status: int, message: str) -> Any:
        return {"error": {"code": status, "message": message, "status": "UNAUTHENTICATED" if status == 401 else "INTERNAL"}}

    def _authorised(self) -> bool:
        if self.headers.get("x-goog-api-key"):
            return True
        self._send_json(401, self._error_body("", 401, "API key not valid. Please pass a valid API key."))
        return False

    def _generate(self, body: dict[str, Any]) -> None:
        if not self._authorised():
            return
        turns = []
        system = body.get("systemInstruction") or {}
        if system:
            turns.append(Turn("system", " ".join(p.get("text", "") for p in system.get("parts") or [])))
        for content in body.get("contents") or []:
            parts = content.get("parts") or []
            responses = [p["functionResponse"] for p in parts if "functionResponse" in p]
            if responses:
                turns.append(Turn("tool", " ".join(str((r.get("response") or {}).get("result", r.get("response"))) for r in responses)))
            else:
                role = "assistant" if content.get("role") == "model" else "user"
                turns.append(Turn(role, " ".join(p.get("text", "") for p in parts if "text" in p)))
        tools = {d["name"]: d.get("parameters") or {} for t in body.get("tools") or [] for d in t.get("functionDeclarations") or []}
        generation = body.get("generationConfig") or {}
        schema = generation.get("responseSchema") if generation.get("responseMimeType") == "application/json" else None
        conversation = Conversation(turns, tools, schema)
        answer = self.model_server.answer(conversation, self.arrival.scripted)
        model = self.path.split("/models/")[1].split(":")[0]
        usage = {"promptTokenCount": conversation.prompt_words, "candidatesTokenCount": answer.words,
                 "totalTokenCount": conversation.prompt_words + answer.words}
        calls = [{"functionCall": {"name": n, "args": a}} for n, a in answer.tool_calls]

        def response(parts: list[dict[str, Any]], finish: str | None, with_usage: bool) -> dict[str, Any]:
            candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
            if finish:
                candidate["finishReason"] = finish
            out: dict[str, Any] = {"candidates": [candidate], "modelVersion": model}
            if with_usage:
                out["usageMetadata"] = usage
            return out

        if not self._is_streaming(self._route_path(self.path.split("?")[0]), body):
            self._send_json(200, response(calls or [{"text": answer.text}], "STOP", True))
            return
        events = [response([{"text": piece}], None, False) for piece in ([] if calls else _pieces(answer.text))]
        if calls:
            events.append(response(calls, None, False))
        content_frames = len(events)
        events.append(response([{"text": ""}], "STOP", True))
        frames = [b"data: %s\r\n\r\n" % json.dumps(e).encode() for e in events]
        self._send_stream("text/event-stream", frames, content_frames)

    def _embed(self, body: dict[str, Any]) -> None:
        if not self._authorised():
            return
        vectors = []
        for request in body.get("requests") or []:
            text = " ".join(p.get("text", "") for p in (request.get("content") or {}).get("parts") or [])
            vectors.append({"values": embed(text, int(request.get("outputDimensionality") or 64))})
        self._send_json(200, {"embeddings": vectors})


class GeminiServer(ModelServer):
    handler = _GeminiHandler

    def __init__(self, host: str = "127.0.0.1") -> None:
        super().__init__(host)
        self.base_url = self.url  # the API version is part of each path
