"""A campaign's call history as a CSV download: every attempt, oldest first, streamed a page
at a time (the rows' export has each row's state and attempt count; this is every call behind
them).  Free text (the note) is defused against spreadsheet formulas like the rows' export."""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection

from powerdialer.campaigns import campaign_not_found
from powerdialer.rows.exporting import defuse
from powerdialer.storage import Store, dialer_admin, dialer_read

COLUMNS = (
    "attempt_id",
    "row_id",
    "phone_e164",
    "operator_id",
    "outcome",
    "note",
    "duration_seconds",
    "counted",
    "reached",
    "final_state",
    "callback_at",
    "leased_at",
    "recorded_at",
    "lease_id",
)
PAGE = 2000


def require_campaign(store: Store, project_id: int, campaign_id: int) -> None:
    found = store.read(lambda conn: dialer_admin.campaign_settings(conn, project_id, campaign_id))
    if found is None:
        raise campaign_not_found(campaign_id)


def _when(value: Any) -> str:
    return value.isoformat().replace("+00:00", "Z") if value is not None else ""


def _line(a: Any) -> list[object]:
    return [
        a.id,
        a.row_id,
        a.phone_e164,
        a.operator_id,
        a.outcome,
        defuse(a.note or ""),
        "" if a.duration_seconds is None else a.duration_seconds,
        int(a.counted),
        int(a.reached),
        a.final_state or "",
        _when(a.callback_at),
        _when(a.leased_at),
        _when(a.recorded_at),
        "" if a.lease_id is None else a.lease_id,
    ]


def csv_chunks(store: Store, project_id: int, campaign_id: int) -> Iterator[bytes]:
    """BOM and header, then one chunk a page; each page read when the one before was sent."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(COLUMNS)
    yield b"\xef\xbb\xbf" + buffer.getvalue().encode()
    after = 0
    while True:
        page = store.read(functools.partial(_page, project_id, campaign_id, after))
        if not page:
            return
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\r\n").writerows(_line(a) for a in page)
        after = page[-1].id
        yield buffer.getvalue().encode()


def _page(project_id: int, campaign_id: int, after: int, conn: Connection) -> list[Any]:
    return dialer_read.history(conn, project_id, campaign_id=campaign_id, after=after, limit=PAGE)
