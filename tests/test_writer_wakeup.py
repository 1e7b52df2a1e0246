"""The writer thread and the WAL flusher are woken through pipes, not by a ``put`` or an
``Event.set`` made holding the GIL (storage/writer.py, storage/walsync.py): no wake-up is ever
lost, however the event loop's writes and the writer's going idle interleave, and both leave
no descriptor open once stopped."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Connection

from powerdialer.storage.engine import make_engine
from powerdialer.storage.payload import Payload
from powerdialer.storage.writer import GroupCommitter

pytestmark = pytest.mark.anyio

FDS = Path("/proc/self/fd")


@dataclass(frozen=True, slots=True)
class _Ping(Payload[int]):
    value: int


def _apply(conn: Connection, payloads: Sequence[_Ping]) -> list[int]:
    conn.exec_driver_sql("SELECT 1")
    return [payload.value for payload in payloads]


async def test_a_write_queued_each_time_the_writer_has_gone_idle_is_answered(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    writer = GroupCommitter(engine, {_Ping: _apply})
    writer.start()
    try:
        # One at a time: before each, the writer has answered the last and waits again, so
        # every one of them must wake it; a lost wake-up would hang here (the timeout).
        for value in range(300):
            assert await asyncio.wait_for(writer.submit(_Ping(value)), 10) == value
        # Bursts: the first of each wakes the writer, the rest are queued while it works.
        for burst in range(20):
            values = range(burst * 50, burst * 50 + 50)
            answers = await asyncio.wait_for(
                asyncio.gather(*(writer.submit(_Ping(v)) for v in values)), 10
            )
            assert answers == list(values)
    finally:
        await writer.stop()
        engine.dispose()


@pytest.mark.skipif(not FDS.is_dir(), reason="counts this process's descriptors in /proc")
async def test_a_stopped_writer_and_its_flusher_leave_no_descriptor_open(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")  # a file: the WAL flusher too
    before = len(os.listdir(FDS))
    writer = GroupCommitter(engine, {_Ping: _apply})
    writer.start()
    assert await writer.submit(_Ping(1)) == 1
    await writer.stop()
    engine.dispose()
    assert len(os.listdir(FDS)) == before
