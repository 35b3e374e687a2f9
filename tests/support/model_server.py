"""A fake model server that answers over real HTTP, for tests and benchmarks (stdlib only).

It speaks OpenAI Chat Completions and Embeddings (`/v1/...`, or under any prefix the
OpenAI-compatible services use: Groq's `/openai/v1`, Azure's `/openai/deployments/<name>`...),
Anthropic Messages (`/v1/messages`) and Ollama (`/api/chat`, `/api/embed`), streamed or not, and
answers deterministically:

- a scripted reply, when `script([...])` queued one (FIFO);
- a forced tool (Anthropic `tool_choice: {"type": "tool"}`): that tool, its input filled from the schema;
- the last message is a tool result: "The answer is <result>.";
- tools are offered, the last message is the user's and holds an arithmetic expression, and a
  tool named like "calc" (or "evaluate_expression") is offered: one call to it with
  {"expression": "<the expression>"};
- a JSON schema is asked for (OpenAI `response_format`, Ollama `format`): an object filling it;
- otherwise "Echo: <last user message>".

Usage: prompt tokens = words in all messages, completion tokens = words in the answer.

Knobs: `script(replies)`, `fail_next(n, status, retry_after=None)`, `delay_s` (before
answering), `chunk_delay_s` (between streamed chunks), `break_stream_next(clean=False)` (cut
the next stream before it completes; `clean` ends the HTTP body properly, otherwise the
connection drops mid-body). `GET|POST /redirect?to=<url>[&status=302]` answers a redirect
(without `to`, to itself: a redirect loop).
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

_EXPRESSION = re.compile(r"[\d(][\d\s+\-*/().]*[\d)]")
_OPERATOR = re.compile(r"[\d)]\s*[+\-*/]\s*[\d(]")
_CHAT_PATHS = frozenset({"/v1/chat/completions", "/v1/messages", "/api/chat"})
_CREATED = 1_700_000_000  # fixed timestamp: answers are byte-for-byte reproducible


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any  # parsed JSON, the raw text when it is not JSON, None when empty
    client: str = ""  # "host:port" of the connection it came on (shows connection reuse)


@dataclass
class Answer:
    text: str = ""
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (name, arguments)

    @property
    def words(self) -> int:
        if self.tool_calls:
            return sum(_count_words(json.dumps(args)) for _, args in self.tool_calls) or 1
        return _count_words(self.text)


@dataclass
class Turn:
    role: str  # "system" | "user" | "assistant" | "tool"
    text: str


@dataclass
class Conversation:
    """A request in neutral form, whatever wire format it came in."""

    turns: list[Turn]
    tools: dict[str, dict[str, Any]]  # name -> argument schema
    response_schema: dict[str, Any] | None = None
    forced_tool: str | None = None

    @property
    def last_user_text(self) -> str:
        return next((t.text for t in reversed(self.turns) if t.role == "user"), "")

    @property
    def prompt_words(self) -> int:
        return sum(_count_words(t.text) for t in self.turns)


def _count_words(text: str) -> int:
    return len(text.split())


def find_expression(text: str) -> str | None:
    """The first arithmetic expression in `text` ("12 * (3 + 4)"), if any."""
    for match in _EXPRESSION.finditer(text):
        candidate = match.group(0).strip()
        if _OPERATOR.search(candidate):
            return candidate
    return None


def fill_schema(schema: dict[str, Any], text: str, root: dict[str, Any] | None = None, name: str | None = None) -> Any:
    """A value satisfying `schema`; strings are taken from `text` after the property's name."""
    root = root if root is not None else schema
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        return fill_schema(target, text, root, name)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        options = [o for o in schema.get(key) or [] if o.get("type") != "null"]
        if options:
            return fill_schema(options[0], text, root, name)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else "array" if "items" in schema else "string"
    if kind == "object":
        return {key: fill_schema(sub, text, root, key) for key, sub in (schema.get("properties") or {}).items()}
    if kind == "array":
        return [fill_schema(schema.get("items") or {}, text, root, name)]
    if kind in ("integer", "number"):
        return 1
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return _value_after(name, text) or "sample"


def _value_after(name: str | None, text: str) -> str | None:
    """The word after `name` in `text` ("name: Ada" / "name is Ada" -> "Ada")."""
    if not name:
        return None
    pattern = re.escape(name).replace("_", r"[_\s-]")
    match = re.search(rf"\b{pattern}\b\W*(?:is\s+|are\s+)?([\w@.'-]+)", text, re.IGNORECASE)
    if match is None:
        return name if re.search(rf"\b{pattern}\b", text, re.IGNORECASE) else None
    return match.group(1).rstrip(".") or name


