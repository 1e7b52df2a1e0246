"""SQL for import jobs and their rejected rows.  Every query is scoped by project: another
project's job is indistinguishable from one that does not exist."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, insert, or_, select, update

from powerdialer.storage.import_uploads import UNFINISHED as UNFINISHED  # defined beside it
from powerdialer.storage.import_uploads import delete_upload
from powerdialer.storage.schema import import_jobs, import_rejects

# (line, phone_raw, fio, code, reason, message): one rejected row, as import_rejects holds it.
RejectValues = tuple[int, str | None, str | None, str, str | None, str]


def insert_job(conn: Connection, values: dict[str, Any]) -> Any:
    """Create a job from column values; the stored row back."""
    return conn.execute(insert(import_jobs).values(**values).returning(*import_jobs.c)).one()


def get_job(conn: Connection, project_id: int, job_id: int) -> Any | None:
    query = select(import_jobs).where(
        import_jobs.c.project_id == project_id, import_jobs.c.id == job_id
    )
    return conn.execute(query).first()


def list_jobs(conn: Connection, project_id: int, campaign_id: int, limit: int) -> list[Any]:
    """A campaign's jobs, newest first."""
    query = (
        select(import_jobs)
        .where(import_jobs.c.project_id == project_id, import_jobs.c.campaign_id == campaign_id)
        .order_by(import_jobs.c.created_at.desc(), import_jobs.c.id.desc())
        .limit(limit)
    )
    return list(conn.execute(query))


def update_job(
    conn: Connection,
    project_id: int,
    job_id: int,
    values: dict[str, Any],
    owner: str | None = None,
) -> bool:
    """Set columns of a job; False when it is gone (its campaign was deleted), or, with an
    ``owner``, when that process no longer holds it (another instance took it over)."""
    query = update(import_jobs).where(
        import_jobs.c.project_id == project_id, import_jobs.c.id == job_id
    )
    if owner is not None:
        query = query.where(_holds(owner))
    result = conn.execute(query.values(**values))
    return bool(result.rowcount)


# --- leases: which process works on a job, and until when -----------------------------------


def _holds(owner: str) -> Any:
    """``owner`` may write to the job: it holds it, or nobody does (a job let go of, or made
    without an owner).  What keeps a job's records stored once is the ``supplied`` fence
    (:func:`fence`); the owner is what stops a process that lost the job at once."""
    return or_(import_jobs.c.owner == owner, import_jobs.c.owner.is_(None))


def _lapsed(now: dt.datetime) -> Any:
    return or_(import_jobs.c.lease_until.is_(None), import_jobs.c.lease_until < now)


def take_over(
    conn: Connection,
    owner: str,
    now: dt.datetime,
    until: dt.datetime,
    job: tuple[int, int] | None = None,
) -> Any | None:
    """Claim for ``owner`` (until ``until``) the oldest unfinished job (or ``job``, as
    ``(project_id, id)``) whose lease lapsed by ``now`` (its process died, or stopped and let
    go of it, or it never had one): the job's row, or None.  The claim is a compare-and-set
    on the lapsed lease, so of two instances only one gets it."""
    candidate = (
        select(import_jobs.c.project_id, import_jobs.c.id)
        .where(import_jobs.c.status.in_(UNFINISHED), _lapsed(now))
        .order_by(import_jobs.c.id)
        .limit(1)
    )
    if job is not None:
        candidate = candidate.where(import_jobs.c.project_id == job[0], import_jobs.c.id == job[1])
    found = conn.execute(candidate).first()
    if found is None:
        return None
    c = import_jobs.c
    taken = conn.execute(
        update(import_jobs)
        .where(
            c.project_id == found.project_id,
            c.id == found.id,
            c.status.in_(UNFINISHED),
            _lapsed(now),
        )
        .values(owner=owner, lease_until=until, attempts=c.attempts + 1)
    )
    if not taken.rowcount:
        return None
    return get_job(conn, found.project_id, found.id)


def renew_leases(conn: Connection, owner: str, until: dt.datetime) -> int:
    """The heartbeat: ``owner``'s unfinished jobs are held until ``until``."""
    c = import_jobs.c
    result = conn.execute(
        update(import_jobs)
        .where(c.owner == owner, c.status.in_(UNFINISHED))
        .values(lease_until=until)
    )
    return int(result.rowcount or 0)


def release_leases(conn: Connection, owner: str, now: dt.datetime) -> int:
    """``owner`` stops: its unfinished jobs are free for any instance from ``now``."""
    c = import_jobs.c
    result = conn.execute(
        update(import_jobs)
        .where(c.owner == owner, c.status.in_(UNFINISHED))
        .values(owner=None, lease_until=now)
    )
    return int(result.rowcount or 0)


