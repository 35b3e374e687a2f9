"""One contract for every vector store (flowless_engine.vectors.VectorStore), run on each backend:
the flat-file store on local disk and on S3 (moto), and S3 Vectors (moto, with the QueryVectors
handler of tests/vectors/moto_s3vectors.py)."""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from flowless_engine.vectors.base import IndexRef, VectorItem, VectorStore
from tests.vectors import moto_s3vectors

BACKENDS = ("flat-local", "flat-s3", "s3vectors")

StoreFactory = Callable[[str], VectorStore]


@pytest.fixture(scope="module")
def aws(aws_env: None) -> Iterator[None]:
    """One moto for the module (each test gets its own buckets), with QueryVectors added."""
    from moto import mock_aws

    with mock_aws(), pytest.MonkeyPatch.context() as patch:
        moto_s3vectors.install(patch)
        yield


@pytest.fixture(params=BACKENDS)
def make_store(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[StoreFactory]:
    """A function tenant → that tenant's store on the backend under test (shared storage)."""
    from flowless.vectors import flat

    flat._cache.entries.clear()
    if request.param == "flat-local":
        blobs = flat.LocalBlobs(tmp_path)
        yield lambda tenant: flat.FlatVectorStore(tenant, blobs, ttl_s=0)
        return
    import boto3

    request.getfixturevalue("aws")
    bucket = f"test-{uuid.uuid4().hex[:12]}"
    if request.param == "flat-s3":
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=bucket)
        blobs = flat.S3Blobs(bucket, client)
        yield lambda tenant: flat.FlatVectorStore(tenant, blobs, ttl_s=0)
    else:
        from flowless.vectors.s3vectors import S3VectorsStore

        client = boto3.client("s3vectors", region_name="us-east-1")
        client.create_vector_bucket(vectorBucketName=bucket)
        yield lambda tenant: S3VectorsStore(tenant, bucket, client=client)


@pytest.fixture
def store(make_store: StoreFactory) -> VectorStore:
    return make_store("acme")


KB = IndexRef("handbook", "OpenAI/text-embedding-3-small")


def unit(*components: float) -> list[float]:
    norm = math.sqrt(sum(c * c for c in components))
    return [c / norm for c in components]


def item(item_id: str, vector: list[float], text: str = "", **metadata: Any) -> VectorItem:
    return VectorItem(item_id, vector, text or f"text of {item_id}", metadata)


DOCS = [
    item("north", unit(1, 0, 0, 0), "Due north", tag="compass", year=2026, tags=["a", "b"], draft=False),
    item("east", unit(0, 1, 0, 0), "Due east", tag="compass", year=2025, tags=["b"]),
    item("northeast", unit(1, 1, 0, 0), "North-east", tag="diagonal", year=2026),
    item("up", unit(0, 0, 1, 0), "Straight up", tag="vertical"),
]


async def test_an_unknown_index_is_empty(store: VectorStore) -> None:
    assert await store.query(KB, unit(1, 0, 0, 0), 5) == []
    assert await store.scan(KB, 5) == []
    assert await store.count(KB) == 0
    assert await store.existing(KB, ["north"]) == set()
    await store.delete_kb(KB)  # nothing to delete is fine


async def test_query_ranks_by_similarity_with_scores(store: VectorStore) -> None:
    assert await store.upsert(KB, DOCS) == 4
    found = await store.query(KB, unit(1, 0.1, 0, 0), 3)
    assert [m.id for m in found] == ["north", "northeast", "east"]
    scores = [m.score for m in found]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] == pytest.approx(0.995, abs=1e-3)
    best = found[0]
    assert (best.text, best.metadata) == ("Due north", {"tag": "compass", "year": 2026, "tags": ["a", "b"], "draft": False})
    assert tuple(best) == (best.id, best.score, best.metadata, best.text)  # (id, score, metadata, text)


async def test_exact_match_scores_one_and_top_k_bounds(store: VectorStore) -> None:
    await store.upsert(KB, DOCS)
    (top,) = await store.query(KB, unit(0, 0, 1, 0), 1)
    assert top.id == "up" and top.score == pytest.approx(1.0, abs=1e-5)
    assert len(await store.query(KB, unit(0, 0, 1, 0), 50)) == 4


