"""Stores and memories through the API: an Astra DB flow per tenant (its endpoint and token from
each tenant's variables), a failing store answered 502 naming it, and the Memory Base reading the
flow's other sessions from the messages table."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import OTHER_TENANT, TENANT, store_flow
from tests.support.astra_server import AstraServer
from tests.support.engine_kit import component_node, edge, flow


def headers(key: str) -> dict[str, str]:
    return {"x-api-key": key}


def astra_flow(base_url: str) -> dict[str, Any]:
    store = component_node("AstraDB-1", "AstraDB", api_endpoint="ASTRA_API_ENDPOINT", collection_name="notes", database_name="db",
                           number_of_results=1)
    store["data"]["node"]["template"]["api_endpoint"]["load_from_db"] = True
    exported = flow(
        [component_node("ChatInput-1", "ChatInput"), component_node("SplitText-1", "SplitText", chunk_size=30, chunk_overlap=0, separator="."),
         component_node("OpenAIEmbeddings-1", "OpenAIEmbeddings", openai_api_base=base_url), store,
         component_node("ParseData-1", "ParseData", template="{text}"), component_node("ChatOutput-1", "ChatOutput")],
        [edge("ChatInput-1", "message", "SplitText-1", "data_inputs"),
         edge("ChatInput-1", "message", "AstraDB-1", "search_query"),
         edge("SplitText-1", "chunks", "AstraDB-1", "ingest_data", output_types=("Data",), input_types=("Data",)),
         edge("OpenAIEmbeddings-1", "embeddings", "AstraDB-1", "embedding_model", output_types=("Embeddings",), input_types=("Embeddings",)),
         edge("AstraDB-1", "search_results", "ParseData-1", "data", output_types=("Data",), input_types=("Data",)),
         edge("ParseData-1", "text", "ChatOutput-1", "input_value")],
        flow_id="5b0c3c3e-0000-4000-8000-00000000a57a", name="Astra notes",
    )
    return exported


def set_variable(client: Any, key: str, name: str, value: str, kind: str = "Generic") -> None:
    response = client.post("/api/v1/variables/", json={"name": name, "value": value, "type": kind}, headers=headers(key))
    assert response.status_code == 201, response.text


def test_each_tenant_reaches_its_own_database(client, api_env):
    with AstraServer(tokens=("AstraCS:acme",)) as acme_db, AstraServer(tokens=("AstraCS:globex",)) as globex_db:
        for tenant, key, db, token in ((TENANT, api_env["key"], acme_db, "AstraCS:acme"), (OTHER_TENANT, api_env["other_key"], globex_db, "AstraCS:globex")):
            store_flow(tenant, astra_flow(api_env["server"].base_url))
            set_variable(client, key, "ASTRA_API_ENDPOINT", db.api_endpoint)
            set_variable(client, key, "ASTRA_DB_APPLICATION_TOKEN", token, "Credential")
            set_variable(client, key, "OPENAI_API_KEY", "sk-test", "Credential")
        flow_id = "5b0c3c3e-0000-4000-8000-00000000a57a"
        acme = client.post(f"/api/v1/run/{flow_id}", json={"input_value": "Acme sells anvils. Acme ships fast"}, headers=headers(api_env["key"]))
        assert acme.status_code == 200, acme.text
        globex = client.post(f"/api/v1/run/{flow_id}", json={"input_value": "Globex sells lamps"}, headers=headers(api_env["other_key"]))
        assert globex.status_code == 200, globex.text
        assert {d["content"] for d in acme_db.documents("notes")} == {"Acme sells anvils", "Acme ships fast"}
        assert {d["content"] for d in globex_db.documents("notes")} == {"Globex sells lamps"}
        assert {r.headers["token"] for r in acme_db.requests} == {"AstraCS:acme"}

        # A token the database refuses: 502 naming Astra DB, the token never echoed.
        acme_db.tokens = {"AstraCS:rotated"}
        failed = client.post(f"/api/v1/run/{flow_id}", json={"input_value": "Acme again"}, headers=headers(api_env["key"]))
        assert failed.status_code == 502, failed.text
        detail = failed.json()["detail"]
        assert detail["provider"] == "Astra DB" and detail["status"] == 401 and "AstraCS" not in failed.text


def test_memory_base_recalls_other_sessions_from_the_messages_table(client, api_env):
    from tests.api.conftest import shared_flow

    starter = shared_flow("Memory Chatbot")
    flow_id = store_flow(TENANT, starter)
    tweaks = {"MemoryBase-xePih": {"memory_base": "memories", "filter_by_session": False}}
    server = api_env["server"]
    first = client.post(f"/api/v1/run/{flow_id}", json={"input_value": "I keep bees in Porto", "session_id": "day-1", "tweaks": tweaks},
                        headers=headers(api_env["key"]))
    assert first.status_code == 200, first.text
    server.script([{"tool_calls": [{"name": "retrieve_memory", "arguments": {"search_query": "bees"}}]}, "You keep bees."])
    second = client.post(f"/api/v1/run/{flow_id}", json={"input_value": "What do I keep?", "session_id": "day-2", "tweaks": tweaks},
                         headers=headers(api_env["key"]))
    assert second.status_code == 200, second.text
    tool = next(m for m in server.requests[-1].body["messages"] if m["role"] == "tool")
    assert "I keep bees in Porto" in tool["content"] and "day-1" in tool["content"]
    # Another tenant's run of the same starter recalls nothing of tenant A's sessions.
    other_id = store_flow(OTHER_TENANT, starter)
    server.script([{"tool_calls": [{"name": "retrieve_memory", "arguments": {"search_query": "bees"}}]}, "No idea."])
    third = client.post(f"/api/v1/run/{other_id}", json={"input_value": "What do I keep?", "session_id": "day-3", "tweaks": tweaks},
                        headers=headers(api_env["other_key"]))
    assert third.status_code == 200, third.text
    tool = next(m for m in server.requests[-1].body["messages"] if m["role"] == "tool")
    assert tool["content"] == "[]"


def test_faiss_indexes_are_kept_per_tenant(client, api_env, tmp_path):
    """FAISS nodes keep their index in the tenant's own vector store (here the flat store on disk):
    the same flow, the same index name, two tenants, two indexes."""
    import dataclasses

    from flowless.store.connection import configure, store_settings
    from flowless.vectors import flat

    previous = store_settings()
    flat._cache.entries.clear()
    configure(dataclasses.replace(previous, vector_store="flat", vectors_dir=str(tmp_path / "vectors")))
    try:
        exported = flow(
            [component_node("ChatInput-1", "ChatInput"), component_node("SplitText-1", "SplitText", chunk_size=30, chunk_overlap=0, separator="."),
             component_node("OpenAIEmbeddings-1", "OpenAIEmbeddings", openai_api_base=api_env["server"].base_url),
             component_node("FAISS-1", "FAISS", index_name="notes", number_of_results=1),
             component_node("ParseData-1", "ParseData", template="{text}"), component_node("ChatOutput-1", "ChatOutput")],
            [edge("ChatInput-1", "message", "SplitText-1", "data_inputs"),
             edge("ChatInput-1", "message", "FAISS-1", "search_query"),
             edge("SplitText-1", "chunks", "FAISS-1", "ingest_data", output_types=("Data",), input_types=("Data",)),
             edge("OpenAIEmbeddings-1", "embeddings", "FAISS-1", "embedding", output_types=("Embeddings",), input_types=("Embeddings",)),
             edge("FAISS-1", "search_results", "ParseData-1", "data", output_types=("Data",), input_types=("Data",)),
             edge("ParseData-1", "text", "ChatOutput-1", "input_value")],
            flow_id="5b0c3c3e-0000-4000-8000-0000000fa155", name="FAISS notes",
        )
        for tenant, key in ((TENANT, api_env["key"]), (OTHER_TENANT, api_env["other_key"])):
            store_flow(tenant, exported)
            set_variable(client, key, "OPENAI_API_KEY", "sk-test", "Credential")
        flow_id = exported["id"]
        acme = client.post(f"/api/v1/run/{flow_id}", json={"input_value": "Acme sells anvils"}, headers=headers(api_env["key"]))
        globex = client.post(f"/api/v1/run/{flow_id}", json={"input_value": "Globex sells lamps"}, headers=headers(api_env["other_key"]))
        assert acme.status_code == 200 and globex.status_code == 200, (acme.text, globex.text)
        text = lambda r: r.json()["outputs"][0]["outputs"][0]["results"]["message"]["text"]  # noqa: E731
        assert text(acme) == "Acme sells anvils" and text(globex) == "Globex sells lamps"
        for tenant in (TENANT, OTHER_TENANT):  # <tenant>/knowledge/faiss-notes-<digest>/: one index per tenant
            (index,) = (tmp_path / "vectors" / tenant / "knowledge").iterdir()
            assert index.name.startswith("faiss-notes-")
    finally:
        configure(previous)
        flat._cache.entries.clear()
