"""Helpers for engine tests: an in-process chat model, Langflow-shaped flow builders, and
Langflow's starter projects (from the pinned langflow-base wheel, see tests/support/starters.py)."""

from __future__ import annotations

import asyncio
import json
import re
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any

from flowless_engine.llm.base import ChatMessage, ChatResult, ModelConfig, ToolCall, ToolSpec
from flowless_engine.schema import Usage
from tests.support.starters import starter_flow, starter_names, starter_path, starters_dir

# The eight starter projects the engine tests were written against (the ones ../shared/flows
# holds, byte for byte the same files as in the langflow-base 1.13.0 wheel).
SHARED_STARTERS = (
    "Basic Prompting", "Financial Report Parser", "Knowledge Retrieval", "Memory Chatbot",
    "Multi Agent Flow", "Simple Agent", "Text Sentiment Analysis", "Vector Store RAG",
)


def shared_flow(name: str) -> dict[str, Any]:
    """One Langflow starter project, parsed (a fresh copy each call)."""
    return starter_flow(name)


def shared_flow_names() -> list[str]:
    return list(SHARED_STARTERS)


# ---- an in-process chat model --------------------------------------------------------------

Reply = str | ChatResult | Callable[[list[ChatMessage]], "str | ChatResult"]


def _words(text: str) -> int:
    return len(text.split())


class FakeChatModel:
    """Answers from a queue of replies (str, ChatResult, or a function of the messages);
    when the queue is empty, "Echo: <last user text>". Records every call."""

    def __init__(self, replies: list[Reply] | None = None, *, provider: str = "OpenAI", model: str = "fake-model") -> None:
        self.provider = provider
        self.model = model
        self.replies: deque[Reply] = deque(replies or [])
        self.calls: list[dict[str, Any]] = []

    def _answer(self, messages: list[ChatMessage]) -> ChatResult:
        reply: Reply = self.replies.popleft() if self.replies else (lambda ms: "Echo: " + _last_user(ms))
        if callable(reply):
            reply = reply(messages)
        if isinstance(reply, str):
            reply = ChatResult(text=reply)
        if reply.usage is None:
            prompt = sum(_words(m.content or "") for m in messages)
            completion = _words(reply.text) or len(reply.tool_calls)
            reply.usage = Usage(prompt, completion, prompt + completion)
        reply.model = reply.model or self.model
        return reply

    async def complete(
        self, messages: list[ChatMessage], *, tools: list[ToolSpec] | None = None, json_schema: dict[str, Any] | None = None
    ) -> ChatResult:
        self.calls.append({"messages": list(messages), "tools": tools, "json_schema": json_schema, "stream": False})
        self.calls[-1]["result"] = result = self._answer(messages)
        return result

    async def stream(self, messages: list[ChatMessage], *, tools: list[ToolSpec] | None = None) -> AsyncIterator[str | ChatResult]:
        self.calls.append({"messages": list(messages), "tools": tools, "json_schema": None, "stream": True})
        self.calls[-1]["result"] = result = self._answer(messages)
        for piece in re.findall(r"\s*\S+", result.text):
            await asyncio.sleep(0)  # a network stream suspends between chunks
            yield piece
        yield result


def _last_user(messages: list[ChatMessage]) -> str:
    return next((m.content or "" for m in reversed(messages) if m.role == "user"), "")


def tool_call(name: str, arguments: dict[str, Any], call_id: str = "call_1") -> ChatResult:
    return ChatResult(text="", tool_calls=[ToolCall(id=call_id, name=name, arguments=json.dumps(arguments))])


class FakeModels:
    """A `model_factory`: hands out one FakeChatModel and records every ModelConfig asked for."""

    def __init__(self, model: FakeChatModel | None = None) -> None:
        self.model = model or FakeChatModel()
        self.configs: list[ModelConfig] = []

    def __call__(self, config: ModelConfig) -> FakeChatModel:
        self.configs.append(config)
        return self.model


# ---- Langflow-shaped flow builders ---------------------------------------------------------


def field(name: str, value: Any = "", type: str = "str", **extra: Any) -> dict[str, Any]:
    spec = {"name": name, "display_name": name, "type": type, "value": value, "show": True, "required": False,
            "list": False, "input_types": [], "load_from_db": False, "advanced": False}
    spec.update(extra)
    return spec


