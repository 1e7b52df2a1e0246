"""SQL for a project's do-not-call list (``dnc_numbers``).  Every query is scoped by project.

The two statements the dialer's writer transactions need are here from the start: which of
some numbers are listed (the insert-time refusal and the lease-time check) and adding one
entry (the ``do_not_call`` outcome, in the transaction that records it).  The rest serves
``powerdialer.dnc``: many entries at once, removal, one entry, a keyset-paged listing.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from powerdialer.models import DncEntry
from powerdialer.storage.dbapi import PARAM, chunk_sizes, cursor, placeholders
from powerdialer.storage.schema import dnc_numbers

# Numbers per IN (…) list of the SQLAlchemy statements: far under SQLite's variable limit.
_CHUNK = 500


@functools.cache
def _listed_sql(dialect: str, count: int) -> str:
    return (
        "SELECT phone_e164 FROM dnc_numbers WHERE project_id = "  # noqa: S608 (placeholders)
        f"{PARAM[dialect]} AND phone_e164 IN ({placeholders(dialect, count)})"
    )


_PG_LISTED = (
    "SELECT phone_e164 FROM dnc_numbers WHERE project_id = %s AND phone_e164 = ANY(%s::text[])"
)


def listed(conn: Connection, project_id: int, numbers: Iterable[str]) -> set[str]:
    """The E.164 numbers among ``numbers`` on project ``project_id``'s list.

    Spoken to the driver (``dbapi``), in power-of-two chunks: it runs once per batch in the
    writer's transaction of the compatible endpoint, where SQLAlchemy's statement building
    doubled the apply function's time for a batch of 64 rows (0.55 → 1.2 ms; this way
    0.61 ms, commit excluded: measured on SQLite)."""
    wanted = sorted(set(numbers))
    if not wanted:
        return set()
    dialect = conn.dialect.name
    cur = cursor(conn)
    if dialect == "postgresql":
        # One statement of two parameters (the numbers as one array) whatever their count:
        # an import's write of 2,000 numbers took two 1,024-placeholder statements, whose
        # building alone cost more than the look-up (BENCHMARKS.md, COPY section).
        cur.execute(_PG_LISTED, [project_id, wanted])
        return {row[0] for row in cur.fetchall()}
    found: set[str] = set()
    start = 0
    for size in chunk_sizes(len(wanted)):
        cur.execute(_listed_sql(dialect, size), [project_id, *wanted[start : start + size]])
        found.update(row[0] for row in cur.fetchall())
        start += size
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


def _entry(row: Any) -> DncEntry:
    return DncEntry(
        phone_e164=row.phone_e164,
        reason=row.reason,
        source=row.source,
        added_by=row.added_by,
        added_at=row.added_at,
    )


def add_entries(
    conn: Connection,
    project_id: int,
    entries: Sequence[tuple[str, str | None]],
    *,
    source: str,
    now: dt.datetime,
    added_by: str | None = None,
) -> set[str]:
    """List ``(phone_e164, reason)`` pairs (distinct numbers) in multi-row inserts; the numbers
    that were not listed before (an entry already there keeps its who, when and why)."""
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    added: set[str] = set()
    for start in range(0, len(entries), _CHUNK):
        values = [
            {
                "project_id": project_id,
                "phone_e164": e164,
                "reason": reason,
                "source": source,
                "added_by": added_by,
                "attempt_id": None,
                "added_at": now,
            }
            for e164, reason in entries[start : start + _CHUNK]
        ]
        statement = (
            insert(dnc_numbers)
            .values(values)
            .on_conflict_do_nothing()
            .returning(dnc_numbers.c.phone_e164)
        )
        added.update(conn.execute(statement).scalars())
    return added


def remove_entry(conn: Connection, project_id: int, phone_e164: str) -> bool:
    """Take a number off the list; ``False`` if it was not on it."""
    result = conn.execute(
        delete(dnc_numbers).where(
            dnc_numbers.c.project_id == project_id, dnc_numbers.c.phone_e164 == phone_e164
        )
    )
    return bool(result.rowcount)


def get_entry(conn: Connection, project_id: int, phone_e164: str) -> DncEntry | None:
    row = conn.execute(
        select(dnc_numbers).where(
            dnc_numbers.c.project_id == project_id, dnc_numbers.c.phone_e164 == phone_e164
        )
    ).first()
    return _entry(row) if row else None


def list_entries(
    conn: Connection,
    project_id: int,
    *,
    prefix: str | None = None,
    after: str | None = None,
    limit: int = 100,
) -> list[DncEntry]:
    """Entries in number order, keyset-paged: those after number ``after``, of numbers that
    start with ``prefix`` ('+' and digits), at most ``limit``."""
    query = select(dnc_numbers).where(dnc_numbers.c.project_id == project_id)
    if prefix:
        # A range, not LIKE: the primary key (project_id, phone_e164) serves it on both
        # backends, and a prefix of '+' and digits has no wildcard to escape.
        query = query.where(
            dnc_numbers.c.phone_e164 >= prefix, dnc_numbers.c.phone_e164 < prefix + "\x7f"
        )
    if after is not None:
        query = query.where(dnc_numbers.c.phone_e164 > after)
    query = query.order_by(dnc_numbers.c.phone_e164).limit(limit)
    return [_entry(row) for row in conn.execute(query)]


def count_entries(conn: Connection, project_id: int) -> int:
    return int(
        conn.execute(
            select(func.count()).where(dnc_numbers.c.project_id == project_id)
        ).scalar_one()
    )
