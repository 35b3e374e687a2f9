"""MongoDB Atlas beyond the store contract: a collection LangChain filled (ObjectId ids, `text`,
`embedding`, metadata at the top level) and an index Langflow created are searched as they are;
the index Flowless creates follows the node's fields; insert mode overwrite; `$vectorSearch`
filters; Atlas's errors as the engine's named errors (and their HTTP status); the network guard on
mongodb+srv seeds and on every socket pymongo opens; TLS file options refused."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from bson import ObjectId

from flowless_engine.errors import BlockedURLError, ConfigurationError, InvalidFlowError, ProviderAuthError, ProviderError
from flowless_engine.settings import EngineSettings
from flowless_engine.vectors import mongodb
from tests.support.engine_kit import component_node, edge, flow, run
from tests.support.model_server import ModelServer, embed
from tests.support.mongodb_server import MongoServer

SETTINGS = EngineSettings(allow_loopback=True, http_retries=0)
USER, PASSWORD = "atlas-user", "p@ss:w0rd/x"


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[MongoServer, ModelServer]]:
    with MongoServer(users={USER: PASSWORD}) as mongo, ModelServer() as models:
        yield mongo, models
    mongodb.close_clients()


def atlas_flow(models: ModelServer, **fields: Any) -> dict[str, Any]:
    node = component_node("Mongo-1", "MongoDBAtlasVector", **{"mongodb_atlas_cluster_uri": "MONGODB_URI", "db_name": "shop",
                                                              "number_dimensions": 64, **fields})
    node["data"]["node"]["template"]["mongodb_atlas_cluster_uri"]["load_from_db"] = True
    return flow(
        [component_node("ChatInput-1", "ChatInput"), component_node("OpenAIEmbeddings-1", "OpenAIEmbeddings", openai_api_base=models.base_url), node],
        [edge("ChatInput-1", "message", "Mongo-1", "search_query"),
         edge("OpenAIEmbeddings-1", "embeddings", "Mongo-1", "embedding", output_types=("Embeddings",), input_types=("Embeddings",))],
    )


async def search(servers: tuple[MongoServer, ModelServer], query: str, *, uri: str | None = None, settings: EngineSettings = SETTINGS,
                 **fields: Any) -> list[dict[str, Any]]:
    mongo, models = servers
    ran = await run(atlas_flow(models, **fields), query, settings=settings,
                    variables={"OPENAI_API_KEY": "sk-test", "MONGODB_URI": uri or mongo.uri(USER, PASSWORD)})
    return [d.data for d in ran.vertex("Mongo-1").values["search_results"]]


async def test_a_collection_langchain_filled_is_searched_as_it_is(servers) -> None:
    mongo, _ = servers
    ids = [ObjectId(), ObjectId()]
    mongo.data.setdefault("shop", {})["lc"] = [
        {"_id": ids[0], "text": "Refunds are paid within fourteen days", "embedding": embed("Refunds are paid within fourteen days"),
         "source": "faq.md", "page": 2},
        {"_id": ids[1], "text": "Parrots can talk", "embedding": embed("Parrots can talk"), "source": "pets.md", "page": 1},
    ]
    mongo.search_indexes[("shop", "lc")] = [{"id": "1", "name": "vector_index", "type": "vectorSearch", "status": "READY", "queryable": True,
                                             "latestDefinition": {"fields": [{"type": "vector", "path": "embedding", "numDimensions": 64,
                                                                              "similarity": "cosine"}]}}]
    mongo.requests.clear()
    rows = await search(servers, "when are refunds paid", collection_name="lc", index_name="vector_index", number_of_results=1)
    assert rows == [{"_id": str(ids[0]), "source": "faq.md", "page": 2, "text": "Refunds are paid within fourteen days", "_score": rows[0]["_score"]}]
    assert 0.5 < rows[0]["_score"] <= 1.0  # Atlas's normalised cosine
    (aggregate,) = [r["body"] for r in mongo.requests if r["command"] == "aggregate" and "$vectorSearch" in r["body"]["pipeline"][0]]
    stage = aggregate["pipeline"][0]["$vectorSearch"]
    assert (stage["index"], stage["path"], stage["limit"], stage["numCandidates"], len(stage["queryVector"])) == ("vector_index", "embedding", 1, 10, 64)
    assert aggregate["pipeline"][1:] == [{"$set": {"score": {"$meta": "vectorSearchScore"}}}, {"$project": {"embedding": 0}}]
    assert not any(r["command"] == "createSearchIndexes" for r in mongo.requests)  # the index exists: left as it is


async def test_the_index_follows_the_node_and_documents_keep_langchains_shape(servers) -> None:
    mongo, _ = servers
    docs = [{"text": "Invoices go out monthly", "tag": "billing"}, {"text": "Parrots can talk", "tag": "animals"}]
    rows = await search(servers, "Parrots can talk", collection_name="idx", index_name="vi", ingest_data=docs, index_field="vec", filter_field="tag",
                        similarity="euclidean", quantization="scalar", number_of_results=2)
    (index,) = mongo.search_indexes[("shop", "idx")]
    assert (index["name"], index["type"]) == ("vi", "vectorSearch")
    assert index["latestDefinition"] == {"fields": [{"type": "vector", "path": "vec", "numDimensions": 64, "similarity": "euclidean",
                                                     "quantization": "scalar"}, {"type": "filter", "path": "tag"}]}
    stored = mongo.documents("shop", "idx")
    assert {d["text"] for d in stored} == {"Invoices go out monthly", "Parrots can talk"}
    assert all(isinstance(d["_id"], ObjectId) and len(d["vec"]) == 64 and "tag" in d for d in stored)
    assert rows[0]["text"] == "Parrots can talk" and rows[0]["_score"] == pytest.approx(1.0)  # euclidean: 1 / (1 + 0)
    assert 0 < rows[1]["_score"] < rows[0]["_score"]

    # A $vectorSearch filter on the index's filter field (the Collection the node opens).
    collection = mongodb.MongoCollection(mongodb.MongoTarget(mongo.uri(USER, PASSWORD), allow_private=False, allow_loopback=True),
                                         "shop", "idx", "vi", vector_field="vec", filter_field="tag", dimensions=64, similarity="euclidean")
    await collection.target.vet()
    found = await collection.search(vector=embed("parrots"), text=None, k=2, filter={"tag": "billing"}, with_vectors=False)
    assert [h.text for h in found.hits] == ["Invoices go out monthly"] and found.hits[0].metadata["tag"] == "billing"
    with pytest.raises(ProviderError, match="needs to be indexed as filter"):  # Atlas refuses a filter on a field the index lacks
        await collection.search(vector=embed("parrots"), text=None, k=2, filter={"year": 2026}, with_vectors=False)
    assert [h.text for h in await collection.scan(5, {"tag": ["animals"]})] == ["Parrots can talk"]
    assert mongodb.mongo_filter({"tag": "a", "year": {"$gte": 2025}, "kind": ["x", "y"]}) == {
        "tag": {"$eq": "a"}, "year": {"$gte": 2025}, "kind": {"$in": ["x", "y"]}}


async def test_insert_mode_overwrite_replaces_the_collection(servers) -> None:
    mongo, _ = servers
    await search(servers, "", collection_name="ow", index_name="ow_vi", ingest_data=[{"text": "old one"}, {"text": "old two"}])
    await search(servers, "", collection_name="ow", index_name="ow_vi", ingest_data=[{"text": "new"}])
    assert len(mongo.documents("shop", "ow")) == 3  # append (the default)
    await search(servers, "", collection_name="ow", index_name="ow_vi", ingest_data=[{"text": "only this"}], insert_mode="overwrite")
    assert [d["text"] for d in mongo.documents("shop", "ow")] == ["only this"]


async def test_a_dimension_mismatch_is_a_configuration_error(servers) -> None:
    with pytest.raises(ConfigurationError, match="Number of Dimensions is 1536 but the embedding model gives vectors of 64"):
        await search(servers, "x", collection_name="dims", index_name="dims_vi", ingest_data=[{"text": "a"}], number_dimensions=1536)


async def test_atlas_errors_are_named_and_answered_as_the_service_does(servers) -> None:
    from flowless.api.errors import engine_error_response

    mongo, _ = servers
    await search(servers, "", collection_name="err", index_name="err_vi", ingest_data=[{"text": "a"}])
    with pytest.raises(ProviderAuthError) as refused:
        await search(servers, "a", collection_name="err", index_name="err_vi", uri=mongo.uri(USER, "wrong-password"))
    assert refused.value.provider == "MongoDB Atlas" and "Authentication failed" in refused.value.message
    assert engine_error_response(refused.value)[0] == 422 and "wrong-password" not in refused.value.message

    mongo.search_indexes[("shop", "err")][0]["latestDefinition"]["fields"][0]["numDimensions"] = 32  # an index for another model
    with pytest.raises(ProviderError) as failed:
        await search(servers, "a", collection_name="err", index_name="err_vi")
    assert "MongoDB Atlas failed while searching 'shop.err'" in failed.value.message and "indexed with 32 dimensions" in failed.value.message
    status, detail = engine_error_response(failed.value)
    assert status == 502 and detail["provider"] == "MongoDB Atlas" and PASSWORD not in str(detail)

    mongo.fail_next(1, 91)  # a retryable error: pymongo retries the read once
    await search(servers, "a", collection_name="err2", index_name="err_vi2")
    mongo.fail_next(2, 91)
    with pytest.raises(ProviderError, match="ShutdownInProgress"):
        await search(servers, "a", collection_name="err2", index_name="err_vi2")
    mongo._failures.clear()

    with pytest.raises(ConfigurationError, match="mongodb://"):
        await search(servers, "a", collection_name="err", index_name="err_vi", uri="postgresql://x@y/z")
    with pytest.raises(InvalidFlowError, match="missing required input 'db_name'"):
        await search(servers, "a", collection_name="err", index_name="err_vi", db_name="")


async def test_tls_file_options_and_unix_sockets_are_refused(servers) -> None:
    mongo, _ = servers
    with pytest.raises(ConfigurationError, match="tlscafile"):
        await search(servers, "a", collection_name="c", index_name="i", uri=mongo.uri(USER, PASSWORD) + "&tlsCAFile=/etc/passwd")
    with pytest.raises(BlockedURLError, match="Unix socket"):
        await search(servers, "a", collection_name="c", index_name="i", uri="mongodb://%2Ftmp%2Fmongodb-27017.sock")


async def test_srv_seeds_are_vetted_before_any_connection(servers, monkeypatch) -> None:
    """mongodb+srv://: the hosts the SRV record names are what the guard vets (here loopback)."""
    from pymongo.synchronous.srv_resolver import _SrvResolver

    mongo, _ = servers
    monkeypatch.setattr(_SrvResolver, "get_hosts", lambda self: [(mongo.host, mongo.port)])  # the SRV answer; no DNS leaves the machine
    monkeypatch.setattr(_SrvResolver, "get_hosts_and_min_ttl", lambda self: ([(mongo.host, mongo.port)], 60))
    monkeypatch.setattr(_SrvResolver, "get_options", lambda self: None)
    uri = f"mongodb+srv://{USER}:p%40ss%3Aw0rd%2Fx@cluster0.example.mongodb.net/?tls=false&serverSelectionTimeoutMS=3000"
    before = len(mongo.requests)
    with pytest.raises(BlockedURLError, match="127.0.0.1"):
        await search(servers, "a", collection_name="srv", index_name="srv_vi", uri=uri, settings=EngineSettings(http_retries=0))
    assert [r for r in mongo.requests[before:] if r["command"] not in ("hello", "ismaster")] == []  # refused before connecting (other clients' heartbeats aside)
    rows = await search(servers, "hello", collection_name="srv", index_name="srv_vi", uri=uri, ingest_data=[{"text": "hello there"}])
    assert rows[0]["text"] == "hello there"


