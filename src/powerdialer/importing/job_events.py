"""The webhook events of an import job that has just ended (``import.finished``, and
``row.added`` with its counts for webhooks without the per-row flag), written in the
transaction that ends it.  A per-row webhook's ``row.added`` events were written with the
rows, chunk by chunk (``rows.write.apply_imports``)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection

from powerdialer.storage import imports as sql
from powerdialer.webhooks import events, outbox


def finished(conn: Connection, project_id: int, job_id: int, now: dt.datetime) -> None:
    """The webhook events of a job that has just ended, in the transaction that ends it."""
    if not (
        outbox.wants(conn, project_id, events.IMPORT_FINISHED)
        or outbox.wants(conn, project_id, events.ROW_ADDED)
    ):
        return
    job = sql.get_job(conn, project_id, job_id)
    if job is None:
        return
    counts = {
        "inserted": job.inserted,
        "updated": job.updated,
        "duplicates": job.duplicates,
        "rejected": job.rejected,
    }
    found = [
        outbox.Event(
            project_id,
            events.IMPORT_FINISHED,
            {
                "job_id": job.id,
                "campaign_id": job.campaign_id,
                "status": job.status,
                "error_code": job.error_code,
                "filename": job.filename,
                "supplied": job.supplied,
                **counts,
            },
        )
    ]
    if job.inserted or job.updated:
        data = events.rows_data(job.campaign_id, job.source, job_id=job.id, **counts)
        # per_row=False: a per-row webhook got one row.added per row as the chunks were stored.
        found.append(outbox.Event(project_id, events.ROW_ADDED, data, per_row=False))
    outbox.emit(conn, found, now)
