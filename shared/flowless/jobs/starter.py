"""Starting and stopping build executions.

`StepFunctionsRunner` starts the BuildJob state machine (BUILD_STATE_MACHINE_ARN), one execution
per job named after it, with `{"tenant", "job_id"}` as input; `LocalRunner` drives the very same
worker steps in-process with an asyncio task on the background loop (flowless.background, so a
build outlives the request that started it and never blocks a server's loop), with the state
machine's retry and catch rules: the local server and tests, when no state machine is configured.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
from typing import Any, Protocol

from flowless.jobs import worker
from flowless.settings import get_settings

logger = logging.getLogger("flowless.jobs")


class JobRunner(Protocol):
    async def start(self, tenant: str, job_id: str) -> str | None:
        """Start the build of a queued job; returns the execution's id (ARN) when there is one."""

    async def stop(self, tenant: str, job_id: str, execution_arn: str | None) -> None:
        """Stop the build's execution (the job is already marked cancelled)."""


class StepFunctionsRunner:
    def __init__(self, state_machine_arn: str, client: Any = None) -> None:
        self.state_machine_arn = state_machine_arn
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("stepfunctions", region_name=get_settings().region)
        return self._client

    async def start(self, tenant: str, job_id: str) -> str | None:
        started = self.client.start_execution(
            stateMachineArn=self.state_machine_arn, name=job_id, input=json.dumps({"tenant": tenant, "job_id": job_id})
        )
        return started["executionArn"]

    async def stop(self, tenant: str, job_id: str, execution_arn: str | None) -> None:
        arn = execution_arn or self.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{job_id}"
        try:
            self.client.stop_execution(executionArn=arn, error="Cancelled", cause="Flow build cancelled")
        except self.client.exceptions.ExecutionDoesNotExist:
            pass


# The state machine's rules (statemachine/build_job.asl.json), for the in-process runner.
RETRIES = 3
RETRY_INTERVAL_SECONDS = 0.05
BACKOFF_RATE = 2.0


class LocalRunner:
    """Prepare → RunLayer × n → Finish in an asyncio task, the same steps and payloads the state
    machine sends; TransientError is retried, anything else goes to the `fail` step; stopping
    cancels the task."""

    def __init__(self) -> None:
        self.runs: dict[str, concurrent.futures.Future[None]] = {}

    async def start(self, tenant: str, job_id: str) -> str | None:
        from flowless.background import background_loop

        run = background_loop().submit(self.drive(tenant, job_id))
        self.runs[job_id] = run
        run.add_done_callback(lambda _: self.runs.pop(job_id, None))
        return None

    async def stop(self, tenant: str, job_id: str, execution_arn: str | None) -> None:
        run = self.runs.get(job_id)
        if run is not None:
            run.cancel()

    async def drive(self, tenant: str, job_id: str) -> None:
        base = {"tenant": tenant, "job_id": job_id}
        try:
            state = await self._step({**base, "action": "prepare"})
            while not (state.get("cancelled") or state.get("failed") or state.get("done")):
                state = await self._step({**base, "action": "run_layer", "layer": state["layer"]})
            if state.get("done") and not (state.get("cancelled") or state.get("failed")):
                await self._step({**base, "action": "finish", "layers": state.get("layers", 0)})
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the state machine's Catch → MarkFailed
            logger.warning("build %s failed: %s", job_id, exc)
            cause = json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)})
            try:
                await self._step({**base, "action": "fail", "error": {"Error": type(exc).__name__, "Cause": cause}})
            except Exception:
                logger.exception("could not record the failure of build %s", job_id)

    async def _step(self, event: dict[str, Any]) -> dict[str, Any]:
        delay = RETRY_INTERVAL_SECONDS
        for attempt in range(RETRIES + 1):
            try:
                return await worker.run_step(event)
            except worker.TransientError:
                if attempt == RETRIES:
                    raise
                await asyncio.sleep(delay)
                delay *= BACKOFF_RATE
        raise AssertionError("unreachable")


_local: LocalRunner | None = None


def get_runner() -> JobRunner:
    """Step Functions when BUILD_STATE_MACHINE_ARN is set, else the in-process runner."""
    global _local
    arn = get_settings().build_state_machine_arn
    if arn and arn.startswith("arn:"):  # `flowless invoke` resolves the template's !Ref to a name
        return _sfn_runner(arn)
    if _local is None:
        _local = LocalRunner()
    return _local


_sfn: dict[str, StepFunctionsRunner] = {}


def _sfn_runner(arn: str) -> StepFunctionsRunner:
    if arn not in _sfn:
        _sfn[arn] = StepFunctionsRunner(arn)
    return _sfn[arn]
