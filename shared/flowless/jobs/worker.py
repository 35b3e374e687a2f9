"""The build worker: one step of a build per call, the same code under Step Functions (one Lambda
invocation per state) and in-process (`LocalRunner`).

Actions (the `action` key of the event; every event carries `tenant` and `job_id`):
  prepare    load the flow (or the request's unsaved graph), validate, plan the layers, emit
             `vertices_sorted` and `build_start`, store the plan           (job queued → in_progress)
  run_layer  run step `layer` of the plan from the previous checkpoint; store the next checkpoint
             with the step's events, chat messages and vertex builds
  finish     emit `end` {"build_duration"}                                  (→ completed)
  fail       emit `error` for a failure the state machine caught            (→ failed)

Every step returns {"tenant", "job_id", "layer", "layers", "done", "failed", "cancelled"} for the
state machine's Choice, and is idempotent: its record (PLAN, CKPT#<i>, END) is written once, in the same
transaction as everything the step produced (`JobRepository.commit_step`); a replayed step finds
it and returns the stored output without running, emitting or storing anything again. Message ids
are deterministic per (job, vertex, n) and events take the sequence numbers that follow the
previous step's, so even a step run twice concurrently can only be committed once.

Errors: `TransientError` (storage throttling, a provider timeout or 429/5xx) is retried by the state
machine. A failing vertex or an invalid flow ends the build here (failed `end_vertex`, `error`,
status failed) and the step returns `failed: true`: the execution ends failed without the
function reporting an error (a user's flow failing is not an outage). Anything else escapes to
the state machine's Catch, whose `fail` step writes the error event.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flowless_engine.errors import FlowError, ProviderError, ProviderTimeoutError
from flowless_engine.graph.model import Graph
from flowless_engine.runtime.request import RunRequest
from flowless_engine.runtime.results import serialize_message
from flowless_engine.runtime.run import current_vertex
from flowless_engine.schema import Message

from flowless.settings import get_settings
from flowless.store.errors import StoreError
from flowless.store.jobs import END_SK, PLAN_SK, Job, JobMoved, JobRepository, JobStatus, StepWrite, checkpoint_sk
from flowless.store.runs import RunMessageStore

logger = logging.getLogger("flowless.jobs")
MESSAGE_IDS = uuid.UUID("6f1c2a7e-3d4b-4f5a-9e8d-7c6b5a4f3e2d")  # namespace of deterministic message ids
TRANSIENT_STORAGE = ("ProvisionedThroughputExceeded", "ThrottlingException", "RequestLimitExceeded", "TransactionConflict",
                     "ServiceUnavailable", "InternalServerError", "ConnectTimeout", "ReadTimeout", "EndpointConnectionError")


class TransientError(Exception):
    """A step failed for a reason that may pass; the state machine retries the step."""


# ---- the step's event sink and message store ----------------------------------------------------


class StepEvents:
    """The events of one step, kept per vertex (the vertex whose task emitted them) so the step's
    sequence is deterministic: step-level events, then each vertex's in plan order. Consecutive
    tokens of one message are coalesced while they arrive within `window_ms` of the first."""

    def __init__(self, window_ms: int) -> None:
        self.window = window_ms / 1000
        self._by_vertex: dict[str | None, list[list[Any]]] = {}
        self._token_started: dict[str | None, float] = {}

    def emit(self, event: str, data: dict[str, Any]) -> None:
        vertex = current_vertex.get()
        events = self._by_vertex.setdefault(vertex, [])
        now = time.monotonic()
        if event == "token" and events and events[-1][0] == "token":
            last = events[-1][1]
            if last.get("id") == data.get("id") and now - self._token_started[vertex] < self.window:
                events[-1][1] = {**last, "chunk": str(last.get("chunk", "")) + str(data.get("chunk", ""))}
                return
        if event == "token":
            self._token_started[vertex] = now
        events.append([event, data])

    def ordered(self, rank: dict[str, int]) -> list[tuple[str, Any]]:
        keys = sorted(self._by_vertex, key=lambda v: -1 if v is None else rank.get(v, len(rank)))
        return [(name, data) for key in keys for name, data in self._by_vertex[key]]


class StepMessages(RunMessageStore):
    """The run's message store (history reads, this step's unsaved messages), remembering which
    vertex stored each message; the step commits them itself."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owners: list[tuple[str | None, Message]] = []

    async def add_messages(self, messages: Iterable[Message]) -> None:
        messages = list(messages)
        vertex = current_vertex.get()
        self.owners.extend((vertex, m) for m in messages)
        await super().add_messages(messages)


