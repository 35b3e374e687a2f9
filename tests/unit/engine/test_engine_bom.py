"""Flow files saved with a UTF-8 byte-order mark (seen in a real export) load and run like any other."""

from __future__ import annotations

import json
from pathlib import Path

from flowless_engine.api import run_flow_from_json
from flowless_engine.graph.loader import load_graph

REPO = Path(__file__).resolve().parents[3]
ECHO = REPO / "flows" / "echo-prompt.json"
BOM = "\ufeff"


def test_load_graph_accepts_text_and_bytes_with_a_bom() -> None:
    text = ECHO.read_text(encoding="utf-8")
    plain = load_graph(text)
    for source in (BOM + text, (BOM + text).encode("utf-8")):
        graph = load_graph(source)
        assert (graph.flow_id, list(graph.vertices)) == (plain.flow_id, list(plain.vertices))


def test_run_flow_from_json_runs_a_file_and_text_with_a_bom(tmp_path: Path) -> None:
    path = tmp_path / "exported.json"
    path.write_bytes(b"\xef\xbb\xbf" + ECHO.read_bytes())
    for source in (path, str(path), BOM + ECHO.read_text(encoding="utf-8")):
        (result,) = run_flow_from_json(source, "hi")
        assert result.outputs[0].results["message"].text.startswith("You said: hi")


def test_a_bom_in_the_middle_is_still_malformed() -> None:
    import pytest

    from flowless_engine.errors import InvalidFlowError

    with pytest.raises(InvalidFlowError, match="not valid JSON"):
        load_graph('{"data": ' + BOM + json.dumps({"nodes": [], "edges": []}) + "}")
