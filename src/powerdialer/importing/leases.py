"""Which process works on an import job, and until when: the job's lease.

The process that takes an upload holds its job from the start (``jobs.create_job``); every
``lease / 3`` its runner renews the leases of the jobs it works on (the heartbeat).  A job
whose lease lapsed (its process died, was partitioned away, or stopped and let go) is taken
over by whichever instance asks first (:class:`LeaseOp` ``take``: a compare-and-set on the
lapsed lease, so exactly one gets it), which resumes it where the durable counters say
(``runner``).  The old owner, if it still runs, finds out at its next write (every write of
a job is fenced by its owner: ``storage.imports.fence``) and stops without a word.

Time is an argument (``now``): the runner passes the wall clock, the tests a set clock.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from sqlalchemy import Connection

from powerdialer.importing.jobs import ImportJob, _job
from powerdialer.storage import imports as sql
from powerdialer.storage.payload import Payload, Writes

__all__ = ["WRITES", "LeaseOp", "apply_lease_ops", "new_owner"]


def new_owner() -> str:
    """A process's name as a job's owner: host and pid for the reader, and a random part so
    that a restarted process (a pid reused) is never taken for the dead one."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


@dataclass(frozen=True, slots=True)
class LeaseOp(Payload[ImportJob | int | None]):
    """``take`` a lapsed job (the job, or None), ``renew`` the owner's leases or ``release``
    them (how many)."""

    patient: ClassVar[bool] = True
    kind: Literal["take", "renew", "release"]
    owner: str
    now: dt.datetime
    lease: dt.timedelta = dt.timedelta(seconds=30)
    job: tuple[int, int] | None = None  # take: this job (project_id, id) only


def apply_lease_ops(conn: Connection, ops: Sequence[LeaseOp]) -> list[Any]:
    results: list[Any] = []
    for op in ops:
        if op.kind == "take":
            row = sql.take_over(conn, op.owner, op.now, op.now + op.lease, op.job)
            results.append(None if row is None else _job(row))
        elif op.kind == "renew":
            results.append(sql.renew_leases(conn, op.owner, op.now + op.lease))
        else:
            results.append(sql.release_leases(conn, op.owner, op.now))
    return results


WRITES: Writes = {LeaseOp: apply_lease_ops}
"""This module's writes, for the app's group-commit writer (``storage/payload.py``)."""
