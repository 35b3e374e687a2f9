"""Running a small flow through the engine (loader → run_graph) and reading each vertex's
output values, for component tests."""

from __future__ import annotations

from typing import Any

from flowless_engine.graph.loader import load_graph
from flowless_engine.runtime.context import RunContext
from flowless_engine.runtime.request import RunRequest
from flowless_engine.runtime.run import RunResult, run_graph
from flowless_engine.runtime.services import DictVariableResolver
from flowless_engine.settings import EngineSettings


async def run_flow(flow: dict[str, Any], input_value: str | None = None, *, settings: EngineSettings | None = None,
                   variables: dict[str, str] | None = None, tweaks: dict[str, Any] | None = None, **ctx_fields: Any) -> RunResult:
    graph = load_graph(flow)
    ctx = RunContext(flow_id=graph.flow_id, session_id="s1", flow_name=graph.flow_name,
                     settings=settings or EngineSettings(allow_loopback=True),
                     variables=DictVariableResolver(variables or {}), **ctx_fields)
    try:
        return await run_graph(graph, RunRequest(input_value=input_value, tweaks=tweaks, output_type="debug"), ctx)
    finally:
        if ctx.http_client is not None:
            await ctx.http_client.aclose()


def value(result: RunResult, vertex_id: str, output: str | None = None) -> Any:
    values = result.all_results[vertex_id].values
    return values[output] if output else next(iter(values.values()))
