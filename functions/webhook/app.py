"""WebhookFunction: route group webhooks behind API Gateway, and the runs those webhooks start.

`POST /webhook/{flow}` answers 202 and invokes this same function asynchronously with an internal
payload `{"flowless_task": "webhook_run", ...}` (flowless.tasks); such events are run here to
completion, every other event is an API Gateway request for Mangum.
"""

from flowless.api.app import create_app
from flowless.tasks import api_or_task_handler

GROUPS = ("webhooks",)

app = create_app(GROUPS)
handler = api_or_task_handler(app)
