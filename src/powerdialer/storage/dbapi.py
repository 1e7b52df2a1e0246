"""Statements spoken to the DBAPI driver directly, for the row writes that run in the
group-commit writer (``rows_intake``, ``rows_write``, ``rows_import``, and the campaigns they
check, ``campaigns.write_targets``).

Through SQLAlchemy's statement machinery they cost ~0.3 ms a batch in Python (cache keys,
parameter processing), more than SQLite's own work; the writer thread competes for the GIL
with the event loop, so that overhead is paid twice (BENCHMARKS.md).  The schema is still
SQLAlchemy's (schema.py); only these statements are hand-written, with the driver's
parameter style.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection

PARAM = {"sqlite": "?", "postgresql": "%s"}
# Rows per INSERT: under SQLite's 32,766 bound-variable limit, and few statement shapes
# (powers of two) so the drivers' prepared-statement caches stay warm.
_CHUNK = 1024


def cursor(conn: Connection) -> Any:
    """A DBAPI cursor on the connection's current transaction."""
    return conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]


def native_cursor(conn: Connection) -> Any:
    """A cursor for statements written with the server's own placeholders
    (:func:`numbered`): on PostgreSQL psycopg's ``RawCursor`` (``$1``, ``$2``…), which sends
    the statement as it is.  psycopg's ordinary cursor rewrites ``%s`` into ``$n`` with a
    regular-expression pass over the whole statement, cached only for statements of at most
    50 parameters: a multi-row INSERT of a batch has more, so it was parsed again for every
    batch (13 % of the writer thread's GIL time on the compatible endpoint, by py-spy)."""
    raw = conn.connection.dbapi_connection
    if conn.dialect.name == "postgresql":
        import psycopg

        return psycopg.RawCursor(raw)  # type: ignore[call-overload]
    return raw.cursor()  # type: ignore[union-attr]


@functools.cache
def numbered(dialect: str, width: int, rows: int) -> str:
    """``rows`` groups of ``width`` placeholders, ``(…), (…)``, in the style of
    :func:`native_cursor`: ``?`` on SQLite, ``$1``… on PostgreSQL."""
    if dialect == "sqlite":
        one = f"({placeholders(dialect, width)})"
        return ", ".join([one] * rows)
    return ", ".join(
        "(" + ", ".join(f"${row * width + i + 1}" for i in range(width)) + ")"
        for row in range(rows)
    )


@functools.cache
def placeholders(dialect: str, count: int) -> str:
    return ", ".join([PARAM[dialect]] * count)


def stamp(dialect: str, now: dt.datetime) -> Any:
    """``now`` as the driver should bind it to a ``UTCDateTime`` column."""
    if dialect == "sqlite":  # the text form SQLAlchemy's SQLite DATETIME reads back
        return now.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return now


def chunk_sizes(total: int) -> Iterator[int]:
    """Split ``total`` into power-of-two statement sizes of at most ``_CHUNK``."""
    while total:
        size = min(_CHUNK, 1 << (total.bit_length() - 1))
        yield size
        total -= size
