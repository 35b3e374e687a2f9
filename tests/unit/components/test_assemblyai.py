"""AssemblyAI's bundle nodes through the engine (start → poll → subtitles / LeMUR, list) against
tests/support/assemblyai_server.py; the tenant's audio file from a local file store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from flowless_engine.components import assemblyai as module
from flowless_engine.errors import ConfigurationError, ProviderError, ProviderTimeoutError
from flowless_engine.runtime.services import LocalFileStore
from flowless_engine.settings import EngineSettings
from tests.support.assemblyai_server import API_KEY, TEXT, AssemblyAIServer
from tests.support.component_runs import run_flow, value
from tests.support.flows import edge, flow, node

KEY = {"api_key": "AAI"}


@pytest.fixture(scope="module")
def server() -> Iterator[AssemblyAIServer]:
    with AssemblyAIServer() as s:
        yield s


@pytest.fixture(autouse=True)
def fast(monkeypatch: pytest.MonkeyPatch, server: AssemblyAIServer) -> None:
    monkeypatch.setattr(module._AssemblyAI, "POLL_INTERVAL_S", 0.01)
    server.reset()
    server.processing_polls, server.fail_audio = 1, False


def settings(server: AssemblyAIServer, **extra: object) -> EngineSettings:
    return EngineSettings(**{"allow_loopback": True, "service_urls": (("assemblyai", server.base_url),), "http_retries": 2, **extra})


def chain(last: str, last_values: dict, start: dict, last_field: str = "transcription_result") -> dict:
    """Start → Poll → `last` (each output feeding the next node)."""
    nodes = [node("AssemblyAITranscriptionJobCreator-s", "AssemblyAITranscriptionJobCreator", {**KEY, **start}),
             node("AssemblyAITranscriptionJobPoller-p", "AssemblyAITranscriptionJobPoller", {**KEY, "polling_interval": 0.01}),
             node(f"{last}-x", last, {**KEY, **last_values})]
    data = {"output_types": ["Data"], "input_types": ["Data"]}
    edges = [edge("AssemblyAITranscriptionJobCreator-s", "transcript_id", "AssemblyAITranscriptionJobPoller-p", "transcript_id", **data),
             edge("AssemblyAITranscriptionJobPoller-p", "transcription_result", f"{last}-x", last_field, **data)]
    return flow("t", nodes, edges)


async def test_upload_start_poll_and_subtitles(server: AssemblyAIServer, tmp_path: Path) -> None:
    (tmp_path / "f1").mkdir()
    (tmp_path / "f1" / "meeting.mp3").write_bytes(b"ID3 fake audio")
    start = {"audio_file": "f1/meeting.mp3", "speaker_labels": True, "speakers_expected": "2", "language_code": "en"}
    result = await run_flow(chain("AssemblyAIGetSubtitles", {"subtitle_format": "vtt", "chars_per_caption": 32}, start), settings=settings(server),
                            variables={"AAI": API_KEY}, files=LocalFileStore(tmp_path))
    assert server.uploads == [b"ID3 fake audio"]
    assert server.last_body == {"audio_url": "https://cdn.assemblyai.com/upload/1", "speech_model": "best", "language_detection": False,
                                "speaker_labels": True, "punctuate": True, "format_text": True, "language_code": "en", "speakers_expected": 2}
    assert value(result, "AssemblyAITranscriptionJobCreator-s").data == {"transcript_id": "tr-1"}
    polled = value(result, "AssemblyAITranscriptionJobPoller-p").data
    assert list(polled)[:3] == ["text", "utterances", "id"] and polled["text"] == TEXT and polled["utterances"][0]["speaker"] == "A"
    subtitles = value(result, "AssemblyAIGetSubtitles-x").data
    assert subtitles == {"subtitles": f"WEBVTT\n\n00:00.000 --> 00:03.000\n{TEXT}\n32", "format": "vtt", "transcript_id": "tr-1", "chars_per_caption": 32}
    assert server.requests[-1].q == {"chars_per_caption": "32"}


async def test_lemur_task_summary_and_questions(server: AssemblyAIServer) -> None:
    start = {"audio_file_url": "https://audio.example/a.mp3"}
    result = await run_flow(chain("AssemblyAILeMUR", {"prompt": "List the action items", "final_model": "claude3_haiku"}, start),
                            settings=settings(server), variables={"AAI": API_KEY})
    answer = value(result, "AssemblyAILeMUR-x").data
    assert answer == {"request_id": "lemur-1", "response": "List the action items -> done by anthropic/claude-3-haiku",
                      "usage": {"input_tokens": 120, "output_tokens": 12}}
    body = server.requests[-1].json()
    assert body == {"transcript_ids": ["tr-1"], "final_model": "anthropic/claude-3-haiku", "temperature": 0.0, "max_output_size": 2000,
                    "prompt": "List the action items"}
    lemur = node("AssemblyAILeMUR-l", "AssemblyAILeMUR", {**KEY, "prompt": "x", "endpoint": "question-answer", "questions": "Who?, When?",
                                                           "transcript_ids": "tr-1"})
    qa = value(await run_flow(flow("t", [lemur], []), settings=settings(server), variables={"AAI": API_KEY}), "AssemblyAILeMUR-l").data
    assert [a["answer"] for a in qa["response"]] == ["Answer to Who?", "Answer to When?"]
    lemur = node("AssemblyAILeMUR-l", "AssemblyAILeMUR", {**KEY, "prompt": "x", "endpoint": "summary", "transcript_ids": "tr-1"})
    summary = value(await run_flow(flow("t", [lemur], []), settings=settings(server), variables={"AAI": API_KEY}), "AssemblyAILeMUR-l").data
    assert summary["response"] == "Summary of tr-1" and "prompt" not in server.requests[-1].json()


async def test_failures_flow_on_as_error_data(server: AssemblyAIServer) -> None:
    server.fail_audio = True
    result = await run_flow(chain("AssemblyAIGetSubtitles", {}, {"audio_file_url": "https://audio.example/a.mp3"}), settings=settings(server),
                            variables={"AAI": API_KEY})
    assert value(result, "AssemblyAITranscriptionJobPoller-p").data == {"error": "Download error, unable to download the audio"}
    assert value(result, "AssemblyAIGetSubtitles-x").data == {"error": "Download error, unable to download the audio"}  # passed along
    result = await run_flow(chain("AssemblyAILeMUR", {"prompt": "x"}, {}), settings=settings(server), variables={"AAI": API_KEY})
    assert value(result, "AssemblyAITranscriptionJobCreator-s").data == {"error": "Error: Either an audio file or an audio URL must be specified"}
    lemur = node("AssemblyAILeMUR-l", "AssemblyAILeMUR", {**KEY, "prompt": "x", "transcript_ids": "nope"})
    bad = value(await run_flow(flow("t", [lemur], []), settings=settings(server), variables={"AAI": API_KEY}), "AssemblyAILeMUR-l").data
    assert bad == {"error": "An Error happened: AssemblyAI rejected the request (400): Transcript lookup error, transcript id not found"}


async def test_list_transcripts_pages_and_filters(server: AssemblyAIServer) -> None:
    lister = node("AssemblyAIListTranscripts-l", "AssemblyAIListTranscripts", {**KEY, "limit": 2})
    rows = value(await run_flow(flow("t", [lister], []), settings=settings(server), variables={"AAI": API_KEY}), "AssemblyAIListTranscripts-l")
    assert [d.data["id"] for d in rows] == ["old-4", "old-3"] and server.requests[-1].q == {"limit": "2"}
    lister = node("AssemblyAIListTranscripts-l", "AssemblyAIListTranscripts", {**KEY, "limit": 0, "status_filter": "error"})
    rows = value(await run_flow(flow("t", [lister], []), settings=settings(server), variables={"AAI": API_KEY}), "AssemblyAIListTranscripts-l")
    assert [d.data["id"] for d in rows] == ["old-4", "old-2", "old-0"] and rows[0].data["error"] == "Download error"


async def test_key_retries_and_timeouts(server: AssemblyAIServer, monkeypatch: pytest.MonkeyPatch) -> None:
    lister = flow("t", [node("AssemblyAIListTranscripts-l", "AssemblyAIListTranscripts", KEY)], [])
    with pytest.raises(ConfigurationError, match=r"AssemblyAI refused the credentials \(401\)"):
        await run_flow(lister, settings=settings(server), variables={"AAI": "wrong"})
    server.fail_next(2, 429)
    assert len(value(await run_flow(lister, settings=settings(server), variables={"AAI": API_KEY}), "AssemblyAIListTranscripts-l")) == 5
    server.fail_next(3, 503)
    with pytest.raises(ProviderError, match="AssemblyAI failed"):
        await run_flow(lister, settings=settings(server), variables={"AAI": API_KEY})
    server.delay_next(1.5)
    with pytest.raises(ProviderTimeoutError):
        await run_flow(lister, settings=settings(server, http_timeout_s=0.5, http_retries=0), variables={"AAI": API_KEY})
    monkeypatch.setattr(module, "MAX_WAIT_S", 0.05)
    server.processing_polls = 10_000
    with pytest.raises(ProviderTimeoutError, match="did not finish within 0.05s"):
        await run_flow(chain("AssemblyAIGetSubtitles", {}, {"audio_file_url": "https://a.example/x.mp3"}), settings=settings(server), variables={"AAI": API_KEY})
