"""SQL for the dialer: the queue's candidates, leases, attempts, a campaign's completion.

Every statement runs in the group-commit writer's transaction (``dialer.queue``), scoped by
project.  On PostgreSQL the candidates are taken ``FOR UPDATE OF campaign_rows SKIP LOCKED``,
so two server processes hand out different rows without waiting for each other; on SQLite
the writer is the only writer, and its transaction holds the file.  Either way the partial
unique index ``uq_leases_open_row`` refuses a second open lease on a row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, exists, insert, or_, select, update

from powerdialer.storage.schema import (
    campaign_rows,
    campaigns,
    dnc_numbers,
    leases,
)

LEASED = "leased"
PENDING = "pending"
FINAL = "final"


@dataclass(frozen=True, slots=True)
class DialCampaign:
    id: int
    project_id: int
    state: str
    dialer_state: str
    completed_at: dt.datetime | None
    rules: str | None


@dataclass(frozen=True, slots=True)
class QueueRow:
    id: int
    campaign_id: int
    phone_e164: str
    tz: str | None
    attempts: int
    status: str
    lease_id: int | None
    next_attempt_at: dt.datetime
    call_next: bool
    priority: int

    def order(self) -> tuple[int, int, dt.datetime, int]:
        """The queue's order (docs/dialer.md): call next, priority, due time, insertion."""
        return (-int(self.call_next), -self.priority, self.next_attempt_at, self.id)


@dataclass(frozen=True, slots=True)
class LeaseRecord:
    id: int
    project_id: int
    campaign_id: int
    row_id: int
    operator_id: int
    leased_at: dt.datetime
    expires_at: dt.datetime
    ended_at: dt.datetime | None
    current: bool  # the row's lease now (not ended, nobody took the row since)


def dial_campaign(conn: Connection, project_id: int, campaign_id: int) -> DialCampaign | None:
    c = campaigns.c
    row = conn.execute(
        select(c.id, c.project_id, c.state, c.dialer_state, c.completed_at, c.rules).where(
            c.project_id == project_id, c.id == campaign_id
        )
    ).first()
    return DialCampaign(*row) if row else None


def _queue_columns() -> list[Any]:
    r = campaign_rows.c
    return [
        r.id,
        r.campaign_id,
        r.phone_e164,
        r.tz,
        r.attempts,
        r.status,
        r.lease_id,
        r.next_attempt_at,
        r.call_next,
        r.priority,
    ]


def not_listed() -> Any:
    """The row's number is not on its project's do-not-call list."""
    r = campaign_rows.c
    return ~exists().where(
        dnc_numbers.c.project_id == r.project_id, dnc_numbers.c.phone_e164 == r.phone_e164
    )


def leasable(
    project_id: int, campaign_id: int, status: str, operator_id: int | None, now: dt.datetime
) -> Any:
    """Rows of one status the queue may hand out now, before calling hours and caps: due, not
    held, not another operator's personal callback, not listed; a leased one only once its
    lease has run out."""
    r = campaign_rows.c
    conditions = [
        r.project_id == project_id,
        r.campaign_id == campaign_id,
        r.status == status,
        r.next_attempt_at <= now,
        or_(r.held_until.is_(None), r.held_until <= now),
        not_listed(),
    ]
    if status == LEASED:
        conditions.append(r.lease_expires_at <= now)
    if operator_id is not None:
        conditions.append(
            or_(r.callback_operator_id.is_(None), r.callback_operator_id == operator_id)
        )
    return and_(*conditions)


def candidates(
    conn: Connection,
    project_id: int,
    campaign_id: int,
    operator_id: int,
    now: dt.datetime,
    limit: int,
) -> list[QueueRow]:
    """The next rows in queue order (docs/dialer.md): call next, priority, due time, id.

    Two ordered index scans (``ix_campaign_rows_queue`` leads with the status, so one status
    at a time keeps its order and no sort is needed however big the campaign): the pending
    rows, and the few whose lease ran out; merged here."""
    r = campaign_rows.c
    found: list[QueueRow] = []
    for status in (PENDING, LEASED):
        query = (
            select(*_queue_columns())
            .where(leasable(project_id, campaign_id, status, operator_id, now))
            .order_by(r.call_next.desc(), r.priority.desc(), r.next_attempt_at, r.id)
            .limit(limit)
        )
        if conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True, of=campaign_rows)
        found.extend(QueueRow(*row) for row in conn.execute(query))
    return sorted(found, key=QueueRow.order)[:limit]


