"""The Lambda layers' and functions' requirements.txt: pinned to constraints.txt, no boto3/botocore
(the runtime has them), and complete where the build installs with --no-deps (the shared layer).
Every third-party module the deployed code imports is provided by a layer or by the runtime."""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import re
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests.deploy import template_routes as routes

REPO = routes.REPO
# What the Lambda python3.12 runtime ships (boto3 and its dependency tree).
RUNTIME_PROVIDED = {"boto3", "botocore", "jmespath", "python-dateutil", "s3transfer", "six", "urllib3"}
# Imported by the deployed code only on paths Lambda does not take yet, left out of the layers on purpose.
OPTIONAL_IMPORTS = {"pypdf": "PDF text of uploaded files (the File component); uploads are not served in Lambda yet"}
# Where flowless imports development-only packages: the local server and CLI, not deployed code paths.
LOCAL_ONLY = ("flowless/local/", "flowless/cli.py", "flowless/cli_remote.py", "flowless/cli_components.py", "flowless/__main__.py", "flowless/client.py")
LAMBDA_MARKERS = {"python_version": "3.12", "python_full_version": "3.12.0", "sys_platform": "linux", "platform_system": "Linux",
                  "platform_machine": "aarch64", "implementation_name": "cpython", "platform_python_implementation": "CPython",
                  "os_name": "posix", "extra": ""}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep and version, f"{path}: {line!r} is not pinned with =="
            found[canonical(name)] = version.strip()
    return found


def requirement_files() -> dict[str, Path]:
    template = routes.load()
    found = {}
    for name, resource in template["Resources"].items():
        properties = resource.get("Properties") or {}
        folder = properties.get("ContentUri") if resource["Type"] == "AWS::Serverless::LayerVersion" else properties.get("CodeUri")
        if isinstance(folder, str) and (REPO / folder / "requirements.txt").is_file():
            found[name] = REPO / folder / "requirements.txt"
    return found


def test_layers_have_requirements() -> None:
    assert {"EngineLayer", "SharedLayer", "ConnectorsLayer"} <= set(requirement_files())


@pytest.mark.parametrize("resource", sorted(requirement_files()))
def test_pins_match_constraints(resource: str) -> None:
    constraints = pins(REPO / "constraints.txt")
    listed = pins(requirement_files()[resource])
    assert listed, resource
    for name, version in listed.items():
        assert name not in RUNTIME_PROVIDED, f"{resource}: {name} is provided by the Lambda runtime"
        assert constraints.get(name) == version, f"{resource}: {name}=={version}, constraints.txt has {constraints.get(name)}"


@pytest.mark.parametrize("resource", sorted(requirement_files()))
def test_requirements_are_their_complete_dependency_closure(resource: str) -> None:
    """Needed where the build does not resolve (shared/Makefile: --no-deps); kept everywhere so that
    builds are reproducible. Dependencies come from the installed distributions' metadata."""
    listed = pins(requirement_files()[resource])
    missing = set()
    for name in listed:
        for raw in metadata.requires(name) or []:
            requirement = Requirement(raw)
            if requirement.marker is not None and not requirement.marker.evaluate(LAMBDA_MARKERS):
                continue
            dependency = canonical(requirement.name)
            if dependency not in listed and dependency not in RUNTIME_PROVIDED:
                missing.add(f"{dependency} (needed by {name})")
    assert not missing, f"{resource}: add {sorted(missing)}"


def third_party_imports(folder: Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """Top-level module -> first file importing it, for every import (lazy ones too) under folder."""
    found: dict[str, str] = {}
    for path in sorted(folder.rglob("*.py")):
        relative = path.relative_to(folder.parent).as_posix()
        if any(relative.startswith(prefix) for prefix in skip):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in {"flowless", "flowless_engine", "flowless_sandbox", "__future__"}:
                    found.setdefault(top, relative)
    return found


def distributions_of(modules: dict[str, str]) -> dict[str, str]:
    index = metadata.packages_distributions()
    resolved = {}
    for module, where in modules.items():
        names = index.get(module)
        assert names, f"{where} imports {module}, which no installed distribution provides"
        resolved[canonical(names[0])] = f"{module} ({where})"
    return resolved


def test_deployed_code_imports_only_what_the_layers_and_the_runtime_provide() -> None:
    files = requirement_files()
    engine, shared, sandbox = pins(files["EngineLayer"]), pins(files["SharedLayer"]), pins(files["SandboxLayer"])
    connectors = pins(files["ConnectorsLayer"])  # store drivers, imported by the engine on first use
    checks = {
        "layers/engine": (distributions_of(third_party_imports(REPO / "layers/engine/flowless_engine")), set(engine) | set(connectors)),
        "shared": (distributions_of(third_party_imports(REPO / "shared/flowless", LOCAL_ONLY)), set(engine) | set(shared) | set(connectors)),
        "functions": (distributions_of(third_party_imports(REPO / "functions", ("functions/custom_code/",))), set(engine) | set(shared)),
        # The sandbox (CustomCodeFunction) has its own layer only: none of Flowless's.
        "layers/sandbox": (distributions_of(third_party_imports(REPO / "layers/sandbox/flowless_sandbox")), set(sandbox)),
        "functions/custom_code": (distributions_of(third_party_imports(REPO / "functions/custom_code")), set(sandbox)),
    }
    problems = []
    for where, (imported, available) in checks.items():
        for distribution, example in imported.items():
            if distribution not in available | RUNTIME_PROVIDED and distribution not in OPTIONAL_IMPORTS:
                problems.append(f"{where} imports {example}: add {distribution} to its layer's requirements.txt")
    assert not problems, "\n".join(problems)


def test_the_functions_that_run_flows_get_the_connectors_layer() -> None:
    resources = routes.load()["Resources"]
    for name in ("RunFunction", "RunStreamFunction", "BuildWorkerFunction", "WebhookFunction", "BuildFunction"):
        layers = resources[name]["Properties"].get("Layers") or []
        assert {"Ref": "ConnectorsLayer"} in layers, f"{name} runs flows but lacks the connectors layer"
