"""SQL for an import job's rows (``rows.write.apply_imports``) in a campaign whose duplicate
policy is "skip": the common case, where the job needs only counts (how many were stored, how
many were already there), never the rows' ids.

So there is no ``RETURNING``, no lookup of the duplicates' ids and no per-row object: one
multi-row ``INSERT … ON CONFLICT DO NOTHING`` per statement, the rows bound as the worker
child sent them, and the number stored read from the cursor's ``rowcount`` (both drivers
report the rows actually inserted: a conflicting row is not counted; pinned by
tests/test_import_jobs.py).  The rest of a chunk are duplicates, of the campaign's rows or of
earlier rows of the same chunk: with DO NOTHING a later row meets the one just inserted, on
both databases, so the file's first row of a number is the one kept.

``inserted_ids`` is the same insert with ``RETURNING id``, for a job whose project has a
webhook asking for one ``row.added`` per row (``webhooks.outbox.emit_rows``): only then are
the new rows' ids read back.

A row is ``(fio, phone_raw, phone_e164, external_id, extra)`` with ``extra`` already the JSON
text of the custom fields (or ``None``): the worker child builds it on its own core.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from itertools import chain
from typing import Any

from sqlalchemy import Connection

from powerdialer.rows.models import ImportRow
from powerdialer.storage.dbapi import cursor, stamp

_WIDTH = 5  # values per ImportRow
# SQLite: the four values every row shares are numbered parameters (?1-?4), bound once, and
# a row's own five are the driver's flat list as sent; 4 + 5 * 4096 stays far under SQLite's
# 32,766-variable limit, and full chunks use one statement shape (its cache stays warm).
_SQLITE_ROWS = 4096
_CONFLICT = "ON CONFLICT (project_id, campaign_id, phone_e164, duplicate_no) DO NOTHING"
_COLUMNS = (
    "project_id, campaign_id, source, created_at, updated_at, next_attempt_at, duplicate_no, "
    "fio, phone_raw, phone_e164, external_id, extra"
)


@functools.cache
def _sqlite_sql(count: int, returning: bool = False) -> str:
    # A row's own values are anonymous "?": SQLite numbers each one after the largest so far
    # (5, 6, …), so they bind in order, and only ?1-?4 are named.  Numbering all of them
    # (?5 … ?20484) made every bind look its name up in a list as long as the statement:
    # 25 % of the whole insert (benchmarks/results/import.md).
    values = ", ".join(["(?1, ?2, ?3, ?4, ?4, ?4, 0, ?, ?, ?, ?, ?)"] * count)
    tail = " RETURNING id" if returning else ""
    return f"INSERT INTO campaign_rows ({_COLUMNS}) VALUES {values} {_CONFLICT}{tail}"  # noqa: S608


# PostgreSQL: the rows go by ``COPY`` into a staging table of this connection (TEMP, so no
# WAL and no other session sees it; emptied at every commit), then one set-based statement
# moves them into campaign_rows.  ``n`` is the row's place in the chunk: ORDER BY n keeps the
# file's order (the first row of a number is kept, and ids follow the file).  Binding five
# 10,000-element arrays to one ``unnest`` INSERT cost ~3x the whole COPY + merge here
# (BENCHMARKS.md, "PostgreSQL imports through COPY").
_PG_STAGE = (
    "CREATE TEMP TABLE IF NOT EXISTS pd_import_stage "
    "(n integer, f text, r text, e text, x text, j text) ON COMMIT DELETE ROWS"
)
_PG_COPY = "COPY pd_import_stage (n, f, r, e, x, j) FROM STDIN"
_PG_MERGE = (
    "WITH staged AS (DELETE FROM pd_import_stage RETURNING n, f, r, e, x, j) "  # noqa: S608
    f"INSERT INTO campaign_rows ({_COLUMNS}) "
    "SELECT %s, %s, %s, %s, %s, %s, 0, f, r, e, x, j FROM staged ORDER BY n "
    f"{_CONFLICT}"
)


def _copy_postgresql(cur: Any, rows: Sequence[ImportRow]) -> None:
    """The rows into this connection's staging table (created on first use; a transaction
    rolled back may take it with it, hence IF NOT EXISTS every time: one catalog look-up)."""
    cur.execute(_PG_STAGE)
    with cur.copy(_PG_COPY) as copy:
        write = copy.write_row
        for n, row in enumerate(rows):
            write((n, *row))


def insert_skipping(
    conn: Connection,
    head: tuple[int, int, str],
    rows: Sequence[ImportRow],
    now: dt.datetime,
) -> int:
    """Insert ``rows`` in the caller's transaction, leaving alone every number already in the
    campaign (or earlier in ``rows``); how many were inserted.  ``head`` is ``(project_id,
    campaign_id, source)``; the caller has checked and locked the campaign."""
    return _insert(conn, head, rows, now, returning=False)[0]


def inserted_ids(
    conn: Connection,
    head: tuple[int, int, str],
    rows: Sequence[ImportRow],
    now: dt.datetime,
) -> list[int]:
    """``insert_skipping`` that answers the ids of the rows inserted, in the file's order."""
    return _insert(conn, head, rows, now, returning=True)[1]


def _insert(
    conn: Connection,
    head: tuple[int, int, str],
    rows: Sequence[ImportRow],
    now: dt.datetime,
    *,
    returning: bool,
) -> tuple[int, list[int]]:
    if not rows:
        return 0, []
    dialect = conn.dialect.name
    when = stamp(dialect, now)
    cur = cursor(conn)
    ids: list[int] = []
    if dialect == "postgresql":
        _copy_postgresql(cur, rows)
        cur.execute(_PG_MERGE + (" RETURNING id" if returning else ""), [*head, when, when, when])
        if not returning:
            return int(cur.rowcount), ids
        ids = sorted(row[0] for row in cur.fetchall())  # ids follow the file's order
        return len(ids), ids
    inserted = 0
    for start in range(0, len(rows), _SQLITE_ROWS):
        part = rows[start : start + _SQLITE_ROWS]
        params: list[Any] = [*head, when]
        params.extend(chain.from_iterable(part))
        cur.execute(_sqlite_sql(len(part), returning), params)
        if returning:
            found = sorted(row[0] for row in cur.fetchall())
            ids.extend(found)
            inserted += len(found)
        else:
            inserted += cur.rowcount
    return inserted, ids
