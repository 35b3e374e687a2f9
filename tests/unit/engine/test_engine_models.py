"""Language Model (1.13 `model` list) and the older OpenAI node: which model, which key, which URL."""

from __future__ import annotations

import base64

import pytest

from flowless_engine.components.models import parse_model_choice
from flowless_engine.errors import MissingVariableError
from flowless_engine.runtime.services import LocalFileStore
from flowless_engine.settings import EngineSettings
from tests.support.engine_kit import FakeChatModel, component_node, edge, flow, llm_flow, run


@pytest.fixture(autouse=True)
def _no_provider_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "OLLAMA_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


async def config_of(variables: dict[str, str] | None = None, settings: EngineSettings | None = None, **llm_values):
    ran = await run(llm_flow(**llm_values), "hi", variables=variables, settings=settings)
    (config,) = ran.models.configs
    return config


def test_parse_model_choice() -> None:
    assert parse_model_choice([{"name": "claude-3-5-haiku", "provider": "Anthropic", "icon": "x"}]) == ("Anthropic", "claude-3-5-haiku")
    assert parse_model_choice({"name": "gpt-4o"}) == ("OpenAI", "gpt-4o")
    assert parse_model_choice("gpt-4.1") == ("OpenAI", "gpt-4.1")
    assert parse_model_choice("") is None
    assert parse_model_choice([]) is None
    assert parse_model_choice([{"provider": "OpenAI"}]) is None


async def test_model_list_selects_provider_and_model() -> None:
    config = await config_of(model=[{"name": "claude-3-5-haiku", "provider": "Anthropic", "metadata": {}}], temperature=0.5, max_tokens=100)
    assert (config.provider, config.model, config.temperature, config.max_tokens) == ("Anthropic", "claude-3-5-haiku", 0.5, 100)


async def test_unset_model_uses_the_default_model() -> None:
    config = await config_of()
    assert (config.provider, config.model) == ("OpenAI", "gpt-4o-mini")
    assert config.max_tokens is None  # 0 means no limit
    config = await config_of(settings=EngineSettings(default_provider="Anthropic", default_model="claude-x"))
    assert (config.provider, config.model) == ("Anthropic", "claude-x")


async def test_model_name_and_provider_overrides() -> None:
    config = await config_of(model=[{"name": "gpt-4o", "provider": "OpenAI"}], model_name="gpt-4.1-nano")
    assert (config.provider, config.model) == ("OpenAI", "gpt-4.1-nano")
    config = await config_of(model=[{"name": "gpt-4o", "provider": "OpenAI"}], model_name="llama3", provider="Ollama")
    assert (config.provider, config.model) == ("Ollama", "llama3")
    config = await config_of(model_name="", provider="")
    assert (config.provider, config.model) == ("OpenAI", "gpt-4o-mini")


async def test_api_key_resolution() -> None:
    # a literal key in the node
    assert (await config_of(api_key="sk-node")).api_key == "sk-node"
    # else the tenant's conventional variable for the provider
    assert (await config_of({"OPENAI_API_KEY": "sk-tenant"})).api_key == "sk-tenant"
    anthropic = await config_of({"ANTHROPIC_API_KEY": "sk-ant", "OPENAI_API_KEY": "sk-openai"}, model=[{"name": "c", "provider": "Anthropic"}])
    assert anthropic.api_key == "sk-ant"
    assert (await config_of()).api_key is None


async def test_api_key_from_a_named_variable() -> None:
    exported = llm_flow()
    exported["data"]["nodes"][1]["data"]["node"]["template"]["api_key"].update(value="MY_KEY", load_from_db=True)
    ran = await run(exported, "hi", variables={"MY_KEY": "sk-named", "OPENAI_API_KEY": "sk-other"})
    assert ran.models.configs[0].api_key == "sk-named"
    with pytest.raises(MissingVariableError) as caught:
        await run(exported, "hi")
    assert caught.value.name == "MY_KEY" and "api_key" in caught.value.message
    # a tweak replaces the variable reference by a literal key
    ran = await run(exported, "hi", tweaks={"LanguageModelComponent-1": {"api_key": "sk-literal"}})
    assert ran.models.configs[0].api_key == "sk-literal"


async def test_variables_fall_back_to_the_environment_when_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    from flowless_engine.graph.loader import load_graph
    from flowless_engine.runtime.context import RunContext
    from flowless_engine.runtime.request import RunRequest
    from flowless_engine.runtime.run import run_graph
    from flowless_engine.runtime.services import DictVariableResolver
    from tests.support.engine_kit import FakeModels

    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    for fallback, expected in ((True, "sk-env"), (False, None)):
        models = FakeModels()
        ctx = RunContext(flow_id="f", session_id="", model_factory=models, variables=DictVariableResolver({}, fallback_to_env=fallback))
        await run_graph(load_graph(llm_flow()), RunRequest(input_value="hi"), ctx)
        assert models.configs[0].api_key == expected


async def test_request_variables_come_first() -> None:
    from flowless_engine.graph.loader import load_graph
    from flowless_engine.runtime.context import RunContext
    from flowless_engine.runtime.request import RunRequest
    from flowless_engine.runtime.run import run_graph
    from flowless_engine.runtime.services import DictVariableResolver
    from tests.support.engine_kit import FakeModels

    models = FakeModels()
    ctx = RunContext(
        flow_id="f", session_id="", model_factory=models,
        variables=DictVariableResolver({"OPENAI_API_KEY": "sk-tenant"}), request_variables={"OPENAI_API_KEY": "sk-header"},
    )
    await run_graph(load_graph(llm_flow()), RunRequest(input_value="hi"), ctx)
    assert models.configs[0].api_key == "sk-header"


