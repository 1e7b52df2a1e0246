"""The writer against a PostgreSQL that takes no connections (down, or mid-fail-over): a batch
whose connection broke is tried once more on a new connection, as a batch, not once per item
(each try of a dead host may wait out libpq's ``connect_timeout``), and every item is answered
503 at once; once the database takes connections again, the next write is stored.

The outage is real: ``ALTER DATABASE … ALLOW_CONNECTIONS false`` (new connections are refused
by the server) and the writer's backend terminated while it waits on a table lock, with 20
more rows queued behind it."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import event, text

from powerdialer.storage import Store
from powerdialer.storage.engine import make_engine
from powerdialer.storage.writer import StorageUnavailable
from powerdialer.web.api.errors import failure_response
from powerdialer.web.app import PowerDialerApp
from tests.conftest import PG_URL, Persona
from tests.test_writer_reconnect import (
    WRITER_THREAD,
    WriterConnections,
    phone,
    post,
    stored_numbers,
)

pytestmark = pytest.mark.anyio

QUEUED = 20


async def wait_for(condition: Any, what: str) -> None:
    deadline = time.monotonic() + 10
    while not await asyncio.to_thread(condition):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


async def test_a_batch_meeting_a_database_that_refuses_connections_costs_two_attempts(
    app: PowerDialerApp,
    client: httpx.AsyncClient,
    owner: Persona,
    store: Store,
    database_url: str,
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL only: SQLite has no server to refuse connections")
    engine = app.services.store.engine
    writer = WriterConnections(engine)
    attempts: list[float] = []

    def attempt(*_args: Any) -> None:
        if threading.current_thread().name == WRITER_THREAD:
            attempts.append(time.monotonic())

    event.listen(engine, "do_connect", attempt)
    assert (await post(client, owner, phone(0))).status_code == 200
    [first] = writer.opened
    pid = first.info.backend_pid
    database = engine.url.database
    # The server's other database: the test's own will refuse connections.
    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    locker = make_engine(database_url, isolation_level="AUTOCOMMIT").connect()
    try:
        locker.exec_driver_sql("BEGIN")
        locker.exec_driver_sql("LOCK TABLE campaign_rows IN ACCESS EXCLUSIVE MODE")
        blocked = asyncio.ensure_future(post(client, owner, phone(1)))

        def waiting_on_the_lock() -> bool:
            with admin.connect() as conn:
                query = text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid")
                return conn.execute(query, {"pid": pid}).scalar() == "Lock"

        await wait_for(waiting_on_the_lock, "the writer to wait on the lock")
        queued = [asyncio.ensure_future(post(client, owner, phone(n))) for n in range(2, 22)]
        await wait_for(lambda: app.services.writer._queue.qsize() >= QUEUED, "the queue")
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS false'))
        before = len(attempts)
        with admin.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": pid})
        answers = await asyncio.gather(blocked, *queued)
        locker.exec_driver_sql("ROLLBACK")
        assert [a.status_code for a in answers] == [503] * (QUEUED + 1)
        assert {a.headers["retry-after"] for a in answers} == {"1"}
        # The blocked row's batch: one new connection; the 20 queued: one, and one again.
        assert len(attempts) - before == 3
        assert stored_numbers(store, owner) == {phone(0)}
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS true'))
        locker.close()
        locker.engine.dispose()
        admin.dispose()
    assert (await post(client, owner, phone(99))).status_code == 200
    assert stored_numbers(store, owner) == {phone(0), phone(99)}


def test_the_apis_503_for_a_write_cut_in_its_commit_says_it_may_be_stored() -> None:
    cut = failure_response(StorageUnavailable("the connection broke", uncertain=True))
    refused = failure_response(StorageUnavailable("the database is unavailable"))
    assert (cut.status_code, cut.headers["retry-after"]) == (503, "1")
    assert b"may or may not be stored" in bytes(cut.body)
    assert b"nothing was stored" in bytes(refused.body)
