"""RunStreamFunction: the run routes under uvicorn behind the AWS Lambda Web Adapter, so that
`/run?stream=true` reaches the client event by event through a RESPONSE_STREAM Function URL.

run.sh starts `uvicorn app:app`; there is no Lambda handler in Python here.
"""

from flowless.api.app import create_app
from flowless.observability import instrument

GROUPS = ("run", "health")

app = instrument(create_app(GROUPS), flush_metrics=True)
