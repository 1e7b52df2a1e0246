"""SQL of webhooks out (``powerdialer.webhooks``): subscriptions and their secrets, the outbox
(events and their deliveries, written in the transaction of the change they report), the
sender's claims under a lease (``FOR UPDATE … SKIP LOCKED`` on PostgreSQL), and the delivery
log, and its retention (old settled events deleted).  Past 300 lines on purpose: every
statement of the five webhook tables is here, the outbox's, the sender's, the log's and the
retention's, so one file shows how they use the indexes."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, func, insert, or_, select, text, update

from powerdialer.storage.dbapi import PARAM, chunk_sizes, cursor, stamp
from powerdialer.storage.schema import (
    UTCDateTime,
    projects,
    webhook_attempts,
    webhook_deliveries,
    webhook_events,
    webhook_secrets,
    webhook_subscriptions,
)

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"

subs = webhook_subscriptions
deliveries = webhook_deliveries


@dataclass(frozen=True, slots=True)
class Subscription:
    id: int
    project_id: int
    url: str
    event_types: tuple[str, ...]
    per_row: bool
    enabled: bool
    disabled_reason: str | None
    disabled_at: dt.datetime | None
    consecutive_failures: int
    failing_since: dt.datetime | None
    created_at: dt.datetime


def _types(value: str) -> tuple[str, ...]:
    return tuple(t for t in value.split(",") if t)


def _subscription(row: Any) -> Subscription:
    return Subscription(
        row.id,
        row.project_id,
        row.url,
        _types(row.event_types),
        bool(row.per_row),
        bool(row.enabled),
        row.disabled_reason,
        row.disabled_at,
        row.consecutive_failures,
        row.failing_since,
        row.created_at,
    )


# --- what the outbox reads: who wants what ------------------------------------------------


def enabled_types(conn: Connection) -> dict[int, tuple[frozenset[str], frozenset[str]]]:
    """Every project with an enabled subscription: the event types they ask for, and those
    of them a per-row subscription asks for (the outbox's cache: one small read, at most
    once a second)."""
    found: dict[int, tuple[set[str], set[str]]] = {}
    for project_id, types, per_row in conn.execute(
        select(subs.c.project_id, subs.c.event_types, subs.c.per_row).where(subs.c.enabled)
    ):
        every, by_row = found.setdefault(project_id, (set(), set()))
        every.update(_types(types))
        if per_row:
            by_row.update(_types(types))
    return {p: (frozenset(every), frozenset(by_row)) for p, (every, by_row) in found.items()}


def enabled_of(
    conn: Connection, project_ids: Iterable[int]
) -> list[tuple[int, int, set[str], bool]]:
    """``(id, project_id, types, per_row)`` of the projects' enabled subscriptions, as this
    transaction sees them (the cache above only says whether to look)."""
    rows = conn.execute(
        select(subs.c.id, subs.c.project_id, subs.c.event_types, subs.c.per_row)
        .where(subs.c.project_id.in_(sorted(set(project_ids))), subs.c.enabled)
        .order_by(subs.c.id)
    )
    return [(r[0], r[1], set(_types(r[2])), bool(r[3])) for r in rows]


EventValues = tuple[str, int, str, str]
"""An outbox event: ``(id, project_id, type, body)``."""
DeliveryValues = tuple[int, int, str]
"""A delivery of an event to a subscription: ``(project_id, subscription_id, event_id)``."""


@functools.cache
def _events_sql(dialect: str, count: int) -> str:
    p = PARAM[dialect]
    one = f"({p}, {p}, {p}, {p}, {p})"  # the last: created_at, shared
    return (
        "INSERT INTO webhook_events (id, project_id, type, body, created_at) "  # noqa: S608
        f"VALUES {', '.join([one] * count)}"
    )


@functools.cache
def _deliveries_sql(dialect: str, count: int) -> str:
    p = PARAM[dialect]
    one = f"({p}, {p}, {p}, 'pending', 0, {p}, {p})"  # due at its creation
    return (
        "INSERT INTO webhook_deliveries (project_id, subscription_id, event_id, status, "  # noqa: S608
        f"attempts, next_attempt_at, created_at) VALUES {', '.join([one] * count)}"
    )


def insert_outbox(
    conn: Connection,
    events: Sequence[EventValues],
    queued: Sequence[DeliveryValues],
    now: dt.datetime,
) -> None:
    """Events and their deliveries (one per event and subscription, pending and due at
    ``now``), in the caller's transaction: committed with the change they report, or rolled
    back with it.  Multi-row ``VALUES`` through the driver (``storage.dbapi``): a compatible
    batch's events, or an import chunk's one per row, cost a statement per 1,024 rows, not
    SQLAlchemy's work per row."""
    _insert_stamped(conn, events, now, 1, _events_sql)
    _insert_stamped(conn, queued, now, 2, _deliveries_sql)


