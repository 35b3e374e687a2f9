"""Every native component against Langflow's published template for its type (lfx 1.13's
component index and the provider bundles, see tests/support/lfx_reference.py): no input or
output of Langflow's template may be missing, and the types must agree."""

from __future__ import annotations

import pytest

from flowless_engine.components import registry
from tests.support.lfx_reference import differences, langflow_template, reference

# Types whose template is known to differ today, with the issue that closes the gap. The test
# fails as soon as a listed type matches, so this list can only shrink.
PENDING: dict[str, str] = {
}


@pytest.fixture(scope="module")
def templates() -> dict:
    return reference()


def test_the_reference_reads_the_core_index_and_the_bundles(templates: dict) -> None:
    assert len(templates) >= 300
    assert templates["ChatInput"]["source"].startswith("lfx==1.13.0")
    groq = templates["GroqModel"]
    assert groq["source"].startswith("lfx-bundles") and {"api_key", "model_name", "temperature"} <= set(groq["inputs"])
    assert set(groq["outputs"]) == {"text_output", "model_output"}  # inherited from the base model class
    assert "token" in templates["AstraDB"]["inputs"]


@pytest.mark.parametrize("type_name", registry.supported_types())
def test_native_component_matches_langflow_template(type_name: str, templates: dict) -> None:
    cls = registry.get_component_class(type_name)
    problems = differences(cls, type_name)
    if type_name in PENDING:
        assert problems, f"{type_name} now matches Langflow's template: remove it from PENDING"
        return
    assert not problems, f"{type_name} differs from {langflow_template(type_name)['source']}: " + "; ".join(problems)


def test_types_without_a_published_template_are_older_names_or_aliases(templates: dict) -> None:
    """A registered name no reference ships must be an older export spelling of a class that
    also serves a current name, or a name only pre-1.13 exports use."""
    unreferenced = [t for t in registry.supported_types() if t not in templates]
    classes_with_current_name = {registry.get_component_class(t) for t in registry.supported_types() if t in templates}
    orphans = [t for t in unreferenced if registry.get_component_class(t) not in classes_with_current_name]
    print(f"\nfidelity: {len(registry.supported_types()) - len(unreferenced)} types compared, {len(unreferenced)} older names: {unreferenced}")
    assert all(registry.get_component_class(t).type_name for t in orphans)
