"""AssemblyAI's bundle nodes over its REST API (no SDK): start a transcription (an audio URL, or a
tenant file uploaded with `POST /v2/upload`; `POST /v2/transcript`), poll it (`GET
/v2/transcript/<id>`), export subtitles (`GET /v2/transcript/<id>/srt|vtt`), list transcripts
(`GET /v2/transcript`, following `page_details.prev_url`), and LeMUR (`POST
/lemur/v3/generate/task|summary|question-answer`). The key goes in the `authorization` header.

The endpoint can be replaced (`EngineSettings.service_urls`: assemblyai). As Langflow's nodes do,
a failed job or a request AssemblyAI rejects comes out as `Data({"error": ...})` for the next
node; a refused key is a clear 4xx, 429/5xx are retried then 502, no answer in time 504, and a
job still running after `MAX_WAIT_S` a 504 too.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import parse_qs, urlsplit

from flowless_engine.components.apis import api_key, call_json, refused_status, service_url
from flowless_engine.components.base import Component, Input, Output, to_bool, to_int, to_text
from flowless_engine.errors import ConfigurationError, FileMissingError, ProviderTimeoutError
from flowless_engine.schema import Data

PROVIDER = "AssemblyAI"
MAX_WAIT_S = 600.0
MAX_LIST_PAGES = 50
LEMUR_MODELS = {"claude3_5_sonnet": "anthropic/claude-3-5-sonnet", "claude3_opus": "anthropic/claude-3-opus",
                "claude3_haiku": "anthropic/claude-3-haiku", "claude3_sonnet": "anthropic/claude-3-sonnet"}
_KEY = Input("api_key", "Assembly API Key", "str", "", required=True, password=True, load_from_db=True,
             info="Your AssemblyAI API key. You can get one from https://www.assemblyai.com/", input_kind="SecretStrInput")
_RESULT = Input("transcription_result", "Transcription Result", "other", "", input_types=("Data", "JSON"), required=True,
                info="The transcription result from AssemblyAI", input_kind="DataInput")


class _Rejected(Exception):
    """AssemblyAI refused the request for a reason other than the key (reported as Data)."""


def _data(value: Any) -> dict[str, Any]:
    if isinstance(value, Data):
        return dict(value.data)
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, list) and value:
        return _data(value[0])
    return {}


class _AssemblyAI(Component):
    category = "assemblyai"
    icon = "AssemblyAI"
    POLL_INTERVAL_S = 3.0  # LeMUR's wait for its transcripts; the poller's own interval is a field (at least this)

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        key = await api_key(self, "api_key", PROVIDER)
        base = service_url(self, "assemblyai", "https://api.assemblyai.com")
        headers = {"authorization": key, **kwargs.pop("headers", {})}
        try:
            return await call_json(self, PROVIDER, method, f"{base}{path}", headers=headers, **kwargs)
        except ConfigurationError as exc:
            if refused_status(exc) in (401, 403):
                raise
            raise _Rejected(exc.message) from exc

    async def _wait(self, transcript_id: str, interval: float) -> dict[str, Any]:
        """The transcript once `completed` or `error` (bounded by MAX_WAIT_S)."""
        deadline = time.monotonic() + MAX_WAIT_S
        while True:
            transcript = await self._call("GET", f"/v2/transcript/{transcript_id}")
            if transcript.get("status") in ("completed", "error"):
                return transcript
            if time.monotonic() >= deadline:
                raise ProviderTimeoutError(f"AssemblyAI transcript {transcript_id} did not finish within {MAX_WAIT_S:g}s "
                                           f"(last status: {transcript.get('status')})", provider=PROVIDER)
            await asyncio.sleep(interval)

    def _error(self, message: str) -> Data:
        self.status = message
        return Data(data={"error": message})


class AssemblyAITranscriptionJobCreator(_AssemblyAI):
    type_name = "AssemblyAITranscriptionJobCreator"
    display_name = "AssemblyAI Start Transcript"
    description = "Create a transcription job for an audio file using AssemblyAI with advanced options"
    inputs = (
        _KEY,
        Input("audio_file", "Audio File", "file", "", info="The audio file to transcribe (one of the tenant's files)", input_kind="FileInput"),
        Input("audio_file_url", "Audio File URL", "str", "", input_types=("Message",), advanced=True,
              info="The URL of the audio file to transcribe (Can be used instead of a File)", input_kind="MessageTextInput"),
        Input("speech_model", "Speech Model", "str", "best", options=("best", "nano"), advanced=True, info="The speech model to use for the transcription",
              input_kind="DropdownInput"),
        Input("language_detection", "Automatic Language Detection", "bool", False, advanced=True, info="Enable automatic language detection",
              input_kind="BoolInput"),
        Input("language_code", "Language", "str", "", input_types=("Message",), advanced=True, info="The language of the audio file.",
              input_kind="MessageTextInput"),
        Input("speaker_labels", "Enable Speaker Labels", "bool", False, info="Enable speaker diarization", input_kind="BoolInput"),
        Input("speakers_expected", "Expected Number of Speakers", "str", "", input_types=("Message",), advanced=True,
              info="Set the expected number of speakers (optional, enter a number)", input_kind="MessageTextInput"),
        Input("punctuate", "Punctuate", "bool", True, advanced=True, info="Enable automatic punctuation", input_kind="BoolInput"),
        Input("format_text", "Format Text", "bool", True, advanced=True, info="Enable text formatting", input_kind="BoolInput"),
    )
    outputs = (Output("transcript_id", "create_transcription_job", ("Data",), "Transcript ID"),)

    def _file_path(self) -> str:
        stored = self.field_spec("audio_file").get("file_path") or self.params.get("audio_file")
        if isinstance(stored, list):
            stored = stored[0] if stored else ""
        return to_text(stored).strip()

    async def create_transcription_job(self) -> Data:
        speakers = to_text(self.params.get("speakers_expected")).strip()
        if speakers and not speakers.isdigit():
            return self._error("Error: Expected Number of Speakers must be a valid integer")
        path, url = self._file_path(), to_text(self.params.get("audio_file_url")).strip()
        if not path and not url:
            return self._error("Error: Either an audio file or an audio URL must be specified")
        try:
            if path:
                if url:
                    self.log("Both an audio file an audio URL were specified. The audio URL was ignored.")
                try:
                    audio = await self.ctx.files.read(path)
                except FileNotFoundError as exc:
                    raise FileMissingError(f"File not found: {path}", path=path) from exc
                self.log(f"Uploading {PurePosixPath(path).name} ({len(audio)} bytes)")
                url = (await self._call("POST", "/v2/upload", content=audio, headers={"content-type": "application/octet-stream"}))["upload_url"]
            body: dict[str, Any] = {"audio_url": url, "speech_model": to_text(self.param("speech_model", "best")) or "best",
                                    "language_detection": to_bool(self.param("language_detection", False)),
                                    "speaker_labels": to_bool(self.param("speaker_labels", False)),
                                    "punctuate": to_bool(self.param("punctuate", True)), "format_text": to_bool(self.param("format_text", True))}
            if to_text(self.params.get("language_code")).strip():
                body["language_code"] = to_text(self.params.get("language_code")).strip()
            if speakers:
                body["speakers_expected"] = int(speakers)
            job = await self._call("POST", "/v2/transcript", json_body=body)
        except _Rejected as exc:
            return self._error(f"An error occurred: {exc}")
        if job.get("error"):
            return self._error(str(job["error"]))
        result = Data(data={"transcript_id": job.get("id")})
        self.status = result
        return result


class AssemblyAITranscriptionJobPoller(_AssemblyAI):
    type_name = "AssemblyAITranscriptionJobPoller"
    display_name = "AssemblyAI Poll Transcript"
    description = "Poll for the status of a transcription job using AssemblyAI"
    inputs = (
        _KEY,
        Input("transcript_id", "Transcript ID", "other", "", input_types=("Data", "JSON"), required=True, info="The ID of the transcription job to poll",
              input_kind="DataInput"),
        Input("polling_interval", "Polling Interval", "float", 3.0, advanced=True, info="The polling interval in seconds", input_kind="FloatInput"),
    )
    outputs = (Output("transcription_result", "poll_transcription_job", ("Data",), "Transcription Result"),)

    async def poll_transcription_job(self) -> Data:
        given = _data(self.params.get("transcript_id"))
        if given.get("error"):
            self.status = given["error"]
            return Data(data=given)
        transcript_id = to_text(given.get("transcript_id") or given.get("id")).strip()
        if not transcript_id:
            return self._error("Getting transcription failed: no transcript_id in the input")
        interval = min(30.0, max(self.POLL_INTERVAL_S, float(to_text(self.param("polling_interval", 3.0)) or 3.0)))
        try:
            transcript = await self._wait(transcript_id, interval)
        except _Rejected as exc:
            return self._error(f"Getting transcription failed: {exc}")
        if transcript.get("status") != "completed":
            return self._error(str(transcript.get("error") or "Transcription failed"))
        rest = dict(transcript)
        ordered = {"text": rest.pop("text", None), "utterances": rest.pop("utterances", None), "id": rest.pop("id", None), **rest}
        result = Data(data=ordered)
        self.status = result
        return result


class AssemblyAIGetSubtitles(_AssemblyAI):
    type_name = "AssemblyAIGetSubtitles"
    display_name = "AssemblyAI Get Subtitles"
    description = "Export your transcript in SRT or VTT format for subtitles and closed captions"
    inputs = (
        _KEY,
        _RESULT,
        Input("subtitle_format", "Subtitle Format", "str", "srt", options=("srt", "vtt"), info="The format of the captions (SRT or VTT)",
              input_kind="DropdownInput"),
        Input("chars_per_caption", "Characters per Caption", "int", 0, advanced=True,
              info="The maximum number of characters per caption (0 for no limit)", input_kind="IntInput"),
    )
    outputs = (Output("subtitles", "get_subtitles", ("Data",), "Subtitles"),)

    async def get_subtitles(self) -> Data:
        given = _data(self.params.get("transcription_result"))
        if given.get("error"):
            self.status = given["error"]
            return Data(data=given)
        transcript_id = to_text(given.get("id")).strip()
        fmt = "vtt" if to_text(self.param("subtitle_format", "srt")) == "vtt" else "srt"
        chars = to_int(self.param("chars_per_caption", 0), 0)
        try:
            if not transcript_id:
                raise _Rejected("no transcript id in the transcription result")
            transcript = await self._call("GET", f"/v2/transcript/{transcript_id}")
            if transcript.get("status") != "completed":
                return self._error(str(transcript.get("error") or f"Transcript {transcript_id} is {transcript.get('status')}"))
            from flowless_engine.components.apis import call_api

            key = await api_key(self, "api_key", PROVIDER)
            base = service_url(self, "assemblyai", "https://api.assemblyai.com")
            params = {"chars_per_caption": chars} if chars > 0 else None
            try:
                subtitles = (await call_api(self, PROVIDER, "GET", f"{base}/v2/transcript/{transcript_id}/{fmt}", params=params,
                                            headers={"authorization": key})).text
            except ConfigurationError as exc:
                if refused_status(exc) in (401, 403):
                    raise
                raise _Rejected(exc.message) from exc
        except _Rejected as exc:
            return self._error(f"Getting transcription failed: {exc}")
        result = Data(data={"subtitles": subtitles, "format": fmt, "transcript_id": transcript_id, "chars_per_caption": chars if chars > 0 else None})
        self.status = result
        return result


class AssemblyAIListTranscripts(_AssemblyAI):
    type_name = "AssemblyAIListTranscripts"
    display_name = "AssemblyAI List Transcripts"
    description = "Retrieve a list of transcripts from AssemblyAI with filtering options"
    inputs = (
        _KEY,
        Input("limit", "Limit", "int", 20, info="Maximum number of transcripts to retrieve (default: 20, use 0 for all)", input_kind="IntInput"),
        Input("status_filter", "Status Filter", "str", "all", options=("all", "queued", "processing", "completed", "error"), advanced=True,
              info="Filter by transcript status", input_kind="DropdownInput"),
        Input("created_on", "Created On", "str", "", input_types=("Message",), advanced=True, info="Only get transcripts created on this date (YYYY-MM-DD)",
              input_kind="MessageTextInput"),
        Input("throttled_only", "Throttled Only", "bool", False, advanced=True, info="Only get throttled transcripts, overrides the status filter",
              input_kind="BoolInput"),
    )
    outputs = (Output("transcript_list", "list_transcripts", ("Data",), "Transcript List"),)

    async def list_transcripts(self) -> list[Data]:
        limit = to_int(self.param("limit", 20), 20)
        params: dict[str, Any] = {"limit": limit or 100}
        status = to_text(self.param("status_filter", "all"))
        if status and status != "all":
            params["status"] = status
        if to_text(self.params.get("created_on")).strip():
            params["created_on"] = to_text(self.params.get("created_on")).strip()
        if to_bool(self.param("throttled_only", False)):
            params["throttled_only"] = True
        rows: list[Data] = []
        try:
            for _ in range(MAX_LIST_PAGES if limit == 0 else 1):
                page = await self._call("GET", "/v2/transcript", params=params)
                rows.extend(Data(data=dict(t)) for t in page.get("transcripts") or [] if isinstance(t, dict))
                previous = (page.get("page_details") or {}).get("prev_url")
                before = parse_qs(urlsplit(previous).query).get("before_id", [None])[0] if previous else None
                if not before:
                    break
                params["before_id"] = before
        except _Rejected as exc:
            rows = [Data(data={"error": f"An error occurred: {exc}"})]
        self.status = rows
        return rows


class AssemblyAILeMUR(_AssemblyAI):
    type_name = "AssemblyAILeMUR"
    display_name = "AssemblyAI LeMUR"
    description = "Apply Large Language Models to spoken data using the AssemblyAI LeMUR framework"
    inputs = (
        _KEY,
        _RESULT,
        Input("prompt", "Input Prompt", "str", "", input_types=("Message",), required=True, multiline=True, info="The text to prompt the model",
              input_kind="MultilineInput"),
        Input("final_model", "Final Model", "str", "claude3_5_sonnet", options=tuple(LEMUR_MODELS), advanced=True,
              info="The model that is used for the final prompt after compression is performed", input_kind="DropdownInput"),
        Input("temperature", "Temperature", "float", 0.0, advanced=True, info="The temperature to use for the model", input_kind="FloatInput"),
        Input("max_output_size", " Max Output Size", "int", 2000, advanced=True, info="Max output size in tokens, up to 4000", input_kind="IntInput"),
        Input("endpoint", "Endpoint", "str", "task", options=("task", "summary", "question-answer"), advanced=True,
              info="The LeMUR endpoint to use.", input_kind="DropdownInput"),
        Input("questions", "Questions", "str", "", input_types=("Message",), advanced=True, multiline=True,
              info="Comma-separated list of your questions. Only used if Endpoint is 'question-answer'", input_kind="MultilineInput"),
        Input("transcript_ids", "Transcript IDs", "str", "", input_types=("Message",), advanced=True, multiline=True,
              info="Comma-separated list of transcript IDs. If provided, the Transcription Result is ignored.", input_kind="MultilineInput"),
    )
    outputs = (Output("lemur_response", "run_lemur", ("Data",), "LeMUR Response"),)

    async def run_lemur(self) -> Data:
        given = _data(self.params.get("transcription_result"))
        listed = [t.strip() for t in to_text(self.params.get("transcript_ids")).split(",") if t.strip()]
        endpoint = to_text(self.param("endpoint", "task")) or "task"
        prompt, questions = to_text(self.params.get("prompt")), to_text(self.params.get("questions"))
        if not given and not listed:
            return self._error("Either a Transcription Result or Transcript IDs must be provided")
        if given.get("error"):
            self.status = given["error"]
            return Data(data=given)
        if endpoint == "task" and not prompt:
            return self._error("No prompt specified")
        if endpoint == "question-answer" and not questions:
            return self._error("No Questions were provided for the question-answer endpoint")
        model = LEMUR_MODELS.get(to_text(self.param("final_model", "claude3_5_sonnet")))
        if endpoint not in ("task", "summary", "question-answer") or model is None:
            return self._error(f"An Error happened: Endpoint or model not supported: {endpoint}, {self.params.get('final_model')}")
        ids = [to_text(given["id"])] if given.get("id") else listed
        if not ids:
            return self._error("Either a valid Transcription Result or valid Transcript IDs must be provided")
        try:
            for transcript_id in ids:
                transcript = await self._wait(transcript_id, self.POLL_INTERVAL_S)
                if transcript.get("status") == "error":
                    return self._error(str(transcript.get("error") or "Transcription failed"))
            body: dict[str, Any] = {"transcript_ids": ids, "final_model": model, "temperature": float(to_text(self.param("temperature", 0.0)) or 0.0),
                                    "max_output_size": to_int(self.param("max_output_size", 2000), 2000)}
            if endpoint == "task":
                body["prompt"] = prompt
            elif endpoint == "question-answer":
                body["questions"] = [{"question": q.strip()} for q in questions.split(",") if q.strip()]
            response = await self._call("POST", f"/lemur/v3/generate/{endpoint}", json_body=body, timeout=120)
        except _Rejected as exc:
            return self._error(f"An Error happened: {exc}")
        result = Data(data=response if isinstance(response, dict) else {"response": response})
        self.status = result
        return result