def _insert_stamped(
    conn: Connection,
    rows: Sequence[Sequence[Any]],
    now: dt.datetime,
    stamps: int,
    sql_for: Callable[[str, int], str],
) -> None:
    """``rows``, each followed by ``stamps`` copies of ``now``, in multi-row ``VALUES`` of
    ``sql_for(dialect, rows)``, a power-of-two chunk a statement."""
    dialect = conn.dialect.name
    when = [stamp(dialect, now)] * stamps
    cur = cursor(conn)
    start = 0
    for size in chunk_sizes(len(rows)):
        params: list[Any] = []
        for row in rows[start : start + size]:
            params.extend(row)
            params.extend(when)
        cur.execute(sql_for(dialect, size), params)
        start += size


# --- subscriptions and secrets ------------------------------------------------------------


def create_subscription(
    conn: Connection,
    project_id: int,
    url: str,
    types: Sequence[str],
    per_row: bool,
    secret: str,
    now: dt.datetime,
) -> int:
    sub_id = conn.execute(
        insert(subs)
        .values(
            project_id=project_id,
            url=url,
            event_types=",".join(sorted(types)),
            per_row=per_row,
            enabled=True,
            consecutive_failures=0,
            created_at=now,
            updated_at=now,
        )
        .returning(subs.c.id)
    ).scalar_one()
    add_secret(conn, project_id, sub_id, secret, now)
    return int(sub_id)


def add_secret(
    conn: Connection, project_id: int, sub_id: int, secret: str, now: dt.datetime
) -> None:
    conn.execute(
        insert(webhook_secrets).values(
            project_id=project_id, subscription_id=sub_id, secret=secret, created_at=now
        )
    )


def rotate_secret(
    conn: Connection,
    project_id: int,
    sub_id: int,
    secret: str,
    now: dt.datetime,
    old_expires_at: dt.datetime,
) -> None:
    """The current secret expires at ``old_expires_at`` (it signs beside the new one until
    then), older ones at once; ``secret`` becomes the current one."""
    c = webhook_secrets.c
    mine = and_(c.project_id == project_id, c.subscription_id == sub_id)
    conn.execute(update(webhook_secrets).where(mine, c.expires_at > now).values(expires_at=now))
    conn.execute(
        update(webhook_secrets)
        .where(mine, c.expires_at.is_(None))
        .values(expires_at=old_expires_at)
    )
    add_secret(conn, project_id, sub_id, secret, now)


def secrets_of(conn: Connection, sub_ids: Iterable[int], now: dt.datetime) -> dict[int, list[str]]:
    """The secrets a delivery of each subscription is signed with (not expired), newest
    first."""
    c = webhook_secrets.c
    found: dict[int, list[str]] = {}
    rows = conn.execute(
        select(c.subscription_id, c.secret)
        .where(
            c.subscription_id.in_(sorted(set(sub_ids))),
            or_(c.expires_at.is_(None), c.expires_at > now),
        )
        .order_by(c.subscription_id, c.id.desc())
    )
    for sub_id, secret in rows:
        found.setdefault(sub_id, []).append(secret)
    return found


def secret_expiries(conn: Connection, project_id: int, sub_id: int, now: dt.datetime) -> list[Any]:
    """``(created_at, expires_at)`` of the secrets still signing (never the secrets)."""
    c = webhook_secrets.c
    return list(
        conn.execute(
            select(c.created_at, c.expires_at)
            .where(
                c.project_id == project_id,
                c.subscription_id == sub_id,
                or_(c.expires_at.is_(None), c.expires_at > now),
            )
            .order_by(c.id.desc())
        )
    )


def list_subscriptions(conn: Connection, project_id: int) -> list[Subscription]:
    rows = conn.execute(select(subs).where(subs.c.project_id == project_id).order_by(subs.c.id))
    return [_subscription(r) for r in rows]


def get_subscription(conn: Connection, project_id: int, sub_id: int) -> Subscription | None:
    row = conn.execute(
        select(subs).where(subs.c.project_id == project_id, subs.c.id == sub_id)
    ).one_or_none()
    return None if row is None else _subscription(row)


