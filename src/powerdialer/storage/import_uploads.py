"""SQL for an import job's upload stored in the database, in parts
(``importing/stored_uploads.py``).  Scoped by project like every job query."""

from __future__ import annotations

from sqlalchemy import Connection, delete, insert, select

from powerdialer.storage.schema import import_uploads


def put_upload_part(conn: Connection, project_id: int, job_id: int, seq: int, data: bytes) -> None:
    conn.execute(
        insert(import_uploads).values(project_id=project_id, job_id=job_id, seq=seq, data=data)
    )


def upload_part(conn: Connection, project_id: int, job_id: int, seq: int) -> bytes | None:
    """The ``seq``-th part of a job's upload (None past the last): one part in memory."""
    u = import_uploads.c
    query = select(u.data).where(u.project_id == project_id, u.job_id == job_id, u.seq == seq)
    found = conn.execute(query).first()
    return None if found is None else bytes(found.data)


def delete_upload(conn: Connection, project_id: int, job_id: int) -> None:
    u = import_uploads.c
    conn.execute(delete(import_uploads).where(u.project_id == project_id, u.job_id == job_id))
