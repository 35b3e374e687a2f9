"""The service keeps the strict network guard (library use does not): a tenant's flow whose model
is on loopback is refused unless the operator allows it, and the answer names the setting."""

from __future__ import annotations


def test_the_service_refuses_loopback_and_names_the_setting(client, api_env, monkeypatch):
    from flowless import runs

    monkeypatch.delenv("FLOWLESS_ALLOW_LOOPBACK")
    monkeypatch.delenv("FLOWLESS_ALLOW_PRIVATE_NETWORKS", raising=False)
    runs.engine_settings.cache_clear()
    flow_id = api_env["flows"]["Basic Chat"]
    answer = client.post(f"/api/v1/run/{flow_id}", json={"input_value": "hi"}, headers={"x-api-key": api_env["key"]})
    assert 400 <= answer.status_code < 500, answer.text
    assert "loopback" in answer.text and "FLOWLESS_ALLOW_LOOPBACK=true" in answer.text
    assert api_env["server"].requests == []
