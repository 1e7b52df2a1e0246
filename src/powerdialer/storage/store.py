"""The ``Store``: one engine and the two ways of using it (read, write in a transaction)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import make_url

from powerdialer.settings import SettingsError
from powerdialer.storage import migrate
from powerdialer.storage.engine import is_sqlite, make_engine, normalize_url

T = TypeVar("T")


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.engine)

    def read(self, fn: Callable[[Connection], T]) -> T:
        with self.engine.connect() as conn:
            return fn(conn)

    def write(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` in one transaction; on SQLite take the write lock up front so two
        writers queue on the busy timeout instead of failing to upgrade a read lock."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(sqlite_begin="IMMEDIATE")
            with conn.begin():
                return fn(conn)

    def migrate(self) -> None:
        migrate.upgrade(self.engine)

    def is_migrated(self) -> bool:
        return migrate.current_revision(self.engine) == migrate.head_revision()

    def dispose(self) -> None:
        self.engine.dispose()


def check_database_url(url: str) -> str:
    try:
        parsed = make_url(normalize_url(url))
    except Exception as exc:  # SQLAlchemy raises ArgumentError, ValueError…
        raise SettingsError(
            f"database URL {url!r} is not valid ({exc}); use e.g. sqlite:///powerdialer.db "
            "or postgresql://user@host/dbname"
        ) from None
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:") or database.startswith("file::memory:"):
            raise SettingsError(
                "an in-memory SQLite database cannot be shared by the server's threads; "
                "use a file, e.g. sqlite:///powerdialer.db"
            )
        parent = Path(database).expanduser().resolve().parent
        if not parent.is_dir():
            raise SettingsError(f"the folder {parent} for the SQLite database does not exist")
    elif parsed.get_backend_name() != "postgresql":
        raise SettingsError(
            f"unsupported database {parsed.get_backend_name()!r}: use sqlite:/// or postgresql://"
        )
    return url


def open_store(url: str, *, migrate: bool = True) -> Store:
    store = Store(make_engine(check_database_url(url), pool_pre_ping=True))
    if migrate:
        store.migrate()
    return store
