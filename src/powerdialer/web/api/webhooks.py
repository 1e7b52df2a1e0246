"""Routes: a project's webhook subscriptions, their secrets, the delivery log, a resend and a
test event (docs/webhooks.md); and the OpenAPI document's ``webhooks`` (every event body)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, FastAPI, Path, Response, status

from powerdialer.models import MAX_ID
from powerdialer.web.api.deps import Authed, ServicesDep, StoreDep
from powerdialer.web.api.routing import ApiRoute
from powerdialer.web.api.schemas import webhooks as schemas
from powerdialer.web.api.schemas.error_codes import error_responses
from powerdialer.web.api.schemas.webhook_events import EVENT_MODELS
from powerdialer.webhooks import subscriptions

router = APIRouter(prefix="/power-dialer", tags=["webhooks"], route_class=ApiRoute)

WebhookId = Annotated[int, Path(gt=0, le=MAX_ID, description="The webhook's id.", examples=[3])]
DeliveryId = Annotated[
    int, Path(gt=0, le=MAX_ID, description="The delivery's id (the log's id).", examples=[41])
]
EventId = Annotated[
    str,
    Path(
        min_length=28,
        max_length=28,
        pattern=r"^evt_[0-9a-f]{24}$",
        description="The event's id (webhook-id).",
        examples=["evt_5f0c3b1e9a7d2c4b6e8f0a1b"],
    ),
]


@router.get(
    "/webhooks",
    summary="List the webhooks",
    response_model=schemas.WebhookList,
    responses=error_responses("invalid_field"),
)
def list_webhooks(auth: Authed, store: StoreDep) -> schemas.WebhookList:
    """The project's subscriptions, a disabled one with the reason."""
    items = subscriptions.list_all(store, auth.project_id)
    return schemas.WebhookList(items=[schemas.WebhookPublic.of(s) for s in items])


@router.post(
    "/webhooks",
    summary="Subscribe a URL to events",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.WebhookCreated,
    responses=error_responses("invalid_field", "invalid_url", "url_refused", "too_many_webhooks"),
)
async def create_webhook(
    body: schemas.WebhookIn, auth: Authed, services: ServicesDep
) -> schemas.WebhookCreated:
    """Every event of the types listed is POSTed to `url`, signed with the secret in the
    answer (shown once: store it). The URL's host must resolve to public addresses."""
    created = await subscriptions.create(
        services.store,
        auth.project_id,
        body.url,
        list(body.event_types),
        per_row=body.per_row,
        policy=services.webhooks.policy,
        now=services.clock(),
    )
    public = schemas.WebhookPublic.of(created.subscription)
    return schemas.WebhookCreated(**public.model_dump(), secret=created.secret)


@router.get(
    "/webhooks/{webhook_id}",
    summary="Read a webhook",
    response_model=schemas.WebhookPublic,
    responses=error_responses("webhook_not_found", "invalid_field"),
)
def get_webhook(webhook_id: WebhookId, auth: Authed, store: StoreDep) -> schemas.WebhookPublic:
    return schemas.WebhookPublic.of(subscriptions.get(store, auth.project_id, webhook_id))


@router.patch(
    "/webhooks/{webhook_id}",
    summary="Change a webhook, or enable it again",
    response_model=schemas.WebhookPublic,
    responses=error_responses("webhook_not_found", "invalid_field", "invalid_url", "url_refused"),
)
async def change_webhook(
    webhook_id: WebhookId, body: schemas.WebhookChange, auth: Authed, services: ServicesDep
) -> schemas.WebhookPublic:
    """Only the fields sent change. `enabled: true` turns a disabled webhook back on."""
    changed = await subscriptions.change(
        services.store,
        auth.project_id,
        webhook_id,
        policy=services.webhooks.policy,
        url=body.url,
        types=list(body.event_types) if body.event_types is not None else None,
        per_row=body.per_row,
        enabled=body.enabled,
        now=services.clock(),
    )
    return schemas.WebhookPublic.of(changed)


