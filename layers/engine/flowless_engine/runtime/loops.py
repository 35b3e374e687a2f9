"""Loop bodies: the part of a graph a Loop component runs once per item.

As in Langflow, a loop's body is every vertex reached from the loop's `item` output up to the
vertex whose output feeds back into the loop (the feedback edge targets the loop's `item`
output handle), plus the predecessors of those vertices that are not upstream of the loop
itself (model nodes, constants: re-built with each iteration). The scheduler runs a loop and
its body as one unit: the body's vertices are left out of the surrounding run, and whatever
depends on a body vertex waits for the loop.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from flowless_engine.graph.model import Graph
from flowless_engine.graph.order import ancestors

LOOP_OUTPUT = "item"


class _Break:
    """What an iteration answers when its feedback branch was not taken (a router in the body
    stopped it): nothing flows back into the loop, so, as in Langflow, the loop goes no further."""

    def __repr__(self) -> str:
        return "LOOP_BREAK"


LOOP_BREAK = _Break()


@dataclass(frozen=True)
class LoopBody:
    loop_id: str
    body: frozenset[str]
    end: tuple[str, str] | None  # (vertex, output) feeding back into the loop


def _is_loop(graph: Graph, vertex_id: str) -> bool:
    from flowless_engine.components.registry import get_component_class, is_supported

    vertex_type = graph.vertices[vertex_id].type
    return is_supported(vertex_type) and bool(getattr(get_component_class(vertex_type), "is_loop", False))


def loop_body(graph: Graph, loop_id: str, within: set[str]) -> LoopBody:
    feedback = [e for e in graph.incoming.get(loop_id, ()) if e.targets_output and e.target_field == LOOP_OUTPUT]
    if not feedback:
        return LoopBody(loop_id, frozenset(), None)
    end_id = feedback[0].source
    starts = [e.target for e in graph.outgoing.get(loop_id, ()) if e.source_output == LOOP_OUTPUT and not e.targets_output]
    body: set[str] = set()
    todo = deque(starts)
    while todo:
        current = todo.popleft()
        if current in body or current == loop_id:
            continue
        body.add(current)
        if current != end_id:
            todo.extend(graph.successors(current))
    upstream = ancestors(graph, loop_id) | {loop_id}
    todo = deque(body)
    while todo:
        for pred in graph.predecessors(todo.popleft()):
            if pred not in body and pred not in upstream:
                body.add(pred)
                todo.append(pred)
    return LoopBody(loop_id, frozenset(body & within), (end_id, feedback[0].source_output))


def outer_loops(graph: Graph, ids: set[str], within: set[str]) -> dict[str, LoopBody]:
    """The loops among `ids` that are not inside another loop's body, with their bodies."""
    bodies = {vid: loop_body(graph, vid, within) for vid in ids if _is_loop(graph, vid)}
    return {lid: b for lid, b in bodies.items() if not any(lid in other.body for oid, other in bodies.items() if oid != lid)}
