"""SQLite's WAL is checkpointed by the server's own thread, not by the writer's commits
(``storage/checkpoint.py``)."""

from __future__ import annotations

import threading

import pytest

from powerdialer.storage import Store
from powerdialer.storage.checkpoint import Checkpointer, pending_frames
from powerdialer.storage.engine import AUTOCHECKPOINT_BYTES, CHECKPOINT_BYTES
from tests.conftest import StartApp

pytestmark = pytest.mark.anyio


@pytest.fixture
def sqlite_store(store: Store) -> Store:
    if not store.is_sqlite:
        pytest.skip("the WAL is SQLite's")
    return store


def fill(store: Store, kib: int) -> None:
    store.write(lambda conn: conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS ballast (x BLOB)"))
    for _ in range(kib // 64):
        store.write(
            lambda conn: conn.exec_driver_sql("INSERT INTO ballast VALUES (randomblob(65536))")
        )


def test_frames_past_the_threshold_are_copied_by_the_checkpointer(sqlite_store: Store) -> None:
    checkpointer = Checkpointer(sqlite_store.engine, threshold=1024 * 1024)
    fill(sqlite_store, 256)
    waiting = pending_frames(checkpointer.shm)
    assert waiting is not None
    assert waiting > 0
    assert not checkpointer.due()  # 256 KiB < 1 MiB
    assert not checkpointer.run_once()
    fill(sqlite_store, 1024)
    assert checkpointer.run_once()
    assert pending_frames(checkpointer.shm) == 0
    assert not checkpointer.run_once()  # nothing left to copy


def test_a_committing_connection_checkpoints_only_as_the_backstop(sqlite_store: Store) -> None:
    assert AUTOCHECKPOINT_BYTES >= 4 * CHECKPOINT_BYTES
    page = sqlite_store.read(lambda conn: conn.exec_driver_sql("PRAGMA page_size").scalar_one())
    pages = sqlite_store.read(
        lambda conn: conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one()
    )
    assert pages * page == AUTOCHECKPOINT_BYTES


async def test_the_server_runs_a_checkpointer_while_it_is_up(
    sqlite_store: Store, started_app: StartApp
) -> None:
    def running() -> bool:
        return any(t.name == "wal-checkpoint" and t.is_alive() for t in threading.enumerate())

    assert not running()
    async with started_app():
        assert running()
    assert not running()
