"""Langflow flow JSON (exports from 1.0 to 1.13) → Graph.

Notes are dropped, group nodes are flattened, edges are read from `edge.data.*Handle` and,
for older exports, from the `œ`-encoded handle strings. Code is never executed by the engine:
the `code` field of a stock node is dropped on load; user code (graph/code.py) is kept apart from
the fields, as data for the sandbox, which runs it only once the tenant approved its hash.
"""

from __future__ import annotations

import json
from typing import Any

from flowless_engine.components.registry import resolve_type
from flowless_engine.errors import InvalidFlowError, Problem
from flowless_engine.graph.code import user_code
from flowless_engine.graph.model import Edge, Graph, Vertex

INPUT_TYPES = {"ChatInput", "TextInput", "Webhook"}
OUTPUT_TYPES = {"ChatOutput", "TextOutput", "DataOutput"}


def load_graph(flow: Any, *, flow_id: str | None = None, flow_name: str | None = None) -> Graph:
    """Parse a flow (dict, or JSON text) into a Graph. Raises InvalidFlowError with every problem.
    JSON text may start with a UTF-8 byte-order mark (some editors save exports with one)."""
    if isinstance(flow, (str, bytes)):
        if isinstance(flow, str):
            flow = flow.removeprefix("\ufeff")  # json.loads takes bytes with a BOM, not str
        try:
            flow = json.loads(flow)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidFlowError([Problem("malformed_json", f"Flow is not valid JSON: {exc}")]) from None
        except RecursionError:
            raise InvalidFlowError([Problem("malformed_json", "Flow is not valid JSON: nested too deeply")]) from None
    if not isinstance(flow, dict):
        raise InvalidFlowError([Problem("malformed_flow", "Flow must be a JSON object")])

    data = flow.get("data") if "data" in flow else flow
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except (ValueError, RecursionError):
            data = None
    if not isinstance(data, dict) or not isinstance(data.get("nodes"), list) or not isinstance(data.get("edges", []), list):
        raise InvalidFlowError([Problem("malformed_flow", "Flow must contain data.nodes and data.edges lists")])

    problems: list[Problem] = []
    raw_nodes, raw_edges = _flatten_groups(data["nodes"], data.get("edges") or [], problems)
    vertices: dict[str, Vertex] = {}
    for index, node in enumerate(raw_nodes):
        vertex = _parse_node(node, index, problems)
        if vertex is None:
            continue
        if vertex.id in vertices:
            problems.append(Problem("duplicate_node", f"Node id '{vertex.id}' appears more than once", node_id=vertex.id))
            continue
        vertices[vertex.id] = vertex

    edges = [edge for index, raw in enumerate(raw_edges) if (edge := _parse_edge(raw, index, problems)) is not None]
    if problems:
        raise InvalidFlowError(problems)

    graph = Graph(
        flow_id=str(flow_id or flow.get("id") or ""),
        flow_name=str(flow_name or flow.get("name") or ""),
        vertices=vertices,
        edges=edges,
        raw=flow,
    )
    return graph.index()


def str_tuple(value: Any) -> tuple[str, ...]:
    """A list of type names as read from JSON; anything else (a damaged export) counts as none."""
    if not isinstance(value, (list, tuple)):
        return ()
    return tuple(item for item in value if isinstance(item, str))


def _is_note(node: dict[str, Any]) -> bool:
    data = node.get("data")
    return node.get("type") == "noteNode" or (isinstance(data, dict) and data.get("type") == "note")


