"""SQL functions SQLite lacks, registered from Python on a connection.

SQLite's ``lower()`` and ``LIKE`` fold ASCII letters only, so "ІВАН" would not find "Іван".
``pd_casefold(text)`` is Python's ``str.casefold`` (full Unicode, Cyrillic included).

``register`` is the connection hook (``storage.engine._sqlite_on_connect`` may call it on
every new connection); ``ensure`` registers it on the connection a query is about to use,
so the queries that need it work whether or not the hook is installed.  Registering is a
single C call that replaces the previous definition: cheap, idempotent.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

CASEFOLD = "pd_casefold"


def _casefold(value: object) -> object:
    return value.casefold() if isinstance(value, str) else value


def register(dbapi_conn: Any) -> None:
    """Register our functions on a raw ``sqlite3`` connection."""
    dbapi_conn.create_function(CASEFOLD, 1, _casefold, deterministic=True)


def ensure(conn: Connection) -> None:
    """Register our functions on the DBAPI connection behind ``conn`` (SQLite only)."""
    if conn.dialect.name == "sqlite":
        register(conn.connection.dbapi_connection)
