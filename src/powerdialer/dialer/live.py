"""The supervisor's live view of a project at an instant: its operators (state and time in
it, calls and outcomes today), its campaigns (leased now, done, answered rate today, callable
now and the "why not" counts) and its day's attempts per hour by outcome.

"Today" is the local day, at ``now``, in the zone the caller passes (the web UI passes the
viewer's browser zone, the one it shows every date in): from local midnight to the next.
A *call* is an attempt other than ``skip`` (a skip is not a call); *answered* means the
attempt reached the contact (``reached``: answered, callback, not interested, do not call,
or a project outcome so flagged); the answered rate is answered calls over calls.

Everything is read fresh on each call but the "why not" counts, which come from an
``ExplainCache`` (counted in the background; ``None`` until the first count is in).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Connection

from powerdialer.dialer import presence
from powerdialer.dialer.explain_cache import Counted, ExplainCache
from powerdialer.dialer.outcomes import SKIP
from powerdialer.models import Campaign, CampaignState
from powerdialer.storage import Store
from powerdialer.storage import campaigns as campaign_sql
from powerdialer.storage import live as sql
from powerdialer.storage.live import AttemptCount


@dataclass(frozen=True, slots=True)
class LiveOperator:
    user_id: int
    name: str
    email: str
    state: str
    reason: str | None
    campaign_id: int | None
    seconds: int | None  # in the state at ``now``; None: never seen on the operator screen
    calls: int  # today, skips not counted
    answered: int
    outcomes: dict[str, int]  # today, by outcome (skips included)


@dataclass(frozen=True, slots=True)
class LiveCampaign:
    id: int
    name: str
    dialer_state: str  # running | paused
    rows: int
    final: int  # done: rows in a final state
    leased: int  # open, unexpired leases now
    calls: int  # today
    answered: int
    counted: Counted | None  # the "why not" counts, and how long they took; None: not yet

    @property
    def answered_rate(self) -> float | None:
        return self.answered / self.calls if self.calls else None


@dataclass(frozen=True, slots=True)
class HourCount:
    start: dt.datetime  # the hour's start (aware, in the day's zone)
    outcomes: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.outcomes.values())


@dataclass(frozen=True, slots=True)
class LiveView:
    at: dt.datetime
    day_start: dt.datetime
    day_end: dt.datetime
    operators: list[LiveOperator]
    campaigns: list[LiveCampaign]
    hours: list[HourCount] = field(default_factory=list)


def day_of(now: dt.datetime, zone: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    """The local day around ``now`` in ``zone``, as UTC ``[start, end)`` (23 or 25 hours on
    a day with a clock change)."""
    local = now.astimezone(zone).date()
    start = dt.datetime.combine(local, dt.time(), zone)
    end = dt.datetime.combine(local + dt.timedelta(days=1), dt.time(), zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


@dataclass(frozen=True, slots=True)
class _Read:
    campaigns: list[Campaign]
    rows: dict[int, dict[str, int]]
    leased: dict[int, int]
    counts: list[AttemptCount]
    hours: list[tuple[int, str, int]]


def live_view(
    store: Store,
    project_id: int,
    now: dt.datetime,
    zone: dt.tzinfo,
    explains: ExplainCache,
    clock: Callable[[], dt.datetime],
) -> LiveView:
    """The project's live view at ``now``; ``clock`` times the background "why not" counts."""
    start, end = day_of(now, zone)

    def run(conn: Connection) -> _Read:
        return _Read(
            campaign_sql.list_campaigns(conn, project_id),
            campaign_sql.row_counts(conn, project_id),
            sql.open_leases(conn, project_id, now),
            sql.attempts_by_operator(conn, project_id, start, end),
            sql.attempts_by_hour(conn, project_id, start, end),
        )

    read = store.read(run)
    states = presence.list_states(store, project_id, now)
    by_operator: dict[int, Counter[str]] = {}
    for c in read.counts:
        by_operator.setdefault(c.operator_id, Counter())[c.outcome] += c.count
    operators = [
        _operator(s, by_operator.get(s.user_id, Counter()), read.counts)
        for s in states
        if s.role == "operator" or s.since is not None or s.user_id in by_operator
    ]
    campaigns = [
        _campaign(c, read, explains.get(store, project_id, c.id, clock))
        for c in read.campaigns
        if c.state is CampaignState.ACTIVE
        or c.id in read.leased
        or any(a.campaign_id == c.id for a in read.counts)
    ]
    return LiveView(now, start, end, operators, campaigns, _hours(read.hours, start, end, zone))


def _operator(
    state: presence.OperatorState, outcomes: Counter[str], counts: list[AttemptCount]
) -> LiveOperator:
    mine = [c for c in counts if c.operator_id == state.user_id and c.outcome != SKIP]
    return LiveOperator(
        user_id=state.user_id,
        name=state.name,
        email=state.email,
        state=state.state,
        reason=state.reason,
        campaign_id=state.campaign_id,
        seconds=state.seconds,
        calls=sum(c.count for c in mine),
        answered=sum(c.count for c in mine if c.reached),
        outcomes=dict(sorted(outcomes.items())),
    )


def _campaign(campaign: Campaign, read: _Read, counted: Counted | None) -> LiveCampaign:
    rows = read.rows.get(campaign.id, {})
    calls = [c for c in read.counts if c.campaign_id == campaign.id and c.outcome != SKIP]
    return LiveCampaign(
        id=campaign.id,
        name=campaign.name,
        dialer_state=campaign.dialer_state,
        rows=sum(rows.values()),
        final=rows.get("final", 0),
        leased=read.leased.get(campaign.id, 0),
        calls=sum(c.count for c in calls),
        answered=sum(c.count for c in calls if c.reached),
        counted=counted,
    )


def _hours(
    found: list[tuple[int, str, int]], start: dt.datetime, end: dt.datetime, zone: dt.tzinfo
) -> list[HourCount]:
    """One entry per elapsed hour of the day (also the empty ones)."""
    count = int((end - start).total_seconds() // 3600)
    buckets: list[Counter[str]] = [Counter() for _ in range(count)]
    for hour, outcome, n in found:
        if 0 <= hour < count:
            buckets[hour][outcome] += n
    return [
        HourCount((start + dt.timedelta(hours=i)).astimezone(zone), dict(sorted(b.items())))
        for i, b in enumerate(buckets)
    ]
