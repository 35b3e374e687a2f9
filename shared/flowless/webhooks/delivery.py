"""Delivering queued webhook events: sign, POST, log the attempt, retry with backoff.

One attempt (`attempt_delivery`) loads the subscription (URL and secret; a deleted subscription
ends the delivery as `failed`), re-checks the URL with the SSRF guard (refused → `failed`, no
retry), POSTs the signed body and records the attempt. A 2xx answer is `delivered`; anything else
is retried until FLOWLESS_WEBHOOK_MAX_ATTEMPTS (default 3) attempts were made, waiting
FLOWLESS_WEBHOOK_BACKOFF_S (default 10) seconds, then twice that, ...; the last failure is
`dead_letter`.

- In AWS the queue is SQS: `handle_sqs_event` is the delivery function's handler (one attempt
  per receive; a failed message gets a visibility timeout of the backoff and is reported in
  `batchItemFailures`; after maxReceiveCount receives SQS moves it to the dead-letter queue).
- Locally `LocalDeliveryQueue` runs the same attempts on the in-process background loop and
  keeps dead letters in memory.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cache, lru_cache
from typing import Any

from flowless.webhooks.signing import signed_headers

logger = logging.getLogger("flowless.webhooks")

DELIVERED, RETRYING, FAILED, DEAD_LETTER = "delivered", "retrying", "failed", "dead_letter"


@dataclass(frozen=True)
class DeliveryConfig:
    max_attempts: int = 3
    backoff_s: float = 10.0
    timeout_s: float = 10.0

    @classmethod
    def from_env(cls) -> DeliveryConfig:
        env = os.environ
        return cls(
            max_attempts=max(1, int(env.get("FLOWLESS_WEBHOOK_MAX_ATTEMPTS") or cls.max_attempts)),
            backoff_s=float(env.get("FLOWLESS_WEBHOOK_BACKOFF_S") or cls.backoff_s),
            timeout_s=float(env.get("FLOWLESS_WEBHOOK_TIMEOUT_S") or cls.timeout_s),
        )

    def backoff(self, attempt: int) -> float:
        """The wait after failed attempt number `attempt` (1-based): backoff, 2×, 4×, ..."""
        return self.backoff_s * 2 ** (attempt - 1)


@lru_cache(maxsize=4)
def _http_client(timeout_s: float, allow_private: bool, allow_loopback: bool) -> Any:
    from flowless_engine.http import HttpClient

    # No retries inside the client: every attempt is a logged attempt of the delivery.
    return HttpClient(timeout_s=timeout_s, retries=0, allow_private=allow_private, allow_loopback=allow_loopback)


def http_client(config: DeliveryConfig) -> Any:
    from flowless_engine.settings import EngineSettings

    engine = EngineSettings.from_env()
    return _http_client(config.timeout_s, engine.allow_private_networks, engine.allow_loopback)


def _now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def attempt_delivery(message: dict[str, Any], attempt: int, *, config: DeliveryConfig) -> str:
    """One attempt; returns the delivery's state afterwards (delivered, retrying, failed, dead_letter)."""
    from flowless.store.hooks import DeliveryLog, SubscriptionRepository
    from flowless_engine.errors import BlockedURLError

    tenant, flow_id, hook_id = message["tenant"], message["flow_id"], message["hook_id"]
    final = attempt >= config.max_attempts
    record: dict[str, Any] = {"attempt": attempt, "at": _now_iso(), "status_code": None, "error": None, "duration_ms": 0}
    state = RETRYING
    started = time.perf_counter()
    try:
        subscription = SubscriptionRepository(tenant).get(flow_id, hook_id, with_secret=True)
        if subscription is None:
            record["error"], state = "The subscription no longer exists", FAILED
        else:
            body = json.dumps(message["payload"], separators=(",", ":")).encode()
            headers = signed_headers(subscription.secret or "", body, event=message["event"], delivery_id=message["delivery_id"])
            response = await http_client(config).request("POST", subscription.url, headers=headers, content=body, raise_for_status=False)
            record["status_code"] = response.status
            if 200 <= response.status < 300:
                state = DELIVERED
            else:
                record["error"] = f"The receiver answered {response.status}"
    except BlockedURLError as exc:
        record["error"], state = f"URL refused: {exc}", FAILED
    except Exception as exc:  # timeouts, connection failures, storage errors: all retried
        record["error"] = str(exc) or type(exc).__name__
    record["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
    if state == RETRYING and final:
        state = DEAD_LETTER
    try:
        DeliveryLog(tenant).record(hook_id, message["delivery_id"], message["enqueued_at"], flow_id=flow_id,
                                   event=message["event"], state=state, attempt=record)
    except Exception:
        logger.exception("delivery %s: attempt %d not logged", message.get("delivery_id"), attempt)
    if state != DELIVERED:
        logger.warning("webhook delivery %s attempt %d: %s (%s)", message.get("delivery_id"), attempt, state, record["error"])
    return state


# --- in-process queue (local server, tests) -------------------------------------------------------


class LocalDeliveryQueue:
    def __init__(self) -> None:
        self.dead_letters: list[dict[str, Any]] = []

    def submit(self, messages: list[dict[str, Any]]) -> None:
        from flowless.background import background_loop

        for message in messages:
            background_loop().submit(self.deliver(message))
        return None

    async def deliver(self, message: dict[str, Any]) -> str:
        config = DeliveryConfig.from_env()
        state = RETRYING
        for attempt in range(1, config.max_attempts + 1):
            state = await attempt_delivery(message, attempt, config=config)
            if state != RETRYING:
                break
            await asyncio.sleep(config.backoff(attempt))
        if state == DEAD_LETTER:
            self.dead_letters.append(message)
        return state


@cache
def local_queue() -> LocalDeliveryQueue:
    return LocalDeliveryQueue()


# --- SQS (the delivery function) ----------------------------------------------------------------


async def handle_sqs_event(event: dict[str, Any], *, sqs: Any = None, config: DeliveryConfig | None = None) -> dict[str, Any]:
    """One attempt per record; failures are reported for SQS to retry (partial batch response)."""
    config = config or DeliveryConfig.from_env()
    records = event.get("Records") or []
    states = await asyncio.gather(*(_attempt_record(record, config) for record in records))
    failures = []
    for record, (state, attempt) in zip(records, states):
        if state in (RETRYING, DEAD_LETTER):
            failures.append({"itemIdentifier": record["messageId"]})
        if state == RETRYING:
            _delay_retry(record, config.backoff(attempt), sqs)
    return {"batchItemFailures": failures}


async def _attempt_record(record: dict[str, Any], config: DeliveryConfig) -> tuple[str, int]:
    attempt = int((record.get("attributes") or {}).get("ApproximateReceiveCount") or 1)
    try:
        message = json.loads(record["body"])
    except (KeyError, TypeError, ValueError):
        logger.error("malformed webhook message %s: left for the dead-letter queue", record.get("messageId"))
        return RETRYING, attempt
    return await attempt_delivery(message, attempt, config=config), attempt


def _delay_retry(record: dict[str, Any], seconds: float, sqs: Any) -> None:
    """The message's next receive after `seconds` (exponential backoff); best effort."""
    try:
        if sqs is None:
            import boto3

            sqs = boto3.client("sqs")
        sqs.change_message_visibility(QueueUrl=queue_url(record), ReceiptHandle=record["receiptHandle"],
                                      VisibilityTimeout=int(min(seconds, 43_200)))
    except Exception:
        logger.warning("could not delay the retry of %s; the queue's visibility timeout applies", record.get("messageId"))


def queue_url(record: dict[str, Any]) -> str:
    configured = os.environ.get("FLOWLESS_WEBHOOK_QUEUE_URL")
    if configured:
        return configured
    _, _, _, region, account, name = record["eventSourceARN"].split(":", 5)
    return f"https://sqs.{region}.amazonaws.com/{account}/{name}"


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The delivery function's Lambda handler (SQS event source, ReportBatchItemFailures)."""
    async def handle() -> dict[str, Any]:
        try:
            return await handle_sqs_event(event)
        finally:
            await http_client(DeliveryConfig.from_env()).aclose()  # the loop ends with this invocation

    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(handle())
    finally:
        loop.close()
