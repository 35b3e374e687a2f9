"""`run_flow_from_json`: the entry point Langflow users already know, natively executed."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from flowless_engine.runtime.context import RunContext, ModelFactory
from flowless_engine.runtime.request import RunRequest
from flowless_engine.runtime.services import (
    DictVariableResolver,
    EventSink,
    InMemoryMessageStore,
    LocalFileStore,
    MessageStore,
    NullEventSink,
)
from flowless_engine.settings import EngineSettings


class Record(dict):
    """A dict that also reads keys as attributes, so `result[0].outputs[0].results["message"].text`
    works as it does on Langflow's objects."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def _records(value: Any) -> Any:
    if isinstance(value, dict):
        return Record({k: _records(v) for k, v in value.items()})
    if isinstance(value, list):
        return [_records(v) for v in value]
    return value


def _load_flow(flow: str | Path | dict[str, Any]) -> dict[str, Any] | str:
    """The flow as a dict, or as JSON text for `load_graph` to parse (and to report if malformed).
    A file may start with a UTF-8 byte-order mark."""
    if isinstance(flow, dict):
        return flow
    text = str(flow).removeprefix("\ufeff")
    if isinstance(flow, Path) or not text.lstrip().startswith("{"):
        text = Path(flow).read_text(encoding="utf-8-sig")
    return text


def _env_file_values(env_file: str | Path | None) -> dict[str, str]:
    if not env_file:
        return {}
    values = {}
    for line in Path(env_file).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip().strip("'\"")
    return values


async def arun_flow_from_json(
    flow: str | Path | dict[str, Any],
    input_value: str | None = None,
    *,
    session_id: str | None = None,
    tweaks: dict[str, Any] | None = None,
    input_type: str = "chat",
    output_type: str = "chat",
    output_component: str | None = None,
    fallback_to_env_vars: bool = False,
    env_file: str | Path | None = None,
    variables: dict[str, str] | None = None,
    files_root: str | Path | None = None,
    events: EventSink | None = None,
    message_store: MessageStore | None = None,
    stream: bool = False,
    model_factory: ModelFactory | None = None,
    settings: EngineSettings | None = None,
    vectors: Any = None,
    knowledge: Any = None,
    code_runner: Any = None,
    flows: Any = None,
) -> list[Record]:
    from flowless_engine.graph.loader import load_graph
    from flowless_engine.runtime.run import run_graph

    graph = load_graph(_load_flow(flow))
    request = RunRequest(
        input_value=input_value,
        input_type=input_type,
        output_type=output_type,
        output_component=output_component or "",
        tweaks=tweaks,
        session_id=session_id,
        stream=stream,
    )
    # In the caller's own process: loopback and private networks allowed unless the environment says no.
    base = settings or EngineSettings.from_env(library=True)
    ctx = RunContext(
        flow_id=graph.flow_id,
        session_id=session_id or graph.flow_id,
        flow_name=graph.flow_name,
        events=events or NullEventSink(),
        messages=message_store if message_store is not None else InMemoryMessageStore(),
        variables=DictVariableResolver({**_env_file_values(env_file), **(variables or {})}, fallback_to_env=fallback_to_env_vars or base.fallback_to_env),
        files=LocalFileStore(files_root),
        settings=base,
        model_factory=model_factory,
        vectors=vectors,  # a VectorStore and KnowledgeBases (flowless_engine.vectors) for Knowledge nodes
        knowledge=knowledge,
        code_runner=code_runner,  # runs approved user code (runtime/code.py); None: none approved
        flows=_flow_resolver(flows),  # other flows Run Flow / Sub Flow / Flow as Tool may call
    )
    try:
        result = await run_graph(graph, request, ctx)
    finally:
        if ctx.http_client is not None:  # made for this run: close its connections
            await ctx.http_client.aclose()
    return _records(result.response()["outputs"])


def _flow_resolver(flows: Any) -> Any:
    """A FlowResolver from a resolver, or a list of flow exports (dicts or paths)."""
    if flows is None or hasattr(flows, "get") and not isinstance(flows, (list, tuple, dict)):
        return flows
    import json

    from flowless_engine.runtime.services import DictFlowResolver

    items = flows if isinstance(flows, (list, tuple)) else [flows]
    return DictFlowResolver([item if isinstance(item, dict) else json.loads(Path(item).read_text(encoding="utf-8")) for item in items])


def run_flow_from_json(flow: str | Path | dict[str, Any], input_value: str | None = None, **kwargs: Any) -> list[Record]:
    """Run a flow export (path, JSON text or dict) and return Langflow's `outputs` list.

    Pass the same `message_store` to several calls to keep a session's chat history between them.
    """
    return asyncio.run(arun_flow_from_json(flow, input_value, **kwargs))
