"""The writer's half of ``Idempotency-Key`` (:mod:`.idempotency`): the payload that claims a
key, saves its answer or releases it, and the apply function the group-commit writer runs
for it.  They go through the one writer like every other write, so on SQLite they never
contend with it for the write lock.

A claim checks the key once more in its transaction (``projects.authenticate``), so a replay
never reaches a caller whose key was revoked meanwhile; a first request that died with its
process is taken over once its lease, ``IN_PROGRESS_LEASE``, has passed: the middleware
renews it every ``RENEW_EVERY`` while the request runs (a ``renew`` op), so a live request
keeps its key however long it takes, and a dead one lets go of it within seconds.
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

IN_PROGRESS_LEASE = dt.timedelta(seconds=10)
"""How long a claim holds its key without a renewal: how soon a dead process's claim is
taken over."""
RENEW_EVERY = 3.0
"""Seconds between renewals of a running request's claim (a third of the lease, so two may
be late before it lapses); a request done sooner renews nothing."""
NOT_FINAL = frozenset({401, 403, 408, 409, 423, 425, 429})
"""Answers not kept for a replay: a retry of them should act again."""


def is_final(status: int) -> bool:
    """Whether an answer is kept and replayed: 2xx and 4xx but ``NOT_FINAL``."""
    return 200 <= status < 500 and status not in NOT_FINAL


@dataclass(frozen=True, slots=True)
class IdempotencyOp(Payload["sql.Record | None"]):
    """A group-commit payload: claim a key, save its answer, or release it."""

    kind: Literal["claim", "save", "release", "renew"]
    project_id: int
    key: str
    fingerprint: str
    presented_key: str = ""  # claim: the Auth-key, verified before the key is looked at
    ttl: dt.timedelta = dt.timedelta(hours=24)
    purge: bool = False  # claim: also delete the project's expired keys
    status_code: int = 0  # save
    headers: str = "[]"  # save
    body: bytes | None = None  # save
    now: dt.datetime | None = None  # claim, renew: the time it expires keys by; None: when stored

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

    def renewed(self, now: dt.datetime | None = None) -> IdempotencyOp:
        """Extend this claim's lease: its request still runs."""
        return IdempotencyOp("renew", self.project_id, self.key, self.fingerprint, now=now)

    def released(self) -> IdempotencyOp:
        """Give this claim's key up: its request may run again."""
        return IdempotencyOp("release", self.project_id, self.key, self.fingerprint)


def claim(
    conn: Connection, op: IdempotencyOp, stored_at: dt.datetime
) -> sql.Record | AuthError | None:
    """A claim op in the caller's transaction: ``AuthError`` (the key does not verify), the
    key's ``Record`` (someone has it), or ``None`` (this request owns it now)."""
    now = op.now or stored_at
    try:
        projects.authenticate(conn, op.project_id, op.presented_key)
    except AuthError as exc:
        return exc
    if op.purge:
        sql.purge(conn, op.project_id, now)
    return sql.claim(
        conn,
        op.project_id,
        op.key,
        op.fingerprint,
        now=now,
        expires_at=now + op.ttl,
        claimed_until=now + IN_PROGRESS_LEASE,
        stale_before=now - IN_PROGRESS_LEASE,
    )


def apply_idempotency(
    conn: Connection, ops: Sequence[IdempotencyOp]
) -> list[sql.Record | PowerDialerError | None]:
    """The writer's apply function: a claim answers ``None`` (this request owns the key), the
    key's ``Record``, or ``AuthError``; save and release answer ``None``."""
    stored_at = utcnow()
    results: list[sql.Record | PowerDialerError | None] = []
    for op in ops:
        if op.kind == "claim":
            results.append(claim(conn, op, stored_at))
        elif op.kind == "renew":
            until = (op.now or stored_at) + IN_PROGRESS_LEASE
            sql.renew(conn, op.project_id, op.key, op.fingerprint, until)
            results.append(None)
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
