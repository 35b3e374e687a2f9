"""LLM Router, Langflow 1.3–1.6's name of the LLM Selector (same fields and outputs): a flow saved
with the older type runs through the same component (tests/unit/components/test_llm_selection.py
covers it in depth), model nodes wired to `models` and `judge_llm`, OpenRouter's model list from
tests/support/openrouter_server.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from flowless_engine.components import registry
from flowless_engine.settings import EngineSettings
from tests.support.component_runs import run_flow, value
from tests.support.engine_kit import FakeChatModel
from tests.support.flows import edge, flow, node
from tests.support.openrouter_server import OpenRouterServer


@pytest.fixture(scope="module")
def server() -> Iterator[OpenRouterServer]:
    with OpenRouterServer() as s:
        yield s


def router_flow() -> dict:
    model = {"output_types": ["LanguageModel"], "input_types": ["LanguageModel"]}
    nodes = [node("ChatInput-c1", "ChatInput"),
             node("OpenAIModel-a", "OpenAIModel", {"model_name": "gpt-4o-mini"}),
             node("OpenAIModel-b", "OpenAIModel", {"model_name": "claude-3.5-sonnet"}),
             node("OpenAIModel-j", "OpenAIModel", {"model_name": "judge-model"}),
             node("LLMRouterComponent-r1", "LLMRouterComponent", {"optimization": "quality"}),
             node("ChatOutput-o1", "ChatOutput"), node("ChatOutput-o2", "ChatOutput"), node("ChatOutput-o3", "ChatOutput")]
    edges = [edge("ChatInput-c1", "message", "LLMRouterComponent-r1", "input_value"),
             edge("OpenAIModel-a", "model_output", "LLMRouterComponent-r1", "models", **model),
             edge("OpenAIModel-b", "model_output", "LLMRouterComponent-r1", "models", **model),
             edge("OpenAIModel-j", "model_output", "LLMRouterComponent-r1", "judge_llm", **model),
             edge("LLMRouterComponent-r1", "output", "ChatOutput-o1", "input_value"),
             edge("LLMRouterComponent-r1", "selected_model_info", "ChatOutput-o2", "input_value", output_types=["Data"]),
             edge("LLMRouterComponent-r1", "routing_decision", "ChatOutput-o3", "input_value")]
    return flow("t", nodes, edges)


async def test_the_older_name_routes_through_the_llm_selector(server: OpenRouterServer) -> None:
    assert registry.get_component_class("LLMRouterComponent") is registry.get_component_class("LLMSelectorComponent")
    fakes = {"gpt-4o-mini": FakeChatModel(["small answer"]), "claude-3.5-sonnet": FakeChatModel(["big answer"]), "judge-model": FakeChatModel(["1"])}
    settings = EngineSettings(allow_loopback=True, service_urls=(("openrouter", server.base_url),), http_retries=0)
    result = await run_flow(router_flow(), "Prove Fermat's last theorem", settings=settings, variables={"OPENAI_API_KEY": "sk-test"},
                            model_factory=lambda config: fakes[config.model])
    assert value(result, "LLMRouterComponent-r1", "output").text == "big answer"
    assert value(result, "LLMRouterComponent-r1", "selected_model_info")[0].data["id"] == "anthropic/claude-3.5-sonnet"
    assert "- Selected Model Index: 1" in value(result, "LLMRouterComponent-r1", "routing_decision").text
    assert "Optimization Preference: quality" in fakes["judge-model"].calls[0]["messages"][-1].content
    assert len(fakes["judge-model"].calls) == 1  # one decision for the three outputs
