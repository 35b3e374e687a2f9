"""`data.type` → native component class. Modules are imported only when a flow uses them."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flowless_engine.components.base import Component

# type name → "module:Class" (module relative to flowless_engine.components)
_REGISTRY: dict[str, str] = {
    "ChatInput": "io:ChatInput",
    "ChatOutput": "io:ChatOutput",
    "TextInput": "io:TextInput",
    "TextOutput": "io:TextOutput",
    "Prompt": "prompts:PromptComponent",
    "Prompt Template": "prompts:PromptComponent",
    "LanguageModelComponent": "models:LanguageModelComponent",
    "OpenAIModel": "models:OpenAIModelComponent",
    "Agent": "agent:AgentComponent",
    "Memory": "memory:MemoryComponent",
    "parser": "processing:ParserComponent",
    "ParserComponent": "processing:ParserComponent",
    "ParseData": "processing:ParseDataComponent",
    "StructuredOutput": "structured:StructuredOutputComponent",
    "File": "files:FileComponent",
    "SplitText": "processing:SplitTextComponent",
    "CalculatorComponent": "tools:CalculatorComponent",
    "URLComponent": "web:URLComponent",
    "URL": "web:URLComponent",
    "ConditionalRouter": "logic:ConditionalRouterComponent",
    "If-Else": "logic:ConditionalRouterComponent",
    "Webhook": "io:WebhookComponent",
    "TypeConverterComponent": "processing:TypeConverterComponent",
    "TypeConverter": "processing:TypeConverterComponent",
    "CombineText": "processing:CombineTextComponent",
    "Knowledge": "knowledge:KnowledgeComponent",
    "KnowledgeIngestion": "knowledge:KnowledgeIngestionComponent",
    "KnowledgeBase": "knowledge:KnowledgeBaseComponent",
    "KnowledgeRetrieval": "knowledge:KnowledgeBaseComponent",
    "EmbeddingModel": "embeddings:EmbeddingModelComponent",
    "OpenAIEmbeddings": "embeddings:OpenAIEmbeddingsComponent",
    "Chroma": "vectorstores:ChromaComponent",
}


def is_supported(type_name: str) -> bool:
    return type_name in _REGISTRY


def supported_types() -> list[str]:
    return sorted(_REGISTRY)


def get_component_class(type_name: str) -> "type[Component]":
    target = _REGISTRY.get(type_name)
    if target is None:
        raise KeyError(type_name)
    module_name, class_name = target.split(":")
    module = importlib.import_module(f"flowless_engine.components.{module_name}")
    return getattr(module, class_name)


def catalogue() -> dict[str, dict[str, dict]]:
    """Every supported component as Langflow's node template, grouped by category (for /all)."""
    out: dict[str, dict[str, dict]] = {}
    seen: set[type] = set()
    for type_name in supported_types():
        cls = get_component_class(type_name)
        key = cls.type_name or type_name
        if cls in seen and key != type_name:
            continue
        seen.add(cls)
        out.setdefault(cls.category, {})[type_name] = cls.node_template()
    return out