def update_subscription(
    conn: Connection, project_id: int, sub_id: int, values: dict[str, Any]
) -> bool:
    if "event_types" in values:
        values = {**values, "event_types": ",".join(sorted(values["event_types"]))}
    result = conn.execute(
        update(subs).where(subs.c.project_id == project_id, subs.c.id == sub_id).values(**values)
    )
    return bool(result.rowcount)


def delete_subscription(conn: Connection, project_id: int, sub_id: int) -> bool:
    c = deliveries.c
    mine = and_(c.project_id == project_id, c.subscription_id == sub_id)
    # ON DELETE CASCADE would do it (SQLite's foreign keys are on: storage/engine.py);
    # spelled out so both databases run the same statements in the same order.
    ids = select(c.id).where(mine).scalar_subquery()
    conn.execute(delete(webhook_attempts).where(webhook_attempts.c.delivery_id.in_(ids)))
    conn.execute(delete(deliveries).where(mine))
    conn.execute(
        delete(webhook_secrets).where(
            webhook_secrets.c.project_id == project_id,
            webhook_secrets.c.subscription_id == sub_id,
        )
    )
    result = conn.execute(delete(subs).where(subs.c.project_id == project_id, subs.c.id == sub_id))
    return bool(result.rowcount)


# --- the sender ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery a sender holds under its lease, with what it needs to post it."""

    id: int
    project_id: int
    subscription_id: int
    url: str
    event_id: str
    body: str
    attempts: int
    first_attempt_at: dt.datetime | None
    created_at: dt.datetime  # the event's: what the delivery lag is measured from


_HEADS = (
    "SELECT d.id, d.subscription_id FROM webhook_subscriptions s "
    "JOIN webhook_deliveries d ON d.id = (SELECT MIN(p.id) FROM webhook_deliveries p "
    "WHERE p.subscription_id = s.id AND p.status = 'pending') "
    "WHERE s.enabled = :yes AND d.next_attempt_at <= :now "
    "AND (d.lease_until IS NULL OR d.lease_until <= :now) "
    "ORDER BY d.next_attempt_at, d.id LIMIT :subs"
)
_QUEUE = (
    "SELECT d.id FROM webhook_deliveries d WHERE d.subscription_id = :sub "
    "AND d.status = 'pending' AND d.id >= :head ORDER BY d.id LIMIT :run"
)


def _locking(conn: Connection, statement: str, of: str = "d") -> str:
    if conn.dialect.name == "postgresql":
        return f"{statement} FOR UPDATE OF {of} SKIP LOCKED"
    return statement


def any_due(conn: Connection, now: dt.datetime) -> bool:
    """Whether a claim at ``now`` would find work: a subscription's due, unleased head (a
    plain read, before a claim takes the writer)."""
    found = conn.execute(
        text(_HEADS).bindparams(bindparam("now", type_=UTCDateTime)),
        {"yes": True, "now": now, "subs": 1},
    ).first()
    return found is not None


def claim(
    conn: Connection,
    now: dt.datetime,
    owner: str,
    lease_until: dt.datetime,
    max_subscriptions: int,
    run: int,
) -> list[list[Claimed]]:
    """Per subscription whose oldest pending delivery is due and not leased, that delivery
    and up to ``run - 1`` pending ones after it, in order, leased to ``owner``: a queue that
    one sender posts in order.  On PostgreSQL the heads are taken ``FOR UPDATE SKIP
    LOCKED``, so two instances claim different subscriptions without waiting."""
    heads = conn.execute(
        text(_locking(conn, _HEADS)).bindparams(bindparam("now", type_=UTCDateTime)),
        {"yes": True, "now": now, "subs": max_subscriptions},
    ).all()
    runs: list[list[int]] = []
    for head_id, sub_id in heads:
        ids = conn.execute(text(_QUEUE), {"sub": sub_id, "head": head_id, "run": run}).scalars()
        runs.append(list(ids))
    every = [i for ids in runs for i in ids]
    if not every:
        return []
    c = deliveries.c
    conn.execute(
        update(deliveries).where(c.id.in_(every)).values(lease_owner=owner, lease_until=lease_until)
    )
    rows = conn.execute(
        select(
            c.id,
            c.project_id,
            c.subscription_id,
            subs.c.url,
            c.event_id,
            webhook_events.c.body,
            c.attempts,
            c.first_attempt_at,
            webhook_events.c.created_at,
        )
        .join(subs, subs.c.id == c.subscription_id)
        .join(webhook_events, webhook_events.c.id == c.event_id)
        .where(c.id.in_(every))
    )
    by_id = {r[0]: Claimed(*r) for r in rows}
    return [[by_id[i] for i in ids if i in by_id] for ids in runs]


