"""Engines for SQLite (embedded default) and PostgreSQL, with durability settings pinned.

SQLite: WAL journal with ``synchronous=FULL`` so a committed transaction survives power loss,
``foreign_keys=ON``, a busy timeout for the odd second process (the CLI).  The driver's own
transaction handling is turned off and transactions begin explicitly, so the group-commit
writer can take the write lock up front with ``BEGIN IMMEDIATE``.

PostgreSQL: psycopg 3, ``synchronous_commit=on`` set per connection so a server-wide
relaxation cannot silently weaken our acknowledgement.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url


def normalize_url(url: str) -> str:
    """Accept the URLs people paste (``postgres://``, ``postgresql://``) and pick psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def _sqlite_on_connect(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see _sqlite_on_begin)
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_on_begin(conn: Any) -> None:
    mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


def _pg_on_connect(dbapi_conn: Any, _record: Any) -> None:
    with dbapi_conn.cursor() as cursor:
        cursor.execute("SET synchronous_commit = on")
    dbapi_conn.commit()


def make_engine(url: str, **kwargs: Any) -> Engine:
    engine = create_engine(normalize_url(url), **kwargs)
    if is_sqlite(engine):
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
    elif engine.dialect.name == "postgresql":
        event.listen(engine, "connect", _pg_on_connect)
    return engine