def _parse_node(node: Any, index: int, problems: list[Problem]) -> Vertex | None:
    if not isinstance(node, dict):
        problems.append(Problem("malformed_node", f"Node #{index} is not an object"))
        return None
    if _is_note(node):
        return None
    data = node.get("data")
    node_id = node.get("id") or (data.get("id") if isinstance(data, dict) else None)
    if not isinstance(data, dict):
        problems.append(Problem("malformed_node", f"Node #{index} has no data object", node_id=node_id))
        return None
    component_type = data.get("type")
    node_body = data.get("node")
    if not node_id or not isinstance(node_id, str):
        problems.append(Problem("malformed_node", f"Node #{index} has no id"))
        return None
    if not component_type or not isinstance(component_type, str):
        problems.append(Problem("malformed_node", f"Node '{node_id}' has no data.type", node_id=node_id))
        return None
    if not isinstance(node_body, dict) or not isinstance(node_body.get("template", {}), dict):
        problems.append(Problem("malformed_node", f"Node '{node_id}' has no data.node.template", node_id=node_id))
        return None
    # Extension ids and " (xxxxx)" suffixes become the registered name; unknown types keep theirs.
    component_type = resolve_type(component_type) or component_type

    fields: dict[str, dict[str, Any]] = {}
    code_fields: set[str] = set()
    for name, spec in (node_body.get("template") or {}).items():
        if name == "_type" or not isinstance(spec, dict):
            continue
        if name == "code" or spec.get("type") == "code":
            code_fields.add(name)  # never executed, never kept: only the name, so tweaks can refuse it
            continue
        if not isinstance(spec.get("type", ""), str) or not isinstance(spec.get("input_types") or [], list):
            problems.append(Problem("malformed_field", f"Node '{node_id}' field '{name}' has an invalid type", node_id=node_id, field=name))
            continue
        fields[name] = spec
    raw_outputs = node_body.get("outputs") or []
    if not isinstance(raw_outputs, list):
        problems.append(Problem("malformed_node", f"Node '{node_id}' outputs are not a list", node_id=node_id))
        return None
    # Output names and types are compared and sorted later: keep only well-formed ones.
    outputs = [
        {**o, "name": o["name"], "types": list(str_tuple(o.get("types")))}
        for o in raw_outputs
        if isinstance(o, dict) and isinstance(o.get("name"), str)
    ]
    display_name = str(node_body.get("display_name") or data.get("display_name") or component_type)
    return Vertex(
        id=node_id,
        type=component_type,
        display_name=display_name,
        fields=fields,
        outputs=outputs,
        code_fields=frozenset(code_fields),
        user_code=user_code(component_type, node_body.get("template") or {}),
        frozen=bool(node_body.get("frozen")),
        is_input=component_type in INPUT_TYPES or _id_prefix(node_id) in INPUT_TYPES or bool(data.get("is_input")),
        is_output=component_type in OUTPUT_TYPES or _id_prefix(node_id) in OUTPUT_TYPES or bool(data.get("is_output")),
        description=str(node_body.get("description") or ""),
    )


def _id_prefix(node_id: str) -> str:
    return node_id.split("-", 1)[0]


def decode_handle(handle: Any) -> dict[str, Any] | None:
    """Edge handles are dicts in `edge.data`, or the same dict with `œ` for `"` in older exports."""
    if isinstance(handle, dict):
        return handle
    if isinstance(handle, str) and handle.startswith("{"):
        try:
            decoded = json.loads(handle.replace("œ", '"'))
        except ValueError:
            return None
        return decoded if isinstance(decoded, dict) else None
    return None


def _parse_edge(raw: Any, index: int, problems: list[Problem]) -> Edge | None:
    if not isinstance(raw, dict):
        problems.append(Problem("malformed_edge", f"Edge #{index} is not an object"))
        return None
    data = raw.get("data") if isinstance(raw.get("data"), dict) else {}
    source_handle = decode_handle(data.get("sourceHandle")) or decode_handle(raw.get("sourceHandle"))
    target_handle = decode_handle(data.get("targetHandle")) or decode_handle(raw.get("targetHandle"))
    edge_id = str(raw.get("id") or f"edge-{index}")
    source = raw.get("source") or (source_handle or {}).get("id")
    target = raw.get("target") or (target_handle or {}).get("id")

    if target_handle is None and isinstance(raw.get("targetHandle"), str) and raw["targetHandle"].count("|") >= 2:
        # pre-1.0 exports: "<types>|<field>|<node id>"
        types, field_name, node_id = raw["targetHandle"].split("|", 2)
        target_handle = {"fieldName": field_name, "id": node_id, "inputTypes": types.split(",")}
    if not source or not target or source_handle is None or target_handle is None:
        problems.append(Problem("malformed_edge", f"Edge '{edge_id}' has no readable source/target handle"))
        return None

    targets_output = "fieldName" not in target_handle and "name" in target_handle
    target_field = target_handle.get("fieldName") or target_handle.get("name")
    source_output = source_handle.get("name") or ""
    if not target_field:
        problems.append(Problem("malformed_edge", f"Edge '{edge_id}' does not name a target field"))
        return None
    return Edge(
        id=edge_id,
        source=str(source),
        source_output=str(source_output),
        target=str(target),
        target_field=str(target_field),
        output_types=str_tuple(source_handle.get("output_types") or source_handle.get("baseClasses")),
        input_types=str_tuple(target_handle.get("inputTypes")),
        targets_output=targets_output,
    )


