"""API fixtures: the full FastAPI app over moto, a tenant with a key, the example flows and
Langflow's starter projects (tests/support/starters.py), and the local model server reached over real HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.model_server import ModelServer
from tests.support.starters import starter_flow

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_FLOWS = REPO / "flows"
TENANT = "acme"
OTHER_TENANT = "globex"


def shared_flow(name: str) -> dict[str, Any]:
    """One Langflow starter project from the pinned langflow-base wheel, parsed."""
    return starter_flow(name)


@pytest.fixture(scope="session")
def model_server() -> Iterator[ModelServer]:
    with ModelServer() as server:
        yield server


@pytest.fixture
def api_env(ddb: Any, model_server: ModelServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Two tenants with keys, the example flows in tenant A, models answered by the test server."""
    from flowless import runs
    from flowless.auth.keys import create_api_key
    from flowless.local.server import load_flows

    model_server.reset()
    monkeypatch.setenv("OPENAI_BASE_URL", model_server.base_url)
    monkeypatch.setenv("FLOWLESS_ALLOW_LOOPBACK", "true")
    runs.engine_settings.cache_clear()
    runs.graph_cache().clear()
    key, _ = create_api_key(TENANT, "tests", scopes=["read", "execute", "write", "admin"])
    other_key, _ = create_api_key(OTHER_TENANT, "other", scopes=["read", "execute", "write", "admin"])
    run_only_key, _ = create_api_key(TENANT, "run-only", scopes=["execute"])
    flows = load_flows(TENANT, EXAMPLE_FLOWS)
    yield {"key": key, "other_key": other_key, "run_only_key": run_only_key, "flows": {f.name: f.id for f in flows}, "server": model_server}
    runs.engine_settings.cache_clear()
    runs.graph_cache().clear()


@pytest.fixture
def client(api_env: dict[str, Any]) -> Iterator[TestClient]:
    from flowless.api.app import create_app

    with TestClient(create_app(), raise_server_exceptions=False) as test_client:
        yield test_client


def store_flow(tenant: str, flow: dict[str, Any], *, flow_id: str | None = None) -> str:
    from flowless.store.flows import FlowRepository

    saved, _ = FlowRepository(tenant).upsert(flow_id or flow["id"], name=flow["name"], data=flow["data"], endpoint_name=flow.get("endpoint_name"))
    return saved.id


def stream_frames(body: str) -> list[dict[str, Any]]:
    """Langflow's /run stream: bare JSON objects separated by blank lines."""
    return [json.loads(chunk) for chunk in body.split("\n\n") if chunk.strip()]


SCOPES = ("read", "execute", "write", "admin")


@pytest.fixture
def scoped_keys(api_env: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Per scope, a tenant-A key with only that scope (`"with"`) and one with every other
    non-admin scope but that one (`"without"`), for route-by-route scope checks."""
    from flowless.auth.keys import create_api_key

    keys: dict[str, dict[str, str]] = {}
    for scope in SCOPES:
        others = [s for s in SCOPES if s not in (scope, "admin")]
        keys[scope] = {
            "with": create_api_key(TENANT, f"only-{scope}", scopes=[scope])[0],
            "without": create_api_key(TENANT, f"no-{scope}", scopes=others)[0],
        }
    return keys