# ---- the steps ------------------------------------------------------------------------------------


@dataclass
class Plan:
    """What Prepare stored: the plan, the flow snapshot the build runs, and the request."""

    steps: list[list[str]]
    layers: list[list[str]]
    flow_id: str
    flow_name: str
    data: dict[str, Any]
    request: dict[str, Any]
    session_ttl_minutes: float | None = None

    @property
    def rank(self) -> dict[str, int]:
        return _rank(self.layers)

    def run_request(self) -> RunRequest:
        return run_request(self.request)


def _rank(layers: list[list[str]]) -> dict[str, int]:
    """Vertex id → its place in the layered order (events of a step are sorted by it)."""
    return {vid: i for i, vid in enumerate(v for layer in layers for v in layer)}


def run_request(request: dict[str, Any]) -> RunRequest:
    inputs = request.get("inputs") or {}
    return RunRequest(
        input_value=inputs.get("input_value"),
        input_type="chat",  # Langflow's build injects input_value into Chat Inputs only
        session_id=inputs.get("session") or None,
        input_components=list(inputs.get("components") or []),
        start_component_id=request.get("start_component_id"),
        stop_component_id=request.get("stop_component_id"),
        files=list(request.get("files") or []),
    )


class BuildSteps:
    def __init__(self, tenant: str, job_id: str) -> None:
        self.tenant = tenant
        self.job_id = job_id
        self.jobs = JobRepository(tenant)

    def output(self, *, layer: int = 0, layers: int = 0, done: bool = False, failed: bool = False, cancelled: bool = False) -> dict[str, Any]:
        return {"tenant": self.tenant, "job_id": self.job_id, "layer": layer, "layers": layers, "done": done, "failed": failed,
                "cancelled": cancelled}

    def _settled(self, job: Job | None, layers: int = 0) -> dict[str, Any] | None:
        """The output for a job that is gone or finished (None while it is live)."""
        if job is None or job.status is JobStatus.CANCELLED:
            return self.output(layers=layers, cancelled=True)
        if job.status is JobStatus.FAILED:
            return self.output(layers=layers, failed=True)
        if job.status is JobStatus.COMPLETED:
            return self.output(layer=layers, layers=layers, done=True)
        return None

    # -- prepare --------------------------------------------------------------------------------

    async def prepare(self) -> dict[str, Any]:
        from flowless_engine.graph.loader import load_graph
        from flowless_engine.runtime.build import announce, plan_build, prepare_build

        job, stored = self.jobs.read_steps(self.job_id, PLAN_SK)
        if PLAN_SK in stored:
            return stored[PLAN_SK].output
        if job is None or job.status is not JobStatus.QUEUED:
            return self._settled(job) or self.output()
        request = self.jobs.get_request(self.job_id) or {}
        events = StepEvents(get_settings().token_batch_ms)
        try:
            flow_id, flow_name, data, ttl = self._flow(job, request)
            graph = load_graph({"data": data}, flow_id=flow_id, flow_name=flow_name)
            build_request = run_request(request)
            ctx = self._context(graph, build_request, events, messages=None)
            prepared = prepare_build(graph, build_request, ctx)
            plan = plan_build(prepared, build_request)
        except FlowError as exc:
            return await self._fail_build(job, _flow_error_text(exc), events=[], flow_id=job.flow_id, session_id=_session(request, job))
        announce(plan, ctx)
        stored_plan = {"steps": plan.steps, "layers": plan.layers, "flow_id": flow_id, "flow_name": flow_name, "data": data,
                       "request": request, "session_ttl_minutes": ttl}
        output = self.output(layers=len(plan.steps), done=not plan.steps)
        return self._commit(StepWrite(PLAN_SK, output, job.event_count, events.ordered(_rank(plan.layers)), checkpoint=stored_plan,
                                      status=JobStatus.IN_PROGRESS, from_statuses=(JobStatus.QUEUED,)))

    def _flow(self, job: Job, request: dict[str, Any]) -> tuple[str, str, dict[str, Any], float | None]:
        from flowless.store.flows import FlowRepository

        flow = FlowRepository(self.tenant).get(job.flow_id or "", include_data=not request.get("data"))
        if flow is None:
            raise FlowError(f"Flow with id {job.flow_id} not found")
        data = request.get("data") or flow.data or {}
        return flow.id, request.get("flow_name") or flow.name, data, flow.session_ttl_minutes

    # -- run_layer -------------------------------------------------------------------------------

    async def run_layer(self, layer: int) -> dict[str, Any]:
        from flowless_engine.runtime.build import new_checkpoint
        from flowless_engine.runtime.build import run_layer as run_engine_layer

        previous_sk = checkpoint_sk(layer - 1) if layer > 0 else None
        this_sk = checkpoint_sk(layer)
        job, stored = self.jobs.read_steps(self.job_id, PLAN_SK, this_sk, *([previous_sk] if previous_sk else []))
        if this_sk in stored:
            return stored[this_sk].output
        if PLAN_SK not in stored:
            return self._settled(job) or self.output(cancelled=True)
        layers = int(stored[PLAN_SK].output.get("layers", 0))
        settled = self._settled(job, layers)
        if settled is not None or job is None:
            return settled or self.output(cancelled=True)
        plan = self._plan(stored[PLAN_SK])
        if previous_sk and previous_sk not in stored:
            raise TransientError(f"step {layer - 1} of job {self.job_id} is not committed yet")
        checkpoint = stored[previous_sk].checkpoint() if previous_sk else new_checkpoint()
        graph = self._graph(plan)
        request = plan.run_request()
        events = StepEvents(get_settings().token_batch_ms)
        messages = StepMessages(self.tenant, plan.flow_id, plan.session_ttl_minutes)
        try:
            ctx = self._context(graph, request, events, messages)
        except FlowError as exc:  # code whose approval was revoked since the build started
            return await self._fail_build(job, _flow_error_text(exc), events=[], flow_id=plan.flow_id,
                                          session_id=request.session_id or plan.flow_id, plan=plan)
        try:
            checkpoint = await run_engine_layer(graph, request, ctx, plan.steps[layer], checkpoint)
        except FlowError as exc:
            if _transient(exc):
                raise TransientError(exc.message) from exc
            ids = self._message_ids(messages, layer)
            step_events = _replace(events.ordered(plan.rank), ids)
            failed = _failed_vertex(step_events)
            component = graph.vertices[failed].display_name if failed in graph.vertices else None
            return await self._fail_build(job, _flow_error_text(exc), events=step_events, flow_id=plan.flow_id,
                                          session_id=ctx.session_id, component=component,
                                          messages=await _finished(messages, plan.flow_id), plan=plan)
        ids = self._message_ids(messages, layer)
        step_events = _replace(events.ordered(plan.rank), ids)
        checkpoint = _replace(checkpoint, ids)
        items = []
        if plan.request.get("log_builds", True):
            builds = _vertex_builds(step_events, plan.flow_id, self.job_id)
            if builds:
                from flowless.store.vertex_builds import VertexBuildRepository

                items.append(VertexBuildRepository(self.tenant).item(plan.flow_id, self.job_id, this_sk, builds))
        output = self.output(layer=layer + 1, layers=layers, done=layer + 1 >= layers)
        return self._commit(StepWrite(this_sk, output, job.event_count, step_events, checkpoint=checkpoint, flow_id=plan.flow_id,
                                      messages=await _finished(messages, plan.flow_id), session_ttl_minutes=plan.session_ttl_minutes,
                                      items=items))

    def _plan(self, stored: Any) -> Plan:
        return _cached_plan(self.tenant, self.job_id, stored)

    def _graph(self, plan: Plan) -> Graph:
        return _cached_graph(self.tenant, self.job_id, plan)

    def _message_ids(self, messages: StepMessages, layer: int) -> dict[str, str]:
        """Deterministic ids per (job, vertex, n): a message stored twice would land on one key."""
        mapping: dict[str, str] = {}
        counts: dict[str, int] = {}
        for vertex, message in messages.owners:
            owner = vertex or f"step-{layer}"
            n = counts.get(owner, 0)
            counts[owner] = n + 1
            new_id = str(uuid.uuid5(MESSAGE_IDS, f"{self.tenant}/{self.job_id}/{owner}/{n}"))
            mapping[message.id] = new_id
            message.id = new_id
        return mapping

    # -- finish, fail ------------------------------------------------------------------------------

    async def finish(self, layers: int) -> dict[str, Any]:
        last_sk = checkpoint_sk(layers - 1) if layers > 0 else None
        job, stored = self.jobs.read_steps(self.job_id, END_SK, *([last_sk] if last_sk else []))
        if END_SK in stored:
            return stored[END_SK].output
        settled = self._settled(job, layers)
        if settled is not None or job is None:
            return settled or self.output(cancelled=True)
        checkpoint = stored[last_sk].checkpoint() if last_sk and last_sk in stored else {}
        duration = float(checkpoint.get("build_duration") or 0.0)
        output = self.output(layer=layers, layers=layers, done=True)
        return self._commit(StepWrite(END_SK, output, job.event_count, [("end", {"build_duration": duration})], status=JobStatus.COMPLETED,
                                      result={"build_duration": duration, "usage": checkpoint.get("usage")}))

    async def fail(self, error: Any) -> dict[str, Any]:
        """The state machine's Catch: write the error (once) unless the job already ended."""
        text = _caught_error_text(error)
        for _ in range(5):
            job, stored = self.jobs.read_steps(self.job_id, END_SK)
            if END_SK in stored:
                return stored[END_SK].output
            if job is None or job.status.terminal:
                return self.output(cancelled=job is None or job.status is JobStatus.CANCELLED)
            request = self.jobs.get_request(self.job_id) or {}
            try:
                return await self._fail_build(job, text, events=[], flow_id=job.flow_id, session_id=_session(request, job))
            except TransientError:  # another step moved the job meanwhile: look again
                continue
        raise TransientError(f"job {self.job_id} kept moving while its failure was recorded")

    async def _fail_build(self, job: Job, text: str, *, events: list[tuple[str, Any]], flow_id: str | None, session_id: str,
                          component: str | None = None, messages: list[Message] | None = None, plan: Plan | None = None) -> dict[str, Any]:
        error = error_event(text, flow_id=flow_id, session_id=session_id, component=component)
        step = StepWrite(END_SK, self.output(failed=True), job.event_count, [*events, ("error", error)], status=JobStatus.FAILED,
                         from_statuses=(JobStatus.QUEUED, JobStatus.IN_PROGRESS), error=text, flow_id=flow_id,
                         messages=messages or [], session_ttl_minutes=plan.session_ttl_minutes if plan else None)
        return self._commit(step)

    # -- cancel (from the API) -------------------------------------------------------------------

    async def cancel(self) -> Job | None:
        """Mark the job cancelled with a final `end` {} event (the stream's end, as Langflow's
        polling sends it) unless it already ended; steps check the status and stop."""
        for _ in range(5):
            job, _ = self.jobs.read_steps(self.job_id, END_SK)
            if job is None or job.status.terminal:
                return job
            step = StepWrite(END_SK, self.output(cancelled=True), job.event_count, [("end", {})], status=JobStatus.CANCELLED,
                             from_statuses=(JobStatus.QUEUED, JobStatus.IN_PROGRESS))
            try:
                self.jobs.commit_step(self.job_id, step)
            except JobMoved:
                continue
            return self.jobs.get(self.job_id)
        raise TransientError(f"job {self.job_id} kept moving while it was cancelled")

    # -- shared ------------------------------------------------------------------------------------

    def _commit(self, step: StepWrite) -> dict[str, Any]:
        try:
            return self.jobs.commit_step(self.job_id, step).output
        except JobMoved as moved:
            settled = self._settled(moved.job, int(step.output.get("layers", 0)))
            if settled is not None:
                return settled
            raise TransientError(f"job {self.job_id} changed while step {step.sk} was committed") from moved

    def _context(self, graph: Graph, request: RunRequest, events: StepEvents, messages: StepMessages | None) -> Any:
        from flowless.custom_code import check_flow_code
        from flowless.runs import TenantFlows, _file_store, _variables, engine_settings
        from flowless_engine.runtime.context import RunContext
        from flowless.vectors import knowledge_services

        ctx = RunContext(
            flow_id=graph.flow_id,
            session_id=request.session_id or graph.flow_id,
            flow_name=graph.flow_name,
            run_id=self.job_id,
            events=events,
            variables=_variables(self.tenant),
            files=_file_store(self.tenant),
            settings=engine_settings(),
            # Approved user code: checked again at every step (a revoked approval stops the build).
            code_runner=check_flow_code(self.tenant, graph),
            tenant=self.tenant,
            flows=TenantFlows(self.tenant),  # Run Flow / Sub Flow / Flow as Tool: this tenant's flows
            **knowledge_services(self.tenant),  # knowledge bases (RAG), connected on first use
        )
        if messages is not None:
            ctx.messages = messages
        return ctx