def embed(text: str, dimensions: int = 64) -> list[float]:
    """Hashed bag of words, L2-normalised: equal texts give equal vectors, shared words make them close."""
    vector = [0.0] * dimensions
    for word in re.findall(r"\w+", text.lower()):
        digest = hashlib.md5(word.encode()).digest()
        index = int.from_bytes(digest[:4], "little") % dimensions
        vector[index] += 1.0 if digest[4] & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vector))
    if norm == 0:
        vector[0], norm = 1.0, 1.0
    return [v / norm for v in vector]


class ModelServer:
    """Starts serving at construction; `with ModelServer() as server:` stops it at the end."""

    handler: type["_Handler"]  # set below the handler's definition; protocol servers subclass both

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.requests: list[RecordedRequest] = []
        self.delay_s = 0.0
        self.chunk_delay_s = 0.002
        self._lock = threading.Lock()
        self._script: deque[str | dict[str, Any]] = deque()
        self._failures: deque[tuple[int, float | None]] = deque()
        self._break_next: bool | None = None  # None: no break; else the `clean` flag
        self._calls = 0
        handler = type("Handler", (self.handler,), {"model_server": self})
        self._httpd = _Server((host, 0), handler)
        self.url = f"http://{host}:{self._httpd.server_address[1]}"
        self.base_url = self.url + "/v1"
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="model-server", daemon=True)
        self._thread.start()

    def __enter__(self) -> "ModelServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    # -- knobs --

    def script(self, replies: list[str | dict[str, Any]]) -> None:
        """Queue canned replies: a string, or {"text": ...} / {"tool_calls": [{"name", "arguments"}]}."""
        with self._lock:
            self._script.extend(replies)

    def fail_next(self, n: int, status: int = 500, retry_after: float | None = None) -> None:
        with self._lock:
            self._failures.extend([(status, retry_after)] * n)

    def break_stream_next(self, clean: bool = False) -> None:
        with self._lock:
            self._break_next = clean

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self._script.clear()
            self._failures.clear()
            self._break_next = None
            self.delay_s = 0.0
            self.chunk_delay_s = 0.002

    # -- used by the handler --

    def _arrive(self, request: RecordedRequest, chat: bool, streaming: bool) -> "_Arrival":
        """Record a request and take, at arrival, the knobs meant for it: a handler still busy
        with an earlier request (a delayed one a client gave up on) must not steal them."""
        with self._lock:
            self.requests.append(request)
            arrival = _Arrival(failure=self._failures.popleft() if self._failures else None, delay_s=self.delay_s)
            if arrival.failure is None:  # a failed request consumes nothing else
                if chat and self._script:
                    arrival.scripted = self._script.popleft()
                if streaming:
                    arrival.cut, self._break_next = self._break_next, None
            return arrival

    def _next_call_id(self, prefix: str) -> str:
        with self._lock:
            self._calls += 1
            return f"{prefix}_{self._calls}"

    def answer(self, conversation: Conversation, scripted: str | dict[str, Any] | None = None) -> Answer:
        if scripted is not None:
            if isinstance(scripted, str):
                return Answer(text=scripted)
            calls = [(c["name"], c.get("arguments") or {}) for c in scripted.get("tool_calls") or []]
            return Answer(text=scripted.get("text", ""), tool_calls=calls)
        user_text = conversation.last_user_text
        if conversation.forced_tool in conversation.tools:
            schema = conversation.tools[conversation.forced_tool]
            return Answer(tool_calls=[(conversation.forced_tool, fill_schema(schema, user_text))])
        last = conversation.turns[-1] if conversation.turns else Turn("user", "")
        if last.role == "tool":
            return Answer(text=f"The answer is {last.text}.")
        if conversation.tools and last.role == "user":
            expression = find_expression(last.text)
            calculator = next((n for n in conversation.tools if "calc" in n.lower() or n == "evaluate_expression"), None)
            if expression and calculator:
                return Answer(tool_calls=[(calculator, {"expression": expression})])
        if conversation.response_schema is not None:
            return Answer(text=json.dumps(fill_schema(conversation.response_schema, user_text)))
        return Answer(text=f"Echo: {user_text}")


