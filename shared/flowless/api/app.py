"""Building a FastAPI app from route groups. Each Lambda gets only its groups; the local
server gets all. Every group is served at `/api/v1/...` and at `/lf/{langflow_id}/api/v1/...`."""

from __future__ import annotations

import importlib
from typing import Any

from fastapi import Depends, FastAPI, Path

from flowless.api.body import BodyLimit
from flowless.api.errors import install_error_handlers
from flowless.api.idempotency import Idempotency

# group → module(s) under flowless.api exposing `router` (and optionally `root_router`, `v2_router`)
GROUPS: dict[str, str | tuple[str, ...]] = {
    "run": ("run", "simple_run"),
    "health": "health",
    "monitor": "monitor",
    "flows": "flows",
    "projects": "projects",
    "variables": "variables",
    "catalogue": "catalogue",
    "keys": ("keys", "custom_code"),
    "files": "files",
    "webhooks": "webhooks",
    "build": "build",
    "knowledge": "knowledge",
}
ALL_GROUPS = tuple(GROUPS)
TENANT_PREFIX = "/lf/{langflow_id}"


def create_app(groups: tuple[str, ...] = ALL_GROUPS) -> FastAPI:
    app = FastAPI(title="Flowless", version="0.1.0", description="Langflow flows as a serverless API", docs_url="/docs", redoc_url=None)
    install_error_handlers(app)
    app.add_middleware(Idempotency)  # Idempotency-Key on the run and build routes
    app.add_middleware(BodyLimit)  # outermost: 413 for a declared body above the limit, before anything reads it
    for group in groups:
        names = GROUPS[group]
        for name in (names,) if isinstance(names, str) else names:
            _include(app, importlib.import_module(f"flowless.api.{name}"))
    return app


def tenant_path(langflow_id: str = Path(description="The tenant: must be the API key's own (another answers 404)")) -> None:
    """Declares `/lf/{langflow_id}` in the OpenAPI document; `authenticate` checks the value."""


def _include(app: FastAPI, module: Any) -> None:
    if hasattr(module, "root_router"):
        app.include_router(module.root_router)
    for name, version in (("router", "v1"), ("v2_router", "v2")):
        if hasattr(module, name):
            app.include_router(getattr(module, name), prefix=f"/api/{version}")
            app.include_router(getattr(module, name), prefix=f"{TENANT_PREFIX}/api/{version}", dependencies=[Depends(tenant_path)])
