"""`curl -d '{...}'` sends JSON as `application/x-www-form-urlencoded`: every JSON route answers
415 naming the header to send, instead of running a flow with none of the body's fields.
Langflow's clients (which send application/json) and real forms keep working."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.api.conftest import TENANT

FORM = {"content-type": "application/x-www-form-urlencoded"}
BODY = '{"input_value": "Hello, Flowless", "output_type": "chat", "input_type": "chat"}'


def auth(key: str, **headers: str) -> dict[str, str]:
    return {"x-api-key": key, **headers}


@pytest.mark.parametrize("path", ["/api/v1/run/echo-prompt", f"/lf/{TENANT}/api/v1/run/echo-prompt", "/api/v1/run/advanced/echo-prompt",
                                  "/api/v1/run/echo-prompt?stream=true"])
def test_json_sent_as_a_form_is_refused_on_the_run_routes(client, api_env, path):
    response = client.post(path, content=BODY, headers=auth(api_env["key"], **FORM))
    assert response.status_code == 415
    assert "Content-Type: application/json" in response.json()["detail"] and "x-www-form-urlencoded" in response.json()["detail"]


def test_json_and_real_forms_still_run(client, api_env):
    as_json = client.post("/api/v1/run/echo-prompt", content=BODY, headers=auth(api_env["key"], **{"content-type": "application/json"}))
    assert as_json.status_code == 200 and "Hello, Flowless" in as_json.text
    as_form = client.post("/api/v1/run/echo-prompt", data={"input_value": "from a form"}, headers=auth(api_env["key"]))
    assert as_form.status_code == 200 and "from a form" in as_form.text


def test_no_flow_ran_for_the_refused_request(client, api_env):
    client.post("/api/v1/run/echo-prompt", content='{"input_value": "never stored", "session_id": "ct-trap"}', headers=auth(api_env["key"], **FORM))
    messages = client.get("/api/v1/monitor/messages", params={"session_id": "ct-trap"}, headers=auth(api_env["key"])).json()
    assert messages == []


def json_routes(app) -> list[tuple[str, str]]:
    """Every /api/v1 and /api/v2 route whose body FastAPI reads as JSON."""
    from fastapi import params

    def walk(routes):  # FastAPI keeps included routers as branches
        for route in routes:
            if hasattr(route, "effective_candidates"):
                yield from walk(route.effective_candidates())
            elif hasattr(route, "dependant"):
                yield route

    found = []
    for route in walk(app.routes):
        if route.path.startswith("/lf/"):
            continue
        body = route.dependant.body_params
        if body and not any(isinstance(p.field_info, params.Form) for p in body):
            path = re.sub(r"{(\w+)}", lambda m: str(uuid.uuid4()) if "id" in m.group(1) else "x", route.path)
            found += [(method, path) for method in route.methods if method in {"POST", "PUT", "PATCH", "DELETE"}]
    return found


def test_every_json_route_refuses_json_sent_as_a_form_or_without_a_content_type(client, api_env):
    routes = json_routes(client.app)
    assert len(routes) >= 15
    wrong = []
    for method, path in routes:
        for headers in (FORM, {"content-type": "text/plain"}, {}):
            response = client.request(method, path, content=b'{"name": "x"}', headers=auth(api_env["key"], **headers))
            if response.status_code != 415 or "application/json" not in response.json()["detail"]:
                wrong.append(f"{method} {path} {headers}: {response.status_code} {response.text[:120]}")
    assert not wrong, "\n".join(wrong)


def test_flows_created_with_json_still_work(client, api_env):
    created = client.post("/api/v1/flows/", json={"name": "CT", "data": {"nodes": [], "edges": []}}, headers=auth(api_env["key"]))
    assert created.status_code == 201