@dataclass
class _Arrival:
    failure: tuple[int, float | None] | None
    delay_s: float
    scripted: str | dict[str, Any] | None = None
    cut: bool | None = None  # break this stream; True: end the HTTP body cleanly


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeout tests) leaves a broken pipe behind: not worth a traceback.
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _pieces(text: str) -> list[str]:
    """The answer split by words, spaces kept, as a streaming model would send it."""
    return re.findall(r"\s*\S+|\s+$", text)


def _halves(text: str) -> list[str]:
    middle = len(text) // 2
    return [p for p in (text[:middle], text[middle:]) if p]


def _text_of(content: Any) -> str:
    """Text of a content field: a string, or a list of parts/blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if isinstance(part, str):
                texts.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                texts.append(part["text"])
            elif isinstance(part, dict) and part.get("type") == "tool_result":
                texts.append(_text_of(part.get("content")))
        return " ".join(texts)
    return ""


class _Handler(BaseHTTPRequestHandler):
    model_server: ModelServer
    arrival: _Arrival
    protocol_version = "HTTP/1.1"  # keep-alive, chunked streams: like real providers
    # Headers and body go out as separate writes: with Nagle on, a keep-alive client's delayed
    # ACK holds the body back ~40 ms per answer (real providers set TCP_NODELAY too).
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._dispatch(None)

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length).decode("utf-8", errors="replace") if length else ""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw
        self._dispatch(body)

    def _route_path(self, path: str) -> str:
        """OpenAI-compatible services put the API under any prefix (/openai/v1 for Groq, /api for
        Maritalk, /v3/openai for Novita, Azure's /openai/deployments/<name>): route by the suffix."""
        if path in _CHAT_PATHS or path == "/api/embed":
            return path
        for suffix in ("/chat/completions", "/embeddings", "/models"):
            if path.endswith(suffix):
                return "/v1" + suffix
        return path

    def _is_chat(self, path: str) -> bool:
        return path in _CHAT_PATHS

    def _is_streaming(self, path: str, body: Any) -> bool:
        return isinstance(body, dict) and bool(body.get("stream", path == "/api/chat"))

    def _routes(self) -> dict[tuple[str, str], Any]:
        return {
            ("POST", "/v1/chat/completions"): self._openai_chat,
            ("POST", "/v1/embeddings"): self._embeddings,
            ("GET", "/v1/models"): self._models,
            ("POST", "/v1/messages"): self._anthropic,
            ("POST", "/api/chat"): self._ollama,
            ("POST", "/api/embed"): self._ollama_embed,
        }

    def _dispatch(self, body: Any) -> None:
        server = self.model_server
        path = self._route_path(urlsplit(self.path).path)
        chat = self.command == "POST" and self._is_chat(path)
        streaming = chat and self._is_streaming(path, body)
        headers = {k.lower(): v for k, v in self.headers.items()}
        recorded = RecordedRequest(self.command, self.path, headers, body, "%s:%s" % self.client_address[:2])
        self.body = body  # the parsed body; a form or text body stays a string
        self.arrival = server._arrive(recorded, chat, streaming)
        if self.arrival.delay_s:
            time.sleep(self.arrival.delay_s)
        if self.arrival.failure is not None:
            self._fail(path, *self.arrival.failure)
            return
        routes = self._routes()
        if path == "/redirect":
            self._redirect()
        elif (route := routes.get((self.command, path))) is not None:
            route(body if isinstance(body, dict) else {})
        else:
            self._send_json(404, {"error": {"message": f"no route {self.command} {path}", "type": "not_found"}})

    # -- plumbing --

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_stream(self, content_type: str, frames: list[bytes], content_frames: int) -> None:
        """Send frames as HTTP chunks, one flush each. A requested break cuts the stream after
        half of the content frames, before the answer completes."""
        cut = self.arrival.cut
        self.send_response(200)
        self.send_header("content-type", content_type)
        self.send_header("transfer-encoding", "chunked")
        self.send_header("cache-control", "no-cache")
        self.end_headers()
        limit = len(frames) if cut is None else max(1, content_frames // 2)
        for frame in frames[:limit]:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(frame), frame))
            self.wfile.flush()
            if self.model_server.chunk_delay_s:
                time.sleep(self.model_server.chunk_delay_s)
        if cut is None or cut:
            self.wfile.write(b"0\r\n\r\n")
        if cut is not None:
            self.close_connection = True
        self.wfile.flush()

    def _fail(self, path: str, status: int, retry_after: float | None) -> None:
        self._send_json(status, self._error_body(path, status, f"injected failure ({status})"),
                        {"retry-after": f"{retry_after:g}"} if retry_after is not None else None)

    def _error_body(self, path: str, status: int, message: str) -> Any:
        if path == "/v1/messages":
            return {"type": "error", "error": {"type": "api_error", "message": message}}
        if path in ("/api/chat", "/api/embed"):
            return {"error": message}
        return {"error": {"message": message, "type": "server_error", "code": None}}

    def _redirect(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        self.send_response(int(query.get("status", ["302"])[0]))
        self.send_header("location", query.get("to", [self.path])[0])  # no target: a loop
        self.send_header("content-length", "0")
        self.end_headers()

    # -- OpenAI --

    def _openai_chat(self, body: dict[str, Any]) -> None:
        turns = []
        for message in body.get("messages") or []:
            turns.append(Turn(message.get("role", "user"), _text_of(message.get("content"))))
        tools = {t["function"]["name"]: t["function"].get("parameters") or {} for t in body.get("tools") or [] if t.get("function")}
        response_format = body.get("response_format") or {}
        schema = (response_format.get("json_schema") or {}).get("schema") if response_format.get("type") == "json_schema" else None
        conversation = Conversation(turns, tools, schema)
        answer = self.model_server.answer(conversation, self.arrival.scripted)
        model = body.get("model", "fake-model")
        usage = {"prompt_tokens": conversation.prompt_words, "completion_tokens": answer.words,
                 "total_tokens": conversation.prompt_words + answer.words}
        calls = [(self.model_server._next_call_id("call"), name, json.dumps(args)) for name, args in answer.tool_calls]
        finish = "tool_calls" if calls else "stop"
        head = {"id": "chatcmpl-fake", "created": _CREATED, "model": model}
        if not body.get("stream"):
            message: dict[str, Any] = {"role": "assistant", "content": None if calls else answer.text}
            if calls:
                message["tool_calls"] = [{"id": i, "type": "function", "function": {"name": n, "arguments": a}} for i, n, a in calls]
            self._send_json(200, {**head, "object": "chat.completion", "usage": usage,
                                  "choices": [{"index": 0, "message": message, "finish_reason": finish}]})
            return

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
            return {**head, "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}

        events = [chunk({"role": "assistant", "content": ""})]
        for index, (call_id, name, arguments) in enumerate(calls):
            events.append(chunk({"tool_calls": [{"index": index, "id": call_id, "type": "function", "function": {"name": name, "arguments": ""}}]}))
            events += [chunk({"tool_calls": [{"index": index, "function": {"arguments": part}}]}) for part in _halves(arguments)]
        if not calls:
            events += [chunk({"content": piece}) for piece in _pieces(answer.text)]
        content_frames = len(events)
        events.append(chunk({}, finish))
        if (body.get("stream_options") or {}).get("include_usage"):
            events.append({**head, "object": "chat.completion.chunk", "choices": [], "usage": usage})
        frames = [b"data: %s\n\n" % json.dumps(e).encode() for e in events] + [b"data: [DONE]\n\n"]
        self._send_stream("text/event-stream", frames, content_frames)

    def _embeddings(self, body: dict[str, Any]) -> None:
        inputs = body.get("input")
        texts = [inputs] if isinstance(inputs, str) else [str(i) for i in inputs or []]
        dimensions = int(body.get("dimensions") or 64)
        data = []
        for index, text in enumerate(texts):
            vector: Any = embed(text, dimensions)
            if body.get("encoding_format") == "base64":
                vector = base64.b64encode(struct.pack(f"<{dimensions}f", *vector)).decode()
            data.append({"object": "embedding", "index": index, "embedding": vector})
        words = sum(_count_words(t) for t in texts)
        self._send_json(200, {"object": "list", "data": data, "model": body.get("model", "fake-embedding"),
                              "usage": {"prompt_tokens": words, "total_tokens": words}})

    def _models(self, _: dict[str, Any]) -> None:
        models = ["fake-model", "fake-embedding"]
        self._send_json(200, {"object": "list", "data": [{"id": m, "object": "model", "created": _CREATED, "owned_by": "flowless-tests"} for m in models]})

    # -- Anthropic --

    def _anthropic(self, body: dict[str, Any]) -> None:
        turns = [Turn("system", _text_of(body.get("system")))] if body.get("system") else []
        for message in body.get("messages") or []:
            content = message.get("content")
            is_result = isinstance(content, list) and any(isinstance(b, dict) and b.get("type") == "tool_result" for b in content)
            turns.append(Turn("tool" if is_result else message.get("role", "user"), _text_of(content)))
        tools = {t["name"]: t.get("input_schema") or {} for t in body.get("tools") or []}
        choice = body.get("tool_choice") or {}
        conversation = Conversation(turns, tools, forced_tool=choice.get("name") if choice.get("type") == "tool" else None)
        answer = self.model_server.answer(conversation, self.arrival.scripted)
        model = body.get("model", "fake-model")
        blocks: list[dict[str, Any]] = [{"type": "text", "text": answer.text}] if answer.text or not answer.tool_calls else []
        blocks += [{"type": "tool_use", "id": self.model_server._next_call_id("toolu"), "name": n, "input": a} for n, a in answer.tool_calls]
        stop = "tool_use" if answer.tool_calls else "end_turn"
        usage = {"input_tokens": conversation.prompt_words, "output_tokens": answer.words}
        message = {"id": "msg_fake", "type": "message", "role": "assistant", "model": model, "stop_sequence": None}
        if not body.get("stream"):
            self._send_json(200, {**message, "content": blocks, "stop_reason": stop, "usage": usage})
            return
        events: list[dict[str, Any]] = [
            {"type": "message_start", "message": {**message, "content": [], "stop_reason": None,
                                                  "usage": {"input_tokens": usage["input_tokens"], "output_tokens": 1}}},
            {"type": "ping"},
        ]
        for index, block in enumerate(blocks):
            if block["type"] == "text":
                events.append({"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}})
                events += [{"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": p}} for p in _pieces(block["text"])]
            else:
                events.append({"type": "content_block_start", "index": index,
                               "content_block": {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}})
                events += [{"type": "content_block_delta", "index": index, "delta": {"type": "input_json_delta", "partial_json": p}}
                           for p in _halves(json.dumps(block["input"]))]
            events.append({"type": "content_block_stop", "index": index})
        content_frames = len(events)
        events.append({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None}, "usage": {"output_tokens": usage["output_tokens"]}})
        events.append({"type": "message_stop"})
        frames = [b"event: %s\ndata: %s\n\n" % (e["type"].encode(), json.dumps(e).encode()) for e in events]
        self._send_stream("text/event-stream", frames, content_frames)

    # -- Ollama --

    def _ollama(self, body: dict[str, Any]) -> None:
        turns = [Turn(m.get("role", "user"), _text_of(m.get("content"))) for m in body.get("messages") or []]
        tools = {t["function"]["name"]: t["function"].get("parameters") or {} for t in body.get("tools") or [] if t.get("function")}
        schema = body.get("format")
        conversation = Conversation(turns, tools, schema if isinstance(schema, dict) else {} if schema == "json" else None)
        answer = self.model_server.answer(conversation, self.arrival.scripted)
        model = body.get("model", "fake-model")
        calls = [{"function": {"name": n, "arguments": a}} for n, a in answer.tool_calls]
        final = {"model": model, "created_at": "2024-01-01T00:00:00Z", "done": True, "done_reason": "stop",
                 "prompt_eval_count": conversation.prompt_words, "eval_count": answer.words}
        if not body.get("stream", True):  # Ollama streams unless told not to
            message: dict[str, Any] = {"role": "assistant", "content": "" if calls else answer.text}
            if calls:
                message["tool_calls"] = calls
            self._send_json(200, {**final, "message": message})
            return

        def line(payload: dict[str, Any]) -> bytes:
            return json.dumps(payload).encode() + b"\n"

        partial = {"model": model, "created_at": "2024-01-01T00:00:00Z", "done": False}
        frames = [line({**partial, "message": {"role": "assistant", "content": p}}) for p in ([] if calls else _pieces(answer.text))]
        if calls:
            frames.append(line({**partial, "message": {"role": "assistant", "content": "", "tool_calls": calls}}))
        content_frames = len(frames)
        frames.append(line({**final, "message": {"role": "assistant", "content": ""}}))
        self._send_stream("application/x-ndjson", frames, content_frames)

    def _ollama_embed(self, body: dict[str, Any]) -> None:
        inputs = body.get("input")
        texts = [inputs] if isinstance(inputs, str) else [str(i) for i in inputs or []]
        dimensions = int(body.get("dimensions") or 64)
        self._send_json(200, {"model": body.get("model", "fake-embedding"), "embeddings": [embed(t, dimensions) for t in texts],
                              "prompt_eval_count": sum(_count_words(t) for t in texts)})


ModelServer.handler = _Handler