# Plans and prepared graphs of the jobs this warm container worked on lately.
_JOBS: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()
_JOBS_KEPT = 16


def _job_cache(tenant: str, job_id: str) -> dict[str, Any]:
    key = (tenant, job_id)
    if key not in _JOBS:
        _JOBS[key] = {}
        while len(_JOBS) > _JOBS_KEPT:
            _JOBS.popitem(last=False)
    _JOBS.move_to_end(key)
    return _JOBS[key]


def _cached_plan(tenant: str, job_id: str, stored: Any) -> Plan:
    cache = _job_cache(tenant, job_id)
    if "plan" not in cache:
        cache["plan"] = Plan(**stored.checkpoint())
    return cache["plan"]


def _cached_graph(tenant: str, job_id: str, plan: Plan) -> Graph:
    cache = _job_cache(tenant, job_id)
    if "graph" not in cache:
        from flowless_engine.graph.loader import load_graph
        from flowless_engine.runtime.build import prepare_build

        graph = load_graph({"data": plan.data}, flow_id=plan.flow_id, flow_name=plan.flow_name)
        cache["graph"] = prepare_build(graph, plan.run_request())
    return cache["graph"]


# ---- shapes ----------------------------------------------------------------------------------------


def error_event(text: str, *, flow_id: str | None, session_id: str, component: str | None = None) -> dict[str, Any]:
    """Langflow's `error` event data: an error Message (category error, an Error content block)."""
    message = Message(
        text=text,
        sender=component,
        sender_name=component,
        session_id=session_id,
        flow_id=flow_id,
        error=True,
        category="error",
        properties={"text_color": "red", "background_color": "red", "edited": False,
                    "source": {"id": None, "display_name": component, "source": component}, "icon": "error",
                    "allow_markdown": False, "targets": []},
        content_blocks=[{"title": "Error", "contents": [{"type": "error", "component": component, "field": None, "reason": text,
                                                         "solution": None, "traceback": None}],
                         "allow_markdown": True, "media_url": None}],
    )
    return serialize_message(message)


