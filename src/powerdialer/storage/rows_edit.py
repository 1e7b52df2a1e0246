"""SQL that changes what stored rows bring for the dialer: their priority and "call next" flag
(``PATCH`` of a row, and a row merged under the policy "update": ``rows.policies``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Connection

from powerdialer.storage.dbapi import PARAM, cursor, stamp


def set_dialer_fields(
    conn: Connection,
    project_id: int,
    changes: Sequence[tuple[int, int | None, bool | None]],
    now: dt.datetime,
) -> None:
    """``(row id, priority, call_next)``: set the values that are not ``None`` (an existing row
    merged under the policy "update", or ``PATCH`` of a row)."""
    if not changes:
        return
    p = PARAM[conn.dialect.name]
    cur = cursor(conn)
    cur.executemany(
        f"UPDATE campaign_rows SET priority = COALESCE({p}, priority), "  # noqa: S608
        f"call_next = COALESCE({p}, call_next), updated_at = {p} "
        f"WHERE project_id = {p} AND id = {p}",
        [
            (priority, call_next, stamp(conn.dialect.name, now), project_id, row_id)
            for row_id, priority, call_next in changes
        ],
    )