@router.delete(
    "/webhooks/{webhook_id}",
    summary="Delete a webhook",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses("webhook_not_found", "invalid_field"),
)
def delete_webhook(webhook_id: WebhookId, auth: Authed, store: StoreDep) -> Response:
    """Its queued deliveries and its log go with it."""
    subscriptions.delete(store, auth.project_id, webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/webhooks/{webhook_id}/rotate-secret",
    summary="Rotate the signing secret",
    response_model=schemas.Rotated,
    responses=error_responses("webhook_not_found", "invalid_field"),
)
def rotate_secret(
    webhook_id: WebhookId, body: schemas.RotateIn, auth: Authed, services: ServicesDep
) -> schemas.Rotated:
    """A new secret (shown once). Until `previous_expires_at` deliveries carry both
    signatures, so the receiver can switch whenever it likes within the overlap."""
    secret, until = subscriptions.rotate(
        services.store,
        auth.project_id,
        webhook_id,
        overlap=dt.timedelta(seconds=body.overlap_seconds),
        now=services.clock(),
    )
    return schemas.Rotated(secret=secret, previous_expires_at=until)


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    summary="The webhook's delivery log",
    response_model=schemas.DeliveryList,
    responses=error_responses("webhook_not_found", "invalid_field"),
)
def list_deliveries(webhook_id: WebhookId, auth: Authed, store: StoreDep) -> schemas.DeliveryList:
    """The latest 50 deliveries, newest first, each with every attempt: status code, time,
    the first 1 KiB of the answer or the error."""
    found = subscriptions.deliveries(store, auth.project_id, webhook_id)
    return schemas.DeliveryList(items=[schemas.DeliveryPublic.of(d) for d in found])


@router.post(
    "/webhooks/{webhook_id}/test",
    summary="Send a test event",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=schemas.Queued,
    responses=error_responses("webhook_not_found", "webhook_disabled", "invalid_field"),
)
def send_test(webhook_id: WebhookId, auth: Authed, services: ServicesDep) -> schemas.Queued:
    """Queues a `webhook.test` event to this webhook only; see its delivery in the log."""
    event_id = subscriptions.send_test(
        services.store, auth.project_id, webhook_id, now=services.clock()
    )
    services.webhooks.wake()
    return schemas.Queued(event_id=event_id)


@router.get(
    "/webhook-events/{event_id}",
    summary="An event and its deliveries",
    response_model=schemas.EventPublic,
    responses=error_responses("webhook_event_not_found", "invalid_field"),
)
def get_event(event_id: EventId, auth: Authed, store: StoreDep) -> schemas.EventPublic:
    found, deliveries = subscriptions.event(store, auth.project_id, event_id)
    return schemas.EventPublic(
        id=found.id,
        type=found.type,
        created_at=found.created_at,
        body=orjson.loads(found.body),
        deliveries=[schemas.DeliveryPublic.of(d) for d in deliveries],
    )


@router.post(
    "/webhook-deliveries/{delivery_id}/resend",
    summary="Send a delivery again",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=schemas.ResendQueued,
    responses=error_responses("delivery_not_found", "invalid_field"),
)
def resend(delivery_id: DeliveryId, auth: Authed, services: ServicesDep) -> schemas.ResendQueued:
    """Queued again, due now, with the same event id (a receiver that deduplicates by
    webhook-id drops it if it had it); it goes out in its turn among the webhook's others."""
    subscriptions.resend(services.store, auth.project_id, delivery_id, now=services.clock())
    services.webhooks.wake()
    return schemas.ResendQueued(delivery_id=delivery_id)


def install_webhooks(api: FastAPI) -> None:
    """Every event body in the OpenAPI document's ``webhooks`` (OpenAPI 3.1)."""
    for kind, model in EVENT_MODELS.items():

        def receive(body: Any) -> None:
            """What your URL receives."""

        receive.__annotations__ = {"body": model, "return": None}  # the model, not a name

        receive.__doc__ = (
            f"`{kind}`: POSTed to every webhook subscribed to it, signed (headers "
            "webhook-id, webhook-timestamp, webhook-signature). Answer 2xx within 10 s."
        )
        api.webhooks.post(kind, summary=f"The {kind} event", tags=["webhooks"])(receive)
