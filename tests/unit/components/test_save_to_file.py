"""Write File (SaveToFile) through the engine into a tenant's file folder: formats per input type,
the path returned, refusals (other storages, bad formats, no store)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from flowless_engine.errors import FileMissingError, FileRefusedError, ComponentError, ConfigurationError, FlowError
from flowless_engine.runtime.services import LocalFileStore
from tests.support.component_runs import run_flow, value
from tests.support.flows import edge, flow, node


def save_flow(values: dict, content: str, via: str = "text") -> dict:
    nodes = [node("TextInput-t", "TextInput", {"input_value": content}), node("SaveToFile-s", "SaveToFile", {"file_name": "report", **values})]
    edges = [edge("TextInput-t", "text", "SaveToFile-s", "input")]
    if via == "table":
        nodes.insert(1, node("ParseJSONData-p", "ParseJSONData", {"query": ".[]"}))
        nodes.insert(2, node("MergeDataComponent-m", "MergeDataComponent", {"operation": "Append"}))
        edges = [edge("TextInput-t", "text", "ParseJSONData-p", "input_value"),
                 edge("ParseJSONData-p", "filtered_data", "MergeDataComponent-m", "data_inputs"),
                 edge("MergeDataComponent-m", "combined_data", "SaveToFile-s", "input")]
    return flow("save", nodes, edges)


def saved_path(message_text: str) -> str:
    return message_text.split("'")[1]


async def test_message_as_txt_json_and_markdown(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    for fmt, expected in (("txt", "hello"), ("json", json.dumps({"message": "hello"}, indent=2)), ("markdown", "**Message:**\n\nhello")):
        result = await run_flow(save_flow({"local_format": fmt}, "hello"), files=store)
        text = value(result, "SaveToFile-s").text
        assert text.startswith("Message saved successfully as 'files/")
        path = saved_path(text)
        assert path.endswith(f"/report.{ {'markdown': 'md'}.get(fmt, fmt) }")
        assert (await store.read(path)).decode() == expected


async def test_table_as_csv_json_markdown_html(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    rows = [{"name": "a", "n": 1}, {"name": "b, c", "n": 2}]
    result = await run_flow(save_flow({"local_format": "csv"}, json.dumps(rows), via="table"), files=store)
    text = value(result, "SaveToFile-s").text
    assert text.startswith("DataFrame saved successfully as")
    assert list(csv.DictReader(io.StringIO((await store.read(saved_path(text))).decode()))) == [{"name": "a", "n": "1"}, {"name": "b, c", "n": "2"}]
    result = await run_flow(save_flow({"local_format": "json"}, json.dumps(rows), via="table"), files=store)
    assert json.loads(await store.read(saved_path(value(result, "SaveToFile-s").text))) == rows
    result = await run_flow(save_flow({"local_format": "markdown"}, json.dumps(rows), via="table"), files=store)
    assert (await store.read(saved_path(value(result, "SaveToFile-s").text))).decode().splitlines()[0].startswith("| name")
    result = await run_flow(save_flow({"local_format": "html"}, json.dumps(rows), via="table"), files=store)
    assert "<td>b, c</td>" in (await store.read(saved_path(value(result, "SaveToFile-s").text))).decode()


async def test_refusals(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    with pytest.raises(ComponentError, match="Invalid file format 'csv' for Message"):
        await run_flow(save_flow({"local_format": "csv"}, "hello"), files=store)
    with pytest.raises(ConfigurationError, match="saving to AWS is not available"):
        await run_flow(save_flow({"storage_location": [{"name": "AWS"}]}, "hello"), files=store)
    with pytest.raises(FlowError, match="No file store is configured"):
        await run_flow(save_flow({}, "hello"))
    result = await run_flow(save_flow({"local_format": "txt", "file_name": "../../etc/passwd"}, "x"), files=store)
    path = saved_path(value(result, "SaveToFile-s").text)
    assert path.startswith("files/") and path.endswith("/passwd.txt") and (tmp_path / path).is_file()


async def test_load_csv_and_json_from_the_tenants_files_and_strings(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    csv_path = await store.write("people.csv", b"\xef\xbb\xbfname,age\nAda,36\nAlan,41\n", "text/csv")
    json_path = await store.write("cfg.json", b'[{"a": 1}, {"a": 2}]', "application/json")
    result = await run_flow(flow("l", [node("CSVtoData-c", "CSVtoData", {"csv_file": csv_path, "text_key": "name"}),
                                       node("JSONtoData-j", "JSONtoData", {"json_path": json_path})], []), files=store)
    rows = value(result, "CSVtoData-c")
    assert [r.data for r in rows] == [{"name": "Ada", "age": "36"}, {"name": "Alan", "age": "41"}] and rows[0].text == "Ada"
    assert [d.data for d in value(result, "JSONtoData-j")] == [{"a": 1}, {"a": 2}]
    result = await run_flow(flow("s", [node("JSONtoData-j", "JSONtoData", {"json_string": "{'k': 'v',}"})], []), files=store)
    assert value(result, "JSONtoData-j").data == {"k": "v"}
    with pytest.raises(ComponentError, match="exactly one of"):
        await run_flow(flow("s", [node("CSVtoData-c", "CSVtoData", {"csv_string": "a\n1", "csv_path": "x.csv"})], []), files=store)
    with pytest.raises(FileRefusedError, match="File path refused"):  # a 422, not a component failure
        await run_flow(flow("s", [node("CSVtoData-c", "CSVtoData", {"csv_path": "../../etc/passwd.csv"})], []), files=store)
    with pytest.raises(FileMissingError, match="File not found: nothing.csv"):
        await run_flow(flow("s", [node("CSVtoData-c", "CSVtoData", {"csv_path": "nothing.csv"})], []), files=store)


async def test_read_file_storage_location_and_path_string(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    path = await store.write("notes.txt", b"written then read", "text/plain")
    result = await run_flow(flow("r", [node("File-f", "File", {"file_path_str": path})], []), files=store)
    assert value(result, "File-f").text == "written then read"
    with pytest.raises(ConfigurationError, match="reading from AWS is not available"):
        await run_flow(flow("r", [node("File-f", "File", {"file_path_str": path, "storage_location": [{"name": "AWS"}]})], []), files=store)


async def test_directory_loads_the_tenants_files_by_type(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    notes = await store.write("notes.md", b"# Notes", "text/markdown")
    await store.write("data.csv", b"a,b\n1,2\n", "text/csv")
    await store.write(".hidden.md", b"secret", "text/markdown")
    result = await run_flow(flow("d", [node("Directory-d", "Directory", {"types": ["md"]})], []), files=store)
    assert value(result, "Directory-d").rows == [{"file_path": notes, "text": "# Notes"}]
    folder = notes.rsplit("/", 1)[0]
    result = await run_flow(flow("d", [node("Directory-d", "Directory", {"path": folder})], []), files=store)
    assert [r["file_path"] for r in value(result, "Directory-d").rows] == [notes]
    result = await run_flow(flow("d", [node("Directory-d", "Directory", {"path": ".", "types": []})], []), files=store)
    assert len(value(result, "Directory-d").rows) == 2
