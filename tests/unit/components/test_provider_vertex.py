"""Vertex AI without the Google SDK: the RS256 signature matches the `cryptography` package's,
and the Vertex nodes run through the engine against a local Vertex server that verifies the
service account's JWT before issuing a token."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from flowless_engine.api import arun_flow_from_json
from flowless_engine.errors import ConfigurationError, ProviderAuthError
from flowless_engine.llm.vertex import rs256, service_account
from flowless_engine.runtime.services import ListEventSink
from flowless_engine.settings import EngineSettings
from tests.support.flows import edge, flow, node
from tests.support.model_server import embed
from tests.support.vertex_server import VertexServer

SETTINGS = EngineSettings(allow_loopback=True, http_retries=1, http_timeout_s=5)
EMAIL = "flows@demo-project.iam.gserviceaccount.com"


def _key(bits: int = 2048) -> Any:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


@pytest.fixture(scope="module")
def key() -> Any:
    return _key()


@pytest.fixture(scope="module")
def server(key: Any) -> Iterator[VertexServer]:
    numbers = key.public_key().public_numbers()
    with VertexServer(numbers.n, numbers.e, EMAIL) as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh(server: VertexServer, monkeypatch: pytest.MonkeyPatch) -> None:
    server.reset()
    server.chunk_delay_s = 0
    monkeypatch.setattr("flowless_engine.llm.vertex.VERTEX_ENDPOINT", server.url)
    monkeypatch.setattr("flowless_engine.llm.vertex._TOKENS", {})


def pem(key: Any, fmt: Any = serialization.PrivateFormat.PKCS8) -> str:
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()).decode()


def key_file(tmp_path: Path, key: Any, server: VertexServer) -> str:
    info = {"type": "service_account", "project_id": "demo-project", "private_key_id": "k1", "private_key": pem(key),
            "client_email": EMAIL, "token_uri": server.token_uri}
    (tmp_path / "sa.json").write_text(json.dumps(info))
    return "sa.json"


@pytest.mark.parametrize("fmt", [serialization.PrivateFormat.PKCS8, serialization.PrivateFormat.TraditionalOpenSSL])
def test_rs256_is_pkcs1_v15_sha256(key: Any, fmt: Any) -> None:
    message = b"header.claims"
    assert rs256(message, pem(key, fmt)) == key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    # a JSON key file keeps the PEM's newlines escaped
    assert rs256(message, pem(key, fmt).replace("\n", "\\n")) == key.sign(message, padding.PKCS1v15(), hashes.SHA256())


def test_a_key_that_is_not_a_service_account_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="service account"):
        service_account('{"type": "authorized_user"}')


def chat_flow(path: str, **values: Any) -> dict[str, Any]:
    model = node("VertexAiModel-v1", "VertexAiModel", {"credentials": path, "model_name": "gemini-1.5-flash", "location": "europe-west4",
                                                     "temperature": 0.2, "max_output_tokens": 64, **values})
    return flow("vertex", [node("ChatInput-i1", "ChatInput"), model, node("ChatOutput-o1", "ChatOutput")], [
        edge("ChatInput-i1", "message", "VertexAiModel-v1", "input_value"),
        edge("VertexAiModel-v1", "text_output", "ChatOutput-o1", "input_value"),
    ])


async def test_vertex_chat_signs_in_and_answers(server: VertexServer, key: Any, tmp_path: Path) -> None:
    path = key_file(tmp_path, key, server)
    result = await arun_flow_from_json(chat_flow(path), "hello vertex", settings=SETTINGS, files_root=tmp_path, output_type="debug")
    by_id = {o["component_id"]: o for o in result[0]["outputs"]}
    assert by_id["ChatOutput-o1"]["results"]["message"]["text"] == "Echo: hello vertex"
    assert by_id["VertexAiModel-v1"]["token_usage"]["output_tokens"] == 3
    token, call = server.requests
    assert token.path == "/token"
    assert call.path == "/v1/projects/demo-project/locations/europe-west4/publishers/google/models/gemini-1.5-flash:generateContent"
    assert call.headers["authorization"].startswith("Bearer ya29.fake-")
    assert call.body["generationConfig"] == {"temperature": 0.2, "maxOutputTokens": 64, "topP": 0.95}  # the node's default top_p


async def test_vertex_chat_streams_and_reuses_its_token(server: VertexServer, key: Any, tmp_path: Path) -> None:
    path = key_file(tmp_path, key, server)
    for _ in range(2):
        sink = ListEventSink()
        await arun_flow_from_json(chat_flow(path, stream=True), "one two three", settings=SETTINGS, files_root=tmp_path, events=sink, stream=True)
        assert "".join(e["data"]["chunk"] for e in sink.events if e["event"] == "token") == "Echo: one two three"
    assert [r.path.split("?")[0].rsplit(":", 1)[-1] for r in server.requests] == ["/token", "streamGenerateContent", "streamGenerateContent"]


async def test_vertex_chat_with_a_key_the_account_does_not_hold_is_refused(server: VertexServer, tmp_path: Path) -> None:
    path = key_file(tmp_path, _key(1024), server)  # signed with another key
    with pytest.raises(ProviderAuthError, match=r"Vertex AI OAuth refused the credentials \(400\): invalid_grant: Invalid JWT Signature"):
        await arun_flow_from_json(chat_flow(path), "hi", settings=SETTINGS, files_root=tmp_path)


async def test_the_agent_calls_tools_through_vertex(server: VertexServer, key: Any, tmp_path: Path) -> None:
    path = key_file(tmp_path, key, server)
    model = node("VertexAiModel-v1", "VertexAiModel", {"credentials": path, "model_name": "gemini-1.5-pro"})
    exported = flow("agent", [node("ChatInput-i1", "ChatInput"), model,
                              node("Agent-a1", "Agent", {"add_calculator_tool": True, "add_current_date_tool": False}), node("ChatOutput-o1", "ChatOutput")], [
        edge("ChatInput-i1", "message", "Agent-a1", "input_value"),
        edge("VertexAiModel-v1", "model_output", "Agent-a1", "model", output_types=["LanguageModel"], input_types=["LanguageModel"]),
        edge("Agent-a1", "response", "ChatOutput-o1", "input_value"),
    ])
    result = await arun_flow_from_json(exported, "what is 7 * 6?", settings=SETTINGS, files_root=tmp_path)
    assert result[0]["outputs"][0]["results"]["message"]["text"] == 'The answer is {"result": "42"}.'


async def test_vertex_embeddings_through_the_text_embedder(server: VertexServer, key: Any, tmp_path: Path) -> None:
    path = key_file(tmp_path, key, server)
    exported = flow("emb", [
        node("VertexAIEmbeddings-e1", "VertexAIEmbeddings", {"credentials": path, "model_name": "text-embedding-004", "project": "other-project"}),
        node("TextInput-t1", "TextInput", {"input_value": "embed me"}),
        node("TextEmbedderComponent-x1", "TextEmbedderComponent"),
    ], [
        edge("VertexAIEmbeddings-e1", "embeddings", "TextEmbedderComponent-x1", "embedding_model", output_types=["Embeddings"], input_types=["Embeddings"]),
        edge("TextInput-t1", "text", "TextEmbedderComponent-x1", "message"),
    ])
    result = await arun_flow_from_json(exported, settings=SETTINGS, files_root=tmp_path, output_type="debug")
    by_id = {o["component_id"]: o for o in result[0]["outputs"]}
    assert by_id["TextEmbedderComponent-x1"]["results"]["embeddings"]["data"]["embeddings"] == pytest.approx(embed("embed me"))
    call = server.requests[-1]
    assert call.path == "/v1/projects/other-project/locations/us-central1/publishers/google/models/text-embedding-004:predict"
    assert call.body["instances"] == [{"content": "embed me", "task_type": "RETRIEVAL_DOCUMENT"}]