def _vertex_builds(events: list[tuple[str, Any]], flow_id: str, job_id: str) -> list[dict[str, Any]]:
    """Langflow's vertex build rows, from the step's `end_vertex` events."""
    builds = []
    for name, data in events:
        if name != "end_vertex":
            continue
        build = data.get("build_data") or {}
        result = build.get("data") or {}
        builds.append({
            "timestamp": build.get("timestamp"),
            "id": build.get("id"),
            "data": result,
            "artifacts": result.get("artifacts") or {},
            "params": build.get("params"),
            "valid": bool(build.get("valid")),
            "flow_id": flow_id,
            "job_id": job_id,
            "build_id": str(uuid.uuid5(MESSAGE_IDS, f"{job_id}/build/{build.get('id')}")),
        })
    return builds


def _replace(value: Any, ids: dict[str, str]) -> Any:
    """`value` with every string equal to a key of `ids` replaced (message ids in events)."""
    if not ids:
        return value
    if isinstance(value, str):
        return ids.get(value, value)
    if isinstance(value, list):
        return [_replace(v, ids) for v in value]
    if isinstance(value, tuple):
        return tuple(_replace(v, ids) for v in value)
    if isinstance(value, dict):
        return {k: _replace(v, ids) for k, v in value.items()}
    return value


