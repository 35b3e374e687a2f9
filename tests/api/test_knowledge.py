"""Knowledge bases through the API: create, ingest (in the request, or as a job with progress),
then the shared RAG starters (Knowledge Retrieval, Vector Store RAG) retrieving the right chunks
with the test model server's deterministic embeddings; tenants never see each other's bases."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.conftest import OTHER_TENANT, TENANT, shared_flow, store_flow

KB = "company_handbook"
# One line per chunk: every line fits chunk_size 70, no two lines do.
DOCS = {
    "holidays.txt": "Holiday policy for all employees of the company.\nEmployees receive twenty five paid vacation days each year.\n"
                    "Unused vacation days expire at the end of March.",
    "security.md": "Security rules for every laptop and every account.\nLaptops must use full disk encryption at all times.\n"
                   "Passwords rotate every ninety days without exception.",
    "travel.txt": "Travel policy for business trips of the staff.\nTrain tickets are booked through the travel desk.\n"
                  "Hotel stays are reimbursed up to two hundred euros per night.",
}
RETRIEVAL = "Knowledge Retrieval"
RAG = "Vector Store RAG"
KNOWLEDGE_NODES = {RETRIEVAL: "Knowledge-Y8gm2", RAG: "Knowledge-vLJOb"}


@pytest.fixture
def kb_env(api_env: dict[str, Any], tmp_path: Any) -> Iterator[dict[str, Any]]:
    """The flat store on local disk; knowledge bases small enough to ingest in the request."""
    from flowless.store.connection import configure, store_settings
    from flowless.vectors import flat

    previous = store_settings()
    flat._cache.entries.clear()
    configure(dataclasses.replace(previous, vector_store="flat", vectors_dir=str(tmp_path / "vectors"), ingest_async_chunks=200))
    yield api_env
    configure(previous)
    flat._cache.entries.clear()


def headers(key: str) -> dict[str, str]:
    return {"x-api-key": key}


def create_kb(client: Any, key: str, name: str = KB, **extra: Any) -> Any:
    body = {"name": name, "embedding_provider": "OpenAI", "embedding_model": "text-embedding-3-small", **extra}
    return client.post("/api/v1/knowledge_bases", json=body, headers=headers(key))


def ingest(client: Any, key: str, docs: dict[str, str], name: str = KB, **form: Any) -> Any:
    files = [("files", (file_name, text.encode(), "text/plain")) for file_name, text in docs.items()]
    data = {"chunk_size": "70", "chunk_overlap": "0", "separator": "\n", **form}
    return client.post(f"/api/v1/knowledge_bases/{name}/ingest", files=files, data=data, headers=headers(key))


def run_flow(client: Any, key: str, flow_id: str, question: str, tweaks: dict[str, Any]) -> Any:
    return client.post(f"/api/v1/run/{flow_id}", json={"input_value": question, "tweaks": tweaks}, headers=headers(key))


def answer_of(response: Any) -> str:
    assert response.status_code == 200, response.text
    return response.json()["outputs"][0]["outputs"][0]["results"]["message"]["text"]


def embedding_calls(server: Any) -> list[Any]:
    return [r for r in server.requests if r.path == "/v1/embeddings"]


def test_create_list_get_delete_in_langflows_shapes(client, kb_env):
    key = kb_env["key"]
    created = create_kb(client, key, "Company Handbook")
    assert created.status_code == 201, created.text
    info = created.json()
    assert {"id", "dir_name", "name", "embedding_provider", "embedding_model", "size", "words", "characters", "chunks",
            "avg_chunk_size", "chunk_size", "chunk_overlap", "separator", "status", "source_types", "column_config"} <= set(info)
    assert (info["dir_name"], info["name"], info["chunks"], info["status"]) == ("Company_Handbook", "Company Handbook", 0, "empty")
    assert create_kb(client, key, "Company Handbook").status_code == 409
    assert create_kb(client, key, "ab").json() == {"detail": "Knowledge base name must be at least 3 characters"}
    assert create_kb(client, key, "x/../y").status_code == 400
    assert create_kb(client, key, "other", embedding_provider="Cohere Direct").status_code == 400
    listed = client.get("/api/v1/knowledge_bases", headers=headers(key)).json()
    assert [kb["dir_name"] for kb in listed] == ["Company_Handbook"]
    assert client.get("/api/v1/knowledge_bases/Company_Handbook", headers=headers(key)).json()["id"] == info["id"]
    deleted = client.delete("/api/v1/knowledge_bases/Company_Handbook", headers=headers(key))
    assert deleted.json() == {"message": "Knowledge base 'Company_Handbook' deleted successfully"}
    missing = client.get("/api/v1/knowledge_bases/Company_Handbook", headers=headers(key))
    assert (missing.status_code, missing.json()) == (404, {"detail": "Knowledge base 'Company_Handbook' not found"})


def test_scopes(client, kb_env, scoped_keys):
    assert create_kb(client, scoped_keys["write"]["without"]).status_code == 403
    assert create_kb(client, scoped_keys["write"]["with"]).status_code == 201
    assert client.get("/api/v1/knowledge_bases", headers=headers(scoped_keys["read"]["without"])).status_code == 403
    assert client.get("/api/v1/knowledge_bases", headers=headers(scoped_keys["read"]["with"])).status_code == 200
    assert ingest(client, kb_env["run_only_key"], DOCS).status_code == 403


def test_small_ingest_answers_201_with_counts_and_is_idempotent(client, kb_env):
    key, server = kb_env["key"], kb_env["server"]
    create_kb(client, key)
    first = ingest(client, key, DOCS, metadata=json.dumps({"department": "hr"}))
    assert first.status_code == 201, first.text
    body = first.json()
    assert (body["status"], body["files"], body["chunks"], body["chunks_created"], body["skipped"]) == ("completed", 3, 9, 9, 0)
    assert len(embedding_calls(server)) == 1  # one batch for nine chunks
    assert embedding_calls(server)[0].body["model"] == "text-embedding-3-small"
    again = ingest(client, key, DOCS).json()
    assert (again["chunks_created"], again["skipped"]) == (0, 9)
    assert len(embedding_calls(server)) == 1  # nothing stored twice, nothing embedded again
    info = client.get(f"/api/v1/knowledge_bases/{KB}", headers=headers(key)).json()
    assert (info["chunks"], info["status"], info["source_types"], info["chunk_size"]) == (9, "ready", ["md", "txt"], 70)
    assert info["words"] == sum(len(t.split()) for t in DOCS.values())
    page = client.get(f"/api/v1/knowledge_bases/{KB}/chunks", params={"limit": 5, "search": "encryption"}, headers=headers(key)).json()
    (chunk,) = page["chunks"]
    assert chunk["content"] == "Laptops must use full disk encryption at all times."
    metadata = chunk["metadata"]
    assert (metadata["file_name"], metadata["chunk_index"], metadata["total_chunks"], metadata["department"]) == ("security.md", 1, 3, "hr")
    assert json.loads(metadata["source_metadata"]) == {"department": "hr"}


def test_ingest_refusals(client, kb_env):
    key = kb_env["key"]
    create_kb(client, key)
    assert ingest(client, key, {"tool.exe": "MZ..."}).status_code == 415
    assert ingest(client, key, {"a.bin": "data"}).status_code == 415
    assert ingest(client, key, DOCS, chunk_overlap="500").status_code == 400
    assert ingest(client, key, DOCS, metadata="[1, 2]").status_code == 422
    assert client.post(f"/api/v1/knowledge_bases/{KB}/ingest", data={"chunk_size": "10"}, headers=headers(key)).status_code == 422
    assert ingest(client, key, DOCS, name="no_such_kb").status_code == 404


def test_large_ingest_is_a_background_job_with_progress(client, kb_env):
    from flowless.store.connection import configure, store_settings

    configure(dataclasses.replace(store_settings(), ingest_async_chunks=20))
    key = kb_env["key"]
    create_kb(client, key)
    big = {"manual.txt": "\n".join(f"Rule {n}: the widget number {n} is stored on shelf {n % 7}." for n in range(450))}
    started = ingest(client, key, big)
    assert started.status_code == 202, started.text
    job = started.json()
    assert (job["status"], job["chunks"], job["href"]) == ("queued", 450, f"/api/v1/knowledge_bases/{KB}/jobs/{job['id']}")
    deadline = time.monotonic() + 20
    while True:
        view = client.get(job["href"], headers=headers(key)).json()
        if view["status"] in ("completed", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert view["status"] == "completed", view
    assert view["progress"] == {"done": 450, "total": 450}
    assert (view["result"]["chunks_created"], view["result"]["skipped"]) == (450, 0)
    info = client.get(f"/api/v1/knowledge_bases/{KB}", headers=headers(key)).json()
    assert (info["chunks"], info["status"], info["last_job_id"]) == (450, "ready", job["id"])
    other = client.get(f"/api/v1/knowledge_bases/{KB}/jobs/{job['id']}", headers=headers(kb_env["other_key"]))
    assert other.status_code == 404


def prepare(client: Any, env: dict[str, Any], flow_name: str, tenant: str = TENANT) -> str:
    create_kb(client, env["key"])
    assert ingest(client, env["key"], DOCS, metadata=json.dumps({"department": "hr"})).status_code == 201
    return store_flow(tenant, shared_flow(flow_name))


def test_knowledge_retrieval_returns_the_right_chunks_and_top_k_applies(client, kb_env):
    key, server = kb_env["key"], kb_env["server"]
    flow_id = prepare(client, kb_env, RETRIEVAL)
    node = KNOWLEDGE_NODES[RETRIEVAL]
    question = "How many paid vacation days do employees receive?"
    text = answer_of(run_flow(client, key, flow_id, question, {node: {"knowledge_base": KB}}))
    lines = text.split("\n")
    assert lines[0] == "Text: Employees receive twenty five paid vacation days each year."
    assert len(lines) == 5  # the starter's top_k
    assert embedding_calls(server)[-1].body["input"] == [question]
    one = answer_of(run_flow(client, key, flow_id, question, {node: {"knowledge_base": KB, "top_k": 1}}))
    assert one == "Text: Employees receive twenty five paid vacation days each year."
    three = answer_of(run_flow(client, key, flow_id, "Are hotel stays reimbursed per night?", {node: {"knowledge_base": KB, "top_k": 3}}))
    assert three.split("\n")[0] == "Text: Hotel stays are reimbursed up to two hundred euros per night."
    assert len(three.split("\n")) == 3


def test_knowledge_retrieval_metadata_filter_and_tenant_path(client, kb_env):
    key = kb_env["key"]
    flow_id = prepare(client, kb_env, RETRIEVAL)
    ingest(client, key, {"extra.txt": "Vacation requests go to the team lead."}, metadata=json.dumps({"department": "ops"}))
    node = KNOWLEDGE_NODES[RETRIEVAL]
    tweaks = {node: {"knowledge_base": KB, "metadata_filter": '{"department": "ops"}'}}
    response = client.post(f"/lf/{TENANT}/api/v1/run/{flow_id}", json={"input_value": "vacation days", "tweaks": tweaks}, headers=headers(key))
    assert answer_of(response) == "Text: Vacation requests go to the team lead."


def test_vector_store_rag_answers_with_the_retrieved_context(client, kb_env):
    key, server = kb_env["key"], kb_env["server"]
    flow_id = prepare(client, kb_env, RAG)
    question = "Which laptops need disk encryption?"
    tweaks = {KNOWLEDGE_NODES[RAG]: {"knowledge_base": KB, "top_k": 2}, "Agent-F0Dv0": {"model": [{"name": "gpt-4o-mini", "provider": "OpenAI"}]}}
    text = answer_of(run_flow(client, key, flow_id, question, tweaks))
    # The test model echoes its last user message: the prompt holding the retrieved context.
    assert text.startswith("Echo: Text: Laptops must use full disk encryption at all times.")
    assert f"Question: {question}" in text
    assert text.count("Text: ") == 2
    chat = [r for r in server.requests if r.path == "/v1/chat/completions"][-1].body
    assert chat["model"] == "gpt-4o-mini"
    assert "Laptops must use full disk encryption at all times." in chat["messages"][-1]["content"]


def test_another_tenants_knowledge_base_is_404_and_never_searched(client, kb_env, monkeypatch):
    from flowless.vectors import flat

    key, other_key, server = kb_env["key"], kb_env["other_key"], kb_env["server"]
    prepare(client, kb_env, RETRIEVAL)
    for method, path in (("get", f"/api/v1/knowledge_bases/{KB}"), ("delete", f"/api/v1/knowledge_bases/{KB}"),
                         ("get", f"/api/v1/knowledge_bases/{KB}/chunks")):
        response = client.request(method, path, headers=headers(other_key))
        assert (response.status_code, response.json()) == (404, {"detail": f"Knowledge base '{KB}' not found"})
    assert ingest(client, other_key, DOCS).status_code == 404
    assert client.get("/api/v1/knowledge_bases", headers=headers(other_key)).json() == []
    assert client.get(f"/lf/{TENANT}/api/v1/knowledge_bases/{KB}", headers=headers(other_key)).status_code == 404

    searched: list[str] = []
    for name in ("_read", "_upsert"):
        original = getattr(flat.FlatVectorStore, name)

        def spy(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            searched.append(self.tenant)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(flat.FlatVectorStore, name, spy)
    embedded_before = len(embedding_calls(server))
    other_flow = store_flow(OTHER_TENANT, shared_flow(RETRIEVAL))
    response = run_flow(client, other_key, other_flow, "vacation days", {KNOWLEDGE_NODES[RETRIEVAL]: {"knowledge_base": KB}})
    assert response.status_code == 422
    assert f"Knowledge base '{KB}' not found" in json.dumps(response.json())
    assert searched == [] and len(embedding_calls(server)) == embedded_before
    # the owner still finds it
    assert client.get(f"/api/v1/knowledge_bases/{KB}", headers=headers(key)).json()["chunks"] == 9


def test_deleting_a_knowledge_base_removes_its_vectors(client, kb_env):
    key = kb_env["key"]
    flow_id = prepare(client, kb_env, RETRIEVAL)
    client.delete(f"/api/v1/knowledge_bases/{KB}", headers=headers(key))
    create_kb(client, key)  # same name, empty again
    text = answer_of(run_flow(client, key, flow_id, "vacation", {KNOWLEDGE_NODES[RETRIEVAL]: {"knowledge_base": KB}}))
    assert text == ""
    bulk = client.request("DELETE", "/api/v1/knowledge_bases", json={"kb_names": [KB, "missing_one"]}, headers=headers(key)).json()
    assert (bulk["deleted_count"], bulk["not_found"]) == (1, "missing_one")


def test_s3_vectors_backend_end_to_end(client, api_env, moto_endpoint, monkeypatch):
    """The production default (VECTOR_BUCKET set): ingest and retrieval through S3 Vectors (moto's
    server, with the QueryVectors handler of tests/vectors/moto_s3vectors.py)."""
    import boto3

    from flowless.store.connection import configure, store_settings
    from flowless.vectors import s3vectors
    from tests.vectors import moto_s3vectors

    moto_s3vectors.install(monkeypatch)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3VECTORS", moto_endpoint)
    s3vectors._client.cache_clear()
    s3vectors.S3VectorsStore._created.clear()
    boto3.client("s3vectors", region_name="us-east-1", endpoint_url=moto_endpoint).create_vector_bucket(vectorBucketName="kb-vectors")
    previous = store_settings()
    configure(dataclasses.replace(previous, vector_store="", vector_bucket="kb-vectors", vectors_dir=None))
    try:
        key = api_env["key"]
        flow_id = prepare(client, api_env, RETRIEVAL)
        question = "How often do passwords rotate?"
        text = answer_of(run_flow(client, key, flow_id, question, {KNOWLEDGE_NODES[RETRIEVAL]: {"knowledge_base": KB, "top_k": 1}}))
        assert text == "Text: Passwords rotate every ninety days without exception."
        filtered = run_flow(client, key, flow_id, question, {KNOWLEDGE_NODES[RETRIEVAL]: {"knowledge_base": KB, "metadata_filter": '{"file_name": "travel.txt"}'}})
        assert sorted(answer_of(filtered).split("\n")) == sorted(f"Text: {line}" for line in DOCS["travel.txt"].split("\n"))
        indexes = boto3.client("s3vectors", region_name="us-east-1", endpoint_url=moto_endpoint).list_indexes(vectorBucketName="kb-vectors")["indexes"]
        assert [i["indexName"].startswith(f"{TENANT}-{KB.replace('_', '-')}-") for i in indexes] == [True]
    finally:
        configure(previous)
        s3vectors._client.cache_clear()
        s3vectors.S3VectorsStore._created.clear()


async def test_an_ingest_stops_when_its_knowledge_base_is_replaced(kb_env):
    from flowless.ingest import Chunk, IngestOptions, ingest_chunks
    from flowless.store.knowledge import KnowledgeBaseRepository
    from flowless.vectors import vector_store

    records = KnowledgeBaseRepository(TENANT)
    old = records.create(KB, "OpenAI", "text-embedding-3-small")
    records.delete(KB)
    new = records.create(KB, "OpenAI", "text-embedding-3-small")
    chunks = [Chunk(f"c{n}", f"chunk number {n}", {}) for n in range(450)]
    with pytest.raises(LookupError, match="was deleted during the ingestion"):
        await ingest_chunks(TENANT, old, chunks, IngestOptions())
    # what the first step wrote went to the old incarnation's index, never to the new base
    assert await vector_store(TENANT).count(new.spec().index()) == 0
    assert await vector_store(TENANT).count(old.spec().index()) == 200
    assert records.get(KB).chunks == 0


def test_ingest_files_uploaded_through_the_files_api(client, kb_env, moto_endpoint, monkeypatch):
    from flowless.store.files import ensure_files_bucket

    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_endpoint)
    assert ensure_files_bucket()
    key = kb_env["key"]
    create_kb(client, key)
    uploaded = client.post("/api/v2/files", files={"file": ("security.md", DOCS["security.md"].encode(), "text/markdown")}, headers=headers(key))
    assert uploaded.status_code == 201, uploaded.text
    path = uploaded.json()["path"]
    response = client.post(f"/api/v1/knowledge_bases/{KB}/ingest", data={"file_paths": path, "chunk_size": "70", "chunk_overlap": "0"},
                           headers=headers(key))
    assert response.status_code == 201, response.text
    assert (response.json()["files"], response.json()["chunks_created"]) == (1, 3)
    foreign = client.post(f"/api/v1/knowledge_bases/{KB}/ingest", data={"file_paths": path}, headers=headers(kb_env["other_key"]))
    assert foreign.status_code == 404  # the other tenant has no such base (nor file)
    create_kb(client, kb_env["other_key"])
    foreign = client.post(f"/api/v1/knowledge_bases/{KB}/ingest", data={"file_paths": path}, headers=headers(kb_env["other_key"]))
    assert (foreign.status_code, foreign.json()) == (404, {"detail": f"File not found: {path}"})


def test_a_build_of_a_rag_flow_searches_the_knowledge_base(client, kb_env):
    """The build worker's runs reach the tenant's knowledge bases just as `/run` does."""
    from tests.api.test_build import poll_until_end

    create_kb(client, kb_env["key"])
    assert ingest(client, kb_env["key"], DOCS).status_code == 201
    flow = shared_flow(RETRIEVAL)
    for node in flow["data"]["nodes"]:
        if node["id"] == KNOWLEDGE_NODES[RETRIEVAL]:
            node["data"]["node"]["template"]["knowledge_base"]["value"] = KB
            node["data"]["node"]["template"]["top_k"]["value"] = 1
    flow_id = store_flow(TENANT, flow)
    started = client.post(f"/api/v1/build/{flow_id}/flow", json={"inputs": {"input_value": "How many paid vacation days?"}},
                          headers=headers(kb_env["key"]))
    assert started.status_code == 200, started.text
    events = poll_until_end(client, kb_env["key"], started.json()["job_id"])
    assert events[-1]["event"] == "end"
    answers = [e["data"]["text"] for e in events if e["event"] == "add_message" and e["data"]["sender"] == "Machine"]
    assert answers == ["Text: Employees receive twenty five paid vacation days each year."]
