"""What the dialer's stress test needs besides its operators: many members at once, and the
audit of the database afterwards (leases, attempts, caps, rows left), each check returning the
rows that break it, so a failure names them."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, insert, select

from powerdialer.accounts.models import Role
from powerdialer.accounts.passwords import hash_password
from powerdialer.models import utcnow
from powerdialer.storage import Store
from powerdialer.storage.accounts import insert_user, upsert_membership
from powerdialer.storage.schema import attempts, campaign_rows, leases

KYIV = ZoneInfo("Europe/Kyiv")  # every stress number is +38093…: one zone, its local day


def add_operators(store: Store, project_id: int, count: int, prefix: str = "op") -> list[int]:
    """``count`` operators of the project in one transaction (``add_member`` hashes a fresh
    password per user: seconds for hundreds of them, and the passwords are never used)."""
    password_hash = hash_password("stress-test-password")
    now = utcnow()

    def run(conn: Connection) -> list[int]:
        ids = []
        for n in range(count):
            user = insert_user(conn, f"{prefix}{n}@example.com", password_hash, "", "uk", now)
            upsert_membership(conn, project_id, user.id, Role.OPERATOR.value, now)
            ids.append(user.id)
        return ids

    return store.write(run)


def insert_rows(
    conn: Connection, project_id: int, campaign_id: int, phones: list[str], now: dt.datetime
) -> list[int]:
    """Rows due at ``now``; a number given twice is kept twice (``duplicate_no``)."""
    ids = []
    for n, phone in enumerate(phones):
        values = {
            "project_id": project_id,
            "campaign_id": campaign_id,
            "phone_raw": phone,
            "phone_e164": phone,
            "duplicate_no": phones[:n].count(phone),
            "source": "api",
            "created_at": now,
            "updated_at": now,
            "next_attempt_at": now,
        }
        ids.append(
            conn.execute(
                insert(campaign_rows).values(**values).returning(campaign_rows.c.id)
            ).scalar_one()
        )
    return ids


@dataclass(frozen=True)
class Audit:
    rows: list[Any]
    leases: list[Any]
    attempts: list[Any]


def read_audit(store: Store, campaign_id: int) -> Audit:
    def run(conn: Connection) -> Audit:
        r, le, a = campaign_rows.c, leases.c, attempts.c
        return Audit(
            list(conn.execute(select(campaign_rows).where(r.campaign_id == campaign_id))),
            list(
                conn.execute(
                    select(leases).where(le.campaign_id == campaign_id).order_by(le.leased_at)
                )
            ),
            list(conn.execute(select(attempts).where(a.campaign_id == campaign_id))),
        )

    return store.read(run)


def _utc(when: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands back naive UTC datetimes, PostgreSQL aware ones: compare them as aware."""
    if when is None or when.tzinfo is not None:
        return when
    return when.replace(tzinfo=dt.UTC)


def overlapping_leases(audit: Audit) -> list[tuple[int, int, int]]:
    """(row, lease, next lease) where a row's lease [leased_at, ended_at or expires_at) runs
    into the next one's; and rows with two open leases (``ended_at`` NULL) at once."""
    by_row: dict[int, list[Any]] = defaultdict(list)
    for lease in audit.leases:
        by_row[lease.row_id].append(lease)
    bad = []
    for row_id, held in by_row.items():
        held.sort(key=lambda x: (_utc(x.leased_at), x.id))
        for one, following in itertools.pairwise(held):
            end = _utc(one.ended_at or one.expires_at)
            assert end is not None
            if end > _utc(following.leased_at) or one.ended_at is None:
                bad.append((row_id, one.id, following.id))
    return bad


def stuck_rows(audit: Audit, now: dt.datetime, per_day: int) -> list[Any]:
    """Rows neither final, nor leasable (pending and due, or leased with its lease run out),
    nor held by the per-day cap with that many calls made on their local day."""
    calls_today = _calls_by_day(audit)
    today = now.astimezone(KYIV).date()
    bad = []
    for row in audit.rows:
        if row.status == "final":
            continue
        held = _utc(row.held_until)
        if held is not None and held > now:
            if row.hold_reason == "capped" and calls_today[(row.id, today)] >= per_day:
                continue
            bad.append(row)
        else:
            runs_until = row.lease_expires_at if row.status == "leased" else row.next_attempt_at
            if _utc(runs_until) > now:  # type: ignore[operator]
                bad.append(row)
    return bad


def _calls_by_day(audit: Audit) -> Counter[tuple[int, dt.date]]:
    """Calls (not skips) per row and local day."""
    return Counter(
        (a.row_id, _utc(a.recorded_at).astimezone(KYIV).date())  # type: ignore[union-attr]
        for a in audit.attempts
        if a.outcome != "skip"
    )


def miscounted_rows(audit: Audit) -> list[tuple[int, int, int]]:
    """(row, its attempts column, its counted attempts in the history) where they differ."""
    counted = Counter(a.row_id for a in audit.attempts if a.counted)
    return [(r.id, r.attempts, counted[r.id]) for r in audit.rows if r.attempts != counted[r.id]]


def over_caps(audit: Audit, max_attempts: int, per_day: int) -> list[tuple[str, int, int]]:
    """(which cap, row, how many) for every row past ``max_attempts`` or the per-day cap."""
    counted = Counter(a.row_id for a in audit.attempts if a.counted)
    bad = [("max_attempts", row, n) for row, n in counted.items() if n > max_attempts]
    bad += [("per_day", row, n) for (row, _), n in _calls_by_day(audit).items() if n > per_day]
    return bad


def attempts_without_their_lease(audit: Audit) -> list[Any]:
    """Attempts whose lease is not the row's, or whose lease has two attempts."""
    owner = {lease.id: lease.row_id for lease in audit.leases}
    seen = Counter(a.lease_id for a in audit.attempts)
    return [a for a in audit.attempts if owner.get(a.lease_id) != a.row_id or seen[a.lease_id] > 1]
