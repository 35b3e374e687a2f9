"""WebhookDeliveryFunction: delivers the outbound webhook events queued in SQS.

One attempt per message and receive; failures are reported as partial batch failures (with a
visibility timeout set to the backoff), so SQS retries them and, after maxReceiveCount receives,
moves them to the dead-letter queue (flowless.webhooks.delivery).
"""

from flowless.observability import logger
from flowless.webhooks.delivery import handler as deliver

handler = logger().inject_lambda_context(deliver, clear_state=True)