async def test_upsert_replaces_by_id_and_counts(store: VectorStore) -> None:
    await store.upsert(KB, DOCS)
    await store.upsert(KB, [item("north", unit(0, 0, 0, 1), "Moved", tag="moved")])
    assert await store.count(KB) == 4
    (top,) = await store.query(KB, unit(0, 0, 0, 1), 1)
    assert (top.id, top.text, top.metadata) == ("north", "Moved", {"tag": "moved"})
    assert await store.existing(KB, ["north", "east", "missing"]) == {"north", "east"}


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ({"tag": "compass"}, {"north", "east"}),
        ({"tag": ["diagonal", "vertical"]}, {"northeast", "up"}),
        ({"tag": "compass", "year": "2026"}, {"north"}),  # AND across keys; a number matches its text
        ({"year": 2025}, {"east"}),
        ({"tags": "a"}, {"north"}),  # a list value matches when one element does
        ({"draft": "false"}, {"north"}),
        ({"tag": "nowhere"}, set()),
        ({"missing_key": "x"}, set()),
    ],
)
async def test_metadata_filters(store: VectorStore, where: dict[str, Any], expected: set[str]) -> None:
    await store.upsert(KB, DOCS)
    assert {m.id for m in await store.query(KB, unit(1, 1, 1, 1), 10, where)} == expected
    assert {m.id for m in await store.scan(KB, 10, where)} == expected


async def test_filtered_query_still_ranks(store: VectorStore) -> None:
    await store.upsert(KB, DOCS)
    found = await store.query(KB, unit(0, 1, 0, 0), 1, {"tag": "compass"})
    assert [m.id for m in found] == ["east"]


async def test_scan_lists_unranked_up_to_the_limit(store: VectorStore) -> None:
    await store.upsert(KB, DOCS)
    listed = await store.scan(KB, 2)
    assert len(listed) == 2 and all(m.score is None for m in listed)
    assert {m.id for m in await store.scan(KB, 10)} == {d.id for d in DOCS}


async def test_indexes_are_separate_by_name_and_model(store: VectorStore) -> None:
    other_model = IndexRef(KB.name, "Ollama/nomic-embed-text")
    other_name = IndexRef("other", KB.model)
    await store.upsert(KB, DOCS[:1])
    await store.upsert(other_model, [item("x", unit(1, 0, 0), "three dims")])  # another model, another dimension
    await store.upsert(other_name, DOCS[1:2])
    assert [m.id for m in await store.query(KB, unit(1, 1, 0, 0), 10)] == ["north"]
    assert [m.id for m in await store.query(other_model, unit(1, 0, 0), 10)] == ["x"]
    assert [m.id for m in await store.query(other_name, unit(1, 1, 0, 0), 10)] == ["east"]


async def test_tenants_never_see_each_other(make_store: StoreFactory) -> None:
    acme, globex = make_store("acme"), make_store("globex")
    await acme.upsert(KB, DOCS)
    assert await globex.query(KB, unit(1, 0, 0, 0), 10) == []
    assert await globex.count(KB) == 0
    assert await globex.existing(KB, ["north"]) == set()
    await globex.delete_kb(KB)
    assert await acme.count(KB) == 4


async def test_delete_removes_everything_and_the_index_can_be_reused(store: VectorStore) -> None:
    await store.upsert(KB, DOCS)
    await store.delete_kb(KB)
    assert await store.count(KB) == 0
    assert await store.query(KB, unit(1, 0, 0, 0), 5) == []
    await store.upsert(KB, [item("again", unit(1, 2, 3))])  # a new index: any dimension
    assert [m.id for m in await store.query(KB, unit(1, 2, 3), 5)] == ["again"]


async def test_a_vector_of_another_dimension_is_refused(store: VectorStore) -> None:
    await store.upsert(KB, DOCS)
    with pytest.raises(Exception):
        await store.upsert(KB, [item("bad", unit(1, 0, 0))])
    assert await store.count(KB) == 4


async def test_euclidean_metric(store: VectorStore) -> None:
    kb = IndexRef("points", "custom/model", "euclidean")
    await store.upsert(kb, [item("origin", [0.0, 0.0]), item("near", [1.0, 0.0]), item("far", [5.0, 5.0])])
    found = await store.query(kb, [0.9, 0.0], 3)
    assert [m.id for m in found] == ["near", "origin", "far"]
    assert found[0].score == pytest.approx(1 / 1.1, abs=1e-5)


async def test_texts_and_metadata_round_trip(store: VectorStore) -> None:
    long_text = "Ünïcödé ✓ " * 500
    metadata = {"source_metadata": '{"tag": "x"}', "chunk_index": 7, "ratio": 0.5, "nested": '{"a": [1, 2]}', "long": "y" * 1000}
    await store.upsert(KB, [VectorItem("long", unit(1, 2, 3, 4), long_text, metadata)])
    (found,) = await store.query(KB, unit(1, 2, 3, 4), 1)
    assert (found.text, found.metadata) == (long_text, metadata)


async def test_many_items_in_batches(store: VectorStore) -> None:
    items = [item(f"i{n}", unit(1, n, n % 7, 1), tag=str(n % 3)) for n in range(1200)]
    assert await store.upsert(KB, items) == 1200
    assert await store.count(KB) == 1200
    found = await store.query(KB, unit(1, 600, 5, 1), 5, {"tag": "0"})
    assert found and all(m.metadata["tag"] == "0" for m in found)
    assert len(await store.existing(KB, [f"i{n}" for n in range(0, 1300, 7)])) == len(range(0, 1200, 7))
