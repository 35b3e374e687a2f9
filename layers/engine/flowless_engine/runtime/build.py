"""Resumable builds: a graph run step by step, with a JSON checkpoint between steps, so that a
build can span several short-lived processes (one Lambda invocation per step).

    plan = plan_build(prepared, request)                   # layers of the vertices to run
    announce(plan, ctx)                                      # vertices_sorted, build_start
    checkpoint = new_checkpoint()
    for step in plan.steps:
        checkpoint = await run_layer(prepared, request, ctx, step, checkpoint)

A step is one layer of the layered order, except that a vertex that streams (its `stream` field
is on) is run in the same step as its consumers, so their tokens are produced while it streams:
a stream cannot cross a checkpoint. `run_layer` runs its vertices with the same per-vertex code
as `run_graph` (the scheduler of run.py, seeded from the checkpoint) and emits the same events.

The checkpoint is plain JSON: every finished vertex's output values (Message, Data, DataFrame and
JSON values are stored and restored exactly; see `to_checkpoint`), its inactive outputs, usage and
duration, and the skipped vertices. Values that are not data — a wired model configuration
(which may carry an API key), tools — are never stored: their vertex is marked and re-built
quietly from its inputs when a later step needs them (building those outputs calls no model).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from flowless_engine.components.base import to_bool
from flowless_engine.components.registry import component_for
from flowless_engine.errors import LimitExceededError, InvalidFlowError
from flowless_engine.graph.model import Graph
from flowless_engine.graph.order import layers
from flowless_engine.graph.validate import missing_required, validate
from flowless_engine.runtime.context import RunContext
from flowless_engine.runtime.request import RunRequest
from flowless_engine.runtime.results import VertexResult
from flowless_engine.runtime.run import TOOL_OUTPUT, _Scheduler, announce_order, vertices_to_run
from flowless_engine.schema import Data, DataFrame, Message, TextStream, Usage

CHECKPOINT_VERSION = 1
_TYPE = "$type"


class NotCheckpointable(TypeError):
    """A value that cannot be stored as JSON (its vertex is re-built instead)."""


# ---- planning -----------------------------------------------------------------------------


@dataclass
class BuildPlan:
    layers: list[list[str]]  # the layered order of the vertices to run
    steps: list[list[str]]  # what each resumable step runs (layers, fused across streams)

    @property
    def to_run(self) -> list[str]:
        return [vid for layer in self.layers for vid in layer]

    def to_dict(self) -> dict[str, Any]:
        return {"layers": self.layers, "steps": self.steps}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "BuildPlan":
        return cls(layers=[list(layer) for layer in data["layers"]], steps=[list(step) for step in data["steps"]])


def prepare_build(graph: Graph, request: RunRequest, ctx: RunContext | None = None) -> Graph:
    """Limits and validation for a build. Unlike `/run`, a build takes no tweaks and keeps each
    node's own `stream` setting (the Playground streams whatever streams)."""
    settings = ctx.settings if ctx is not None else None
    if settings is not None:
        if len(graph.vertices) > settings.max_nodes:
            raise LimitExceededError(f"Flow has {len(graph.vertices)} nodes; the limit is {settings.max_nodes}")
        if request.input_value is not None and len(request.input_value) > settings.max_input_chars:
            raise LimitExceededError(f"input_value has {len(request.input_value)} characters; the limit is {settings.max_input_chars}")
    if not graph.checked:
        validate(graph, check_required=False)
        graph.checked = True
    problems = missing_required(graph)
    if problems:
        raise InvalidFlowError(problems)
    if ctx is not None and any(v.runs_code for v in graph.vertices.values()):
        from flowless_engine.runtime.code import check_code

        check_code(graph, ctx.code_runner)  # (each vertex re-checks its hashes when it runs)
    return graph


def plan_build(graph: Graph, request: RunRequest) -> BuildPlan:
    """The layers of the vertices to run (honouring start/stop component ids) and the steps."""
    to_run = vertices_to_run(graph, request)
    order = layers(graph, to_run)
    steps: list[list[str]] = []
    fuse = False
    for layer in order:
        if fuse:
            steps[-1].extend(layer)
        else:
            steps.append(list(layer))
        in_step = set(steps[-1])
        # Keep going while a streaming vertex of this step feeds a vertex not yet in it.
        fuse = any(_streams(graph, vid) and (graph.successors(vid) & to_run) - in_step for vid in steps[-1])
    return BuildPlan(layers=order, steps=steps)


def _streams(graph: Graph, vertex_id: str) -> bool:
    return to_bool(graph.vertices[vertex_id].value("stream", False))


def announce(plan: BuildPlan, ctx: RunContext) -> None:
    """The events that open a build, as `run_graph` emits them."""
    announce_order(ctx, plan.layers)


