"""SQLite commits answered after the WAL flusher's sync, not by an fsync of their own
(storage/walsync.py): a durable write is never answered before a sync that began after its
commit; a failed sync is never answered "stored"; an import's write does not wait for one."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import pytest
from sqlalchemy import Connection, create_engine

from powerdialer.storage.engine import make_engine
from powerdialer.storage.payload import Payload
from powerdialer.storage.walsync import WalFlusher
from powerdialer.storage.writer import GroupCommitter, StorageUnavailable

pytestmark = pytest.mark.anyio


@dataclass(frozen=True)
class _Row(Payload[int]):
    value: int
    applied: threading.Event = field(default_factory=threading.Event, compare=False)


@dataclass(frozen=True)
class _ImportRow(_Row):
    background: ClassVar[bool] = True


def _apply(conn: Connection, payloads: Sequence[_Row]) -> list[int]:
    for payload in payloads:
        conn.exec_driver_sql("INSERT INTO t (x) VALUES (?)", (payload.value,))
        payload.applied.set()
    return [payload.value for payload in payloads]


class _Disk:
    """A WAL sync that waits for ``release`` (a slow disk), or fails with ``error``."""

    def __init__(self, error: OSError | None = None) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.synced = threading.Event()
        self.error = error

    def __call__(self, fd: int) -> None:
        self.started.set()
        if self.error is not None:
            raise self.error
        assert self.release.wait(10)
        self.synced.set()


def _writer(tmp_path: Path, disk: _Disk) -> GroupCommitter:
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    return GroupCommitter(engine, {_Row: _apply, _ImportRow: _apply}, wal_sync=disk)


async def _settle() -> None:
    """Run what other threads have scheduled on this loop (and the callbacks it schedules)."""
    for _ in range(3):
        await asyncio.sleep(0)


async def test_a_durable_write_is_answered_only_after_the_wal_sync_that_follows_its_commit(
    tmp_path: Path,
) -> None:
    disk = _Disk()
    writer = _writer(tmp_path, disk)
    writer.start()
    first = writer.enqueue(_Row(1))
    await asyncio.to_thread(disk.started.wait, 10)  # committed, and its sync has begun
    second = _Row(2)
    later = writer.enqueue(second)
    # The writer took the next batch: it is done with the first (a writer that answered at
    # commit would have scheduled that answer by now) and did not wait for the disk.
    assert await asyncio.to_thread(second.applied.wait, 10)
    await _settle()
    assert not first.done()
    disk.release.set()
    assert await first == 1
    assert await later == 2
    await writer.stop()


async def test_a_write_whose_sync_fails_is_not_answered_stored(tmp_path: Path) -> None:
    writer = _writer(tmp_path, _Disk(error=OSError(5, "Input/output error")))
    writer.start()
    with pytest.raises(StorageUnavailable, match="sync"):
        await writer.submit(_Row(1))
    await writer.stop()


async def test_an_import_write_is_answered_at_its_commit_while_the_disk_syncs(
    tmp_path: Path,
) -> None:
    disk = _Disk()
    writer = _writer(tmp_path, disk)
    writer.start()
    assert await writer.submit(_ImportRow(7)) == 7
    assert not disk.synced.is_set()  # answered while the (held) sync had not returned
    disk.release.set()
    await writer.stop()


async def test_the_rows_answered_are_in_the_database(tmp_path: Path) -> None:
    disk = _Disk()
    disk.release.set()
    writer = _writer(tmp_path, disk)
    writer.start()
    answered = await asyncio.gather(*(writer.submit(_Row(i)) for i in range(50)))
    await writer.stop()
    engine = create_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with engine.connect() as conn:
        stored = sorted(x for (x,) in conn.exec_driver_sql("SELECT x FROM t"))
    assert stored == sorted(answered) == list(range(50))


def test_a_listener_hears_of_its_sync_only_after_the_sync_returned(tmp_path: Path) -> None:
    order: list[str] = []
    (tmp_path / "f.db-wal").write_bytes(b"x")
    flusher = WalFlusher(str(tmp_path / "f.db"), lambda fd: order.append("synced"))
    flusher.start()
    heard = threading.Event()
    flusher.after_sync(lambda error: (order.append(f"told {error}"), heard.set()))
    assert heard.wait(10)
    flusher.stop()
    assert order[:2] == ["synced", "told None"]
