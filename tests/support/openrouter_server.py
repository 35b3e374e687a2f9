"""OpenRouter's public model list (`GET /api/v1/models`, no key needed), as its API reference
describes it: `{"data": [{"id", "name", "description", "context_length", "architecture",
"pricing", "top_provider", "supported_parameters", "hugging_face_id"}]}`."""

from __future__ import annotations

from typing import Any

from tests.support.json_server import JsonServer, Request

MODELS: list[dict[str, Any]] = [
    {
        "id": "openai/gpt-4o-mini", "name": "OpenAI: GPT-4o-mini", "hugging_face_id": "",
        "description": "A small, fast and affordable model for focused tasks.", "context_length": 128000,
        "architecture": {"input_modalities": ["text", "image"], "output_modalities": ["text"], "tokenizer": "GPT"},
        "pricing": {"prompt": "0.00000015", "completion": "0.0000006"},
        "top_provider": {"context_length": 128000, "max_completion_tokens": 16384, "is_moderated": True},
        "supported_parameters": ["tools", "temperature"],
    },
    {
        "id": "anthropic/claude-3.5-sonnet", "name": "Anthropic: Claude 3.5 Sonnet", "hugging_face_id": None,
        "description": "A capable model for complex reasoning. " * 20, "context_length": 200000,
        "architecture": {"input_modalities": ["text"], "output_modalities": ["text"], "tokenizer": "Claude"},
        "pricing": {"prompt": "0.000003", "completion": "0.000015"},
        "top_provider": {"context_length": 200000, "max_completion_tokens": 8192, "is_moderated": False},
        "supported_parameters": ["tools"],
    },
]


class OpenRouterServer(JsonServer):
    def __init__(self) -> None:
        super().__init__()
        self.models = list(MODELS)

    def error_body(self, status: int, message: str) -> Any:
        return {"error": {"code": status, "message": message}}

    def handle(self, request: Request) -> tuple[int, Any]:
        if request.method == "GET" and request.path == "/api/v1/models":
            return 200, {"data": self.models}
        return 404, self.error_body(404, "Not Found")
