"""SQL for import jobs and their rejected rows.  Every query is scoped by project: another
project's job is indistinguishable from one that does not exist."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, insert, select, update

from powerdialer.storage.schema import import_jobs, import_rejects

UNFINISHED = ("queued", "running")

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


def update_job(conn: Connection, project_id: int, job_id: int, values: dict[str, Any]) -> bool:
    """Set columns of a job; False when it is gone (its campaign was deleted)."""
    result = conn.execute(
        update(import_jobs)
        .where(import_jobs.c.project_id == project_id, import_jobs.c.id == job_id)
        .values(**values)
    )
    return bool(result.rowcount)


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


def unfinished_jobs(conn: Connection) -> list[tuple[int, int, str | None]]:
    """``(project_id, id, file_path)`` of every queued or running job, of every project: only
    the startup sweep, which has no project in hand, calls this."""
    query = select(import_jobs.c.project_id, import_jobs.c.id, import_jobs.c.file_path).where(
        import_jobs.c.status.in_(UNFINISHED)
    )
    return [(r.project_id, r.id, r.file_path) for r in conn.execute(query)]


def fail_unfinished(
    conn: Connection, project_id: int, job_id: int, code: str, message: str, now: dt.datetime
) -> bool:
    """Mark a job failed unless it has finished meanwhile."""
    result = conn.execute(
        update(import_jobs)
        .where(
            import_jobs.c.project_id == project_id,
            import_jobs.c.id == job_id,
            import_jobs.c.status.in_(UNFINISHED),
        )
        .values(status="failed", error_code=code, error_message=message, finished_at=now)
    )
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
