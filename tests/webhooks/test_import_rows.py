"""An import's rows for a webhook that asked for one ``row.added`` per row: one event per
row stored (inserted or, under the "update" policy, updated), written with the rows' own
chunk and so exactly once even when another instance takes the job over; a webhook without
the flag still gets the job's one counted event."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import select

from powerdialer.errors import JobLost
from powerdialer.rows.write import ImportChunk
from powerdialer.storage import Store
from powerdialer.storage.schema import campaign_rows, webhook_deliveries, webhook_events
from powerdialer.web.app import PowerDialerApp
from powerdialer.webhooks import events
from tests.clock import Clock
from tests.conftest import Persona, StartApp
from tests.test_duplicate_policy import set_policy
from tests.test_import_jobs import run_import
from tests.test_import_takeover import BAD, LEASE, TOTAL, dead_process_job, row, wait_done
from tests.webhooks.receiver import receiver
from tests.webhooks.test_delivery import sending, subscribe

pytestmark = pytest.mark.anyio


def row_ids(store: Store, campaign_id: int) -> list[int]:
    query = select(campaign_rows.c.id).where(campaign_rows.c.campaign_id == campaign_id)
    return sorted(store.read(lambda conn: list(conn.execute(query).scalars())))


def id_of(store: Store, campaign_id: int, e164: str) -> int:
    c = campaign_rows.c
    query = select(c.id).where(c.campaign_id == campaign_id, c.phone_e164 == e164)
    return int(store.read(lambda conn: conn.execute(query).scalar_one()))


def per_row_events(store: Store) -> list[dict[str, Any]]:
    """The outbox's one-row ``row.added`` bodies, in delivery order."""
    query = (
        select(webhook_events.c.body)
        .join(webhook_deliveries, webhook_deliveries.c.event_id == webhook_events.c.id)
        .where(webhook_events.c.type == events.ROW_ADDED)
        .order_by(webhook_deliveries.c.id)
    )
    bodies = [orjson.loads(b) for b in store.read(lambda conn: conn.execute(query).scalars())]
    return [b for b in bodies if len(b["data"]["row_ids"]) == 1 and b["data"]["job_id"]]


@pytest.mark.parametrize("policy", ["skip", "update"])
async def test_a_per_row_webhook_gets_a_row_added_for_each_row_the_import_stored(
    started_app: StartApp, clock: Clock, owner: Persona, policy: str
) -> None:
    async with (
        receiver() as rows,
        receiver() as counts,
        sending(started_app, clock) as (app, client),
    ):
        store = app.services.store
        set_policy(store, owner.campaign_id, policy)
        await client.post(  # a number already in the campaign: updated, or a duplicate
            "/power-dialer/campaigns/campaign-rows",
            json=owner.row("380931234568"),
            headers=owner.headers,
        )
        await subscribe(store, owner, rows, "row.added", "import.finished", per_row=True)
        await subscribe(store, owner, counts, "row.added")
        csv = b"phone,name\n380931234567,Ivan\n380931234568,Olena\n12,bad\n380931234569,Taras\n"
        job = await run_import(client, owner, csv)
        assert job["status"] == "done"
        while (await app.services.webhooks.tick(clock.now())).claimed:
            pass
        updated = policy == "update"
        phones = ["+380931234567", "+380931234568", "+380931234569"]
        if not updated:
            phones.remove("+380931234568")  # a duplicate: not stored, no event
        stored = [id_of(store, owner.campaign_id, e164) for e164 in phones]
    got = [r.json for r in rows.accepted]
    assert [e["type"] for e in got[-1:]] == ["import.finished"]
    each = [e["data"] for e in got if e["type"] == "row.added"]
    assert [d["row_ids"][0] for d in each] == stored  # in the file's order
    assert all(d["job_id"] == job["id"] and d["source"] == "import" for d in each)
    assert sorted((d["inserted"], d["updated"]) for d in each) == (
        [(0, 1), (1, 0), (1, 0)] if updated else [(1, 0), (1, 0)]
    )
    # The webhook without the flag: the job's one event with the counts, nothing per row.
    [counted] = [r.json["data"] for r in counts.accepted]
    assert (counted["job_id"], counted["inserted"], counted["rejected"]) == (job["id"], 2, 1)
    assert counted["updated"] == int(updated)
    assert counted["row_ids"] == []


async def test_each_stored_row_has_its_event_once_when_the_job_is_taken_over(
    app: PowerDialerApp, owner: Persona, store: Store, tmp_path: Path, clock: Clock
) -> None:
    imports = app.services.imports
    assert imports is not None
    await subscribe(store, owner, _Target(), "row.added", per_row=True)
    job = await dead_process_job(app, owner, tmp_path, clock, stored=1000)
    assert len(per_row_events(store)) == 999  # the dead process's chunks, with their events
    clock.advance(seconds=LEASE.total_seconds() + 1)
    assert await imports.beat(clock.now()) is not None
    done = await wait_done(store, owner, job.id)
    assert (done.status, done.inserted) == ("done", TOTAL - len(BAD))
    # The dead process comes back with its next chunk: refused, rows and events alike.
    late = ImportChunk(
        owner.project_id,
        owner.campaign_id,
        [row(10_000)],
        job_id=job.id,
        read=1,
        lines=[1002],
        owner="dead-host:4242:0123456789ab",
        offset=1000,
    )
    with pytest.raises(JobLost):
        await app.services.writer.submit(late)
    found = [e["data"]["row_ids"][0] for e in per_row_events(store)]
    assert sorted(found) == row_ids(store, owner.campaign_id)  # every row, each once
    assert len(found) == TOTAL - len(BAD)


class _Target:
    """A subscription's address that is never posted to (the test reads the outbox)."""

    url = "http://127.0.0.1:9/hook"


def test_the_per_row_bodies_are_the_events_own_bodies_byte_for_byte() -> None:
    now = dt.datetime(2026, 12, 3, 9, 30, 0, 123456, tzinfo=dt.UTC)
    ids = events.new_event_ids(3)
    assert len(set(ids)) == 3
    assert all(i.startswith("evt_") and len(i) == 28 for i in ids)
    stored = [(10, True), (11, False), (12, True)]
    built = events.row_bodies(ids, stored, 7, now, 456, "import", 31)
    for event_id, (row_id, inserted), body in zip(ids, stored, built, strict=True):
        data = events.rows_data(
            456, "import", inserted=int(inserted), updated=int(not inserted),
            row_ids=[row_id], job_id=31,
        )  # fmt: skip
        assert body == events.body(event_id, events.ROW_ADDED, 7, now, data)
