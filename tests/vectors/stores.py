"""The external vector stores under test, each a local server (or a real engine) plus how a node
points at it. The contract suite (test_store_contract.py) runs every one of them.

A `Backend` gives the node type and its connection fields for one collection, the tenant
variables holding its credentials, and a way to count what the store really holds.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Backend:
    name: str
    type_name: str
    fields: Callable[[str], dict[str, Any]]  # collection → the node's connection fields
    variables: dict[str, str]
    count: Callable[[str], int]  # collection → documents the store holds
    server: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    def new_collection(self) -> str:
        return f"c{uuid.uuid4().hex[:10]}"


ASTRA_TOKEN = "AstraCS:test-token"


@contextmanager
def astra() -> Iterator[Backend]:
    from tests.support.astra_server import AstraServer

    with AstraServer(tokens=(ASTRA_TOKEN,)) as server:
        def fields(collection: str) -> dict[str, Any]:
            return {"api_endpoint": server.api_endpoint, "collection_name": collection, "database_name": "flowless-test"}

        def count(collection: str) -> int:
            return len(server.data["default_keyspace"].get(collection, {}).get("documents", {}))

        yield Backend("astra", "AstraDB", fields, {"ASTRA_DB_APPLICATION_TOKEN": ASTRA_TOKEN}, count, server,
                      {"label": "Astra DB"})


BACKENDS: dict[str, Callable[[], Any]] = {"astra": astra}
