"""Running a stored flow for a tenant: the hot path behind `/run`.

Resolve the flow (its record kept briefly by store/read_cache.py), reuse the parsed graph cached
per (tenant, flow, version), run it with tenant-scoped services, then persist the run's messages
and the session touch in one batched write before answering: in a warm process, that write is
the run's only DynamoDB call.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from flowless.api.errors import ApiError
from flowless.settings import get_settings
from flowless_engine.graph.model import Graph
from flowless_engine.runtime.request import RunRequest
from flowless_engine.runtime.services import EventSink, NullEventSink
from flowless_engine.settings import EngineSettings


class GraphCache:
    """Parsed graphs of the warm container, least recently used evicted."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._graphs: OrderedDict[tuple[str, str, int], Graph] = OrderedDict()

    def get(self, key: tuple[str, str, int]) -> Graph | None:
        graph = self._graphs.get(key)
        if graph is not None:
            self._graphs.move_to_end(key)
        return graph

    def put(self, key: tuple[str, str, int], graph: Graph) -> None:
        self._graphs[key] = graph
        self._graphs.move_to_end(key)
        while len(self._graphs) > self.size:
            self._graphs.popitem(last=False)

    def clear(self) -> None:
        self._graphs.clear()


@lru_cache(maxsize=1)
def graph_cache() -> GraphCache:
    return GraphCache(get_settings().flow_cache_size)


@lru_cache(maxsize=1)
def engine_settings() -> EngineSettings:
    return EngineSettings.from_env()


@dataclass
class FlowRunOutcome:
    flow_id: str
    session_id: str
    response: dict[str, Any]
    duration_s: float
    usage: dict[str, int] | None


def load_flow_graph(tenant: str, flow_ref: str) -> tuple[Any, Graph]:
    """The tenant's flow by id or endpoint name, and its parsed graph (cached by version)."""
    from flowless.store import read_cache
    from flowless.store.flows import FlowRepository
    from flowless_engine.graph.loader import load_graph

    repo = FlowRepository(tenant)
    flow = read_cache.FLOWS.get_or_load((tenant, flow_ref), lambda: repo.resolve(flow_ref, include_data=False))
    if flow is None:
        raise ApiError(404, f"Flow identifier {flow_ref} not found")
    key = (tenant, flow.id, flow.version)
    graph = graph_cache().get(key)
    if graph is None:
        full = repo.get(flow.id)
        if full is None:
            raise ApiError(404, f"Flow identifier {flow_ref} not found")
        graph = load_graph({"data": full.data}, flow_id=full.id, flow_name=full.name)
        graph_cache().put(key, graph)
    return flow, graph


async def run_stored_flow(
    tenant: str,
    flow_ref: str,
    request: RunRequest,
    *,
    request_variables: dict[str, str] | None = None,
    events: EventSink | None = None,
    resolved: tuple[Any, Graph] | None = None,
) -> FlowRunOutcome:
    """Run the tenant's flow; `resolved` passes a (flow, graph) already loaded by the caller."""
    from flowless.store.runs import RunMessageStore
    from flowless.store.tenancy import check_session_id
    from flowless.vectors import knowledge_services
    from flowless.webhooks.outbound import RunNotifier
    from flowless_engine.runtime.context import RunContext
    from flowless_engine.runtime.run import run_graph

    from flowless.custom_code import check_flow_code

    flow, graph = resolved or load_flow_graph(tenant, flow_ref)
    code_runner = check_flow_code(tenant, graph)  # 422 CODE_NOT_APPROVED before anything runs
    settings = get_settings()
    session_id = check_session_id(request.session_id or flow.id)  # 422 before running, not at the write
    ttl = flow.session_ttl_minutes or settings.session_ttl_minutes
    messages = RunMessageStore(tenant, flow.id, ttl)
    notifier = RunNotifier.for_run(tenant, flow.id, session_id)  # outbound webhooks; never raises
    ctx = RunContext(
        flow_id=flow.id,
        session_id=session_id,
        flow_name=flow.name,
        user_id=request.user_id,
        events=notifier.watch(events or NullEventSink()),
        messages=messages,
        variables=_variables(tenant),
        files=_file_store(tenant),
        settings=engine_settings(),
        request_variables=request_variables or {},
        code_runner=code_runner,
        tenant=tenant,
        flows=TenantFlows(tenant),  # Run Flow / Sub Flow / Flow as Tool: this tenant's flows only
        **knowledge_services(tenant),  # vectors and knowledge bases (RAG), connected on first use
    )
    notifier.started()
    try:
        result = await run_graph(graph, request, ctx)
    except Exception as exc:
        notifier.failed(exc)
        raise
    finally:
        # Whatever was said before a failure is kept (nothing lost), in one batched write.
        await messages.flush()
        await notifier.close()
    response = result.response()
    notifier.completed(response)
    await notifier.close()
    usage = _total_usage(result)
    return FlowRunOutcome(flow.id, result.session_id, response, result.duration_s, usage)


class TenantFlows:
    """The engine's FlowResolver for one tenant: its flows by id, name or endpoint name."""

    def __init__(self, tenant: str) -> None:
        self.tenant = tenant

    async def get(self, id_or_name: str) -> dict[str, Any] | None:
        import asyncio

        from flowless.store.flows import NAME_PREFIX, FlowRepository

        def lookup() -> Any:
            repo = FlowRepository(self.tenant)
            flow = repo.resolve(id_or_name)
            if flow is None:
                guard = repo._guard(NAME_PREFIX, id_or_name)
                flow = repo.get(guard.flow_id) if guard else None
            return flow

        flow = await asyncio.to_thread(lookup)
        if flow is None:
            return None
        return {"id": flow.id, "name": flow.name, "endpoint_name": flow.endpoint_name, "data": flow.data}


def _variables(tenant: str) -> Any:
    """The tenant's variables; the environment too when fallback is enabled."""
    from flowless.store.variables import TenantVariableResolver

    resolver = TenantVariableResolver(tenant)
    return EnvFallbackResolver(resolver) if engine_settings().fallback_to_env else resolver


class EnvFallbackResolver:
    def __init__(self, primary: Any) -> None:
        self.primary = primary

    async def get(self, name: str) -> str | None:
        import os

        value = await self.primary.get(name)
        return value if value is not None else os.environ.get(name)


def _file_store(tenant: str) -> Any:
    from flowless.store.files import S3FileStore

    return S3FileStore(tenant)


def _total_usage(result: Any) -> dict[str, int] | None:
    total = None
    for vertex in result.all_results.values():
        if vertex.usage is not None:
            total = vertex.usage if total is None else total.add(vertex.usage)
    return total.to_dict() if total else None