def raw_node(
    node_id: str,
    type_name: str,
    fields: dict[str, dict[str, Any]] | None = None,
    outputs: list[dict[str, Any]] | None = None,
    *,
    display_name: str | None = None,
    frozen: bool = False,
) -> dict[str, Any]:
    """A node with exactly the given template fields and outputs."""
    template: dict[str, Any] = {"_type": "Component"}
    template.update(fields or {})
    return {
        "id": node_id,
        "type": "genericNode",
        "position": {"x": 0, "y": 0},
        "data": {
            "id": node_id,
            "type": type_name,
            "node": {
                "template": template,
                "outputs": outputs if outputs is not None else [output("out")],
                "display_name": display_name or type_name,
                "frozen": frozen,
            },
        },
    }


def output(name: str, types: tuple[str, ...] = ("Message",), method: str = "") -> dict[str, Any]:
    return {"name": name, "display_name": name, "method": method or name, "types": list(types), "selected": types[0], "cache": True}


def component_node(node_id: str, type_name: str, *, display_name: str | None = None, frozen: bool = False, **values: Any) -> dict[str, Any]:
    """A node of a registered component, its template taken from the native class, with `values` set."""
    from flowless_engine.components.registry import get_component_class

    spec = get_component_class(type_name).node_template()
    template = {k: dict(v) if isinstance(v, dict) else v for k, v in spec["template"].items()}
    for name, value in values.items():
        if name in template:
            template[name]["value"] = value
        else:
            template[name] = field(name, value)
    node = raw_node(node_id, type_name, display_name=display_name or spec["display_name"], frozen=frozen, outputs=spec["outputs"])
    node["data"]["node"]["template"] = template
    return node


def note(node_id: str = "note-1") -> dict[str, Any]:
    return {"id": node_id, "type": "noteNode", "data": {"id": node_id, "type": "note", "node": {"description": "hi", "template": {}}}}


def group_node(inner_nodes: list[dict], inner_edges: list[dict], *, proxy_field: bool = True, proxy_output: bool = True) -> dict:
    """Group-1: a group node whose field `input_value_Prompt-in` and output `prompt_Prompt-in`
    proxy the inner node Prompt-in's `question` field and `prompt` output."""
    template = {"_type": "Component"}
    template["input_value_Prompt-in"] = field(
        "input_value_Prompt-in", "", proxy={"id": "Prompt-in", "field": "question"} if proxy_field else None
    )
    outputs = [{**output("prompt_Prompt-in"), **({"proxy": {"id": "Prompt-in", "name": "prompt"}} if proxy_output else {})}]
    return {
        "id": "Group-1",
        "type": "genericNode",
        "data": {
            "id": "Group-1",
            "type": "GroupNode",
            "node": {"template": template, "outputs": outputs, "display_name": "Group", "flow": {"data": {"nodes": inner_nodes, "edges": inner_edges}}},
        },
    }


def oe(handle: dict[str, Any]) -> str:
    """Langflow's œ-encoded handle string."""
    return json.dumps(handle, separators=(", ", ": ")).replace('"', "œ")


def edge(
    source: str,
    source_output: str,
    target: str,
    target_field: str,
    *,
    output_types: tuple[str, ...] = ("Message",),
    input_types: tuple[str, ...] = ("Message",),
    strings_only: bool = False,
) -> dict[str, Any]:
    source_handle = {"dataType": source.split("-")[0], "id": source, "name": source_output, "output_types": list(output_types)}
    target_handle = {"fieldName": target_field, "id": target, "inputTypes": list(input_types), "type": "str"}
    raw: dict[str, Any] = {
        "id": f"reactflow__edge-{source}{oe(source_handle)}-{target}{oe(target_handle)}",
        "source": source,
        "target": target,
        "sourceHandle": oe(source_handle),
        "targetHandle": oe(target_handle),
    }
    raw["data"] = {} if strings_only else {"sourceHandle": source_handle, "targetHandle": target_handle}
    return raw


def flow(nodes: list[dict[str, Any]], edges: list[dict[str, Any]] | None = None, *, flow_id: str = "flow-1", name: str = "Test flow") -> dict[str, Any]:
    return {"id": flow_id, "name": name, "data": {"nodes": nodes, "edges": edges or [], "viewport": {"x": 0, "y": 0, "zoom": 1}}}


