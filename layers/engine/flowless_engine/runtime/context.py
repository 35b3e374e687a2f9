"""Everything a component may reach during one run: ids, services, settings, and helpers
for variables, models, HTTP and message emission."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flowless_engine.runtime.services import (
    EventSink,
    FileStore,
    FlowResolver,
    InMemoryMessageStore,
    MessageStore,
    NoFileStore,
    NullEventSink,
    VariableResolver,
    DictVariableResolver,
)
from flowless_engine.schema import Message
from flowless_engine.settings import EngineSettings

if TYPE_CHECKING:
    from flowless_engine.http import HttpClient
    from flowless_engine.llm.base import ChatModel, ModelConfig
    from flowless_engine.llm.embeddings import EmbeddingConfig, Embeddings
    from flowless_engine.runtime.code import CodeRunner
    from flowless_engine.vectors.base import KnowledgeBases, VectorStore

ModelFactory = Callable[["ModelConfig"], "ChatModel"]
EmbeddingsFactory = Callable[["EmbeddingConfig"], "Embeddings"]


@dataclass
class RunContext:
    flow_id: str
    session_id: str
    flow_name: str = ""
    run_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    user_id: str | None = None
    stream: bool = False
    events: EventSink = field(default_factory=NullEventSink)
    messages: MessageStore = field(default_factory=InMemoryMessageStore)
    variables: VariableResolver = field(default_factory=DictVariableResolver)
    files: FileStore = field(default_factory=NoFileStore)
    settings: EngineSettings = field(default_factory=EngineSettings)
    # Request-scoped overrides (Langflow's X-LANGFLOW-GLOBAL-VAR-* headers), checked first.
    request_variables: dict[str, str] = field(default_factory=dict)
    # Injected by tests/benchmarks to answer models in-process; default builds real providers.
    model_factory: ModelFactory | None = None
    http_client: "HttpClient | None" = None
    # Knowledge bases (RAG): the tenant's vectors and catalogue (None: no store configured), and
    # an injectable embeddings factory (default: the real providers in llm/embeddings.py).
    vectors: "VectorStore | None" = None
    knowledge: "KnowledgeBases | None" = None
    embeddings: EmbeddingsFactory | None = None
    # Runs approved user code outside the engine (runtime/code.py); None: no code is approved.
    code_runner: "CodeRunner | None" = None
    tenant: str = ""
    # The tenant's other flows (Run Flow, Sub Flow, Flow as Tool) and how deep this run is nested.
    flows: "FlowResolver | None" = None
    flow_depth: int = 0
    # Run-wide values components share by key (Notify writes, Listen reads).
    state: dict[str, Any] = field(default_factory=dict)
    # Messages stored during this run (persisted by the MessageStore; kept here for results).
    stored_messages: list[Message] = field(default_factory=list)
    _variable_cache: dict[str, str | None] = field(default_factory=dict)

    async def variable(self, name: str) -> str | None:
        """Request override, then the tenant's variables (the resolver applies env fallback)."""
        key = name.upper()
        for candidate in (name, key):
            if candidate in self.request_variables:
                return self.request_variables[candidate]
        if name not in self._variable_cache:
            self._variable_cache[name] = await self.variables.get(name)
        return self._variable_cache[name]

    @property
    def http(self) -> "HttpClient":
        if self.http_client is None:
            from flowless_engine.http import default_client

            self.http_client = default_client(self.settings)
        return self.http_client

    def chat_model(self, config: "ModelConfig") -> "ChatModel":
        if self.model_factory is not None:
            return self.model_factory(config)
        from flowless_engine.llm.factory import get_chat_model

        return get_chat_model(config, self.http)

    def embedder(self, config: "EmbeddingConfig") -> "Embeddings":
        if self.embeddings is not None:
            return self.embeddings(config)
        from flowless_engine.llm.embeddings import get_embeddings

        return get_embeddings(config, self.http)

    async def store_message(self, message: Message) -> None:
        """Persist a chat message and announce it (`add_message`)."""
        self.stored_messages.append(message)
        await self.messages.add_messages([message])

    def emit(self, event: str, data: dict[str, Any]) -> None:
        self.events.emit(event, data)
