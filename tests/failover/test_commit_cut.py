"""A write whose connection is cut in its COMMIT may have been stored: the writer answers 503
saying so ("may or may not be stored") and does not store it again by itself (under the
"keep" policy a second insert would be a second row).

The cut is real, on a server of the test's own (it changes a server-wide setting): the
primary waits for a synchronous standby that does not exist (``synchronous_standby_names``),
so the writer's COMMIT hangs after the commit is written locally; its backend is terminated
right there ("the transaction has already committed locally", PostgreSQL says), which is
what a primary lost after its standby had the commit looks like to the writer; then the wait
is lifted, so a retry would go through.  Twice: a transaction of one row, then one of two
(a failed batch of several used to be retried item by item)."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import psycopg
import pytest

from powerdialer import campaigns, projects
from powerdialer.settings import Settings
from powerdialer.storage import open_store
from powerdialer.web.app import PowerDialerApp, create_app
from tests.conftest import COMPAT, PG_URL, client_of
from tests.failover import pair as pg

pytestmark = pytest.mark.anyio

T = TypeVar("T")


@pytest.fixture
def server() -> Iterator[pg.Node]:
    if not PG_URL:
        pytest.skip("runs once, in the PostgreSQL pass (POWERDIALER_TEST_DATABASE_URL set)")
    pg.require()
    started = pg.start_pair(standby=False)
    try:
        yield started.primary
    finally:
        started.stop()
        shutil.rmtree(started.root, ignore_errors=True)


@pytest.fixture
async def app(server: pg.Node, tmp_path: Path) -> AsyncIterator[PowerDialerApp]:
    url = f"postgresql://postgres@{pg.LOCALHOST}:{server.port}/{pg.DATABASE}"
    open_store(url).dispose()
    settings = Settings(database_url=url, rate_limit_per_second=0, data_dir=str(tmp_path))
    application = create_app(settings)
    await application.startup()
    try:
        yield application
    finally:
        await application.shutdown()


def admin(server: pg.Node, *statements: str) -> None:
    with psycopg.connect(server.conninfo("postgres"), autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def backend(server: pg.Node, condition: str) -> int | None:
    """The pid of the one backend in ``condition`` (the writer's), if there is one."""
    query = (
        f"SELECT pid FROM pg_stat_activity WHERE {condition} AND backend_type = 'client backend'"
    )
    with psycopg.connect(server.conninfo("postgres"), autocommit=True) as conn:
        found = conn.execute(query).fetchone()
    return None if found is None else int(found[0])


async def wait_for(condition: Callable[[], T | None], what: str) -> T:
    deadline = time.monotonic() + 10
    while (found := await asyncio.to_thread(condition)) is None:
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)
    return found


