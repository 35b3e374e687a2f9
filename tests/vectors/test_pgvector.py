"""PGVector beyond the store contract, on a real PostgreSQL with pgvector: LangChain's tables (a
collection Langflow filled is searched), one connection per warm container, the network guard
before connecting, and the connectors layer's driver missing."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from flowless_engine.errors import BlockedURLError, ConfigurationError, ProviderError
from flowless_engine.settings import EngineSettings
from flowless_engine.vectors import pgvector as pgvector_module
from flowless_engine.vectors.pgvector import PostgresTarget
from tests.support.engine_kit import component_node, edge, flow, run
from tests.support.model_server import ModelServer, embed
from tests.support.postgres_server import PostgresServer

SETTINGS = EngineSettings(allow_loopback=True, http_retries=0)
DIMENSIONS = 15  # see tests/vectors/stores.py: this machine's CPU and the pgvector build


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    with PostgresServer(password="pw") as server:
        yield server


@pytest.fixture(scope="module")
def models() -> Iterator[ModelServer]:
    with ModelServer() as server:
        yield server


def pg_flow(models: ModelServer, url: str, **fields: Any) -> dict[str, Any]:
    return flow(
        [component_node("ChatInput-1", "ChatInput"),
         component_node("OpenAIEmbeddings-1", "OpenAIEmbeddings", openai_api_base=models.base_url, dimensions=DIMENSIONS),
         component_node("PG-1", "pgvector", **{"pg_server_url": url, "collection_name": "docs", **fields})],
        [edge("ChatInput-1", "message", "PG-1", "search_query"),
         edge("OpenAIEmbeddings-1", "embeddings", "PG-1", "embedding", output_types=("Embeddings",), input_types=("Embeddings",))],
    )


async def texts(exported: dict[str, Any], query: str, settings: EngineSettings = SETTINGS) -> list[str]:
    ran = await run(exported, query, variables={"OPENAI_API_KEY": "k"}, settings=settings)
    return [d.data["text"] for d in ran.vertex("PG-1").values["search_results"]]


async def test_a_collection_langchain_wrote_is_searched(postgres: PostgresServer, models: ModelServer) -> None:
    with postgres.connect() as connection:
        for statement, _ in pgvector_module.SCHEMA:
            connection.run(statement)
        collection = str(uuid.uuid4())
        connection.run("INSERT INTO langchain_pg_collection (uuid, name, cmetadata) VALUES (CAST(:u AS UUID), 'langchain', NULL)", u=collection)
        for text, source in (("Cats purr when happy", "cats.md"), ("Dogs wag their tails", "dogs.md")):
            connection.run("INSERT INTO langchain_pg_embedding (uuid, collection_id, embedding, document, cmetadata, custom_id) VALUES "
                           "(CAST(:u AS UUID), CAST(:c AS UUID), CAST(:e AS vector), :d, CAST(:m AS JSON), NULL)",
                           u=str(uuid.uuid4()), c=collection, e=json.dumps(embed(text, DIMENSIONS)), d=text, m=json.dumps({"source": source}))
    ran = await run(pg_flow(models, postgres.url, collection_name="langchain", number_of_results=1), "why do cats purr",
                    variables={"OPENAI_API_KEY": "k"}, settings=SETTINGS)
    (row,) = [d.data for d in ran.vertex("PG-1").values["search_results"]]
    assert row["text"] == "Cats purr when happy" and row["source"] == "cats.md" and 0 < row["_score"] <= 1


async def test_one_connection_per_warm_container(postgres: PostgresServer, models: ModelServer) -> None:
    pgvector_module._pool.connections.clear()
    exported = pg_flow(models, postgres.url, ingest_data=[{"text": "Refunds take fourteen days"}])
    await texts(exported, "refunds")
    await texts(exported, "refunds")
    assert len(pgvector_module._pool.connections) == 1
    (key,) = pgvector_module._pool.connections
    assert "pw" not in key  # the password only as a digest


async def test_the_host_is_vetted_before_connecting(models: ModelServer) -> None:
    with pytest.raises(BlockedURLError, match="private"):
        await texts(pg_flow(models, "postgresql://u:p@10.1.2.3:5432/db", ingest_data=[{"text": "x"}]), "x")
    with pytest.raises(BlockedURLError, match="metadata"):
        await texts(pg_flow(models, "postgresql://u:p@169.254.169.254/db"), "x", EngineSettings(allow_private_networks=True))


async def test_database_errors_name_pgvector(postgres: PostgresServer, models: ModelServer) -> None:
    url = postgres.url.replace("/postgres", "/no_such_database")
    with pytest.raises(ProviderError) as caught:
        await texts(pg_flow(models, url), "x")
    assert caught.value.provider == "PGVector" and "no_such_database" in caught.value.message and "pw@" not in caught.value.message


async def test_without_the_connectors_layer(models: ModelServer, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "pg8000", None)
    monkeypatch.setitem(sys.modules, "pg8000.native", None)
    pgvector_module._pool.connections.clear()
    with pytest.raises(ConfigurationError, match="connectors layer"):
        await texts(pg_flow(models, "postgresql://u:p@127.0.0.1:1/db"), "x")


@pytest.mark.parametrize(("url", "expected"), [
    ("postgresql://alice:p@ss:w0rd@db.example.com:6543/app?sslmode=require", ("db.example.com", 6543, "alice", "p@ss:w0rd", "app", True)),
    ("postgres://bob@localhost/db", ("localhost", 5432, "bob", "", "db", False)),
    ("postgresql+psycopg://c:d%2Fe@h/x", ("h", 5432, "c", "d/e", "x", False)),
])
def test_connection_strings(url: str, expected: tuple[Any, ...]) -> None:
    target = PostgresTarget.parse(url)
    assert (target.host, target.port, target.user, target.password, target.database, target.ssl) == expected


def test_a_connection_string_must_be_postgres() -> None:
    with pytest.raises(ConfigurationError, match="postgresql://"):
        PostgresTarget.parse("mysql://u:p@h/db")
