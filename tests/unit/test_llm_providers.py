"""Every chat-model provider over real HTTP against the fake model server (Bedrock through
botocore's Stubber: no network, no AWS)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from flowless_engine.errors import BlockedURLError, ProviderAuthError, ConfigurationError, ProviderError, ProviderTimeoutError
from flowless_engine.http import HttpClient
from flowless_engine.llm.bedrock import BedrockChatModel
from flowless_engine.llm.base import ChatMessage, ChatModel, ChatResult, ModelConfig, ToolCall, ToolSpec
from flowless_engine.llm.factory import get_chat_model
from flowless_engine.schema import Usage
from tests.support.model_server import ModelServer

PROVIDERS = ["OpenAI", "Anthropic", "Ollama"]
CALCULATOR = ToolSpec("calculator", "Evaluate arithmetic.", {"type": "object", "properties": {"expression": {"type": "string"}}, "required": ["expression"]})
PERSON = {
    "title": "Person",
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}, "tags": {"type": "array", "items": {"type": "string"}}},
}
PIXEL = "data:image/png;base64," + base64.b64encode(b"\x89PNG fake").decode()


@pytest.fixture(scope="module")
def server() -> Iterator[ModelServer]:
    with ModelServer() as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh(server: ModelServer) -> None:
    server.reset()
    server.chunk_delay_s = 0


@pytest.fixture
async def http() -> AsyncIterator[HttpClient]:
    client = HttpClient(timeout_s=5, retries=2, allow_loopback=True, backoff_s=0.01)
    yield client
    await client.aclose()


def model_for(provider: str, server: ModelServer, http: HttpClient, **config: Any) -> ChatModel:
    base_url = server.base_url if provider == "OpenAI" else server.url
    return get_chat_model(ModelConfig(provider, config.pop("model", "fake-model"), api_key="test-key", base_url=base_url, **config), http)


async def collect(model: ChatModel, messages: list[ChatMessage], **kwargs: Any) -> tuple[list[str], ChatResult]:
    items = [item async for item in model.stream(messages, **kwargs)]
    *deltas, final = items
    assert all(isinstance(d, str) for d in deltas) and isinstance(final, ChatResult)
    return deltas, final


def tool_round(result: ChatResult, answer: str) -> list[ChatMessage]:
    call = result.tool_calls[0]
    return [
        ChatMessage("user", "what is 12 * (3 + 4)?"),
        ChatMessage("assistant", None, tool_calls=[call]),
        ChatMessage("tool", answer, tool_call_id=call.id, name=call.name),
    ]


# --- behaviour shared by the HTTP providers ---


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_complete_answers_with_usage(provider: str, server: ModelServer, http: HttpClient) -> None:
    model = model_for(provider, server, http)
    result = await model.complete([ChatMessage("system", "Be brief."), ChatMessage("user", "hello there")])
    assert result.text == "Echo: hello there"
    assert result.usage == Usage(4, 3, 7)
    assert result.model == "fake-model"
    assert result.finish_reason == "stop"
    assert result.tool_calls == []


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_stream_yields_deltas_as_they_arrive_then_one_result(provider: str, server: ModelServer, http: HttpClient) -> None:
    server.chunk_delay_s = 0.04
    model = model_for(provider, server, http)
    started = time.monotonic()
    arrivals: list[float] = []
    items: list[str | ChatResult] = []
    async for item in model.stream([ChatMessage("user", "one two three four five")]):
        arrivals.append(time.monotonic() - started)
        items.append(item)
    *deltas, final = items
    assert deltas == ["Echo:", " one", " two", " three", " four", " five"]
    assert arrivals[-1] - arrivals[0] >= 0.15  # the first token came well before the end
    assert isinstance(final, ChatResult)
    assert final.text == "Echo: one two three four five"
    assert final.usage == Usage(5, 6, 11)
    assert final.finish_reason == "stop"


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("streamed", [False, True], ids=["complete", "stream"])
async def test_tool_call_then_tool_result(provider: str, streamed: bool, server: ModelServer, http: HttpClient) -> None:
    model = model_for(provider, server, http)
    question = [ChatMessage("user", "what is 12 * (3 + 4)?")]
    if streamed:
        deltas, result = await collect(model, question, tools=[CALCULATOR])
        assert deltas == []
    else:
        result = await model.complete(question, tools=[CALCULATOR])
    assert len(result.tool_calls) == 1
    call = result.tool_calls[0]
    assert call.name == "calculator" and call.id
    assert json.loads(call.arguments) == {"expression": "12 * (3 + 4)"}
    assert result.finish_reason == "tool_calls"

    follow_up = tool_round(result, "84")
    if streamed:
        _, answer = await collect(model, follow_up, tools=[CALCULATOR])
    else:
        answer = await model.complete(follow_up, tools=[CALCULATOR])
    assert answer.text == "The answer is 84."
    assert answer.tool_calls == []


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_json_schema_answer(provider: str, server: ModelServer, http: HttpClient) -> None:
    model = model_for(provider, server, http)
    result = await model.complete([ChatMessage("user", "My name is Ada and I like maths")], json_schema=PERSON)
    assert json.loads(result.text) == {"name": "Ada", "age": 1, "tags": ["sample"]}
    assert result.tool_calls == []


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("status, retryable", [(400, False), (401, False), (429, True), (500, True)])
async def test_http_errors_become_provider_errors(provider: str, status: int, retryable: bool, server: ModelServer) -> None:
    http = HttpClient(retries=0, allow_loopback=True)
    server.fail_next(1, status=status)
    with pytest.raises(ProviderError) as caught:
        await model_for(provider, server, http).complete([ChatMessage("user", "hi")])
    error = caught.value
    assert (error.status, error.retryable, error.provider) == (status, retryable, provider)
    said = "refused the credentials" if status == 401 else "returned"  # 401/403: ProviderAuthError, a 422 at the API
    assert error.message == f"{provider} {said} {status}: injected failure ({status})".replace(f"credentials {status}", f"credentials ({status})")
    assert isinstance(error, ProviderAuthError) == (status == 401)
    await http.aclose()


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_stream_http_error_becomes_provider_error(provider: str, server: ModelServer, http: HttpClient) -> None:
    server.fail_next(1, status=404)
    with pytest.raises(ProviderError) as caught:
        await collect(model_for(provider, server, http), [ChatMessage("user", "hi")])
    assert caught.value.status == 404


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("streamed", [False, True], ids=["complete", "stream"])
async def test_transient_failures_are_retried(provider: str, streamed: bool, server: ModelServer, http: HttpClient) -> None:
    server.fail_next(2, status=503)
    model = model_for(provider, server, http)
    messages = [ChatMessage("user", "hi")]
    result = (await collect(model, messages))[1] if streamed else await model.complete(messages)
    assert result.text == "Echo: hi"
    assert len(server.requests) == 3


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("streamed", [False, True], ids=["complete", "stream"])
async def test_timeout_becomes_provider_timeout(provider: str, streamed: bool, server: ModelServer, http: HttpClient) -> None:
    server.delay_s = 0.4
    model = model_for(provider, server, http, extra={"timeout": 0.1})
    messages = [ChatMessage("user", "hi")]
    with pytest.raises(ProviderTimeoutError) as caught:
        if streamed:
            await collect(model, messages)
        else:
            await model.complete(messages)
    assert caught.value.code == "PROVIDER_TIMEOUT"


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("clean", [False, True], ids=["connection-dropped", "body-ended-early"])
async def test_broken_stream_becomes_provider_error(provider: str, clean: bool, server: ModelServer, http: HttpClient) -> None:
    server.break_stream_next(clean=clean)
    with pytest.raises(ProviderError) as caught:
        await collect(model_for(provider, server, http), [ChatMessage("user", "a b c d e f g h")])
    assert provider in caught.value.message
    assert caught.value.retryable


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_streams_leave_the_connection_reusable(provider: str, server: ModelServer, http: HttpClient) -> None:
    model = model_for(provider, server, http)
    for _ in range(2):
        await collect(model, [ChatMessage("user", "hi")])
    await model.complete([ChatMessage("user", "hi")])
    assert len({r.client for r in server.requests}) == 1  # one TCP connection for all three calls


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_scripted_replies_come_in_order(provider: str, server: ModelServer, http: HttpClient) -> None:
    server.script(["first", "second"])
    server.fail_next(1, status=503)  # the retried request still gets the first reply
    model = model_for(provider, server, http)
    assert (await model.complete([ChatMessage("user", "x")])).text == "first"
    assert (await collect(model, [ChatMessage("user", "x")]))[1].text == "second"
    assert (await model.complete([ChatMessage("user", "x")])).text == "Echo: x"


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_scripted_tool_call(provider: str, server: ModelServer, http: HttpClient) -> None:
    server.script([{"tool_calls": [{"name": "calculator", "arguments": {"expression": "2+2"}}]}])
    _, result = await collect(model_for(provider, server, http), [ChatMessage("user", "anything")], tools=[CALCULATOR])
    assert [(c.name, json.loads(c.arguments)) for c in result.tool_calls] == [("calculator", {"expression": "2+2"})]


# --- what each provider puts on the wire ---


async def test_openai_request_shape(server: ModelServer, http: HttpClient) -> None:
    model = model_for("OpenAI", server, http, temperature=0.2, max_tokens=0, extra={"seed": 7})
    await model.complete([ChatMessage("user", "look", images=[PIXEL])], tools=[CALCULATOR], json_schema=PERSON)
    sent = server.requests[-1]
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == "Bearer test-key"
    body = sent.body
    assert "max_tokens" not in body and body["temperature"] == 0.2 and body["seed"] == 7
    assert body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "look"}, {"type": "image_url", "image_url": {"url": PIXEL}}]}]
    assert body["tools"] == [{"type": "function", "function": {"name": "calculator", "description": "Evaluate arithmetic.", "parameters": CALCULATOR.parameters}}]
    assert body["tool_choice"] == "auto"
    assert body["response_format"] == {"type": "json_schema", "json_schema": {"name": "Person", "schema": PERSON, "strict": False}}

    await collect(model, [ChatMessage("user", "hi")])
    assert server.requests[-1].body["stream_options"] == {"include_usage": True}


async def test_openai_tool_turns_on_the_wire(server: ModelServer, http: HttpClient) -> None:
    model = model_for("OpenAI", server, http, max_tokens=50)
    await model.complete(tool_round(ChatResult("", [ToolCall("call_9", "calculator", '{"expression": "1+1"}')]), "2"))
    body = server.requests[-1].body
    assert body["max_tokens"] == 50
    assert body["messages"][1] == {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_9", "type": "function", "function": {"name": "calculator", "arguments": '{"expression": "1+1"}'}}]}
    assert body["messages"][2] == {"role": "tool", "tool_call_id": "call_9", "content": "2"}


async def test_openai_reasoning_models_get_max_completion_tokens_and_no_temperature(server: ModelServer, http: HttpClient) -> None:
    await model_for("OpenAI", server, http, model="o3-mini", temperature=0.5, max_tokens=100).complete([ChatMessage("user", "hi")])
    body = server.requests[-1].body
    assert body["max_completion_tokens"] == 100
    assert "temperature" not in body and "max_tokens" not in body


@pytest.mark.parametrize("suffix", ["", "/", "/v1"])
async def test_anthropic_base_url_with_or_without_version(suffix: str, server: ModelServer, http: HttpClient) -> None:
    model = get_chat_model(ModelConfig("anthropic", "claude", api_key="k", base_url=server.url + suffix), http)
    await model.complete([ChatMessage("user", "hi")])
    assert server.requests[-1].path == "/v1/messages"


async def test_anthropic_request_shape(server: ModelServer, http: HttpClient) -> None:
    model = model_for("Anthropic", server, http, temperature=0.3)
    calls = [ToolCall("toolu_1", "calculator", '{"expression": "1+1"}'), ToolCall("toolu_2", "calculator", '{"expression": "2+2"}')]
    await model.complete([
        ChatMessage("system", "Be brief."),
        ChatMessage("user", "see", images=[PIXEL]),
        ChatMessage("assistant", "Computing.", tool_calls=calls),
        ChatMessage("tool", "2", tool_call_id="toolu_1"),
        ChatMessage("tool", "4", tool_call_id="toolu_2"),
    ], tools=[CALCULATOR])
    sent = server.requests[-1]
    assert sent.headers["x-api-key"] == "test-key" and sent.headers["anthropic-version"] == "2023-06-01"
    body = sent.body
    assert body["system"] == "Be brief."
    assert body["max_tokens"] == 4096 and body["temperature"] == 0.3
    assert body["tools"] == [{"name": "calculator", "description": "Evaluate arithmetic.", "input_schema": CALCULATOR.parameters}]
    assert body["tool_choice"] == {"type": "auto"}
    user, assistant, results = body["messages"]
    assert user["content"][0] == {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PIXEL.split(",", 1)[1]}}
    assert assistant["content"][1] == {"type": "tool_use", "id": "toolu_1", "name": "calculator", "input": {"expression": "1+1"}}
    # both results answer one assistant turn: one user turn
    assert results == {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "toolu_1", "content": "2"},
        {"type": "tool_result", "tool_use_id": "toolu_2", "content": "4"}]}


async def test_ollama_request_shape(server: ModelServer, http: HttpClient) -> None:
    model = model_for("Ollama", server, http, temperature=0.1, max_tokens=64)
    await model.complete([ChatMessage("user", "see", images=[PIXEL])], json_schema=PERSON)
    sent = server.requests[-1]
    assert sent.path == "/api/chat"
    body = sent.body
    assert body["stream"] is False and body["format"] == PERSON
    assert body["options"] == {"temperature": 0.1, "num_predict": 64}
    assert body["messages"][0]["images"] == [PIXEL.split(",", 1)[1]]


# --- the factory ---


def test_unknown_provider_is_a_configuration_error_naming_it(http: HttpClient) -> None:
    for name in ("Acme Models", "Replicate", ""):
        with pytest.raises(ConfigurationError) as caught:
            get_chat_model(ModelConfig(name, "m", api_key="k"), http)
        assert f"Model provider '{name}' is not supported by Flowless; supported: OpenAI, OpenAI Compatible, Groq" in caught.value.message


@pytest.mark.parametrize("name, provider", [
    ("openai", "OpenAI"), ("ANTHROPIC", "Anthropic"), ("Amazon Bedrock", "Amazon Bedrock"),
    ("bedrock", "Amazon Bedrock"), ("ollama", "Ollama"), ("Groq", "Groq"),
])
def test_provider_names_are_case_insensitive(name: str, provider: str, http: HttpClient) -> None:
    model = get_chat_model(ModelConfig(name, "m", api_key="k", extra={"region": "us-east-1"}), http)
    assert model.provider == provider and model.model == "m"


def test_openai_compatible_services_get_their_base_url(http: HttpClient) -> None:
    model = get_chat_model(ModelConfig("Groq", "llama", api_key="k"), http)
    assert model.url == "https://api.groq.com/openai/v1/chat/completions"
    with pytest.raises(ConfigurationError, match="base URL"):
        get_chat_model(ModelConfig("OpenAI Compatible", "m"), http)


def test_missing_api_key_for_a_hosted_provider_is_a_configuration_error(http: HttpClient) -> None:
    for provider in ("OpenAI", "Anthropic"):
        with pytest.raises(ConfigurationError, match="API key"):
            get_chat_model(ModelConfig(provider, "m"), http)


async def test_blocked_base_url_is_refused(http: HttpClient) -> None:
    model = get_chat_model(ModelConfig("OpenAI", "m", api_key="k", base_url="http://169.254.169.254/v1"), http)
    with pytest.raises(BlockedURLError):
        await model.complete([ChatMessage("user", "hi")])


# --- Bedrock (botocore Stubber; no network) ---


def bedrock_model(http: HttpClient, client: Any = None) -> tuple[BedrockChatModel, Any]:
    """A model on a client of our own: the Stubber must wrap the very client the model uses."""
    import botocore.session

    client = client or botocore.session.get_session().create_client(
        "bedrock-runtime", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    )
    config = ModelConfig("Amazon Bedrock", "anthropic.claude-3-haiku", temperature=0.2, max_tokens=99, extra={"region": "us-east-1"})
    return BedrockChatModel(config, http, client=client), client


async def test_bedrock_converse_text_and_request_shape(http: HttpClient) -> None:
    from botocore.stub import Stubber

    model, client = bedrock_model(http)
    with Stubber(client) as stub:
        stub.add_response(
            "converse",
            {"output": {"message": {"role": "assistant", "content": [{"text": "Hello!"}]}}, "stopReason": "end_turn",
             "usage": {"inputTokens": 5, "outputTokens": 2, "totalTokens": 7}, "metrics": {"latencyMs": 1}},
            {"modelId": "anthropic.claude-3-haiku", "system": [{"text": "Be brief."}],
             "messages": [{"role": "user", "content": [{"text": "hi"}]}],
             "inferenceConfig": {"maxTokens": 99, "temperature": 0.2},
             "toolConfig": {"tools": [{"toolSpec": {"name": "calculator", "description": "Evaluate arithmetic.", "inputSchema": {"json": CALCULATOR.parameters}}}],
                            "toolChoice": {"auto": {}}}},
        )
        result = await model.complete([ChatMessage("system", "Be brief."), ChatMessage("user", "hi")], tools=[CALCULATOR])
    assert (result.text, result.usage, result.finish_reason) == ("Hello!", Usage(5, 2, 7), "stop")


async def test_bedrock_tool_use_and_json_schema(http: HttpClient) -> None:
    from botocore.stub import ANY, Stubber

    model, client = bedrock_model(http)
    with Stubber(client) as stub:
        stub.add_response("converse", {
            "output": {"message": {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t1", "name": "calculator", "input": {"expression": "1+1"}}}]}},
            "stopReason": "tool_use", "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2}, "metrics": {"latencyMs": 1}})
        stub.add_response("converse", {
            "output": {"message": {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t2", "name": "Person", "input": {"name": "Ada"}}}]}},
            "stopReason": "tool_use", "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2}, "metrics": {"latencyMs": 1}},
            {"modelId": ANY, "messages": ANY, "inferenceConfig": ANY,
             "toolConfig": {"tools": [{"toolSpec": {"name": "Person", "description": ANY, "inputSchema": {"json": PERSON}}}], "toolChoice": {"tool": {"name": "Person"}}}})
        called = await model.complete([ChatMessage("user", "1+1?")], tools=[CALCULATOR])
        structured = await model.complete([ChatMessage("user", "Ada")], json_schema=PERSON)
    assert called.tool_calls == [ToolCall("t1", "calculator", '{"expression": "1+1"}')] and called.finish_reason == "tool_calls"
    assert json.loads(structured.text) == {"name": "Ada"} and structured.tool_calls == []


@pytest.mark.parametrize("code, status, retryable", [("ThrottlingException", 429, True), ("AccessDeniedException", 403, False)])
async def test_bedrock_client_errors_become_provider_errors(code: str, status: int, retryable: bool, http: HttpClient) -> None:
    from botocore.stub import Stubber

    model, client = bedrock_model(http)
    with Stubber(client) as stub, pytest.raises(ProviderError) as caught:
        stub.add_client_error("converse", service_error_code=code, service_message="nope", http_status_code=status)
        await model.complete([ChatMessage("user", "hi")])
    assert (caught.value.status, caught.value.retryable) == (status, retryable)
    said = f"refused the credentials ({status})" if status == 403 else f"returned {status}"  # 403: ProviderAuthError
    assert caught.value.message == f"Amazon Bedrock {said}: {code}: nope"
    assert isinstance(caught.value, ProviderAuthError) == (status == 403)


class FakeStreamingClient:
    """converse_stream checked against the real service model; the Stubber cannot build event streams."""

    def __init__(self, events: list[dict[str, Any]], fail_after: int | None = None) -> None:
        self.events, self.fail_after, self.requests = events, fail_after, []

    def converse_stream(self, **params: Any) -> dict[str, Any]:
        import botocore.session
        from botocore.validate import validate_parameters

        shape = botocore.session.get_session().get_service_model("bedrock-runtime").operation_model("ConverseStream").input_shape
        validate_parameters(params, shape)
        self.requests.append(params)
        return {"stream": self._events()}

    def _events(self) -> Iterator[dict[str, Any]]:
        from botocore.exceptions import EventStreamError

        for index, event in enumerate(self.events):
            if index == self.fail_after:
                raise EventStreamError({"Error": {"Code": "modelStreamErrorException", "Message": "model broke"}}, "ConverseStream")
            yield event


TOOL_STREAM = [
    {"messageStart": {"role": "assistant"}},
    {"contentBlockDelta": {"delta": {"text": "Let me "}, "contentBlockIndex": 0}},
    {"contentBlockDelta": {"delta": {"text": "compute."}, "contentBlockIndex": 0}},
    {"contentBlockStop": {"contentBlockIndex": 0}},
    {"contentBlockStart": {"start": {"toolUse": {"toolUseId": "t1", "name": "calculator"}}, "contentBlockIndex": 1}},
    {"contentBlockDelta": {"delta": {"toolUse": {"input": '{"expression": '}}, "contentBlockIndex": 1}},
    {"contentBlockDelta": {"delta": {"toolUse": {"input": '"1+1"}'}}, "contentBlockIndex": 1}},
    {"contentBlockStop": {"contentBlockIndex": 1}},
    {"messageStop": {"stopReason": "tool_use"}},
    {"metadata": {"usage": {"inputTokens": 3, "outputTokens": 4, "totalTokens": 7}, "metrics": {"latencyMs": 1}}},
]


async def test_bedrock_stream_text_and_tool_call(http: HttpClient) -> None:
    fake = FakeStreamingClient(TOOL_STREAM)
    model, _ = bedrock_model(http, fake)
    deltas, result = await collect(model, [ChatMessage("user", "1+1?"), ChatMessage("assistant", "ok"), ChatMessage("user", "go")], tools=[CALCULATOR])
    assert deltas == ["Let me ", "compute."]
    assert result.text == "Let me compute."
    assert result.tool_calls == [ToolCall("t1", "calculator", '{"expression": "1+1"}')]
    assert (result.usage, result.finish_reason) == (Usage(3, 4, 7), "tool_calls")
    assert [m["role"] for m in fake.requests[0]["messages"]] == ["user", "assistant", "user"]


@pytest.mark.parametrize("events, fail_after", [(TOOL_STREAM, 2), (TOOL_STREAM[:3], None)], ids=["stream-error", "ended-early"])
async def test_bedrock_broken_stream_becomes_provider_error(events: list[dict[str, Any]], fail_after: int | None, http: HttpClient) -> None:
    model, _ = bedrock_model(http, FakeStreamingClient(events, fail_after))
    with pytest.raises(ProviderError, match="Amazon Bedrock"):
        await collect(model, [ChatMessage("user", "hi")])


def test_bedrock_needs_a_region(http: HttpClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    with pytest.raises(ConfigurationError, match="region"):
        get_chat_model(ModelConfig("Amazon Bedrock", "m"), http)


async def test_bedrock_clients_are_built_once_per_region_and_credentials(http: HttpClient) -> None:
    config = ModelConfig("Amazon Bedrock", "m", extra={"region": "eu-west-1", "aws_access_key_id": "a", "aws_secret_access_key": "b"})
    first = await BedrockChatModel(config, http)._get_client()
    assert first.meta.region_name == "eu-west-1"
    assert await BedrockChatModel(config, http)._get_client() is first


async def test_bedrock_endpoint_override_goes_through_the_guard(http: HttpClient) -> None:
    config = ModelConfig("Amazon Bedrock", "m", extra={"region": "us-east-1", "endpoint_url": "http://169.254.169.254/"})
    with pytest.raises(BlockedURLError):
        await BedrockChatModel(config, http).complete([ChatMessage("user", "hi")])
