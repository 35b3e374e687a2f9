"""Node shapes of older Langflow exports that real flows still carry: Save to File before 1.4
(`input_type` / `df` / `data` / `message` / `file_path`, output `confirmation`) and Split Text's
`chunks` output fed nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from flowless_engine.components.base import Component, Output
from flowless_engine.errors import ComponentError
from flowless_engine.runtime.services import LocalFileStore
from flowless_engine.schema import Data
from tests.support.component_runs import run_flow, value
from tests.support.engine_kit import register_components
from tests.support.flows import edge, flow, node


def older_save_node(node_id: str, **values: Any) -> dict[str, Any]:
    """Save to File as Langflow 1.2/1.3 exported it."""
    saved = node(node_id, "SaveToFile")
    template = saved["data"]["node"]["template"]
    for name in ("input", "file_name", "local_format", "storage_location"):
        template.pop(name)
    fields = {"input_type": "DataFrame", "df": "", "data": "", "message": "", "file_format": "json", "file_path": "./output", **values}
    for name, field_value in fields.items():
        template[name] = {"name": name, "type": "other" if name in {"df", "data"} else "str", "value": field_value, "show": True,
                          "input_types": ["Message"] if name == "message" else ["Data"] if name == "data" else []}
    saved["data"]["node"]["outputs"] = [{"name": "confirmation", "method": "save_to_file", "types": ["Text"]}]
    return saved


async def test_older_save_to_file_writes_the_chosen_input(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    exported = flow("save", [
        node("TextInput-t", "TextInput", {"input_value": "meeting notes"}),
        older_save_node("SaveToFile-s", input_type="Message", file_format="txt", file_path="./out/notes.txt"),
        node("TextOutput-o", "TextOutput"),
    ], [edge("TextInput-t", "text", "SaveToFile-s", "message"), edge("SaveToFile-s", "confirmation", "TextOutput-o", "input_value")])
    result = await run_flow(exported, files=store)
    text = value(result, "TextOutput-o").text
    assert text.startswith("Message saved successfully as 'files/") and text.endswith("/notes.txt'")
    assert (await store.read(text.split("'")[1])).decode() == "meeting notes"


async def test_older_save_to_file_as_json_and_without_a_name(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    exported = flow("save", [
        node("TextInput-t", "TextInput", {"input_value": '{"a": 1}'}),
        node("ParseJSONData-p", "ParseJSONData", {"query": "."}),
        older_save_node("SaveToFile-s", input_type="Data"),
    ], [edge("TextInput-t", "text", "ParseJSONData-p", "input_value"), edge("ParseJSONData-p", "filtered_data", "SaveToFile-s", "data")])
    result = await run_flow(exported, files=store)
    text = value(result, "SaveToFile-s").text
    assert text.endswith("/output.json'")
    assert json.loads(await store.read(text.split("'")[1])) == {"a": 1}
    exported["data"]["nodes"][2]["data"]["node"]["template"]["file_path"]["value"] = "./"
    with pytest.raises(ComponentError, match="File name must be provided"):
        await run_flow(exported, files=store)


class NothingLoaded(Component):
    """A loader that found nothing (an empty folder, no page loaded): an empty list of Data."""

    type_name = "TestNothingLoaded"
    outputs = (Output("data", "load", ("Data",)),)

    async def load(self) -> list[Data]:
        return []


async def test_older_split_text_fed_nothing_gives_no_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    register_components(monkeypatch, NothingLoaded)
    splitter = node("SplitText-s", "SplitText")
    splitter["data"]["node"]["outputs"] = [{"name": "chunks", "method": "split_text", "types": ["Data"]}]
    exported = flow("split", [node("TestNothingLoaded-n", "TestNothingLoaded"), splitter, node("ParseData-p", "ParseData")],
                    [edge("TestNothingLoaded-n", "data", "SplitText-s", "data_inputs", output_types=["Data"]),
                     edge("SplitText-s", "chunks", "ParseData-p", "data", output_types=["Data"])])
    result = await run_flow(exported)
    assert value(result, "SplitText-s", "chunks") == []
    assert value(result, "ParseData-p").text == ""
    # 1.13's `dataframe` output refuses it, as Langflow's does
    splitter["data"]["node"]["outputs"] = [{"name": "dataframe", "method": "split_text", "types": ["DataFrame"]}]
    exported["data"]["nodes"].pop()
    exported["data"]["edges"] = [edge("TestNothingLoaded-n", "data", "SplitText-s", "data_inputs", output_types=["Data"])]
    with pytest.raises(ComponentError, match="No data inputs provided"):
        await run_flow(exported)