def release(conn: Connection, ids: Sequence[int], owner: str) -> None:
    """Give back leases not used (a run stopped at a failure): due again at once."""
    if ids:
        c = deliveries.c
        conn.execute(
            update(deliveries)
            .where(c.id.in_(list(ids)), c.lease_owner == owner)
            .values(lease_owner=None, lease_until=None)
        )


def settle_delivered(
    conn: Connection, ids: Sequence[int], owner: str, status_code: int, now: dt.datetime
) -> set[int]:
    """Mark delivered, in one statement, deliveries this sender holds that were answered
    ``status_code``; the ids it held (a lease that ran out and went to another sender is
    left alone)."""
    if not ids:
        return set()
    c = deliveries.c
    rows = conn.execute(
        update(deliveries)
        .where(c.id.in_(list(ids)), c.lease_owner == owner)
        .values(
            status=DELIVERED,
            finished_at=now,
            attempts=c.attempts + 1,
            first_attempt_at=func.coalesce(c.first_attempt_at, now),
            last_status_code=status_code,
            lease_owner=None,
            lease_until=None,
        )
        .returning(c.id)
    )
    return set(rows.scalars())


AttemptValues = tuple[int, int, int | None, int | None, str | None, str | None]
"""An attempt: ``(project_id, delivery_id, status_code, response_ms, response_head,
error)``."""


@functools.cache
def _attempts_sql(dialect: str, count: int) -> str:
    p = PARAM[dialect]
    one = f"({p}, {p}, {p}, {p}, {p}, {p}, {p})"
    return (
        "INSERT INTO webhook_attempts (project_id, delivery_id, status_code, "  # noqa: S608
        f"response_ms, response_head, error, attempted_at) VALUES {', '.join([one] * count)}"
    )


def record_attempts(conn: Connection, rows: Sequence[AttemptValues], now: dt.datetime) -> None:
    """A settle's attempts, all made at ``now``: multi-row ``VALUES`` through the driver."""
    _insert_stamped(conn, rows, now, 1, _attempts_sql)


def settle_delivery(conn: Connection, delivery_id: int, owner: str, values: dict[str, Any]) -> bool:
    """Update a delivery this sender holds (``False``: its lease went to another sender)."""
    c = deliveries.c
    result = conn.execute(
        update(deliveries)
        .where(c.id == delivery_id, c.lease_owner == owner)
        .values(lease_owner=None, lease_until=None, **values)
    )
    return bool(result.rowcount)


def subscriptions_succeeded(conn: Connection, sub_ids: Iterable[int]) -> None:
    ids = sorted(set(sub_ids))
    if ids:
        conn.execute(
            update(subs)
            .where(subs.c.id.in_(ids), subs.c.consecutive_failures > 0)
            .values(consecutive_failures=0, failing_since=None)
        )


def subscription_failed(
    conn: Connection, sub_id: int, now: dt.datetime, disable_before: dt.datetime, reason: str
) -> bool:
    """Count a failed attempt; disable the subscription when it has failed since before
    ``disable_before`` without a success.  ``True`` if this disabled it."""
    c = subs.c
    conn.execute(
        update(subs)
        .where(c.id == sub_id)
        .values(
            consecutive_failures=c.consecutive_failures + 1,
            failing_since=func.coalesce(c.failing_since, now),
        )
    )
    result = conn.execute(
        update(subs)
        .where(c.id == sub_id, c.enabled, c.failing_since <= disable_before)
        .values(enabled=False, disabled_at=now, disabled_reason=reason, updated_at=now)
    )
    return bool(result.rowcount)


# --- the delivery log ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    id: int
    subscription_id: int
    event_id: str
    event_type: str
    status: str
    attempts: int
    next_attempt_at: dt.datetime
    last_status_code: int | None
    finished_at: dt.datetime | None
    created_at: dt.datetime


def _delivery_select() -> Any:
    c = deliveries.c
    return select(
        c.id,
        c.subscription_id,
        c.event_id,
        webhook_events.c.type,
        c.status,
        c.attempts,
        c.next_attempt_at,
        c.last_status_code,
        c.finished_at,
        c.created_at,
    ).join(webhook_events, webhook_events.c.id == c.event_id)


def recent_deliveries(
    conn: Connection, project_id: int, sub_id: int, limit: int
) -> list[DeliveryRow]:
    c = deliveries.c
    rows = conn.execute(
        _delivery_select()
        .where(c.project_id == project_id, c.subscription_id == sub_id)
        .order_by(c.id.desc())
        .limit(limit)
    )
    return [DeliveryRow(*r) for r in rows]


