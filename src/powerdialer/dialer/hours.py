"""Calling hours, evaluated in the contact's own IANA time zone at the instant asked about.

A ``Window`` is wall-clock time: per weekday zero or more ``[start, end)`` local intervals, and
local dates on which nothing is open.  It is never turned into a stored UTC offset: ``is_open``
reads the zone's rules for the instant it is given, so daylight-saving changes need no batch
job.  The window itself, its holiday calendars and its JSON shape are in ``windows``.
A row is callable only when the window is open in *every* zone it may be in (a number
phonenumbers maps to several zones, such as a US toll-free or a Russian mobile).

``next_opening`` and ``next_closing`` do not step a clock.  In one zone, membership can only
change where the wall clock crosses an interval's start or end (both occurrences of an
ambiguous time), at local midnight, or at an offset change; those instants split each UTC day
into segments on which membership is constant, and one check per segment gives the zone's open
spans (cached per window, zone and UTC day).  The first instant of the intersection of the zones'
spans is the answer.  docs/calling-hours.md has the model and the JSON shape.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator

from powerdialer.dialer.windows import MIDNIGHT, Interval, Window, window_from_json, window_to_json
from powerdialer.dialer.zones import tz as _tz
from powerdialer.dialer.zones import zones_for

__all__ = [
    "Window",
    "is_open",
    "local_day_start",
    "next_closing",
    "next_opening",
    "window_from_json",
    "window_to_json",
    "zones_for",
]

UTC = dt.UTC
DAY = dt.timedelta(days=1)
Span = tuple[dt.datetime, dt.datetime]


def _inside(intervals: tuple[Interval, ...], time: dt.time) -> bool:
    return any(start <= time and (time < end or end == MIDNIGHT) for start, end in intervals)


def _open_in(window: Window, zone: str, now: dt.datetime) -> bool:
    local = now.astimezone(_tz(zone))
    return _inside(window.opens_on(local.date()), local.time())


def is_open(window: Window, zones: tuple[str, ...], now: dt.datetime) -> bool:
    """Open at instant ``now`` (aware) in every zone: the local time is inside an interval of
    the local weekday, and the local date is not a holiday there."""
    return all(_open_in(window, zone, now) for zone in zones)


@functools.lru_cache(maxsize=16384)
def _offset_changes(zone: str, day: dt.date) -> tuple[dt.datetime, ...]:
    """The instants of UTC day ``day`` at which ``zone``'s offset changes (to the second)."""
    tz = _tz(zone)
    start = dt.datetime.combine(day, MIDNIGHT, tzinfo=UTC)
    found: list[dt.datetime] = []
    for hour in range(24):  # offsets in tzdata change at most once in an hour
        low, high = start + dt.timedelta(hours=hour), start + dt.timedelta(hours=hour + 1)
        if low.astimezone(tz).utcoffset() == high.astimezone(tz).utcoffset():
            continue
        lo, hi = 0, 3600  # the change is in (low + lo, low + hi]
        before = low.astimezone(tz).utcoffset()
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if (low + dt.timedelta(seconds=mid)).astimezone(tz).utcoffset() == before:
                lo = mid
            else:
                hi = mid
        found.append(low + dt.timedelta(seconds=hi))
    return tuple(found)


def _instants(zone: str, day: dt.date, time: dt.time) -> Iterator[dt.datetime]:
    """Both readings of local ``day`` at ``time`` (they differ only when it is ambiguous)."""
    tz = _tz(zone)
    for fold in (0, 1):
        yield dt.datetime.combine(day, time, tzinfo=tz).replace(fold=fold).astimezone(UTC)


