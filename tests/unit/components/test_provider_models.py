"""Every provider's chat-model node through the engine (arun_flow_from_json) against a local
server speaking that provider's wire protocol: the request (path, auth, model, temperature,
max tokens, system message), the answer, streaming tokens, usage in token_usage, tool calls
through the Agent (the node's model output wired in) and errors (401 names the provider, 429
retried, timeout)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from flowless_engine.api import arun_flow_from_json
from flowless_engine.components.registry import get_component_class
from flowless_engine.errors import ProviderAuthError, ProviderTimeoutError
from flowless_engine.llm import providers
from flowless_engine.runtime.services import ListEventSink
from flowless_engine.settings import EngineSettings
from tests.support.bedrock_server import BedrockServer
from tests.support.cohere_server import CohereServer
from tests.support.flows import edge, flow, node
from tests.support.gemini_server import GeminiServer
from tests.support.hf_server import HuggingFaceServer
from tests.support.model_server import ModelServer
from tests.support.watsonx_server import WatsonxServer

SETTINGS = EngineSettings(allow_loopback=True, http_retries=2, http_timeout_s=5)
SYSTEM = "Answer briefly."


def _table(key: str) -> Callable[[pytest.MonkeyPatch, ModelServer], None]:
    """Point a provider's default base URL (nodes without a URL field) at the test server."""

    def patch(monkeypatch: pytest.MonkeyPatch, server: ModelServer) -> None:
        monkeypatch.setitem(providers.PROVIDERS, key, dataclasses.replace(providers.PROVIDERS[key], base_url=server.base_url))

    return patch


def _constant(module: str, name: str, suffix: str = "") -> Callable[[pytest.MonkeyPatch, ModelServer], None]:
    def patch(monkeypatch: pytest.MonkeyPatch, server: ModelServer) -> None:
        monkeypatch.setattr(f"flowless_engine.llm.{module}.{name}", server.url + suffix)

    return patch


def _watsonx(monkeypatch: pytest.MonkeyPatch, server: WatsonxServer) -> None:  # type: ignore[override]
    monkeypatch.setattr("flowless_engine.llm.watsonx.IAM_URL", server.iam_url)
    monkeypatch.setattr("flowless_engine.llm.watsonx._TOKENS", {})


AWS = {"aws_access_key_id": "AKIDFLOWLESS", "aws_secret_access_key": "not-a-secret", "region_name": "us-east-1"}


def _fresh_bedrock(monkeypatch: pytest.MonkeyPatch, server: ModelServer) -> None:
    monkeypatch.setattr("flowless_engine.llm.bedrock._clients", {})  # botocore clients are cached per settings


@dataclasses.dataclass
class Case:
    type_name: str
    server: type[ModelServer]
    values: Callable[[ModelServer], dict[str, Any]]
    path: str  # the chat request's path (without the query)
    auth: Callable[[dict[str, str]], bool]
    model: str  # the model name the request carries
    patch: Callable[[pytest.MonkeyPatch, Any], None] | None = None
    max_tokens_field: str | None = "max_tokens"  # None: Langflow's node has no such field
    body_model_key: str = "model"

    def __str__(self) -> str:
        return self.type_name


def bearer(key: str) -> Callable[[dict[str, str]], bool]:
    return lambda headers: headers.get("authorization") == f"Bearer {key}"


