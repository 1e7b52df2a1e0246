"""May this row be called now, and if not, why and until when: the one judgement the queue
(``dialer.queue``, at lease time) and the explanation (``dialer.explain``) share.

Pure: the row's number and zone, the calls already made to that number (across the project's
campaigns) and to this row, the campaign's rules, and ``now``.  The verdicts, in the order
they are checked:

- ``exhausted``: a lifetime cap is reached; the row can never be called (it becomes final);
- ``cooling``: the minimum gap since the number's last call, or a refusal's cool-down, has
  not passed;
- ``capped``: a per-day or rolling cap on the number or the contact is reached;
- ``no_window``: the number's zones share no open calling hour within 14 days (a US
  toll-free number under a window that no set of its 42 zones is open in at once);
- ``hours``: outside calling hours now in at least one of the number's zones;
- ``callable``.

``until`` is the earliest time at which every condition can hold at once (the queue holds
the row until then and does not look at it again before): the gaps, the caps' freeing times
and the next opening of the window, iterated until they agree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from powerdialer.dialer import hours
from powerdialer.dialer.rules import Caps, Rules

CALLABLE = "callable"
EXHAUSTED = "exhausted"
COOLING = "cooling"
CAPPED = "capped"
NO_WINDOW = "no_window"
HOURS = "hours"


@dataclass(frozen=True, slots=True)
class Calls:
    """Calls (not skips) made so far: all of them, and the recent ones' times, oldest first;
    the last refusal."""

    total: int = 0
    times: tuple[dt.datetime, ...] = ()
    last_refusal: dt.datetime | None = None


NO_CALLS = Calls()


@dataclass(frozen=True, slots=True)
class Verdict:
    kind: str
    until: dt.datetime | None = None  # None: callable now, or never (exhausted, no window)
    zones: tuple[str, ...] = field(default=())


def lookback(rules: Rules) -> dt.timedelta:
    """How far back the recent call times must reach for ``assess``."""
    spans = [span for _, span in rules.number_spans()]
    if rules.contact_caps.per_span:
        spans.append(dt.timedelta(hours=rules.contact_caps.per_span.hours))
    spans.append(dt.timedelta(minutes=rules.min_gap_minutes))
    spans.append(dt.timedelta(days=2))  # per local day, whatever the zone
    return max(spans)


def needs_calls(rules: Rules) -> bool:
    """Whether any rule reads past calls (if none, the queue skips those queries)."""
    return bool(
        rules.min_gap_minutes
        or rules.refusal_cooldown()
        or rules.number_per_day()
        or rules.number_spans()
        or rules.number_caps.lifetime
    )


def needs_contact_calls(rules: Rules) -> bool:
    caps = rules.contact_caps
    return bool(caps.per_day or caps.per_span or caps.lifetime)


def assess(
    phone_e164: str,
    tz: str | None,
    number: Calls,
    contact: Calls,
    rules: Rules,
    window: hours.Window,
    now: dt.datetime,
) -> Verdict:
    zones = hours.zones_for(phone_e164, tz, rules.fallback_tz)
    return assess_in(zones, number, contact, rules, window, now)


def assess_in(
    zones: tuple[str, ...],
    number: Calls,
    contact: Calls,
    rules: Rules,
    window: hours.Window,
    now: dt.datetime,
) -> Verdict:
    """``assess`` for a row whose zones are known (``hours.zones_for``)."""
    if (rules.number_caps.lifetime and number.total >= rules.number_caps.lifetime) or (
        rules.contact_caps.lifetime and contact.total >= rules.contact_caps.lifetime
    ):
        return Verdict(EXHAUSTED, None, zones)
    first = zones[0]
    kind = CALLABLE
    at = now
    for _ in range(8):  # each round only moves ``at`` later; a few rounds settle it
        cooled = _cooled(number, rules, at)
        capped = max(
            _capped(number, rules.number_per_day(), rules.number_spans(), first, at),
            _capped(contact, rules.contact_caps.per_day, _spans(rules.contact_caps), first, at),
        )
        if kind == CALLABLE and cooled > at:
            kind = COOLING
        elif kind == CALLABLE and capped > at:
            kind = CAPPED
        later = max(at, cooled, capped)
        opening = hours.next_opening(window, zones, later)
        if opening is None:
            return Verdict(NO_WINDOW if kind == CALLABLE else kind, None, zones)
        if kind == CALLABLE and opening > now:
            kind = HOURS
        if opening == at:
            break
        at = opening
    return Verdict(kind, None if kind == CALLABLE else at, zones)


def _spans(caps: Caps) -> list[tuple[int, dt.timedelta]]:
    if caps.per_span is None:
        return []
    return [(caps.per_span.count, dt.timedelta(hours=caps.per_span.hours))]


def _cooled(number: Calls, rules: Rules, at: dt.datetime) -> dt.datetime:
    """When the gap since the number's last call and any refusal's cool-down have passed."""
    free = at
    if rules.min_gap_minutes and number.times:
        free = max(free, number.times[-1] + dt.timedelta(minutes=rules.min_gap_minutes))
    cooldown = rules.refusal_cooldown()
    if cooldown and number.last_refusal:
        free = max(free, number.last_refusal + cooldown)
    return free


def _capped(
    calls: Calls,
    per_day: int | None,
    spans: list[tuple[int, dt.timedelta]],
    zone: str,
    at: dt.datetime,
) -> dt.datetime:
    """When the per-day and rolling caps let one more call be made (``at`` if they do)."""
    free = at
    if per_day:
        start = hours.local_day_start(zone, at)
        if sum(1 for t in calls.times if t >= start) >= per_day:
            free = max(free, hours.local_day_start(zone, start + dt.timedelta(hours=26)))
    for count, span in spans:
        inside = [t for t in calls.times if t > at - span]
        if len(inside) >= count:
            # The call that must age out for one more to fit: the count-th most recent.
            free = max(free, inside[-count] + span)
    return free