def test_every_pymongo_socket_goes_to_a_vetted_address(servers) -> None:
    """A host pymongo learns from a server (a replica-set member) is held to the strict policy."""
    from pymongo import pool_shared
    from pymongo.pool_options import PoolOptions

    mongo, _ = servers
    mongodb._install_guard()
    mongodb._policies.pop(("localhost", mongo.port), None)
    with pytest.raises(BlockedURLError, match="loopback"):
        pool_shared._create_connection(("localhost", mongo.port), PoolOptions(connect_timeout=2))
    with pytest.raises(BlockedURLError, match="metadata"):
        pool_shared._create_connection(("169.254.169.254", 27017), PoolOptions(connect_timeout=2))
    mongodb._policies[("localhost", mongo.port)] = (False, True)  # vetted as a seed with loopback allowed
    pool_shared._create_connection(("localhost", mongo.port), PoolOptions(connect_timeout=2)).close()


def test_a_client_pymongo_points_at_an_unvetted_host_connects_nowhere(servers) -> None:
    """The guard in pymongo's own connection path: a client whose host was not vetted as a seed
    (here localhost, loopback) fails server selection with the guard's refusal, named as such."""
    import pymongo
    from pymongo.errors import ServerSelectionTimeoutError

    mongo, _ = servers
    mongodb._install_guard()
    mongodb._policies.pop(("localhost", mongo.port), None)
    client = pymongo.MongoClient(f"mongodb://localhost:{mongo.port}/?serverSelectionTimeoutMS=300&appname=unvetted")
    try:
        with pytest.raises(ServerSelectionTimeoutError) as caught:
            client.admin.command("ping")
    finally:
        client.close()
    assert not [r for r in mongo.requests if ((r["body"].get("client") or {}).get("application") or {}).get("name") == "unvetted"]
    blocked = mongodb.failure(caught.value, "pinging")
    assert isinstance(blocked, BlockedURLError) and "Refusing to connect to 'localhost'" in blocked.message


