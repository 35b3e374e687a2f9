"""Work that continues after a response: named tasks, run by another invocation or in-process.

In AWS a function hands a task to itself: `LambdaAsyncRunner` invokes the function (its own name,
or FLOWLESS_ASYNC_FUNCTION_NAME) with InvocationType "Event" and the internal payload
`{"flowless_task": <name>, ...}`; the function's handler sees that key and runs the task instead
of passing the event to Mangum (`handle_task_event`). Outside a Lambda runtime (local server,
tests, `flowless invoke`) `LocalTaskRunner` runs the same task on the in-process background loop.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
from collections.abc import Awaitable, Callable, Mapping
from functools import cache
from typing import Any, Protocol

TASK_KEY = "flowless_task"
# Task name -> "module:function" of an async function taking the internal payload.
TASKS: dict[str, str] = {
    "webhook_run": "flowless.webhooks.inbound:run_webhook_task",
    "knowledge_ingest": "flowless.ingest:run_ingest_task",
}


class TaskRunner(Protocol):
    def submit(self, task: str, payload: Mapping[str, Any]) -> None:
        """Start `task` with `payload` and return at once; raises when it cannot be started."""


class LambdaAsyncRunner:
    def __init__(self, function_name: str, *, client: Any = None) -> None:
        self.function_name = function_name
        self._client = client

    def submit(self, task: str, payload: Mapping[str, Any]) -> None:
        if self._client is None:
            import boto3

            self._client = boto3.client("lambda")
        event = json.dumps({TASK_KEY: task, **payload}).encode()
        self._client.invoke(FunctionName=self.function_name, InvocationType="Event", Payload=event)


class LocalTaskRunner:
    def submit(self, task: str, payload: Mapping[str, Any]) -> None:
        from flowless.background import background_loop

        task_function(task)  # an unknown task fails here, in the caller, not in the background
        background_loop().submit(run_task({TASK_KEY: task, **payload}))


def task_runner(environ: Mapping[str, str] | None = None) -> TaskRunner:
    """Lambda when FLOWLESS_ASYNC_FUNCTION_NAME names a function, or inside a Lambda runtime (the
    function itself); else in-process (local server, tests, `flowless invoke`, which has no Lambda
    to call back)."""
    env = os.environ if environ is None else environ
    function_name = env.get("FLOWLESS_ASYNC_FUNCTION_NAME")
    if not function_name and env.get("AWS_LAMBDA_RUNTIME_API"):
        function_name = env.get("AWS_LAMBDA_FUNCTION_NAME")
    return LambdaAsyncRunner(function_name) if function_name else _local_runner()


@cache
def _local_runner() -> LocalTaskRunner:
    return LocalTaskRunner()


def is_task_event(event: Any) -> bool:
    return isinstance(event, dict) and isinstance(event.get(TASK_KEY), str)


@cache
def task_function(name: str) -> Callable[[dict[str, Any]], Awaitable[Any]]:
    target = TASKS.get(name)
    if target is None:
        raise ValueError(f"unknown task: {name!r}")
    module, _, function = target.partition(":")
    return getattr(importlib.import_module(module), function)


async def run_task(event: dict[str, Any]) -> Any:
    return await task_function(event[TASK_KEY])(event)


def handle_task_event(event: dict[str, Any]) -> Any:
    """Run an internal task to completion in a Lambda invocation (on a fresh event loop)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(run_task(event))
    finally:
        loop.close()


def api_or_task_handler(app: Any) -> Callable[[dict[str, Any], Any], Any]:
    """The handler of a function that hands long work to itself: its internal task events run
    here to completion; every other event is an API Gateway request for Mangum."""
    from flowless.observability import lambda_handler, logger

    api = lambda_handler(app)
    task = logger().inject_lambda_context(lambda event, context: handle_task_event(event), clear_state=True)

    def handler(event: dict[str, Any], context: Any) -> Any:
        return task(event, context) if is_task_event(event) else api(event, context)

    return handler