@functools.lru_cache(maxsize=65536)
def _spans(window: Window, zone: str, day: dt.date) -> tuple[Span, ...]:
    """Where ``window`` is open in ``zone`` during UTC day ``day``, as merged UTC spans."""
    start, end = (
        dt.datetime.combine(day, MIDNIGHT, tzinfo=UTC),
        dt.datetime.combine(day + DAY, MIDNIGHT, tzinfo=UTC),
    )
    cuts = {start, *_offset_changes(zone, day)}
    for local_day in (day - DAY, day, day + DAY):  # every zone is within ±24 h of UTC
        cuts.update(_instants(zone, local_day, MIDNIGHT))
        for first, last in window.days[local_day.weekday()]:
            cuts.update(_instants(zone, local_day, first))
            cuts.update(_instants(zone, local_day, last))
    points = sorted(c for c in cuts if start <= c < end)
    spans: list[Span] = []
    for here, after in zip(points, [*points[1:], end], strict=True):
        if not _open_in(window, zone, here):
            continue
        if spans and spans[-1][1] == here:
            spans[-1] = (spans[-1][0], after)
        else:
            spans.append((here, after))
    return tuple(spans)


@functools.lru_cache(maxsize=65536)
def _common(window: Window, zones: tuple[str, ...], day: dt.date) -> tuple[Span, ...]:
    """The UTC spans of ``day`` in which ``window`` is open in every zone (cached: a row of 42
    zones with no common window asks for 15 days at every look)."""
    common: list[Span] = [
        (
            dt.datetime.combine(day, MIDNIGHT, tzinfo=UTC),
            dt.datetime.combine(day + DAY, MIDNIGHT, tzinfo=UTC),
        )
    ]
    for zone in zones:
        mine = _spans(window, zone, day)
        common = [
            (max(a, c), min(b, d)) for a, b in common for c, d in mine if max(a, c) < min(b, d)
        ]
        if not common:
            break
    return tuple(common)


def next_opening(
    window: Window,
    zones: tuple[str, ...],
    now: dt.datetime,
    horizon: dt.timedelta = dt.timedelta(days=14),
) -> dt.datetime | None:
    """``now`` if open now; else the first instant after ``now`` at which the window is open
    in all zones; ``None`` when there is none within ``horizon`` ("no common window").

    Exact to the second across daylight-saving switches: a start inside a spring-forward gap
    opens at the first instant after the gap; an ambiguous start opens at its first
    occurrence (and, if that has passed, at its second)."""
    now = now.astimezone(UTC)
    if is_open(window, zones, now):
        return now
    day = now.date()
    while (start := dt.datetime.combine(day, MIDNIGHT, tzinfo=UTC)) <= now + horizon:
        for first, last in _common(window, zones, day):
            if last > now:
                opening = max(first, now)
                return opening if opening <= now + horizon else None
        day = start.date() + DAY
    return None


def next_closing(
    window: Window,
    zones: tuple[str, ...],
    now: dt.datetime,
    horizon: dt.timedelta = dt.timedelta(days=14),
) -> dt.datetime | None:
    """When the window, open at ``now``, stops being open in some zone; ``None`` when it is
    closed at ``now`` or stays open past ``horizon``."""
    now = now.astimezone(UTC)
    if not is_open(window, zones, now):
        return None
    at, day = now, now.date()
    while at <= now + horizon:
        run = [span for span in _common(window, zones, day) if span[0] <= at < span[1]]
        if not run:
            return at
        at, day = run[0][1], day + DAY
        if at < dt.datetime.combine(day, MIDNIGHT, tzinfo=UTC):
            return at
    return None


def local_day_start(zone: str, now: dt.datetime) -> dt.datetime:
    """The UTC instant of the local midnight that started the current local day in ``zone``
    (for per-day caps).  Where that midnight fell in a spring-forward gap, the day began at
    the switch."""
    tz = _tz(zone)
    today = now.astimezone(tz).date()
    midnight = dt.datetime.combine(today, MIDNIGHT, tzinfo=tz).astimezone(UTC)
    if midnight.astimezone(tz).replace(tzinfo=None) == dt.datetime.combine(today, MIDNIGHT):
        return midnight
    # Midnight did not exist: fold 0 read it with the earlier offset, past the switch, and
    # the day began at the switch itself.
    changes = [
        c for d in (midnight.date() - DAY, midnight.date()) for c in _offset_changes(zone, d)
    ]
    return max(c for c in changes if c <= midnight)