def chat_flow(*middle: dict[str, Any], edges: list[dict[str, Any]] | None = None, flow_id: str = "flow-1") -> dict[str, Any]:
    """ChatInput-1 → (middle nodes, wired by `edges`) → ChatOutput-1; with no middle, directly."""
    nodes = [component_node("ChatInput-1", "ChatInput", input_value="stored hello"), *middle, component_node("ChatOutput-1", "ChatOutput")]
    if edges is None:
        edges = [edge("ChatInput-1", "message", "ChatOutput-1", "input_value")]
    return flow(nodes, edges, flow_id=flow_id)


def llm_flow(**llm_values: Any) -> dict[str, Any]:
    """ChatInput → LanguageModelComponent → ChatOutput."""
    return chat_flow(
        component_node("LanguageModelComponent-1", "LanguageModelComponent", **llm_values),
        edges=[
            edge("ChatInput-1", "message", "LanguageModelComponent-1", "input_value"),
            edge("LanguageModelComponent-1", "text_output", "ChatOutput-1", "input_value"),
        ],
    )


def event_names(events: list[dict[str, Any]]) -> list[str]:
    return [e["event"] for e in events]


# ---- running ---------------------------------------------------------------------------------


class Ran:
    """What one test run produced: the RunResult, its context, the events and the models asked for."""

    def __init__(self, result: Any, ctx: Any, events: list[dict[str, Any]], models: FakeModels) -> None:
        self.result = result
        self.ctx = ctx
        self.events = events
        self.models = models

    @property
    def response(self) -> dict[str, Any]:
        return self.result.response()

    @property
    def outputs(self) -> list[dict[str, Any]]:
        return self.response["outputs"][0]["outputs"]

    def text(self, index: int = 0) -> str:
        return self.outputs[index]["results"]["message"]["text"]

    def vertex(self, vertex_id: str) -> Any:
        return self.result.all_results[vertex_id]

    def named(self, name: str) -> list[dict[str, Any]]:
        return [e["data"] for e in self.events if e["event"] == name]


async def run(
    source: Any,
    input_value: str | None = None,
    *,
    model: FakeChatModel | FakeModels | None = None,
    variables: dict[str, str] | None = None,
    messages: Any = None,
    settings: Any = None,
    file_store: Any = None,
    context: dict[str, Any] | None = None,
    **request: Any,
) -> Ran:
    """Run a flow dict (or a parsed Graph) in-process with a fake model; collect events.
    `context`: more RunContext fields (vectors, knowledge...)."""
    from flowless_engine.graph.loader import load_graph
    from flowless_engine.graph.model import Graph
    from flowless_engine.runtime.context import RunContext
    from flowless_engine.runtime.request import RunRequest
    from flowless_engine.runtime.run import run_graph
    from flowless_engine.runtime.services import DictVariableResolver, InMemoryMessageStore, ListEventSink, NoFileStore
    from flowless_engine.settings import EngineSettings

    graph = source if isinstance(source, Graph) else load_graph(source)
    models = model if isinstance(model, FakeModels) else FakeModels(model)
    sink = ListEventSink()
    ctx = RunContext(
        flow_id=graph.flow_id,
        session_id="",
        flow_name=graph.flow_name,
        events=sink,
        messages=messages if messages is not None else InMemoryMessageStore(),
        variables=DictVariableResolver(variables or {}),
        files=file_store or NoFileStore(),
        settings=settings or EngineSettings(),
        model_factory=models,
        **(context or {}),
    )
    result = await run_graph(graph, RunRequest(input_value=input_value, **request), ctx)
    return Ran(result, ctx, sink.events, models)


# ---- test-only components ----------------------------------------------------------------------

TEST_COMPONENTS_MODULE = "flowless_engine.components._engine_test_components"


def register_components(monkeypatch: Any, *classes: type) -> None:
    """Make test-only Component classes resolvable by their `type_name` for one test: they live in
    a module placed in sys.modules and are added to the registry dict (both undone by monkeypatch)."""
    import sys
    import types

    from flowless_engine.components import registry

    module = sys.modules.get(TEST_COMPONENTS_MODULE)
    if module is None:
        module = types.ModuleType(TEST_COMPONENTS_MODULE)
        monkeypatch.setitem(sys.modules, TEST_COMPONENTS_MODULE, module)
    short = TEST_COMPONENTS_MODULE.rsplit(".", 1)[1]
    for cls in classes:
        setattr(module, cls.__name__, cls)
        monkeypatch.setitem(registry._REGISTRY, cls.type_name, f"{short}:{cls.__name__}")
