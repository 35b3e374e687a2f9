"""Prompt Hub (`LangChain Hub Prompt`) against the local LangSmith prompt hub."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from flowless_engine.api import arun_flow_from_json
from flowless_engine.errors import ConfigurationError, ProviderError
from flowless_engine.settings import EngineSettings
from tests.support.engine_kit import component_node, edge, field, flow
from tests.support.langsmith_server import LangSmithServer, chat_template, prompt_template


@pytest.fixture(scope="module")
def hub() -> Iterator[LangSmithServer]:
    with LangSmithServer() as server:
        server.add("efriis", "greet", prompt_template("Say hello to {name} in {language}.", ["name", "language"]))
        server.add("-", "support", chat_template([("System", "You help {product} users."), ("placeholder", "history"),
                                                  ("Human", "{question}")], ["product", "question"]))
        yield server


def hub_flow(prompt: str, key: str = "LANGCHAIN_API_KEY", **params: str) -> dict:
    node = component_node("Hub-1", "LangChain Hub Prompt", langchain_hub_prompt=prompt)
    node["data"]["node"]["template"]["langchain_api_key"] = field("langchain_api_key", key, load_from_db=True, password=True)
    for name, value in params.items():
        node["data"]["node"]["template"][f"param_{name}"] = field(f"param_{name}", value)
    nodes = [node, component_node("ChatOutput-1", "ChatOutput")]
    return flow(nodes, [edge("Hub-1", "prompt", "ChatOutput-1", "input_value")])


async def text(hub: LangSmithServer, exported: dict, key: str = "lsv2_test") -> str:
    settings = EngineSettings(allow_loopback=True, http_retries=0, service_urls=(("langsmith", hub.base_url),))
    outputs = await arun_flow_from_json(exported, None, variables={"LANGCHAIN_API_KEY": key}, settings=settings)
    return outputs[0]["outputs"][0]["results"]["message"]["text"]


async def test_a_string_prompt_is_filled_from_the_param_fields(hub: LangSmithServer) -> None:
    assert await text(hub, hub_flow("efriis/greet", name="Ada", language="French")) == "Say hello to Ada in French."
    request = hub.requests[-1]
    assert (request.path, request.headers["x-api-key"]) == ("/commits/efriis/greet/latest", "lsv2_test")
    assert await text(hub, hub_flow("efriis/greet:abc123", name="Ada")) == "Say hello to Ada in {language}."
    assert hub.requests[-1].path == "/commits/efriis/greet/abc123"


async def test_a_chat_prompt_renders_one_line_per_message(hub: LangSmithServer) -> None:
    rendered = await text(hub, hub_flow("support", product="Flowless", question="How do I deploy?"))
    assert rendered == "System: You help Flowless users.\nHuman: How do I deploy?"
    assert hub.requests[-1].path == "/commits/-/support/latest"


async def test_hub_errors_name_the_service(hub: LangSmithServer) -> None:
    with pytest.raises(ConfigurationError, match="LangChain Hub refused the credentials"):
        await text(hub, hub_flow("efriis/greet"), key="wrong")
    with pytest.raises(ConfigurationError, match="LangChain Hub rejected the request \\(404\\)"):
        await text(hub, hub_flow("efriis/missing"))
    with pytest.raises(ConfigurationError, match="not a prompt name"):
        await text(hub, hub_flow("../../etc"))
    hub.fail_next(1, 503)
    with pytest.raises(ProviderError, match="LangChain Hub failed"):
        await text(hub, hub_flow("efriis/greet"))
