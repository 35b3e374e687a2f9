"""Rerankers (Cohere, NVIDIA), Needle, Confluence, Vectara and Vectara RAG through the engine against
local servers written from their public API references (tests/support/*_server.py)."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest

from flowless_engine.errors import ConfigurationError, ProviderAuthError, ProviderError, ProviderTimeoutError
from flowless_engine.settings import EngineSettings
from tests.support import confluence_server, needle_server, rerank_server, vectara_server
from tests.support.component_runs import run_flow, value
from tests.support.engine_kit import component_node, edge, flow, run

PASSAGES = [{"text": "Parrots can talk"}, {"text": "Refunds are paid within fourteen days", "source": "policy.md"},
            {"text": "Refunds for damaged items are paid at once"}]


@pytest.fixture(scope="module")
def cohere() -> Iterator[rerank_server.CohereRerankServer]:
    with rerank_server.CohereRerankServer() as server:
        yield server


@pytest.fixture(scope="module")
def nvidia() -> Iterator[rerank_server.NvidiaRankingServer]:
    with rerank_server.NvidiaRankingServer() as server:
        yield server


@pytest.fixture(scope="module")
def needle() -> Iterator[needle_server.NeedleServer]:
    with needle_server.NeedleServer() as server:
        yield server


@pytest.fixture(scope="module")
def confluence() -> Iterator[confluence_server.ConfluenceServer]:
    with confluence_server.ConfluenceServer(pages=5) as server:
        yield server


@pytest.fixture(scope="module")
def vectara() -> Iterator[vectara_server.VectaraServer]:
    with vectara_server.VectaraServer() as server:
        yield server


def settings(server: object | None = None, name: str = "", retries: int = 2, timeout: float | None = None) -> EngineSettings:
    urls = ((name, server.base_url),) if server is not None else ()  # type: ignore[attr-defined]
    extra = {"http_timeout_s": timeout} if timeout else {}
    return EngineSettings(allow_loopback=True, service_urls=urls, http_retries=retries, **extra)


def one(type_name: str, *, secrets: tuple[str, ...] = ("api_key",), **values: object) -> dict:
    exported = flow([component_node("N-1", type_name, **values)])
    template = exported["data"]["nodes"][0]["data"]["node"]["template"]
    for name in secrets:
        template[name]["load_from_db"] = True
    return exported


async def test_cohere_rerank_orders_the_passages(cohere: rerank_server.CohereRerankServer) -> None:
    result = await run_flow(one("CohereRerank", api_key="COHERE_API_KEY", search_query="when are refunds paid", search_results=PASSAGES,
                                top_n=2), settings=settings(cohere, "cohere"), variables={"COHERE_API_KEY": rerank_server.API_KEY})
    ranked = value(result, "N-1", "reranked_documents")
    assert [d.data["text"] for d in ranked] == ["Refunds are paid within fourteen days", "Refunds for damaged items are paid at once"]
    assert ranked[0].data["source"] == "policy.md" and ranked[0].data["relevance_score"] == 0.75  # 3 of the 4 query words
    sent = cohere.requests[-1].json()
    assert sent == {"model": "rerank-english-v3.0", "query": "when are refunds paid", "documents": [p["text"] for p in PASSAGES], "top_n": 2}


async def test_cohere_rerank_errors(cohere: rerank_server.CohereRerankServer) -> None:
    node = one("CohereRerank", api_key="K", search_query="refunds", search_results=PASSAGES)
    with pytest.raises(ConfigurationError, match="Cohere refused the credentials \\(401\\): invalid api token"):
        await run_flow(node, settings=settings(cohere, "cohere"), variables={"K": "wrong"})
    cohere.fail_next(2, 429)
    result = await run_flow(node, settings=settings(cohere, "cohere"), variables={"K": rerank_server.API_KEY})
    assert len(value(result, "N-1")) == 3
    cohere.fail_next(3, 503)
    with pytest.raises(ProviderError, match="Cohere failed: scripted failure 503"):
        await run_flow(node, settings=settings(cohere, "cohere"), variables={"K": rerank_server.API_KEY})
    cohere.delay_next(0.5)
    with pytest.raises(ProviderTimeoutError, match="Cohere did not answer in time"):
        await run_flow(node, settings=settings(cohere, "cohere", retries=0, timeout=0.2), variables={"K": rerank_server.API_KEY})


async def test_nvidia_rerank_on_a_nim_and_as_a_tool(nvidia: rerank_server.NvidiaRankingServer) -> None:
    node = one("NvidiaRerankComponent", api_key="NVIDIA_API_KEY", base_url=f"{nvidia.base_url}/v1", search_query="refunds paid",
               search_results=PASSAGES, top_n=1)
    result = await run_flow(node, settings=settings(), variables={"NVIDIA_API_KEY": rerank_server.API_KEY})
    assert [d.data["text"] for d in value(result, "N-1")] == ["Refunds are paid within fourteen days"]
    sent = nvidia.requests[-1]
    assert sent.path == "/v1/ranking" and sent.json()["query"] == {"text": "refunds paid"} and len(sent.json()["passages"]) == 3
    with pytest.raises(ConfigurationError, match="NVIDIA refused the credentials \\(401\\)"):
        await run_flow(node, settings=settings(), variables={"NVIDIA_API_KEY": "bad"})
    # The default base URL goes to NVIDIA's hosted reranking endpoint (replaced here by the local server).
    hosted = one("NvidiaRerankComponent", api_key="NVIDIA_API_KEY", search_query="parrots", search_results=PASSAGES)
    result = await run_flow(hosted, settings=settings(nvidia, "nvidia"),
                            variables={"NVIDIA_API_KEY": rerank_server.API_KEY})
    assert value(result, "N-1")[0].data["text"] == "Parrots can talk" and nvidia.requests[-1].path == "/v1/retrieval/nvidia/reranking"


async def test_needle_searches_a_collection(needle: needle_server.NeedleServer) -> None:
    node = one("needle", secrets=("needle_api_key",), needle_api_key="NEEDLE_API_KEY", collection_id="clt_1", query="refunds days?", top_k=5)
    result = await run_flow(node, settings=settings(needle, "needle"), variables={"NEEDLE_API_KEY": needle_server.API_KEY})
    message = value(result, "N-1")
    assert message.text == "Question: refunds days?\n\nContext:\nDocument 1:\nRefunds take 5 days.\n\nDocument 2:\nReturns within 30 days."
    assert needle.requests[-1].json() == {"text": "refunds days?", "top_k": 20}  # Needle's minimum top_k
    assert message.properties["top_k_used"] == 20
    with pytest.raises(ConfigurationError, match="Needle rejected the request \\(404\\): Collection nope not found"):
        await run_flow(one("needle", secrets=("needle_api_key",), needle_api_key="K", collection_id="nope", query="x"),
                       settings=settings(needle, "needle"), variables={"K": needle_server.API_KEY})
    with pytest.raises(ConfigurationError, match="Needle refused the credentials"):
        await run_flow(node, settings=settings(needle, "needle"), variables={"NEEDLE_API_KEY": "bad"})


async def test_confluence_pages_of_a_space(confluence: confluence_server.ConfluenceServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from flowless_engine.components import doc_services

    monkeypatch.setattr(doc_services, "CONFLUENCE_PAGE_SIZE", 2)
    node = one("Confluence", url=f"{confluence.base_url}/wiki", username=confluence_server.USER, api_key="CONFLUENCE_TOKEN", space_key="ENG",
               max_pages=4)
    before = len(confluence.requests)
    result = await run_flow(node, settings=settings(), variables={"CONFLUENCE_TOKEN": confluence_server.TOKEN})
    pages = value(result, "N-1")
    assert [p.data["title"] for p in pages] == ["Page 0", "Page 1", "Page 2", "Page 3"]
    assert pages[1].text == "Page 1\nHello team 1."
    assert pages[1].data["source"] == f"{confluence.base_url}/wiki/spaces/ENG/pages/101" and pages[1].data["when"].startswith("2026")
    requests = confluence.requests[before:]
    assert len(requests) == 2 and requests[1].q["start"] == "2" and requests[0].q["expand"] == "body.storage,version"
    assert requests[0].headers["authorization"] == "Basic " + base64.b64encode(f"{confluence_server.USER}:{confluence_server.TOKEN}".encode()).decode()
    with pytest.raises(ConfigurationError, match="Confluence refused the credentials \\(401\\)"):
        await run_flow(node, settings=settings(), variables={"CONFLUENCE_TOKEN": "bad"})
    with pytest.raises(ConfigurationError, match="No space with key : NOPE"):
        await run_flow(one("Confluence", url=f"{confluence.base_url}/wiki", username=confluence_server.USER, api_key="T", space_key="NOPE"),
                       settings=settings(), variables={"T": confluence_server.TOKEN})


async def test_confluence_is_behind_the_network_guard(confluence: confluence_server.ConfluenceServer) -> None:
    from flowless_engine.errors import BlockedURLError

    node = one("Confluence", url=f"{confluence.base_url}/wiki", username="u", api_key="T", space_key="ENG")
    with pytest.raises(BlockedURLError):
        await run_flow(node, settings=EngineSettings(allow_loopback=False, http_retries=0), variables={"T": "x"})


async def test_vectara_store_ingests_and_searches_then_rag_answers(vectara: vectara_server.VectaraServer) -> None:
    creds = {"vectara_customer_id": "123", "vectara_corpus_id": "support", "vectara_api_key": "VECTARA_API_KEY"}
    docs = [{"text": "Refunds are paid within fourteen days", "tag": "billing"}, {"text": "Parrots can talk", "tag": "animals"}]
    exported = flow([component_node("ChatInput-1", "ChatInput"), component_node("V-1", "Vectara", ingest_data=docs, number_of_results=1, **creds)],
                    [edge("ChatInput-1", "message", "V-1", "search_query")])
    exported["data"]["nodes"][1]["data"]["node"]["template"]["vectara_api_key"]["load_from_db"] = True
    variables = {"VECTARA_API_KEY": vectara_server.API_KEY}
    ran = await run(exported, "when are refunds paid", settings=settings(vectara, "vectara"), variables=variables)
    rows = ran.vertex("V-1").values["search_results"]
    assert [(r.data["text"], r.data["tag"]) for r in rows] == [("Refunds are paid within fourteen days", "billing")]
    assert len(vectara.corpora["support"]) == 2
    stored = next(r for r in vectara.requests if r.path == "/v2/corpora/support/documents")
    assert stored.headers["customer-id"] == "123" and stored.json()["type"] == "core"
    await run(exported, "parrots", settings=settings(vectara, "vectara"), variables=variables)  # the same documents again: 409s, kept
    assert len(vectara.corpora["support"]) == 2

    rag = one("VectaraRAG", secrets=("vectara_api_key",), search_query="refunds paid", reranker="none", max_results=1, filter="doc.tag = 'billing'",
              **creds)
    answer = value(await run_flow(rag, settings=settings(vectara, "vectara"), variables=variables), "N-1")
    assert answer.text == "[1] Refunds are paid within fourteen days"
    sent = vectara.requests[-1].json()
    assert sent["search"]["corpora"] == [{"corpus_key": "support", "lexical_interpolation": 0.005, "metadata_filter": "doc.tag = 'billing'"}]
    assert "reranker" not in sent["search"] and sent["generation"] == {"generation_preset_name": "vectara-summary-ext-24-05-sml",
                                                                      "max_used_search_results": 1, "response_language": "eng"}
    rag_mmr = one("VectaraRAG", secrets=("vectara_api_key",), search_query="refunds", **creds)
    await run_flow(rag_mmr, settings=settings(vectara, "vectara"), variables=variables)
    assert vectara.requests[-1].json()["search"]["reranker"] == {"type": "mmr", "diversity_bias": 0.2}
    with pytest.raises(ConfigurationError, match="Vectara refused the credentials \\(401\\)"):
        await run_flow(rag, settings=settings(vectara, "vectara"), variables={"VECTARA_API_KEY": "bad"})
    with pytest.raises(ProviderAuthError, match="Vectara refused the credentials while storing documents \\(HTTP 401\\)"):
        exported["data"]["nodes"][1]["data"]["node"]["template"]["vectara_corpus_id"]["value"] = "other"
        await run(exported, "refunds", settings=settings(vectara, "vectara"), variables={"VECTARA_API_KEY": "bad"})
    vectara.fail_next(3, 500)
    with pytest.raises(ProviderError, match="Vectara failed while storing documents \\(HTTP 500\\)"):
        await run(exported, "refunds", settings=settings(vectara, "vectara"), variables=variables)


async def test_clickhouse_refused_credentials_are_a_4xx_and_failures_name_it() -> None:
    from tests.support.clickhouse_server import PASSWORD, USER, ClickHouseServer
    from tests.support.model_server import ModelServer

    with ClickHouseServer() as server, ModelServer() as models:
        port = int(server.base_url.rsplit(":", 1)[1])
        exported = flow([component_node("ChatInput-1", "ChatInput"),
                         component_node("E-1", "OpenAIEmbeddings", openai_api_base=models.base_url),
                         component_node("C-1", "Clickhouse", host="127.0.0.1", port=port, database="default", table="docs", username=USER,
                                        password="CH", ingest_data=[{"text": "Refunds in fourteen days"}, {"text": "Parrots talk"}],
                                        metric="euclidean", number_of_results=2, score_threshold=0.0001)],
                        [edge("ChatInput-1", "message", "C-1", "search_query"),
                         edge("E-1", "embeddings", "C-1", "embedding", output_types=("Embeddings",), input_types=("Embeddings",))])
        exported["data"]["nodes"][2]["data"]["node"]["template"]["password"]["load_from_db"] = True
        ran = await run(exported, "refunds", settings=settings(retries=0), variables={"CH": PASSWORD, "OPENAI_API_KEY": "k"})
        rows = ran.vertex("C-1").values["search_results"]
        assert len(rows) == 2 and all(0 < r.data["_score"] <= 1 for r in rows)
        assert any("L2Distance(embedding, [" in r.body.decode() for r in server.requests)
        with pytest.raises(ProviderAuthError, match=r"ClickHouse refused the credentials while .*\(AUTHENTICATION_FAILED\)"):
            await run(exported, "refunds", settings=settings(retries=0), variables={"CH": "wrong", "OPENAI_API_KEY": "k"})
        server.fail_next(3, 503)
        with pytest.raises(ProviderError, match="ClickHouse failed while .*HTTP 503"):
            await run(exported, "refunds", settings=settings(retries=2), variables={"CH": PASSWORD, "OPENAI_API_KEY": "k"})


async def test_unstructured_partitions_the_tenants_files(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from flowless_engine.runtime.services import LocalFileStore
    from tests.support.unstructured_server import API_KEY, UnstructuredServer

    (tmp_path / "flow1").mkdir()
    (tmp_path / "flow1" / "guide.txt").write_text("Refund guide\n\nRefunds take five days.\n\nKeep the receipt.")
    (tmp_path / "flow1" / "tool.exe").write_text("x")
    store = LocalFileStore(tmp_path)
    with UnstructuredServer() as server:
        node = one("Unstructured", api_key="UNSTRUCTURED_API_KEY", api_url=server.base_url, path=["flow1/guide.txt", "flow1/tool.exe"],
                   unstructured_args={"strategy": "fast"})
        result = await run_flow(node, settings=settings(), variables={"UNSTRUCTURED_API_KEY": API_KEY}, files=store)
        rows = value(result, "N-1").rows
        assert [(r["category"], r["text"]) for r in rows] == [("Title", "Refund guide"), ("NarrativeText", "Refunds take five days."),
                                                               ("NarrativeText", "Keep the receipt.")]
        assert rows[0]["file_path"] == "flow1/guide.txt" and rows[0]["filename"] == "guide.txt" and rows[0]["page_number"] == 1
        assert server.forms[-1] == {"strategy": "fast"} and len(server.requests) == 1  # the .exe is skipped
        chunked = one("Unstructured", api_key="K", api_url=server.base_url, path=["flow1/guide.txt"], chunking_strategy="by_title")
        rows = value(await run_flow(chunked, settings=settings(), variables={"K": API_KEY}, files=store), "N-1").rows
        assert [r["category"] for r in rows] == ["CompositeElement"] and server.forms[-1] == {"chunking_strategy": "by_title"}
        with pytest.raises(ConfigurationError, match="Unstructured refused the credentials \\(401\\): API key is malformed"):
            await run_flow(chunked, settings=settings(), variables={"K": "bad"}, files=store)
        server.fail_next(2, 502)
        assert len(value(await run_flow(chunked, settings=settings(), variables={"K": API_KEY}, files=store), "N-1").rows) == 1


async def test_needle_as_an_agent_tool(needle: needle_server.NeedleServer) -> None:
    import json

    from tests.support.engine_kit import FakeChatModel, tool_call

    exported = flow([
        component_node("ChatInput-1", "ChatInput"), component_node("Agent-1", "Agent", add_current_date_tool=False),
        component_node("N-1", "needle", needle_api_key="NEEDLE_API_KEY", collection_id="clt_1"), component_node("ChatOutput-1", "ChatOutput"),
    ], [edge("ChatInput-1", "message", "Agent-1", "input_value"), edge("Agent-1", "response", "ChatOutput-1", "input_value"),
        edge("N-1", "component_as_tool", "Agent-1", "tools", output_types=("Tool",), input_types=("Tool",))])
    exported["data"]["nodes"][2]["data"]["node"]["template"]["needle_api_key"]["load_from_db"] = True
    exported["data"]["nodes"][2]["data"]["node"]["template"]["query"]["tool_mode"] = True  # as Langflow's template marks it
    exported["data"]["nodes"][2]["data"]["node"]["outputs"] = [{"name": "component_as_tool", "method": "to_toolkit", "types": ["Tool"]}]  # tool mode
    model = FakeChatModel([tool_call("run", {"query": "how long do refunds take"}), "Five days."])
    ran = await run(exported, "refunds?", model=model, settings=settings(needle, "needle"), variables={"NEEDLE_API_KEY": needle_server.API_KEY})
    (tool,) = model.calls[0]["tools"]
    assert tool.name == "run" and "query" in tool.parameters["properties"]
    assert "Refunds take 5 days." in model.calls[1]["messages"][-1].content and ran.text() == "Five days."
    assert json.loads(needle.requests[-1].body)["text"] == "how long do refunds take"
