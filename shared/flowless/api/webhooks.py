"""Webhook routes, both directions.

Inbound (scope execute): `POST /webhook/{flow_id_or_name}` answers 202 with a job id and runs the
flow in the background (`flowless.webhooks.inbound`); `GET /webhook/jobs/{job_id}` follows it.
Outbound, per flow: `POST|GET /flows/{flow_id}/webhooks`, `GET|DELETE .../webhooks/{id}` and
`GET .../webhooks/{id}/deliveries` manage the subscriptions (write to change, read to look) and
show their delivery log. The signing secret is shown once, in the answer to its creation.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from flowless.api.auth import INVALID_KEY, MISSING_KEY, Caller, authenticate, requires
from flowless.api.errors import ApiError
from flowless.store.flows import FlowRepository
from flowless.store.hooks import DeliveryLog, Subscription, SubscriptionRepository
from flowless.store.jobs import JobRepository
from flowless.webhooks.inbound import MAX_BODY_BYTES, start_webhook_run
from flowless.webhooks.outbound import DEFAULT_EVENTS, forget_subscriptions

router = APIRouter(tags=["Webhooks"])

WEBHOOK_KEY_REQUIRED = "API key required when webhook authentication is enabled"
WEBHOOK_KEY_INVALID = "Invalid API key"
EMPTY_BODY = "Request body is empty. You should provide a JSON payload containing the flow ID."
MAX_SUBSCRIPTIONS_PER_FLOW = 10
Event = Literal["flow_started", "flow_completed", "flow_error", "component_completed"]


# --- inbound ------------------------------------------------------------------------------------


def webhook_caller(request: Request) -> Caller:
    """The API key's caller, with Langflow's webhook wording for a missing or wrong key."""
    try:
        caller = authenticate(request)
    except ApiError as exc:
        if exc.status == 403 and exc.detail == MISSING_KEY:
            raise ApiError(403, WEBHOOK_KEY_REQUIRED) from None
        if exc.status == 403 and exc.detail == INVALID_KEY:
            raise ApiError(403, WEBHOOK_KEY_INVALID) from None
        raise
    return requires("execute")(caller)


@router.post("/webhook/{flow_id_or_name}", status_code=202)
async def webhook_run(flow_id_or_name: str, request: Request, caller: Caller = Depends(webhook_caller)) -> JSONResponse:
    raw = await request.body()
    if not raw.strip():
        raise ApiError(400, EMPTY_BODY)
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(413, f"Request body exceeds {MAX_BODY_BYTES} bytes")
    job_id = start_webhook_run(caller.tenant, flow_id_or_name, raw.decode("utf-8", errors="replace"))
    return JSONResponse({"message": "Task started in the background", "status": "in progress", "job_id": job_id}, status_code=202)


@router.get("/webhook/jobs/{job_id}")
async def webhook_job(job_id: str, caller: Caller = Depends(requires("execute"))) -> dict[str, Any]:
    job = JobRepository(caller.tenant).get(job_id)
    if job is None:
        raise ApiError(404, "Job not found")
    answer: dict[str, Any] = {"job_id": job.id, "flow_id": job.flow_id, "status": job.status.value,
                              "created_at": job.created_at.isoformat(), "updated_at": job.updated_at.isoformat()}
    if job.result is not None:
        answer["result"] = job.result
    if job.error is not None:
        answer["error"] = job.error
    return answer


# --- outbound subscriptions ---------------------------------------------------------------------


class SubscriptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2048)
    events: list[Event] = Field(default_factory=lambda: list(DEFAULT_EVENTS), min_length=1)
    secret: str | None = Field(default=None, min_length=16, max_length=256)
    description: str | None = Field(default=None, max_length=500)


def tenant_flow(caller: Caller, flow_id: str) -> str:
    flow = FlowRepository(caller.tenant).get(flow_id, include_data=False)
    if flow is None:
        raise ApiError(404, "Flow not found")
    return flow.id


def subscription_json(subscription: Subscription) -> dict[str, Any]:
    answer = {
        "id": subscription.id,
        "flow_id": subscription.flow_id,
        "url": subscription.url,
        "events": subscription.events,
        "description": subscription.description,
        "created_at": subscription.created_at.isoformat(),
    }
    if subscription.secret is not None:
        answer["secret"] = subscription.secret
    return answer


async def check_target(url: str) -> None:
    """The SSRF guard of the components' HTTP client, applied when subscribing (and again at delivery)."""
    from flowless_engine.errors import BlockedURLError
    from flowless_engine.http import HttpError, check_url
    from flowless_engine.settings import EngineSettings

    settings = EngineSettings.from_env()
    try:
        await asyncio.to_thread(check_url, url, allow_private=settings.allow_private_networks, allow_loopback=settings.allow_loopback)
    except BlockedURLError as exc:
        raise ApiError(422, {"code": exc.code, "message": exc.message}) from None
    except HttpError as exc:
        raise ApiError(422, {"code": "UNREACHABLE_URL", "message": str(exc)}) from None