CASES = [
    Case("GroqModel", ModelServer, lambda s: {"api_key": "gsk", "base_url": s.url, "model_name": "llama-3.1-8b-instant"},
         "/openai/v1/chat/completions", bearer("gsk"), "llama-3.1-8b-instant"),
    Case("OpenRouterComponent", ModelServer, lambda s: {"api_key": "or-key", "model_name": "openai/gpt-4o-mini", "app_name": "Flowless"},
         "/v1/chat/completions", lambda h: h.get("authorization") == "Bearer or-key" and h.get("x-title") == "Flowless", "openai/gpt-4o-mini",
         _table("openrouter")),
    Case("LMStudioModel", ModelServer, lambda s: {"base_url": s.base_url, "model_name": "qwen2.5-7b"},
         "/v1/chat/completions", lambda h: "authorization" not in h, "qwen2.5-7b"),
    Case("DeepSeekModelComponent", ModelServer, lambda s: {"api_key": "ds", "api_base": s.base_url, "model_name": "deepseek-chat"},
         "/v1/chat/completions", bearer("ds"), "deepseek-chat"),
    Case("xAIModel", ModelServer, lambda s: {"api_key": "xai", "base_url": s.base_url, "model_name": "grok-2-latest"},
         "/v1/chat/completions", bearer("xai"), "grok-2-latest"),
    Case("NVIDIAModelComponent", ModelServer, lambda s: {"api_key": "nv", "base_url": s.base_url, "model_name": "meta/llama-3.1-8b-instruct"},
         "/v1/chat/completions", bearer("nv"), "meta/llama-3.1-8b-instruct"),
    Case("SambaNovaModel", ModelServer, lambda s: {"api_key": "sn", "base_url": s.base_url, "model_name": "Meta-Llama-3.3-70B-Instruct"},
         "/v1/chat/completions", bearer("sn"), "Meta-Llama-3.3-70B-Instruct"),
    Case("OrcaRouterComponent", ModelServer, lambda s: {"api_key": "orca", "model_name": "auto"},
         "/v1/chat/completions", bearer("orca"), "auto", _table("orcarouter")),
    Case("PerplexityModel", ModelServer, lambda s: {"api_key": "pplx", "model_name": "sonar"},
         "/v1/chat/completions", bearer("pplx"), "sonar", _table("perplexity")),
    Case("MistralModel", ModelServer, lambda s: {"api_key": "mi", "mistral_api_base": s.base_url, "model_name": "mistral-small-latest"},
         "/v1/chat/completions", bearer("mi"), "mistral-small-latest"),
    Case("NovitaModel", ModelServer, lambda s: {"api_key": "nov", "model_name": "meta-llama/llama-3.1-8b-instruct"},
         "/v1/chat/completions", bearer("nov"), "meta-llama/llama-3.1-8b-instruct", _table("novita")),
    Case("Maritalk", ModelServer, lambda s: {"api_key": "mt", "model_name": "sabia-2-small"},
         "/v1/chat/completions", bearer("mt"), "sabia-2-small", _table("maritalk")),
    Case("AzureOpenAIModel", ModelServer, lambda s: {"api_key": "az", "azure_endpoint": s.url, "azure_deployment": "gpt4o", "api_version": "2024-10-21"},
         "/openai/deployments/gpt4o/chat/completions", lambda h: h.get("api-key") == "az" and "authorization" not in h, "gpt4o"),
    Case("AnthropicModel", ModelServer, lambda s: {"api_key": "ak", "base_url": s.url, "model_name": "claude-3-5-haiku-latest"},
         "/v1/messages", lambda h: h.get("x-api-key") == "ak" and h.get("anthropic-version") == "2023-06-01", "claude-3-5-haiku-latest"),
    Case("AmazonBedrockConverseModel", BedrockServer, lambda s: {**AWS, "endpoint_url": s.url, "model_id": "amazon.nova-lite-v1"},
         "/model/amazon.nova-lite-v1/converse", lambda h: h.get("authorization", "").startswith("AWS4-HMAC-SHA256 Credential=AKIDFLOWLESS/"),
         "", _fresh_bedrock),
    Case("AmazonBedrockModel", BedrockServer, lambda s: {**AWS, "endpoint_url": s.url, "model_id": "amazon.nova-micro-v1",
                                                         "model_kwargs": {"temperature": 0.3, "max_tokens": 77}},
         "/model/amazon.nova-micro-v1/converse", lambda h: "Credential=AKIDFLOWLESS/" in h.get("authorization", ""), "", _fresh_bedrock,
         max_tokens_field=None),
    Case("OllamaModel", ModelServer, lambda s: {"base_url": s.url, "model_name": "llama3.2"},
         "/api/chat", lambda h: "authorization" not in h, "llama3.2", max_tokens_field=None),
    Case("GoogleGenerativeAIModel", GeminiServer, lambda s: {"api_key": "gk", "model_name": "gemini-2.5-flash"},
         "/v1beta/models/gemini-2.5-flash:generateContent", lambda h: h.get("x-goog-api-key") == "gk", "",
         _constant("gemini", "GEMINI_BASE_URL"), max_tokens_field="max_output_tokens"),
    Case("CohereModel", CohereServer, lambda s: {"cohere_api_key": "co"},
         "/v2/chat", bearer("co"), "command-r-plus-08-2024", _constant("cohere", "COHERE_BASE_URL"), max_tokens_field=None),
    Case("IBMwatsonxModel", WatsonxServer, lambda s: {"api_key": "wx", "base_url": s.url, "project_id": "proj-1", "model_name": "ibm/granite-3-8b-instruct"},
         "/ml/v1/text/chat", bearer("iam-xw"), "ibm/granite-3-8b-instruct", _watsonx, body_model_key="model_id"),
    Case("HuggingFaceModel", HuggingFaceServer, lambda s: {"huggingfacehub_api_token": "hf", "inference_endpoint": s.url + "/generate",
                                                           "model_id": "meta-llama/Llama-3.3-70B-Instruct"},
         "/generate", bearer("hf"), "", max_tokens_field="max_new_tokens"),
    Case("HuggingFaceModel", HuggingFaceServer, lambda s: {"huggingfacehub_api_token": "hf", "model_id": "meta-llama/Llama-3.1-8B-Instruct"},
         "/v1/chat/completions", bearer("hf"), "meta-llama/Llama-3.1-8B-Instruct", _constant("huggingface", "ROUTER_CHAT_URL", "/v1"),
         max_tokens_field="max_new_tokens"),
]
# Providers whose protocol has tool calling (Langflow's Hugging Face endpoint node has none).
TOOL_CASES = [c for c in CASES if c.path not in ("/generate",)]


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[type, ModelServer]]:
    made: dict[type, ModelServer] = {}
    try:
        for case in CASES:
            if case.server not in made:
                made[case.server] = case.server()
        yield made
    finally:
        for server in made.values():
            server.close()


