"""SQL for ``Idempotency-Key``: claim a key, keep the first answer, replay it, forget it.

A key is claimed by inserting its row with ``status_code`` NULL (``ON CONFLICT DO NOTHING`` on
the unique ``(project_id, key)``: of two processes claiming at once exactly one wins, no
check-then-insert); the answer is written into the same row when the request is done.
A claim holds the key until ``claimed_until`` (its lease, renewed while its request runs:
:func:`renew`); a claim whose lease has passed was left by a process that died, and the next
request with the key takes it over.  On the compatible and bulk endpoints the claim, the row
and the answer are one transaction (``web/middleware/idempotency_rows.py``), so no claim of
theirs is ever seen unfinished.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from powerdialer.storage.dbapi import chunk_sizes, cursor, placeholders, stamp
from powerdialer.storage.schema import idempotency_keys as keys

PURGE_BATCH = 1000  # expired keys deleted per purge: bounded work on a writer's turn


@dataclass(frozen=True, slots=True)
class Record:
    fingerprint: str
    status_code: int | None  # None while the first request runs
    response_headers: str | None  # JSON list of [name, value]
    response_body: bytes | None  # None: completed but too large to keep
    created_at: dt.datetime
    expires_at: dt.datetime


def _insert(conn: Connection) -> Any:
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(keys)


def claim(
    conn: Connection,
    project_id: int,
    key: str,
    fingerprint: str,
    *,
    now: dt.datetime,
    expires_at: dt.datetime,
    claimed_until: dt.datetime,
    stale_before: dt.datetime,
) -> Record | None:
    """Claim ``key`` for a request until ``claimed_until``: ``None`` when this request now
    owns it (it is new, or its row had expired, or the lease of its unfinished first request
    had passed by ``now``), else the row as it stands.  A claim made before the leases
    (``claimed_until`` NULL) counts as abandoned when it was made before ``stale_before``."""
    inserted = conn.execute(
        _insert(conn)
        .values(
            project_id=project_id,
            key=key,
            fingerprint=fingerprint,
            created_at=now,
            expires_at=expires_at,
            claimed_until=claimed_until,
        )
        .on_conflict_do_nothing(index_elements=["project_id", "key"])
        .returning(keys.c.id)
    ).first()
    if inserted is not None:
        return None
    taken = conn.execute(
        update(keys)
        .where(
            keys.c.project_id == project_id,
            keys.c.key == key,
            or_(
                keys.c.expires_at <= now,
                and_(keys.c.status_code.is_(None), keys.c.claimed_until < now),
                and_(
                    keys.c.status_code.is_(None),
                    keys.c.claimed_until.is_(None),
                    keys.c.created_at < stale_before,
                ),
            ),
        )
        .values(
            fingerprint=fingerprint,
            status_code=None,
            response_headers=None,
            response_body=None,
            created_at=now,
            expires_at=expires_at,
            claimed_until=claimed_until,
        )
    )
    if taken.rowcount:
        return None
    row = conn.execute(
        select(
            keys.c.fingerprint,
            keys.c.status_code,
            keys.c.response_headers,
            keys.c.response_body,
            keys.c.created_at,
            keys.c.expires_at,
        ).where(keys.c.project_id == project_id, keys.c.key == key)
    ).one()
    return Record(*row)


def _running(project_id: int, key: str, fingerprint: str) -> Any:
    return and_(
        keys.c.project_id == project_id,
        keys.c.key == key,
        keys.c.fingerprint == fingerprint,
        keys.c.status_code.is_(None),
    )


def save(
    conn: Connection,
    project_id: int,
    key: str,
    fingerprint: str,
    *,
    status_code: int,
    headers: str,
    body: bytes | None,
) -> None:
    """Keep the first request's answer (``body`` None: it was too large to keep)."""
    conn.execute(
        update(keys)
        .where(_running(project_id, key, fingerprint))
        .values(status_code=status_code, response_headers=headers, response_body=body)
    )


def renew(
    conn: Connection, project_id: int, key: str, fingerprint: str, claimed_until: dt.datetime
) -> bool:
    """Extend the lease of a claim whose request still runs; False when it is no longer this
    request's (taken over, or answered)."""
    result = conn.execute(
        update(keys)
        .where(_running(project_id, key, fingerprint))
        .values(claimed_until=claimed_until)
    )
    return bool(result.rowcount)


def release(
    conn: Connection, project_id: int, key: str, fingerprint: str, *, settled: bool = False
) -> None:
    """Forget a claim whose request failed in a way a retry should act on (401, 429, 5xx);
    ``settled``: one that :func:`insert_claims` wrote with an answer, in this transaction."""
    if settled:
        mine = and_(keys.c.project_id == project_id, keys.c.key == key)
        conn.execute(delete(keys).where(mine, keys.c.fingerprint == fingerprint))
        return
    conn.execute(delete(keys).where(_running(project_id, key, fingerprint)))


