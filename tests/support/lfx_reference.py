"""Langflow's published component templates, as facts to compare native components with.

Sources, all pinned wheels from PyPI (downloaded once with `pip download --no-deps` into
`.cache/lfx-reference/`; only their data and the *names* their sources declare are read — nothing
from them is imported or executed):
- `lfx==1.13.0`: `lfx/_assets/component_index.json`, the full node templates of the core types;
- the provider and tool bundles: their component classes are read with `ast` — class `name`,
  `inputs = [SomeInput(name=..., value=...), *Base.inputs, ...]` and `outputs = [Output(name=...)]`,
  following base classes through the lfx sources.

`langflow_template(type_name)` answers `{"source", "inputs": {name: {"type", "input_kind", "value"}},
"outputs": {name: {"method", "types"}}}` or None for a type no reference ships (older names).
"""

from __future__ import annotations

import ast
import functools
import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / ".cache" / "lfx-reference"

CORE = "lfx==1.13.0"
BUNDLES = (
    "lfx-bundles==1.3.1",
    "lfx-google==0.4.0",
    "lfx-ollama==0.2.1",
    "lfx-cohere==0.2.1",
    "lfx-ibm==0.3.1",
    "lfx-openai==0.2.1",
    "lfx-anthropic==0.2.1",
    "lfx-amazon==0.3.0",
    "lfx-azure==0.2.1",
    "lfx-datastax==0.2.1",
    "lfx-openai-compatible==0.2.1",
    "lfx-vllm==0.2.1",
    "lfx-arxiv==0.2.1",
    "lfx-duckduckgo==0.2.1",
    "lfx-exa==0.2.1",
    "lfx-firecrawl==0.2.1",
    "lfx-docling==0.2.2",
)
UNKNOWN = object()  # a default the reference computes at run time

# The template `type` each input class produces (as lfx 1.13's own index records them); the
# others are learnt from the index at load.
_KNOWN_KINDS = {
    "StrInput": "str", "MessageTextInput": "str", "MultilineInput": "str", "SecretStrInput": "str",
    "MessageInput": "str", "DropdownInput": "str", "MultiselectInput": "str", "IntInput": "int",
    "FloatInput": "float", "BoolInput": "bool", "DictInput": "dict", "HandleInput": "other",
    "DataInput": "other", "DataFrameInput": "other", "JSONInput": "other", "FileInput": "file",
    "SliderInput": "slider", "TableInput": "table", "ModelInput": "model", "TabInput": "tab",
    "NestedDictInput": "NestedDict", "PromptInput": "prompt", "QueryInput": "query",
    "SortableListInput": "sortableList", "McpInput": "mcp", "CodeInput": "code",
    "MultilineSecretInput": "str", "LinkInput": "link",
}


def _wheel_name(requirement: str) -> str:
    name, version = requirement.split("==")
    return f"{name.replace('-', '_')}-{version}-py3-none-any.whl"


def _fetch(requirements: tuple[str, ...]) -> list[Path]:
    CACHE.mkdir(parents=True, exist_ok=True)
    missing = [r for r in requirements if not (CACHE / _wheel_name(r)).exists()]
    if missing:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--disable-pip-version-check", "-d", str(CACHE), *missing],
            check=True,
        )
    return [CACHE / _wheel_name(r) for r in requirements]


# ---- bundles: component classes read with ast ----------------------------------------------


class _ClassTable:
    """Every class of the lfx sources and the bundles, by name, to follow `inputs` through bases."""

    def __init__(self) -> None:
        self.classes: dict[str, ast.ClassDef] = {}
        self.bundle_classes: list[tuple[str, ast.ClassDef]] = []

    def add_source(self, text: str, origin: str | None) -> None:
        try:
            tree = ast.parse(text)
        except SyntaxError:
            return
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                self.classes.setdefault(node.name, node)
                if origin:
                    self.bundle_classes.append((origin, node))

    @staticmethod
    def _assigned(cls: ast.ClassDef, attr: str) -> ast.expr | None:
        for stmt in cls.body:
            if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == attr for t in stmt.targets):
                return stmt.value
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.target.id == attr and stmt.value:
                return stmt.value
        return None

    def attribute(self, class_name: str, attr: str, depth: int = 0) -> tuple[ast.expr, str] | None:
        """The expression assigned to `attr` in `class_name` or its nearest base that assigns it."""
        cls = self.classes.get(class_name)
        if cls is None or depth > 12:
            return None
        value = self._assigned(cls, attr)
        if value is not None:
            return value, class_name
        for base in cls.bases:
            base_name = base.id if isinstance(base, ast.Name) else base.attr if isinstance(base, ast.Attribute) else None
            if base_name:
                found = self.attribute(base_name, attr, depth + 1)
                if found:
                    return found
        return None

    def items(self, class_name: str, attr: str, depth: int = 0) -> list[ast.Call] | None:
        """The Input/Output constructor calls of a list attribute; None when it cannot be read."""
        found = self.attribute(class_name, attr)
        if found is None:
            return [] if attr == "outputs" else None
        return self._list(found[0], found[1], depth)

    def _list(self, expr: ast.expr, owner: str, depth: int) -> list[ast.Call] | None:
        if depth > 12:
            return None
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
            left, right = self._list(expr.left, owner, depth + 1), self._list(expr.right, owner, depth + 1)
            return None if left is None or right is None else left + right
        if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name):
            return self._reference(expr.value.id, expr.attr, owner, depth)
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and isinstance(expr.func.value, ast.Name):
            # `Base.get_base_inputs()` / `get_base_outputs()` hand back the base's `_base_inputs` / `_base_outputs`
            attr = "_base_outputs" if expr.func.attr == "get_base_outputs" else "_base_inputs"
            return self._reference(expr.func.value.id, attr, owner, depth)
        if not isinstance(expr, (ast.List, ast.Tuple)):
            return None
        out: list[ast.Call] = []
        for element in expr.elts:
            if isinstance(element, ast.Starred):
                spread = self._list(element.value, owner, depth + 1)
                if spread is None:
                    return None
                out.extend(spread)
            elif isinstance(element, ast.Call):
                out.append(element)
            else:
                return None
        return out

    def _reference(self, name: str, attr: str, owner: str, depth: int) -> list[ast.Call] | None:
        if name in {"cls", "self"}:
            name = owner
        found = self.attribute(name, attr)
        if found is None and attr not in ("_base_inputs", "_base_outputs"):
            found = self.attribute(name, "_base_inputs")
        return None if found is None else self._list(found[0], found[1], depth + 1)


