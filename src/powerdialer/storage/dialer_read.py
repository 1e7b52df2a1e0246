"""Reads for the dialer's explanation and history: a campaign's rows in pages, the calls of
many rows at once, an attempt history page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, and_, func, select

from powerdialer.storage.schema import attempts, campaign_rows

PAGE = 5000

# Outcomes recorded without a call (dialer.outcomes.NOT_CALLS): no cap or gap counts them.
NOT_CALLS = ("skip", "provider_failed")


def campaign_pages(conn: Connection, project_id: int, campaign_id: int) -> Iterator[list[Any]]:
    """Every row of a campaign, ``PAGE`` at a time, by id: what the explanation judges."""
    r = campaign_rows.c
    after = 0
    while True:
        page = list(
            conn.execute(
                select(
                    r.id,
                    r.phone_e164,
                    r.tz,
                    r.status,
                    r.final_state,
                    r.lease_expires_at,
                    r.next_attempt_at,
                )
                .where(r.project_id == project_id, r.campaign_id == campaign_id, r.id > after)
                .order_by(r.id)
                .limit(PAGE)
            )
        )
        if not page:
            return
        yield page
        after = page[-1].id


def calls_by_row(
    conn: Connection, project_id: int, row_ids: Sequence[int], since: dt.datetime
) -> dict[int, tuple[int, list[dt.datetime]]]:
    """Per row: (calls ever, call times since ``since`` oldest first); a skip is no call."""
    a = attempts.c
    found: dict[int, tuple[int, list[dt.datetime]]] = {}
    for start in range(0, len(row_ids), 500):
        part = list(row_ids[start : start + 500])
        called = and_(a.project_id == project_id, a.row_id.in_(part), a.outcome.not_in(NOT_CALLS))
        for row_id, total in conn.execute(
            select(a.row_id, func.count()).where(called).group_by(a.row_id)
        ):
            found[row_id] = (int(total), [])
        for row_id, when in conn.execute(
            select(a.row_id, a.recorded_at)
            .where(called, a.recorded_at > since)
            .order_by(a.recorded_at)
        ):
            found[row_id][1].append(when)
    return found


def history(
    conn: Connection,
    project_id: int,
    *,
    campaign_id: int | None = None,
    row_id: int | None = None,
    after: int = 0,
    limit: int = 100,
) -> list[Any]:
    """Attempts oldest first, after attempt id ``after`` (keyset paging)."""
    a = attempts.c
    query = select(attempts).where(a.project_id == project_id, a.id > after)
    if campaign_id is not None:
        query = query.where(a.campaign_id == campaign_id)
    if row_id is not None:
        query = query.where(a.row_id == row_id)
    return list(conn.execute(query.order_by(a.id).limit(limit)))


def calls_to(
    conn: Connection, project_id: int, numbers: Iterable[str], since: dt.datetime
) -> dict[str, tuple[int, list[dt.datetime], dt.datetime | None]]:
    """Per number: (calls ever, call times since ``since`` oldest first, last refusal), over
    every campaign of the project; a skip is not a call."""
    wanted = sorted(set(numbers))
    a = attempts.c
    found: dict[str, tuple[int, list[dt.datetime], dt.datetime | None]] = {
        n: (0, [], None) for n in wanted
    }
    if not wanted:
        return found
    called = and_(a.project_id == project_id, a.phone_e164.in_(wanted), a.outcome.not_in(NOT_CALLS))
    totals = conn.execute(
        select(a.phone_e164, func.count(), func.max(a.recorded_at).filter(a.refusal))
        .where(called)
        .group_by(a.phone_e164)
    )
    for number, total, refused in totals:
        found[number] = (int(total), [], refused)
    recent = conn.execute(
        select(a.phone_e164, a.recorded_at)
        .where(called, a.recorded_at > since)
        .order_by(a.recorded_at)
    )
    for number, when in recent:
        found[number][1].append(when)
    return found


def calls_of_row(
    conn: Connection, project_id: int, row_id: int, since: dt.datetime
) -> tuple[int, list[dt.datetime]]:
    a = attempts.c
    called = and_(a.project_id == project_id, a.row_id == row_id, a.outcome.not_in(NOT_CALLS))
    total = conn.execute(select(func.count()).where(called)).scalar_one()
    times = list(
        conn.execute(
            select(a.recorded_at).where(called, a.recorded_at > since).order_by(a.recorded_at)
        ).scalars()
    )
    return int(total), times
