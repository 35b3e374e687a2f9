"""Run Flow through the API: a flow of the tenant calls another flow of the same tenant by name,
id or endpoint; another tenant's flow is never found, even by its id."""

from __future__ import annotations

from tests.api.conftest import OTHER_TENANT, TENANT, store_flow
from tests.unit.engine.test_run_flow import CHILD_ID, child_flow, parent_flow


def run(client, flow_id: str, key: str) -> object:
    return client.post(f"/api/v1/run/{flow_id}", json={"input_value": "the memo"}, headers={"x-api-key": key})


def test_run_flow_reaches_the_tenants_own_flows_only(client, api_env):
    store_flow(TENANT, child_flow())
    for i, (field, ref) in enumerate((("flow_name_selected", "Summarizer"), ("flow_id_selected", CHILD_ID), ("flow_name_selected", "summarizer"))):
        parent = parent_flow(field, ref)
        parent["name"] = f"Parent {i}"
        parent_id = store_flow(TENANT, parent)
        response = run(client, parent_id, api_env["key"])
        assert response.status_code == 200, response.text
        assert response.json()["outputs"][0]["outputs"][0]["results"]["message"]["text"] == "Summary of: the memo"

    # The other tenant has the same parent flow but no Summarizer: neither its name nor the
    # first tenant's flow id reaches it.
    for field, ref in (("flow_name_selected", "Summarizer"), ("flow_id_selected", CHILD_ID)):
        parent = parent_flow(field, ref)
        parent["name"] = f"Parent {field}"
        parent["id"] = "5d1c4e3a-0000-4000-8000-0000000000ff" if field == "flow_id_selected" else "5d1c4e3a-0000-4000-8000-0000000000fe"
        other_id = store_flow(OTHER_TENANT, parent)
        response = run(client, other_id, api_env["other_key"])
        assert response.status_code == 422, response.text
        assert "not found" in response.json()["detail"]["message"]
