"""The run's hot path: in a warm process a `/run` makes one DynamoDB call (its batched write); the
flow's record and the variables are kept for FLOWLESS_READ_CACHE_SECONDS, dropped at once by a
write made through this process, and seen late by at most that long when another process (another
Lambda container) writes them."""

from __future__ import annotations

import pytest

from tests.api.conftest import TENANT

RUN = {"input_value": "hot", "input_type": "chat", "output_type": "chat"}


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The read cache's monotonic clock, moved by hand: now[0] seconds."""
    from flowless.store import read_cache

    now = [1000.0]
    monkeypatch.setattr(read_cache.time, "monotonic", lambda: now[0])
    return now


def run(client, key: str, flow: str = "basic-chat"):
    return client.post(f"/api/v1/run/{flow}", json=RUN, headers={"x-api-key": key})


def test_a_warm_run_makes_one_dynamodb_call_its_write(client, api_env, ddb_calls):
    assert run(client, api_env["key"], "echo-prompt").status_code == 200  # cold: key, flow, variables read
    assert {"GetItem", "TransactWriteItems"} <= set(ddb_calls)
    ddb_calls.clear()
    assert run(client, api_env["key"], "echo-prompt").status_code == 200
    assert ddb_calls == ["TransactWriteItems"]


def test_a_flow_with_message_history_adds_its_history_read(client, api_env, ddb_calls):
    """basic-chat remembers the conversation: the session's record and its messages, then the write."""
    assert run(client, api_env["key"]).status_code == 200
    ddb_calls.clear()
    assert run(client, api_env["key"]).status_code == 200
    assert ddb_calls == ["GetItem", "Query", "TransactWriteItems"]


def test_without_the_read_cache_every_run_reads_the_flow(client, api_env, ddb_calls, monkeypatch):
    from flowless.settings import reset_settings_cache

    monkeypatch.setenv("FLOWLESS_READ_CACHE_SECONDS", "0")
    reset_settings_cache()
    try:
        run(client, api_env["key"])
        ddb_calls.clear()
        assert run(client, api_env["key"]).status_code == 200
        assert ddb_calls.count("GetItem") >= 2  # the endpoint name's record, then the flow's
    finally:
        monkeypatch.delenv("FLOWLESS_READ_CACHE_SECONDS")
        reset_settings_cache()


def test_changes_made_through_this_process_are_seen_by_the_next_run(client, api_env):
    key = api_env["key"]
    flow_id = api_env["flows"]["Basic Chat"]
    assert run(client, key).status_code == 200

    renamed = client.patch(f"/api/v1/flows/{flow_id}", json={"endpoint_name": "renamed-chat"}, headers={"x-api-key": key})
    assert renamed.status_code == 200
    assert run(client, key).status_code == 404
    assert run(client, key, "renamed-chat").status_code == 200

    assert client.delete(f"/api/v1/flows/{flow_id}", headers={"x-api-key": key}).status_code in (200, 204)
    assert run(client, key, "renamed-chat").status_code == 404
    assert run(client, key, flow_id).status_code == 404


def test_another_containers_delete_is_seen_within_the_cache_lifetime(client, api_env, clock):
    """A write that does not go through this process (another Lambda container) is seen once the
    copy expires: FLOWLESS_READ_CACHE_SECONDS (2 by default) is the most a container runs late."""
    from flowless.store.connection import connection, store_settings

    key = api_env["key"]
    flow_id = api_env["flows"]["Basic Chat"]
    assert run(client, key, flow_id).status_code == 200
    table = store_settings().table_names()["flows"]
    connection().client.delete_item(TableName=table, Key={"tenant": {"S": TENANT}, "sk": {"S": f"FLOW#{flow_id}"}})

    assert run(client, key, flow_id).status_code == 200  # this process's copy, still fresh
    clock[0] += 1.9
    assert run(client, key, flow_id).status_code == 200
    clock[0] += 0.2
    assert run(client, key, flow_id).status_code == 404


def test_another_containers_variable_change_is_seen_after_the_cache_lifetime(client, api_env, clock):
    from flowless.store.variables import VariableRepository

    key = api_env["key"]
    server = api_env["server"]
    created = client.post("/api/v1/variables/", json={"name": "OPENAI_API_KEY", "value": "sk-first", "type": "Credential"},
                          headers={"x-api-key": key})
    assert created.status_code == 201
    assert run(client, key).status_code == 200
    assert server.requests[-1].headers["authorization"] == "Bearer sk-first"

    # Another process changes the value: same table, not through this process's repository.
    variable = VariableRepository(TENANT).get("OPENAI_API_KEY")
    item = VariableRepository(TENANT)._to_item(variable.__class__(**{**variable.__dict__, "value": "sk-second"}))
    item.save()

    assert run(client, key).status_code == 200
    assert server.requests[-1].headers["authorization"] == "Bearer sk-first"
    clock[0] += 2.1
    assert run(client, key).status_code == 200
    assert server.requests[-1].headers["authorization"] == "Bearer sk-second"


def test_copies_are_kept_per_tenant(client, api_env):
    """Tenant B asking for tenant A's endpoint name right after A ran it gets B's answer: 404."""
    assert run(client, api_env["key"]).status_code == 200
    assert run(client, api_env["other_key"]).status_code == 404
    assert client.post(f"/lf/{TENANT}/api/v1/run/basic-chat", json=RUN, headers={"x-api-key": api_env["other_key"]}).status_code == 404
