"""Every AWS call the functions' code makes in the tests, attributed to the function that made it.

Recording: `botocore.client.BaseClient._make_api_call` is wrapped once per process (boto3 clients
and PynamoDB's shared client all go through it; it sees the operation, the parameters and the
answer). A call is recorded only when a function is *acting*: the context variable `acting`
names it. Calls made while no function acts (fixtures, store tests) are not recorded.

Attribution, innermost first:
1. boundaries - functions of the service that start another Lambda function's (or the state
   machine's) work in-process where AWS would cross to that principal: `BOUNDARIES` below (the
   in-process build runner's steps are BuildWorkerFunction's, the local webhook delivery is
   WebhookDeliveryFunction's, a task event is run by the function that owns the task, moto's
   Step Functions interpreter invokes Lambda as the state machine's role);
2. `acting_as(logical_id)` - a test's own statement of whose code runs (tests/iam drives
   RunStreamFunction's app this way);
3. the API route - a request served by a FastAPI app is attributed to the function whose API
   events declare its method and path in template.yaml (API Gateway's own routing), whether the
   app is a function's own (handler tests) or the whole app (API tests).
Context follows into asyncio tasks, the background loop and (patched here) thread pools.

Checking: after each test, the plugin evaluates the calls recorded during it against the acting
function's policy in template.yaml (tests/support/iam/stack.py + evaluator.py) and fails the test
naming function, action and resource of any call the policy would deny. The terminal summary
prints the count of distinct (function, action, resource) recorded over the session.

Adding a call path: a new AWS call made inside a route, a task or a worker step needs nothing
here (its service must be in actions.MAPPERS); grant it in template.yaml. A new in-process
stand-in for a hop to ANOTHER principal (a new worker, queue consumer, sandbox invoke run locally)
needs a `BOUNDARIES` entry naming the function AWS would run it in. A new task name needs a
`TASK_OWNERS` entry.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import contextvars
import functools
import importlib.abc
import inspect
import os
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.iam.actions import Call, requests_of
from tests.support.iam.evaluator import Decision, Request, evaluate
from tests.support.iam.stack import Stack, default_stack

acting: contextvars.ContextVar[str | None] = contextvars.ContextVar("flowless_iam_acting", default=None)

# Internal task name (flowless.tasks.TASKS) -> the function that runs it in AWS (it invokes itself).
TASK_OWNERS = {"webhook_run": "WebhookFunction", "knowledge_ingest": "KnowledgeFunction"}


def _task_owner(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str | None:
    event = args[0] if args else kwargs.get("event")
    return TASK_OWNERS.get((event or {}).get("flowless_task")) if isinstance(event, dict) else None


def _sqs_poller_calls(args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Call]:
    """What Lambda's SQS event source mapping did with the function's role to hand it the event."""
    event = args[0] if args else kwargs.get("event")
    calls: list[Call] = []
    for source in sorted({r.get("eventSourceARN") for r in (event or {}).get("Records") or [] if r.get("eventSourceARN")}):
        url = source.rsplit(":", 1)[-1]
        for operation in ("GetQueueAttributes", "ReceiveMessage", "DeleteMessage"):
            calls.append(Call("sqs", operation, {"QueueUrl": url}, None))
    return calls


@dataclass(frozen=True)
class Boundary:
    function: str | Callable[[tuple[Any, ...], dict[str, Any]], str | None]
    # Calls the platform makes with the function's role to start this work (event source mappings).
    platform: Callable[[tuple[Any, ...], dict[str, Any]], list[Call]] | None = None


STATES_LAMBDA = "moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils"
BOUNDARIES: dict[str, dict[str, Boundary]] = {
    "flowless.jobs.worker": {"run_step": Boundary("BuildWorkerFunction")},
    "flowless.webhooks.delivery": {"attempt_delivery": Boundary("WebhookDeliveryFunction"),
                                   "handle_sqs_event": Boundary("WebhookDeliveryFunction", _sqs_poller_calls)},
    "flowless.tasks": {"run_task": Boundary(_task_owner)},
    STATES_LAMBDA: {"_invoke_lambda_function": Boundary("BuildJobStateMachine"), "exec_lambda_function": Boundary("BuildJobStateMachine")},
}


@dataclass(frozen=True)
class Recorded:
    function: str
    service: str
    operation: str
    request: Request
    test: str


class Recorder:
    def __init__(self) -> None:
        self.records: list[Recorded] = []
        self.lock = threading.Lock()
        self.test = ""

    def add(self, function: str, call: Call) -> None:
        if call.service == "lambda" and function in default_stack().state_machines:
            call = _as_definition_target(function, call)
        try:
            requests = requests_of(call)
        except Exception as exc:  # a parameter shape the mapper does not know: visible, not fatal to the call
            requests = [Request(f"{call.service}:{call.operation}", f"unmapped ({type(exc).__name__}: {exc})")]
        with self.lock:
            self.records.extend(Recorded(function, call.service, call.operation, r, self.test) for r in requests)

    def mark(self) -> int:
        return len(self.records)

    def since(self, mark: int) -> list[Recorded]:
        with self.lock:
            return self.records[mark:]

    def decide(self, function: str, request: Request, stack: Stack | None = None) -> Decision:
        stack = stack or default_stack()
        # Cached on the stack itself: an id() key would be reused by a later Stack once this one is freed.
        decisions = stack.__dict__.setdefault("_decisions", {})
        key = (function, request)
        decision = decisions.get(key)
        if decision is None:
            decision = decisions[key] = evaluate(stack.policies.get(function, []), request)
        return decision


RECORDER = Recorder()


def _as_definition_target(state_machine: str, call: Call) -> Call:
    """A state machine invokes the function its definition names through DefinitionSubstitutions;
    a test's machine, built from the same definition file, names it under the test's own name."""
    stack = default_stack()
    substitutions = (stack.resources[state_machine].get("Properties") or {}).get("DefinitionSubstitutions") or {}
    targets = {value["Fn::GetAtt"][0] for value in substitutions.values()
               if isinstance(value, dict) and "Fn::GetAtt" in value and value["Fn::GetAtt"][0] in stack.functions}
    if len(targets) != 1 or "FunctionName" not in call.params:
        return call
    return Call(call.service, call.operation, {**call.params, "FunctionName": stack.arn(targets.pop())}, call.response)


@contextlib.contextmanager
def acting_as(function: str | None) -> Iterator[None]:
    token = acting.set(function)
    try:
        yield
    finally:
        acting.reset(token)


# --- installation ---------------------------------------------------------------------------------

_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    _wrap_botocore()
    _wrap_routes()
    _propagate_context_to_thread_pools()
    for name in BOUNDARIES:
        if name in sys.modules:
            _apply_boundaries(sys.modules[name])
    sys.meta_path.insert(0, _BoundaryFinder())


def _wrap_botocore() -> None:
    from botocore.client import BaseClient

    original = BaseClient._make_api_call

    @functools.wraps(original)
    def _make_api_call(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        function = acting.get()
        if function is None:
            return original(self, operation_name, api_params)
        response = None
        try:
            response = original(self, operation_name, api_params)
            return response
        finally:
            RECORDER.add(function, Call(self.meta.service_model.service_name, operation_name, dict(api_params), response))

    BaseClient._make_api_call = _make_api_call


@functools.cache
def _route_owners() -> dict[tuple[str, str], str]:
    from tests.deploy.template_routes import template_routes

    owners: dict[tuple[str, str], str] = {}
    for function, routes in template_routes(default_stack().template).items():
        for route in routes:
            owners[route] = function
    return owners


def route_owner(method: str, path: str) -> str | None:
    from tests.deploy.template_routes import normalize

    return _route_owners().get((method.upper(), normalize(path)))


def _wrap_routes() -> None:
    import fastapi.routing as routing

    original = routing.APIRoute.handle

    async def handle(self: Any, scope: Any, receive: Any, send: Any) -> None:
        if acting.get() is not None:
            return await original(self, scope, receive, send)
        context = getattr(routing, "_get_scope_effective_route_context", lambda s: None)(scope)
        path = getattr(context, "path", None) or self.path_format
        with acting_as(route_owner(scope.get("method", "GET"), path)):
            return await original(self, scope, receive, send)

    routing.APIRoute.handle = handle


def _propagate_context_to_thread_pools() -> None:
    original = concurrent.futures.ThreadPoolExecutor.submit

    @functools.wraps(original)
    def submit(self: Any, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        if acting.get() is None:
            return original(self, fn, *args, **kwargs)
        return original(self, contextvars.copy_context().run, fn, *args, **kwargs)

    concurrent.futures.ThreadPoolExecutor.submit = submit


def _bounded(target: Callable[..., Any], boundary: Boundary) -> Callable[..., Any]:
    def enter(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str | None:
        function = boundary.function(args, kwargs) if callable(boundary.function) else boundary.function
        if function and boundary.platform is not None:
            for call in boundary.platform(args, kwargs):
                RECORDER.add(function, call)
        return function

    if inspect.iscoroutinefunction(target):
        @functools.wraps(target)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            function = enter(args, kwargs)
            with acting_as(function or acting.get()):
                return await target(*args, **kwargs)
    else:
        @functools.wraps(target)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            function = enter(args, kwargs)
            with acting_as(function or acting.get()):
                return target(*args, **kwargs)
    wrapper.__iam_boundary__ = True  # type: ignore[attr-defined]
    return wrapper


def _apply_boundaries(module: Any) -> None:
    for attribute, boundary in BOUNDARIES.get(module.__name__, {}).items():
        target = getattr(module, attribute, None)
        if target is None:
            raise AttributeError(f"tests/support/iam/recorder.py BOUNDARIES: {module.__name__} has no {attribute}")
        if not getattr(target, "__iam_boundary__", False):
            setattr(module, attribute, _bounded(target, boundary))


class _BoundaryFinder(importlib.abc.MetaPathFinder):
    """Applies BOUNDARIES to a module right after it executes (before anyone imports from it)."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname not in BOUNDARIES:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        original = loader.exec_module

        def exec_module(module: Any) -> None:
            original(module)
            _apply_boundaries(module)

        loader.exec_module = exec_module
        return spec


