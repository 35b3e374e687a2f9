"""RunFunction: route groups run + health behind API Gateway (REST) through Mangum.

`/run?stream=true` answers with the whole stream buffered in one response here; RunStreamFunction
(functions/run_stream) streams it for real over a Function URL.
"""

import importlib
import os

from flowless.api.app import create_app
from flowless.observability import lambda_handler

GROUPS = ("run", "health")

app = create_app(GROUPS)
handler = lambda_handler(app)

# SnapStart snapshots the initialised function: load the run path before the snapshot rather than
# on the first request. On-demand cold starts keep it lazy (INIT stays close to the framework floor).
if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "snap-start":
    for module in ("flowless.runs", "flowless.auth.keys", "flowless.store.runs", "flowless.store.flows",
                   "flowless.store.variables", "flowless_engine.runtime.run", "flowless_engine.graph.loader"):
        importlib.import_module(module)
