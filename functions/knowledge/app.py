"""KnowledgeFunction: route group knowledge (/knowledge_bases) behind API Gateway, and the large
ingests it hands to itself.

An ingest of more chunks than FLOWLESS_INGEST_ASYNC_CHUNKS answers 202 and invokes this same
function asynchronously with `{"flowless_task": "knowledge_ingest", ...}` (flowless.tasks); such
events are run here to completion, every other event is an API Gateway request for Mangum.
"""

from flowless.api.app import create_app
from flowless.tasks import api_or_task_handler

GROUPS = ("knowledge",)

app = create_app(GROUPS)
handler = api_or_task_handler(app)