async def test_writes_cut_in_their_commit_are_answered_uncertain_and_not_stored_twice(
    app: PowerDialerApp, server: pg.Node
) -> None:
    store = app.services.store
    project = projects.create_project(store, "Owner")
    key = projects.create_key(store, project.id, "key")
    campaign = campaigns.create_campaign(store, project.id, "leads", duplicate_policy="keep")
    headers = {"x-project-id": str(project.id), "Auth-key": key.plaintext}
    numbers = ["380930000001", "380930000002", "380930000003"]

    def row(number: str) -> dict[str, object]:
        return {"campaignId": campaign.id, "fio": "Іван Петренко", "phone_number": number}

    locker = psycopg.connect(server.conninfo())
    async with client_of(app) as client:
        assert (await client.post(COMPAT, json=row("380930000000"), headers=headers)).is_success
        # The writer held on a lock with the first row, the other two queued behind it: they
        # share the next transaction, so a retry of theirs would be one by one.
        locker.execute("LOCK TABLE campaign_rows IN ACCESS EXCLUSIVE MODE")
        first = asyncio.ensure_future(client.post(COMPAT, json=row(numbers[0]), headers=headers))
        await wait_for(lambda: backend(server, "wait_event_type = 'Lock'"), "the lock wait")
        rest = [
            asyncio.ensure_future(client.post(COMPAT, json=row(n), headers=headers))
            for n in numbers[1:]
        ]
        await wait_for(lambda: app.services.writer._queue.qsize() >= 2 or None, "the queue")
        admin(server, "ALTER SYSTEM SET synchronous_standby_names = 'nobody'",
              "SELECT pg_reload_conf()")  # fmt: skip
        locker.rollback()
        for _transaction in range(2):  # the first row's, then the other two's
            pid = await wait_for(lambda: backend(server, "wait_event = 'SyncRep'"), "SyncRep")
            admin(server, f"SELECT pg_terminate_backend({pid}, 10000)")
        admin(server, "ALTER SYSTEM RESET synchronous_standby_names", "SELECT pg_reload_conf()")
        answers = await asyncio.gather(first, *rest)
    locker.close()
    for cut in answers:
        assert cut.status_code == 503, cut.text
        assert cut.headers["retry-after"] == "1"
        assert cut.json()["error"]["code"] == "storage_unavailable"
        assert "may or may not be stored" in cut.json()["error"]["message"]
    query = "SELECT phone_raw, count(*) FROM campaign_rows WHERE phone_raw = ANY(%s) GROUP BY 1"
    with psycopg.connect(server.conninfo()) as conn:
        counts = dict(conn.execute(query, (numbers,)).fetchall())
    assert counts == dict.fromkeys(numbers, 1)  # committed before the cut, not again after it


async def test_a_keyed_row_cut_in_its_commit_is_answered_uncertain_and_its_retry_replayed(
    app: PowerDialerApp, server: pg.Node
) -> None:
    """The key's claim commits with the row and its answer: the retry with the same key finds
    the first try's answer (it was stored before the cut) instead of a claim left in
    progress, and the row is stored once."""
    store = app.services.store
    project = projects.create_project(store, "Owner")
    key = projects.create_key(store, project.id, "key")
    campaign = campaigns.create_campaign(store, project.id, "leads", duplicate_policy="keep")
    headers = {
        "x-project-id": str(project.id),
        "Auth-key": key.plaintext,
        "Idempotency-Key": "cut-1",
    }
    row = {"campaignId": campaign.id, "fio": "Іван Петренко", "phone_number": "380930000009"}
    locker = psycopg.connect(server.conninfo())
    async with client_of(app) as client:
        locker.execute("LOCK TABLE campaign_rows IN ACCESS EXCLUSIVE MODE")
        first = asyncio.ensure_future(client.post(COMPAT, json=row, headers=headers))
        await wait_for(lambda: backend(server, "wait_event_type = 'Lock'"), "the lock wait")
        admin(server, "ALTER SYSTEM SET synchronous_standby_names = 'nobody'",
              "SELECT pg_reload_conf()")  # fmt: skip
        locker.rollback()
        pid = await wait_for(lambda: backend(server, "wait_event = 'SyncRep'"), "SyncRep")
        admin(server, f"SELECT pg_terminate_backend({pid}, 10000)")
        admin(server, "ALTER SYSTEM RESET synchronous_standby_names", "SELECT pg_reload_conf()")
        cut = await first
        retry = await client.post(COMPAT, json=row, headers=headers)
    locker.close()
    assert cut.status_code == 503, cut.text
    assert cut.headers["retry-after"] == "1"
    assert "may or may not be stored" in cut.json()["error"]["message"]
    assert (retry.status_code, retry.json()) == (200, {"result": True})
    assert retry.headers["idempotent-replayed"] == "true"
    query = "SELECT count(*) FROM campaign_rows WHERE phone_raw = %s"
    with psycopg.connect(server.conninfo()) as conn:
        assert conn.execute(query, (row["phone_number"],)).fetchone() == (1,)
