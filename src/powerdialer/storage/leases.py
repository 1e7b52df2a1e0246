"""SQL for a lease once given: read it with its row (locked on PostgreSQL), end it, renew it,
and the leased row as the operator sees it.  In the writer's transaction, spoken to the driver
directly like ``storage.dialer``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection

from powerdialer.storage.dialer import CONTACT_COLUMNS, LEASED, run, when
from powerdialer.storage.dialer import ContactRow as ContactRow  # where the queue reads it


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
    # What the wrap-up needs of its row and campaign, read in the same statement.
    phone_e164: str
    tz: str | None
    attempts: int
    rules: str | None


_LEASE_RECORD = (
    "SELECT l.id, l.project_id, l.campaign_id, l.row_id, l.operator_id, l.leased_at, "
    "l.expires_at, l.ended_at, r.lease_id, r.status, r.phone_e164, r.tz, r.attempts, "
    "c.rules FROM leases l JOIN campaign_rows r ON r.id = l.row_id "
    "JOIN campaigns c ON c.id = l.campaign_id WHERE l.project_id = ? AND l.id = ?"
)


def lease_record(conn: Connection, project_id: int, lease_id: int) -> LeaseRecord | None:
    """A lease with what its wrap-up reads of its row and campaign (one round trip).

    On PostgreSQL the row is locked (``FOR UPDATE OF r``) before it is judged current: an
    outcome for a lease that ran out, racing another process's lease of the same row, either
    locks the row first (and the lease skips it) or waits for that lease's commit and then
    reads the row as that lease left it (so it answers ``lease_ended``), never both."""
    statement = _LEASE_RECORD
    if conn.dialect.name == "postgresql":
        statement += " FOR UPDATE OF r"
    row = run(conn, statement, (project_id, lease_id)).fetchone()
    if row is None:
        return None
    current = row[7] is None and row[8] == row[0] and row[9] == LEASED
    return LeaseRecord(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        when(row[5]),
        when(row[6]),
        when(row[7]),
        current,
        row[10],
        row[11],
        row[12],
        row[13],
    )


def end_lease(conn: Connection, lease_id: int, now: dt.datetime, reason: str) -> None:
    run(
        conn,
        "UPDATE leases SET ended_at = ?, end_reason = ? WHERE id = ? AND ended_at IS NULL",
        (now, reason, lease_id),
    )


def renew(conn: Connection, lease_id: int, row_id: int, expires_at: dt.datetime) -> None:
    run(conn, "UPDATE leases SET expires_at = ? WHERE id = ?", (expires_at, lease_id))
    run(conn, "UPDATE campaign_rows SET lease_expires_at = ? WHERE id = ?", (expires_at, row_id))


def row_of(conn: Connection, project_id: int, row_id: int) -> ContactRow | None:
    row = run(
        conn,
        f"SELECT {', '.join(CONTACT_COLUMNS)} FROM campaign_rows "  # noqa: S608 (names only)
        "WHERE project_id = ? AND id = ?",
        (project_id, row_id),
    ).fetchone()
    return None if row is None else ContactRow(*row)
