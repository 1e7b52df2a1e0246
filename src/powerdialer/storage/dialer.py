"""SQL for the dialer's queue: a campaign as the queue reads it, the candidates, leases.

Every statement runs in the group-commit writer's transaction (``dialer.queue``), scoped by
project.  On PostgreSQL the candidates are taken ``FOR UPDATE SKIP LOCKED``, so two server
processes hand out different rows without waiting for each other; on SQLite the writer is the
only writer, and its transaction holds the file.  Either way the partial unique index
``uq_leases_open_row`` refuses a second open lease on a row.

The statements are spoken to the DBAPI driver directly (``storage.dbapi``), like the
compatible endpoint's: a lease and its outcome are some fifteen statements, and through
SQLAlchemy's statement machinery each cost ~0.3 ms of Python in the writer's thread (measured:
8 ms a lease and outcome, 0.6 ms this way; BENCHMARKS.md "The dialer").

Past 300 lines on purpose: the candidates' statements, the partial indexes they are written
for and the grant that takes one of them are one decision about locking and order, read
together.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Connection

from powerdialer.storage.dbapi import cursor, stamp

LEASED = "leased"
PENDING = "pending"
FINAL = "final"


@functools.cache
def dialect_sql(dialect: str, statement: str) -> str:
    """A statement written with ``?`` placeholders in the driver's own style."""
    return statement.replace("?", "%s") if dialect == "postgresql" else statement


def run(conn: Connection, statement: str, params: tuple[Any, ...] | list[Any]) -> Any:
    """Execute on the connection's DBAPI cursor; ``datetime`` parameters bound as the
    ``UTCDateTime`` columns store them."""
    dialect = conn.dialect.name
    if dialect == "sqlite":
        bound = [_text(p) if isinstance(p, dt.datetime) else p for p in params]
    else:
        bound = list(params)
    cur = cursor(conn)
    cur.execute(dialect_sql(dialect, statement), bound)
    return cur


_last: tuple[dt.datetime | None, str] = (None, "")


def _text(value: dt.datetime) -> str:
    """``stamp`` for SQLite, remembering the last time stamped: a lease binds its ``now`` in
    most of its statements (formatting one costs more than executing a small statement)."""
    global _last
    last = _last  # one read: another writer thread may replace it meanwhile
    if last[0] is value:
        return last[1]
    text: str = stamp("sqlite", value)
    _last = (value, text)
    return text


def when(value: Any) -> Any:
    """A stored time as an aware UTC datetime (SQLite's driver hands back its text)."""
    if value is None or isinstance(value, dt.datetime):
        return value if value is None or value.tzinfo else value.replace(tzinfo=dt.UTC)
    return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)


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


def dial_campaign(conn: Connection, project_id: int, campaign_id: int) -> DialCampaign | None:
    row = run(
        conn,
        "SELECT id, project_id, state, dialer_state, completed_at, rules FROM campaigns "
        "WHERE project_id = ? AND id = ?",
        (project_id, campaign_id),
    ).fetchone()
    if row is None:
        return None
    return DialCampaign(row[0], row[1], row[2], row[3], when(row[4]), row[5])


@dataclass(frozen=True, slots=True)
class LeaseContext:
    campaign: DialCampaign | None
    member: bool  # the operator is a member of the project
    held_row: int | None  # the row the operator holds in the campaign now, if any


def lease_context(
    conn: Connection, project_id: int, campaign_id: int, operator_id: int, now: dt.datetime
) -> LeaseContext:
    """What a lease request reads before the queue, in one round trip: the campaign, whether
    the operator is a member, and the row they hold in it now (an unexpired, current lease:
    "next" again answers it)."""
    row = run(
        conn,
        "SELECT c.id, c.project_id, c.state, c.dialer_state, c.completed_at, c.rules, "
        "(SELECT count(*) FROM memberships m WHERE m.project_id = ? AND m.user_id = ?), "
        "(SELECT l.row_id FROM leases l JOIN campaign_rows r ON r.id = l.row_id "
        "WHERE l.project_id = ? AND l.campaign_id = ? AND l.operator_id = ? "
        "AND l.ended_at IS NULL AND l.expires_at > ? AND r.lease_id = l.id LIMIT 1) "
        "FROM (SELECT 1 AS one) AS x "
        "LEFT JOIN campaigns c ON c.project_id = ? AND c.id = ?",
        (
            project_id,
            operator_id,
            project_id,
            campaign_id,
            operator_id,
            now,
            project_id,
            campaign_id,
        ),
    ).fetchone()
    campaign = (
        None
        if row[0] is None
        else DialCampaign(row[0], row[1], row[2], row[3], when(row[4]), row[5])
    )
    return LeaseContext(campaign, bool(row[6]), row[7])


