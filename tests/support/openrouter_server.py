"""OpenRouter's public model list on 127.0.0.1 (`GET /api/v1/models`: {"data": [{id, name,
description, context_length, architecture, pricing, top_provider, hugging_face_id,
supported_parameters}]}), from its API reference; what the LLM Router reads."""

from __future__ import annotations

from typing import Any

from tests.support.stub_http import Answer, StubRequest, StubServer

MODELS: list[dict[str, Any]] = [
    {"id": "openai/gpt-4o-mini", "name": "OpenAI: GPT-4o-mini", "description": "Small, fast, cheap.", "context_length": 128000,
     "architecture": {"tokenizer": "GPT", "input_modalities": ["text", "image"], "output_modalities": ["text"]},
     "pricing": {"prompt": "0.00000015", "completion": "0.0000006"}, "top_provider": {"context_length": 128000, "max_completion_tokens": 16384,
                                                                                    "is_moderated": True},
     "hugging_face_id": "", "supported_parameters": ["tools", "temperature"]},
    {"id": "openai/gpt-4o", "name": "OpenAI: GPT-4o", "description": "x" * 600, "context_length": 128000,
     "architecture": {"tokenizer": "GPT", "input_modalities": ["text"], "output_modalities": ["text"]},
     "pricing": {"prompt": "0.0000025", "completion": "0.00001"}, "top_provider": {"context_length": 128000, "is_moderated": True},
     "supported_parameters": ["tools"]},
]


class OpenRouterServer(StubServer):
    def route(self, r: StubRequest) -> Answer:
        if r.path == "/api/v1/models":
            return 200, "application/json", {"data": MODELS}
        return 404, "application/json", {"error": {"message": "Not Found", "code": 404}}
