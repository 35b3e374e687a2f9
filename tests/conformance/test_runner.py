"""The conformance runner (`make conformance`) on a small corpus written here: one line per flow
with the right verdict, the corpus summary, and the exit status from the expectations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowless_engine import http
from flowless_engine.errors import BlockedURLError
from tests.conformance.runner import Corpus, main, only_loopback
from tests.support.engine_kit import component_node, edge, llm_flow, raw_node, flow


def _write(folder: Path, name: str, exported: dict | str) -> None:
    text = exported if isinstance(exported, str) else json.dumps(exported)
    (folder / f"{name}.json").write_text(text, encoding="utf-8")


@pytest.fixture
def corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Corpus:
    from tests.conformance import services

    monkeypatch.setitem(services.NEEDS, "URLComponent", "the open web")  # a service the kit does not have
    folder = tmp_path / "corpus"
    folder.mkdir()
    _write(folder, "chat", llm_flow(model=[{"name": "gpt-4o-mini", "provider": "OpenAI"}]))
    _write(folder, "explicit endpoint", llm_flow(model=[{"name": "gpt-4o-mini", "provider": "OpenAI"}], base_url="https://api.openai.com/v1"))
    _write(folder, "alien", flow([component_node("ChatInput-1", "ChatInput"), raw_node("Frobnicator-1", "Frobnicator")],
                                 [edge("ChatInput-1", "message", "Frobnicator-1", "input_value")]))
    _write(folder, "web", flow([component_node("URLComponent-1", "URLComponent", urls=["https://example.com"])]))
    _write(folder, "broken", '{"data": {"nodes": [')
    project = [llm_flow(model=[{"name": "gpt-4o-mini", "provider": "OpenAI"}]), flow([raw_node("Frobnicator-2", "Frobnicator")])]
    project[0]["name"], project[1]["name"] = "in project", "alien in project"
    _write(folder, "project", {"flows": project, "folder_name": "My project", "folder_description": ""})
    return Corpus("tiny", folder)


def _expect(tmp_path: Path, names: list[str]) -> Path:
    path = tmp_path / "expected.json"
    path.write_text(json.dumps({"tiny": names}), encoding="utf-8")
    return path


def test_every_flow_gets_its_verdict_and_the_corpus_a_summary(corpus: Corpus, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([], corpus_list=[corpus], expected_path=_expect(tmp_path, ["chat", "explicit endpoint", "project/in project"])) == 0
    out = capsys.readouterr().out
    lines = {line.split(":", 1)[0].strip(): line.split(":", 1)[1].rsplit("  [", 1)[0].strip() for line in out.splitlines() if line.startswith("  ")}
    assert lines == {
        "alien": "refused: Frobnicator[Frobnicator-1]",
        "broken": "fails: does not load: Invalid flow: Flow is not valid JSON: Expecting value: line 1 column 21 (char 20)",
        "chat": "runs",
        "explicit endpoint": "runs",  # the model server's URL replaced the node's own
        "web": "loads but needs the open web (URLComponent-1)",
        "project/in project": "runs",  # a project export: each of its flows
        "project/alien in project": "refused: Frobnicator[Frobnicator-2]",
    }
    assert "-- tiny: 7 flows: 3 run (43%), 1 load but need a service or value, 2 refused, 1 fail" in out


def test_a_flow_expected_to_run_that_does_not_fails_the_run(corpus: Corpus, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([], corpus_list=[corpus], expected_path=_expect(tmp_path, ["chat", "web", "gone"])) == 1
    captured = capsys.readouterr()
    assert "REGRESSION tiny: web: loads but needs the open web (URLComponent-1)" in captured.err
    assert "REGRESSION tiny: gone: expected to run, but the corpus has no such flow" in captured.err
    assert "new pass (add it to expected.json): tiny: explicit endpoint" in captured.out


def test_update_writes_the_flows_that_run(corpus: Corpus, tmp_path: Path) -> None:
    expected = _expect(tmp_path, [])
    assert main(["--update"], corpus_list=[corpus], expected_path=expected) == 0
    assert json.loads(expected.read_text(encoding="utf-8")) == {"tiny": ["chat", "explicit endpoint", "project/in project"]}


async def test_only_loopback_hosts_are_reachable_during_a_run() -> None:
    client = http.HttpClient(allow_loopback=True)
    with only_loopback():
        with pytest.raises(BlockedURLError, match="conformance runs reach only the local test services, not 'example.com'"):
            await client.check_url("https://example.com/")
        await client.check_url("http://127.0.0.1:9/")
    assert http._split_host("https://example.com/") == ("example.com", 443)  # restored


def test_a_run_past_the_timeout_says_how_far_it_got(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.unit.engine.test_loop import loop_flow

    folder = tmp_path / "slow"
    folder.mkdir()
    _write(folder, "long loop", loop_flow(1000))  # a model call per item: far beyond the timeout below
    main(["--timeout", "0.3"], corpus_list=[Corpus("slow", folder)], expected_path=_expect(tmp_path, []))
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("  long loop"))
    assert "fails: no answer within 0.3 s (" in line and "vertex builds so far; LoopComponent-L: Starting loop over 1000 item(s))" in line
