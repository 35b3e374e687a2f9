"""The conformance kit's Couchbase service: a Couchbase node as an export leaves it (no connection,
no credentials; or its own bucket/scope/collection/index names) runs end to end once the kit
points it at tests/support/couchbase_server.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conformance.runner import Kit, check_flow
from tests.conformance.test_store_services import _store


@pytest.fixture(scope="module")
def kit() -> Iterator[Kit]:
    kit = Kit()
    yield kit
    for service in kit.started.values():
        service.stop()


@pytest.mark.parametrize("names", [{}, {"bucket_name": "travel", "scope_name": "inventory", "collection_name": "hotels", "index_name": "hotel_vec"}])
def test_the_kit_runs_a_couchbase_node(kit: Kit, names: dict[str, str]) -> None:
    outcome = check_flow(_store("Couchbase", **names), kit, 20)
    assert outcome.line() == "runs"
    server = kit.started["couchbase"].server
    bucket, scope, collection = (names.get(k) or default for k, default in
                                 (("bucket_name", "conformance"), ("scope_name", "_default"), ("collection_name", "_default")))
    assert [d["text"] for d in server.documents(bucket, scope, collection).values()] == ["Parrots can talk"]
