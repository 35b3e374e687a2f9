"""The chat-model interface every provider implements, and the config that selects one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from flowless_engine.schema import Usage


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: str  # JSON text, as the model produced it


@dataclass
class ChatMessage:
    role: str  # "system" | "user" | "assistant" | "tool"
    content: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None
    name: str | None = None
    images: list[str] = field(default_factory=list)  # data: URLs, for vision models


@dataclass
class ToolSpec:
    name: str
    description: str
    parameters: dict[str, Any]  # JSON schema of the arguments object

    def as_function(self) -> dict[str, Any]:
        """The tool as OpenAI-style APIs declare it (OpenAI, Cohere v2 and Ollama share the shape)."""
        return {"type": "function", "function": {"name": self.name, "description": self.description, "parameters": self.parameters}}


@dataclass
class ChatResult:
    text: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    usage: Usage | None = None
    model: str = ""
    finish_reason: str | None = None


@dataclass
class ModelConfig:
    provider: str  # Langflow's provider name: "OpenAI", "Anthropic", "Amazon Bedrock", "Ollama"...
    model: str
    api_key: str | None = None
    base_url: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # provider specifics (region, json mode...)


class ChatModel(Protocol):
    provider: str
    model: str

    async def complete(
        self,
        messages: list[ChatMessage],
        *,
        tools: list[ToolSpec] | None = None,
        json_schema: dict[str, Any] | None = None,
    ) -> ChatResult:
        """One non-streaming completion."""

    def stream(
        self,
        messages: list[ChatMessage],
        *,
        tools: list[ToolSpec] | None = None,
    ) -> AsyncIterator[str | ChatResult]:
        """Yield text deltas (str) as they arrive, then exactly one final ChatResult
        carrying the full text, any tool calls and the usage."""