# ---- running one step -----------------------------------------------------------------------


def new_checkpoint() -> dict[str, Any]:
    return {"version": CHECKPOINT_VERSION, "vertices": {}, "skipped": [], "usage": None, "build_duration": 0.0}


def build_context(ctx: RunContext, graph: Graph, request: RunRequest) -> RunContext:
    """Set the run-wide fields of `ctx` for a build step (session default, token streaming)."""
    ctx.session_id = request.session_id or graph.flow_id
    ctx.stream = True
    return ctx


async def run_layer(
    graph: Graph,
    request: RunRequest,
    ctx: RunContext,
    layer_ids: list[str],
    checkpoint: dict[str, Any],
    *,
    frozen_cache: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run the vertices `layer_ids` of the prepared `graph` after the state in `checkpoint`;
    returns the next checkpoint (the given one is not changed). Events go to `ctx.events` and
    messages to `ctx.messages` as in `run_graph`. A failing vertex emits its failed `end_vertex`
    and its error is raised; every stream of the step is resolved before this returns."""
    if checkpoint.get("version") != CHECKPOINT_VERSION:
        raise ValueError(f"unsupported checkpoint version {checkpoint.get('version')!r}")
    build_context(ctx, graph, request)
    scheduler = _StepScheduler(graph, request, ctx, frozen_cache if frozen_cache is not None else {})
    scheduler.restore(checkpoint)
    ids = {vid for vid in layer_ids if vid in scheduler.to_run and vid not in scheduler.results and vid not in scheduler.skipped}
    await scheduler.rebuild_inputs(ids)
    await scheduler.run_vertices(ids)
    await scheduler.settle(ids)
    return scheduler.snapshot(checkpoint, ids)


def checkpoint_results(graph: Graph, checkpoint: dict[str, Any]) -> dict[str, VertexResult]:
    """The finished vertices of a checkpoint as VertexResults, in graph order."""
    restored = {vid: _restore_result(graph, vid, entry)[0] for vid, entry in checkpoint["vertices"].items()}
    return {vid: restored[vid] for vid in graph.vertices if vid in restored}


class _StepScheduler(_Scheduler):
    """The run scheduler, seeded from a checkpoint and able to write the next one."""

    rebuild: dict[str, set[str]]

    def restore(self, checkpoint: dict[str, Any]) -> None:
        self.rebuild = {}
        self.skipped = set(checkpoint.get("skipped", ()))
        for vid, entry in checkpoint["vertices"].items():
            result, missing = _restore_result(self.graph, vid, entry)
            self.results[vid] = result
            for name, value in result.values.items():
                self.values[(vid, name)] = value
            if missing:
                self.rebuild[vid] = missing

    async def rebuild_inputs(self, ids: set[str]) -> None:
        """Re-build the non-data outputs (models, tools) that the vertices `ids` consume."""
        for vid in sorted(ids):
            for edge in self.graph.incoming.get(vid, ()):
                if edge.source_output in self.rebuild.get(edge.source, ()):
                    await self._rebuild(edge.source)

    async def _rebuild(self, vertex_id: str) -> None:
        names = self.rebuild.pop(vertex_id, None)
        if not names:
            return
        for edge in self.graph.incoming.get(vertex_id, ()):
            if edge.source_output in self.rebuild.get(edge.source, ()):
                await self._rebuild(edge.source)
        vertex = self.graph.vertices[vertex_id]
        component = component_for(vertex)(vertex, self._params(vertex), self.ctx)
        component.sources = {e.target_field: self.graph.vertices[e.source] for e in self.graph.incoming.get(vertex_id, ()) if e.source in self.graph.vertices}
        by_name = {output.name: output for output in component.outputs}
        for name in sorted(names):
            if name == TOOL_OUTPUT:
                value: Any = component.as_tools()
            elif name in by_name:
                value = await component.compute_output(by_name[name])
            else:
                continue
            self.values[(vertex_id, name)] = value
            self.results[vertex_id].values[name] = value

    def snapshot(self, previous: dict[str, Any], ids: set[str]) -> dict[str, Any]:
        vertices = dict(previous["vertices"])
        for vid in sorted(ids):
            if vid in self.results:
                vertices[vid] = _result_entry(self.results[vid])
        total: Usage | None = None
        duration = 0.0
        for entry in vertices.values():
            if entry.get("usage"):
                usage = Usage(**entry["usage"])
                total = usage if total is None else total.add(usage)
            duration += float(entry.get("duration_s") or 0.0)
        return {
            "version": CHECKPOINT_VERSION,
            "vertices": vertices,
            "skipped": sorted(set(previous.get("skipped", ())) | (self.skipped & self.to_run)),
            "usage": total.to_dict() if total else None,
            "build_duration": duration,
        }


def _result_entry(result: VertexResult) -> dict[str, Any]:
    outputs: dict[str, Any] = {}
    rebuild: list[str] = []
    for name, value in result.values.items():
        try:
            outputs[name] = to_checkpoint(value)
        except NotCheckpointable:
            rebuild.append(name)
    return {
        "outputs": outputs,
        "rebuild": sorted(rebuild),
        "inactive_outputs": sorted(result.inactive_outputs),
        "usage": result.usage.to_dict() if result.usage else None,
        "duration_s": result.duration_s,
        "used_frozen_result": result.used_frozen_result,
        "is_chat": result.is_chat,
        "is_output": result.is_output,
    }


def _restore_result(graph: Graph, vertex_id: str, entry: dict[str, Any]) -> tuple[VertexResult, set[str]]:
    vertex = graph.vertices.get(vertex_id)
    result = VertexResult(
        vertex_id,
        vertex.display_name if vertex else vertex_id,
        {name: from_checkpoint(value) for name, value in entry.get("outputs", {}).items()},
        usage=Usage(**entry["usage"]) if entry.get("usage") else None,
        duration_s=float(entry.get("duration_s") or 0.0),
        used_frozen_result=bool(entry.get("used_frozen_result")),
        is_chat=bool(entry.get("is_chat")),
        is_output=bool(entry.get("is_output")),
        inactive_outputs=set(entry.get("inactive_outputs", ())),
    )
    return result, set(entry.get("rebuild", ()))


# ---- values as JSON -----------------------------------------------------------------------


def to_checkpoint(value: Any) -> Any:
    """A value as JSON: Message/Data/DataFrame and dicts tagged with `$type`, lists as lists.
    Raises NotCheckpointable for anything else (model configs, tools, unresolved streams)."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            return {_TYPE: "float", "value": repr(value)}
        return value
    if isinstance(value, Message):
        return _message_to_checkpoint(value)
    if isinstance(value, Data):
        return {_TYPE: "Data", "data": to_checkpoint(value.data), "text_key": value.text_key, "default_value": to_checkpoint(value.default_value)}
    if isinstance(value, DataFrame):
        return {_TYPE: "DataFrame", "rows": [to_checkpoint(row) for row in value.rows]}
    if isinstance(value, (list, tuple)):
        return [to_checkpoint(item) for item in value]
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise NotCheckpointable("a dict with non-string keys")
        return {_TYPE: "dict", "value": {key: to_checkpoint(item) for key, item in value.items()}}
    raise NotCheckpointable(type(value).__name__)


def from_checkpoint(value: Any) -> Any:
    """The inverse of `to_checkpoint`."""
    if isinstance(value, list):
        return [from_checkpoint(item) for item in value]
    if not isinstance(value, dict):
        return value
    kind = value.get(_TYPE)
    if kind == "dict":
        return {key: from_checkpoint(item) for key, item in value["value"].items()}
    if kind == "Message":
        return _message_from_checkpoint(value)
    if kind == "Data":
        return Data(data=from_checkpoint(value["data"]), text_key=value["text_key"], default_value=from_checkpoint(value["default_value"]))
    if kind == "DataFrame":
        return DataFrame(rows=[from_checkpoint(row) for row in value["rows"]])
    if kind == "float":
        return float(value["value"])
    raise ValueError(f"unknown checkpoint value type {kind!r}")


_MESSAGE_FIELDS = tuple(f.name for f in dataclasses.fields(Message))


def _message_to_checkpoint(message: Message) -> dict[str, Any]:
    if isinstance(message.text, TextStream):
        if not message.text.done:
            raise NotCheckpointable("a message whose text is still streaming")
        text: Any = message.text.collected
    else:
        text = message.text
    out: dict[str, Any] = {_TYPE: "Message"}
    for name in _MESSAGE_FIELDS:
        if name == "text":
            out[name] = to_checkpoint(text)
        elif name == "usage":
            out[name] = message.usage.to_dict() if message.usage else None
        else:
            out[name] = to_checkpoint(getattr(message, name))
    return out


def _message_from_checkpoint(value: dict[str, Any]) -> Message:
    fields = {name: from_checkpoint(value[name]) for name in _MESSAGE_FIELDS if name in value and name != "usage"}
    usage = value.get("usage")
    return Message(**fields, usage=Usage(**usage) if usage else None)


__all__ = [
    "BuildPlan",
    "NotCheckpointable",
    "announce",
    "build_context",
    "checkpoint_results",
    "from_checkpoint",
    "new_checkpoint",
    "plan_build",
    "prepare_build",
    "run_layer",
    "to_checkpoint",
]
