""" "Why is nothing dialing?": every row of a campaign counted under the one reason that
decides it at an instant, by the judgement the queue itself uses (``dialer.assess``).

Each row is counted once, under the first of: ``final``; ``do_not_call`` (its number is
listed); ``leased`` (an unexpired lease); ``cooling_down`` (its number on a call from another
row, or due later: a retry delay or a callback; or inside the minimum gap or a refusal's
cool-down); ``capped`` (a per-day, rolling or lifetime cap); ``no_common_window`` (its zones
share no open hour within 14 days); ``outside_hours``; ``callable_now``.  The counts sum to
the campaign's rows.

It works whatever the campaign's state (paused, not started, completed) and at any instant
(``at``), so a campaign can be checked before it starts.  It reads the whole campaign, 5,000
rows at a time (memory stays bounded; the time grows with the campaign).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import Connection

from powerdialer.dialer import assess as judge
from powerdialer.dialer import hours
from powerdialer.dialer.queue import campaign_refusal
from powerdialer.dialer.rules import load_rules, window_of
from powerdialer.errors import PowerDialerError
from powerdialer.storage import Store, dialer_read
from powerdialer.storage import dialer as sql
from powerdialer.storage import dnc as dnc_sql

REASONS = (
    "callable_now",
    "leased",
    "outside_hours",
    "no_common_window",
    "cooling_down",
    "capped",
    "do_not_call",
    "final",
)
_OF_VERDICT = {
    judge.CALLABLE: "callable_now",
    judge.HOURS: "outside_hours",
    judge.NO_WINDOW: "no_common_window",
    judge.COOLING: "cooling_down",
    judge.CAPPED: "capped",
    judge.EXHAUSTED: "capped",
}


@dataclass(frozen=True, slots=True)
class Explanation:
    campaign_id: int
    at: dt.datetime
    dialing: str  # running, or why the campaign hands out nothing: campaign_paused …
    rows: int
    counts: dict[str, int]
    final_states: dict[str, int] = field(default_factory=dict)
    next_due_at: dt.datetime | None = None  # the earliest time a row not callable now may be


def explain(store: Store, project_id: int, campaign_id: int, at: dt.datetime) -> Explanation:
    return store.read(lambda conn: _explain(conn, project_id, campaign_id, at))


def _explain(conn: Connection, project_id: int, campaign_id: int, at: dt.datetime) -> Explanation:
    campaign = sql.dial_campaign(conn, project_id, campaign_id)
    rules = load_rules(campaign.rules if campaign else None)
    refused = campaign_refusal(campaign, campaign_id, rules, at)
    if isinstance(refused, PowerDialerError) and refused.code == "campaign_not_found":
        raise refused
    dialing = "running" if refused is None else refused.code
    window = window_of(campaign.rules if campaign else None)
    counts: Counter[str] = Counter(dict.fromkeys(REASONS, 0))
    finals: Counter[str] = Counter()
    soonest: dt.datetime | None = None
    since = at - judge.lookback(rules)
    on_call = sql.numbers_on_call(conn, project_id, at)
    # A row never called is judged by its zones alone (at one instant, under one campaign's
    # rules): one verdict per set of zones, not one per row (~70 µs each, at 100,000 rows
    # most of the count).
    fresh: dict[tuple[str, ...], judge.Verdict] = {}
    for page in dialer_read.campaign_pages(conn, project_id, campaign_id):
        listed = dnc_sql.listed(conn, project_id, {row.phone_e164 for row in page})
        numbers = (
            dialer_read.calls_to(conn, project_id, {row.phone_e164 for row in page}, since)
            if judge.needs_calls(rules)
            else {}
        )
        contacts = (
            dialer_read.calls_by_row(conn, project_id, [row.id for row in page], since)
            if judge.needs_contact_calls(rules)
            else {}
        )
        for row in page:
            if row.status == sql.FINAL:
                counts["final"] += 1
                finals[row.final_state or "unknown"] += 1
                continue
            if row.phone_e164 in listed:
                counts["do_not_call"] += 1
                continue
            if row.status == sql.LEASED and row.lease_expires_at and row.lease_expires_at > at:
                counts["leased"] += 1
                continue
            if row.phone_e164 in on_call:  # on a call from another row: not before it ends
                counts["cooling_down"] += 1
                continue
            if row.next_attempt_at and row.next_attempt_at > at:
                counts["cooling_down"] += 1
                soonest = min(soonest or row.next_attempt_at, row.next_attempt_at)
                continue
            total, times, refused_at = numbers.get(row.phone_e164, (0, [], None))
            row_total, row_times = contacts.get(row.id, (0, []))
            zones = hours.zones_for(row.phone_e164, row.tz, rules.fallback_tz)
            uncalled = not (total or row_total or refused_at)
            verdict = fresh.get(zones) if uncalled else None
            if verdict is None:
                verdict = judge.assess_in(
                    zones,
                    judge.Calls(total, tuple(times), refused_at),
                    judge.Calls(row_total, tuple(row_times)),
                    rules,
                    window,
                    at,
                )
                if uncalled:
                    fresh[zones] = verdict
            counts[_OF_VERDICT[verdict.kind]] += 1
            if verdict.until is not None:
                soonest = min(soonest or verdict.until, verdict.until)
    return Explanation(
        campaign_id=campaign_id,
        at=at,
        dialing=dialing,
        rows=sum(counts.values()),
        counts=dict(counts),
        final_states=dict(sorted(finals.items())),
        next_due_at=soonest,
    )