def _ready(case: Case, servers: dict[type, ModelServer], monkeypatch: pytest.MonkeyPatch) -> Case:
    server = servers[case.server]
    server.reset()
    server.chunk_delay_s = 0
    if case.patch is not None:
        case.patch(monkeypatch, server)
    return case


def _ids(cases: list[Case]) -> list[str]:
    return [f"{c.type_name}-{c.path.rsplit('/', 1)[-1]}" for c in cases]


@pytest.fixture(params=CASES, ids=_ids(CASES))
def case(request: pytest.FixtureRequest, servers: dict[type, ModelServer], monkeypatch: pytest.MonkeyPatch) -> Case:
    return _ready(request.param, servers, monkeypatch)


@pytest.fixture(params=TOOL_CASES, ids=_ids(TOOL_CASES))
def tool_case(request: pytest.FixtureRequest, servers: dict[type, ModelServer], monkeypatch: pytest.MonkeyPatch) -> Case:
    return _ready(request.param, servers, monkeypatch)


def provider_node(node_id: str, type_name: str, values: dict[str, Any]) -> dict[str, Any]:
    """The node with literal values: a key typed into the field, not a variable's name."""
    made = node(node_id, type_name, values)
    template = made["data"]["node"]["template"]
    for name in values:
        template[name]["load_from_db"] = False
    if "custom_model" in template:  # Langflow shows it only when the model choice is "custom"
        template["custom_model"]["show"] = False
    return made


def llm_flow(case: Case, server: ModelServer, **values: Any) -> dict[str, Any]:
    has_temperature = any(i.name == "temperature" for i in get_component_class(case.type_name).inputs)
    settings = {**case.values(server), "system_message": SYSTEM, **({"temperature": 0.3} if has_temperature else {}), **values}
    if case.max_tokens_field:
        settings[case.max_tokens_field] = 77
    model_id = f"{case.type_name}-m1"
    return flow(
        f"{case.type_name} chat",
        [node("ChatInput-i1", "ChatInput"), provider_node(model_id, case.type_name, settings), node("ChatOutput-o1", "ChatOutput")],
        [edge("ChatInput-i1", "message", model_id, "input_value"), edge(model_id, "text_output", "ChatOutput-o1", "input_value")],
    )


def chat_requests(server: ModelServer, case: Case) -> list[Any]:
    return [r for r in server.requests if r.path.split("?")[0].startswith(case.path.split(":")[0])]