# The rows of one status the queue may hand out now, before calling hours and caps: due, not
# held, not another operator's personal callback, not on the do-not-call list; ordered as
# ``ix_campaign_rows_queue`` is, so no sort is needed however big the campaign.
_CANDIDATES = (
    "SELECT r.id, r.campaign_id, r.phone_e164, r.tz, r.attempts, r.status, r.lease_id, "
    "r.next_attempt_at, r.call_next, r.priority FROM campaign_rows r{index} "
    "WHERE r.project_id = ? AND r.campaign_id = ? AND r.status = '{status}' "
    "AND r.next_attempt_at <= ? AND (r.held_until IS NULL OR r.held_until <= ?) "
    "AND (r.callback_operator_id IS NULL OR r.callback_operator_id = ? "
    "OR r.next_attempt_at <= ?) {expired}"
    "AND NOT EXISTS (SELECT 1 FROM dnc_numbers d "
    "WHERE d.project_id = r.project_id AND d.phone_e164 = r.phone_e164) "
    "ORDER BY r.call_next DESC, r.priority DESC, r.next_attempt_at, r.id LIMIT ?{lock}"
)


@functools.cache
def _candidates_sql(dialect: str, status: str) -> str:
    # The status is written into the statement, not bound: only then may the database read
    # the leased rows through the partial index of run-out leases (``ix_campaign_rows_expiry``,
    # ``status = 'leased'``), which visits the run-out ones only, instead of every leased
    # row in queue order with a table read each.  SQLite is told to (its planner, with no
    # statistics, would take the queue's order over the sort of a few rows).
    assert status in (PENDING, LEASED)
    leased = status == LEASED
    return _CANDIDATES.format(
        index=" INDEXED BY ix_campaign_rows_expiry" if leased and dialect == "sqlite" else "",
        status=status,
        expired="AND r.lease_expires_at <= ? " if leased else "",
        lock=" FOR UPDATE OF r SKIP LOCKED" if dialect == "postgresql" else "",
    )


def candidates(
    conn: Connection,
    project_id: int,
    campaign_id: int,
    operator_id: int,
    now: dt.datetime,
    limit: int,
    callbacks_free: dt.datetime | None = None,
) -> list[QueueRow]:
    """The next rows in queue order (docs/dialer.md): call next, priority, due time, id.

    Two statements, one per status: the pending rows by an ordered scan of the queue's index,
    and the few whose lease ran out through the partial index of leased rows by expiry (then
    sorted: they are few); an ``IN`` over both statuses would sort the whole campaign.
    Another operator's personal callback is a candidate once it was due before
    ``callbacks_free`` (its operator has not come for it)."""
    found: list[QueueRow] = []
    free = callbacks_free or dt.datetime.min.replace(tzinfo=dt.UTC)
    for status in (PENDING, LEASED):
        params: list[Any] = [project_id, campaign_id, now, now, operator_id, free]
        if status == LEASED:
            params.append(now)
        params.append(limit)
        statement = _candidates_sql(conn.dialect.name, status)
        for row in run(conn, statement, params).fetchall():
            found.append(
                QueueRow(
                    row[0],
                    row[1],
                    row[2],
                    row[3],
                    row[4],
                    row[5],
                    row[6],
                    when(row[7]),
                    bool(row[8]),
                    row[9],
                )
            )
    return sorted(found, key=QueueRow.order)[:limit]


def hold(conn: Connection, row_id: int, until: dt.datetime, reason: str) -> None:
    run(
        conn,
        "UPDATE campaign_rows SET held_until = ?, hold_reason = ? WHERE id = ?",
        (until, reason, row_id),
    )


