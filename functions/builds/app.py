"""BuildFunction: route group build (Langflow's /build jobs and /monitor/builds) behind API Gateway;
builds run on the BuildJob state machine (BUILD_STATE_MACHINE_ARN)."""

from flowless.api.app import create_app
from flowless.observability import lambda_handler

GROUPS = ("build",)

app = create_app(GROUPS)
handler = lambda_handler(app)
