"""SQL for an import job's upload stored in the database, in parts
(``importing/stored_uploads.py``).  Scoped by project like every job query."""

from __future__ import annotations

from sqlalchemy import Connection, LargeBinary, delete, insert, literal, select

from powerdialer.storage.schema import import_jobs, import_uploads

UNFINISHED = ("queued", "running")
"""A job's statuses before it ends (``storage.imports``, which imports this module)."""


def put_upload_part(conn: Connection, project_id: int, job_id: int, seq: int, data: bytes) -> bool:
    """Store a part of an unfinished job's upload; False (nothing stored) once the job has
    ended: the upload is stored while the job runs, and a job that ends deletes its parts,
    so a part that comes after that would be left behind."""
    j = import_jobs.c
    running = select(
        literal(project_id), literal(job_id), literal(seq), literal(data, LargeBinary)
    ).where(j.project_id == project_id, j.id == job_id, j.status.in_(UNFINISHED))
    columns = ["project_id", "job_id", "seq", "data"]
    result = conn.execute(insert(import_uploads).from_select(columns, running))
    return bool(result.rowcount)


def upload_part(conn: Connection, project_id: int, job_id: int, seq: int) -> bytes | None:
    """The ``seq``-th part of a job's upload (None past the last): one part in memory."""
    u = import_uploads.c
    query = select(u.data).where(u.project_id == project_id, u.job_id == job_id, u.seq == seq)
    found = conn.execute(query).first()
    return None if found is None else bytes(found.data)


def delete_upload(conn: Connection, project_id: int, job_id: int) -> None:
    u = import_uploads.c
    conn.execute(delete(import_uploads).where(u.project_id == project_id, u.job_id == job_id))
