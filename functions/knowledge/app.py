"""KnowledgeFunction: route group knowledge (/knowledge_bases) behind API Gateway, and the large
ingests it hands to itself.

An ingest of more chunks than FLOWLESS_INGEST_ASYNC_CHUNKS answers 202 and invokes this same
function asynchronously with `{"flowless_task": "knowledge_ingest", ...}` (flowless.tasks); such
events are run here to completion, every other event is an API Gateway request for Mangum.
"""

from typing import Any

from flowless.api.app import create_app
from flowless.observability import lambda_handler, logger
from flowless.tasks import handle_task_event, is_task_event

GROUPS = ("knowledge",)

app = create_app(GROUPS)
api_handler = lambda_handler(app)


def run_task(event: dict[str, Any], context: Any) -> Any:
    return handle_task_event(event)


task_handler = logger().inject_lambda_context(run_task, clear_state=True)


def handler(event: dict[str, Any], context: Any) -> Any:
    if is_task_event(event):
        return task_handler(event, context)
    return api_handler(event, context)