@router.post("/flows/{flow_id}/webhooks", status_code=201)
async def create_subscription(flow_id: str, payload: SubscriptionCreate, caller: Caller = Depends(requires("write"))) -> JSONResponse:
    canonical = tenant_flow(caller, flow_id)
    await check_target(payload.url)
    repo = SubscriptionRepository(caller.tenant)
    if len(repo.list(canonical)) >= MAX_SUBSCRIPTIONS_PER_FLOW:
        raise ApiError(409, f"A flow can have at most {MAX_SUBSCRIPTIONS_PER_FLOW} webhooks")
    secret = payload.secret or "whsec_" + secrets.token_urlsafe(32)
    events = list(dict.fromkeys(payload.events))
    subscription = repo.create(canonical, payload.url, events, secret, payload.description)
    forget_subscriptions(caller.tenant, canonical)
    return JSONResponse(subscription_json(subscription), status_code=201)


@router.get("/flows/{flow_id}/webhooks")
async def list_subscriptions(flow_id: str, caller: Caller = Depends(requires("read"))) -> dict[str, Any]:
    canonical = tenant_flow(caller, flow_id)
    return {"webhooks": [subscription_json(s) for s in SubscriptionRepository(caller.tenant).list(canonical)]}


def tenant_subscription(caller: Caller, flow_id: str, hook_id: str) -> Subscription:
    canonical = tenant_flow(caller, flow_id)
    subscription = SubscriptionRepository(caller.tenant).get(canonical, hook_id)
    if subscription is None:
        raise ApiError(404, "Webhook not found")
    return subscription


@router.get("/flows/{flow_id}/webhooks/{hook_id}")
async def get_subscription(flow_id: str, hook_id: str, caller: Caller = Depends(requires("read"))) -> dict[str, Any]:
    return subscription_json(tenant_subscription(caller, flow_id, hook_id))


@router.delete("/flows/{flow_id}/webhooks/{hook_id}")
async def delete_subscription(flow_id: str, hook_id: str, caller: Caller = Depends(requires("write"))) -> dict[str, str]:
    subscription = tenant_subscription(caller, flow_id, hook_id)
    SubscriptionRepository(caller.tenant).delete(subscription.flow_id, subscription.id)
    forget_subscriptions(caller.tenant, subscription.flow_id)
    return {"detail": "Webhook deleted"}


@router.get("/flows/{flow_id}/webhooks/{hook_id}/deliveries")
async def list_deliveries(flow_id: str, hook_id: str, limit: int = Query(50, ge=1, le=200),
                          caller: Caller = Depends(requires("read"))) -> dict[str, Any]:
    subscription = tenant_subscription(caller, flow_id, hook_id)
    deliveries = DeliveryLog(caller.tenant).list(subscription.id, limit=limit)
    return {
        "deliveries": [
            {"id": d.id, "event": d.event, "state": d.state, "attempts": d.attempts,
             "created_at": d.created_at.isoformat() if d.created_at else None,
             "updated_at": d.updated_at.isoformat() if d.updated_at else None}
            for d in deliveries
        ]
    }
