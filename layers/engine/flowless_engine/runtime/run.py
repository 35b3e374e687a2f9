"""Run a graph with Langflow's semantics.

Vertices run as soon as their predecessors are done (seeded with layer 0), so independent
vertices of a layer run concurrently. Events go to the context's sink as they happen.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from flowless_engine.components.base import Component, Tool
from flowless_engine.components.registry import component_for
from flowless_engine.errors import ComponentError, FlowError, LimitExceededError
from flowless_engine.graph.model import Edge, Graph, Vertex
from flowless_engine.graph.order import ancestors, descendants, layers
from flowless_engine.errors import InvalidFlowError
from flowless_engine.graph.validate import missing_required, validate
from flowless_engine.runtime.context import RunContext
from flowless_engine.runtime.request import RunRequest
from flowless_engine.runtime.results import VertexResult, run_response, serialize_value
from flowless_engine.runtime.tweaks import apply_tweaks, check_input_clash
from flowless_engine.schema import Message, TextStream

TOOL_OUTPUT = "component_as_tool"


@dataclass
class RunResult:
    session_id: str
    input_value: str | None
    results: list[VertexResult]  # the selected output vertices, in graph order
    all_results: dict[str, VertexResult] = field(default_factory=dict)
    duration_s: float = 0.0

    def response(self) -> dict[str, Any]:
        return run_response(self.session_id, self.input_value, self.results)


def prepare_graph(graph: Graph, request: RunRequest, max_nodes: int | None = None) -> Graph:
    """Tweaks, the global `stream` tweak, validation. Raises FlowError subclasses."""
    if max_nodes is not None and len(graph.vertices) > max_nodes:
        raise LimitExceededError(f"Flow has {len(graph.vertices)} nodes; the limit is {max_nodes}")
    if not graph.checked:
        validate(graph, check_required=False)
        graph.checked = True
    check_input_clash(request.tweaks, request.input_value, request.input_type)
    tweaked = apply_tweaks(graph, request.tweaks)
    # Langflow injects the stream flag into every node that has a `stream` field.
    if _has_stream_field(tweaked):
        tweaked = apply_tweaks(tweaked, {"stream": request.stream})
    problems = missing_required(tweaked)
    if problems:
        raise InvalidFlowError(problems)
    return tweaked


def _check_tweak_sizes(tweaks: Any, limit: int) -> None:
    """A tweak is an input too: its text values obey the same length limit as input_value."""
    if not isinstance(tweaks, dict):
        return
    for key, value in tweaks.items():
        for item in value.values() if isinstance(value, dict) else (value,):
            if isinstance(item, str) and len(item) > limit:
                raise LimitExceededError(f"Tweak '{key}' has a value of {len(item)} characters; the limit is {limit}")


def _check_tweak_depth(tweaks: Any, limit: int) -> None:
    """Tweaks nested deeper than `limit` levels (the tweaks object itself is level 1) are refused
    before anything walks them; measured without recursion, however deep they are."""
    if not isinstance(tweaks, dict):
        return
    stack: list[tuple[Any, int]] = [(tweaks, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            raise LimitExceededError(f"Tweaks are nested more than {limit} levels deep")
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))


def _has_stream_field(graph: Graph) -> bool:
    return any("stream" in v.fields for v in graph.vertices.values())


async def run_graph(graph: Graph, request: RunRequest, ctx: RunContext | None = None) -> RunResult:
    """Run `graph` for `request`. `ctx` carries services; one is made with defaults if omitted."""
    started = time.perf_counter()
    session_id = request.session_id or graph.flow_id
    if ctx is None:
        ctx = RunContext(flow_id=graph.flow_id, session_id=session_id, flow_name=graph.flow_name)
    ctx.session_id = session_id
    ctx.stream = request.stream
    if request.input_value is not None and len(request.input_value) > ctx.settings.max_input_chars:
        raise LimitExceededError(f"input_value has {len(request.input_value)} characters; the limit is {ctx.settings.max_input_chars}")
    _check_tweak_depth(request.tweaks, ctx.settings.max_tweak_depth)
    _check_tweak_sizes(request.tweaks, ctx.settings.max_input_chars)
    prepared = prepare_graph(graph, request, ctx.settings.max_nodes)
    if any(v.runs_code for v in prepared.vertices.values()):
        from flowless_engine.runtime.code import check_code

        check_code(prepared, ctx.code_runner)
    scheduler = _Scheduler(prepared, request, ctx, frozen_cache=graph.frozen_results)
    all_results = await scheduler.run()
    selected = select_outputs(prepared, request, all_results)
    result = RunResult(session_id, request.input_value, selected, all_results, time.perf_counter() - started)
    ctx.emit("end", {"result": result.response()})
    return result


def select_outputs(graph: Graph, request: RunRequest, built: dict[str, VertexResult]) -> list[VertexResult]:
    """Langflow's output selection; falls back to every output vertex when nothing matches."""
    order = list(graph.vertices)
    if request.outputs:
        wanted = {v.id for name in request.outputs if (v := graph.find(name))}
    elif request.output_component:
        vertex = graph.find(request.output_component)
        wanted = {vertex.id} if vertex else set()
    elif request.output_type == "debug":
        wanted = set(order)
    else:
        wanted = {
            v.id
            for v in graph.vertices.values()
            if v.is_output and (request.output_type == "any" or request.output_type in v.id.lower())
        }
    if not wanted:
        wanted = {v.id for v in graph.vertices.values() if v.is_output}
    return [built[vid] for vid in order if vid in wanted and vid in built]