async def test_base_url_resolution_order(monkeypatch: pytest.MonkeyPatch) -> None:
    assert (await config_of()).base_url is None
    monkeypatch.setenv("OPENAI_BASE_URL", "http://env/v1")
    assert (await config_of()).base_url == "http://env/v1"
    assert (await config_of({"OPENAI_BASE_URL": "http://tenant/v1"})).base_url == "http://tenant/v1"
    exported = llm_flow()
    exported["data"]["nodes"][1]["data"]["node"]["template"]["base_url"] = {"name": "base_url", "type": "str", "value": "http://node/v1"}
    ran = await run(exported, "hi", variables={"OPENAI_BASE_URL": "http://tenant/v1"})
    assert ran.models.configs[0].base_url == "http://node/v1"


async def test_the_ollama_url_field_is_for_ollama_only() -> None:
    # 1.13 exports carry a hidden `ollama_base_url`; it must not redirect an OpenAI model
    config = await config_of({"OPENAI_BASE_URL": "http://tenant/v1"}, ollama_base_url="http://localhost:11434")
    assert config.base_url == "http://tenant/v1"
    config = await config_of(model=[{"name": "llama3", "provider": "Ollama"}], ollama_base_url="http://localhost:11434")
    assert config.base_url == "http://localhost:11434"
    config = await config_of({"OLLAMA_BASE_URL": "http://tenant-ollama"}, model=[{"name": "llama3", "provider": "Ollama"}])
    assert config.base_url == "http://tenant-ollama"


async def test_the_conversation_sent() -> None:
    nodes = [
        component_node("ChatInput-1", "ChatInput"),
        component_node("Prompt-1", "Prompt", template="Be brief."),
        component_node("LanguageModelComponent-1", "LanguageModelComponent"),
    ]
    edges = [
        edge("ChatInput-1", "message", "LanguageModelComponent-1", "input_value"),
        edge("Prompt-1", "prompt", "LanguageModelComponent-1", "system_message"),
    ]
    ran = await run(flow(nodes, edges), "hello", output_type="debug")
    (call,) = ran.models.model.calls
    assert [(m.role, m.content) for m in call["messages"]] == [("system", "Be brief."), ("user", "hello")]
    answer = ran.vertex("LanguageModelComponent-1").values["text_output"]
    assert answer.text == "Echo: hello"
    assert answer.properties["source"] == {"id": "LanguageModelComponent-1", "display_name": "Language Model", "source": "gpt-4o-mini"}


async def test_a_system_message_typed_in_the_node() -> None:
    ran = await run(llm_flow(system_message="Typed system."), "hi")
    assert [(m.role, m.content) for m in ran.models.model.calls[0]["messages"]] == [("system", "Typed system."), ("user", "hi")]


async def test_images_attached_to_the_chat_message_are_sent(tmp_path) -> None:
    (tmp_path / "cat.png").write_bytes(b"\x89PNG fake")
    (tmp_path / "notes.txt").write_text("ignored")
    ran = await run(llm_flow(), "what is this?", files=["cat.png", "notes.txt"], file_store=LocalFileStore(tmp_path))
    (user,) = [m for m in ran.models.model.calls[0]["messages"] if m.role == "user"]
    assert user.images == ["data:image/png;base64," + base64.b64encode(b"\x89PNG fake").decode()]


async def test_the_model_output_is_a_model_config() -> None:
    from flowless_engine.llm.base import ModelConfig

    nodes = [component_node("LanguageModelComponent-1", "LanguageModelComponent", model=[{"name": "gpt-4o", "provider": "OpenAI"}])]
    agent = component_node("Agent-1", "Agent")
    wire = edge("LanguageModelComponent-1", "model_output", "Agent-1", "model", output_types=("LanguageModel",), input_types=("LanguageModel",))
    ran = await run(flow([*nodes, agent], [wire]), "hi", output_type="debug")
    assert isinstance(ran.vertex("LanguageModelComponent-1").values["model_output"], ModelConfig)
    assert [c.model for c in ran.models.configs] == ["gpt-4o"]


async def test_openai_model_older_fields() -> None:
    node = component_node(
        "OpenAIModel-1", "OpenAIModel", model_name="gpt-3.5-turbo", openai_api_base="http://old/v1", temperature=0.7, max_tokens=50
    )
    nodes = [component_node("ChatInput-1", "ChatInput"), node, component_node("ChatOutput-1", "ChatOutput")]
    edges = [edge("ChatInput-1", "message", "OpenAIModel-1", "input_value"), edge("OpenAIModel-1", "text_output", "ChatOutput-1", "input_value")]
    ran = await run(flow(nodes, edges), "hi", variables={"OPENAI_API_KEY": "sk-old"})
    (config,) = ran.models.configs
    assert (config.provider, config.model, config.base_url, config.api_key, config.temperature, config.max_tokens) == (
        "OpenAI", "gpt-3.5-turbo", "http://old/v1", "sk-old", 0.7, 50
    )
    assert ran.text() == "Echo: hi"


async def test_openai_model_key_variable_must_exist() -> None:
    nodes = [component_node("ChatInput-1", "ChatInput"), component_node("OpenAIModel-1", "OpenAIModel")]
    with pytest.raises(MissingVariableError):
        await run(flow(nodes, [edge("ChatInput-1", "message", "OpenAIModel-1", "input_value")]), "hi")


async def test_a_streamed_answer_is_a_message_whose_text_streams() -> None:
    model = FakeChatModel(["a b c"])
    ran = await run(llm_flow(), "hi", model=model, stream=True, output_type="debug")
    answer = ran.vertex("LanguageModelComponent-1").values["text_output"]
    assert answer.text == "a b c"  # drained at the end of the run
    assert ran.models.model.calls[0]["stream"] is True
