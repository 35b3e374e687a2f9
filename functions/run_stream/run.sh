#!/bin/bash
# Started by the Lambda Web Adapter (AWS_LAMBDA_EXEC_WRAPPER=/opt/bootstrap). uvicorn serves the
# run app on the adapter's port; the adapter turns each Function URL request into an HTTP request
# and streams the response back (AWS_LWA_INVOKE_MODE=response_stream). The layers live in
# /opt/python; the runtime's own packages (boto3, botocore) in $LAMBDA_RUNTIME_DIR.
PATH=$PATH:$LAMBDA_TASK_ROOT/bin \
  PYTHONPATH=$PYTHONPATH:/opt/python:$LAMBDA_RUNTIME_DIR \
  exec python -m uvicorn --host 127.0.0.1 --port "${AWS_LWA_PORT:-8080}" --no-access-log app:app
