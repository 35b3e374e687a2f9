"""FilesFunction: route group files (files v1 per flow, v2 per tenant, on S3) behind API Gateway.

Uploads arrive base64-encoded (the API's binary media types); Lambda's 6 MB request payload
bounds them near 4.5 MB here, whatever FLOWLESS_MAX_UPLOAD_MB says.
"""

from flowless.api.app import create_app
from flowless.observability import lambda_handler

GROUPS = ("files",)

app = create_app(GROUPS)
handler = lambda_handler(app)
