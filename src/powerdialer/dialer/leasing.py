"""A lease once given: whether it is still the operator's (``held_lease``, which every call
on a lease goes through), renewing it while on a call, releasing it without an attempt.

Writer payloads like the lease itself (docs/architecture.md).  On PostgreSQL ``held_lease``
locks the row before judging the lease current (``storage.leases.lease_record``), so a call on
a lease that ran out cannot race another process's lease of the row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from sqlalchemy import Connection

from powerdialer.dialer import hours
from powerdialer.dialer.queue import Leased
from powerdialer.dialer.rules import load_rules
from powerdialer.errors import Conflict, NotFound, PowerDialerError
from powerdialer.storage import dialer as sql
from powerdialer.storage import leases as lease_sql
from powerdialer.storage import wrapup
from powerdialer.storage.payload import Payload, Writes


@dataclass(frozen=True, slots=True)
class Renew(Payload[Leased]):
    lane: ClassVar[str] = "dialer"  # its own writer on PostgreSQL (storage/writer.py)
    project_id: int
    lease_id: int
    operator_id: int
    now: dt.datetime


@dataclass(frozen=True, slots=True)
class Release(Payload[bool]):
    lane: ClassVar[str] = "dialer"  # its own writer on PostgreSQL (storage/writer.py)
    project_id: int
    lease_id: int
    operator_id: int
    now: dt.datetime


def held_lease(
    conn: Connection, project_id: int, lease_id: int, operator_id: int
) -> lease_sql.LeaseRecord:
    """The lease, if it is still the row's and ``operator_id``'s; else the error to answer."""
    lease = lease_sql.lease_record(conn, project_id, lease_id)
    if lease is None:
        raise NotFound(
            f"lease {lease_id} is not a lease of this project: use the lease_id that "
            "POST /power-dialer/campaigns/{id}/dialer/next answered.",
            code="lease_not_found",
            field="lease_id",
        )
    if lease.operator_id != operator_id:
        raise Conflict(
            f"lease {lease_id} is operator {lease.operator_id}'s, not {operator_id}'s.",
            code="lease_not_yours",
            field="operator_id",
        )
    if not lease.current:
        raise Conflict(
            f"lease {lease_id} has ended (it ran out and the row was handed out again, or it "
            "was released or wrapped up): ask for the next contact.",
            code="lease_ended",
            field="lease_id",
        )
    return lease


def apply_renewals(conn: Connection, items: Sequence[Renew]) -> list[Leased | Exception]:
    results: list[Leased | Exception] = []
    for item in items:
        try:
            lease = held_lease(conn, item.project_id, item.lease_id, item.operator_id)
            rules = load_rules(lease.rules)
            expires = item.now + dt.timedelta(seconds=rules.lease_seconds)
            lease_sql.renew(conn, lease.id, lease.row_id, expires)
            zones = hours.zones_for(lease.phone_e164, lease.tz, rules.fallback_tz)
            contact = lease_sql.row_of(conn, item.project_id, lease.row_id)
            assert contact is not None  # a current lease's row
            results.append(
                Leased(
                    lease.id,
                    lease.row_id,
                    lease.campaign_id,
                    lease.operator_id,
                    lease.leased_at,
                    expires,
                    zones,
                    resumed=True,
                    contact=contact,
                )
            )
        except PowerDialerError as exc:
            results.append(exc)
    return results


def apply_releases(conn: Connection, items: Sequence[Release]) -> list[bool | Exception]:
    """Give the row back at once, in its place in the queue (no attempt is recorded)."""
    results: list[bool | Exception] = []
    for item in items:
        try:
            lease = held_lease(conn, item.project_id, item.lease_id, item.operator_id)
            lease_sql.end_lease(conn, lease.id, item.now, "released")
            wrapup.settle_row(conn, lease.row_id, status=sql.PENDING)
            results.append(True)
        except PowerDialerError as exc:
            results.append(exc)
    return results


WRITES: Writes = {Renew: apply_renewals, Release: apply_releases}
"""This module's writes, for the app's group-commit writer (``storage/payload.py``)."""
