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
import time
from collections.abc import Sequence
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


def _clock_digits() -> str:
    # Microseconds, the last 12 hex digits (they wrap every 8.9 years: only the index's
    # locality depends on them, never uniqueness, which the random half gives).
    return f"{(time.time_ns() // 1000) & 0xFFFF_FFFF_FFFF:012x}"


def new_event_id() -> str:
    """``evt_`` and 24 hex digits: 12 of the clock, 12 random.  Unique without a round trip
    to the database; the clock's half makes new ids land at the end of the outbox's indexes
    (the events' key, the deliveries' ``event_id``) instead of at random places in them."""
    return "evt_" + _clock_digits() + secrets.token_hex(6)


def new_event_ids(count: int) -> list[str]:
    """``count`` ids like ``new_event_id``'s, from one read of the random source (an import
    chunk's per-row events)."""
    head, digits = "evt_" + _clock_digits(), secrets.token_hex(6 * count)
    return [head + digits[i : i + 12] for i in range(0, 12 * count, 12)]


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


_EVENT_MARK, _ROW_MARK = "evt_\x00", -(1 << 62)


def row_bodies(
    event_ids: Sequence[str],
    stored: Sequence[tuple[int, bool]],
    project_id: int,
    now: dt.datetime,
    campaign_id: int,
    source: str,
    job_id: int | None,
) -> list[str]:
    """The bodies of per-row ``row.added`` events, one per ``(row_id, inserted)`` (else
    updated), byte for byte what ``body(…, rows_data(…, row_ids=[row_id]))`` gives (pinned by
    a test), built from one template: an import chunk has thousands."""
    templates = {}
    for inserted in (True, False):
        data = rows_data(
            campaign_id,
            source,
            inserted=int(inserted),
            updated=int(not inserted),
            row_ids=[_ROW_MARK],
            job_id=job_id,
        )
        text = body(_EVENT_MARK, ROW_ADDED, project_id, now, data)
        head, middle, tail = _split(text)
        templates[inserted] = (head, middle, tail)
    found = []
    for event_id, (row_id, inserted) in zip(event_ids, stored, strict=True):
        head, middle, tail = templates[inserted]
        found.append(f"{head}{event_id}{middle}{row_id}{tail}")
    return found


def _split(text: str) -> tuple[str, str, str]:
    head, rest = text.split(orjson.dumps(_EVENT_MARK).decode()[1:-1], 1)
    middle, tail = rest.split(str(_ROW_MARK), 1)
    return head, middle, tail
