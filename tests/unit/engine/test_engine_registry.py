"""Type names as exports write them resolve once, in the registry."""

from __future__ import annotations

import pytest

from flowless_engine.components import registry
from flowless_engine.components.registry import get_component_class, is_supported, resolve_type
from flowless_engine.runtime.services import InMemoryMessageStore
from flowless_engine.api import run_flow_from_json
from tests.support.flows import edge, flow, node


@pytest.mark.parametrize(
    ("written", "registered"),
    [
        ("ChatInput", "ChatInput"),
        ("CalculatorComponent (i4779)", "CalculatorComponent"),
        ("ext:openai:OpenAIModelComponent@official", "OpenAIModel"),
        ("ext:openai:OpenAIEmbeddingsComponent@official", "OpenAIEmbeddings"),
        ("ext:openai:OpenAIModelComponent", "OpenAIModel"),
        ("Prompt Template (ab12C)", "Prompt Template"),
    ],
)
def test_export_spellings_resolve_to_the_native_component(written: str, registered: str) -> None:
    assert resolve_type(written) == registered
    assert is_supported(written)
    assert get_component_class(written) is get_component_class(registered)


@pytest.mark.parametrize(
    "written", ["GigaChatModel (rjOuT)", "ext:openai", "ext:x:../../etc@y", "os:system", "ChatInput (not a suffix id!)", ""]
)
def test_unknown_or_malformed_names_resolve_to_nothing(written: str) -> None:
    assert resolve_type(written) is None
    with pytest.raises(KeyError):
        get_component_class(written)


def test_every_family_table_names_an_importable_class() -> None:
    assert len(registry._REGISTRY) >= 30
    for type_name in registry.supported_types():
        cls = get_component_class(type_name)
        assert cls.inputs is not None and cls.outputs, type_name


def test_a_flow_written_with_extension_ids_and_suffixes_runs() -> None:
    exported = flow(
        "spellings",
        [node("ChatInput-a1", "ext:langflow:ChatInput@official"), node("ChatOutput-a2", "ChatOutput (x1y2z)")],
        [edge("ChatInput-a1", "message", "ChatOutput-a2", "input_value", input_types=["Message"])],
    )
    outputs = run_flow_from_json(exported, "hi there", message_store=InMemoryMessageStore())
    assert outputs[0]["outputs"][0]["results"]["message"]["text"] == "hi there"