async def test_mtls_uses_the_client_certificate_even_pasted_on_one_line(servers) -> None:
    """Enable mTLS: the combined key + certificate goes to a private file pymongo loads, and the
    connection is TLS (the plain test server cannot complete the handshake: unreachable, named)."""
    import datetime
    import os
    import tempfile

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from flowless_engine.components.mongodb import pem_text
    from flowless_engine.errors import ProviderTimeoutError

    mongo, _ = servers
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "flowless-test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key()).serial_number(1)
                   .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    pem = (key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
           + certificate.public_bytes(serialization.Encoding.PEM).decode()).strip()
    one_line = pem.replace("\n", " ")
    assert pem_text(one_line) == pem and pem_text(pem) == pem

    uri = mongo.uri(USER, PASSWORD).replace("serverSelectionTimeoutMS=3000", "serverSelectionTimeoutMS=400")
    with pytest.raises(ProviderTimeoutError, match="MongoDB Atlas could not be reached") as caught:
        await search(servers, "a", collection_name="tls", index_name="tls_vi", uri=uri, enable_mtls=True, mongodb_atlas_client_cert=one_line)
    assert "SSL handshake failed" in caught.value.message and any(r["command"] == "<TLS handshake>" for r in mongo.requests)
    folder = tempfile.gettempdir()
    (written,) = [p for p in os.listdir(folder) if p.startswith("flowless-mongo-") and open(os.path.join(folder, p)).read().strip() == pem]
    assert os.stat(os.path.join(folder, written)).st_mode & 0o777 == 0o600
    with pytest.raises(ConfigurationError, match="combined client certificate"):
        await search(servers, "a", collection_name="tls", index_name="tls_vi", enable_mtls=True, mongodb_atlas_client_cert="not a pem")


