"""KeysFunction: route group keys - a tenant's API keys (/api_key, admin scope) behind API Gateway."""

from flowless.api.app import create_app
from flowless.observability import lambda_handler

GROUPS = ("keys",)

app = create_app(GROUPS)
handler = lambda_handler(app)
