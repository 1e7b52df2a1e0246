"""SQL for an attempt's wrap-up (``dialer.wrapup``): the history row, the row settled after
its lease, a campaign's completion, a project's own outcomes.  In the writer's transaction,
spoken to the driver directly like ``storage.dialer``."""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

from sqlalchemy import Connection

from powerdialer.storage.dialer import FINAL, LEASED, PENDING, run

__all__ = ["FINAL", "LEASED", "PENDING"]

_SETTLED = (
    "status",
    "final_state",
    "attempts",
    "last_outcome",
    "next_attempt_at",
    "callback_operator_id",
)
_ATTEMPT = (
    "project_id",
    "campaign_id",
    "row_id",
    "lease_id",
    "operator_id",
    "phone_e164",
    "outcome",
    "note",
    "duration_seconds",
    "counted",
    "reached",
    "refusal",
    "final_state",
    "callback_at",
    "leased_at",
    "recorded_at",
)


class OwnOutcome(NamedTuple):
    code: str
    label: str
    final_state: str | None
    reached: bool
    counts_as_attempt: bool
    refusal: bool
    retry_seconds: int | None


def settle_row(conn: Connection, row_id: int, **values: Any) -> None:
    """The row after its lease: back to the queue, or final (``values`` say which)."""
    names = [name for name in _SETTLED if name in values]
    assert len(names) == len(values), "a column settle_row does not set"
    sets = "".join(f", {name} = ?" for name in names)
    run(
        conn,
        "UPDATE campaign_rows SET lease_id = NULL, lease_operator_id = NULL, "  # noqa: S608
        f"lease_expires_at = NULL{sets} WHERE id = ?",
        [*(values[name] for name in names), row_id],
    )


def add_attempt(conn: Connection, **values: Any) -> int:
    assert set(values) == set(_ATTEMPT), "an attempt names every column"
    marks = ", ".join("?" * len(_ATTEMPT))
    found = run(
        conn,
        f"INSERT INTO attempts ({', '.join(_ATTEMPT)}) VALUES ({marks}) RETURNING id",  # noqa: S608
        [values[name] for name in _ATTEMPT],
    ).fetchone()
    return int(found[0])


def outcome_tries(conn: Connection, project_id: int, row_id: int, code: str) -> int:
    """How many of a row's attempts ended in ``code`` (an outcome's own retry count)."""
    found = run(
        conn,
        "SELECT count(*) FROM attempts WHERE project_id = ? AND row_id = ? AND outcome = ?",
        (project_id, row_id, code),
    ).fetchone()
    return int(found[0])


def complete_if_done(conn: Connection, project_id: int, campaign_id: int, now: dt.datetime) -> bool:
    """Mark the campaign completed if no row is left to call (every row final, or its number
    on the do-not-call list); ``True`` only for the one transaction that marks it."""
    done = run(
        conn,
        "UPDATE campaigns SET completed_at = ? WHERE project_id = ? AND id = ? "
        "AND completed_at IS NULL AND NOT EXISTS (SELECT 1 FROM campaign_rows r "
        "WHERE r.project_id = ? AND r.campaign_id = ? AND r.status IN (?, ?) "
        "AND NOT EXISTS (SELECT 1 FROM dnc_numbers d "
        "WHERE d.project_id = r.project_id AND d.phone_e164 = r.phone_e164))",
        (now, project_id, campaign_id, project_id, campaign_id, PENDING, LEASED),
    )
    return bool(done.rowcount)


def reopen(conn: Connection, project_id: int, campaign_id: int) -> None:
    run(
        conn,
        "UPDATE campaigns SET completed_at = NULL WHERE project_id = ? AND id = ?",
        (project_id, campaign_id),
    )


def project_outcome(conn: Connection, project_id: int, code: str) -> OwnOutcome | None:
    row = run(
        conn,
        "SELECT code, label, final_state, reached, counts_as_attempt, refusal, retry_seconds "
        "FROM outcomes WHERE project_id = ? AND code = ?",
        (project_id, code),
    ).fetchone()
    if row is None:
        return None
    return OwnOutcome(row[0], row[1], row[2], bool(row[3]), bool(row[4]), bool(row[5]), row[6])


def project_codes(conn: Connection, project_id: int) -> list[str]:
    rows = run(
        conn, "SELECT code FROM outcomes WHERE project_id = ? ORDER BY code", (project_id,)
    ).fetchall()
    return [row[0] for row in rows]