async def test_a_provider_node_answers_and_sends_the_provider_request(case: Case, servers: dict[type, ModelServer]) -> None:
    server = servers[case.server]
    result = await arun_flow_from_json(llm_flow(case, server), "hello there", settings=SETTINGS, output_type="debug")
    by_id = {o["component_id"]: o for o in result[0]["outputs"]}
    answer = by_id["ChatOutput-o1"]["results"]["message"]["text"]
    assert answer == "Echo: hello there"
    [request] = chat_requests(server, case)
    assert request.path.split("?")[0] == case.path
    assert case.auth(request.headers), request.headers
    body = request.body
    if case.model:
        assert body[case.body_model_key] == case.model
    text = str(body)
    assert SYSTEM in text and "hello there" in text  # the system message and the input reach the wire
    assert "0.3" in text  # the temperature too, and the max tokens, under the provider's names
    assert case.max_tokens_field is None or "77" in text
    usage = by_id[f"{case.type_name}-m1"]["token_usage"]
    assert usage is not None and usage["output_tokens"] == 3 and usage["total_tokens"] == usage["input_tokens"] + 3


async def test_a_provider_node_streams_tokens(case: Case, servers: dict[type, ModelServer]) -> None:
    server = servers[case.server]
    sink = ListEventSink()
    result = await arun_flow_from_json(llm_flow(case, server, stream=True), "one two three four", settings=SETTINGS, events=sink, stream=True)
    tokens = [e["data"]["chunk"] for e in sink.events if e["event"] == "token"]
    assert len(tokens) >= 4 and "".join(tokens) == "Echo: one two three four"
    assert result[0]["outputs"][0]["results"]["message"]["text"] == "Echo: one two three four"


@pytest.mark.parametrize("streamed", [False, True])
async def test_the_agent_calls_tools_through_a_provider_node(tool_case: Case, servers: dict[type, ModelServer], streamed: bool) -> None:
    case = tool_case
    server = servers[case.server]
    model_id = f"{case.type_name}-m1"
    exported = flow(
        "agent",
        [
            node("ChatInput-i1", "ChatInput"),
            provider_node(model_id, case.type_name, case.values(server)),
            node("Agent-a1", "Agent", {"add_calculator_tool": True, "add_current_date_tool": False, "stream": streamed}),
            node("ChatOutput-o1", "ChatOutput"),
        ],
        [
            edge("ChatInput-i1", "message", "Agent-a1", "input_value"),
            edge(model_id, "model_output", "Agent-a1", "model", output_types=["LanguageModel"], input_types=["LanguageModel"]),
            edge("Agent-a1", "response", "ChatOutput-o1", "input_value"),
        ],
    )
    result = await arun_flow_from_json(exported, "what is 12 * (3 + 4)?", settings=SETTINGS, stream=streamed)
    assert result[0]["outputs"][0]["results"]["message"]["text"] == 'The answer is {"result": "84"}.'
    first, second = chat_requests(server, case)
    assert "evaluate_expression" in str(first.body) and "84" in str(second.body)  # the tool offered, its result sent back


async def test_a_rejected_key_names_the_provider(case: Case, servers: dict[type, ModelServer]) -> None:
    server = servers[case.server]
    server.fail_next(1, 401)
    with pytest.raises(ProviderAuthError) as caught:
        await arun_flow_from_json(llm_flow(case, server), "hi", settings=SETTINGS)
    assert caught.value.status == 401 and caught.value.provider and caught.value.provider in str(caught.value)
    assert len(server.requests) == 1  # not retried


async def test_rate_limits_and_server_errors_are_retried(case: Case, servers: dict[type, ModelServer]) -> None:
    server = servers[case.server]
    server.fail_next(1, 429, retry_after=0)
    server.fail_next(1, 503)
    result = await arun_flow_from_json(llm_flow(case, server), "again", settings=SETTINGS)
    assert result[0]["outputs"][0]["results"]["message"]["text"] == "Echo: again"


async def test_a_provider_that_does_not_answer_in_time_is_a_timeout(case: Case, servers: dict[type, ModelServer]) -> None:
    server = servers[case.server]
    quick = dataclasses.replace(SETTINGS, http_timeout_s=0.2, http_retries=0)
    own = {"timeout": 1} if any(i.name == "timeout" for i in get_component_class(case.type_name).inputs) else {}
    server.delay_s = 1.3 if own else 0.6  # a node with its own timeout field (seconds) uses it
    with pytest.raises(ProviderTimeoutError):
        await arun_flow_from_json(llm_flow(case, server, **own), "slow", settings=quick)
    server.delay_s = 0


