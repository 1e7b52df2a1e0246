"""SQL of the health check's write probe.

The probe rewrites the one row of ``alembic_version`` with its own value: a real write that
commits (an fsync on SQLite; a WAL flush on PostgreSQL) and so fails when the database file
or its disk is read-only or full, or the server refuses writes (a read-only PostgreSQL, a
hot standby), while it changes nothing.  That table exists in every migrated database and
always has exactly one row, so the probe needs no table of its own.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

_TOUCH = text("UPDATE alembic_version SET version_num = version_num")


def touch(conn: Connection) -> None:
    conn.execute(_TOUCH)
