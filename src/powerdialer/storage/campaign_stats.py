"""SQL for a campaign's overview: how many of its rows were added each day (UTC), by source."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select

from powerdialer.storage.schema import campaign_rows

_c = campaign_rows.c


def _day(conn: Connection) -> Any:
    if conn.dialect.name == "sqlite":
        # SQLAlchemy stores SQLite datetimes as UTC text "YYYY-MM-DD HH:MM:SS.ffffff".
        return func.substr(_c.created_at, 1, 10)
    return func.to_char(func.timezone("UTC", _c.created_at), "YYYY-MM-DD")


def added_per_day(
    conn: Connection, project_id: int, campaign_id: int
) -> list[tuple[str, str, int]]:
    """``(day "YYYY-MM-DD", source, rows)`` for the rows the campaign has now."""
    day = _day(conn).label("day")
    query = (
        select(day, _c.source, func.count())
        .where(_c.project_id == project_id, _c.campaign_id == campaign_id)
        .group_by(day, _c.source)
        .order_by(day)
    )
    return [(str(d), str(s), int(n)) for d, s, n in conn.execute(query)]
