"""An import job's rejected rows as a CSV download: the line, the raw phone and name, and
why the row was rejected."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

from powerdialer.importing.jobs import get_job
from powerdialer.storage import Store
from powerdialer.storage import imports as sql

__all__ = ["REJECT_COLUMNS", "rejected_csv"]

REJECT_COLUMNS = ("line", "phone_number", "fio", "code", "reason", "message")


_PHONE_LIKE = re.compile(r"[+\-]?[\d\s().\-]*")


def _safe_cell(text: str | None) -> str:
    # A cell starting with = + - @ would run as a formula when the CSV is opened in Excel;
    # a number such as +380 93 000 00 00 cannot, and is left as the user wrote it.
    text = text or ""
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _PHONE_LIKE.fullmatch(text):
        return "'" + text
    return text


def rejected_csv(store: Store, project_id: int, job_id: int) -> Iterator[str]:
    """The job's rejected rows as CSV text in chunks, header first.  Raises
    ``import_not_found`` before the first chunk, so an edge can still answer 404."""
    get_job(store, project_id, job_id)
    return _csv_chunks(store, project_id, job_id)


def _csv_chunks(store: Store, project_id: int, job_id: int) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(REJECT_COLUMNS)
    with store.engine.connect() as conn:
        for count, (line, phone, fio, code, reason, message) in enumerate(
            sql.iter_rejects(conn, project_id, job_id), start=1
        ):
            writer.writerow([line, _safe_cell(phone), _safe_cell(fio), code, reason or "", message])
            if count % 1000 == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
    yield buffer.getvalue()