def purge(conn: Connection, project_id: int, now: dt.datetime) -> int:
    """Delete up to ``PURGE_BATCH`` of the project's expired keys (index project_id,
    expires_at); the number deleted."""
    doomed = (
        select(keys.c.id)
        .where(keys.c.project_id == project_id, keys.c.expires_at <= now)
        .limit(PURGE_BATCH)
    )
    result = conn.execute(delete(keys).where(keys.c.id.in_(doomed)))
    return int(result.rowcount or 0)


# --- a batch at once (the compatible and bulk endpoints' keyed writes) -----------------------

ClaimValues = tuple[int, str, str, dt.datetime, dt.datetime, dt.datetime]
"""``(project_id, key, fingerprint, now, expires_at, claimed_until)`` of one claim."""


_CLAIM_COLUMNS = (
    "project_id, key, fingerprint, created_at, expires_at, claimed_until, "
    "status_code, response_headers, response_body"
)


@functools.cache
def _insert_claims_sql(dialect: str, count: int) -> str:
    one = f"({placeholders(dialect, 9)})"
    return (
        f"INSERT INTO idempotency_keys ({_CLAIM_COLUMNS}) "  # noqa: S608 (placeholders only)
        f"VALUES {', '.join([one] * count)} "
        "ON CONFLICT (project_id, key) DO NOTHING RETURNING project_id, key"
    )


# On PostgreSQL the claims go as arrays, one short statement: psycopg parses a statement
# past its cache's length limit (a multi-row VALUES of 64 claims) with a regex on every call,
# which cost more than the insert itself.
_UNNEST_CLAIMS = (
    f"INSERT INTO idempotency_keys ({_CLAIM_COLUMNS}) "  # noqa: S608 (no values in it)
    "SELECT p, k, f, c, e, u, %s::integer, %s::text, %s::bytea FROM unnest("
    "%s::bigint[], %s::text[], %s::text[], %s::timestamptz[], %s::timestamptz[], "
    "%s::timestamptz[]) AS t(p, k, f, c, e, u) "
    "ON CONFLICT (project_id, key) DO NOTHING RETURNING project_id, key"
)


def insert_claims(
    conn: Connection,
    claims: list[ClaimValues],
    answer: tuple[int, str, bytes] | None = None,
) -> set[tuple[int, str]]:
    """Claim new keys in one statement: the ``(project_id, key)`` pairs inserted (the others
    exist already: :func:`claim` each of them).  ``answer`` (status, headers, body): the
    answer the caller expects to save, written with the claim (in the caller's transaction,
    so nobody sees it before the write it answers; :func:`save_many` with ``settled`` corrects
    it, :func:`release` with ``settled`` forgets it).  Spoken to the driver directly, in
    multi-row VALUES (``dbapi``): this is on the keyed compatible endpoint's hot path."""
    if not claims:
        return set()
    dialect = conn.dialect.name
    status, headers, body = answer if answer is not None else (None, None, None)
    stamps: dict[dt.datetime, Any] = {}  # a batch's claims share their few times

    def when(moment: dt.datetime) -> Any:
        found = stamps.get(moment)
        if found is None:
            found = stamps[moment] = stamp(dialect, moment)
        return found

    cur = cursor(conn)
    if dialect == "postgresql":
        columns = [list(column) for column in zip(*claims, strict=True)]
        cur.execute(_UNNEST_CLAIMS, [status, headers, body, *columns])
        return {(p, k) for p, k in cur.fetchall()}
    inserted: set[tuple[int, str]] = set()
    start = 0
    for size in chunk_sizes(len(claims)):
        params: list[Any] = []
        for project_id, key, fingerprint, now, expires_at, claimed_until in claims[
            start : start + size
        ]:
            params += (
                project_id,
                key,
                fingerprint,
                when(now),
                when(expires_at),
                when(claimed_until),
                status,
                headers,
                body,
            )
        cur.execute(_insert_claims_sql(dialect, size), params)
        inserted.update((p, k) for p, k in cur.fetchall())
        start += size
    return inserted


Answer = tuple[int, str, str, int, str, bytes | None]
"""``(project_id, key, fingerprint, status_code, headers, body)``: an answer to save."""


def save_many(conn: Connection, answers: list[Answer], *, settled: bool = False) -> None:
    """:func:`save` for many answers in one executemany (``settled``: over the answer that
    :func:`insert_claims` wrote with the claim, in this transaction)."""
    if not answers:
        return
    running = [] if settled else [keys.c.status_code.is_(None)]
    statement = (
        update(keys)
        .where(
            keys.c.project_id == bindparam("p"),
            keys.c.key == bindparam("k"),
            keys.c.fingerprint == bindparam("f"),
            *running,
        )
        .values(
            status_code=bindparam("s"),
            response_headers=bindparam("h"),
            response_body=bindparam("b"),
        )
    )
    conn.execute(
        statement,
        [{"p": p, "k": k, "f": f, "s": s, "h": h, "b": b} for p, k, f, s, h, b in answers],
    )
