"""A fake Hugging Face inference server (stdlib only), from the public Inference API / Text
Generation Inference references: text generation (`POST /models/{model}` or a dedicated endpoint's
root: `{"inputs", "parameters", "stream"}` → `[{"generated_text"}]`, or TGI token events when
streamed), feature extraction (`POST .../pipeline/feature-extraction` or `/embed`: one vector per
input), and the router's OpenAI-compatible `/v1/chat/completions`."""

from __future__ import annotations

import json
from typing import Any

from tests.support.model_server import Conversation, ModelServer, Turn, _Handler, _pieces, embed


class _HFHandler(_Handler):
    def _route_path(self, path: str) -> str:
        if path.endswith("/pipeline/feature-extraction") or path == "/embed":
            return "/hf/features"
        if path.endswith("/chat/completions"):
            return "/v1/chat/completions"
        return "/hf/generate"

    def _is_chat(self, path: str) -> bool:
        return path in ("/hf/generate", "/v1/chat/completions")

    def _routes(self) -> dict[tuple[str, str], Any]:
        return {("POST", "/hf/generate"): self._generate, ("POST", "/hf/features"): self._features,
                ("POST", "/v1/chat/completions"): self._openai_chat}

    def _error_body(self, path: str, status: int, message: str) -> Any:
        return {"error": message}

    def _generate(self, body: dict[str, Any]) -> None:
        prompt = str(body.get("inputs") or "")
        last = prompt.rsplit("User:", 1)[-1].removesuffix("\nAssistant:").strip() if "User:" in prompt else prompt
        conversation = Conversation([Turn("user", last)], {})
        answer = self.model_server.answer(conversation, self.arrival.scripted)
        details = {"finish_reason": "eos_token", "generated_tokens": answer.words, "prefill": []}
        if not body.get("stream"):
            self._send_json(200, [{"generated_text": answer.text, "details": details}])
            return
        pieces = _pieces(answer.text)
        events = [{"index": i, "token": {"id": i, "text": p, "logprob": 0.0, "special": False}, "generated_text": None, "details": None}
                  for i, p in enumerate(pieces)]
        content_frames = len(events)
        events.append({"index": len(pieces), "token": {"id": 0, "text": "</s>", "logprob": 0.0, "special": True},
                       "generated_text": answer.text, "details": details})
        self._send_stream("text/event-stream", [b"data:%s\n\n" % json.dumps(e).encode() for e in events], content_frames)

    def _features(self, body: dict[str, Any]) -> None:
        inputs = body.get("inputs")
        texts = [inputs] if isinstance(inputs, str) else [str(t) for t in inputs or []]
        vectors: Any = [embed(t) for t in texts]
        self._send_json(200, vectors[0] if isinstance(inputs, str) else vectors)


class HuggingFaceServer(ModelServer):
    handler = _HFHandler

    def __init__(self, host: str = "127.0.0.1") -> None:
        super().__init__(host)
        self.base_url = self.url