def fence(
    conn: Connection,
    project_id: int,
    job_id: int,
    owner: str,
    offset: int,
    read: int,
    rejected: int,
) -> bool:
    """Before a job's rows are stored: count ``read`` records (``rejected`` of them rejected)
    if ``owner`` may still write to the job (:func:`_holds`) and it has accounted for exactly
    ``offset`` records so far; False (store nothing) otherwise.  The row stays locked to the
    transaction's end, so a takeover waits for it: a job's records are stored once, in file
    order."""
    c = import_jobs.c
    result = conn.execute(
        update(import_jobs)
        .where(
            c.project_id == project_id,
            c.id == job_id,
            _holds(owner),
            c.supplied == offset,
            c.status.in_(UNFINISHED),
        )
        .values(supplied=c.supplied + read, rejected=c.rejected + rejected)
    )
    return bool(result.rowcount)


def count_stored(
    conn: Connection, project_id: int, job_id: int, counts: Any, rejects: Sequence[RejectValues]
) -> None:
    """After :func:`fence`, in its transaction: what became of the rows, and the rejects."""
    c = import_jobs.c
    conn.execute(
        update(import_jobs)
        .where(c.project_id == project_id, c.id == job_id)
        .values(
            inserted=c.inserted + counts.inserted,
            duplicates=c.duplicates + counts.duplicates,
            updated=c.updated + counts.updated,
        )
    )
    insert_rejects(conn, project_id, job_id, rejects)


def count_progress(
    conn: Connection,
    project_id: int,
    job_id: int,
    read: int,
    counts: Any,
    rejects: Sequence[RejectValues],
) -> None:
    """Add a stored chunk's counts (``inserted``, ``duplicates``, ``updated`` attributes) and
    its rejected records to the job's counters, in the caller's transaction (the one that
    stored the rows): the counters are always those of the rows stored."""
    c = import_jobs.c
    conn.execute(
        update(import_jobs)
        .where(c.project_id == project_id, c.id == job_id)
        .values(
            supplied=c.supplied + read,
            inserted=c.inserted + counts.inserted,
            duplicates=c.duplicates + counts.duplicates,
            updated=c.updated + counts.updated,
            rejected=c.rejected + len(rejects),
        )
    )
    insert_rejects(conn, project_id, job_id, rejects)


def fail_unfinished(
    conn: Connection,
    project_id: int,
    job_id: int,
    code: str,
    message: str,
    now: dt.datetime,
    owner: str | None = None,
) -> bool:
    """Mark a job failed unless it has finished meanwhile (or, with an ``owner``, unless that
    process no longer holds it); its upload is deleted with it."""
    query = update(import_jobs).where(
        import_jobs.c.project_id == project_id,
        import_jobs.c.id == job_id,
        import_jobs.c.status.in_(UNFINISHED),
    )
    if owner is not None:
        query = query.where(_holds(owner))
    result = conn.execute(
        query.values(status="failed", error_code=code, error_message=message, finished_at=now)
    )
    if result.rowcount:
        delete_upload(conn, project_id, job_id)
    return bool(result.rowcount)


def insert_rejects(
    conn: Connection, project_id: int, job_id: int, rejects: Sequence[RejectValues]
) -> None:
    if not rejects:
        return
    conn.execute(
        insert(import_rejects),
        [
            {
                "project_id": project_id,
                "job_id": job_id,
                "line": line,
                "phone_raw": phone,
                "fio": fio,
                "code": code,
                "reason": reason,
                "message": message,
            }
            for line, phone, fio, code, reason, message in rejects
        ],
    )


def iter_rejects(
    conn: Connection, project_id: int, job_id: int, chunk: int = 2000
) -> Iterator[RejectValues]:
    """A job's rejected rows in file order, in keyset pages so memory stays flat."""
    columns = (
        import_rejects.c.line,
        import_rejects.c.phone_raw,
        import_rejects.c.fio,
        import_rejects.c.code,
        import_rejects.c.reason,
        import_rejects.c.message,
    )
    after: tuple[int, int] = (0, 0)
    while True:
        query = (
            select(import_rejects.c.id, *columns)
            .where(
                import_rejects.c.project_id == project_id,
                import_rejects.c.job_id == job_id,
                (import_rejects.c.line > after[0])
                | ((import_rejects.c.line == after[0]) & (import_rejects.c.id > after[1])),
            )
            .order_by(import_rejects.c.line, import_rejects.c.id)
            .limit(chunk)
        )
        page = list(conn.execute(query))
        for row in page:
            yield (row.line, row.phone_raw, row.fio, row.code, row.reason, row.message)
        if len(page) < chunk:
            return
        after = (page[-1].line, page[-1].id)
