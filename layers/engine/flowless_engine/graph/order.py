"""Layered topological order (Kahn): layer 0 is every vertex with no predecessors."""

from __future__ import annotations

from flowless_engine.graph.model import Graph


def layers(graph: Graph, vertex_ids: set[str] | None = None) -> list[list[str]]:
    """Vertices grouped in layers, each layer in the export's node order. Ignores loop feedback."""
    ids = [vid for vid in graph.vertices if vertex_ids is None or vid in vertex_ids]
    wanted = set(ids)
    indegree = {vid: len(graph.predecessors(vid) & wanted) for vid in ids}
    current = [vid for vid in ids if indegree[vid] == 0]
    order = {vid: i for i, vid in enumerate(ids)}
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
        current = sorted(set(nxt), key=order.__getitem__)
    if seen != len(ids):
        raise ValueError("graph has a cycle")
    return result


def find_cycle(graph: Graph) -> list[str] | None:
    """One cycle as a list of vertex ids (first repeated at the end), or None.

    Iterative depth-first search: a long chain of vertices must not exhaust Python's stack.
    """
    WHITE, GREY, BLACK = 0, 1, 2
    color = {vid: WHITE for vid in graph.vertices}
    for root in graph.vertices:
        if color[root] != WHITE:
            continue
        color[root] = GREY
        path = [root]
        todo = [iter(sorted(graph.successors(root)))]
        while todo:
            succ = next(todo[-1], None)
            if succ is None:
                todo.pop()
                color[path.pop()] = BLACK
                continue
            if succ not in color:
                continue
            if color[succ] == GREY:
                return path[path.index(succ):] + [succ]
            if color[succ] == WHITE:
                color[succ] = GREY
                path.append(succ)
                todo.append(iter(sorted(graph.successors(succ))))
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
