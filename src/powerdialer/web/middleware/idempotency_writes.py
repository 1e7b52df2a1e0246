"""The writer's half of ``Idempotency-Key`` (:mod:`.idempotency`): the payload that claims a
key, saves its answer or releases it, and the apply function the group-commit writer runs
for it.  They go through the one writer like every other write, so on SQLite they never
contend with it for the write lock.

A claim checks the key once more in its transaction (``projects.authenticate``), so a replay
never reaches a caller whose key was revoked meanwhile; a first request that died with its
process is taken over after ``IN_PROGRESS_LEASE``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Connection

from powerdialer import projects
from powerdialer.errors import AuthError, PowerDialerError
from powerdialer.models import utcnow
from powerdialer.storage import idempotency as sql
from powerdialer.storage.payload import Payload, Writes

IN_PROGRESS_LEASE = dt.timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class IdempotencyOp(Payload["sql.Record | None"]):
    """A group-commit payload: claim a key, save its answer, or release it."""

    kind: Literal["claim", "save", "release"]
    project_id: int
    key: str
    fingerprint: str
    presented_key: str = ""  # claim: the Auth-key, verified before the key is looked at
    ttl: dt.timedelta = dt.timedelta(hours=24)
    purge: bool = False  # claim: also delete the project's expired keys
    status_code: int = 0  # save
    headers: str = "[]"  # save
    body: bytes | None = None  # save
    now: dt.datetime | None = None  # claim: the time it expires keys by; None: when stored

    def saved(self, status_code: int, headers: str, body: bytes | None) -> IdempotencyOp:
        """Save the answer of this claim (``body`` None: too big to keep)."""
        return IdempotencyOp(
            "save",
            self.project_id,
            self.key,
            self.fingerprint,
            status_code=status_code,
            headers=headers,
            body=body,
        )

    def released(self) -> IdempotencyOp:
        """Give this claim's key up: its request may run again."""
        return IdempotencyOp("release", self.project_id, self.key, self.fingerprint)


def apply_idempotency(
    conn: Connection, ops: Sequence[IdempotencyOp]
) -> list[sql.Record | PowerDialerError | None]:
    """The writer's apply function: a claim answers ``None`` (this request owns the key), the
    key's ``Record``, or ``AuthError``; save and release answer ``None``."""
    stored_at = utcnow()
    results: list[sql.Record | PowerDialerError | None] = []
    for op in ops:
        if op.kind == "claim":
            now = op.now or stored_at
            try:
                projects.authenticate(conn, op.project_id, op.presented_key)
            except AuthError as exc:
                results.append(exc)
                continue
            if op.purge:
                sql.purge(conn, op.project_id, now)
            found = sql.claim(
                conn,
                op.project_id,
                op.key,
                op.fingerprint,
                now=now,
                expires_at=now + op.ttl,
                stale_before=now - IN_PROGRESS_LEASE,
            )
            results.append(found)
        elif op.kind == "save":
            sql.save(
                conn,
                op.project_id,
                op.key,
                op.fingerprint,
                status_code=op.status_code,
                headers=op.headers,
                body=op.body,
            )
            results.append(None)
        else:
            sql.release(conn, op.project_id, op.key, op.fingerprint)
            results.append(None)
    return results


WRITES: Writes = {IdempotencyOp: apply_idempotency}
"""This module's writes, for the app's group-commit writer (``storage/payload.py``)."""
