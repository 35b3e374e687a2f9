"""The provider choice inside 1.13's Language Model / Agent (`model` list) and inside older Agents
(`agent_llm` + that provider's fields, older field names included), through the engine against
the protocol servers; credentials from the tenant's variables."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from flowless_engine.api import arun_flow_from_json
from flowless_engine.settings import EngineSettings
from tests.support.flows import edge, flow, node
from tests.support.gemini_server import GeminiServer
from tests.support.model_server import ModelServer
from tests.support.watsonx_server import WatsonxServer

SETTINGS = EngineSettings(allow_loopback=True, http_retries=1, http_timeout_s=5)


@pytest.fixture(scope="module")
def openai_like() -> Iterator[ModelServer]:
    with ModelServer() as server:
        yield server


@pytest.fixture(scope="module")
def gemini() -> Iterator[GeminiServer]:
    with GeminiServer() as server:
        yield server


@pytest.fixture(scope="module")
def watsonx() -> Iterator[WatsonxServer]:
    with WatsonxServer() as server:
        yield server


def with_fields(made: dict[str, Any], fields: dict[str, Any], *, from_db: tuple[str, ...] = ()) -> dict[str, Any]:
    """Add an export's extra fields to a node (the older Agent carried its provider's fields)."""
    template = made["data"]["node"]["template"]
    for name, value in fields.items():
        template[name] = {"name": name, "type": "str", "value": value, "show": True, "load_from_db": name in from_db, "input_types": []}
    return made


def chat(model_node: dict[str, Any], output: str = "text_output") -> dict[str, Any]:
    model_id = model_node["id"]
    return flow("choice", [node("ChatInput-i1", "ChatInput"), model_node, node("ChatOutput-o1", "ChatOutput")], [
        edge("ChatInput-i1", "message", model_id, "input_value"),
        edge(model_id, output, "ChatOutput-o1", "input_value"),
    ])


def answer(result: list[Any]) -> str:
    return result[0]["outputs"][0]["results"]["message"]["text"]


async def test_language_model_with_gemini_from_the_model_list(gemini: GeminiServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("flowless_engine.llm.gemini.GEMINI_BASE_URL", gemini.url)
    gemini.reset()
    model = node("LanguageModelComponent-l1", "LanguageModelComponent", {"model": [{"name": "gemini-2.5-pro", "provider": "Google Generative AI"}]})
    result = await arun_flow_from_json(chat(model), "hi gemini", settings=SETTINGS, variables={"GOOGLE_API_KEY": "tenant-google"})
    assert answer(result) == "Echo: hi gemini"
    [request] = gemini.requests
    assert request.path == "/v1beta/models/gemini-2.5-pro:generateContent" and request.headers["x-goog-api-key"] == "tenant-google"


async def test_language_model_with_watsonx_from_the_model_list(watsonx: WatsonxServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("flowless_engine.llm.watsonx.IAM_URL", watsonx.iam_url)
    monkeypatch.setattr("flowless_engine.llm.watsonx._TOKENS", {})
    watsonx.reset()
    model = with_fields(node("LanguageModelComponent-l1", "LanguageModelComponent", {"model": [{"name": "ibm/granite-3-8b-instruct", "provider": "IBM WatsonX"}]}),
                        {"base_url_ibm_watsonx": watsonx.url, "project_id": "proj-7"})
    result = await arun_flow_from_json(chat(model), "hi granite", settings=SETTINGS, variables={"WATSONX_APIKEY": "wx-key"})
    assert answer(result) == "Echo: hi granite"
    token, call = watsonx.requests
    assert token.path == "/identity/token" and "apikey=wx-key" in token.body
    assert call.body["model_id"] == "ibm/granite-3-8b-instruct" and call.body["project_id"] == "proj-7"


async def test_language_model_with_groq_from_the_model_list(openai_like: ModelServer, monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    from flowless_engine.llm import providers

    monkeypatch.setitem(providers.PROVIDERS, "groq", dataclasses.replace(providers.PROVIDERS["groq"], base_url=openai_like.base_url))
    openai_like.reset()
    model = node("LanguageModelComponent-l1", "LanguageModelComponent", {"model": [{"name": "llama-3.3-70b-versatile", "provider": "Groq"}]})
    result = await arun_flow_from_json(chat(model), "hi groq", settings=SETTINGS, variables={"GROQ_API_KEY": "tenant-groq"})
    assert answer(result) == "Echo: hi groq"
    assert openai_like.requests[-1].headers["authorization"] == "Bearer tenant-groq"


def older_agent(agent_llm: str, fields: dict[str, Any], from_db: tuple[str, ...] = ()) -> dict[str, Any]:
    agent = node("Agent-a1", "Agent", {"add_current_date_tool": False, "add_calculator_tool": True})
    del agent["data"]["node"]["template"]["model"]  # ≈1.1–1.6 Agents had no `model` list
    return with_fields(agent, {"agent_llm": agent_llm, **fields}, from_db=from_db)


async def test_an_older_groq_agent_with_its_older_field_names(openai_like: ModelServer) -> None:
    openai_like.reset()
    agent = older_agent("Groq", {"groq_api_key": "gsk-old", "groq_api_base": openai_like.url, "model_name": "llama-3.1-8b-instant", "temperature": 0.1})
    result = await arun_flow_from_json(chat(agent, "response"), "what is 6 * 7?", settings=SETTINGS)
    assert answer(result) == 'The answer is {"result": "42"}.'
    first, second = openai_like.requests
    assert first.path == "/openai/v1/chat/completions" and first.headers["authorization"] == "Bearer gsk-old"
    assert first.body["model"] == "llama-3.1-8b-instant" and "evaluate_expression" in str(first.body["tools"])


async def test_an_older_azure_agent_reads_endpoint_and_deployment_from_variables(openai_like: ModelServer) -> None:
    openai_like.reset()
    agent = older_agent("Azure OpenAI", {"api_key": "AZ_KEY", "azure_endpoint": "AZ_ENDPOINT", "azure_deployment": "AZ_DEPLOYMENT", "api_version": "2024-06-01"},
                        from_db=("api_key", "azure_endpoint", "azure_deployment"))
    variables = {"AZ_KEY": "az-secret", "AZ_ENDPOINT": openai_like.url, "AZ_DEPLOYMENT": "gpt-4o-mini-prod"}
    result = await arun_flow_from_json(chat(agent, "response"), "hello", settings=SETTINGS, variables=variables)
    assert answer(result) == "Echo: hello"
    [request] = openai_like.requests
    assert request.path == "/openai/deployments/gpt-4o-mini-prod/chat/completions?api-version=2024-06-01"
    assert request.headers["api-key"] == "az-secret"


async def test_an_older_gemini_agent(gemini: GeminiServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("flowless_engine.llm.gemini.GEMINI_BASE_URL", gemini.url)
    gemini.reset()
    agent = older_agent("Google Generative AI", {"api_key": "g-key", "model_name": "gemini-2.5-pro", "max_output_tokens": 256, "temperature": 0.2})
    result = await arun_flow_from_json(chat(agent, "response"), "what is 2 + 3?", settings=SETTINGS)
    assert answer(result) == 'The answer is {"result": "5"}.'
    first = gemini.requests[0]
    assert first.body["generationConfig"] == {"temperature": 0.2, "maxOutputTokens": 256}
    assert first.body["tools"][0]["functionDeclarations"][0]["name"] == "evaluate_expression"


@pytest.mark.parametrize("provider, fields, variables, path, auth", [
    ("vLLM", {"vllm_base_url": "{base}"}, {}, "/v1/chat/completions", None),
    ("OpenAI Compatible", {}, {"OPENAI_COMPATIBLE_BASE_URL": "{url}", "OPENAI_COMPATIBLE_API_KEY": "oc-key"}, "/v1/chat/completions", ("authorization", "Bearer oc-key")),
    ("Azure OpenAI", {}, {"AZURE_OPENAI_ENDPOINT": "{url}", "AZURE_OPENAI_API_KEY": "az-key", "OPENAI_API_VERSION": "2024-06-01"},
     "/openai/deployments/served-model/chat/completions?api-version=2024-06-01", ("api-key", "az-key")),
    ("Azure AI Foundry", {}, {"AZURE_AI_FOUNDRY_ENDPOINT": "{url}", "AZURE_AI_FOUNDRY_API_KEY": "af-key"},
     "/models/chat/completions?api-version=2024-05-01-preview", ("api-key", "af-key")),
])
async def test_language_model_with_bundle_providers(provider: str, fields: dict[str, str], variables: dict[str, str], path: str,
                                                    auth: tuple[str, str] | None, openai_like: ModelServer) -> None:
    """Providers the 1.13 model list gets from bundles (lfx-vllm, lfx-openai-compatible) and Azure's two."""
    openai_like.reset()
    fill = {"{url}": openai_like.url, "{base}": openai_like.base_url}
    model = with_fields(node("LanguageModelComponent-l1", "LanguageModelComponent", {"model": [{"name": "served-model", "provider": provider}]}),
                        {k: fill.get(v, v) for k, v in fields.items()})
    result = await arun_flow_from_json(chat(model), "hi there", settings=SETTINGS, variables={k: fill.get(v, v) for k, v in variables.items()})
    assert answer(result) == "Echo: hi there"
    [request] = openai_like.requests
    assert request.path == path and request.body["model"] == "served-model"
    if auth is not None:
        assert request.headers[auth[0]] == auth[1]
