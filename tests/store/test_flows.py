from __future__ import annotations

import os
import uuid
import zlib

import pytest
from flowless.settings import Settings
from flowless.store.errors import Conflict, FlowTooLargeError, NotFound
from flowless.store.flows import FlowRepository
from flowless.store.models import FlowItem

DATA = {"nodes": [{"id": "ChatInput-1", "data": {"type": "ChatInput"}}], "edges": []}


@pytest.fixture
def flows(ddb: Settings) -> FlowRepository:
    return FlowRepository("tenant-a")


def test_create_and_read_back(flows: FlowRepository) -> None:
    flow = flows.create(name="Chat", data=DATA, endpoint_name="chat", tags=["x"], session_ttl_minutes=5)
    assert flow.version == 1 and flow.created_at == flow.updated_at
    loaded = flows.get(flow.id)
    assert loaded == flow
    assert loaded.data == DATA and loaded.tags == ["x"] and loaded.session_ttl_minutes == 5
    assert loaded.access_type == "PRIVATE" and loaded.webhook is False


def test_flow_data_is_stored_compressed(flows: FlowRepository) -> None:
    flow = flows.create(name="Chat", data=DATA)
    raw = FlowItem.get("tenant-a", f"FLOW#{flow.id}").data
    assert isinstance(raw, bytes) and zlib.decompress(raw).startswith(b'{"nodes"')


def test_get_without_data(flows: FlowRepository) -> None:
    flow = flows.create(name="Chat", data=DATA)
    light = flows.get(flow.id, include_data=False)
    assert light is not None and light.data is None and light.name == "Chat" and light.version == 1


def test_resolve_by_id_or_endpoint(flows: FlowRepository) -> None:
    flow = flows.create(name="Chat", data=DATA, endpoint_name="chat")
    assert flows.resolve(flow.id).id == flow.id
    assert flows.resolve(flow.id.upper()).id == flow.id
    assert flows.resolve("chat").id == flow.id
    assert flows.get_by_endpoint("chat").id == flow.id
    assert flows.resolve("nope") is None
    assert flows.get("not-a-uuid") is None


def test_uuid_looking_endpoint_is_only_an_id(flows: FlowRepository) -> None:
    looks_like_id = str(uuid.uuid4())
    flows.create(name="Chat", data=DATA, endpoint_name=looks_like_id)
    assert flows.get_by_endpoint(looks_like_id) is not None
    assert flows.resolve(looks_like_id) is None  # like Langflow: UUIDs are parsed as ids first


def test_name_and_endpoint_clashes_are_conflicts(flows: FlowRepository) -> None:
    flows.create(name="Chat", data=DATA, endpoint_name="chat")
    with pytest.raises(Conflict) as clash:
        flows.create(name="Chat", data=DATA)
    assert clash.value.field == "name" and clash.value.message == "Name must be unique"
    with pytest.raises(Conflict) as clash:
        flows.create(name="Other", data=DATA, endpoint_name="chat")
    assert clash.value.field == "endpoint_name" and clash.value.message == "Endpoint name must be unique"
    # The failed transaction wrote nothing: "Other" is still free.
    assert flows.list().total == 1 and not flows.name_exists("Other")


def test_existing_id_is_a_conflict(flows: FlowRepository) -> None:
    flow = flows.create(name="Chat", data=DATA)
    with pytest.raises(Conflict) as clash:
        flows.create(name="Again", data=DATA, flow_id=flow.id)
    assert clash.value.field == "id"


def test_free_name_and_endpoint(flows: FlowRepository) -> None:
    assert flows.free_name("Chat") == "Chat"
    flows.create(name="Chat", data=DATA, endpoint_name="chat")
    assert flows.free_name("Chat") == "Chat (1)"
    flows.create(name="Chat (1)", data=DATA, endpoint_name="chat-1")
    flows.create(name="Chat (5)", data=DATA, endpoint_name="chat-5")
    flows.create(name="Chat (x)", data=DATA, endpoint_name="chat-x")
    assert flows.free_name("Chat") == "Chat (6)"
    assert flows.free_endpoint_name("chat") == "chat-6"
    assert flows.free_endpoint_name("free") == "free"


def test_update_bumps_version_and_moves_guards(flows: FlowRepository) -> None:
    flow = flows.create(name="Chat", data=DATA, endpoint_name="chat")
    updated = flows.update(flow.id, name="Renamed", endpoint_name="renamed", description="d")
    assert (updated.version, updated.name, updated.description) == (2, "Renamed", "d")
    assert flows.get(flow.id) == updated
    assert not flows.name_exists("Chat") and flows.name_exists("Renamed")
    assert flows.get_by_endpoint("chat") is None and flows.get_by_endpoint("renamed").id == flow.id
    flows.create(name="Chat", data=DATA, endpoint_name="chat")  # the old names are free again


def test_update_clears_endpoint(flows: FlowRepository) -> None:
    flow = flows.create(name="Chat", data=DATA, endpoint_name="chat")
    assert flows.update(flow.id, endpoint_name="").endpoint_name is None
    assert not flows.endpoint_exists("chat")
    assert flows.update(flow.id, endpoint_name="again").endpoint_name == "again"
    assert flows.update(flow.id, endpoint_name=None).endpoint_name is None
    assert not flows.endpoint_exists("again")


