"""No contact to two operators, by the database: on PostgreSQL a row being leased by one
connection is skipped by another (``FOR UPDATE SKIP LOCKED``), and two writers (two server
processes' worth) leasing at once hand out different rows; on SQLite every lease goes through
the one writer, whose transaction holds the file."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import create_engine, insert

from powerdialer.dialer.queue import Lease, Leased
from powerdialer.storage import Store
from powerdialer.storage import dialer as sql
from powerdialer.storage.schema import campaign_rows
from powerdialer.storage.writer import GroupCommitter
from powerdialer.web.app import WRITES
from tests.conftest import Persona
from tests.dialer.helpers import WEDNESDAY_10_KYIV, operator

NOW = WEDNESDAY_10_KYIV


def _rows(store: Store, persona: Persona, count: int) -> None:
    def run(conn: object) -> None:
        for n in range(count):
            conn.execute(  # type: ignore[attr-defined]
                insert(campaign_rows).values(
                    project_id=persona.project_id,
                    campaign_id=persona.campaign_id,
                    phone_raw=str(n),
                    phone_e164=f"+38093{n:07d}",
                    source="api",
                    created_at=NOW,
                    updated_at=NOW,
                    next_attempt_at=NOW,
                )
            )

    store.write(run)


def _needs_postgresql(store: Store) -> None:
    if store.engine.dialect.name != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite has one writer (the other test)")


def test_a_row_locked_by_one_transaction_is_skipped_by_another(
    store: Store, owner: Persona
) -> None:
    _needs_postgresql(store)
    _rows(store, owner, 2)
    with (
        store.engine.connect() as first,
        store.engine.connect() as second,
        first.begin(),
        second.begin(),
    ):
        mine = sql.candidates(first, owner.project_id, owner.campaign_id, 1, NOW, 1)
        theirs = sql.candidates(second, owner.project_id, owner.campaign_id, 1, NOW, 2)
        assert len(mine) == 1
        assert len(theirs) == 1
        assert mine[0].id != theirs[0].id


@pytest.mark.anyio
async def test_two_writers_leasing_at_once_never_hand_out_one_row_twice(
    store: Store, owner: Persona
) -> None:
    _needs_postgresql(store)
    _rows(store, owner, 60)
    operators = [operator(store, owner, f"op{n}") for n in range(40)]
    # A second engine: another process's pool and writer on the same database.
    other = create_engine(store.engine.url, pool_size=2)
    writers = [GroupCommitter(store.engine, WRITES), GroupCommitter(other, WRITES)]
    for writer in writers:
        writer.start()
    try:
        answers = await asyncio.gather(
            *(
                writers[n % 2].submit(Lease(owner.project_id, owner.campaign_id, op, NOW))
                for n, op in enumerate(operators)
            )
        )
    finally:
        for writer in writers:
            await writer.stop()
        other.dispose()
    rows = [a.row_id for a in answers if isinstance(a, Leased)]
    assert len(rows) == 40
    assert len(set(rows)) == 40


@pytest.mark.anyio
async def test_forty_operators_at_once_through_one_writer_get_forty_rows(
    store: Store, owner: Persona
) -> None:
    """SQLite's case (and one process on PostgreSQL): the leases share the writer's
    transactions, applied one after another, so none sees a row another has just taken."""
    _rows(store, owner, 60)
    operators = [operator(store, owner, f"op{n}") for n in range(40)]
    writer = GroupCommitter(store.engine, WRITES)
    writer.start()
    try:
        answers = await asyncio.gather(
            *(
                writer.submit(Lease(owner.project_id, owner.campaign_id, op, NOW))
                for op in operators
            )
        )
    finally:
        await writer.stop()
    rows = [a.row_id for a in answers if isinstance(a, Leased)]
    assert len(rows) == 40
    assert len(set(rows)) == 40
