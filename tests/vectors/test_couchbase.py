"""Couchbase beyond the store contract: the connection string → HTTP endpoints mapping, LangChain's
document shape on the wire, a collection LangChain filled, the requests Couchbase receives, and
its error shapes answered as the service answers them."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from flowless_engine.errors import ConfigurationError, ProviderAuthError, ProviderError, ProviderTimeoutError
from flowless_engine.settings import EngineSettings
from flowless_engine.vectors.couchbase import Endpoints, endpoints
from tests.support.couchbase_server import CouchbaseServer
from tests.support.engine_kit import component_node, edge, flow, run
from tests.support.model_server import ModelServer, embed

SETTINGS = EngineSettings(allow_loopback=True, http_retries=0)
USER, PASSWORD = "flowless", "c0uch-s3cret"


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[CouchbaseServer, ModelServer]]:
    with CouchbaseServer(users={USER: PASSWORD}) as couchbase, ModelServer() as models:
        yield couchbase, models


async def search(servers: tuple[CouchbaseServer, ModelServer], query: str, *, collection: str, password: str = PASSWORD,
                 settings: EngineSettings = SETTINGS, **fields: Any) -> list[dict[str, Any]]:
    couchbase, models = servers
    values = {"couchbase_connection_string": couchbase.base_url, "couchbase_username": USER, "couchbase_password": "CB_PASSWORD",
              "bucket_name": "shop", "scope_name": "docs", "collection_name": collection, "index_name": f"{collection}_vi", **fields}
    store = component_node("Store-1", "Couchbase", **values)
    store["data"]["node"]["template"]["couchbase_password"]["load_from_db"] = True
    exported = flow(
        [component_node("ChatInput-1", "ChatInput"), component_node("OpenAIEmbeddings-1", "OpenAIEmbeddings", openai_api_base=models.base_url),
         store, component_node("ChatOutput-1", "ChatOutput")],
        [edge("ChatInput-1", "message", "Store-1", "search_query"),
         edge("OpenAIEmbeddings-1", "embeddings", "Store-1", "embedding", output_types=("Embeddings",), input_types=("Embeddings",)),
         edge("Store-1", "dataframe", "ChatOutput-1", "input_value", output_types=("DataFrame",), input_types=("DataFrame",))],
    )
    ran = await run(exported, query, variables={"OPENAI_API_KEY": "sk-test", "CB_PASSWORD": password}, settings=settings)
    return ran.vertex("Store-1").values["dataframe"].rows


@pytest.mark.parametrize(("connection", "expected"), [
    ("couchbase://db.example.com", Endpoints("http://db.example.com:8093", "http://db.example.com:8094")),
    ("couchbases://cb.abc.cloud.couchbase.com", Endpoints("https://cb.abc.cloud.couchbase.com:18093", "https://cb.abc.cloud.couchbase.com:18094")),
    ("couchbase://10.0.0.1:11210,10.0.0.2?network=external", Endpoints("http://10.0.0.1:8093", "http://10.0.0.1:8094")),
    ("couchbases://[fd00::1]", Endpoints("https://[fd00::1]:18093", "https://[fd00::1]:18094")),
    ("db.example.com", Endpoints("http://db.example.com:8093", "http://db.example.com:8094")),
    ("https://gateway.example.com:9443/", Endpoints("https://gateway.example.com:9443", "https://gateway.example.com:9443")),
])
def test_connection_strings_map_to_the_query_and_search_services(connection: str, expected: Endpoints) -> None:
    assert endpoints(connection) == expected


@pytest.mark.parametrize("connection", ["", "redis://h", "couchbase://", "couchbase://user:pw@h", "couchbase://h#x", "couchbase://h /x",
                                        "couchbase://h_$x"])
def test_bad_connection_strings_are_configuration_errors(connection: str) -> None:
    with pytest.raises(ConfigurationError, match="Couchbase"):
        endpoints(connection)


async def test_documents_are_langchains_shape_and_searches_are_knn_queries(servers) -> None:
    couchbase, models = servers
    couchbase.create_index("shop", "docs", "wire", "wire_vi")
    start = len(couchbase.requests)
    rows = await search(servers, "refunds", collection="wire",
                        ingest_data=[{"text": "Refunds take fourteen days", "tag": "billing", "page": 2}, {"text": "Parrots talk"}])
    stored = list(couchbase.documents("shop", "docs", "wire").values())
    assert {d["text"] for d in stored} == {"Refunds take fourteen days", "Parrots talk"}
    refund = next(d for d in stored if d["text"].startswith("Refunds"))
    assert set(refund) == {"text", "embedding", "metadata"} and refund["metadata"] == {"tag": "billing", "page": 2}
    assert refund["embedding"] == embed("Refunds take fourteen days")

    sent = couchbase.requests[start:]
    assert {r.headers["authorization"] for r in sent} == {"Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()}
    statements = [r.body["statement"] for r in sent if r.path == "/query/service"]
    assert any(s.startswith("UPSERT INTO `shop`.`docs`.`wire` (KEY, VALUE) VALUES") for s in statements)
    searched = [r for r in sent if r.path == "/api/bucket/shop/scope/docs/index/wire_vi/query"]
    assert len(searched) == 1
    knn = searched[0].body["knn"][0]
    assert knn["field"] == "embedding" and knn["k"] == 4 and knn["vector"] == embed("refunds")
    assert searched[0].body["fields"] == ["*"]
    assert rows[0]["text"] == "Refunds take fourteen days" and rows[0]["tag"] == "billing" and rows[0]["page"] == 2
    assert rows[0]["_score"] > rows[1]["_score"]


async def test_a_collection_langchain_filled_is_searched(servers) -> None:
    couchbase, _ = servers
    couchbase.create_index("shop", "docs", "lc", "lc_vi")
    for text, source in (("The office opens at nine", "hours.md"), ("Invoices go out monthly", "billing.md")):
        couchbase.documents("shop", "docs", "lc")[uuid.uuid4().hex] = {"text": text, "embedding": embed(text), "metadata": {"source": source}}
    rows = await search(servers, "when does the office open", collection="lc", number_of_results=1)
    assert [(r["text"], r["source"]) for r in rows] == [("The office opens at nine", "hours.md")]


async def test_couchbase_errors_are_named_and_answered_as_the_service_does(servers) -> None:
    from flowless.api.errors import engine_error_response

    couchbase, _ = servers
    couchbase.create_index("shop", "docs", "err", "err_vi")
    with pytest.raises(ProviderAuthError) as refused:
        await search(servers, "a", collection="err", password="wrong-password", ingest_data=[{"text": "a"}])
    assert refused.value.provider == "Couchbase" and "wrong-password" not in refused.value.message
    assert engine_error_response(refused.value)[0] == 422

    with pytest.raises(ConfigurationError, match="Keyspace not found.*shop.docs.nowhere exist") as missing:
        await search(servers, "a", collection="nowhere", ingest_data=[{"text": "a"}])
    assert engine_error_response(missing.value)[0] == 422

    with pytest.raises(ConfigurationError, match="Index err_other does not exist"):
        await search(servers, "a", collection="err", index_name="err_other")

    couchbase.fail_next(1, 500)
    with pytest.raises(ProviderError) as failed:
        await search(servers, "a", collection="err")
    assert failed.value.provider == "Couchbase" and "injected failure" in failed.value.message
    assert engine_error_response(failed.value)[0] == 502



async def test_a_service_that_does_not_answer_is_a_timeout_naming_couchbase() -> None:
    import socket

    from flowless.api.errors import engine_error_response
    from flowless_engine.http import HttpClient
    from flowless_engine.vectors.couchbase import CouchbaseCollection

    with socket.socket() as silent:  # accepts connections (the backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        collection = CouchbaseCollection(HttpClient(allow_loopback=True, retries=0), f"http://127.0.0.1:{silent.getsockname()[1]}",
                                         username=USER, password=PASSWORD, bucket="shop", scope="docs", collection="c", index="i",
                                         timeout=0.2)
        with pytest.raises(ProviderTimeoutError) as slow:
            await collection.search(vector=[0.1, 0.2], text="a", k=2, filter=None, with_vectors=False)
    assert engine_error_response(slow.value)[0] == 504 and slow.value.provider == "Couchbase"


async def test_a_vector_of_another_dimension_fails_naming_couchbase(servers) -> None:
    couchbase, _ = servers
    couchbase.create_index("shop", "docs", "dims", "dims_vi")
    couchbase.documents("shop", "docs", "dims")["old"] = {"text": "old", "embedding": [0.1, 0.2], "metadata": {}}
    with pytest.raises(ProviderError, match="Couchbase failed while searching index 'dims_vi'.*dimension"):
        await search(servers, "a", collection="dims")


async def test_a_missing_field_is_refused_naming_it(servers) -> None:
    from flowless_engine.errors import InvalidFlowError

    with pytest.raises(InvalidFlowError, match="missing required input 'index_name'"):
        await search(servers, "a", collection="x", index_name="")


async def test_the_collection_filters_by_metadata_searches_scans_and_deletes(servers) -> None:
    """The node's template has no filter field; the client still pre-filters its knn query, lists and deletes by metadata."""
    from flowless_engine.http import HttpClient
    from flowless_engine.vectors.couchbase import CouchbaseCollection
    from flowless_engine.vectors.external import Document

    couchbase, _ = servers
    couchbase.create_index("shop", "docs", "filt", "filt_vi")
    collection = CouchbaseCollection(HttpClient(allow_loopback=True, retries=0), couchbase.base_url, username=USER, password=PASSWORD,
                                     bucket="shop", scope="docs", collection="filt", index="filt_vi")
    texts = {"a": ("billing one", {"tag": "billing", "year": 2026}), "b": ("billing two", {"tag": "billing", "year": 2025}),
             "c": ("parrots", {"tag": "animals", "year": 2026})}
    await collection.add([Document(text, meta, key, embed(text)) for key, (text, meta) in texts.items()])
    found = await collection.search(vector=embed("billing one"), text=None, k=3, filter={"tag": "billing", "year": 2026}, with_vectors=False)
    assert [(h.text, h.metadata) for h in found.hits] == [("billing one", {"tag": "billing", "year": 2026})]
    assert {h.text for h in await collection.scan(10, {"tag": ["animals", "other"]})} == {"parrots"}
    assert await collection.held([Document("x", {}, "a"), Document("y", {}, "zzz")]) == {"a"}
    assert await collection.delete_where("tag", ["billing"]) == 2
    assert set(couchbase.documents("shop", "docs", "filt")) == {"c"}
