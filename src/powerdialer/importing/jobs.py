"""Import jobs: a CRM export uploaded once, imported into a campaign in the background.

A job is ``queued`` when its upload is on disk, ``running`` while
:class:`~powerdialer.importing.runner.ImportRunner` works on it, then ``done`` or ``failed``.
Its counters grow as it runs, in the transactions that store its rows (``supplied`` ≥
``inserted`` + ``duplicates`` + ``updated`` + ``rejected`` at every moment, equal once it is
done, and ``inserted`` always the rows it stored); rejected rows are kept with their line
numbers for a CSV download.  This module is the jobs' lifecycle in the database; reading the file is
:mod:`~powerdialer.importing.worker`'s job, scheduling the runner's.

Any instance can finish a job: its upload is stored in the database
(:mod:`~powerdialer.importing.stored_uploads`), and the process working on it holds a lease
that its heartbeat renews (:mod:`~powerdialer.importing.leases`).  A job whose process died
is taken over by another instance (or the same one, restarted) once the lease lapses, and
resumes after the records already accounted for (``supplied``: every write of the job covers
the next records of the file, and is fenced by the owner and that count).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from sqlalchemy import Connection

from powerdialer.campaigns import campaign_not_found, refusal
from powerdialer.errors import NotFound
from powerdialer.importing import job_events
from powerdialer.models import utcnow
from powerdialer.storage import Store
from powerdialer.storage import campaigns as campaigns_sql
from powerdialer.storage import import_uploads as uploads_sql
from powerdialer.storage import imports as sql
from powerdialer.storage.payload import Payload, Writes

log = logging.getLogger(__name__)

__all__ = [
    "WRITES",
    "ImportJob",
    "JobError",
    "JobUpdate",
    "apply_job_updates",
    "check_campaign",
    "create_job",
    "get_job",
    "import_not_found",
    "list_jobs",
]


@dataclass(frozen=True, slots=True)
class JobError:
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class ImportJob:
    id: int
    project_id: int
    campaign_id: int
    status: str  # queued | running | done | failed
    source: str
    filename: str
    file_path: str | None
    format: str | None
    encoding: str | None
    delimiter: str | None
    mapping: dict[str, str | None] | None
    left_out: list[dict[str, str]]
    """Columns not imported as custom fields, with why (``LeftOut.describe()``)."""
    keep_valid: bool
    total: int | None
    supplied: int
    inserted: int
    duplicates: int
    updated: int
    rejected: int
    error: JobError | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    owner: str | None = None
    """The process working on the job (``leases.new_owner()``), while it holds its lease."""
    lease_until: dt.datetime | None = None
    upload_size: int | None = None
    """Bytes of the upload stored in the database; None until it is stored whole."""
    requested_mapping: str | None = None
    """The ``mapping`` form field as sent."""
    attempts: int = 0

    @property
    def progress(self) -> float:
        """Share of the file's records handled: 0 until they are counted, 1 once done."""
        if self.status == "done":
            return 1.0
        if not self.total:
            return 0.0
        return min(1.0, self.supplied / self.total)


def _job(row: Any) -> ImportJob:
    error = JobError(row.error_code, row.error_message or "") if row.error_code else None
    # The column holds the resolved mapping, and the columns it left out (no migration for a
    # list that belongs with it).
    mapping = json.loads(row.mapping) if row.mapping else None
    left_out = mapping.pop("left_out", []) if mapping else []
    return ImportJob(
        id=row.id,
        project_id=row.project_id,
        campaign_id=row.campaign_id,
        status=row.status,
        source=row.source,
        filename=row.filename,
        file_path=row.file_path,
        format=row.format,
        encoding=row.encoding,
        delimiter=row.delimiter,
        mapping=mapping,
        left_out=left_out,
        keep_valid=bool(row.keep_valid),
        total=row.total,
        supplied=row.supplied,
        inserted=row.inserted,
        duplicates=row.duplicates,
        updated=row.updated,
        rejected=row.rejected,
        error=error,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        owner=row.owner,
        lease_until=row.lease_until,
        upload_size=row.upload_size,
        requested_mapping=row.requested_mapping,
        attempts=row.attempts,
    )


def import_not_found(job_id: object) -> NotFound:
    return NotFound(
        f"import {job_id} is not an import job of this project: take the id from the answer "
        "to the upload or from the campaign's list of imports.",
        code="import_not_found",
        field="job_id",
    )


def _require_campaign(conn: Connection, project_id: int, campaign_id: int) -> None:
    """``campaign_not_found`` unless the campaign is the project's."""
    if campaigns_sql.get_campaign(conn, project_id, campaign_id) is None:
        raise campaign_not_found(campaign_id)


