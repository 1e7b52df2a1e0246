"""SQL for an attempt's wrap-up (``dialer.wrapup``): the history row, the row settled after
its lease, a campaign's completion, a project's own outcomes.  In the writer's transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, exists, func, insert, select, update

from powerdialer.storage.dialer import FINAL, LEASED, PENDING, not_listed
from powerdialer.storage.schema import attempts, campaign_rows, campaigns, outcomes

__all__ = ["FINAL", "LEASED", "PENDING"]


def settle_row(conn: Connection, row_id: int, **values: Any) -> None:
    """The row after its lease: back to the queue, or final (``values`` say which)."""
    conn.execute(
        update(campaign_rows)
        .where(campaign_rows.c.id == row_id)
        .values(lease_id=None, lease_operator_id=None, lease_expires_at=None, **values)
    )


def add_attempt(conn: Connection, **values: Any) -> int:
    return int(
        conn.execute(insert(attempts).values(**values).returning(attempts.c.id)).scalar_one()
    )


def outcome_tries(conn: Connection, project_id: int, row_id: int, code: str) -> int:
    """How many of a row's attempts ended in ``code`` (an outcome's own retry count)."""
    a = attempts.c
    return int(
        conn.execute(
            select(func.count()).where(
                a.project_id == project_id, a.row_id == row_id, a.outcome == code
            )
        ).scalar_one()
    )


def complete_if_done(conn: Connection, project_id: int, campaign_id: int, now: dt.datetime) -> bool:
    """Mark the campaign completed if no row is left to call (every row final, or its number
    on the do-not-call list); ``True`` only for the one transaction that marks it."""
    r = campaign_rows.c
    left = exists().where(
        r.project_id == project_id,
        r.campaign_id == campaign_id,
        r.status.in_((PENDING, LEASED)),
        not_listed(),
    )
    done = conn.execute(
        update(campaigns)
        .where(
            campaigns.c.project_id == project_id,
            campaigns.c.id == campaign_id,
            campaigns.c.completed_at.is_(None),
            ~left,
        )
        .values(completed_at=now)
    )
    return bool(done.rowcount)


def reopen(conn: Connection, project_id: int, campaign_id: int) -> None:
    conn.execute(
        update(campaigns)
        .where(campaigns.c.project_id == project_id, campaigns.c.id == campaign_id)
        .values(completed_at=None)
    )


def project_outcomes(conn: Connection, project_id: int) -> list[Any]:
    o = outcomes.c
    return list(
        conn.execute(
            select(
                o.code,
                o.label,
                o.final_state,
                o.reached,
                o.counts_as_attempt,
                o.refusal,
                o.retry_seconds,
            )
            .where(o.project_id == project_id)
            .order_by(o.code)
        )
    )
