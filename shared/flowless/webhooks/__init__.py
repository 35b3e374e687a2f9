"""Webhooks in both directions.

- inbound: `POST /webhook/{flow}` starts a run in the background (`inbound`), the job records it;
- outbound: a flow's subscriptions receive its run events (`outbound` enqueues them from the run
  path, `delivery` signs and posts them with retries, `signing` is what receivers verify).
"""