def _call_name(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _keyword(call: ast.Call, key: str) -> Any:
    for kw in call.keywords:
        if kw.arg == key:
            try:
                return ast.literal_eval(kw.value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                return UNKNOWN
    return None


def _bundle_templates(table: _ClassTable, kinds: dict[str, str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for origin, cls in table.bundle_classes:
        if table._assigned(cls, "display_name") is None:
            continue
        inputs = table.items(cls.name, "inputs")
        outputs = table.items(cls.name, "outputs")
        if inputs is None or outputs is None or not (inputs or outputs):
            continue
        name_expr = table._assigned(cls, "name")
        type_name = name_expr.value if isinstance(name_expr, ast.Constant) and isinstance(name_expr.value, str) else cls.name
        fields: dict[str, dict[str, Any]] = {}
        for call in inputs:
            field = _keyword(call, "name")
            if isinstance(field, str):
                kind = _call_name(call)
                fields[field] = {"type": kinds.get(kind), "input_kind": kind, "value": _keyword(call, "value")}
        outs = {}
        for call in outputs:
            output = _keyword(call, "name")
            if isinstance(output, str):
                outs[output] = {"method": _keyword(call, "method"), "types": None}
        out.setdefault(type_name, {"source": origin, "inputs": fields, "outputs": outs})
    return out


# ---- the merged reference -----------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def reference() -> dict[str, dict[str, Any]]:
    core_wheel, *bundle_wheels = _fetch((CORE, *BUNDLES))
    templates: dict[str, dict[str, Any]] = {}
    kinds = dict(_KNOWN_KINDS)
    table = _ClassTable()
    with zipfile.ZipFile(core_wheel) as wheel:
        index = json.loads(wheel.read("lfx/_assets/component_index.json"))
        for name in wheel.namelist():
            if name.startswith("lfx/") and name.endswith(".py"):
                table.add_source(wheel.read(name).decode("utf-8", "replace"), None)
    for _category, components in index["entries"]:
        for type_name, node in components.items():
            fields = {
                key: {"type": spec.get("type"), "input_kind": spec.get("_input_type", ""), "value": spec.get("value")}
                for key, spec in node["template"].items()
                if isinstance(spec, dict) and key != "_type"
            }
            for spec in node["template"].values():
                if isinstance(spec, dict) and spec.get("_input_type"):
                    kinds.setdefault(spec["_input_type"], spec.get("type"))
            outputs = {o["name"]: {"method": o.get("method"), "types": list(o.get("types") or [])} for o in node.get("outputs", [])}
            templates[type_name] = {"source": f"{CORE} component_index.json", "inputs": fields, "outputs": outputs}
    for requirement, path in zip(BUNDLES, bundle_wheels):
        with zipfile.ZipFile(path) as wheel:
            for name in wheel.namelist():
                if name.endswith(".py"):
                    table.add_source(wheel.read(name).decode("utf-8", "replace"), requirement)
    for type_name, template in _bundle_templates(table, kinds).items():
        templates.setdefault(type_name, template)
    return templates


def langflow_template(type_name: str) -> dict[str, Any] | None:
    return reference().get(type_name)


# Fields every Langflow node carries that a native component never declares: the code itself
# (never executed) and the UI's tool-mode bookkeeping.
NOT_COMPARED = frozenset({"code", "tools_metadata", "_frontend_node_flow_id", "_frontend_node_folder_id", "is_refresh"})


# Names Langflow changed between versions for the same thing (exports of both ages are valid).
_SAME = ({"Data", "JSON"}, {"DataFrame", "Table"}, {"float", "slider"})


def _same(ours: set[str], theirs: set[str]) -> bool:
    widen = lambda names: names.union(*(group for group in _SAME if group & names))  # noqa: E731
    return bool(widen(ours) & widen(theirs))


def differences(component_cls: type, type_name: str) -> list[str]:
    """What `component_cls` lacks or types differently from Langflow's template for `type_name`."""
    template = langflow_template(type_name)
    if template is None:
        return []
    ours = {spec.name: spec for spec in component_cls.inputs}
    problems = []
    for name, spec in template["inputs"].items():
        if name in NOT_COMPARED:
            continue
        if name not in ours:
            problems.append(f"missing input '{name}' ({spec['input_kind']})")
        elif spec["type"] and not _same({ours[name].type}, {spec["type"]}):
            problems.append(f"input '{name}' is type {ours[name].type!r}, Langflow's is {spec['type']!r}")
    our_outputs = {o.name: o for o in component_cls.outputs}
    for name, spec in template["outputs"].items():
        if name not in our_outputs:
            problems.append(f"missing output '{name}'")
        elif spec["types"] and not _same(set(our_outputs[name].types), set(spec["types"])):
            problems.append(f"output '{name}' gives {list(our_outputs[name].types)}, Langflow's gives {spec['types']}")
    return problems
