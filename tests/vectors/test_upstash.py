"""Upstash beyond the store contract: without an embedding model, Upstash embeds the texts and the
query itself; the node's filter text goes to Upstash as written."""

from __future__ import annotations

from flowless_engine.settings import EngineSettings
from flowless_engine.vectors.upstash import filter_text
from tests.support.engine_kit import component_node, edge, flow, run
from tests.support.upstash_server import UpstashServer


async def test_upstash_embeds_when_no_model_is_wired() -> None:
    with UpstashServer(token="t") as server:
        docs = [{"text": "Parrots can talk", "kind": "bird"}, {"text": "Refunds take fourteen days", "kind": "policy"}]
        exported = flow([component_node("ChatInput-1", "ChatInput"),
                         component_node("Up-1", "Upstash", index_url=server.base_url, index_token="t", ingest_data=docs,
                                        metadata_filter="kind = 'bird' OR kind = 'policy'", number_of_results=1)],
                        [edge("ChatInput-1", "message", "Up-1", "search_query")])
        ran = await run(exported, "can parrots talk", settings=EngineSettings(allow_loopback=True, http_retries=0))
        assert [d.data["text"] for d in ran.vertex("Up-1").values["search_results"]] == ["Parrots can talk"]
        assert {r["data"] for r in server.records()} == {"Parrots can talk", "Refunds take fourteen days"}
        paths = [r.path for r in server.requests]
        assert "/upsert-data" in paths and "/query-data" in paths
        query = next(r.body for r in server.requests if r.path == "/query-data")
        assert query["data"] == "can parrots talk" and query["filter"] == "kind = 'bird' OR kind = 'policy'"


def test_filter_text() -> None:
    assert filter_text({"tag": "it's", "year": 2026, "kinds": ["a", "b"], "ok": True}) == \
        "tag = 'it\\'s' AND year = 2026 AND kinds IN ('a', 'b') AND ok = true"
