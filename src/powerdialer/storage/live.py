"""SQL for the supervisor's live view (``dialer.live``): a day's attempts counted by operator,
campaign and outcome, and by hour and outcome, and the open leases of each campaign.

The day's attempts are found through ``ix_attempts_project_id_recorded_at`` (migration 0008):
each poll reads one day's range of one project, never the whole history.  The hour of an
attempt is counted from the day's start in whole elapsed hours, so a day with a clock change
(23 or 25 hours) still has one bucket an hour.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Connection, cast, func, literal_column, select

from powerdialer.storage.schema import attempts, leases


@dataclass(frozen=True, slots=True)
class AttemptCount:
    operator_id: int
    campaign_id: int
    outcome: str
    reached: bool
    count: int


def _today(project_id: int, start: dt.datetime, end: dt.datetime) -> list[Any]:
    return [
        attempts.c.project_id == project_id,
        attempts.c.recorded_at >= start,
        attempts.c.recorded_at < end,
    ]


def attempts_by_operator(
    conn: Connection, project_id: int, start: dt.datetime, end: dt.datetime
) -> list[AttemptCount]:
    """Attempts recorded in ``[start, end)``, counted by operator, campaign and outcome."""
    query = (
        select(
            attempts.c.operator_id,
            attempts.c.campaign_id,
            attempts.c.outcome,
            attempts.c.reached,
            func.count().label("n"),
        )
        .where(*_today(project_id, start, end))
        .group_by(
            attempts.c.operator_id, attempts.c.campaign_id, attempts.c.outcome, attempts.c.reached
        )
    )
    return [AttemptCount(r[0], r[1], r[2], bool(r[3]), int(r[4])) for r in conn.execute(query)]


def _elapsed_hour(dialect: str, start: dt.datetime) -> Any:
    """Whole hours from ``start`` to the attempt's ``recorded_at``, in SQL (the start inlined
    as an integer, so the expression is the same text in SELECT and GROUP BY)."""
    epoch: Any = literal_column(str(int(start.timestamp())))
    if dialect == "postgresql":
        seconds = func.floor(func.extract("epoch", attempts.c.recorded_at))
    else:  # SQLite stores the time as text that strftime reads
        seconds = func.strftime("%s", attempts.c.recorded_at)
    return (cast(seconds, BigInteger) - epoch) // 3600


def attempts_by_hour(
    conn: Connection, project_id: int, start: dt.datetime, end: dt.datetime
) -> list[tuple[int, str, int]]:
    """``(hour, outcome, attempts)`` of ``[start, end)``, the hour counted from ``start``."""
    hour = _elapsed_hour(conn.dialect.name, start).label("hour")
    query = (
        select(hour, attempts.c.outcome, func.count().label("n"))
        .where(*_today(project_id, start, end))
        .group_by(hour, attempts.c.outcome)
    )
    return [(int(r[0]), r[1], int(r[2])) for r in conn.execute(query)]


def open_leases(conn: Connection, project_id: int, now: dt.datetime) -> dict[int, int]:
    """``{campaign_id: leases}`` of the leases open and unexpired at ``now`` (served by the
    partial index of the open leases)."""
    query = (
        select(leases.c.campaign_id, func.count().label("n"))
        .where(
            leases.c.project_id == project_id,
            leases.c.ended_at.is_(None),
            leases.c.expires_at > now,
        )
        .group_by(leases.c.campaign_id)
    )
    return {int(r[0]): int(r[1]) for r in conn.execute(query)}
