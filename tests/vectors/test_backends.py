"""What only one backend does: the flat store's segments, cache and compaction; S3 Vectors'
index names, filterable metadata and filters; the store chosen from settings."""

from __future__ import annotations

import dataclasses
import re

import pytest

from flowless.settings import Settings
from flowless.vectors import backend_name, flat, vector_store
from flowless.vectors.s3vectors import FILTERABLE_BYTES, S3VectorsStore, _metadata, index_name, s3_filter
from flowless_engine.vectors.base import IndexRef, VectorItem

KB = IndexRef("handbook", "OpenAI/text-embedding-3-small")


def items(start: int, count: int) -> list[VectorItem]:
    return [VectorItem(f"i{n}", [1.0, float(n)], f"text {n}", {"n": n}) for n in range(start, start + count)]


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    flat._cache.entries.clear()


async def test_flat_segments_survive_a_new_process(tmp_path) -> None:
    blobs = flat.LocalBlobs(tmp_path)
    await flat.FlatVectorStore("acme", blobs).upsert(KB, items(0, 3))
    (folder,) = (tmp_path / "acme" / "knowledge").iterdir()
    assert folder.name.startswith("handbook-") and len(list(folder.iterdir())) == 1
    flat._cache.entries.clear()  # a cold container
    assert await flat.FlatVectorStore("acme", blobs).count(KB) == 3


async def test_flat_reader_sees_another_writer_after_its_ttl(tmp_path) -> None:
    blobs = flat.LocalBlobs(tmp_path)
    reader = flat.FlatVectorStore("acme", blobs, ttl_s=3600)
    assert await reader.count(KB) == 0
    writer_cache = flat._Cache()
    original, flat._cache = flat._cache, writer_cache  # another container's memory
    try:
        await flat.FlatVectorStore("acme", blobs).upsert(KB, items(0, 2))
    finally:
        flat._cache = original
    assert await reader.count(KB) == 0  # still fresh in this container
    assert await flat.FlatVectorStore("acme", blobs, ttl_s=0).count(KB) == 2  # the next look lists again


async def test_flat_compacts_many_segments_into_one(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(flat, "MAX_SEGMENTS", 3)
    blobs = flat.LocalBlobs(tmp_path)
    store = flat.FlatVectorStore("acme", blobs, ttl_s=0)
    for start in range(0, 8, 2):
        await store.upsert(KB, items(start, 2))
    segments = sorted(p.name for p in next((tmp_path / "acme" / "knowledge").iterdir()).iterdir())
    assert len(segments) == 1 and segments[0].endswith("~c.json.z")
    await store.upsert(KB, items(8, 1))  # a newer segment sorts after the compacted one
    flat._cache.entries.clear()
    store = flat.FlatVectorStore("acme", blobs)
    assert await store.count(KB) == 9
    assert (await store.query(KB, [1.0, 8.0], 1))[0].id == "i8"


async def test_flat_reloads_when_a_segment_it_knew_is_gone(tmp_path) -> None:
    blobs = flat.LocalBlobs(tmp_path)
    store = flat.FlatVectorStore("acme", blobs, ttl_s=0)
    await store.upsert(KB, items(0, 2))
    await store.upsert(KB, items(2, 2))
    folder = next((tmp_path / "acme" / "knowledge").iterdir())
    sorted(folder.iterdir())[0].unlink()  # e.g. merged and deleted by another writer
    assert await store.count(KB) == 2


def test_flat_keys_stay_inside_the_tenant_folder(tmp_path) -> None:
    with pytest.raises(ValueError):
        flat.index_folder("../evil", KB)
    with pytest.raises(ValueError):
        flat.LocalBlobs(tmp_path).get("../outside")
    assert flat.index_folder("acme", IndexRef("Ünïcödé name!", "m")).startswith("acme/knowledge/n-c-d-name-")


def test_s3vectors_index_names_are_valid_and_distinct() -> None:
    rule = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    names = {
        index_name(tenant, IndexRef(kb, model))
        for tenant in ("acme", "Acme_Corp-" + "x" * 60)
        for kb in ("handbook", "Hand Book", "y" * 64)
        for model in ("OpenAI/text-embedding-3-small", "Ollama/nomic-embed-text")
    }
    assert len(names) == 12
    assert all(rule.match(n) for n in names), names


def test_s3vectors_metadata_keeps_types_and_the_filterable_budget() -> None:
    metadata = {"tag": "a", "n": 3, "flag": True, "tags": ["x", "y"], "long": "z" * 300, **{f"k{i}": "v" * 200 for i in range(20)}}
    stored = _metadata(VectorItem("id", [1.0], "the text", metadata))
    assert stored["_text"] == "the text"
    filterable = {k: v for k, v in stored.items() if not k.startswith("_")}
    assert {"tag", "n", "flag", "tags"} <= set(filterable) and "long" not in filterable
    assert sum(len(k) + len(repr(v)) for k, v in filterable.items()) <= FILTERABLE_BYTES + 100


def test_s3vectors_filters_match_typed_values_too() -> None:
    assert s3_filter({"tag": "a"}) == {"tag": {"$in": ["a"]}}
    assert s3_filter({"year": ["2026", "x"], "draft": "true"}) == {
        "$and": [{"year": {"$in": ["2026", 2026, "x"]}}, {"draft": {"$in": ["true", True]}}]
    }
    assert s3_filter({"ratio": "0.5"}) == {"ratio": {"$in": ["0.5", 0.5]}}


def test_the_store_follows_the_settings(tmp_path) -> None:
    base = Settings()
    assert backend_name(base) == "flat"
    assert backend_name(dataclasses.replace(base, vector_bucket="vb")) == "s3vectors"
    assert backend_name(dataclasses.replace(base, vector_bucket="vb", vector_store="flat")) == "flat"
    local = vector_store("acme", dataclasses.replace(base, vectors_dir=str(tmp_path)))
    assert isinstance(local, flat.FlatVectorStore) and isinstance(local.blobs, flat.LocalBlobs)
    assert isinstance(vector_store("acme", base).blobs, flat.S3Blobs)
    assert isinstance(vector_store("acme", dataclasses.replace(base, vector_bucket="vb")), S3VectorsStore)
    with pytest.raises(ValueError):
        backend_name(dataclasses.replace(base, vector_store="pinecone"))
