"""Routes as the template declares them (API Gateway events) and as the FastAPI apps serve them.

Paths compare with their parameter names blanked (`/run/{}`): API Gateway allows one variable
name per path level, so the template may name a parameter differently from the router.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "template.yaml"
# FastAPI's own documentation routes: served by every app, deliberately not exposed by API Gateway.
FRAMEWORK_ROUTES = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}

Route = tuple[str, str]  # (METHOD, path)


def load() -> dict[str, Any]:
    from flowless.local.invoke import load_template

    return load_template(TEMPLATE)


def normalize(path: str) -> str:
    """Parameter names blanked; no trailing slash (API Gateway resources have none; a request's
    trailing slash reaches the app as sent)."""
    path = re.sub(r"\{[^}]+\}", "{}", path)
    return path.rstrip("/") or "/"


def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}


def api_events(resource: dict[str, Any]) -> dict[str, dict[str, Any]]:
    events = (resource.get("Properties") or {}).get("Events") or {}
    return {name: e["Properties"] for name, e in events.items() if e.get("Type") == "Api"}


def template_routes(template: dict[str, Any]) -> dict[str, set[Route]]:
    """Function logical id -> the (METHOD, normalized path) its Api events declare."""
    return {
        name: {(e["Method"].upper(), normalize(e["Path"])) for e in api_events(resource).values()}
        for name, resource in functions(template).items()
    }


def function_for(template: dict[str, Any], method: str, resource_path: str) -> str | None:
    wanted = (method.upper(), normalize(resource_path))
    owners = [name for name, routes in template_routes(template).items() if wanted in routes]
    assert len(owners) <= 1, f"{wanted} is declared by several functions: {owners}"
    return owners[0] if owners else None


def app_routes(groups: Iterable[str]) -> dict[Route, str]:
    """The routes `create_app(groups)` serves (HEAD/OPTIONS aside, documentation routes excluded):
    (METHOD, normalized path) -> the path as the router writes it."""
    from flowless.api.app import create_app

    found: dict[Route, str] = {}
    for path, methods in _walk(create_app(tuple(groups)).routes):
        if path in FRAMEWORK_ROUTES:
            continue
        for method in methods:
            if method not in {"HEAD", "OPTIONS"}:
                found[(method, normalize(path))] = path.rstrip("/") or "/"
    return found


def _walk(routes: Iterable[Any]) -> Iterable[tuple[str, set[str]]]:
    # FastAPI >= 0.16x keeps included routers as branches of app.routes instead of copying them.
    for route in routes:
        if hasattr(route, "effective_candidates"):
            yield from _walk(route.effective_candidates())
            continue
        methods = getattr(route, "methods", None) or getattr(getattr(route, "original_route", None), "methods", None)
        if getattr(route, "path", None) is not None:
            yield route.path, set(methods or ())


def function_module(logical_id: str, template: dict[str, Any] | None = None) -> Any:
    """The function's app.py (its CodeUri), imported by path with its layers on sys.path."""
    import importlib.util
    import sys

    name = f"_function_{logical_id}"
    if name in sys.modules:
        return sys.modules[name]
    from flowless.local.invoke import function_spec

    spec = function_spec(template or load(), logical_id, root=REPO)
    for layer in reversed(spec.layer_dirs):
        if str(layer) not in sys.path:
            sys.path.insert(0, str(layer))
    module_file = spec.code_dir / "app.py"
    loader = importlib.util.spec_from_file_location(name, module_file)
    assert loader is not None and loader.loader is not None, module_file
    module = importlib.util.module_from_spec(loader)
    sys.modules[name] = module
    loader.loader.exec_module(module)
    return module


def events_yaml(routes: Iterable[Route], raw_paths: dict[Route, str] | None = None) -> str:
    """The Events entries to paste into a function of template.yaml for `routes`."""
    lines: list[str] = []
    taken: set[str] = set()
    for method, path in sorted(routes, key=lambda r: (r[1], r[0])):
        real = (raw_paths or {}).get((method, path), path)
        words = [w for w in re.split(r"[^A-Za-z0-9]+", re.sub(r"\{[^}]*\}", "", real)) if w and w not in {"api", "v1", "lf"}]
        name = method.title() + "".join(w.title() for w in words) + ("One" if real.endswith("}") else "")
        name += "Tenant" if real.startswith("/lf/") else ""
        base, number = name, 2
        while name in taken:
            name, number = f"{base}{number}", number + 1
        taken.add(name)
        lines += [f"        {name}:", "          Type: Api",
                  f"          Properties: {{RestApiId: !Ref Api, Method: {method.lower()}, Path: \"{real}\"}}"]
    return "\n".join(lines)
