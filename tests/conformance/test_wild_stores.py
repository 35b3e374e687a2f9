"""Real exports (../shared/wild-flows, read in place) that name a vector store or a chat memory,
run end to end against the local Astra Data API and model servers (tests/support/wild_stores.py):
ingestion paths store the sample file's chunks, search paths read them back."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import wild_stores

# Every type in these is served natively; each runs whole.
RUNS = [
    "Friend09-practise_ai_udemy_langflow__AI Waiter.json",  # AstraDB ×2, StoreMessage ×2, Memory, Agent
    "Jcnok-langflow_competition__simple_vector_model.json",  # Chroma (the Flowless store)
    "Sharathchenna-EngageMetrics__Langflow.json",  # AstraDB ingest + search (1.1)
    "Sohamlkulk-Insight-FLow__tp.json",  # AstraDBToolComponent as an Agent tool
    "ifabi-Langflow_RAG_Chat_Flow__Simple_Chat_RAG_Flow.json",  # ext:datastax:AstraDBVectorStoreComponent@official (1.13)
    "santhu932-Langflow-demo-projects__RAG.json",  # AstraDB ingest + search
    "siddharthapal8240-MediaMetric__Langflow.json",  # AstraDBToolComponent
]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any, Path]]:
    root = tmp_path_factory.mktemp("files")
    (root / wild_stores.SAMPLE_NAME).write_text(wild_stores.SAMPLE_TEXT, encoding="utf-8")
    with wild_stores.servers() as (astra, models):
        yield astra, models, root


@pytest.mark.parametrize("name", RUNS)
def test_the_store_flow_runs(name: str, env: tuple[Any, Any, Path]) -> None:
    astra, models, root = env
    path = wild_stores.WILD_FLOWS / name
    before = len(astra.requests)
    assert asyncio.run(wild_stores.run_one(path, astra, models, root)) == "runs"
    commands = [next(iter(r.body)) for r in astra.requests[before:] if isinstance(r.body, dict) and r.body]
    types = {n["data"]["type"] for n in wild_stores.nodes(__import__("json").loads(path.read_text(encoding="utf-8")))}
    if types & {"AstraDB", "ext:datastax:AstraDBVectorStoreComponent@official"}:
        assert "findCollections" in commands  # the store was really reached
    if "AstraDBToolComponent" in types:
        assert not commands or "find" in commands  # the tool ran only if the model called it


def test_the_store_flows_are_read_in_place() -> None:
    assert wild_stores.WILD_FLOWS.name == "wild-flows" and len(wild_stores.store_flows()) >= 40
