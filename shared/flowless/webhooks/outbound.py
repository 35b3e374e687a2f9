"""Outbound webhook events of a run, enqueued from the run path without slowing or failing it.

`RunNotifier.for_run` finds the flow's subscriptions (cached per warm container for
FLOWLESS_WEBHOOK_CACHE_SECONDS, default 30; a flow without any costs nothing more), then the run
path calls `started`, `completed` or `failed`, and `close` at the end. Every method swallows its
own errors. Each (subscription, event) becomes one queued message; the delivery worker loads the
subscription (URL, secret) when it delivers, so no secret ever travels through the queue.

Queues: SQS when FLOWLESS_WEBHOOK_QUEUE_URL is set (the sends run on a thread pool while the
flow runs; `close` waits for them, a couple of seconds at most), else the in-process queue of
`flowless.webhooks.delivery` (nothing to wait for).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import os
import time
import uuid
from collections.abc import Iterable
from datetime import datetime, timezone
from functools import cache
from typing import Any, Protocol

from flowless_engine.runtime.services import EventSink

logger = logging.getLogger("flowless.webhooks")

EVENTS = ("flow_started", "flow_completed", "flow_error", "component_completed")
DEFAULT_EVENTS = ("flow_started", "flow_completed", "flow_error")
MAX_OUTPUT_CHARS = 64 * 1024  # keeps a message well under SQS's 256 KB
SEND_WAIT_S = 2.0

Hooks = list[tuple[str, frozenset[str]]]  # (subscription id, its events)


class DeliveryQueue(Protocol):
    def submit(self, messages: list[dict[str, Any]]) -> concurrent.futures.Future[Any] | None:
        """Hand messages over without blocking; a future when the hand-over is still under way."""


# --- subscriptions of a flow, cached ------------------------------------------------------------

_subscribed: dict[tuple[str, str], tuple[float, Hooks]] = {}


def cache_seconds() -> float:
    return float(os.environ.get("FLOWLESS_WEBHOOK_CACHE_SECONDS") or 30)


def subscribed(tenant: str, flow_id: str) -> Hooks:
    key = (tenant, flow_id)
    cached = _subscribed.get(key)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    from flowless.store.hooks import SubscriptionRepository

    hooks = [(s.id, frozenset(s.events)) for s in SubscriptionRepository(tenant).list(flow_id)]
    _subscribed[key] = (time.monotonic() + cache_seconds(), hooks)
    return hooks


def forget_subscriptions(tenant: str, flow_id: str) -> None:
    """After a change in this container (others see it when their cache entry expires)."""
    _subscribed.pop((tenant, flow_id), None)


# --- the queue ----------------------------------------------------------------------------------


class SqsQueue:
    def __init__(self, url: str, *, client: Any = None) -> None:
        self.url = url
        self._client = client

    def submit(self, messages: list[dict[str, Any]]) -> concurrent.futures.Future[Any]:
        return _send_pool().submit(self.send, messages)

    def send(self, messages: list[dict[str, Any]]) -> None:
        if self._client is None:
            import boto3

            self._client = boto3.client("sqs")
        for start in range(0, len(messages), 10):  # SendMessageBatch takes ten at most
            batch = messages[start : start + 10]
            entries = [{"Id": str(i), "MessageBody": json.dumps(m, separators=(",", ":"))} for i, m in enumerate(batch)]
            answer = self._client.send_message_batch(QueueUrl=self.url, Entries=entries)
            for failed in answer.get("Failed", []):
                logger.error("webhook event not enqueued: %s %s", failed.get("Code"), failed.get("Message"))


@cache
def _send_pool() -> concurrent.futures.ThreadPoolExecutor:
    return concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="flowless-webhook-send")


def delivery_queue() -> DeliveryQueue:
    url = os.environ.get("FLOWLESS_WEBHOOK_QUEUE_URL")
    if url:
        return _sqs_queue(url)
    from flowless.webhooks.delivery import local_queue

    return local_queue()


@cache
def _sqs_queue(url: str) -> SqsQueue:
    return SqsQueue(url)


# --- the run's notifier -------------------------------------------------------------------------


def utc_timestamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def sortable_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def clip(text: str | None) -> str | None:
    if text is None or len(text) <= MAX_OUTPUT_CHARS:
        return text
    return text[:MAX_OUTPUT_CHARS] + "… [truncated]"


class RunNotifier:
    def __init__(self, tenant: str, flow_id: str, session_id: str, hooks: Hooks, queue: DeliveryQueue | None) -> None:
        self.tenant = tenant
        self.flow_id = flow_id
        self.session_id = session_id
        self.hooks = hooks
        self.queue = queue
        self._pending: list[concurrent.futures.Future[Any]] = []

    @classmethod
    def for_run(cls, tenant: str, flow_id: str, session_id: str) -> RunNotifier:
        try:
            hooks = subscribed(tenant, flow_id)
            queue = delivery_queue() if hooks else None
        except Exception:
            logger.exception("webhook subscriptions of flow %s could not be read; no events for this run", flow_id)
            hooks, queue = [], None
        return cls(tenant, flow_id, session_id, hooks, queue)

    def wants(self, event: str) -> bool:
        return any(event in events for _, events in self.hooks)

    def watch(self, sink: EventSink) -> EventSink:
        """`sink`, also reporting each finished component when someone subscribed to that."""
        return ComponentWatcher(sink, self) if self.wants("component_completed") else sink

    def started(self) -> None:
        self.emit("flow_started", None)

    def completed(self, response: dict[str, Any]) -> None:
        if self.wants("flow_completed"):
            from flowless.results import main_text

            self.emit("flow_completed", main_text(response))

    def failed(self, error: BaseException) -> None:
        if self.wants("flow_error"):
            self.emit("flow_error", None, error=_error_text(error))

    def emit(self, event: str, output: str | None, **extra: Any) -> None:
        if not self.wants(event) or self.queue is None:
            return
        try:
            payload = {
                "event": event,
                "flow_id": self.flow_id,
                "session_id": self.session_id,
                "result": {"output": clip(output)},
                "timestamp": utc_timestamp(),
                **extra,
            }
            enqueued_at = sortable_now()
            messages = [
                {"delivery_id": str(uuid.uuid4()), "tenant": self.tenant, "flow_id": self.flow_id, "hook_id": hook_id,
                 "event": event, "enqueued_at": enqueued_at, "payload": payload}
                for hook_id, events in self.hooks
                if event in events
            ]
            pending = self.queue.submit(messages)
            if pending is not None:
                self._pending.append(pending)
        except Exception:
            logger.exception("webhook event %s of flow %s not enqueued", event, self.flow_id)

    async def close(self) -> None:
        """Wait (briefly) for hand-overs still under way; never raises."""
        if not self._pending:
            return
        try:
            waiting = asyncio.gather(*(asyncio.wrap_future(f) for f in self._pending), return_exceptions=True)
            for outcome in await asyncio.wait_for(waiting, SEND_WAIT_S):
                if isinstance(outcome, BaseException):
                    logger.error("webhook events of flow %s not enqueued: %s", self.flow_id, outcome)
        except Exception:
            logger.exception("webhook events of flow %s: enqueueing did not finish in time", self.flow_id)
        self._pending.clear()


class ComponentWatcher:
    """An EventSink passing everything on and emitting component_completed per finished vertex."""

    def __init__(self, sink: EventSink, notifier: RunNotifier) -> None:
        self.sink = sink
        self.notifier = notifier

    def emit(self, event: str, data: dict[str, Any]) -> None:
        self.sink.emit(event, data)
        if event != "end_vertex":
            return
        try:
            build = data.get("build_data") or {}
            if build.get("valid"):
                results = (build.get("data") or {}).get("results") or {}
                self.notifier.emit("component_completed", _output_text(results.values()), component_id=build.get("id"))
        except Exception:
            logger.exception("component_completed event not enqueued")


def _output_text(values: Iterable[Any]) -> str | None:
    for value in values:
        if isinstance(value, str):
            return value
        if isinstance(value, dict) and isinstance(value.get("text"), str):
            return value["text"]
    return None


def _error_text(error: BaseException) -> str:
    message = getattr(error, "message", None) or getattr(error, "detail", None)
    if isinstance(message, str):
        return message
    if message is not None:
        return json.dumps(message, default=str)
    return f"Internal error: {type(error).__name__}"
