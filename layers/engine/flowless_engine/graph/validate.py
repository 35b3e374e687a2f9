"""Graph checks, all reported at once: dangling edges, unknown fields/outputs, type mismatches,
cycles, missing required inputs, and component types the registry does not implement."""

from __future__ import annotations

from flowless_engine.errors import InvalidFlowError, Problem, UnsupportedComponentsError
from flowless_engine.graph.loader import str_tuple
from flowless_engine.graph.model import Graph
from flowless_engine.graph.order import find_cycle

# Langflow renamed some edge types over releases; treat the pairs as the same type.
_TYPE_ALIASES = {"Text": "Message", "JSON": "Data", "Table": "DataFrame"}
# Field types whose emptiness is not an error (a default applies, or the value arrives at run time).
_OPTIONAL_KINDS = {"model", "file", "other", "table", "bool"}


def _canonical(types: tuple[str, ...] | list[str]) -> set[str]:
    return {_TYPE_ALIASES.get(t, t) for t in types}


def find_problems(graph: Graph, *, check_required: bool = True) -> list[Problem]:
    problems: list[Problem] = []
    for edge in graph.edges:
        source = graph.vertices.get(edge.source)
        target = graph.vertices.get(edge.target)
        if source is None or target is None:
            missing = edge.source if source is None else edge.target
            problems.append(Problem("dangling_edge", f"Edge '{edge.id}' points at missing node '{missing}'", node_id=missing))
            continue
        if edge.targets_output:
            continue
        if edge.target_field not in target.fields:
            problems.append(Problem("unknown_field", f"Edge into '{target.id}' targets unknown field '{edge.target_field}'", node_id=target.id, field=edge.target_field))
            continue
        names = source.output_names()
        if names and edge.source_output not in names:
            problems.append(Problem("unknown_output", f"Edge from '{source.id}' uses unknown output '{edge.source_output}'", node_id=source.id, field=edge.source_output))
            continue
        out_types = _canonical(edge.output_types or _declared_types(source, edge.source_output))
        in_types = _canonical(edge.input_types or str_tuple(target.fields[edge.target_field].get("input_types")))
        if out_types and in_types and not out_types & in_types:
            problems.append(
                Problem(
                    "type_mismatch",
                    f"Edge '{source.id}.{edge.source_output}' ({', '.join(sorted(out_types))}) cannot feed "
                    f"'{target.id}.{edge.target_field}' (accepts {', '.join(sorted(in_types))})",
                    node_id=target.id,
                    field=edge.target_field,
                )
            )
    cycle = find_cycle(graph)
    if cycle:
        problems.append(Problem("cycle", f"Flow has a cycle: {' -> '.join(cycle)}", node_id=cycle[0], extra={"cycle": cycle}))
    if check_required:
        problems.extend(missing_required(graph))
    return problems


def _declared_types(vertex, output_name: str) -> tuple[str, ...]:
    for output in vertex.outputs:
        if output.get("name") == output_name:
            return tuple(output.get("types") or ())
    return ()


def missing_required(graph: Graph) -> list[Problem]:
    problems = []
    for vertex in graph.vertices.values():
        fed = {e.target_field for e in graph.incoming.get(vertex.id, ())}
        # A component in tool mode gets its tool-mode fields from the Agent's call.
        used_as_tool = any(e.source_output == "component_as_tool" for e in graph.outgoing.get(vertex.id, ()))
        for name, spec in vertex.fields.items():
            if not spec.get("required") or name in fed or spec.get("show") is False:
                continue
            if used_as_tool and spec.get("tool_mode"):
                continue
            if spec.get("type") in _OPTIONAL_KINDS or (vertex.is_input and name == "input_value"):
                continue
            value = spec.get("value")
            if value is None or value == "" or value == []:
                problems.append(Problem("missing_required", f"Node '{vertex.id}' is missing required input '{name}'", node_id=vertex.id, field=name))
    return problems


def check_supported(graph: Graph) -> None:
    from flowless_engine.components.registry import is_supported

    unsupported: dict[str, list[str]] = {}
    for vertex in graph.vertices.values():
        if not vertex.runs_code and not is_supported(vertex.type):  # user code: the sandbox's
            unsupported.setdefault(vertex.type, []).append(vertex.id)
    if unsupported:
        raise UnsupportedComponentsError(unsupported)


def validate(graph: Graph, *, check_required: bool = True) -> Graph:
    """Raise InvalidFlowError listing every structural problem, then UnsupportedComponentsError."""
    problems = find_problems(graph, check_required=check_required)
    if problems:
        raise InvalidFlowError(problems)
    check_supported(graph)
    return graph
