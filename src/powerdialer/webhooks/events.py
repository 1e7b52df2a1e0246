"""The events a subscription can ask for, and the JSON body each is sent as.

Every body is one JSON object, the same for every type::

    {"id": "evt_…", "type": "outcome.recorded", "version": 1,
     "timestamp": "2026-12-02T15:00:00.123456Z", "project_id": 1, "data": {…}}

``id`` is the event's, stable across retries and resends (the receiver's deduplication key,
also sent as the ``webhook-id`` header); ``version`` moves only when a body changes in a way
that could break a receiver (a new key in ``data`` does not move it).  What ``data`` holds per
type is documented in docs/webhooks.md and in the OpenAPI document's ``webhooks``
(``web/api/schemas/webhook_events.py``, which a test keeps in step with this module).
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

import orjson

VERSION = 1

ROW_ADDED = "row.added"
OUTCOME_RECORDED = "outcome.recorded"
CALLBACK_SCHEDULED = "callback.scheduled"
CONTACT_FINAL = "contact.final"
CAMPAIGN_COMPLETED = "campaign.completed"
IMPORT_FINISHED = "import.finished"
DNC_ADDED = "dnc.added"
TEST = "webhook.test"  # "send test event": to one subscription, whatever its types

EVENT_TYPES = (
    ROW_ADDED,
    OUTCOME_RECORDED,
    CALLBACK_SCHEDULED,
    CONTACT_FINAL,
    CAMPAIGN_COMPLETED,
    IMPORT_FINISHED,
    DNC_ADDED,
)
"""What a subscription may list (``webhook.test`` is sent on request only)."""


def new_event_id() -> str:
    """``evt_`` and 24 random hex digits: unique without a round trip to the database."""
    return "evt_" + secrets.token_hex(12)


def timestamp(now: dt.datetime) -> str:
    return now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def body(event_id: str, kind: str, project_id: int, now: dt.datetime, data: dict[str, Any]) -> str:
    """The event's JSON, as stored in the outbox and sent byte for byte (and signed)."""
    return orjson.dumps(
        {
            "id": event_id,
            "type": kind,
            "version": VERSION,
            "timestamp": timestamp(now),
            "project_id": project_id,
            "data": data,
        }
    ).decode()


def rows_data(
    campaign_id: int,
    source: str,
    *,
    inserted: int,
    updated: int = 0,
    duplicates: int = 0,
    rejected: int = 0,
    row_ids: list[int] | None = None,
    job_id: int | None = None,
) -> dict[str, Any]:
    """``row.added``'s data: one request's (or import job's) rows, or one row's for a
    subscription that asked for an event per row."""
    return {
        "campaign_id": campaign_id,
        "source": source,
        "job_id": job_id,
        "inserted": inserted,
        "updated": updated,
        "duplicates": duplicates,
        "rejected": rejected,
        "row_ids": row_ids or [],
    }
