"""Import jobs any instance can finish (issue 15, item 2), with a set clock: a job whose
process died is taken over once its lease lapses, and not before; the taker resumes after
the records the dead process accounted for, from the upload stored in the database, so
every row is stored once and the counters add up; the dead process, if it comes back,
stores nothing more.  On SQLite this is the restarted single instance; on PostgreSQL any
instance (tests/e2e/test_fleet_imports.py runs two real processes)."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from powerdialer.errors import JobLost
from powerdialer.importing import jobs, stored_uploads
from powerdialer.importing.jobs import ImportJob
from powerdialer.importing.leases import LeaseOp
from powerdialer.importing.runner import ImportRunner
from powerdialer.rows.models import ImportRow
from powerdialer.rows.write import ImportChunk
from powerdialer.storage import Store
from powerdialer.storage.schema import import_uploads
from powerdialer.web.app import PowerDialerApp
from tests.clock import Clock
from tests.conftest import Persona
from tests.test_import_jobs import assert_accounted, job_and_stored, numbers

pytestmark = pytest.mark.anyio

LEASE = dt.timedelta(seconds=30)
DEAD = "dead-host:4242:0123456789ab"  # the owner a killed process left on its job
TOTAL = 3000
BAD = {7, 1500, 2999}  # records (0-based) that are rejected


def phone(i: int) -> str:
    return f"38093{i:07d}"


def upload_file(tmp_path: Path) -> Path:
    lines = ["bad" if i in BAD else phone(i) for i in range(TOTAL)]
    path = tmp_path / "leads.csv"
    path.write_text("Телефон\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def row(i: int) -> ImportRow:
    return (None, phone(i), f"+{phone(i)}", None, None)


async def dead_process_job(app: PowerDialerApp, owner: Persona, tmp_path: Path, clock: Clock,
                           stored: int) -> ImportJob:  # fmt: skip
    """A job as a process killed mid-import leaves it: held by DEAD until now + LEASE, its
    upload in the database, its first ``stored`` records written (in record order, fenced
    as the runner writes them)."""
    store, writer = app.services.store, app.services.writer
    job = jobs.create_job(
        store,
        owner.project_id,
        owner.campaign_id,
        filename="leads.csv",
        file_path="/gone/with/its/host.csv",
        keep_valid=False,
        owner=DEAD,
        lease_until=clock.now() + LEASE,
    )
    assert await stored_uploads.store_upload(writer, job, upload_file(tmp_path), DEAD)
    await writer.submit(jobs.JobUpdate(owner.project_id, job.id, {"status": "running"}, DEAD))
    offset = 0
    for start in range(0, stored, 500):
        records = range(start, min(start + 500, stored))
        rows = [row(i) for i in records if i not in BAD]
        rejects = [(i + 2, "bad", None, "invalid_phone_number", "too_short", "bad")
                   for i in records if i in BAD]  # fmt: skip
        await writer.submit(
            ImportChunk(
                owner.project_id,
                owner.campaign_id,
                rows,
                job_id=job.id,
                read=len(records),
                rejects=rejects,
                lines=[i + 2 for i in records if i not in BAD],
                owner=DEAD,
                offset=offset,
            )
        )
        offset += len(records)
    return jobs.get_job(store, owner.project_id, job.id)


async def wait_done(store: Store, persona: Persona, job_id: int) -> ImportJob:
    for _ in range(1500):
        job = jobs.get_job(store, persona.project_id, job_id)
        if job.status in ("done", "failed"):
            return job
        await asyncio.sleep(0.02)
    raise AssertionError(f"import {job_id} did not end: {job}")


async def test_a_dead_processs_job_is_taken_over_after_its_lease_and_finished_once(
    app: PowerDialerApp, owner: Persona, store: Store, tmp_path: Path, clock: Clock
) -> None:
    imports = app.services.imports
    assert imports is not None
    job = await dead_process_job(app, owner, tmp_path, clock, stored=1000)
    assert (job.supplied, job.inserted, job.rejected) == (1000, 999, 1)
    clock.advance(seconds=LEASE.total_seconds() - 1)
    assert await imports.beat(clock.now()) is None  # its lease still holds
    clock.advance(seconds=2)
    taken = await imports.beat(clock.now())
    assert taken is not None
    assert (taken.id, taken.owner, taken.attempts) == (job.id, imports.owner, 2)
    done = await wait_done(store, owner, job.id)
    assert (done.status, done.error) == ("done", None)
    assert (done.supplied, done.inserted, done.duplicates, done.rejected) == (
        TOTAL,
        TOTAL - len(BAD),
        0,
        len(BAD),
    )
    assert done.total == TOTAL
    assert_accounted(job_and_stored(store, owner, job.id))
    stored = numbers(store, owner)
    assert sorted(stored) == sorted(f"+{phone(i)}" for i in range(TOTAL) if i not in BAD)
    # Its upload is gone with its end.
    parts = select(func.count()).select_from(import_uploads)
    assert store.read(lambda conn: conn.execute(parts).scalar_one()) == 0


async def test_the_dead_process_coming_back_stores_nothing_more(
    app: PowerDialerApp, owner: Persona, store: Store, tmp_path: Path, clock: Clock
) -> None:
    imports = app.services.imports
    assert imports is not None
    job = await dead_process_job(app, owner, tmp_path, clock, stored=500)
    clock.advance(seconds=LEASE.total_seconds() + 1)
    assert await imports.beat(clock.now()) is not None
    await wait_done(store, owner, job.id)
    late = ImportChunk(
        owner.project_id,
        owner.campaign_id,
        [row(10_000)],
        job_id=job.id,
        read=1,
        lines=[600],
        owner=DEAD,
        offset=500,
    )
    with pytest.raises(JobLost):
        await app.services.writer.submit(late)
    assert f"+{phone(10_000)}" not in numbers(store, owner)
    assert jobs.get_job(store, owner.project_id, job.id).supplied == TOTAL


async def test_a_write_out_of_order_is_refused_even_by_the_owner(
    app: PowerDialerApp, owner: Persona, store: Store, tmp_path: Path, clock: Clock
) -> None:
    job = await dead_process_job(app, owner, tmp_path, clock, stored=500)
    again = ImportChunk(
        owner.project_id,
        owner.campaign_id,
        [row(0)],
        job_id=job.id,
        read=1,
        lines=[2],
        owner=DEAD,
        offset=0,  # records 0.. were accounted for already: a replay of them
    )
    with pytest.raises(JobLost):
        await app.services.writer.submit(again)
    assert jobs.get_job(store, owner.project_id, job.id).supplied == 500


async def test_of_two_instances_asking_at_once_one_takes_the_job(
    app: PowerDialerApp, owner: Persona, tmp_path: Path, clock: Clock
) -> None:
    await dead_process_job(app, owner, tmp_path, clock, stored=0)
    clock.advance(seconds=LEASE.total_seconds() + 1)
    writer = app.services.writer
    asks = [LeaseOp("take", f"instance-{n}", clock.now(), LEASE) for n in range(4)]
    taken = await asyncio.gather(*(writer.submit(op) for op in asks))
    assert len([t for t in taken if t is not None]) == 1
    # The one that took it holds it; the heartbeat keeps it past the first lease.
    winner = next(t for t in taken if isinstance(t, ImportJob))
    clock.advance(seconds=20)
    assert await writer.submit(LeaseOp("renew", str(winner.owner), clock.now(), LEASE)) == 1
    clock.advance(seconds=20)
    assert await writer.submit(LeaseOp("take", "late", clock.now(), LEASE)) is None


async def test_a_job_whose_upload_never_reached_the_database_fails_when_taken_over(
    app: PowerDialerApp, owner: Persona, store: Store, clock: Clock
) -> None:
    imports = app.services.imports
    assert imports is not None
    job = jobs.create_job(
        store,
        owner.project_id,
        owner.campaign_id,
        filename="leads.csv",
        file_path="/gone.csv",
        keep_valid=False,
        owner=DEAD,
        lease_until=clock.now() + LEASE,
    )
    clock.advance(seconds=LEASE.total_seconds() + 1)
    assert await imports.beat(clock.now()) is not None
    failed = await wait_done(store, owner, job.id)
    assert (failed.status, failed.error and failed.error.code) == ("failed", "interrupted")


async def test_a_part_that_comes_after_its_job_ended_is_not_stored(
    app: PowerDialerApp, owner: Persona, store: Store, tmp_path: Path, clock: Clock
) -> None:
    """The upload is stored while its job runs (beside the file's checks): a part still on
    its way when the job ends (a file refused early) is dropped, not left behind."""
    writer = app.services.writer
    job = jobs.create_job(
        store,
        owner.project_id,
        owner.campaign_id,
        filename="leads.csv",
        file_path="/here.csv",
        keep_valid=False,
        owner=DEAD,
        lease_until=clock.now() + LEASE,
    )
    await writer.submit(stored_uploads.UploadPart(owner.project_id, job.id, 0, b"first"))
    ended = {"status": "failed", "error_code": "no_phone_column"}
    assert await writer.submit(jobs.JobUpdate(owner.project_id, job.id, ended, DEAD))
    await writer.submit(stored_uploads.UploadPart(owner.project_id, job.id, 1, b"late"))
    parts = select(func.count()).select_from(import_uploads)
    assert store.read(lambda conn: conn.execute(parts).scalar_one()) == 0


async def test_another_projects_job_is_not_touched_by_a_job_of_this_one(
    app: PowerDialerApp, owner: Persona, stranger: Persona, store: Store, tmp_path: Path,
    clock: Clock,
) -> None:  # fmt: skip
    mine = await dead_process_job(app, owner, tmp_path, clock, stored=500)
    theirs = await dead_process_job(app, stranger, tmp_path, clock, stored=500)
    # A write of my job naming the stranger's job id under my project stores nothing.
    forged = ImportChunk(
        owner.project_id,
        owner.campaign_id,
        [row(20_000)],
        job_id=theirs.id,
        read=1,
        lines=[2],
        owner=DEAD,
        offset=500,
    )
    assert theirs.id != mine.id
    with pytest.raises(JobLost):
        await app.services.writer.submit(forged)
    assert jobs.get_job(store, stranger.project_id, theirs.id).supplied == 500


async def test_a_new_runner_is_a_new_owner(app: PowerDialerApp) -> None:
    imports = app.services.imports
    assert imports is not None
    other = ImportRunner(app.services.store, app.services.writer, app.settings)
    assert other.owner != imports.owner
    assert other.lease == dt.timedelta(seconds=app.settings.import_lease_seconds)
