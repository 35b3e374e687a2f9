"""Reading a Langflow run response: its main text and its token usage.

Pure functions on the `/run` body (`{"session_id", "outputs": [...]}`), shared by the Python
client (`RunResult.output`) and the simplified `/flows/{id}/run` endpoint. No imports beyond
the standard library, so both the client and a Lambda can use them for free.
"""

from __future__ import annotations

from typing import Any

USAGE_KEYS = ("input_tokens", "output_tokens", "total_tokens")


def result_data(response: dict[str, Any]) -> list[dict[str, Any]]:
    """Every ResultData of the response (`outputs[*].outputs[*]`), in order."""
    found: list[dict[str, Any]] = []
    for run_outputs in response.get("outputs") or []:
        if isinstance(run_outputs, dict):
            found.extend(r for r in run_outputs.get("outputs") or [] if isinstance(r, dict))
    return found


def _message_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        text = value.get("text")
        if isinstance(text, str):
            return text
        data = value.get("data")
        if isinstance(data, dict) and isinstance(data.get("text"), str):
            return data["text"]
    return None


def text_of(result: dict[str, Any]) -> str | None:
    """One ResultData's text, in the order client code reads it: `results.message.text`,
    `outputs.message.message`, `messages[0].message`, `artifacts.message`, then the first text
    among `results` (older servers answered `{"results": {"result": "..."}}`)."""
    results = result.get("results") if isinstance(result.get("results"), dict) else {}
    outputs = result.get("outputs") if isinstance(result.get("outputs"), dict) else {}
    messages = result.get("messages") if isinstance(result.get("messages"), list) else []
    artifacts = result.get("artifacts") if isinstance(result.get("artifacts"), dict) else {}
    candidates = [
        results.get("message"),
        (outputs.get("message") or {}).get("message") if isinstance(outputs.get("message"), dict) else None,
        messages[0].get("message") if messages and isinstance(messages[0], dict) else None,
        artifacts.get("message"),
        *results.values(),
        *((o.get("message") if isinstance(o, dict) else None) for o in outputs.values()),
    ]
    for candidate in candidates:
        text = _message_text(candidate)
        if text is not None:
            return text
    return None


def main_text(response: dict[str, Any]) -> str | None:
    """The run's answer: the first output that carries text (normally the Chat Output's)."""
    for result in result_data(response):
        text = text_of(result)
        if text is not None:
            return text
    return None


def token_usage(response: dict[str, Any]) -> dict[str, int] | None:
    """Tokens summed over the outputs: a vertex's `token_usage`, else its message's
    `properties.usage` (each message counted once). None when nothing reports usage."""
    total: dict[str, int] | None = None
    seen_messages: set[str] = set()
    for result in result_data(response):
        usage = result.get("token_usage")
        if not isinstance(usage, dict):
            message = (result.get("results") or {}).get("message") if isinstance(result.get("results"), dict) else None
            if not isinstance(message, dict):
                continue
            data = message.get("data") if isinstance(message.get("data"), dict) else {}
            message_id = message.get("id") or data.get("id")
            if isinstance(message_id, str):
                if message_id in seen_messages:
                    continue
                seen_messages.add(message_id)
            usage = (message.get("properties") or {}).get("usage") if isinstance(message.get("properties"), dict) else None
            if not isinstance(usage, dict):
                continue
        total = total or dict.fromkeys(USAGE_KEYS, 0)
        for key in USAGE_KEYS:
            value = usage.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                total[key] += value
        if not usage.get("total_tokens") and (usage.get("input_tokens") or usage.get("output_tokens")):
            total["total_tokens"] += int(usage.get("input_tokens") or 0) + int(usage.get("output_tokens") or 0)
    return total