async def test_ollama_structured_output_feeds_its_data_and_table_outputs(servers: dict[type, ModelServer]) -> None:
    server = servers[ModelServer]
    server.reset()
    rows = [{"name": "city", "description": "the city", "type": "str", "multiple": "False"},
            {"name": "population", "description": "people", "type": "int", "multiple": "False"}]
    values = {"base_url": server.url, "model_name": "llama3.2", "enable_structured_output": True, "format": rows}
    exported = flow("ollama", [
        node("ChatInput-i1", "ChatInput"), provider_node("OllamaModel-m1", "OllamaModel", values),
        node("ChatOutput-o1", "ChatOutput"),
    ], [
        edge("ChatInput-i1", "message", "OllamaModel-m1", "input_value"),
        edge("OllamaModel-m1", "data_output", "ChatOutput-o1", "input_value", output_types=["Data"]),
    ])
    result = await arun_flow_from_json(exported, "city is Lisbon", settings=SETTINGS, output_type="debug")
    by_id = {o["component_id"]: o for o in result[0]["outputs"]}
    assert by_id["OllamaModel-m1"]["results"]["data_output"]["data"] == {"city": "Lisbon", "population": 1}
    [request] = server.requests
    assert request.body["format"]["properties"] == {"city": {"type": "string", "description": "the city"},
                                                    "population": {"type": "integer", "description": "people"}}


async def test_bedrock_converse_disable_streaming_answers_at_once(servers: dict[type, ModelServer], monkeypatch: pytest.MonkeyPatch) -> None:
    server = servers[BedrockServer]
    server.reset()
    _fresh_bedrock(monkeypatch, server)
    values = {**AWS, "endpoint_url": server.url, "model_id": "amazon.nova-lite-v1", "stream": True, "disable_streaming": True}
    exported = flow("bedrock", [node("ChatInput-i1", "ChatInput"), provider_node("AmazonBedrockConverseModel-m1", "AmazonBedrockConverseModel", values),
                                node("ChatOutput-o1", "ChatOutput")],
                    [edge("ChatInput-i1", "message", "AmazonBedrockConverseModel-m1", "input_value"),
                     edge("AmazonBedrockConverseModel-m1", "text_output", "ChatOutput-o1", "input_value")])
    result = await arun_flow_from_json(exported, "no stream please", settings=SETTINGS, stream=True)
    assert result[0]["outputs"][0]["results"]["message"]["text"] == "Echo: no stream please"
    assert [r.path for r in server.requests] == ["/model/amazon.nova-lite-v1/converse"]


async def test_gemini_thought_signatures_go_back_with_the_tool_calls(servers: dict[type, ModelServer], monkeypatch: pytest.MonkeyPatch) -> None:
    """Thinking models sign their function calls; the signature is returned with the call in the next turn."""
    from flowless_engine.http import HttpClient
    from flowless_engine.llm.base import ChatMessage, ModelConfig
    from flowless_engine.llm.gemini import GeminiChatModel

    server = servers[GeminiServer]
    server.reset()
    http = HttpClient(allow_loopback=True, retries=0)
    model = GeminiChatModel(ModelConfig("Google Generative AI", "gemini-2.5-pro", "k", server.url), http)
    payload = {"candidates": [{"content": {"role": "model", "parts": [
        {"functionCall": {"name": "evaluate_expression", "args": {"expression": "2+2"}}, "thoughtSignature": "c2lnbmVk"}]}, "finishReason": "STOP"}]}
    calls: list[Any] = []
    model._read(payload, [], calls)
    assert calls[0].name == "evaluate_expression"
    turns = [ChatMessage("user", "2+2?"), ChatMessage("assistant", None, tool_calls=calls),
             ChatMessage("tool", "4", tool_call_id=calls[0].id, name="evaluate_expression")]
    await model.complete(turns)
    sent = server.requests[-1].body["contents"]
    assert sent[1]["parts"][0] == {"functionCall": {"name": "evaluate_expression", "args": {"expression": "2+2"}}, "thoughtSignature": "c2lnbmVk"}
    assert sent[2]["parts"][0]["functionResponse"] == {"name": "evaluate_expression", "response": {"result": "4"}}
    await http.aclose()
