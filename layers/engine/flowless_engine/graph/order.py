"""Layered topological order (Kahn): layer 0 is every vertex with no predecessors."""

from __future__ import annotations

from flowless_engine.graph.model import Graph


def layers(graph: Graph, vertex_ids: set[str] | None = None) -> list[list[str]]:
    """Vertices grouped in layers, each layer in the export's node order. Ignores loop feedback."""
    ids = [vid for vid in graph.vertices if vertex_ids is None or vid in vertex_ids]
    wanted = set(ids)
    indegree = {vid: len(graph.predecessors(vid) & wanted) for vid in ids}
    current = [vid for vid in ids if indegree[vid] == 0]
    result: list[list[str]] = []
    seen = 0
    while current:
        result.append(current)
        seen += len(current)
        nxt: list[str] = []
        for vid in current:
            for succ in graph.successors(vid):
                if succ in indegree:
                    indegree[succ] -= 1
                    if indegree[succ] == 0:
                        nxt.append(succ)
        order = {vid: i for i, vid in enumerate(ids)}
        current = sorted(set(nxt), key=order.__getitem__)
    if seen != len(ids):
        raise ValueError("graph has a cycle")
    return result


def find_cycle(graph: Graph) -> list[str] | None:
    """One cycle as a list of vertex ids (first repeated at the end), or None."""
    WHITE, GREY, BLACK = 0, 1, 2
    color = {vid: WHITE for vid in graph.vertices}
    stack: list[str] = []

    def visit(vid: str) -> list[str] | None:
        color[vid] = GREY
        stack.append(vid)
        for succ in sorted(graph.successors(vid)):
            if succ not in color:
                continue
            if color[succ] == GREY:
                return stack[stack.index(succ):] + [succ]
            if color[succ] == WHITE and (found := visit(succ)):
                return found
        stack.pop()
        color[vid] = BLACK
        return None

    for vid in graph.vertices:
        if color[vid] == WHITE and (found := visit(vid)):
            return found
    return None


def ancestors(graph: Graph, vertex_id: str) -> set[str]:
    seen: set[str] = set()
    todo = [vertex_id]
    while todo:
        for pred in graph.predecessors(todo.pop()):
            if pred not in seen:
                seen.add(pred)
                todo.append(pred)
    return seen


def descendants(graph: Graph, vertex_id: str) -> set[str]:
    seen: set[str] = set()
    todo = [vertex_id]
    while todo:
        for succ in graph.successors(todo.pop()):
            if succ not in seen:
                seen.add(succ)
                todo.append(succ)
    return seen
