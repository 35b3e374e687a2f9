"""Handler fixtures: the template's functions imported from functions/<group>/app.py (layers on
sys.path, as Lambda would), a fake Lambda context, and the data the events expect: the events'
dev key in the tenant "local", the example flows, and one stored message in a known session."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.support.lambda_context import FakeLambdaContext

REPO = Path(__file__).resolve().parents[2]
EVENTS = REPO / "events"
TEMPLATE = REPO / "template.yaml"

sys.path.insert(0, str(EVENTS))
import generate as event_catalogue  # noqa: E402  (events/generate.py: the ids and names the events use)

sys.path.remove(str(EVENTS))


def template() -> dict[str, Any]:
    from flowless.local.invoke import load_template

    return load_template(TEMPLATE)


def function_module(logical_id: str) -> ModuleType:
    """functions/<group>/app.py of `logical_id`, imported by path with its layers on sys.path."""
    from tests.deploy.template_routes import function_module as load_function

    return load_function(logical_id)


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture
def events_data(ddb: Any, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The dev key of the events, the example flows, a stored message in a known session and the
    files bucket (on moto's S3)."""
    from flowless import runs
    from flowless.auth.keys import create_api_key
    from flowless.local.server import load_flows
    from flowless.store.runs import persist_run
    from flowless_engine.schema import Message

    from flowless.store.files import ensure_files_bucket

    runs.graph_cache().clear()
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_endpoint)
    ensure_files_bucket()
    create_api_key(event_catalogue.TENANT, "events", scopes=["read", "execute", "write", "admin"], plaintext=event_catalogue.API_KEY)
    flows = load_flows(event_catalogue.TENANT, REPO / "flows")
    stored = Message(text="Stored before the events ran", sender="User", sender_name="User", session_id=event_catalogue.KNOWN_SESSION,
                     flow_id=event_catalogue.ECHO_FLOW_ID, id=event_catalogue.KNOWN_MESSAGE_ID)
    persist_run(event_catalogue.TENANT, event_catalogue.ECHO_FLOW_ID, event_catalogue.KNOWN_SESSION, [stored])
    from flowless.store.flows import FlowRepository

    FlowRepository(event_catalogue.TENANT).update(event_catalogue.ECHO_FLOW_ID, mcp_enabled=True, action_name="echo")  # the mcp-* events' tool
    yield {"flows": flows}
    runs.graph_cache().clear()


@pytest.fixture
def call() -> Callable[[str, dict[str, Any]], dict[str, Any]]:
    """call(logical_id, event) -> the handler's API Gateway proxy response."""

    def invoke(logical_id: str, event: dict[str, Any]) -> dict[str, Any]:
        return function_module(logical_id).handler(event, FakeLambdaContext(logical_id))

    return invoke


@pytest.fixture(autouse=True)
def _current_event_loop() -> None:
    """Mangum takes the thread's current event loop, as in a Lambda process; an earlier test that
    ran asyncio.run() in this thread leaves none, so give the handler one."""
    import asyncio

    try:
        asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:
        asyncio.set_event_loop(asyncio.new_event_loop())
