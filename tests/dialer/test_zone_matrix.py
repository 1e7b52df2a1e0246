"""The zone matrix (issue 12): seven kinds of number, every profile, ±2 days around both of
Kyiv's 2026 daylight-saving switches.  A clock steps minute by minute; a brute force reading
each zone's wall clock with zoneinfo says what is open.  No instant is ever open that the brute
force calls closed ("0 leases outside the window"), and ``next_opening`` answers exactly the
first open minute, never earlier and never skipping one."""

from __future__ import annotations

import datetime as dt
import functools
from zoneinfo import ZoneInfo

import pytest

from powerdialer.dialer import hours
from powerdialer.dialer.profiles import profile
from tests.dialer.clocks import UTC, brute_open, calendar, minutes, tz

NUMBERS = {
    "ukraine": "+380931234567",
    "new_york": "+12125551234",
    "los_angeles": "+13105551234",
    "us_toll_free": "+18005551234",
    "russian_mobile": "+79161234567",
    "australian_mobile": "+61412345678",
    "french_mobile": "+33612345678",
}
# Kyiv: 2026-03-29 03:00 -> 04:00 EEST and 2026-10-25 04:00 -> 03:00 EET, both at 01:00 UTC.
SWITCHES = {
    "spring": dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
    "autumn": dt.datetime(2026, 10, 25, 1, 0, tzinfo=UTC),
}
AROUND = dt.timedelta(days=2)
LOOKAHEAD = dt.timedelta(days=1)  # past the last instant checked, for next_opening's answers


def _m(text: str) -> tuple[int, int]:
    first, last = text.split("-")
    return tuple(int(t[:2]) * 60 + int(t[3:]) for t in (first, last))  # type: ignore[return-value]


# The profiles written out again as minutes of the day, so the check does not read them.
RULES: dict[str, tuple[list[list[tuple[int, int]]], str | None]] = {
    "default": ([[_m("09:00-20:00")]] * 7, None),
    "us": ([[_m("08:00-21:00")]] * 7, None),
    "fr": ([[_m("10:00-13:00"), _m("14:00-20:00")]] * 5 + [[], []], "FR"),
    "ua_collections": ([[_m("09:00-20:00")]] * 5 + [[], []], "UA"),
}


def _clock(switch: str) -> list[dt.datetime]:
    return minutes(SWITCHES[switch] - AROUND, SWITCHES[switch] + AROUND + LOOKAHEAD)


@functools.cache
def _walls(zone: str, switch: str) -> tuple[tuple[dt.date, int], ...]:
    """The zone's wall clock (local date, minute of the day) at each minute of the clock."""
    walls = []
    for t in _clock(switch):
        local = t.astimezone(tz(zone))
        walls.append((local.date(), local.hour * 60 + local.minute))
    return tuple(walls)


@functools.cache
def _brute(code: str, zone: str, switch: str) -> tuple[bool, ...]:
    """Open or not in ``zone``, per minute of the clock, from the wall clock alone."""
    days, country = RULES[code]
    return tuple(
        date not in calendar(country, date.year)
        and any(a <= minute < b for a, b in days[date.weekday()])
        for date, minute in _walls(zone, switch)
    )


def test_the_matrix_covers_the_switches_and_the_zones_it_claims() -> None:
    zones = {name: hours.zones_for(phone, None) for name, phone in NUMBERS.items()}
    assert len(zones["us_toll_free"]) > 1
    assert len(zones["russian_mobile"]) > 10
    assert len(zones["australian_mobile"]) > 1
    kyiv = ZoneInfo(hours.zones_for("+380931234567", None)[0])
    for at in SWITCHES.values():
        before = (at - dt.timedelta(seconds=1)).astimezone(kyiv)
        assert before.utcoffset() != at.astimezone(kyiv).utcoffset()


@pytest.mark.parametrize("switch", sorted(SWITCHES))
@pytest.mark.parametrize("number", sorted(NUMBERS))
@pytest.mark.parametrize("code", sorted(RULES))
def test_no_lease_outside_the_window_and_next_opening_is_exact(
    code: str, number: str, switch: str
) -> None:
    window = profile(code).window
    zones = hours.zones_for(NUMBERS[number], None)
    per_zone = [_brute(code, zone, switch) for zone in zones]
    expected = [all(column) for column in zip(*per_zone, strict=True)]
    clock = _clock(switch)
    # first_open[i]: the first index >= i that is open (len(clock) when none is).
    first_open = [len(clock)] * (len(clock) + 1)
    for i in range(len(clock) - 1, -1, -1):
        first_open[i] = i if expected[i] else first_open[i + 1]
    checked = int(2 * AROUND / dt.timedelta(minutes=1))
    leased_outside = 0
    for i in range(checked):
        now = clock[i]
        assert hours.is_open(window, zones, now) is expected[i], now
        if i % 5:
            continue
        opening = hours.next_opening(window, zones, now)
        days, country = RULES[code]
        if opening is not None and not brute_open(days, zones, opening, code=country):
            leased_outside += 1
        if opening is not None and opening < now:
            leased_outside += 1
        if first_open[i] < len(clock):
            assert opening == clock[first_open[i]], now
        else:  # nothing opens within the lookahead: none, or later than it
            assert opening is None or opening >= clock[-1], now
    assert leased_outside == 0
