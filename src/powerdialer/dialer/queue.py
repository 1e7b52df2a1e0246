"""The next contact for an operator, with a lease; renewing and releasing it.

Leases are writer payloads (docs/architecture.md): ``apply_leases`` runs in the group-commit
writer's transaction, where it takes the campaign's next rows in queue order (call next,
priority, due time, insertion: ``storage.dialer.candidates``), judges each against the rules,
calling hours and caps (``dialer.assess``), holds the ones that may not be called yet until
they may (so the next request does not look at them again), and leases the first that may.
Nothing is leased twice: on SQLite the writer is the only writer, on PostgreSQL the rows are
taken ``FOR UPDATE SKIP LOCKED``, and on both a partial unique index allows one open lease per
row.  An expired lease needs no clean-up job: the row is a candidate again the moment its
lease runs out, and the next lease of it closes the old one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from sqlalchemy import Connection

from powerdialer.dialer import assess as judge
from powerdialer.dialer import hours
from powerdialer.dialer.outcomes import FinalState
from powerdialer.dialer.rules import Rules, load_rules, window_of
from powerdialer.errors import Conflict, NotFound, PowerDialerError
from powerdialer.projects import KeyProof, invalid_key, refused_proofs
from powerdialer.storage import dialer as sql
from powerdialer.storage import dialer_read, wrapup
from powerdialer.storage import leases as lease_sql
from powerdialer.storage.payload import Payload, Writes
from powerdialer.webhooks import events, outbox

# Candidates read at a time: one first (on PostgreSQL each is locked until the commit, and
# the first is nearly always callable; each more read costs a lease a row's worth of reading
# and judging), more if it was held back.
PAGES = (1, 64)
SCAN = 512  # candidates judged per request at most (each one not callable is held)


@dataclass(frozen=True, slots=True)
class Leased:
    lease_id: int
    row_id: int
    campaign_id: int
    operator_id: int
    leased_at: dt.datetime
    expires_at: dt.datetime
    zones: tuple[str, ...]
    resumed: bool  # the operator already held it: the same lease, answered again
    # The row as the operator sees it, read in the lease's own transaction (so the route does
    # not read it again, and never sees it changed or gone in between).
    contact: lease_sql.ContactRow


@dataclass(frozen=True, slots=True)
class NoContact:
    """Why there is no contact to hand out now (``code``), and when one may be due."""

    code: str
    message: str
    next_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class Lease(Payload["Leased | NoContact"]):
    lane: ClassVar[str] = "dialer"  # its own writer on PostgreSQL (storage/writer.py)
    project_id: int
    campaign_id: int
    operator_id: int
    now: dt.datetime
    proof: KeyProof | None = None  # the caller's key, checked again here (projects.py)


def campaign_refusal(
    campaign: sql.DialCampaign | None, campaign_id: int, rules: Rules, now: dt.datetime
) -> PowerDialerError | NoContact | None:
    """Why campaign ``campaign_id`` hands out nothing whatever its rows, if it does not."""
    if campaign is None:
        return NotFound(
            f"campaignId {campaign_id} is not a campaign of this project: copy the id from "
            "GET /power-dialer/campaigns.",
            code="campaign_not_found",
            field="campaignId",
        )
    if campaign.state != "active":
        return Conflict(
            f"campaign {campaign_id} is archived: unarchive it to dial it.",
            code="campaign_archived",
            field="campaignId",
        )
    if campaign.dialer_state == "paused":
        return NoContact("campaign_paused", "the campaign is paused: resume it to dial.")
    if rules.starts_at and now < rules.starts_at:
        return NoContact(
            "campaign_not_started", "the campaign's start date is ahead.", rules.starts_at
        )
    if rules.ends_at and now >= rules.ends_at:
        return NoContact("campaign_ended", "the campaign's end date has passed.")
    return None


def not_a_member(operator_id: int) -> NotFound:
    return NotFound(
        f"operator {operator_id} is not a member of this project: name a member's user id "
        "(the project's members page), or add them to the project.",
        code="operator_not_found",
        field="operator_id",
    )


def apply_leases(conn: Connection, items: Sequence[Lease]) -> list[Leased | NoContact | Exception]:
    results: list[Leased | NoContact | Exception] = []
    refused = refused_proofs(conn, [(item.project_id, item.proof) for item in items])
    for item, unproven in zip(items, refused, strict=True):
        if unproven:
            results.append(invalid_key())
            continue
        try:
            results.append(_lease(conn, item))
        except PowerDialerError as exc:
            results.append(exc)
    return results


def _lease(conn: Connection, item: Lease) -> Leased | NoContact:
    context = sql.lease_context(conn, item.project_id, item.campaign_id, item.operator_id, item.now)
    if not context.member:
        raise not_a_member(item.operator_id)
    campaign = context.campaign
    rules = load_rules(campaign.rules if campaign else None)
    refused = campaign_refusal(campaign, item.campaign_id, rules, item.now)
    if isinstance(refused, PowerDialerError):
        raise refused
    if refused is not None:
        return refused
    assert campaign is not None
    held = context.held_row
    if held is not None:  # a reload, a second tab: the same contact, not a second one
        return _resumed(conn, item, held, rules)
    window = window_of(campaign.rules)
    judged = 0
    passed: set[int] = set()  # callable, but their number is on another call now
    while judged < SCAN:
        size = (PAGES[0] if judged == 0 else PAGES[1]) + len(passed)
        free = item.now - dt.timedelta(minutes=rules.personal_callback_minutes)
        found = sql.candidates(
            conn, item.project_id, item.campaign_id, item.operator_id, item.now, size, free
        )
        page = [row for row in found if row.id not in passed]
        if not page:
            break
        for row in page:
            judged += 1
            verdict = _judge(conn, item, row, rules, window)
            if verdict.kind == judge.CALLABLE and sql.number_on_call(
                conn, item.project_id, row.phone_e164, item.now
            ):
                # On a call from another row (another campaign, a duplicate): passed over
                # by this request only, so it is callable the moment that call ends.
                passed.add(row.id)
                continue
            if verdict.kind == judge.CALLABLE:
                if campaign.completed_at is not None:
                    wrapup.reopen(conn, item.project_id, item.campaign_id)
                return _grant(conn, item, row, rules, verdict.zones)
            if verdict.kind == judge.EXHAUSTED:
                if row.lease_id is not None:  # a run-out lease: closed, as a new lease would
                    sql.close_expired(conn, row.lease_id)
                wrapup.settle_row(
                    conn, row.id, status=sql.FINAL, final_state=FinalState.EXHAUSTED.value
                )
                completed = wrapup.complete_if_done(
                    conn, item.project_id, item.campaign_id, item.now
                )
                outbox.emit(conn, _exhausted(item, row, completed), item.now)
            else:
                until = verdict.until or item.now + dt.timedelta(days=1)
                sql.hold(conn, row.id, until, verdict.kind)
    return NoContact(
        "nothing_callable",
        "no row may be called now: see GET /power-dialer/campaigns/{id}/dialer/explain for why.",
    )


def _exhausted(item: Lease, row: sql.QueueRow, completed: bool) -> list[outbox.Event]:
    """A row found used up while looking for a contact: its webhook events."""
    data = {
        "campaign_id": item.campaign_id,
        "row_id": row.id,
        "phone_e164": row.phone_e164,
        "final_state": FinalState.EXHAUSTED.value,
        "last_outcome": None,
        "attempts": row.attempts,
    }
    found = [outbox.Event(item.project_id, events.CONTACT_FINAL, data)]
    if completed:
        done = {"campaign_id": item.campaign_id, "completed_at": events.timestamp(item.now)}
        found.append(outbox.Event(item.project_id, events.CAMPAIGN_COMPLETED, done))
    return found


def _judge(
    conn: Connection, item: Lease, row: sql.QueueRow, rules: Rules, window: hours.Window
) -> judge.Verdict:
    number = contact = judge.NO_CALLS
    if judge.needs_calls(rules) or judge.needs_contact_calls(rules):
        since = item.now - judge.lookback(rules)
        if judge.needs_calls(rules):
            total, times, refused = dialer_read.calls_to(
                conn, item.project_id, [row.phone_e164], since
            )[row.phone_e164]
            number = judge.Calls(total, tuple(times), refused)
        if judge.needs_contact_calls(rules):
            total, times = dialer_read.calls_of_row(conn, item.project_id, row.id, since)
            contact = judge.Calls(total, tuple(times))
    return judge.assess(row.phone_e164, row.tz, number, contact, rules, window, item.now)


def _grant(
    conn: Connection, item: Lease, row: sql.QueueRow, rules: Rules, zones: tuple[str, ...]
) -> Leased:
    expires = item.now + dt.timedelta(seconds=rules.lease_seconds)
    lease_id, contact = sql.grant(conn, row, item.project_id, item.operator_id, item.now, expires)
    return Leased(
        lease_id,
        row.id,
        row.campaign_id,
        item.operator_id,
        item.now,
        expires,
        zones,
        resumed=False,
        contact=contact,
    )


def _resumed(conn: Connection, item: Lease, row_id: int, rules: Rules) -> Leased:
    row = lease_sql.row_of(conn, item.project_id, row_id)
    assert row is not None  # the writer holds the row
    assert row.lease_id is not None
    lease = lease_sql.lease_record(conn, item.project_id, row.lease_id)
    assert lease is not None
    zones = hours.zones_for(row.phone_e164, row.tz, rules.fallback_tz)
    return Leased(
        lease.id,
        row_id,
        lease.campaign_id,
        lease.operator_id,
        lease.leased_at,
        lease.expires_at,
        zones,
        resumed=True,
        contact=row,
    )


WRITES: Writes = {Lease: apply_leases}
"""This module's writes, for the app's group-commit writer (``storage/payload.py``)."""
