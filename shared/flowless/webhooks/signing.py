"""Signatures of outbound webhook deliveries (HMAC-SHA256 over "<timestamp>.<body>").

Headers of every delivery attempt:
  X-Flowless-Signature: sha256=<hex HMAC-SHA256 of "<X-Flowless-Timestamp>.<raw body>" with the secret>
  X-Flowless-Timestamp: <unix seconds when the attempt was signed>
  X-Flowless-Event:     flow_started | flow_completed | flow_error | component_completed
  X-Flowless-Delivery:  <delivery id, the same on every retry of one delivery: deduplicate on it>

A receiver recomputes the HMAC over the raw body bytes it received, compares in constant time
and rejects timestamps more than five minutes away from its clock (replays). `verify` does it.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Flowless-Signature"
TIMESTAMP_HEADER = "X-Flowless-Timestamp"
EVENT_HEADER = "X-Flowless-Event"
DELIVERY_HEADER = "X-Flowless-Delivery"
TOLERANCE_S = 300


def signature(secret: str, timestamp: int | str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def signed_headers(secret: str, body: bytes, *, event: str, delivery_id: str, now: float | None = None) -> dict[str, str]:
    timestamp = int(time.time() if now is None else now)
    return {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature(secret, timestamp, body),
        TIMESTAMP_HEADER: str(timestamp),
        EVENT_HEADER: event,
        DELIVERY_HEADER: delivery_id,
    }


def verify(secret: str, body: bytes, signature_header: str | None, timestamp_header: str | None,
           *, tolerance_s: int = TOLERANCE_S, now: float | None = None) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent."""
    if not signature_header or not timestamp_header:
        return False
    try:
        timestamp = int(timestamp_header)
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance_s:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), signature_header)