def _require_accepting(conn: Connection, project_id: int, campaign_id: int) -> None:
    """``campaigns.refusal``'s error unless the campaign is the project's and takes rows."""
    found = campaigns_sql.get_campaign(conn, project_id, campaign_id)
    refused = refusal(project_id, campaign_id, found)
    if refused is not None:
        raise refused


def check_campaign(store: Store, project_id: int, campaign_id: int) -> None:
    """Before taking an upload: the campaign is the project's and takes rows."""
    store.read(lambda conn: _require_accepting(conn, project_id, campaign_id))


def create_job(
    store: Store,
    project_id: int,
    campaign_id: int,
    *,
    filename: str,
    file_path: str,
    keep_valid: bool,
    source: str = "import",
    owner: str | None = None,
    lease_until: dt.datetime | None = None,
    requested_mapping: str | None = None,
    now: dt.datetime | None = None,
) -> ImportJob:
    """A new ``queued`` job, held by ``owner`` until ``lease_until`` (the process that took
    the upload; without an owner, any instance may take it at once)."""

    def run(conn: Connection) -> ImportJob:
        _require_accepting(conn, project_id, campaign_id)
        values = {
            "project_id": project_id,
            "campaign_id": campaign_id,
            "status": "queued",
            "source": source,
            "filename": filename[:255],
            "file_path": file_path,
            "keep_valid": keep_valid,
            "created_at": now or utcnow(),
            "owner": owner,
            "lease_until": lease_until,
            "requested_mapping": requested_mapping,
            "attempts": 1 if owner else 0,
        }
        return _job(sql.insert_job(conn, values))

    return store.write(run)


def get_job(store: Store, project_id: int, job_id: int) -> ImportJob:
    row = store.read(lambda conn: sql.get_job(conn, project_id, job_id))
    if row is None:
        raise import_not_found(job_id)
    return _job(row)


def list_jobs(store: Store, project_id: int, campaign_id: int, limit: int = 50) -> list[ImportJob]:
    def run(conn: Connection) -> list[ImportJob]:
        _require_campaign(conn, project_id, campaign_id)
        return [_job(r) for r in sql.list_jobs(conn, project_id, campaign_id, limit)]

    return store.read(run)


# --- progress, as the runner reports it ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class JobUpdate(Payload[bool]):
    """New values for a job's columns (its status, what was detected), for the group-commit
    writer: it goes through the one writer like every row, so on SQLite it never contends
    with it for the write lock.  The counters are not among them: they move with the rows
    (:class:`powerdialer.rows.write.ImportChunk`)."""

    patient: ClassVar[bool] = True  # the writer need not hurry its import rows for it
    project_id: int
    job_id: int
    values: dict[str, Any]
    owner: str | None = None
    """Set: only while this process holds the job (False otherwise, as for a gone job)."""

    @property
    def durable(self) -> bool:
        """Only a change of status, or the upload stored whole, is fsynced before it is
        answered: the job's end makes every earlier write of the job durable with it
        (``storage/writer.py``)."""
        return "status" in self.values or "upload_size" in self.values


def apply_job_updates(conn: Connection, items: Sequence[JobUpdate]) -> list[bool]:
    """The writer's apply function for :class:`JobUpdate`: per item, False when the job is
    gone (its campaign was deleted meanwhile, and the job with it) or no longer the owner's.
    A job that ends has its stored upload deleted with it, and writes its webhook events
    (``import.finished``, and ``row.added`` with its counts) with it."""
    results = []
    for i in items:
        done = sql.update_job(conn, i.project_id, i.job_id, i.values, i.owner)
        if done and i.values.get("status") in ("done", "failed"):
            uploads_sql.delete_upload(conn, i.project_id, i.job_id)
        if done and i.values.get("status") not in (None, *sql.UNFINISHED):
            job_events.finished(conn, i.project_id, i.job_id, utcnow())
        results.append(done)
    return results


WRITES: Writes = {JobUpdate: apply_job_updates}
"""This module's writes, for the app's group-commit writer (``storage/payload.py``)."""


def _fail(
    conn: Connection, project_id: int, job_id: int, code: str, message: str, owner: str | None
) -> bool:
    """Fail the job unless it has ended (or ``owner`` no longer holds it); a job that ends
    so writes its webhook events (``job_events.finished``) in the same transaction."""
    now = utcnow()
    if not sql.fail_unfinished(conn, project_id, job_id, code, message, now, owner):
        return False
    job_events.finished(conn, project_id, job_id, now)
    return True


def fail_job(
    store: Store, job: ImportJob, code: str, message: str, owner: str | None = None
) -> None:
    """Fail the job unless it has ended (or ``owner`` no longer holds it)."""
    store.write(lambda conn: _fail(conn, job.project_id, job.id, code, message, owner))


INTERRUPTED = (
    "the server that took the upload stopped before the file was stored in the database, so "
    "no server can read it; upload the file again."
)
