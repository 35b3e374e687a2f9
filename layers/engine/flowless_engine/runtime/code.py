"""The code runner: how a vertex holding approved user code is run, without the engine running it.

The service supplies a `CodeRunner` in `RunContext.code_runner`: it knows the tenant's approved
hashes and runs one vertex's code per call somewhere else (AWS: the CustomCodeFunction, Lambda
tenant isolation; locally: a subprocess). The protocol is JSON both ways:

    call   {"tenant", "flow_id", "run_id", "session_id", "node": {"id", "type", "display_name",
            "code": {field: text}, "outputs": [{"name", "method", "types"}]},
            "output": name, "fields": {name: {"type", "value", ...}}, "inputs": {name: value}}
    answer {"ok": true, "value": value, "status": ..., "logs": [...]} |
           {"ok": false, "error": "...", "kind": "timeout" | "error" | "crash" | "missing_module"}

Values travel in the checkpoint encoding of runtime/build.py (`$type`-tagged Message, Data,
DataFrame). Credentials: a field with `load_from_db` is resolved here and only for the fields of
that node, so the code sees the secrets its own node references and nothing else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from flowless_engine.errors import CodeNotApprovedError
from flowless_engine.graph.code import EXECUTED_INPUTS, CodeItem

if TYPE_CHECKING:
    from flowless_engine.graph.model import Graph


class CodeRunner(Protocol):
    def approved(self, sha256: str) -> bool: ...

    async def run(self, call: dict[str, Any]) -> dict[str, Any]: ...


def code_items(graph: "Graph") -> list[CodeItem]:
    """Every piece of code of the graph that needs approval, in node order."""
    return [
        CodeItem(vertex.id, vertex.type, vertex.display_name, name, digest)
        for vertex in graph.vertices.values()
        for name, digest in vertex.code_hashes.items()
    ]


def runtime_code_inputs(graph: "Graph") -> list[dict[str, str]]:
    """Executed code inputs whose text arrives at run time (an edge, an Agent's tool call): no
    hash can be approved for them, so such flows are refused."""
    found = []
    for vertex in graph.vertices.values():
        executed = EXECUTED_INPUTS.get(vertex.type, ())
        if not executed:
            continue
        fed = {e.target_field for e in graph.incoming.get(vertex.id, ())}
        as_tool = any(e.source_output == "component_as_tool" for e in graph.outgoing.get(vertex.id, ()))
        for name in executed:
            if name in fed or (as_tool and name == "python_code"):
                found.append({"node_id": vertex.id, "type": vertex.type, "field": name})
    return found


def check_code(graph: "Graph", runner: CodeRunner | None) -> None:
    """Refuse (422 CODE_NOT_APPROVED, naming nodes and hashes) unless every piece of code of
    `graph` is approved by `runner`. Without a runner no code is approved."""
    late = runtime_code_inputs(graph)
    if late:
        names = ", ".join(f"{item['node_id']}.{item['field']}" for item in late)
        raise CodeNotApprovedError(
            [{**item, "sha256": ""} for item in late],
            reason=f"Code that arrives while the flow runs cannot be approved: {names}",
        )
    missing = [item.to_dict() for item in code_items(graph) if runner is None or not runner.approved(item.sha256)]
    if missing:
        raise CodeNotApprovedError(missing)