def hold(conn: Connection, row_id: int, until: dt.datetime, reason: str) -> None:
    conn.execute(
        update(campaign_rows)
        .where(campaign_rows.c.id == row_id)
        .values(held_until=until, hold_reason=reason)
    )


def operator_lease(
    conn: Connection, project_id: int, campaign_id: int, operator_id: int, now: dt.datetime
) -> int | None:
    """The id of the row an operator holds in a campaign now (an unexpired, current lease)."""
    r = campaign_rows.c
    return conn.execute(
        select(r.id)
        .where(
            r.project_id == project_id,
            r.campaign_id == campaign_id,
            r.status == LEASED,
            r.lease_operator_id == operator_id,
            r.lease_expires_at > now,
        )
        .limit(1)
    ).scalar_one_or_none()


def grant(
    conn: Connection,
    row: QueueRow,
    project_id: int,
    operator_id: int,
    now: dt.datetime,
    expires_at: dt.datetime,
) -> int:
    """Lease ``row``: end its run-out lease if it has one, open a new one, mark the row."""
    if row.lease_id is not None:
        conn.execute(
            update(leases)
            .where(leases.c.id == row.lease_id, leases.c.ended_at.is_(None))
            .values(ended_at=leases.c.expires_at, end_reason="expired")
        )
    lease_id = conn.execute(
        insert(leases)
        .values(
            project_id=project_id,
            campaign_id=row.campaign_id,
            row_id=row.id,
            operator_id=operator_id,
            leased_at=now,
            expires_at=expires_at,
        )
        .returning(leases.c.id)
    ).scalar_one()
    conn.execute(
        update(campaign_rows)
        .where(campaign_rows.c.id == row.id)
        .values(
            status=LEASED,
            lease_id=lease_id,
            lease_operator_id=operator_id,
            lease_expires_at=expires_at,
            held_until=None,
            hold_reason=None,
        )
    )
    return int(lease_id)


def lease_record(conn: Connection, project_id: int, lease_id: int) -> LeaseRecord | None:
    lc, r = leases.c, campaign_rows.c
    row = conn.execute(
        select(
            lc.id,
            lc.project_id,
            lc.campaign_id,
            lc.row_id,
            lc.operator_id,
            lc.leased_at,
            lc.expires_at,
            lc.ended_at,
            and_(lc.ended_at.is_(None), r.lease_id == lc.id, r.status == LEASED),
        )
        .join(campaign_rows, r.id == lc.row_id)
        .where(lc.project_id == project_id, lc.id == lease_id)
    ).first()
    if row is None:
        return None
    return LeaseRecord(
        row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], current=bool(row[8])
    )


def end_lease(conn: Connection, lease_id: int, now: dt.datetime, reason: str) -> None:
    conn.execute(
        update(leases)
        .where(leases.c.id == lease_id, leases.c.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason)
    )


def renew(conn: Connection, lease_id: int, row_id: int, expires_at: dt.datetime) -> None:
    conn.execute(update(leases).where(leases.c.id == lease_id).values(expires_at=expires_at))
    conn.execute(
        update(campaign_rows)
        .where(campaign_rows.c.id == row_id)
        .values(lease_expires_at=expires_at)
    )


def row_of(conn: Connection, project_id: int, row_id: int) -> Any:
    r = campaign_rows.c
    return conn.execute(
        select(
            r.id,
            r.campaign_id,
            r.fio,
            r.phone_e164,
            r.phone_raw,
            r.tz,
            r.attempts,
            r.status,
            r.external_id,
            r.extra,
            r.priority,
            r.call_next,
            r.last_outcome,
            r.next_attempt_at,
            r.callback_operator_id,
            r.lease_id,
        ).where(r.project_id == project_id, r.id == row_id)
    ).first()