def vertices_to_run(graph: Graph, request: RunRequest) -> set[str]:
    """The vertices a run builds: all, or only up to `stop_component_id` / from `start_component_id`."""
    ids = set(graph.vertices)
    if request.stop_component_id and request.stop_component_id in ids:
        ids = ancestors(graph, request.stop_component_id) | {request.stop_component_id}
    if request.start_component_id and request.start_component_id in ids:
        start = request.start_component_id
        reach = descendants(graph, start) | {start}
        needed = set(reach)
        for vid in reach:
            needed |= ancestors(graph, vid)
        ids &= needed
    return ids


def announce_order(ctx: RunContext, order: list[list[str]]) -> None:
    """The events that open a build: the sorted vertices, then `build_start`."""
    ctx.emit("vertices_sorted", {"ids": order[0] if order else [], "to_run": [v for layer in order for v in layer], "run_id": ctx.run_id})
    ctx.emit("build_start", {})


# The vertex whose code is running (each vertex runs in its own task, so this is per task).
# Services read it to attribute events and messages to a vertex (the build path does).
current_vertex: ContextVar[str | None] = ContextVar("flowless_current_vertex", default=None)


class _Scheduler:
    def __init__(self, graph: Graph, request: RunRequest, ctx: RunContext, frozen_cache: dict[str, Any]) -> None:
        self.graph = graph
        self.request = request
        self.ctx = ctx
        self.frozen_cache = frozen_cache
        self.values: dict[tuple[str, str], Any] = {}  # (vertex id, output name) → value
        self.results: dict[str, VertexResult] = {}
        self.skipped: set[str] = set()
        self.components: dict[str, Component] = {}
        self.to_run = self._vertices_to_run()
        self.loop_bodies: dict[str, Any] = {}  # loop vertex id → LoopBody
        self._plans: dict[frozenset[str], tuple[set[str], dict[str, set[str]]]] = {}
        self._has_loops = any(e.targets_output for e in graph.edges)

    def _vertices_to_run(self) -> set[str]:
        return vertices_to_run(self.graph, self.request)

    async def run(self) -> dict[str, VertexResult]:
        announce_order(self.ctx, layers(self.graph, self.to_run))
        await self.run_vertices(self.to_run)
        await self.settle(list(self.results))
        return {vid: self.results[vid] for vid in self.graph.vertices if vid in self.results}

    async def run_vertices(self, ids: set[str]) -> None:
        """Run `ids` as soon as their predecessors among `ids` are done (the others must be done
        already). The first failure cancels the rest and is re-raised. A loop and its body run
        as one unit (see runtime/loops.py): the body is left out, its dependents wait for the loop."""
        ids, depends = self._plan(set(ids))
        pending = {vid: len(deps) for vid, deps in depends.items()}
        dependents: dict[str, list[str]] = {}
        for vid, deps in depends.items():
            for dep in deps:
                dependents.setdefault(dep, []).append(vid)
        position = {vid: i for i, vid in enumerate(self.graph.vertices)}
        ready = sorted((vid for vid, n in pending.items() if n == 0), key=position.__getitem__)
        running: dict[asyncio.Task[None], str] = {}
        try:
            while ready or running:
                for vid in ready:
                    running[asyncio.create_task(self._run_vertex(vid))] = vid
                ready = []
                done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for task in sorted(done, key=lambda t: position[running[t]]):
                    vid = running.pop(task)
                    task.result()  # re-raise the first failure
                    for succ in sorted(dependents.get(vid, ()), key=position.__getitem__):
                        pending[succ] -= 1
                        if pending[succ] == 0:
                            ready.append(succ)
        finally:
            for task in running:
                task.cancel()

    def _plan(self, ids: set[str]) -> tuple[set[str], dict[str, set[str]]]:
        """The vertices to schedule among `ids` and what each waits for (loop bodies folded in)."""
        key = frozenset(ids)
        if key in self._plans:
            return self._plans[key]
        from flowless_engine.runtime.loops import outer_loops

        loops = outer_loops(self.graph, ids, self.to_run) if self._has_loops else {}
        self.loop_bodies.update(loops)
        owner = {vid: lid for lid, body in loops.items() for vid in body.body}
        scheduled = ids - set(owner)
        if self._has_loops:  # a resumed build: the bodies of loops built in an earlier step ran there
            from flowless_engine.runtime.loops import outer_loops as _loops

            finished = _loops(self.graph, {vid for vid in self.results if vid not in ids}, self.to_run)
            scheduled -= {vid for body in finished.values() for vid in body.body}
        depends: dict[str, set[str]] = {}
        for vid in scheduled:
            members = [vid] + [b for b in loops[vid].body] if vid in loops else [vid]
            deps = {owner.get(p, p) for m in members for p in self.graph.predecessors(m)}
            depends[vid] = (deps & scheduled) - {vid}
        self._order_state_vertices(scheduled, depends)
        self._plans[key] = (scheduled, depends)
        return scheduled, depends

    def _order_state_vertices(self, scheduled: set[str], depends: dict[str, set[str]]) -> None:
        """Listen waits for the Notify vertices of its context key (unless one depends on it)."""
        from flowless_engine.components.registry import get_component_class, is_supported

        roles: dict[str, tuple[str, str]] = {}
        for vid in scheduled:
            vertex = self.graph.vertices[vid]
            if not is_supported(vertex.type):
                continue
            role = getattr(get_component_class(vertex.type), "state_role", "")
            if role:
                roles[vid] = (role, str(vertex.value("context_key", "") or ""))
        if not roles:
            return
        from flowless_engine.graph.order import descendants

        for vid, (role, key) in roles.items():
            if role != "listen":
                continue
            after = descendants(self.graph, vid)
            depends[vid] |= {n for n, (r, k) in roles.items() if r == "notify" and k == key and n not in after}

    async def run_loop_body(self, loop_id: str, item: Any) -> Any:
        """One iteration of a loop: its body run with `item` on the loop's `item` output; returns
        the value fed back into the loop (None when nothing feeds back; LOOP_BREAK when the body
        stopped the branch that feeds back)."""
        body = self.loop_bodies.get(loop_id)
        if body is None or not body.body:
            return None
        for vid in body.body:
            self.results.pop(vid, None)
            self.skipped.discard(vid)
            self.components.pop(vid, None)
        self.values = {key: value for key, value in self.values.items() if key[0] not in body.body}
        self.values[(loop_id, "item")] = item
        await self.run_vertices(set(body.body))
        if not body.end:
            return None
        from flowless_engine.runtime.loops import LOOP_BREAK

        end_id, end_output = body.end
        ended = self.results.get(end_id)
        if end_id in self.skipped or (ended is not None and end_output in ended.inactive_outputs):
            return LOOP_BREAK
        return self.values.get(body.end)

    async def settle(self, vertex_ids: Iterable[str]) -> None:
        """Drain the streams nobody consumed (an LLM that is itself an output) so results are whole."""
        for vid in vertex_ids:
            result = self.results.get(vid)
            if result is None:
                continue
            for value in result.values.values():
                if isinstance(value, Message) and isinstance(value.text, TextStream):
                    await value.resolve()
            if vid in self.components:  # a streamed answer's usage and tool logs arrive after the vertex was recorded
                component = self.components[vid]
                result.usage = component.usage
                result.logs = {name: [e.to_dict() for e in entries] for name, entries in component.logs.items()}

    # ---- one vertex -------------------------------------------------------------------
    async def _run_vertex(self, vertex_id: str) -> None:
        current_vertex.set(vertex_id)  # this task's own context: no reset needed
        vertex = self.graph.vertices[vertex_id]
        if self._is_inactive(vertex):
            self.skipped.add(vertex_id)
            return
        started = time.perf_counter()
        if vertex.frozen and vertex_id in self.frozen_cache:
            values, usage = self.frozen_cache[vertex_id]
            result = VertexResult(vertex_id, vertex.display_name, dict(values), usage=usage, used_frozen_result=True,
                                  is_chat=vertex.type in {"ChatInput", "ChatOutput"}, is_output=vertex.is_output)
            self._record(vertex, result, started)
            return
        params = self._params(vertex)
        component_cls = component_for(vertex)
        component = component_cls(vertex, params, self.ctx)
        self.components[vertex_id] = component
        if getattr(component, "is_loop", False):
            component.run_body = lambda item, _vid=vertex_id: self.run_loop_body(_vid, item)  # type: ignore[attr-defined]
        component.sources = {e.target_field: self.graph.vertices[e.source] for e in self.graph.incoming.get(vertex_id, ()) if e.source in self.graph.vertices}
        try:
            values = await self._build_outputs(vertex, component)
        except FlowError as exc:
            self._fail(vertex, getattr(exc, "reason", exc.message), started)
            raise
        except Exception as exc:  # a component bug or bad input: report it, never crash the run loop
            self._fail(vertex, f"{type(exc).__name__}: {exc}", started)
            raise ComponentError(vertex.id, vertex.display_name, str(exc) or type(exc).__name__) from exc
        result = VertexResult(
            vertex_id,
            vertex.display_name,
            values,
            logs={name: [e.to_dict() for e in entries] for name, entries in component.logs.items()},
            usage=component.usage,
            is_chat=component.stores_messages,
            is_output=vertex.is_output,
            inactive_outputs=set(component.inactive_outputs),
        )
        if vertex.frozen:
            self.frozen_cache[vertex_id] = (values, component.usage)
        self._record(vertex, result, started)

    def _fail(self, vertex: Vertex, message: str, started: float) -> None:
        duration = time.perf_counter() - started
        first_output = vertex.output_names()[0] if vertex.outputs else "output"
        self.ctx.emit(
            "end_vertex",
            {"build_data": {
                "id": vertex.id, "inactivated_vertices": [], "next_vertices_ids": [], "top_level_vertices": [],
                "valid": False, "params": None,
                "data": {"results": {}, "outputs": {first_output: {"message": {"errorMessage": message, "stackTrace": ""}, "type": "error"}},
                         "logs": {}, "message": {}, "artifacts": {}, "timedelta": duration, "duration": f"{duration:.3f}s",
                         "used_frozen_result": False, "token_usage": None},
                "timestamp": _iso_now()}},
        )

    def _record(self, vertex: Vertex, result: VertexResult, started: float) -> None:
        result.duration_s = time.perf_counter() - started
        self.results[vertex.id] = result
        for name, value in result.values.items():
            self.values[(vertex.id, name)] = value
        next_ids = sorted(self.graph.successors(vertex.id) & self.to_run)
        data = result.result_data(with_timing=True)
        self.ctx.emit(
            "end_vertex",
            {
                "build_data": {
                    "id": vertex.id,
                    "inactivated_vertices": sorted(self._inactivated_by(vertex.id, result)),
                    "next_vertices_ids": next_ids,
                    "top_level_vertices": next_ids,
                    "valid": True,
                    "params": None,
                    "data": {
                        "results": data["results"],
                        "outputs": data["outputs"],
                        "logs": data["logs"],
                        "message": data["artifacts"],
                        "artifacts": data["artifacts"],
                        "timedelta": data["timedelta"],
                        "duration": data["duration"],
                        "used_frozen_result": result.used_frozen_result,
                        "token_usage": result.usage.to_dict() if result.usage else None,
                    },
                    "timestamp": _iso_now(),
                },
                "output_meta": {
                    "component_id": vertex.id,
                    "display_name": vertex.display_name,
                    "vertex_type": vertex.type,
                    "is_output": vertex.is_output,
                    "is_terminal": not next_ids,
                    "output_types": sorted({t for o in vertex.outputs for t in (o.get("types") or [])}),
                },
            },
        )

    def _inactivated_by(self, vertex_id: str, result: VertexResult) -> set[str]:
        return {e.target for e in self.graph.outgoing.get(vertex_id, ()) if e.source_output in result.inactive_outputs}

    def _edge_active(self, edge: Edge) -> bool:
        if edge.source in self.skipped:
            return False
        source_result = self.results.get(edge.source)
        return source_result is None or edge.source_output not in source_result.inactive_outputs

    def _is_inactive(self, vertex: Vertex) -> bool:
        incoming = [e for e in self.graph.incoming.get(vertex.id, ()) if not e.targets_output and e.source in self.to_run]
        return bool(incoming) and not any(self._edge_active(e) for e in incoming)

    def _params(self, vertex: Vertex) -> dict[str, Any]:
        params = {name: spec.get("value") for name, spec in vertex.fields.items()}
        if "session_id" in params and not any(e.target_field == "session_id" for e in self.graph.incoming.get(vertex.id, ())):
            params["session_id"] = self.ctx.session_id
        self._inject_input(vertex, params)
        fed_lists: set[str] = set()  # list fields take every edge's value, replacing the stored one
        for edge in self.graph.incoming.get(vertex.id, ()):
            if edge.targets_output or not self._edge_active(edge) or (edge.source, edge.source_output) not in self.values:
                continue
            value = self.values[(edge.source, edge.source_output)]
            if not vertex.fields.get(edge.target_field, {}).get("list"):
                params[edge.target_field] = value
                continue
            if edge.target_field not in fed_lists:
                params[edge.target_field] = []
                fed_lists.add(edge.target_field)
            # A tool component contributes its tools one by one; a list output (Data items) is
            # flattened into the list field, as Langflow does.
            params[edge.target_field].extend(value if edge.source_output == TOOL_OUTPUT or isinstance(value, list) else [value])
        return params

    def _inject_input(self, vertex: Vertex, params: dict[str, Any]) -> None:
        request = self.request
        if request.input_value is None or not vertex.is_input or "input_value" not in vertex.fields:
            return
        if request.input_components and vertex.id not in request.input_components and vertex.display_name not in request.input_components:
            return
        kinds = {"chat": {"ChatInput"}, "text": {"TextInput"}}.get(request.input_type)
        if kinds is not None and vertex.type not in kinds:
            return
        params["input_value"] = request.input_value
        if request.files and "files" in params:
            params["files"] = list(request.files)

    async def _build_outputs(self, vertex: Vertex, component: Component) -> dict[str, Any]:
        wanted = _wanted_outputs(self.graph, vertex, component)
        values: dict[str, Any] = {}
        for output in component.outputs:
            if output.name not in wanted:
                continue
            if output.name == TOOL_OUTPUT:
                values[output.name] = await component.build_tools()
            else:
                values[output.name] = await component.compute_output(output)
        if TOOL_OUTPUT in wanted and TOOL_OUTPUT not in values:
            values[TOOL_OUTPUT] = await component.build_tools()
        return values


def _wanted_outputs(graph: Graph, vertex: Vertex, component: Component) -> set[str]:
    """Outputs that feed an edge (a loop's feedback edge too); otherwise the node's first (or
    selected) output."""
    wanted = {e.source_output for e in graph.outgoing.get(vertex.id, ())}
    if not wanted:
        declared = [o.name for o in component.outputs if o.name != TOOL_OUTPUT]
        if declared:
            wanted = {declared[0]}
    return wanted


def _iso_now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).isoformat()


__all__ = ["RunResult", "run_graph", "prepare_graph", "select_outputs", "serialize_value", "Tool", "Message"]
