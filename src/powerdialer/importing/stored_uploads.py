"""An import job's upload in the database, where every instance can read it.

Why the database and not a shared directory: it is the one component every instance already
shares, with its backups and its failover; a shared directory (NFS) would be one more to run,
secure and back up, and its file locks are not to be relied on.  The cost, measured on this
machine, is in docs/deployment.md.

The file is stored in parts of ``PART_BYTES`` (1 MiB), one writer payload each, one at a
time: memory per upload stays at one part however big the file.  The job says it is whole
(``upload_size``) only after its last part; a job taken over before that is failed
(``interrupted``): its upload never reached the database.  A taker copies the parts back to
a local file, again one part at a time, for the reading children.  A job's parts are deleted
when it ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import ClassVar

import anyio.to_thread
from sqlalchemy import Connection

from powerdialer.importing.jobs import ImportJob, JobUpdate
from powerdialer.importing.uploads import Upload
from powerdialer.storage import Store
from powerdialer.storage import import_uploads as sql
from powerdialer.storage.payload import Payload, Writes
from powerdialer.storage.writer import GroupCommitter

__all__ = ["PART_BYTES", "WRITES", "UploadPart", "restore_upload", "store_upload"]

PART_BYTES = 1 << 20
"""Bytes per stored part: the memory an upload costs while it is stored or read back."""


@dataclass(frozen=True, slots=True)
class UploadPart(Payload[None]):
    """One part of a job's upload: a background write (the live API's rows go first)."""

    background: ClassVar[bool] = True
    project_id: int
    job_id: int
    seq: int
    data: bytes


def apply_upload_parts(conn: Connection, items: Sequence[UploadPart]) -> list[None]:
    for item in items:
        sql.put_upload_part(conn, item.project_id, item.job_id, item.seq, item.data)
    return [None for _ in items]


WRITES: Writes = {UploadPart: apply_upload_parts}
"""This module's writes, for the app's group-commit writer (``storage/payload.py``)."""


def _read_part(path: Path, offset: int) -> bytes:
    with path.open("rb") as file:
        file.seek(offset)
        return file.read(PART_BYTES)


async def store_upload(
    committer: GroupCommitter, job: ImportJob, path: Path, owner: str | None
) -> bool:
    """Store the file at ``path`` as ``job``'s upload, a part at a time; False when the job
    is gone or no longer ``owner``'s (nothing more is stored)."""
    seq = offset = 0
    while True:
        data = await anyio.to_thread.run_sync(_read_part, path, offset)
        if not data:
            break
        await committer.submit(UploadPart(job.project_id, job.id, seq, data))
        seq, offset = seq + 1, offset + len(data)
    whole = JobUpdate(job.project_id, job.id, {"upload_size": offset}, owner=owner)
    return await committer.submit(whole)


def restore_upload(store: Store, job: ImportJob, upload: Upload) -> bool:
    """Copy ``job``'s stored upload into ``upload`` (a new local file), a part at a time
    (blocking: call it from a thread); False when it is not there whole."""
    seq = 0
    while True:
        data = store.read(
            partial(sql.upload_part, project_id=job.project_id, job_id=job.id, seq=seq)
        )
        if data is None:
            break
        upload.write(data)
        seq += 1
    return job.upload_size is not None and upload.size == job.upload_size