async def test_an_index_created_meanwhile_is_used(servers, monkeypatch) -> None:
    """Another run (or another node of this one) may create the index between our listing and our
    creation: Atlas's IndexAlreadyExists then means the index is there."""
    mongo, _ = servers
    await search(servers, "", collection_name="race", index_name="race_vi", ingest_data=[{"text": "first document"}])
    listing, stale = mongo.cmd_aggregate, [True]

    def stale_listing(command: dict, db: str, state: dict) -> dict:  # the first listing predates the other creation
        if stale and command["aggregate"] == "race" and "$listSearchIndexes" in command["pipeline"][0]:
            stale.clear()
            return {"cursor": {"firstBatch": [], "id": 0, "ns": f"{db}.race"}}
        return listing(command, db, state)

    monkeypatch.setattr(mongo, "cmd_aggregate", stale_listing)
    mongo.requests.clear()
    rows = await search(servers, "first document", collection_name="race", index_name="race_vi")
    assert [r["command"] for r in mongo.requests].count("createSearchIndexes") == 1  # refused: it exists
    assert rows[0]["text"] == "first document" and len(mongo.search_indexes[("shop", "race")]) == 1


async def test_documents_a_concurrent_run_stored_meanwhile_are_not_an_error(servers, monkeypatch) -> None:
    mongo, _ = servers
    docs = [{"text": "alpha"}, {"text": "beta"}]
    await search(servers, "", collection_name="dup", index_name="dup_vi", ingest_data=docs[:1])
    lookup = mongo.cmd_find
    monkeypatch.setattr(mongo, "cmd_find", lambda command, db, state: (  # the lookup predates the other run's insert
        {"cursor": {"firstBatch": [], "id": 0, "ns": f"{db}.dup"}} if command["find"] == "dup" else lookup(command, db, state)))
    ran = await run(atlas_flow(servers[1], collection_name="dup", index_name="dup_vi", ingest_data=docs), "",
                    settings=SETTINGS, variables={"OPENAI_API_KEY": "k", "MONGODB_URI": mongo.uri(USER, PASSWORD)})
    assert sorted(d["text"] for d in mongo.documents("shop", "dup")) == ["alpha", "beta"]
    assert any("Added 1 documents" in str(log) for logs in ran.vertex("Mongo-1").logs.values() for log in logs)
