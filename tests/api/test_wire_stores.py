"""MongoDB Atlas and Redis through the API: each tenant reaches its own database with the
connection string and names in its own variables; credentials the store refuses answer 422
naming the store, never echoing the secret; Redis Chat Memory keeps the run's session."""

from __future__ import annotations

import json
from typing import Any

from tests.api.conftest import OTHER_TENANT, TENANT, store_flow
from tests.support.engine_kit import component_node, edge, flow
from tests.support.mongodb_server import MongoServer
from tests.support.redis_server import RedisServer

MONGO_FLOW_ID = "5b0c3c3e-0000-4000-8000-0000000a7145"
REDIS_FLOW_ID = "5b0c3c3e-0000-4000-8000-00000000ed15"


def headers(key: str) -> dict[str, str]:
    return {"x-api-key": key}


def set_variable(client: Any, key: str, name: str, value: str, kind: str = "Credential") -> None:
    response = client.post("/api/v1/variables/", json={"name": name, "value": value, "type": kind}, headers=headers(key))
    assert response.status_code == 201, response.text


def mongo_flow(base_url: str) -> dict[str, Any]:
    store = component_node("MongoDBAtlasVector-1", "MongoDBAtlasVector", mongodb_atlas_cluster_uri="MONGODB_URI", db_name="MONGODB_DB",
                           collection_name="notes", index_name="notes_vectors", number_dimensions=64, number_of_results=1)
    for name in ("mongodb_atlas_cluster_uri", "db_name"):
        store["data"]["node"]["template"][name]["load_from_db"] = True
    return flow(
        [component_node("ChatInput-1", "ChatInput"), component_node("SplitText-1", "SplitText", chunk_size=30, chunk_overlap=0, separator="."),
         component_node("OpenAIEmbeddings-1", "OpenAIEmbeddings", openai_api_base=base_url), store,
         component_node("ParseData-1", "ParseData", template="{text}"), component_node("ChatOutput-1", "ChatOutput")],
        [edge("ChatInput-1", "message", "SplitText-1", "data_inputs"),
         edge("ChatInput-1", "message", "MongoDBAtlasVector-1", "search_query"),
         edge("SplitText-1", "chunks", "MongoDBAtlasVector-1", "ingest_data", output_types=("Data",), input_types=("Data",)),
         edge("OpenAIEmbeddings-1", "embeddings", "MongoDBAtlasVector-1", "embedding", output_types=("Embeddings",), input_types=("Embeddings",)),
         edge("MongoDBAtlasVector-1", "search_results", "ParseData-1", "data", output_types=("Data",), input_types=("Data",)),
         edge("ParseData-1", "text", "ChatOutput-1", "input_value")],
        flow_id=MONGO_FLOW_ID, name="Mongo notes",
    )


def test_each_tenant_reaches_its_own_mongodb_database(client, api_env):
    from flowless_engine.vectors import mongodb

    users = {"acme-app": "acme-s3cret", "globex-app": "globex-s3cret"}
    with MongoServer(users=users) as server:
        try:
            for tenant, key, user, database in ((TENANT, api_env["key"], "acme-app", "acme_db"), (OTHER_TENANT, api_env["other_key"], "globex-app", "globex_db")):
                store_flow(tenant, mongo_flow(api_env["server"].base_url))
                set_variable(client, key, "MONGODB_URI", server.uri(user, users[user]))
                set_variable(client, key, "MONGODB_DB", database, "Generic")
                set_variable(client, key, "OPENAI_API_KEY", "sk-test")
            acme = client.post(f"/api/v1/run/{MONGO_FLOW_ID}", json={"input_value": "Acme sells anvils. Acme ships fast"}, headers=headers(api_env["key"]))
            assert acme.status_code == 200, acme.text
            globex = client.post(f"/api/v1/run/{MONGO_FLOW_ID}", json={"input_value": "Globex sells lamps"}, headers=headers(api_env["other_key"]))
            assert globex.status_code == 200, globex.text
            assert {d["text"] for d in server.documents("acme_db", "notes")} == {"Acme sells anvils", "Acme ships fast"}
            assert {d["text"] for d in server.documents("globex_db", "notes")} == {"Globex sells lamps"}
            assert acme.json()["outputs"][0]["outputs"][0]["results"]["message"]["text"] in ("Acme sells anvils", "Acme ships fast")

            server.users["acme-app"] = "rotated"  # the password changed on the server
            mongodb.close_clients()
            refused = client.post(f"/api/v1/run/{MONGO_FLOW_ID}", json={"input_value": "Acme again"}, headers=headers(api_env["key"]))
            assert refused.status_code == 422, refused.text
            detail = refused.json()["detail"]
            assert detail["provider"] == "MongoDB Atlas" and detail["code"] == "PROVIDER_AUTH_FAILED" and "acme-s3cret" not in refused.text
        finally:
            mongodb.close_clients()


def redis_memory_flow() -> dict[str, Any]:
    memory = component_node("RedisChatMemory-1", "RedisChatMemory", host="127.0.0.1", port=0, password="REDIS_PASSWORD", key_prefix="chat:")
    memory["data"]["node"]["template"]["password"]["load_from_db"] = True
    return flow(
        [component_node("ChatInput-1", "ChatInput"), memory, component_node("StoreMessage-1", "StoreMessage"), component_node("ChatOutput-1", "ChatOutput")],
        [edge("ChatInput-1", "message", "StoreMessage-1", "message"),
         edge("RedisChatMemory-1", "memory", "StoreMessage-1", "memory", output_types=("Memory",), input_types=("Memory",)),
         edge("StoreMessage-1", "stored_messages", "ChatOutput-1", "input_value")],
        flow_id=REDIS_FLOW_ID, name="Redis memory",
    )


def test_redis_chat_memory_through_the_api(client, api_env):
    with RedisServer(password="r3dis-s3cret") as redis:
        exported = redis_memory_flow()
        exported["data"]["nodes"][1]["data"]["node"]["template"]["port"]["value"] = redis.port
        store_flow(TENANT, exported)
        set_variable(client, api_env["key"], "REDIS_PASSWORD", "r3dis-s3cret")
        ran = client.post(f"/api/v1/run/{REDIS_FLOW_ID}", json={"input_value": "remember the milk", "session_id": "s-42"}, headers=headers(api_env["key"]))
        assert ran.status_code == 200, ran.text
        (item,) = redis.call("LRANGE", "chat:s-42", 0, -1)
        assert json.loads(item)["data"]["content"] == "remember the milk"
        assert redis.call("TTL", "chat:s-42") > 0  # expires with the flow's session TTL

        # Another tenant, the same flow, its own (wrong) password: refused, named, not echoed.
        store_flow(OTHER_TENANT, exported)
        set_variable(client, api_env["other_key"], "REDIS_PASSWORD", "not-the-password")
        refused = client.post(f"/api/v1/run/{REDIS_FLOW_ID}", json={"input_value": "again", "session_id": "s-43"}, headers=headers(api_env["other_key"]))
        assert refused.status_code == 422, refused.text
        detail = refused.json()["detail"]
        assert detail["provider"] == "Redis" and "WRONGPASS" in detail["message"] and "not-the-password" not in refused.text
        assert redis.call("EXISTS", "chat:s-43") == 0
