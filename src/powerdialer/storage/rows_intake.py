"""The SQL of the vendor-compatible hot path, spoken to the DBAPI driver directly.

The group-commit writer runs these three statements per batch (``storage/bulk.py`` holds the
statements of the other duplicate policies and of bulk writes, in the same style).  Through
SQLAlchemy's statement machinery they cost ~0.3 ms a batch in Python (cache keys, parameter
processing), more than SQLite's own work; the writer thread competes for the GIL with the
event loop, so that overhead is paid twice (BENCHMARKS.md).  The schema is still
SQLAlchemy's (schema.py); only these statements are hand-written, with the driver's
parameter style.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection

# Column order of the tuples the hot path hands over (see powerdialer.rows.row_values).
ROW_COLUMNS = ("project_id", "campaign_id", "fio", "phone_raw", "phone_e164", "source")
_WIDTH = len(ROW_COLUMNS) + 2  # + created_at, updated_at
_PARAM = {"sqlite": "?", "postgresql": "%s"}
# Rows per INSERT: under SQLite's 32,766 bound-variable limit, and few statement shapes
# (powers of two) so the drivers' prepared-statement caches stay warm.
_CHUNK = 1024


def cursor(conn: Connection) -> Any:
    """A DBAPI cursor on the connection's current transaction."""
    return conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]


@functools.cache
def placeholders(dialect: str, count: int) -> str:
    return ", ".join([_PARAM[dialect]] * count)


def stamp(dialect: str, now: dt.datetime) -> Any:
    """``now`` as the driver should bind it to a ``UTCDateTime`` column."""
    if dialect == "sqlite":  # the text form SQLAlchemy's SQLite DATETIME reads back
        return now.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return now


def key_hashes(conn: Connection, pairs: set[tuple[int, str]]) -> dict[tuple[int, str], str]:
    """Stored secret hashes of the unrevoked keys among ``(project_id, key_id)`` pairs."""
    if not pairs:
        return {}
    key_ids = sorted({key_id for _, key_id in pairs})
    sql = (
        "SELECT project_id, key_id, secret_hash FROM api_keys "  # noqa: S608 (placeholders only)
        f"WHERE key_id IN ({placeholders(conn.dialect.name, len(key_ids))}) "
        "AND revoked_at IS NULL"
    )
    cur = cursor(conn)
    cur.execute(sql, key_ids)
    return {(p, k): h for p, k, h in cur.fetchall() if (p, k) in pairs}


def campaign_targets(conn: Connection, ids: set[int]) -> dict[int, tuple[int, str, str]]:
    """``{campaign_id: (project_id, state, duplicate_policy)}``; the caller checks ownership."""
    if not ids:
        return {}
    sql = (
        "SELECT id, project_id, state, duplicate_policy "  # noqa: S608 (placeholders only)
        f"FROM campaigns WHERE id IN ({placeholders(conn.dialect.name, len(ids))})"
    )
    cur = cursor(conn)
    cur.execute(sql, sorted(ids))
    return {i: (p, s, d) for i, p, s, d in cur.fetchall()}


@functools.cache
def _insert_sql(dialect: str, count: int) -> str:
    one = f"({placeholders(dialect, _WIDTH)})"
    return (
        f"INSERT INTO campaign_rows ({', '.join(ROW_COLUMNS)}, created_at, updated_at) "  # noqa: S608
        f"VALUES {', '.join([one] * count)} "
        # ON CONFLICT DO NOTHING on the unique index: concurrent identical requests store one
        # row and none of them fails, which a check-then-insert could not promise.
        "ON CONFLICT (project_id, campaign_id, phone_e164, duplicate_no) DO NOTHING"
    )


def chunk_sizes(total: int) -> Iterator[int]:
    """Split ``total`` into power-of-two statement sizes of at most ``_CHUNK``."""
    while total:
        size = min(_CHUNK, 1 << (total.bit_length() - 1))
        yield size
        total -= size


def insert_rows(conn: Connection, rows: Sequence[tuple[Any, ...]], now: dt.datetime) -> None:
    """Insert ``ROW_COLUMNS`` tuples in the caller's transaction with multi-row VALUES (one
    driver call per chunk, not one GIL round-trip per row); numbers already in the campaign
    are left alone (the campaign policy "skip"; see storage/bulk.py for the others)."""
    if not rows:
        return
    dialect = conn.dialect.name
    when = stamp(dialect, now)
    cur = cursor(conn)
    start = 0
    for size in chunk_sizes(len(rows)):
        params: list[Any] = []
        for row in rows[start : start + size]:
            params.extend(row)
            params.append(when)
            params.append(when)
        cur.execute(_insert_sql(dialect, size), params)
        start += size
