"""Cassandra and Cassandra Chat Memory on contact points, over Flowless's CQL native protocol v4
client, against tests/support/cql_server.py: the handshake (STARTUP, PasswordAuthenticator), cassio's
table layouts and indexes, ANN search with similarity_cosine, TTL, body search, a table cassio
filled read back, the chat history shared with Message History / Message Store (paged reads), the
contact points tried in order, the network guard, and ERROR frames as 4xx/502/504 naming Cassandra.
(The store contract suite runs these nodes too: backend `cassandra_cql` in tests/vectors/stores.py.)"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from flowless_engine.errors import BlockedURLError, ConfigurationError, ProviderAuthError, ProviderError, ProviderTimeoutError
from flowless_engine.settings import EngineSettings
from tests.support.cql_server import CqlServer
from tests.support.engine_kit import chat_flow, component_node, edge, flow, run
from tests.support.model_server import ModelServer, embed

SETTINGS = EngineSettings(allow_loopback=True, http_retries=0)
PASSWORD = "c4ss-s3cret"
VARIABLES = {"OPENAI_API_KEY": "k", "CASSANDRA_PASSWORD": PASSWORD}
MEMORY_EDGE = {"output_types": ("Memory",), "input_types": ("Memory",)}


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[CqlServer, ModelServer]]:
    with CqlServer(users={"flowless": PASSWORD}, page_limit=20) as cql, ModelServer() as models:
        cql.keyspaces["docs"] = {}
        yield cql, models


def _node(node_id: str, type_name: str, cql: CqlServer, **values: Any) -> dict[str, Any]:
    node = component_node(node_id, type_name, **{"database_ref": cql.contact_point, "username": "flowless", "token": "CASSANDRA_PASSWORD",
                                                 "keyspace": "docs", **values})
    node["data"]["node"]["template"]["token"]["load_from_db"] = True
    return node


async def _rows(cql: CqlServer, models: ModelServer, query: str, variables: dict[str, str] | None = None,
                settings: EngineSettings = SETTINGS, **values: Any) -> list[dict[str, Any]]:
    exported = flow([component_node("ChatInput-1", "ChatInput"),
                     component_node("OpenAIEmbeddings-1", "OpenAIEmbeddings", openai_api_base=models.base_url),
                     _node("Cassandra-1", "Cassandra", cql, **values)],
                    [edge("ChatInput-1", "message", "Cassandra-1", "search_query"),
                     edge("OpenAIEmbeddings-1", "embeddings", "Cassandra-1", "embedding", output_types=("Embeddings",), input_types=("Embeddings",))])
    ran = await run(exported, query, variables={**VARIABLES, **(variables or {})}, settings=settings)
    return [d.data for d in ran.vertex("Cassandra-1").values["search_results"]]


async def test_the_handshake_and_cassios_vector_table(servers: tuple[CqlServer, ModelServer]) -> None:
    cql, models = servers
    start = len(cql.queries)
    rows = await _rows(cql, models, "do cats purr", table_name="pets", number_of_results=1, ttl_seconds=3600,
                       ingest_data=[{"text": "Cats purr", "legs": 4, "wild": False}, {"text": "Snakes hiss", "legs": 0}])
    assert rows == [{"legs": "4.0", "wild": "false", "text": "Cats purr", "_score": rows[0]["_score"]}] and rows[0]["_score"] > 0.5
    assert cql.startups[-1] == {"CQL_VERSION": "3.0.0"} and cql.logins[-1] == "flowless"
    table = cql.table("docs", "pets")
    assert table["columns"] == {"row_id": "text", "body_blob": "text", "vector": "vector<float, 64>", "metadata_s": "map<text, text>",
                                "attributes_blob": "text"}
    assert (table["partition"], table["clustering"]) == (["row_id"], [])
    assert {name: (i["column"], i["target"], i["options"]) for name, i in table["indexes"].items()} == {
        "idx_vector_pets": ("vector", "values", {"similarity_function": "cosine"}), "eidx_metadata_s_pets": ("metadata_s", "entries", {})}
    assert all(r["_ttl"] == 3600 for r in cql.rows("docs", "pets"))
    statements = [s for s, _ in cql.queries[start:]]
    assert "SELECT row_id, body_blob, metadata_s, attributes_blob, similarity_cosine(vector, ?) AS score FROM docs.pets ORDER BY vector ANN OF ? LIMIT 1" in statements
    assert sum(s.startswith("INSERT INTO docs.pets") for s in statements) == 2
    assert set(cql.consistencies[start:]) == {0x000A}  # LOCAL_ONE, the Python driver's default


async def test_a_table_cassio_filled_a_filter_and_body_search(servers: tuple[CqlServer, ModelServer]) -> None:
    cql, models = servers
    cql.keyspaces["docs"]["lc_docs"] = {
        "columns": {"row_id": "text", "body_blob": "text", "vector": "vector<float, 64>", "metadata_s": "map<text, text>", "attributes_blob": "text"},
        "partition": ["row_id"], "clustering": [], "descending": False, "rows": {},
        "indexes": {"idx_vector_lc_docs": {"column": "vector", "target": "values", "options": {}},
                    "eidx_metadata_s_lc_docs": {"column": "metadata_s", "target": "entries", "options": {}}}}
    for i, (text, source) in enumerate([("Invoices go out monthly", "billing.md"), ("Invoices are paid by card", "cards.md")]):
        cql.keyspaces["docs"]["lc_docs"]["rows"][(f"r{i}",)] = {"row_id": f"r{i}", "body_blob": text, "vector": embed(text),
                                                                "metadata_s": {"source": source}, "attributes_blob": json.dumps({"page": i + 1})}
    rows = await _rows(cql, models, "invoices", table_name="lc_docs", search_filter={"source": "cards.md"})
    assert [(r["text"], r["source"], r["page"]) for r in rows] == [("Invoices are paid by card", "cards.md", 2)]
    statement, cells = cql.queries[-1]
    assert "WHERE metadata_s[?] = ? ORDER BY vector ANN OF ?" in statement and cells[1:3] == [b"source", b"cards.md"]
    docs = [{"text": "Refunds take fourteen days"}, {"text": "Refund requests need a receipt"}]
    rows = await _rows(cql, models, "refund", table_name="faq", enable_body_search=True, ingest_data=docs, body_search="receipt")
    assert [r["text"] for r in rows] == ["Refund requests need a receipt"]
    assert cql.table("docs", "faq")["indexes"]["idx_body_faq"]["options"] == {"index_analyzer": "STANDARD"}
    with pytest.raises(ConfigurationError, match="Cassandra failed while searching table 'lc_docs': invalid query: .*analyzed index"):
        await _rows(cql, models, "refund", table_name="lc_docs", enable_body_search=True, body_search="card")


async def test_cassandra_chat_memory_keeps_cassios_chat_table(servers: tuple[CqlServer, ModelServer]) -> None:
    cql, _ = servers
    memory = _node("CassMem-1", "CassandraChatMemory", cql, table_name="chat_history")
    store = chat_flow(memory, component_node("StoreMessage-1", "StoreMessage"),
                      edges=[edge("ChatInput-1", "message", "StoreMessage-1", "message"),
                             edge("CassMem-1", "memory", "StoreMessage-1", "memory", **MEMORY_EDGE),
                             edge("StoreMessage-1", "stored_messages", "ChatOutput-1", "input_value")])
    for text in ("remember the milk", "and the eggs"):
        await run(store, text, variables=VARIABLES, settings=SETTINGS, session_id="s1")
    for i in range(45):  # a long history: read page after page (the server answers 20 rows a page)
        await run(store, f"note {i}", variables=VARIABLES, settings=SETTINGS, session_id="s-long")
    table = cql.table("docs", "chat_history")
    assert table["columns"] == {"partition_id": "text", "row_id": "timeuuid", "body_blob": "text"}
    assert (table["partition"], table["clustering"], table["descending"]) == (["partition_id"], ["row_id"], True)
    stored = [r for r in cql.rows("docs", "chat_history") if r["partition_id"] == "s1"]
    assert all(isinstance(r["row_id"], uuid.UUID) and r["row_id"].version == 1 for r in stored)
    assert [json.loads(r["body_blob"])["data"]["content"] for r in stored] == ["remember the milk", "and the eggs"]
    assert {json.loads(r["body_blob"])["type"] for r in stored} == {"human"}

    def recall_flow(n: int) -> dict[str, Any]:
        return chat_flow(memory, component_node("Memory-1", "Memory", n_messages=n),
                         edges=[edge("CassMem-1", "memory", "Memory-1", "memory", **MEMORY_EDGE),
                                edge("Memory-1", "messages_text", "ChatOutput-1", "input_value")])

    ran = await run(recall_flow(10), "what did I say?", variables=VARIABLES, settings=SETTINGS, session_id="s1")
    assert ran.text() == "User: remember the milk\nUser: and the eggs"
    assert (await run(recall_flow(10), "here?", variables=VARIABLES, settings=SETTINGS, session_id="s2")).text() == ""
    long = await run(recall_flow(100), "and?", variables=VARIABLES, settings=SETTINGS, session_id="s-long")
    assert long.text().splitlines() == [f"User: note {i}" for i in range(45)]
    last = await run(recall_flow(3), "and?", variables=VARIABLES, settings=SETTINGS, session_id="s-long")
    assert last.text().splitlines() == [f"User: note {i}" for i in (42, 43, 44)]


async def test_errors_name_cassandra_and_map_to_their_status(servers: tuple[CqlServer, ModelServer]) -> None:
    from flowless.api.errors import engine_error_response

    cql, models = servers
    with pytest.raises(ProviderAuthError, match="Cassandra failed while connecting: bad credentials") as caught:
        await _rows(cql, models, "x", variables={"CASSANDRA_PASSWORD": "wrong"}, table_name="t")
    assert PASSWORD not in caught.value.message and "wrong" not in caught.value.message
    assert engine_error_response(caught.value)[0] == 422
    with pytest.raises(ConfigurationError, match="Cassandra failed while reading the schema .*: invalid query: Keyspace nowhere does not exist|"
                                                 "Cassandra failed while creating table 't': invalid query: Keyspace nowhere does not exist") as missing:
        await _rows(cql, models, "x", keyspace="nowhere", table_name="t", ingest_data=[{"text": "a"}])
    assert engine_error_response(missing.value)[0] == 422
    await _rows(cql, models, "", table_name="errs", ingest_data=[{"text": "a"}])
    for code, kind, status, name in ((0x2000, ProviderError, 502, "syntax error"), (0x0000, ProviderError, 502, "server error"),
                                     (0x1200, ProviderTimeoutError, 504, "read timeout"), (0x1000, ProviderError, 502, "unavailable")):
        cql.fail_next(1, code)
        with pytest.raises(kind, match=f"Cassandra failed while reading the schema of table 'errs': {name}: Injected failure") as failed:
            await _rows(cql, models, "a", table_name="errs")
        assert failed.value.provider == "Cassandra" and engine_error_response(failed.value)[0] == status


async def test_contact_points_are_tried_in_order_and_vetted(servers: tuple[CqlServer, ModelServer]) -> None:
    import socket

    cql, models = servers
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        dead = closed.getsockname()[1]
    rows = await _rows(cql, models, "parrots", database_ref=f"127.0.0.1:{dead}, {cql.contact_point}", table_name="birds",
                       ingest_data=[{"text": "Parrots talk"}])
    assert rows[0]["text"] == "Parrots talk"
    with pytest.raises(BlockedURLError):
        await _rows(cql, models, "x", database_ref="10.0.0.5,10.0.0.6", table_name="t")
    with pytest.raises(BlockedURLError):
        await _rows(cql, models, "x", table_name="t", settings=EngineSettings(allow_loopback=False, http_retries=0))
    with pytest.raises(ProviderAuthError, match="Cassandra asks for credentials"):
        await _rows(cql, models, "x", username="", variables={"CASSANDRA_PASSWORD": ""}, table_name="t")
    with pytest.raises(ConfigurationError, match="not URLs"):
        await _rows(cql, models, "x", database_ref="cql://cassandra:9042", table_name="t")


async def test_dse_authenticator(servers: tuple[CqlServer, ModelServer]) -> None:
    _, models = servers
    with CqlServer(users={"flowless": PASSWORD}, dse=True) as dse:
        dse.keyspaces["docs"] = {}
        rows = await _rows(dse, models, "parrots", table_name="birds", ingest_data=[{"text": "Parrots talk"}])
        assert rows[0]["text"] == "Parrots talk" and dse.logins == ["flowless"]
        with pytest.raises(ProviderAuthError, match="bad credentials"):
            await _rows(dse, models, "x", variables={"CASSANDRA_PASSWORD": "wrong"}, table_name="birds")


async def test_tls_when_the_cluster_arguments_ask_for_it(servers: tuple[CqlServer, ModelServer], tmp_path: Any,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess

    _, models = servers
    cert, key = tmp_path / "node.pem", tmp_path / "node.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    with CqlServer(users={"flowless": PASSWORD}, tls=(str(cert), str(key))) as secure:
        secure.keyspaces["docs"] = {}
        with pytest.raises(ProviderError, match=r"Cassandra at 127.0.0.1:\d+ closed the connection while connecting \(does it expect TLS"):  # plain CQL to a TLS port
            await _rows(secure, models, "x", table_name="t")
        with pytest.raises(ProviderError, match="CERTIFICATE_VERIFY_FAILED|certificate verify failed"):  # not a trusted certificate
            await _rows(secure, models, "x", table_name="t", cluster_kwargs={"ssl_context": "default"})
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the node's certificate trusted
        rows = await _rows(secure, models, "parrots", table_name="t", cluster_kwargs={"ssl_context": "default"}, ingest_data=[{"text": "Parrots talk"}])
        assert rows[0]["text"] == "Parrots talk" and secure.logins == ["flowless"]


def test_the_client_decodes_the_types_cassio_uses() -> None:
    from flowless_engine.vectors.cql import Vector, _Reader, decode_value, encode_value
    from tests.support.cql_server import decode, encode, option

    stamp = uuid.uuid1()
    for type_text, value in (("text", "héllo"), ("uuid", uuid.uuid4()), ("timeuuid", stamp), ("int", -7), ("float", 0.5),
                             ("map<text, text>", {"a": "1", "b": "2"}), ("set<text>", ["x", "y"]), ("list<float>", [0.25, -1.5]),
                             ("vector<float, 3>", [0.5, 0.25, -2.0])):
        kind = _Reader(option(type_text)).option()
        assert decode_value(kind, encode(type_text, value)) == value
        bound = Vector(value) if type_text.startswith("vector") else value
        assert decode(type_text, encode_value(bound)) == value
    assert decode_value(_Reader(option("text")).option(), None) is None
