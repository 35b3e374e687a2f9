"""MonitorFunction: route group monitor (the tenant's messages and sessions) behind API Gateway."""

from flowless.api.app import create_app
from flowless.observability import lambda_handler

GROUPS = ("monitor",)

app = create_app(GROUPS)
handler = lambda_handler(app)