def deliveries_of_event(conn: Connection, project_id: int, event_id: str) -> list[DeliveryRow]:
    c = deliveries.c
    rows = conn.execute(
        _delivery_select().where(c.project_id == project_id, c.event_id == event_id).order_by(c.id)
    )
    return [DeliveryRow(*r) for r in rows]


def event_of(conn: Connection, project_id: int, event_id: str) -> Any | None:
    e = webhook_events.c
    return conn.execute(
        select(e.id, e.type, e.created_at, e.body).where(
            e.project_id == project_id, e.id == event_id
        )
    ).one_or_none()


def attempts_of(conn: Connection, project_id: int, delivery_ids: Sequence[int]) -> list[Any]:
    a = webhook_attempts.c
    return list(
        conn.execute(
            select(
                a.delivery_id,
                a.attempted_at,
                a.status_code,
                a.response_ms,
                a.response_head,
                a.error,
            )
            .where(a.project_id == project_id, a.delivery_id.in_(list(delivery_ids)))
            .order_by(a.delivery_id, a.id)
        )
    )


def resend(conn: Connection, project_id: int, delivery_id: int, now: dt.datetime) -> bool:
    """Queue a delivery again, due now (a manual resend); its attempts so far are kept."""
    c = deliveries.c
    result = conn.execute(
        update(deliveries)
        .where(c.project_id == project_id, c.id == delivery_id)
        .values(
            status=PENDING,
            next_attempt_at=now,
            first_attempt_at=None,
            finished_at=None,
            lease_owner=None,
            lease_until=None,
        )
    )
    return bool(result.rowcount)


# --- retention ----------------------------------------------------------------------------


def any_older(conn: Connection, cutoff: dt.datetime) -> bool:
    """Whether some project has an event created before ``cutoff`` (one index probe a
    project): a plain read, so that a retention pass with nothing to delete never takes the
    writer."""
    e = webhook_events.c
    for project_id in conn.execute(select(projects.c.id).order_by(projects.c.id)).scalars():
        found = conn.execute(
            select(e.id).where(e.project_id == project_id, e.created_at < cutoff).limit(1)
        ).first()
        if found is not None:
            return True
    return False


def prune(conn: Connection, cutoff: dt.datetime, limit: int) -> int:
    """Delete up to ``limit`` events created before ``cutoff`` whose deliveries are all
    settled (delivered or given up) before ``cutoff``, or which have none (their webhook was
    deleted), with those deliveries and their attempts; how many events went.  An event
    with a pending delivery (leased or not, whatever its age: a disabled webhook's queue
    too) is never deleted.

    Per project, oldest first, through ``ix_webhook_events_project_id``; a delivery is
    looked up by its event (``ix_webhook_deliveries_event_id``).  The deliveries of the
    events found are read again ``FOR UPDATE`` on PostgreSQL, so a resend committed
    meanwhile keeps its event (one waiting for this transaction then finds no delivery: a
    404, as after any deletion); SQLite's writer holds the write lock throughout."""
    e, d = webhook_events.c, deliveries.c
    kept = (
        select(d.id)
        .where(
            d.event_id == e.id,
            d.project_id == e.project_id,
            or_(d.status == PENDING, d.finished_at >= cutoff),
        )
        .exists()
    )
    gone = 0
    for project_id in conn.execute(select(projects.c.id).order_by(projects.c.id)).scalars():
        if gone >= limit:
            break
        ids = list(
            conn.execute(
                select(e.id)
                .where(e.project_id == project_id, e.created_at < cutoff, ~kept)
                .order_by(e.created_at)
                .limit(limit - gone)
            ).scalars()
        )
        if not ids:
            continue
        held = conn.execute(
            select(d.id, d.event_id, d.status, d.finished_at)
            .where(d.event_id.in_(ids), d.project_id == project_id)
            .order_by(d.id)
            .with_for_update()
        ).all()
        busy = {
            r.event_id for r in held if r.status == PENDING or (r.finished_at or cutoff) >= cutoff
        }
        ids = [i for i in ids if i not in busy]
        doomed = [r.id for r in held if r.event_id not in busy]
        if doomed:
            conn.execute(delete(webhook_attempts).where(webhook_attempts.c.delivery_id.in_(doomed)))
            conn.execute(delete(deliveries).where(d.id.in_(doomed)))
        if ids:
            conn.execute(delete(webhook_events).where(e.id.in_(ids), e.project_id == project_id))
        gone += len(ids)
    return gone
