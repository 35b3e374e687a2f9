"""SQL Database on SQLite (inside the configured folder) and on a real PostgreSQL (the pgserver
wheel, over TCP through the network guard): URL from a tenant variable, rows as a table,
read-only by default, errors, timeouts and refusals; tool mode for an Agent."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from flowless_engine.errors import BlockedURLError, ComponentError, ConfigurationError, ProviderTimeoutError
from flowless_engine.settings import EngineSettings
from tests.support.component_runs import run_flow, value
from tests.support.flows import flow, node


def sql_flow(url: str, query: str, **values: object) -> dict:
    f = flow("sql", [node("SQLComponent-q", "SQLComponent", {"database_url": url, "query": query, **values})], [])
    f["data"]["nodes"][0]["data"]["node"]["template"]["database_url"]["load_from_db"] = True  # a global variable
    return f


@pytest.fixture
def sqlite_root(tmp_path: Path) -> Path:
    db = sqlite3.connect(tmp_path / "shop.db")
    db.executescript("create table items(id integer primary key, name text, price real); "
                     "insert into items(name, price) values ('pen', 1.5), ('book', 12.0), ('lamp', 30.25);")
    db.commit()
    db.close()
    return tmp_path


async def test_sqlite_rows_as_a_table_and_read_only(sqlite_root: Path) -> None:
    settings = EngineSettings(sqlite_root=str(sqlite_root))
    variables = {"SHOP_DB": "sqlite:///shop.db"}
    result = await run_flow(sql_flow("SHOP_DB", "select name, price from items where price > 2 order by price"), settings=settings, variables=variables)
    assert value(result, "SQLComponent-q", "run_sql_query").rows == [{"name": "book", "price": 12.0}, {"name": "lamp", "price": 30.25}]
    with pytest.raises(ComponentError, match="readonly"):
        await run_flow(sql_flow("SHOP_DB", "delete from items"), settings=settings, variables=variables)
    result = await run_flow(sql_flow("SHOP_DB", "insert into items(name, price) values ('cup', 3)", read_only=False), settings=settings, variables=variables)
    assert value(result, "SQLComponent-q").rows == []
    result = await run_flow(sql_flow("SHOP_DB", "select count(*) as n from items"), settings=settings, variables=variables)
    assert value(result, "SQLComponent-q").rows == [{"n": 4}]


async def test_sqlite_paths_are_confined(sqlite_root: Path) -> None:
    with pytest.raises(ConfigurationError, match="not enabled"):
        await run_flow(sql_flow("DB", "select 1"), variables={"DB": "sqlite:///shop.db"})
    settings = EngineSettings(sqlite_root=str(sqlite_root / "sub"))
    with pytest.raises(ConfigurationError, match="inside the configured"):
        await run_flow(sql_flow("DB", "select 1"), settings=settings, variables={"DB": "sqlite:///../shop.db"})
    memory = await run_flow(sql_flow("DB", "select 1 + 1 as two"), variables={"DB": "sqlite:///:memory:"})
    assert value(memory, "SQLComponent-q").rows == [{"two": 2}]
    with pytest.raises(ConfigurationError, match="'mysql' dialect is not supported"):
        await run_flow(sql_flow("DB", "select 1"), variables={"DB": "mysql+pymysql://u:p@db.example/x"})


async def test_sqlite_bad_query_and_timeout(sqlite_root: Path) -> None:
    settings = EngineSettings(sqlite_root=str(sqlite_root))
    with pytest.raises(ComponentError, match="no such table"):
        await run_flow(sql_flow("DB", "select * from nope"), settings=settings, variables={"DB": "sqlite:///shop.db"})
    slow = "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c"
    with pytest.raises(ProviderTimeoutError, match="longer than 1s"):
        await run_flow(sql_flow("DB", slow, timeout=1), settings=settings, variables={"DB": "sqlite:///:memory:"})


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    pytest.importorskip("pgserver")
    from tests.support.postgres import postgres_server

    with postgres_server() as url:
        import pg8000.native

        port = int(url.rsplit(":", 1)[1].split("/")[0])
        connection = pg8000.native.Connection("postgres", host="127.0.0.1", port=port)
        connection.run("create table orders(id serial primary key, customer text, total numeric(10,2), placed date)")
        connection.run("insert into orders(customer, total, placed) values ('ada', 10.50, '2026-01-02'), ('bob', 99.99, '2026-02-03')")
        connection.close()
        yield url


async def test_postgresql_rows_types_and_read_only(postgres: str) -> None:
    settings = EngineSettings(allow_loopback=True)
    variables = {"PG_URL": postgres}
    result = await run_flow(sql_flow("PG_URL", "select customer, total, placed from orders order by id"), settings=settings, variables=variables)
    assert value(result, "SQLComponent-q").rows == [{"customer": "ada", "total": 10.5, "placed": "2026-01-02"},
                                                  {"customer": "bob", "total": 99.99, "placed": "2026-02-03"}]
    with pytest.raises(ComponentError, match="read-only transaction"):
        await run_flow(sql_flow("PG_URL", "delete from orders"), settings=settings, variables=variables)
    await run_flow(sql_flow("PG_URL", "insert into orders(customer, total) values ('cy', 1)", read_only=False), settings=settings, variables=variables)
    result = await run_flow(sql_flow("PG_URL", "select count(*) as n from orders"), settings=settings, variables=variables)
    assert value(result, "SQLComponent-q").rows == [{"n": 3}]
    with pytest.raises(ProviderTimeoutError):
        await run_flow(sql_flow("PG_URL", "select pg_sleep(3)", timeout=1), settings=settings, variables=variables)


async def test_postgresql_host_goes_through_the_network_guard(postgres: str) -> None:
    with pytest.raises(BlockedURLError, match="loopback"):
        await run_flow(sql_flow("PG_URL", "select 1"), settings=EngineSettings(), variables={"PG_URL": postgres})
    with pytest.raises(BlockedURLError, match="metadata"):
        await run_flow(sql_flow("PG_URL", "select 1"), variables={"PG_URL": "postgresql://u:p@169.254.169.254:5432/x"})


async def test_sql_as_an_agent_tool(postgres: str) -> None:
    from flowless_engine.components.sql import SQLComponent
    from flowless_engine.graph.model import Vertex
    from flowless_engine.runtime.context import RunContext

    vertex = Vertex(id="SQLComponent-1", type="SQLComponent", display_name="SQL", fields={"database_url": {"value": postgres}}, outputs=[])
    component = SQLComponent(vertex, {"database_url": postgres, "query": ""}, RunContext(flow_id="f", session_id="s", settings=EngineSettings(allow_loopback=True)))
    (tool,) = component.as_tools()
    assert tool.name == "run_sql_query" and set(tool.parameters["properties"]) == {"query", "include_columns", "add_error"}
    assert json.loads(await tool.run({"query": "select customer from orders where id = 1"})) == [{"customer": "ada"}]
    assert json.loads(await tool.run({"query": "select customer from orders where id = 1", "include_columns": False})) == [["ada"]]
    error = await tool.run({"query": "select nope", "add_error": True})
    assert error.startswith("Error: An error occurred while running the SQL Query") and "Query: select nope" in error
