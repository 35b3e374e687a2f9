"""The network guard where it protects someone and where it does not.

The service refuses loopback and private addresses (a tenant's flow must not reach the
service's own network) unless its operator allows them; a flow run in the user's own process
(run_flow_from_json, the script `flowless export-python` writes) allows them by default, so a
local Ollama or vLLM just works. Every refusal names the setting that would allow it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from flowless_engine.api import run_flow_from_json
from flowless_engine.errors import BlockedURLError
from flowless_engine.http import HttpClient
from flowless_engine.settings import EngineSettings
from tests.support.engine_kit import llm_flow
from tests.support.model_server import ModelServer

MODEL = [{"name": "gpt-4o-mini", "provider": "OpenAI"}]


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModelServer]:
    for name in ("FLOWLESS_ALLOW_LOOPBACK", "FLOWLESS_ALLOW_PRIVATE_NETWORKS"):
        monkeypatch.delenv(name, raising=False)
    with ModelServer() as server:
        server.chunk_delay_s = 0
        yield server


def test_library_use_reaches_a_model_on_loopback_by_default(server: ModelServer) -> None:
    (result,) = run_flow_from_json(llm_flow(model=MODEL), "hi", variables={"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "k"})
    assert result.outputs[0].results["message"].text == "Echo: hi"
    assert len(server.requests) == 1


def test_library_defaults_allow_loopback_and_private_networks_but_the_environment_can_say_no(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FLOWLESS_ALLOW_LOOPBACK", "FLOWLESS_ALLOW_PRIVATE_NETWORKS"):
        monkeypatch.delenv(name, raising=False)
    library, service = EngineSettings.from_env(library=True), EngineSettings.from_env()
    assert (library.allow_loopback, library.allow_private_networks) == (True, True)
    assert (service.allow_loopback, service.allow_private_networks) == (False, False)
    monkeypatch.setenv("FLOWLESS_ALLOW_LOOPBACK", "false")
    monkeypatch.setenv("FLOWLESS_ALLOW_PRIVATE_NETWORKS", "false")
    library = EngineSettings.from_env(library=True)
    assert (library.allow_loopback, library.allow_private_networks) == (False, False)


def test_a_library_refusal_names_the_setting(server: ModelServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWLESS_ALLOW_LOOPBACK", "false")
    monkeypatch.setenv("FLOWLESS_ALLOW_PRIVATE_NETWORKS", "false")  # (allowing private networks allows loopback)
    with pytest.raises(BlockedURLError) as refused:
        run_flow_from_json(llm_flow(model=MODEL), "hi", variables={"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "k"})
    assert "FLOWLESS_ALLOW_LOOPBACK=true" in refused.value.message and "allow_loopback=True" in refused.value.message
    assert server.requests == []


@pytest.mark.parametrize(
    ("url", "setting"),
    [
        ("http://127.0.0.1:9/", "FLOWLESS_ALLOW_LOOPBACK=true"),
        ("http://[::1]:9/", "FLOWLESS_ALLOW_LOOPBACK=true"),
        ("http://10.1.2.3/", "FLOWLESS_ALLOW_PRIVATE_NETWORKS=true"),
        ("http://192.168.1.20:11434/", "FLOWLESS_ALLOW_PRIVATE_NETWORKS=true"),
        ("http://169.254.169.254/", "no setting allows it"),
        ("http://169.254.10.10/", "no setting allows it"),
        ("http://metadata.google.internal/", "no setting allows it"),
    ],
)
async def test_every_refusal_says_which_setting_allows_it(url: str, setting: str) -> None:
    with pytest.raises(BlockedURLError) as refused:
        await HttpClient().check_url(url)
    assert setting in refused.value.message
