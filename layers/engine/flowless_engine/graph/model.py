"""The parsed graph: vertices (component nodes) and edges (output → field)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flowless_engine.graph.code import EXECUTED_INPUTS, sha256


@dataclass
class Edge:
    id: str
    source: str
    source_output: str  # output name on the source vertex
    target: str
    target_field: str  # template field on the target vertex
    output_types: tuple[str, ...] = ()
    input_types: tuple[str, ...] = ()
    # Loop feedback edges target an *output* of a Loop vertex rather than a field.
    targets_output: bool = False


@dataclass
class Vertex:
    id: str
    type: str
    display_name: str
    fields: dict[str, dict[str, Any]]  # template fields (minus `code`), after tweaks
    outputs: list[dict[str, Any]]  # the node's declared outputs as exported
    frozen: bool = False
    is_input: bool = False
    is_output: bool = False
    description: str = ""
    # Names of the dropped `code`-typed fields (kept so a tweak to one is refused, not ignored).
    code_fields: frozenset[str] = frozenset()
    # Code that needs approval (graph/code.py): field → text, kept as data for the code runner
    # (the sandbox); the engine never executes it. Empty for stock nodes.
    user_code: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def runs_code(self) -> bool:
        """Served by the sandbox: user code, or a stock type that executes one of its inputs."""
        return bool(self.user_code) or self.type in EXECUTED_INPUTS

    @property
    def code_hashes(self) -> dict[str, str]:
        """field → SHA-256 of each piece of code this node needs approved."""
        return {name: sha256(text) for name, text in self.user_code.items()}

    def value(self, name: str, default: Any = None) -> Any:
        spec = self.fields.get(name)
        if spec is None:
            return default
        return spec.get("value", default)

    def output_names(self) -> list[str]:
        return [o.get("name", "") for o in self.outputs]


@dataclass
class Graph:
    flow_id: str
    flow_name: str
    vertices: dict[str, Vertex]  # in the export's node order
    edges: list[Edge]
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
    # Structure and component support checked once per parsed graph (tweaks change values only).
    checked: bool = False
    # Results of frozen vertices, kept across runs of this parsed graph (shared by tweaked copies).
    frozen_results: dict[str, Any] = field(default_factory=dict, repr=False)
    # Derived lookups, filled by `index()`.
    incoming: dict[str, list[Edge]] = field(default_factory=dict, repr=False)
    outgoing: dict[str, list[Edge]] = field(default_factory=dict, repr=False)

    def index(self) -> "Graph":
        self.incoming = {vid: [] for vid in self.vertices}
        self.outgoing = {vid: [] for vid in self.vertices}
        for edge in self.edges:
            if edge.target in self.incoming:
                self.incoming[edge.target].append(edge)
            if edge.source in self.outgoing:
                self.outgoing[edge.source].append(edge)
        return self

    def predecessors(self, vertex_id: str) -> set[str]:
        return {e.source for e in self.incoming.get(vertex_id, ()) if not e.targets_output}

    def successors(self, vertex_id: str) -> set[str]:
        return {e.target for e in self.outgoing.get(vertex_id, ()) if not e.targets_output}

    def find(self, id_or_name: str) -> Vertex | None:
        """A vertex by id, else by display name (Langflow's lookup order for tweaks/outputs)."""
        if id_or_name in self.vertices:
            return self.vertices[id_or_name]
        for vertex in self.vertices.values():
            if vertex.display_name == id_or_name:
                return vertex
        return None