def number_on_call(conn: Connection, project_id: int, phone_e164: str, now: dt.datetime) -> bool:
    """Whether the number holds an unexpired lease in any campaign of the project (two rows
    of one number, in two campaigns or kept as duplicates, are never on two calls at once).

    On PostgreSQL a transaction-scoped advisory lock on the number comes first, so two
    processes leasing two rows of one number at the same moment take turns; ``None`` (not
    got) counts as on a call: the other process is leasing it right now."""
    if conn.dialect.name == "postgresql":
        got = run(
            conn,
            "SELECT pg_try_advisory_xact_lock(CAST(? AS integer), hashtext(?))",
            (project_id % 2_147_483_647, phone_e164),
        ).fetchone()[0]
        if not got:
            return True
    found = run(
        conn,
        "SELECT 1 FROM leases WHERE project_id = ? AND phone_e164 = ? AND ended_at IS NULL "
        "AND expires_at > ? LIMIT 1",
        (project_id, phone_e164, now),
    ).fetchone()
    return found is not None


def numbers_on_call(conn: Connection, project_id: int, now: dt.datetime) -> set[str]:
    """The project's numbers on a call now (``explain``)."""
    rows = run(
        conn,
        "SELECT DISTINCT phone_e164 FROM leases WHERE project_id = ? AND ended_at IS NULL "
        "AND expires_at > ?",
        (project_id, now),
    ).fetchall()
    return {row[0] for row in rows}


def close_expired(conn: Connection, lease_id: int) -> None:
    """End a lease that ran out, as of when it ran out."""
    run(
        conn,
        "UPDATE leases SET ended_at = expires_at, end_reason = 'expired' "
        "WHERE id = ? AND ended_at IS NULL",
        (lease_id,),
    )


class ContactRow(NamedTuple):
    id: int
    campaign_id: int
    fio: str | None
    phone_e164: str
    phone_raw: str
    tz: str | None
    attempts: int
    status: str
    external_id: str | None
    extra: str | None
    last_outcome: str | None
    lease_id: int | None


CONTACT_COLUMNS = tuple(ContactRow._fields)
"""The columns a ``ContactRow`` is read from, in its order."""


_LEASE_INSERT = (
    "INSERT INTO leases (project_id, campaign_id, row_id, operator_id, phone_e164, "
    "leased_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_RETURNING = ", ".join(f"campaign_rows.{column}" for column in CONTACT_COLUMNS)
_MARK = (
    "UPDATE campaign_rows SET status = ?, lease_id = {lease}, lease_operator_id = ?, "
    "lease_expires_at = ?, held_until = NULL, hold_reason = NULL{source} WHERE "
    "campaign_rows.id = ? RETURNING {returning}"
)
_GRANT_PG = f"WITH granted AS ({_LEASE_INSERT} RETURNING id) " + _MARK.format(
    lease="granted.id", source=" FROM granted", returning=_RETURNING
)
_MARK_SQLITE = _MARK.format(lease="?", source="", returning=_RETURNING)


def grant(
    conn: Connection,
    row: QueueRow,
    project_id: int,
    operator_id: int,
    now: dt.datetime,
    expires_at: dt.datetime,
) -> tuple[int, ContactRow]:
    """Lease ``row``: end its run-out lease if it has one, open a new one, mark the row; the
    lease's id and the row as the operator sees it.  On PostgreSQL the lease's INSERT and the
    row's UPDATE are one statement (a data-modifying CTE): a round trip fewer a lease."""
    if row.lease_id is not None:
        close_expired(conn, row.lease_id)
    lease = (project_id, row.campaign_id, row.id, operator_id, row.phone_e164, now, expires_at)
    mark = (LEASED, operator_id, expires_at, row.id)
    if conn.dialect.name == "postgresql":
        found = run(conn, _GRANT_PG, (*lease, *mark)).fetchone()
    else:
        lease_id = run(conn, _LEASE_INSERT + " RETURNING id", lease).fetchone()[0]
        found = run(conn, _MARK_SQLITE, (mark[0], lease_id, *mark[1:])).fetchone()
    return int(found[-1]), ContactRow(*found)
