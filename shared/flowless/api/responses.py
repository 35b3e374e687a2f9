"""`POST /responses`: the OpenAI Responses API as Langflow serves it, so an OpenAI SDK calls a flow.

`model` names the flow (id or endpoint name); `input` is the text sent to its Chat Input (or
OpenAI input items, whose last user message is taken); the response id is the run's session,
so `previous_response_id` continues the conversation. `tools` are refused (`tools_not_supported`)
and `instructions` are echoed, not applied, as in Langflow. Unlike Langflow (whose stream is not
OpenAI's, Langflow issue #10295, and whose errors answer 200), the stream is OpenAI's Responses
event stream and errors carry their HTTP status, both in OpenAI's shapes, so the SDKs read them.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse

from flowless.api.auth import authenticate, requires
from flowless.api.errors import ApiError, engine_error_response
from flowless.api.streaming import RunEvent, error_text, run_events
from flowless_engine.errors import FlowError

router = APIRouter(tags=["OpenAI Responses API"])

_TEXT = {"type": "string"}
RESPONSES_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object",
    "required": ["model", "input"],
    "properties": {
        "model": {"type": "string", "description": "The flow id or endpoint name"},
        "input": {"oneOf": [_TEXT, {"type": "array", "items": {"type": "object"}}]},
        "stream": {"type": "boolean"}, "previous_response_id": _TEXT, "instructions": _TEXT,
        "tools": {"type": "array"}, "include": {"type": "array", "items": _TEXT},
    },
}}}}}
CHAT_INPUT_TYPES = {"ChatInput", "Chat Input"}
CHAT_OUTPUT_TYPES = {"ChatOutput", "Chat Output"}


class ResponsesError(Exception):
    """An error answered in OpenAI's shape: `{"error": {"message", "type", "param", "code"}}`."""

    def __init__(self, status: int, message: str, type_: str = "invalid_request_error", code: str | None = None,
                 param: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.code, self.param = status, message, type_, code, param

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status)


def from_api_error(exc: ApiError, model: str | None = None) -> ResponsesError:
    detail = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail)
    if exc.status == 403:
        return ResponsesError(403, detail, "invalid_request_error", "invalid_api_key")
    if exc.status == 404 and model is not None:
        return ResponsesError(404, f"Flow with id '{model}' not found", "invalid_request_error", "flow_not_found", "model")
    return ResponsesError(exc.status, detail, "invalid_request_error" if exc.status < 500 else "server_error")


def from_flow_error(exc: FlowError) -> ResponsesError:
    status, _ = engine_error_response(exc)
    code = getattr(exc, "code", None)
    if status >= 500:
        return ResponsesError(status, error_text(exc), "processing_error", code if isinstance(code, str) else None)
    return ResponsesError(status, error_text(exc), "invalid_request_error", code if isinstance(code, str) else "invalid_flow_request")