# --- checking -------------------------------------------------------------------------------------


def denied(records: list[Recorded], stack: Stack | None = None) -> list[tuple[Recorded, Decision]]:
    found, seen = [], set()
    for record in records:
        key = (record.function, record.request)
        if key in seen:
            continue
        seen.add(key)
        decision = RECORDER.decide(record.function, record.request, stack)
        if not decision.allowed:
            found.append((record, decision))
    return found


def describe_denials(denials: list[tuple[Recorded, Decision]]) -> str:
    lines = [f"{len(denials)} AWS call(s) the function's policy in template.yaml does not allow:"]
    for record, decision in denials:
        lines.append(f"  {record.function}: {record.request} ({record.service}.{record.operation}, {decision.outcome})")
    return "\n".join(lines)


def distinct_pairs(records: list[Recorded]) -> set[tuple[str, str, str]]:
    return {(r.function, r.request.action, r.request.resource) for r in records}


class Plugin:
    """Registered by tests/conftest.py: records all session long, checks each test's calls.
    FLOWLESS_IAM_REPORT=<file> writes the distinct (function, action, resource) recorded, tab-separated."""

    def pytest_configure(self, config: Any) -> None:
        install()

    @staticmethod
    def _check(item: Any, mark: int) -> None:
        denials = denied(RECORDER.since(mark))
        if denials:
            pytest.fail(describe_denials(denials), pytrace=False)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: Any) -> None:
        RECORDER.test = item.nodeid
        item._iam_mark = RECORDER.mark()

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_teardown(self, item: Any) -> None:
        self._check(item, getattr(item, "_iam_mark", 0))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        pairs = distinct_pairs(RECORDER.records)
        if not pairs:
            return
        refused = {(r.function, r.request.action, r.request.resource) for r, _ in denied(RECORDER.records)}
        report = os.environ.get("FLOWLESS_IAM_REPORT")
        if report:  # every distinct (function, action, resource) and the first test that made it
            first: dict[tuple[str, str, str], str] = {}
            for r in RECORDER.records:
                first.setdefault((r.function, r.request.action, r.request.resource), f"{r.service}.{r.operation} {r.test}")
            with open(report, "w", encoding="utf-8") as out:
                for key in sorted(first):
                    out.write("\t".join((*key, "DENIED" if key in refused else "allowed", first[key])) + "\n")
        terminalreporter.write_line(
            f"IAM: {len(pairs)} distinct (function, action, resource) recorded from the functions' AWS calls, "
            f"{len(pairs) - len(refused)} allowed by template.yaml, {len(refused)} denied")
