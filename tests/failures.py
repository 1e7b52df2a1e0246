"""A database that really stops taking writes, for tests of the 503 ``storage_unavailable``
answers: on SQLite the database file sits on its own small tmpfs, filled to the last byte
(SQLITE_FULL, as on a full disk); on PostgreSQL the database is made read-only and the app's
sessions are cut (as after a fail-over onto a standby).  Reads keep working in both, so keys
are still verified and the answer is about storage, not auth.

Use: ``from tests.failures import database_url, broken_database`` in a test module (the
first overrides conftest's fixture to put the SQLite file on the tmpfs)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from powerdialer.storage.engine import make_engine
from tests.mounts import fill, tmpfs


@pytest.fixture
def database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    if not database_url.startswith("sqlite"):
        yield database_url
        return
    with tmpfs(tmp_path / "db-disk", "4m") as disk:
        path = disk / "powerdialer.db"
        shutil.copy(make_url(database_url).database or "", path)
        yield f"sqlite:///{path}"


@dataclass
class BrokenDatabase:
    url: str
    _filler: Path | None = None

    def break_(self) -> None:
        if self.url.startswith("sqlite"):
            self._filler = fill(Path(make_url(self.url).database or "").parent)
        else:
            self._read_only(True)

    def fix(self) -> None:
        if self._filler is not None:
            self._filler.unlink()
            self._filler = None
        elif not self.url.startswith("sqlite"):
            self._read_only(False)

    def _read_only(self, on: bool) -> None:
        admin = make_engine(self.url, isolation_level="AUTOCOMMIT")
        name = admin.url.database
        try:
            with admin.connect() as conn:
                conn.execute(text("SET default_transaction_read_only = off"))  # this session
                value = "on" if on else "off"
                conn.execute(
                    text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = {value}')
                )
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                )
        finally:
            admin.dispose()


@pytest.fixture
def broken_database(database_url: str) -> Iterator[BrokenDatabase]:
    """Call ``.break_()`` once the test's data is in place; it is fixed at teardown."""
    broken = BrokenDatabase(database_url)
    try:
        yield broken
    finally:
        broken.fix()