def _transient(exc: FlowError) -> bool:
    if isinstance(exc, ProviderTimeoutError):
        return True
    return isinstance(exc, ProviderError) and (exc.retryable or exc.status in (429, 500, 502, 503, 504))


def _flow_error_text(exc: FlowError) -> str:
    return exc.message


def _failed_vertex(events: list[tuple[str, Any]]) -> str | None:
    for name, data in events:
        if name == "end_vertex" and not (data.get("build_data") or {}).get("valid", True):
            return (data.get("build_data") or {}).get("id")
    return None


async def _finished(messages: StepMessages, flow_id: str) -> list[Message]:
    """The step's messages ready to store: texts resolved, session and flow set (as `flush` does)."""
    done = []
    for _, message in messages.owners:
        await message.resolve()
        message.session_id = message.session_id or flow_id
        message.flow_id = message.flow_id or flow_id
        done.append(message)
    return done


def _caught_error_text(error: Any) -> str:
    """The message of a Step Functions error {Error, Cause} (Cause: a Lambda error payload)."""
    if not isinstance(error, dict):
        return str(error or "The build failed")
    name = str(error.get("Error") or "Error")
    cause = error.get("Cause")
    try:
        detail = json.loads(cause) if isinstance(cause, str) else cause
    except ValueError:
        detail = cause
    if isinstance(detail, dict):
        detail = detail.get("errorMessage") or detail.get("message") or json.dumps(detail)
    if name == "States.Timeout":
        return "The build did not finish in time"
    return f"{name}: {detail}" if detail else name


def _session(request: dict[str, Any], job: Job) -> str:
    return ((request.get("inputs") or {}).get("session")) or job.flow_id or ""


# ---- entry points ------------------------------------------------------------------------------------


async def run_step(event: dict[str, Any]) -> dict[str, Any]:
    """Run the step an event asks for (see the module docstring)."""
    steps = BuildSteps(str(event["tenant"]), str(event["job_id"]))
    action = event.get("action")
    try:
        if action == "prepare":
            return await steps.prepare()
        if action == "run_layer":
            return await steps.run_layer(int(event["layer"]))
        if action == "finish":
            return await steps.finish(int(event.get("layers") or 0))
        if action == "fail":
            return await steps.fail(event.get("error"))
    except TransientError:
        raise
    except StoreError:
        raise
    except Exception as exc:
        text = f"{type(exc).__name__}: {exc}"
        if any(marker in text for marker in TRANSIENT_STORAGE):
            raise TransientError(text) from exc
        raise
    raise ValueError(f"unknown build step action {action!r}")


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """The Lambda entry point of the BuildJob state machine's tasks."""
    return asyncio.run(run_step(event))
