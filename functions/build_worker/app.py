"""BuildWorkerFunction: the tasks of the BuildJob state machine (statemachine/build_job.asl.json):
Prepare, RunLayer, Finish and MarkFailed, one build step per invocation (flowless.jobs.worker)."""

from flowless.jobs.worker import handler as run_step
from flowless.observability import logger

handler = logger().inject_lambda_context(run_step, clear_state=True)