def _flatten_groups(nodes: list[Any], edges: list[Any], problems: list[Problem]) -> tuple[list[Any], list[Any]]:
    """Replace group nodes by their inner nodes; re-point edges through the group's proxies."""
    groups = {
        n["id"]: n
        for n in nodes
        if isinstance(n, dict)
        and isinstance(n.get("id"), str)
        and isinstance(n.get("data"), dict)
        and isinstance(n["data"].get("node"), dict)
        and isinstance(n["data"]["node"].get("flow"), dict)
    }
    if not groups:
        return nodes, edges
    flat_nodes = [n for n in nodes if not (isinstance(n, dict) and isinstance(n.get("id"), str) and n["id"] in groups)]
    flat_edges: list[Any] = []
    for group_id, group in groups.items():
        inner = group["data"]["node"]["flow"].get("data")
        inner_nodes = inner.get("nodes") if isinstance(inner, dict) else None
        inner_edges = (inner.get("edges") or []) if isinstance(inner, dict) else None
        if not isinstance(inner_nodes, list) or not isinstance(inner_edges, list):
            problems.append(Problem("malformed_group", f"Group '{group_id}' has no flow.data.nodes and edges lists", node_id=group_id))
            continue
        inner_nodes, inner_edges = _flatten_groups(inner_nodes, inner_edges, problems)
        flat_nodes.extend(inner_nodes)
        flat_edges.extend(inner_edges)
    for raw in edges:
        if not isinstance(raw, dict):
            flat_edges.append(raw)
            continue
        flat_edges.append(_reroute_through_groups(raw, groups, problems))
    return flat_nodes, flat_edges


def _group_end(groups: dict[str, Any], node_id: Any) -> dict[str, Any] | None:
    """The `data.node` of the group an edge end names, if it names one."""
    return groups[node_id]["data"]["node"] if isinstance(node_id, str) and node_id in groups else None


def _reroute_through_groups(raw: dict[str, Any], groups: dict[str, Any], problems: list[Problem]) -> dict[str, Any]:
    data = dict(raw["data"]) if isinstance(raw.get("data"), dict) else {}
    source_handle = dict(decode_handle(data.get("sourceHandle")) or decode_handle(raw.get("sourceHandle")) or {})
    target_handle = dict(decode_handle(data.get("targetHandle")) or decode_handle(raw.get("targetHandle")) or {})
    source, target = raw.get("source"), raw.get("target")
    if (group := _group_end(groups, target)) is not None:
        template = group.get("template")
        field_name = target_handle.get("fieldName")
        field_spec = template.get(field_name) if isinstance(template, dict) and isinstance(field_name, str) else None
        proxy = field_spec.get("proxy") if isinstance(field_spec, dict) else None
        if isinstance(proxy, dict) and isinstance(proxy.get("id"), str) and isinstance(proxy.get("field"), str):
            target = proxy["id"]
            target_handle.update(id=proxy["id"], fieldName=proxy["field"])
        else:
            problems.append(Problem("group_proxy", f"Group '{target}' field '{field_name}' has no proxy", node_id=target))
    if (group := _group_end(groups, source)) is not None:
        outputs = group.get("outputs") if isinstance(group.get("outputs"), list) else []
        match = next((o for o in outputs if isinstance(o, dict) and o.get("name") == source_handle.get("name")), None)
        proxy = (match or {}).get("proxy")
        if isinstance(proxy, dict) and isinstance(proxy.get("id"), str) and isinstance(proxy.get("name"), str):
            source = proxy["id"]
            source_handle.update(id=proxy["id"], name=proxy["name"])
        else:
            problems.append(Problem("group_proxy", f"Group '{source}' output '{source_handle.get('name')}' has no proxy", node_id=source))
    data.update(sourceHandle=source_handle, targetHandle=target_handle)
    return {**raw, "source": source, "target": target, "data": data}
