"""The SQL of the vendor-compatible hot path (``rows.intake.apply_intakes``), spoken to the
DBAPI driver directly (see ``dbapi``).

The group-commit writer runs three statements per batch: the keys' hashes (here), the
campaigns (``campaigns.write_targets``) and one multi-row insert (here); ``rows_write`` holds
the statements of the other duplicate policies and of bulk writes, in the same style.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from powerdialer.storage.dbapi import chunk_sizes, native_cursor, numbered, stamp

# Column order of the tuples the hot path hands over (see powerdialer.rows.intake.row_values).
ROW_COLUMNS = ("project_id", "campaign_id", "fio", "phone_raw", "phone_e164", "source")
_WIDTH = len(ROW_COLUMNS) + 3  # + created_at, updated_at, next_attempt_at (due at once)


@functools.cache
def _insert_sql(dialect: str, count: int, returning: bool = False) -> str:
    tail = " RETURNING project_id, campaign_id, phone_e164, id" if returning else ""
    return (
        f"INSERT INTO campaign_rows ({', '.join(ROW_COLUMNS)}, "  # noqa: S608
        "created_at, updated_at, next_attempt_at) "
        f"VALUES {numbered(dialect, _WIDTH, count)} "
        # ON CONFLICT DO NOTHING on the unique index: concurrent identical requests store one
        # row and none of them fails, which a check-then-insert could not promise.
        "ON CONFLICT (project_id, campaign_id, phone_e164, duplicate_no) DO NOTHING" + tail
    )


def insert_rows(
    conn: Connection, rows: Sequence[tuple[Any, ...]], now: dt.datetime, *, returning: bool = False
) -> list[tuple[int, int, str, int]]:
    """Insert ``ROW_COLUMNS`` tuples in the caller's transaction with multi-row VALUES (one
    driver call per chunk, not one GIL round-trip per row); numbers already in the campaign
    are left alone (the campaign policy "skip"; see rows_write.py for the others).  With
    ``returning`` (a webhook subscription wants the rows), ``(project_id, campaign_id,
    phone_e164, id)`` of each row inserted; else nothing is read back."""
    inserted: list[tuple[int, int, str, int]] = []
    if not rows:
        return inserted
    dialect = conn.dialect.name
    when = stamp(dialect, now)
    cur = native_cursor(conn)  # the statement in the server's placeholders: sent as it is
    start = 0
    for size in chunk_sizes(len(rows)):
        params: list[Any] = []
        for row in rows[start : start + size]:
            params.extend(row)
            params.append(when)
            params.append(when)
            params.append(when)
        cur.execute(_insert_sql(dialect, size, returning), params)
        if returning:
            inserted.extend(cur.fetchall())
        start += size
    return inserted
