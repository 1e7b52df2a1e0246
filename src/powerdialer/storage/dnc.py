"""SQL for a project's do-not-call list (``dnc_numbers``).  Every query is scoped by project.

The two statements the dialer's writer transactions need are here from the start: which of
some numbers are listed (the insert-time refusal and the lease-time check) and adding one
entry (the ``do_not_call`` outcome, in the transaction that records it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import Connection, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from powerdialer.storage.schema import dnc_numbers

# Numbers per IN (…) list: far under SQLite's variable limit.
_CHUNK = 500


def listed(conn: Connection, project_id: int, numbers: Iterable[str]) -> set[str]:
    """The E.164 numbers among ``numbers`` on project ``project_id``'s list."""
    wanted = sorted(set(numbers))
    found: set[str] = set()
    for start in range(0, len(wanted), _CHUNK):
        part = wanted[start : start + _CHUNK]
        found.update(
            conn.execute(
                select(dnc_numbers.c.phone_e164).where(
                    dnc_numbers.c.project_id == project_id,
                    dnc_numbers.c.phone_e164.in_(part),
                )
            ).scalars()
        )
    return found


def add_entry(
    conn: Connection,
    project_id: int,
    phone_e164: str,
    *,
    source: str,
    now: dt.datetime,
    reason: str | None = None,
    added_by: str | None = None,
    attempt_id: int | None = None,
) -> bool:
    """List a number (in the caller's transaction); ``False`` if it was listed already (the
    first entry, with its who, when and why, is kept)."""
    values = {
        "project_id": project_id,
        "phone_e164": phone_e164,
        "reason": reason,
        "source": source,
        "added_by": added_by,
        "attempt_id": attempt_id,
        "added_at": now,
    }
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    result = conn.execute(insert(dnc_numbers).values(**values).on_conflict_do_nothing())
    return bool(result.rowcount)
