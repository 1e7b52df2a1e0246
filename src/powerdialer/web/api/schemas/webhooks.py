"""Bodies of the webhook routes (``web/api/webhooks.py``); the events' own bodies are in
``webhook_events``."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from powerdialer.storage.webhooks import Subscription
from powerdialer.webhooks import events
from powerdialer.webhooks.subscriptions import Delivery

EventType = Literal[
    "row.added",
    "outcome.recorded",
    "callback.scheduled",
    "contact.final",
    "campaign.completed",
    "import.finished",
    "dnc.added",
]
_NOW = "2026-12-02T09:30:00.123456Z"
_URL = "https://crm.example.com/hooks/powerdialer"
_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwAbCdEfGhIjK="  # noqa: S105 (an example)
_WEBHOOK: dict[str, Any] = {
    "id": 3,
    "url": _URL,
    "event_types": ["outcome.recorded", "row.added"],
    "per_row": False,
    "enabled": True,
    "disabled_reason": None,
    "disabled_at": None,
    "consecutive_failures": 0,
    "created_at": _NOW,
}


class WebhookIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"url": _URL, "event_types": ["row.added", "outcome.recorded"]}]
        },
    )

    url: str = Field(
        max_length=2048,
        description="Where events are POSTed: https (or http) to a public address; internal "
        "addresses are refused unless the service's operator allows them.",
    )
    event_types: list[EventType] = Field(min_length=1, max_length=len(events.EVENT_TYPES))
    per_row: bool = Field(
        default=False,
        description="row.added once per stored row, instead of once per request or import "
        "job with the counts.",
    )


class WebhookChange(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"enabled": True}]})

    url: str | None = Field(default=None, max_length=2048)
    event_types: list[EventType] | None = Field(
        default=None, min_length=1, max_length=len(events.EVENT_TYPES)
    )
    per_row: bool | None = None
    enabled: bool | None = Field(
        default=None,
        description="true turns a disabled webhook back on: its queued events are sent.",
    )


class WebhookPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_WEBHOOK]})

    id: int
    url: str
    event_types: list[str]
    per_row: bool
    enabled: bool
    disabled_reason: str | None = Field(description="Why it was disabled, when it was.")
    disabled_at: dt.datetime | None
    consecutive_failures: int = Field(description="Failed attempts since the last success.")
    created_at: dt.datetime

    @classmethod
    def of(cls, sub: Subscription) -> WebhookPublic:
        return cls(
            id=sub.id,
            url=sub.url,
            event_types=list(sub.event_types),
            per_row=sub.per_row,
            enabled=sub.enabled,
            disabled_reason=sub.disabled_reason,
            disabled_at=sub.disabled_at,
            consecutive_failures=sub.consecutive_failures,
            created_at=sub.created_at,
        )


class WebhookCreated(WebhookPublic):
    model_config = ConfigDict(json_schema_extra={"examples": [{**_WEBHOOK, "secret": _SECRET}]})

    secret: str = Field(description="The signing secret: shown this once, store it now.")


class WebhookList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [_WEBHOOK]}]})

    items: list[WebhookPublic]


class RotateIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"overlap_seconds": 86400}]}
    )

    overlap_seconds: int = Field(
        default=86400,
        ge=0,
        le=7 * 86400,
        description="How long the current secret keeps signing beside the new one.",
    )


class Rotated(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"secret": _SECRET, "previous_expires_at": _NOW}]}
    )

    secret: str = Field(description="The new secret: shown this once.")
    previous_expires_at: dt.datetime = Field(description="When the previous one stops signing.")


class AttemptPublic(BaseModel):
    attempted_at: dt.datetime
    status_code: int | None = Field(description="The receiver's HTTP status; null: no answer.")
    response_ms: int | None
    response_head: str | None = Field(description="The first 1 KiB of the answer's body.")
    error: str | None = Field(description="Why there was no answer, or why it was refused.")


_ATTEMPT: dict[str, Any] = {
    "attempted_at": _NOW,
    "status_code": 200,
    "response_ms": 43,
    "response_head": "ok",
    "error": None,
}
_DELIVERY: dict[str, Any] = {
    "id": 41,
    "webhook_id": 3,
    "event_id": "evt_5f0c3b1e9a7d2c4b6e8f0a1b",
    "event_type": "row.added",
    "status": "delivered",
    "attempts": 1,
    "next_attempt_at": _NOW,
    "created_at": _NOW,
    "finished_at": _NOW,
    "log": [_ATTEMPT],
}


class DeliveryPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_DELIVERY]})

    id: int
    webhook_id: int
    event_id: str
    event_type: str
    status: Literal["pending", "delivered", "failed"] = Field(
        description="pending (to be sent, or retried at next_attempt_at); delivered; "
        "failed (given up after 24 hours of retries: resend it)."
    )
    attempts: int
    next_attempt_at: dt.datetime
    created_at: dt.datetime
    finished_at: dt.datetime | None
    log: list[AttemptPublic] = Field(description="Every attempt, oldest first.")

    @classmethod
    def of(cls, d: Delivery) -> DeliveryPublic:
        r = d.row
        return cls(
            id=r.id,
            webhook_id=r.subscription_id,
            event_id=r.event_id,
            event_type=r.event_type,
            status=r.status,  # type: ignore[arg-type]  # the three the sender writes
            attempts=r.attempts,
            next_attempt_at=r.next_attempt_at,
            created_at=r.created_at,
            finished_at=r.finished_at,
            log=[_attempt(a) for a in d.attempts],
        )


def _attempt(a: Any) -> AttemptPublic:
    return AttemptPublic(
        attempted_at=a.attempted_at,
        status_code=a.status_code,
        response_ms=a.response_ms,
        response_head=a.response_head,
        error=a.error,
    )


class DeliveryList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [_DELIVERY]}]})

    items: list[DeliveryPublic] = Field(description="The latest 50, newest first.")


class EventPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "evt_5f0c3b1e9a7d2c4b6e8f0a1b",
                    "type": "row.added",
                    "created_at": _NOW,
                    "body": {"id": "evt_5f0c3b1e9a7d2c4b6e8f0a1b", "type": "row.added"},
                    "deliveries": [_DELIVERY],
                }
            ]
        }
    )

    id: str
    type: str
    created_at: dt.datetime
    body: dict[str, Any] = Field(description="The JSON sent, as sent.")
    deliveries: list[DeliveryPublic]


class Queued(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"event_id": "evt_5f0c3b1e9a7d2c4b6e8f0a1b"}]}
    )

    event_id: str


class ResendQueued(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"delivery_id": 41}]})

    delivery_id: int
