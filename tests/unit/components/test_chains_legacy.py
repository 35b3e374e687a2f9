"""Older LangChain chains through the engine, against the OpenAI-compatible model server and the
local Astra DB Data API: RetrievalQA, LLMMathChain (safe arithmetic), LLMCheckerChain,
SQLDatabase + SQLGenerator, VectorStoreInfo + VectorStoreRouterAgent, SelfQueryRetriever and
RunnableExecutor."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest

from flowless_engine.api import arun_flow_from_json
from flowless_engine.vectors import astra as astra_module
from flowless_engine.components.chains_legacy import FilterSyntaxError, evaluate_math, matches, parse_filter
from flowless_engine.components.tools import ExpressionError
from flowless_engine.errors import ComponentError, ConfigurationError, FlowError
from flowless_engine.settings import EngineSettings
from tests.support.astra_server import AstraServer
from tests.support.engine_kit import component_node, edge, flow
from tests.support.model_server import ModelServer

TOKEN = "AstraCS:test-token"
SETTINGS = EngineSettings(allow_loopback=True, http_retries=0)
DOCS = [
    {"text": "Refunds are paid within fourteen days", "source": "refunds.md", "year": 2021},
    {"text": "Parrots can talk and mimic many sounds", "source": "birds.md", "year": 1999},
    {"text": "Parrots live for decades in captivity", "source": "birds.md", "year": 2015},
]
LM = {"output_types": ("LanguageModel",), "input_types": ("LanguageModel",)}
VS = {"output_types": ("VectorStore",), "input_types": ("VectorStore", "Retriever")}


@pytest.fixture(scope="module")
def models() -> Iterator[ModelServer]:
    with ModelServer() as server:
        yield server


@pytest.fixture(scope="module")
def astra() -> Iterator[AstraServer]:
    astra_module._options_cache.clear()
    with AstraServer(tokens=(TOKEN,)) as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh(models: ModelServer) -> None:
    models.reset()


def base_nodes(models: ModelServer, chain: dict[str, Any], *, output: str = "text") -> tuple[list[dict], list[dict]]:
    nodes = [component_node("ChatInput-1", "ChatInput"), component_node("OpenAIModel-1", "OpenAIModel", model_name="gpt-4o-mini",
                                                                          openai_api_base=models.base_url), chain,
             component_node("ChatOutput-1", "ChatOutput")]
    edges = [edge("ChatInput-1", "message", chain["id"], "input_value"), edge("OpenAIModel-1", "model_output", chain["id"], "llm", **LM),
             edge(chain["id"], output, "ChatOutput-1", "input_value")]
    return nodes, edges


def astra_nodes(models: ModelServer, astra: AstraServer, node_id: str = "Astra-1", collection: str = "docs") -> list[dict]:
    return [
        component_node(node_id, "AstraDB", api_endpoint=astra.api_endpoint, collection_name=collection, database_name="db", ingest_data=DOCS),
        component_node(f"Emb-{node_id}", "OpenAIEmbeddings", openai_api_base=models.base_url),
    ]


def astra_edges(node_id: str = "Astra-1") -> list[dict]:
    return [edge(f"Emb-{node_id}", "embeddings", node_id, "embedding_model", output_types=("Embeddings",), input_types=("Embeddings",))]


async def answer(exported: dict, text: str, **kwargs: Any) -> str:
    variables = {"ASTRA_DB_APPLICATION_TOKEN": TOKEN, "OPENAI_API_KEY": "sk-test"}
    outputs = await arun_flow_from_json(exported, text, variables=variables, settings=kwargs.pop("settings", SETTINGS), **kwargs)
    return outputs[0]["outputs"][0]["results"]["message"]["text"]


def chats(models: ModelServer) -> list[Any]:
    return [r.body for r in models.requests if r.path == "/v1/chat/completions"]


# ---- RetrievalQA --------------------------------------------------------------------------------


async def test_retrieval_qa_answers_from_the_stores_documents(models: ModelServer, astra: AstraServer) -> None:
    nodes, edges = base_nodes(models, component_node("RetrievalQA-1", "RetrievalQA", return_source_documents=True))
    nodes += astra_nodes(models, astra)
    edges += [*astra_edges(), edge("Astra-1", "vectorstoreconnection", "RetrievalQA-1", "retriever", **VS)]
    models.script(["Within fourteen days."])
    text = await answer(flow(nodes, edges), "How fast are refunds paid?")
    assert text.startswith("Within fourteen days.\n\n**References:**\n- refunds.md: Refunds are paid within fourteen days")
    (call,) = chats(models)
    user = call["messages"][-1]["content"]
    assert "Refunds are paid within fourteen days" in user and user.endswith("Question: How fast are refunds paid?")
    assert call["messages"][0]["role"] == "system"


async def test_retrieval_qa_map_rerank_picks_the_best_scored_answer(models: ModelServer, astra: AstraServer) -> None:
    nodes, edges = base_nodes(models, component_node("RetrievalQA-1", "RetrievalQA", chain_type="Map Rerank"))
    nodes += astra_nodes(models, astra)
    edges += [*astra_edges(), edge("Astra-1", "vectorstoreconnection", "RetrievalQA-1", "retriever", **VS)]
    models.script(["They talk.\nScore: 90", "Unknown.\nScore: 5", "Maybe.\nScore: 40", "Nothing.\nScore: 1"])
    assert await answer(flow(nodes, edges), "Can parrots talk?") == "They talk."
    assert len(chats(models)) == 3  # one per retrieved document (the store's 4 results of 3 documents)


async def test_retrieval_qa_refine_and_map_reduce_through_an_older_retriever_handle(models: ModelServer, astra: AstraServer) -> None:
    def exported(chain_type: str) -> dict:
        nodes, edges = base_nodes(models, component_node("RetrievalQA-1", "RetrievalQA", chain_type=chain_type))
        nodes += astra_nodes(models, astra)
        edges += [*astra_edges(), edge("Astra-1", "base_retriever", "RetrievalQA-1", "retriever", output_types=("Retriever",), input_types=("Retriever",))]
        return flow(nodes, edges)

    models.script(["draft", "better", "best"])
    assert await answer(exported("Refine"), "Parrots?") == "best"
    refine = chats(models)
    assert len(refine) == 3 and "Existing answer: draft" in refine[1]["messages"][-1]["content"]
    models.reset()
    models.script(["NONE", "Parrots talk.", "NONE", "They talk."])
    assert await answer(exported("Map Reduce"), "Parrots?") == "They talk."
    *_, combine = chats(models)
    context = combine["messages"][-1]["content"]
    assert context.startswith("Context:\nParrots talk.\n\nQuestion:")  # the NONE notes are dropped


# ---- LLMMathChain ---------------------------------------------------------------------------------


def math_flow(models: ModelServer) -> dict:
    return flow(*base_nodes(models, component_node("LLMMathChain-1", "LLMMathChain")))


async def test_llm_math_chain_evaluates_the_models_expression(models: ModelServer) -> None:
    models.script(["```text\n37593 * 67 + sqrt(16)\n```"])
    assert await answer(math_flow(models), "What is 37593 times 67, plus the root of 16?") == "Answer: 2518735"
    assert "```text" in chats(models)[0]["messages"][0]["content"]


async def test_llm_math_chain_never_runs_code_the_model_writes(models: ModelServer) -> None:
    models.script(["```text\n__import__('os').system('touch /tmp/pwned')\n```"])
    with pytest.raises(FlowError, match="cannot be computed"):
        await answer(math_flow(models), "do it")


def test_the_math_evaluator_is_arithmetic_only() -> None:
    assert evaluate_math("2 ** 10 - 24 / 4") == 1018
    assert evaluate_math("round(pi * 100) + factorial(5) + 2^3") == 314 + 120 + 8
    for bad in ("().__class__", "x", "open('f')", "9 ** 9 ** 9", "factorial(1000)", "1/0", "[1, 2]", "sqrt(-1)", "abs(x=1)"):
        with pytest.raises(ExpressionError):
            evaluate_math(bad)


# ---- LLMCheckerChain -----------------------------------------------------------------------------


async def test_llm_checker_chain_drafts_checks_and_revises(models: ModelServer) -> None:
    models.script(["Mammals lay no eggs.", "- no mammal lays eggs", "- false: the platypus lays eggs", "The platypus is a mammal that lays eggs."])
    exported = flow(*base_nodes(models, component_node("LLMCheckerChain-1", "LLMCheckerChain")))
    assert await answer(exported, "Which mammal lays the biggest eggs?") == "The platypus is a mammal that lays eggs."
    calls = chats(models)
    assert len(calls) == 4
    assert "Mammals lay no eggs." in calls[1]["messages"][-1]["content"]
    assert "the platypus lays eggs" in calls[3]["messages"][-1]["content"]


# ---- SQL --------------------------------------------------------------------------------------------


def sql_flow(models: ModelServer, **values: Any) -> dict:
    nodes, edges = base_nodes(models, component_node("SQLGenerator-1", "SQLGenerator", **values))
    nodes.append(component_node("SQLDatabase-1", "SQLDatabase", uri="sqlite:///shop.db"))
    edges.append(edge("SQLDatabase-1", "SQLDatabase", "SQLGenerator-1", "db", output_types=("SQLDatabase",), input_types=("SQLDatabase",)))
    return flow(nodes, edges)


async def test_sql_generator_writes_a_query_from_the_schema(models: ModelServer, tmp_path: Any) -> None:
    with sqlite3.connect(tmp_path / "shop.db") as db:
        db.execute("create table products (name text, price real)")
        db.executemany("insert into products values (?, ?)", [("tea", 3.5), ("coffee", 4.0)])
    settings = EngineSettings(allow_loopback=True, http_retries=0, sqlite_root=str(tmp_path))
    models.script(["SQLQuery: SELECT name FROM products ORDER BY price DESC LIMIT 3\nSQLResult: x"])
    query = await answer(sql_flow(models, top_k=3), "Dearest product?", settings=settings)
    assert query == "SELECT name FROM products ORDER BY price DESC LIMIT 3"
    prompt = chats(models)[0]["messages"][-1]["content"]
    assert "CREATE TABLE products" in prompt and '"tea"' in prompt and "at most 3 rows" in prompt and "sqlite" in prompt
    assert prompt.endswith("Question: Dearest product?")
    models.script(["SELECT 1"])
    await answer(sql_flow(models, prompt="Schema: {table_info}\nQ: {question}"), "one?", settings=settings)
    assert chats(models)[-1]["messages"][-1]["content"].endswith("Q: one?")
    with pytest.raises(ConfigurationError, match="must contain `\\{question\\}`"):
        await answer(sql_flow(models, prompt="no placeholder"), "x", settings=settings)


# ---- VectorStoreInfo, router agent, RunnableExecutor ------------------------------------------------


def router_flow(models: ModelServer, astra: AstraServer, *, via_executor: bool = False) -> dict:
    router = component_node("Router-1", "VectorStoreRouterAgent")
    nodes, edges = base_nodes(models, router, output="response")
    nodes += astra_nodes(models, astra)
    nodes.append(component_node("Info-1", "VectorStoreInfo", vectorstore_name="company policies", vectorstore_description="refunds and opening hours"))
    nodes.append(component_node("Info-2", "VectorStoreInfo", vectorstore_name="birds", vectorstore_description="parrots"))
    edges += astra_edges()
    for info in ("Info-1", "Info-2"):
        edges.append(edge("Astra-1", "vectorstoreconnection", info, "input_vectorstore", **VS))
        edges.append(edge(info, "info", "Router-1", "vectorstores", output_types=("VectorStoreInfo",), input_types=("VectorStoreInfo",)))
    if via_executor:
        nodes.append(component_node("Exec-1", "RunnableExecutor"))
        edges = [e for e in edges if e["target"] != "ChatOutput-1" and not (e["target"] == "Router-1" and e["targetHandle"].find("input_value") >= 0)]
        edges += [edge("ChatInput-1", "message", "Exec-1", "input_value"),
                  edge("Router-1", "agent", "Exec-1", "runnable", output_types=("AgentExecutor",), input_types=("AgentExecutor",)),
                  edge("Exec-1", "text", "ChatOutput-1", "input_value")]
    return flow(nodes, edges)


@pytest.mark.parametrize("via_executor", [False, True])
async def test_the_router_agent_asks_the_right_store(models: ModelServer, astra: AstraServer, via_executor: bool) -> None:
    models.script([{"tool_calls": [{"name": "company_policies", "arguments": {"query": "When are refunds paid?"}}]},
                   "Within fourteen days.", "Refunds take fourteen days."])
    assert await answer(router_flow(models, astra, via_executor=via_executor), "refund delay?") == "Refunds take fourteen days."
    first, inner, last = chats(models)
    assert sorted(t["function"]["name"] for t in first["tools"]) == ["birds", "company_policies"]
    assert "Refunds are paid within fourteen days" in inner["messages"][-1]["content"]
    assert last["messages"][-1]["role"] == "tool" and last["messages"][-1]["content"] == "Within fourteen days."


async def test_runnable_executor_needs_an_agent(models: ModelServer) -> None:
    nodes = [component_node("ChatInput-1", "ChatInput"), component_node("Exec-1", "RunnableExecutor"), component_node("ChatOutput-1", "ChatOutput")]
    edges = [edge("ChatInput-1", "message", "Exec-1", "input_value"), edge("ChatInput-1", "message", "Exec-1", "runnable"),
             edge("Exec-1", "text", "ChatOutput-1", "input_value")]
    with pytest.raises(ConfigurationError, match="AgentExecutor"):
        await answer(flow(nodes, edges), "hi")


# ---- SelfQueryRetriever --------------------------------------------------------------------------


def self_query_flow(models: ModelServer, astra: AstraServer) -> dict:
    fields = [{"name": "source", "description": "the file", "type": "string"}, {"name": "year", "description": "year written", "type": "integer"}]
    nodes = [component_node("ChatInput-1", "ChatInput"),
             component_node("OpenAIModel-1", "OpenAIModel", model_name="gpt-4o-mini", openai_api_base=models.base_url),
             component_node("SQR-1", "SelfQueryRetriever", attribute_infos=fields, document_content_description="company notes"),
             *astra_nodes(models, astra)]
    edges = [edge("ChatInput-1", "message", "SQR-1", "query"), edge("OpenAIModel-1", "model_output", "SQR-1", "llm", **LM),
             *astra_edges(), edge("Astra-1", "vectorstoreconnection", "SQR-1", "vectorstore", **VS)]
    return flow(nodes, edges)


async def test_self_query_retriever_searches_with_the_models_filter(models: ModelServer, astra: AstraServer) -> None:
    from flowless_engine.api import arun_flow_from_json as run_json

    models.script(['{"query": "parrots", "filter": "and(eq(\\"source\\", \\"birds.md\\"), gte(\\"year\\", 2000))", "limit": null}'])
    variables = {"ASTRA_DB_APPLICATION_TOKEN": TOKEN, "OPENAI_API_KEY": "sk-test"}
    outputs = await run_json(self_query_flow(models, astra), "parrot notes written since 2000", variables=variables, settings=SETTINGS,
                             output_type="any", output_component="SQR-1")
    docs = outputs[0]["outputs"][0]["results"]["documents"]
    texts = [d["text"] if isinstance(d, dict) and "text" in d else d["data"]["text"] for d in docs]
    assert texts == ["Parrots live for decades in captivity"]
    prompt = chats(models)[0]["messages"][0]["content"]
    assert "- year (integer): year written" in prompt and "company notes" in prompt

    models.script(['{"query": "x", "filter": "eq(\\"author\\", \\"me\\")"}'])
    with pytest.raises(ComponentError, match="undeclared metadata fields: author"):
        await run_json(self_query_flow(models, astra), "by me", variables=variables, settings=SETTINGS)


def test_the_filter_language() -> None:
    tree = parse_filter('or(in("genre", ["a", \'b\']), not(lt("rating", 8.5)), eq("ok", true))')
    assert matches(tree, {"genre": "b"}) and matches(tree, {"rating": 9}) and matches(tree, {"ok": True})
    assert not matches(tree, {"genre": "c", "rating": 2})
    assert parse_filter("NO_FILTER") is None
    for bad in ("eq(genre)", "__import__('os')", 'and("x")', 'eq("a", 1) extra', "eq('a', 1"):
        with pytest.raises(FilterSyntaxError):
            parse_filter(bad)
