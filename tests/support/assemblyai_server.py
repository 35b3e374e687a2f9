"""AssemblyAI's API on 127.0.0.1, from its public reference: `POST /v2/upload` (raw bytes →
{upload_url}), `POST /v2/transcript` ({audio_url, ...}) → {id, status: queued}; `GET
/v2/transcript/<id>` → queued / processing / completed (text, words, utterances with speaker
labels) or error; `GET /v2/transcript/<id>/srt|vtt` (`chars_per_caption`); `GET /v2/transcript`
(the list, newest first, `limit`, `status`, `before_id`; `page_details.prev_url` to the older
page); LeMUR `POST /lemur/v3/generate/task|summary|question-answer`. The key in the
`authorization` header, 401 otherwise; an unknown transcript id → 400 {"error": ...}.
`processing_polls` polls answer `processing` before the result; `fail_audio` makes it an error."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from tests.support.stub_http import Answer, StubRequest, StubServer

API_KEY = "aai-test"
TEXT = "Smoke from wildfires is spreading across the region."
LISTED = [{"id": f"old-{i}", "resource_url": f"https://api.assemblyai.com/v2/transcript/old-{i}", "status": "completed" if i % 2 else "error",
           "created": f"2026-12-0{i + 1}T10:00:00", "completed": f"2026-12-0{i + 1}T10:01:00", "audio_url": f"https://audio.example/{i}.mp3",
           "error": None if i % 2 else "Download error"} for i in range(5)][::-1]


class AssemblyAIServer(StubServer):
    def __init__(self) -> None:
        super().__init__()
        self.processing_polls = 2
        self.fail_audio = False
        self.last_body: Any = None
        self.uploads: list[bytes] = []
        self._polls = 0

    def route(self, r: StubRequest) -> Answer:
        if r.headers.get("authorization") != API_KEY:
            return 401, "application/json", {"error": "Authentication error, API token missing/invalid"}
        if r.method == "POST" and r.path == "/v2/upload":
            self.uploads.append(r.body)
            return 200, "application/json", {"upload_url": f"https://cdn.assemblyai.com/upload/{len(self.uploads)}"}
        body = r.json() if r.method == "POST" else None
        if r.method == "POST" and r.path == "/v2/transcript":
            self._polls = 0
            self.last_body = body
            return 200, "application/json", {"id": "tr-1", "status": "queued", "audio_url": body["audio_url"]}
        if r.method == "GET" and r.path == "/v2/transcript":
            return self._list(r.q)
        if r.method == "GET" and r.path in ("/v2/transcript/tr-1/srt", "/v2/transcript/tr-1/vtt"):
            width = r.q.get("chars_per_caption", "")
            if r.path.endswith("srt"):
                return 200, "text/plain", f"1\n00:00:00,000 --> 00:00:03,000\n{TEXT}\n{width}"
            return 200, "text/vtt", f"WEBVTT\n\n00:00.000 --> 00:03.000\n{TEXT}\n{width}"
        if r.method == "GET" and r.path == "/v2/transcript/tr-1":
            self._polls += 1
            if self._polls <= self.processing_polls:
                return 200, "application/json", {"id": "tr-1", "status": "processing"}
            if self.fail_audio:
                return 200, "application/json", {"id": "tr-1", "status": "error", "error": "Download error, unable to download the audio"}
            words = [{"text": w, "start": i * 300, "end": i * 300 + 250, "confidence": 0.9, "speaker": "A"} for i, w in enumerate(TEXT.split())]
            return 200, "application/json", {"id": "tr-1", "status": "completed", "audio_url": "https://audio.example/a.mp3", "text": TEXT,
                                             "words": words, "utterances": [{"speaker": "A", "text": TEXT, "start": 0, "end": 2700}],
                                             "confidence": 0.9, "language_code": "en_us"}
        if r.method == "GET" and r.path.startswith("/v2/transcript/"):
            return 400, "application/json", {"error": "Transcript lookup error, transcript id not found"}
        if r.method == "POST" and r.path.startswith("/lemur/v3/generate/"):
            kind = r.path.rsplit("/", 1)[-1]
            if kind == "question-answer":
                response: Any = [{"question": q["question"], "answer": f"Answer to {q['question']}"} for q in body["questions"]]
            elif kind == "summary":
                response = f"Summary of {', '.join(body['transcript_ids'])}"
            else:
                response = f"{body['prompt']} -> done by {body['final_model']}"
            return 200, "application/json", {"request_id": "lemur-1", "response": response, "usage": {"input_tokens": 120, "output_tokens": 12}}
        return 404, "application/json", {"error": "not found"}

    def _list(self, q: dict[str, str]) -> Answer:
        items = [t for t in LISTED if not q.get("status") or t["status"] == q["status"]]
        if q.get("before_id"):
            ids = [t["id"] for t in items]
            items = items[ids.index(q["before_id"]) + 1:] if q["before_id"] in ids else []
        limit = int(q.get("limit", 10))
        page, rest = items[:limit], items[limit:]
        prev = f"https://api.assemblyai.com/v2/transcript?{urlencode({'limit': limit, 'before_id': page[-1]['id']})}" if page and rest else None
        return 200, "application/json", {"transcripts": page, "page_details": {"limit": limit, "result_count": len(page), "current_url": "",
                                                                                "prev_url": prev, "next_url": None}}