def test_update_clash_keeps_everything(flows: FlowRepository) -> None:
    flows.create(name="Taken", data=DATA, endpoint_name="taken")
    flow = flows.create(name="Chat", data=DATA, endpoint_name="chat")
    with pytest.raises(Conflict) as clash:
        flows.update(flow.id, name="Taken")
    assert clash.value.field == "name"
    with pytest.raises(Conflict) as clash:
        flows.update(flow.id, endpoint_name="taken")
    assert clash.value.field == "endpoint_name"
    assert flows.get(flow.id) == flow and flows.name_exists("Chat") and flows.endpoint_exists("chat")


def test_update_with_stale_version(flows: FlowRepository) -> None:
    flow = flows.create(name="Chat", data=DATA)
    flows.update(flow.id, description="first")
    with pytest.raises(Conflict) as clash:
        flows.update(flow.id, expected_version=1, description="second")
    assert clash.value.field == "version"


def test_update_rejects_unknown_fields_and_missing_flows(flows: FlowRepository) -> None:
    flow = flows.create(name="Chat", data=DATA)
    with pytest.raises(TypeError):
        flows.update(flow.id, version=7)
    with pytest.raises(NotFound):
        flows.update(str(uuid.uuid4()), name="x")


def test_upsert(flows: FlowRepository) -> None:
    flow_id = str(uuid.uuid4())
    created, was_created = flows.upsert(flow_id, name="Chat", data=DATA)
    assert was_created and created.id == flow_id
    updated, was_created = flows.upsert(flow_id, name="Chat 2", data={"nodes": [], "edges": []})
    assert not was_created and updated.version == 2 and updated.data == {"nodes": [], "edges": []}


def test_delete_releases_names(flows: FlowRepository) -> None:
    flow = flows.create(name="Chat", data=DATA, endpoint_name="chat")
    flows.delete(flow.id)
    assert flows.get(flow.id) is None
    with pytest.raises(NotFound):
        flows.delete(flow.id)
    assert FlowItem.count("tenant-a") == 0  # no guard items left behind


def test_delete_many_ignores_unknown_and_foreign_ids(flows: FlowRepository) -> None:
    # 34 flows with endpoints are 102 items: more than one transaction can hold.
    mine = [flows.create(name=f"F{i}", data=DATA, endpoint_name=f"f{i}").id for i in range(34)]
    foreign = FlowRepository("tenant-b").create(name="F0", data=DATA).id
    deleted = flows.delete_many([*mine, foreign, str(uuid.uuid4()), "junk"])
    assert deleted == 34
    assert flows.list().total == 0
    assert FlowRepository("tenant-b").get(foreign) is not None


def test_list_pages_across_dynamodb_pages(ddb: Settings, ddb_calls: list[str]) -> None:
    flows = FlowRepository("tenant-a", page_size=2)
    created = [flows.create(name=f"F{i}", data=DATA) for i in range(7)]
    ddb_calls.clear()
    everything = flows.list(include_data=False)
    assert ddb_calls.count("Query") >= 4  # 7 items, 2 per DynamoDB page
    assert everything.total == 7 and {f.id for f in everything.items} == {f.id for f in created}
    assert all(f.data is None for f in everything.items)
    page = flows.list(page=2, size=3)
    assert (page.total, page.page, page.size, page.pages) == (7, 2, 3, 3)
    assert [f.id for f in page.items] == [f.id for f in everything.items[3:6]]
    assert page.items[0].data == DATA
    assert [f.id for f in flows.list(page=3, size=3).items] == [everything.items[6].id]


def test_list_by_folder(flows: FlowRepository) -> None:
    flows.create(name="A", data=DATA, folder_id="f1")
    flows.create(name="B", data=DATA, folder_id="f2")
    assert [f.name for f in flows.list(folder_id="f1").items] == ["A"]


def test_other_tenants_flows_are_invisible(flows: FlowRepository) -> None:
    flow = flows.create(name="Chat", data=DATA, endpoint_name="chat")
    other = FlowRepository("tenant-b")
    assert other.get(flow.id) is None and other.resolve("chat") is None
    assert other.list().total == 0
    with pytest.raises(NotFound):
        other.update(flow.id, name="stolen")
    with pytest.raises(NotFound):
        other.delete(flow.id)
    # Names are unique per tenant only.
    assert other.create(name="Chat", data=DATA, endpoint_name="chat").endpoint_name == "chat"


def test_too_large_flows_are_refused(flows: FlowRepository) -> None:
    noise = os.urandom(400 * 1024).hex()  # ~400 KB even after compression
    with pytest.raises(FlowTooLargeError, match="S3"):
        flows.create(name="Big", data={"nodes": [], "edges": [], "blob": noise})
    assert flows.list().total == 0


def test_tenant_ids_cannot_contain_separators() -> None:
    with pytest.raises(ValueError):
        FlowRepository("a#b")
    with pytest.raises(ValueError):
        FlowRepository("")