def input_text(value: Any) -> str:
    """`input` as text: a string as is; OpenAI input items → the last user message's text."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        for item in reversed(value):
            if isinstance(item, dict) and item.get("role", "user") == "user" and item.get("type", "message") == "message":
                return _content_text(item.get("content"))
        raise ResponsesError(400, "input holds no user message", param="input")
    raise ResponsesError(400, "input must be a string or a list of input items", param="input")


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content
                       if isinstance(part, dict) and part.get("type") in {"input_text", "text", "output_text"} and isinstance(part.get("text"), str))
    raise ResponsesError(400, "a message's content must be text or a list of content parts", param="input")


def parse_request(body: dict[str, Any]) -> dict[str, Any]:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise ResponsesError(400, "model is required: the flow id or endpoint name", param="model")
    if "input" not in body:
        raise ResponsesError(400, "input is required", param="input")
    if body.get("tools") is not None:  # Langflow's answer to tools
        raise ResponsesError(400, "Tools are not supported yet", code="tools_not_supported", param="tools")
    previous = body.get("previous_response_id")
    if previous is not None and not isinstance(previous, str):
        raise ResponsesError(400, "previous_response_id must be a string", param="previous_response_id")
    instructions = body.get("instructions")
    return {
        "model": model,
        "text": input_text(body["input"]),
        "stream": body.get("stream") is True,
        "previous_response_id": previous,
        "instructions": instructions if isinstance(instructions, str) else None,
        "metadata": body.get("metadata") if isinstance(body.get("metadata"), dict) else {},
        "tool_results": isinstance(body.get("include"), list) and "tool_call.results" in body["include"],
    }


def response_object(response_id: str, created_at: int, parsed: dict[str, Any], text: str | None,
                    usage: dict[str, int] | None, status: str = "completed", error: dict[str, Any] | None = None,
                    tools: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """OpenAI's Response object with Langflow's defaults: the Agent's tool calls, then the message
    (`text` None → no message item yet)."""
    output = [*(tools or []), *([] if text is None else [message_item(response_id, text, status)])]
    return {
        "id": response_id, "object": "response", "created_at": created_at, "status": status, "error": error,
        "incomplete_details": None, "instructions": parsed["instructions"], "max_output_tokens": None,
        "model": parsed["model"], "output": output, "parallel_tool_calls": True,
        "previous_response_id": parsed["previous_response_id"], "reasoning": {"effort": None, "summary": None},
        "store": True, "temperature": 1.0, "text": {"format": {"type": "text"}}, "tool_choice": "auto", "tools": [],
        "top_p": 1.0, "truncation": "disabled", "usage": _usage(usage), "user": None, "metadata": parsed["metadata"],
    }


def message_item(response_id: str, text: str, status: str = "completed") -> dict[str, Any]:
    return {"type": "message", "id": f"msg_{response_id}", "status": status, "role": "assistant",
            "content": [{"type": "output_text", "text": text, "annotations": []}]}


class ToolCalls:
    """The Agent's tool calls of a run (its `tool_call` log events) as Responses output items:
    `function_call` items, or Langflow's `tool_call` items with results when `include` asks for
    `tool_call.results`."""

    def __init__(self, with_results: bool) -> None:
        self.with_results = with_results
        self.items: list[dict[str, Any]] = []

    def emit(self, event: str, data: dict[str, Any]) -> None:
        self.add(event, data)

    def add(self, event: str, data: Any) -> dict[str, Any] | None:
        if event != "log" or not isinstance(data, dict) or data.get("name") != "tool_call" or not isinstance(data.get("message"), dict):
            return None
        call = data["message"]
        n = len(self.items) + 1
        name, arguments, output = str(call.get("tool") or ""), call.get("arguments") or "{}", call.get("output")
        failed = isinstance(output, str) and output.startswith("Error")
        if self.with_results:
            try:
                parsed = json.loads(arguments) if isinstance(arguments, str) else arguments
            except ValueError:
                parsed = arguments
            item = {"id": f"{name}_{n}", "queries": list(parsed.values()) if isinstance(parsed, dict) else [str(parsed)],
                    "status": "failed" if failed else "completed", "tool_name": name, "type": "tool_call",
                    "results": output if output is not None else []}
        else:
            item = {"id": f"fc_{n}", "type": "function_call", "status": "failed" if failed else "completed", "name": name,
                    "arguments": arguments if isinstance(arguments, str) else json.dumps(arguments), "call_id": f"call_{n}"}
        if failed:
            item["error"] = output
        self.items.append(item)
        return item


def _usage(usage: dict[str, int] | None) -> dict[str, Any] | None:
    if not usage:
        return None
    input_tokens, output_tokens = int(usage.get("input_tokens") or 0), int(usage.get("output_tokens") or 0)
    return {"input_tokens": input_tokens, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": int(usage.get("total_tokens") or input_tokens + output_tokens)}


def _check_chat_flow(graph: Any) -> None:
    types = {vertex.type for vertex in graph.vertices.values()}
    if not types & CHAT_INPUT_TYPES:
        raise ResponsesError(400, "Flow must have a ChatInput component to be compatible with OpenAI Responses API", code="invalid_flow_request", param="model")
    if not types & CHAT_OUTPUT_TYPES:
        raise ResponsesError(400, "Flow must have a ChatOutput component to be compatible with OpenAI Responses API", code="invalid_flow_request", param="model")


@router.post("/responses", openapi_extra=RESPONSES_BODY)
async def create_response(request: Request) -> Any:
    from flowless.api.body import read_body
    from flowless.api.run import request_variables
    from flowless.runs import load_flow_graph, run_stored_flow
    from flowless.results import main_text
    from flowless.store.tenancy import check_session_id
    from flowless_engine.runtime.request import RunRequest

    model: str | None = None
    try:
        caller = requires("execute")(authenticate(request))
        parsed = parse_request(await read_body(request))
        model = parsed["model"]
        resolved = load_flow_graph(caller.tenant, model)
        _check_chat_flow(resolved[1])
        # The response id is the session: continuing from a response continues its conversation.
        session_id = check_session_id(parsed["previous_response_id"] or str(uuid.uuid4()))
        run_request = RunRequest(input_value=parsed["text"], input_type="chat", output_type="chat",
                                 session_id=session_id, stream=parsed["stream"])
        variables = request_variables(request)
        created_at = int(time.time())
        if parsed["stream"]:
            async def start(sink: Any) -> Any:
                return await run_stored_flow(caller.tenant, model, run_request, request_variables=variables, events=sink, resolved=resolved)

            frames = stream_events(session_id, created_at, parsed, run_events(start))
            return StreamingResponse(frames, media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        tools = ToolCalls(parsed["tool_results"])
        outcome = await run_stored_flow(caller.tenant, model, run_request, request_variables=variables, events=tools, resolved=resolved)
    except ResponsesError as exc:
        return exc.response()
    except ApiError as exc:
        return from_api_error(exc, model).response()
    except FlowError as exc:
        return from_flow_error(exc).response()
    text = main_text(outcome.response) or ""
    return JSONResponse(response_object(session_id, created_at, parsed, text, outcome.usage, tools=tools.items))


def _sse(event: dict[str, Any]) -> bytes:
    return f"event: {event['type']}\ndata: {json.dumps(event, default=str)}\n\n".encode()


async def stream_events(response_id: str, created_at: int, parsed: dict[str, Any], run: AsyncIterator[RunEvent]) -> AsyncIterator[bytes]:
    """OpenAI's Responses stream: created, in_progress; each Agent tool call as a `function_call`
    item (added, arguments delta and done, done); the message item with a
    `response.output_text.delta` per token; the done events, then `response.completed` (or
    `response.failed` with the error), and `data: [DONE]` as Langflow ends it."""
    from flowless.results import main_text

    seq = 0
    item_id = f"msg_{response_id}"
    tools = ToolCalls(parsed["tool_results"])
    message_index: int | None = None

    def event(type_: str, **fields: Any) -> bytes:
        nonlocal seq
        seq += 1
        return _sse({"type": type_, "sequence_number": seq - 1, **fields})

    def open_message() -> list[bytes]:
        nonlocal message_index
        if message_index is not None:
            return []
        message_index = len(tools.items)
        return [event("response.output_item.added", output_index=message_index, item={**message_item(response_id, "", "in_progress"), "content": []}),
                event("response.content_part.added", item_id=item_id, output_index=message_index, content_index=0,
                      part={"type": "output_text", "text": "", "annotations": []})]

    def delta(text: str) -> bytes:
        return event("response.output_text.delta", item_id=item_id, output_index=message_index, content_index=0, delta=text, logprobs=[])

    yield event("response.created", response=response_object(response_id, created_at, parsed, None, None, "in_progress"))
    yield event("response.in_progress", response=response_object(response_id, created_at, parsed, None, None, "in_progress"))
    delivered = ""
    async for item in run:
        if item.event == "log" and message_index is None:
            call = tools.add(item.event, item.data)
            if call is not None:
                index = len(tools.items) - 1
                yield event("response.output_item.added", output_index=index, item={**call, "status": "in_progress", "arguments": ""})
                if call["type"] == "function_call":
                    yield event("response.function_call_arguments.delta", item_id=call["id"], output_index=index, delta=call["arguments"])
                    yield event("response.function_call_arguments.done", item_id=call["id"], output_index=index, arguments=call["arguments"])
                yield event("response.output_item.done", output_index=index, item=call)
        elif item.event == "token" and isinstance(item.data, dict):
            chunk = item.data.get("chunk")
            if isinstance(chunk, str) and chunk:
                for frame in open_message():
                    yield frame
                delivered += chunk
                yield delta(chunk)
        elif item.event == "failed":
            error = {"code": "server_error", "message": error_text(item.error)}
            yield event("response.failed", response=response_object(response_id, created_at, parsed, delivered, None, "failed", error, tools.items))
            yield b"data: [DONE]\n\n"
            return
        elif item.event == "done":
            text = main_text(item.outcome.response) or ""
            for frame in open_message():
                yield frame
            # A flow that did not stream tokens (or streamed only part) sends the rest at once.
            if text.startswith(delivered) and len(text) > len(delivered):
                yield delta(text[len(delivered):])
            part = {"type": "output_text", "text": text, "annotations": []}
            yield event("response.output_text.done", item_id=item_id, output_index=message_index, content_index=0, text=text, logprobs=[])
            yield event("response.content_part.done", item_id=item_id, output_index=message_index, content_index=0, part=part)
            yield event("response.output_item.done", output_index=message_index, item=message_item(response_id, text))
            yield event("response.completed", response=response_object(response_id, created_at, parsed, text, item.outcome.usage, tools=tools.items))
            yield b"data: [DONE]\n\n"
            return
