"""File Description Generator: the File node's rows name the tenant's files; the wired model
describes each; one `{text, file_path}` row per file; inputs without a file path are skipped (the
shape of the real export `JaiRathi-AI_WorkFlow_Agents__Test Plan Generator`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowless_engine.errors import ConfigurationError
from flowless_engine.runtime.services import LocalFileStore
from tests.support.engine_kit import FakeChatModel, component_node, edge, flow, run

LLM_EDGE = {"output_types": ("LanguageModel",), "input_types": ("LanguageModel",)}


def describe_flow(paths: list[str], **values: object) -> dict:
    return flow([
        component_node("File-1", "File", path=paths),
        component_node("OpenAIModel-1", "OpenAIModel", model_name="gpt-4.1-nano"),
        component_node("FDG-1", "FileDescriptionGeneratorComponent", **values),
    ], [
        edge("File-1", "dataframe", "FDG-1", "file_data", output_types=("DataFrame",), input_types=("Data", "DataFrame", "Message")),
        edge("OpenAIModel-1", "model_output", "FDG-1", "llm", **LLM_EDGE),
    ])


@pytest.fixture
def store(tmp_path: Path) -> LocalFileStore:
    (tmp_path / "flow1").mkdir()
    (tmp_path / "flow1" / "sales.csv").write_text("region,revenue\nnorth,10\nsouth,12\n")
    (tmp_path / "flow1" / "blank.txt").write_text("   \n")
    (tmp_path / "flow1" / "notes.md").write_text("# Release notes\n\n" + "Fixed a bug.\n" * 3000)
    return LocalFileStore(tmp_path)


async def test_each_file_gets_a_description_from_the_wired_model(store: LocalFileStore) -> None:
    model = FakeChatModel([lambda ms: "Sales by region." if "sales.csv" in (ms[-1].content or "") else "Release notes."] * 2)
    ran = await run(describe_flow(["flow1/sales.csv", "flow1/notes.md"], batch_size=1), model=model, variables={"OPENAI_API_KEY": "k"},
                    file_store=store)
    rows = ran.vertex("FDG-1").values["descriptions"]
    assert sorted((r.data["file_path"], r.data["text"]) for r in rows) == [("flow1/notes.md", "Release notes."), ("flow1/sales.csv", "Sales by region.")]
    prompts = [c["messages"][-1].content for c in model.calls]
    assert any("File name: sales.csv" in p and "north,10" in p for p in prompts)
    notes = next(p for p in prompts if "notes.md" in p)
    assert notes.endswith("[... shortened ...]") and len(notes) < 13_000  # a long file is shortened before the model reads it
    assert ran.models.configs[-1].model == "gpt-4.1-nano"


async def test_a_file_without_a_description_fails_the_node_naming_it(store: LocalFileStore) -> None:
    with pytest.raises(Exception, match=r"Ingestion failed: 1/2 files did not get descriptions\.\n  - the file has no text: \['blank\.txt'\]"):
        await run(describe_flow(["flow1/sales.csv", "flow1/blank.txt"]), model=FakeChatModel(), variables={"OPENAI_API_KEY": "k"}, file_store=store)


async def test_messages_without_a_file_path_are_skipped_and_a_model_is_needed(store: LocalFileStore) -> None:
    # The real export wires a model's text into File Data: no file path, so no descriptions.
    exported = flow([component_node("ChatInput-1", "ChatInput"), component_node("FDG-1", "FileDescriptionGeneratorComponent")],
                    [edge("ChatInput-1", "message", "FDG-1", "file_data", input_types=("Data", "DataFrame", "Message"))])
    ran = await run(exported, "write a test plan", file_store=store)
    assert ran.vertex("FDG-1").values["descriptions"] == []
    no_model = flow([component_node("File-1", "File", path=["flow1/notes.md"]), component_node("FDG-1", "FileDescriptionGeneratorComponent")],
                    [edge("File-1", "dataframe", "FDG-1", "file_data", output_types=("DataFrame",), input_types=("Data", "DataFrame", "Message"))])
    with pytest.raises(ConfigurationError, match="connect a Language Model"):
        await run(no_model, file_store=store)
