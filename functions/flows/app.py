"""FlowsFunction: route groups flows, projects, variables and catalogue - managing a tenant's flows,
projects and global variables, and the component catalogue (/all, /config) - behind API Gateway."""

from flowless.api.app import create_app
from flowless.observability import lambda_handler

GROUPS = ("flows", "projects", "variables", "catalogue")

app = create_app(GROUPS)
handler = lambda_handler(app)
