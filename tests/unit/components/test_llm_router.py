"""LLM Router through the engine: model nodes wired to `models` and `judge_llm`, fake chat models
per model name, and OpenRouter's model list from tests/support/openrouter_server.py."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from flowless_engine.errors import ProviderError
from flowless_engine.llm.base import ChatResult
from flowless_engine.settings import EngineSettings
from tests.support.component_runs import run_flow, value
from tests.support.engine_kit import FakeChatModel
from tests.support.flows import edge, flow, node
from tests.support.openrouter_server import OpenRouterServer


@pytest.fixture(scope="module")
def server() -> Iterator[OpenRouterServer]:
    with OpenRouterServer() as s:
        yield s


def router_flow(type_name: str = "LLMRouterComponent", **values: object) -> dict:
    nodes = [node("ChatInput-c1", "ChatInput"),
             node("OpenAIModel-a", "OpenAIModel", {"model_name": "gpt-4o-mini"}), node("OpenAIModel-b", "OpenAIModel", {"model_name": "gpt-4o"}),
             node("OpenAIModel-j", "OpenAIModel", {"model_name": "judge-model"}),
             node("LLMRouterComponent-r1", type_name, values),
             node("ChatOutput-o1", "ChatOutput"), node("ChatOutput-o2", "ChatOutput"), node("ChatOutput-o3", "ChatOutput")]
    model = {"output_types": ["LanguageModel"], "input_types": ["LanguageModel"]}
    edges = [edge("ChatInput-c1", "message", "LLMRouterComponent-r1", "input_value"),
             edge("OpenAIModel-a", "model_output", "LLMRouterComponent-r1", "models", **model),
             edge("OpenAIModel-b", "model_output", "LLMRouterComponent-r1", "models", **model),
             edge("OpenAIModel-j", "model_output", "LLMRouterComponent-r1", "judge_llm", **model),
             edge("LLMRouterComponent-r1", "output", "ChatOutput-o1", "input_value"),
             edge("LLMRouterComponent-r1", "selected_model_info", "ChatOutput-o2", "input_value", output_types=["Data"]),
             edge("LLMRouterComponent-r1", "routing_decision", "ChatOutput-o3", "input_value")]
    return flow("t", nodes, edges)


async def route(server: OpenRouterServer, judge: list, type_name: str = "LLMRouterComponent", **values: object):
    fakes = {"gpt-4o-mini": FakeChatModel(["small answer"]), "gpt-4o": FakeChatModel(["big answer"]), "judge-model": FakeChatModel(judge)}
    settings = EngineSettings(allow_loopback=True, service_urls=(("openrouter", server.base_url),), http_retries=0)
    result = await run_flow(router_flow(type_name, **values), "Prove Fermat's last theorem", settings=settings, variables={"OPENAI_API_KEY": "sk-test"},
                            model_factory=lambda config: fakes[config.model])
    return result, fakes


async def test_the_judge_picks_a_model_with_openrouter_specs(server: OpenRouterServer) -> None:
    server.reset()
    result, fakes = await route(server, ["Index: 1"], optimization="quality")
    assert value(result, "LLMRouterComponent-r1", "output").text == "big answer"
    assert [c["messages"][-1].content for c in fakes["gpt-4o"].calls] == ["Prove Fermat's last theorem"] and not fakes["gpt-4o-mini"].calls
    judge_prompt = fakes["judge-model"].calls[0]["messages"][-1].content
    listing = json.loads(judge_prompt.split("Available Models (JSON list):\n", 1)[1].split("\n\nReturn ONLY", 1)[0])
    assert listing[0]["specs"]["id"] == "openai/gpt-4o-mini" and listing[0]["specs"]["pricing_prompt"] == "0.00000015"
    assert len(listing[1]["specs"]["description"]) == 500 and "Optimization Preference: quality" in judge_prompt
    (info,) = value(result, "LLMRouterComponent-r1", "selected_model_info")
    assert info.data["id"] == "openai/gpt-4o" and info.data["langflow_model_name_used_for_lookup"] == "gpt-4o"
    decision = value(result, "LLMRouterComponent-r1", "routing_decision").text
    assert "- Selected Model Index: 1" in decision and "- Specifications Source: OpenRouter API" in decision
    assert server.paths() == ["/api/v1/models"] and len(fakes["judge-model"].calls) == 1  # one routing for the three outputs


async def test_unreadable_verdicts_and_no_specs(server: OpenRouterServer) -> None:
    result, fakes = await route(server, ["I would pick the big one"], use_openrouter_specs=False)
    assert value(result, "LLMRouterComponent-r1", "output").text == "small answer"
    assert "Specifications Source: Basic (Langflow model names only)" in value(result, "LLMRouterComponent-r1", "routing_decision").text
    result, _ = await route(server, ["7"])
    assert value(result, "LLMRouterComponent-r1", "output").text == "small answer"  # out of range → first
    server.fail_next(1, 503)  # OpenRouter down: names alone, the routing goes on (here as 1.13's LLM Selector)
    result, fakes = await route(server, ["1"], "LLMSelectorComponent")
    assert value(result, "LLMRouterComponent-r1", "output").text == "big answer"
    assert "Specifications Source: Basic" in value(result, "LLMRouterComponent-r1", "routing_decision").text
    assert '"description": "Specifications not available."' in fakes["judge-model"].calls[0]["messages"][-1].content


async def test_a_failing_judge_falls_back_or_fails(server: OpenRouterServer) -> None:
    def boom(messages: list) -> ChatResult:
        raise ProviderError("judge down", provider="OpenAI")

    result, _ = await route(server, [boom])
    assert value(result, "LLMRouterComponent-r1", "output").text == "small answer"
    assert value(result, "LLMRouterComponent-r1", "routing_decision").text.startswith("Fallback Decision:\n- Error During Routing: judge down")
    with pytest.raises(ProviderError, match="judge down"):
        await route(server, [boom], fallback_to_first=False)
