"""The dialer's payloads have a writer lane of their own on PostgreSQL (``storage/writer.py``,
"Lanes of their own"): a lease is answered while the main writer is busy with a row."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import pytest
from sqlalchemy import Connection

from powerdialer.dialer.leasing import Release, Renew
from powerdialer.dialer.queue import Lease
from powerdialer.dialer.wrapup import Record
from powerdialer.storage import Store
from powerdialer.storage.payload import Payload
from powerdialer.storage.writer import GroupCommitter
from tests.conftest import StartApp

pytestmark = pytest.mark.anyio


@dataclass(frozen=True)
class _Row(Payload[str]):
    name: str
    gate: threading.Event | None = None
    started: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True)
class _DialerCall(_Row):
    lane: ClassVar[str] = "dialer"


def _apply(conn: Connection, payloads: Sequence[_Row]) -> list[str]:
    for payload in payloads:
        payload.started.set()
        if payload.gate is not None:
            assert payload.gate.wait(10)
    return [threading.current_thread().name for _ in payloads]


async def test_a_dialer_call_is_answered_while_the_main_writer_is_busy(store: Store) -> None:
    if store.engine.dialect.name != "postgresql":
        pytest.skip("lanes are PostgreSQL's: SQLite's one write lock makes one writer")
    committer = GroupCommitter(store.engine, {_Row: _apply, _DialerCall: _apply}, lanes=["dialer"])
    committer.start()
    try:
        gate = threading.Event()
        busy = _Row("row", gate)
        row = committer.enqueue(busy)
        await asyncio.to_thread(busy.started.wait, 10)
        # The main writer is inside the row's transaction: the dialer's lane answers anyway.
        lane = await asyncio.wait_for(committer.submit(_DialerCall("lease")), 10)
        assert not row.done()
        gate.set()
        assert await row == "powerdialer-writer"
        assert lane == "pd-dialer"
    finally:
        await committer.stop()


def test_the_dialer_payloads_name_the_dialer_lane() -> None:
    assert {Lease.lane, Renew.lane, Release.lane, Record.lane} == {"dialer"}
    assert _Row.lane == ""  # every other payload keeps to the main writer


async def test_the_app_gives_the_dialer_its_lane_on_postgresql_only(
    started_app: StartApp, store: Store
) -> None:
    def lanes() -> set[str]:
        return {t.name for t in threading.enumerate() if t.name == "pd-dialer"}

    async with started_app():
        running = lanes()
    assert running == ({"pd-dialer"} if store.engine.dialect.name == "postgresql" else set())
