"""Properties over random windows, zones and instants (clustered around offset changes),
checked against a brute force that reads each zone's wall clock with zoneinfo."""

from __future__ import annotations

import datetime as dt
import functools

from hypothesis import given, settings
from hypothesis import strategies as st

from powerdialer.dialer import hours
from powerdialer.dialer.hours import Window
from tests.dialer.clocks import UTC, brute_open, minutes, tz

# Zones with odd offsets, 30-minute and 2-hour switches, switches at midnight, +14 and -11.
ZONES = [
    "Africa/Casablanca", "America/Havana", "America/New_York", "America/Santiago",
    "America/St_Johns", "Antarctica/Troll", "Asia/Beirut", "Asia/Kathmandu",
    "Australia/Eucla", "Australia/Lord_Howe", "Europe/Kyiv", "Europe/London",
    "Pacific/Chatham", "Pacific/Kiritimati", "Pacific/Pago_Pago",
]  # fmt: skip
HORIZON = dt.timedelta(days=2)
Days = list[list[tuple[int, int]]]
CASE = tuple[Window, Days, tuple[str, ...], frozenset[dt.date], str | None]
SCENARIO = tuple[CASE, dt.datetime]


@functools.cache
def _switches(zone: str) -> list[dt.datetime]:
    """The hours of 2026 in which ``zone`` changes its offset."""
    found = []
    hour = dt.datetime(2026, 1, 1, tzinfo=UTC)
    while hour.year == 2026:
        later = hour + dt.timedelta(hours=1)
        if hour.astimezone(tz(zone)).utcoffset() != later.astimezone(tz(zone)).utcoffset():
            found.append(hour)
        hour = later
    return found


def _time(minute: int) -> dt.time:
    return dt.time(0, 0) if minute == 1440 else dt.time(minute // 60, minute % 60)


@st.composite
def days(draw: st.DrawFn, near: list[int]) -> Days:
    """Up to 3 intervals a day; near a switch (``near``: its local minutes), one interval a day
    that starts or ends within 90 minutes of it, to start in a gap or twice after a fall-back."""
    around = [m + d for m in near for d in range(-90, 91, 5) if 0 <= m + d < 1440]
    week = []
    for _ in range(7):
        if around and draw(st.integers(0, 3)):
            edge = draw(st.sampled_from(around))
            other = draw(st.integers(0, 1440).filter(lambda m, e=edge: m != e))
            week.append([(min(edge, other), max(edge, other))])
            continue
        marks = sorted(draw(st.sets(st.integers(0, 1440), min_size=2, max_size=6)))
        marks = marks[: len(marks) // 2 * 2]
        week.append(list(zip(marks[::2], marks[1::2], strict=True)))
    return week


@st.composite
def scenarios(draw: st.DrawFn) -> SCENARIO:
    """A window, 1 to 3 zones and an instant; mostly near a switch of the first zone."""
    zones = draw(st.lists(st.sampled_from(ZONES), min_size=1, max_size=2, unique=True))
    now = dt.datetime(2026, 1, 1, tzinfo=UTC) + draw(
        st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=364))
    )
    near: list[int] = []
    if _switches(zones[0]) and draw(st.integers(0, 3)):
        switch = draw(st.sampled_from(_switches(zones[0])))
        width = draw(st.sampled_from([dt.timedelta(hours=6), HORIZON]))
        now = switch + draw(st.timedeltas(min_value=-width, max_value=width))
        for moment in (switch, switch + dt.timedelta(hours=1)):
            local = moment.astimezone(tz(zones[0]))
            near.append(local.hour * 60 + local.minute)
    week = draw(days(near))
    dates = draw(st.frozensets(st.dates(dt.date(2025, 12, 25), dt.date(2027, 1, 10)), max_size=4))
    code = draw(st.sampled_from([None, None, "FR", "UA", "US"]))
    window = Window(
        days=tuple(tuple((_time(a), _time(b)) for a, b in day) for day in week),
        holidays=dates,
        holiday_calendar=code,
    )
    return (window, week, tuple(sorted(zones)), dates, code), now


@settings(max_examples=400, deadline=None)
@given(scenarios())
def test_is_open_agrees_with_the_wall_clock_of_every_zone(scenario: SCENARIO) -> None:
    (window, week, zones, dates, code), now = scenario
    assert hours.is_open(window, zones, now) is brute_open(week, zones, now, dates, code)


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_next_opening_is_open_and_nothing_before_it_is(scenario: SCENARIO) -> None:
    (window, week, zones, dates, code), now = scenario
    opening = hours.next_opening(window, zones, now, horizon=HORIZON)

    def is_open(t: dt.datetime) -> bool:
        return brute_open(week, zones, t, dates, code)

    if opening is None:
        assert not any(is_open(t) for t in minutes(now, now + HORIZON)), now
        return
    assert now <= opening <= now + HORIZON
    assert is_open(opening)
    assert not any(is_open(t) for t in minutes(now, opening))
    one_second = opening - dt.timedelta(seconds=1)
    assert one_second < now or not is_open(one_second)  # exact, not a minute late


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_next_closing_is_closed_and_everything_before_it_open(scenario: SCENARIO) -> None:
    (window, week, zones, dates, code), now = scenario
    closing = hours.next_closing(window, zones, now, horizon=HORIZON)

    def is_open(t: dt.datetime) -> bool:
        return brute_open(week, zones, t, dates, code)

    if not is_open(now):
        assert closing is None
        return
    if closing is None:
        assert all(is_open(t) for t in minutes(now, now + HORIZON)), now
        return
    assert now < closing
    assert not is_open(closing)
    assert all(is_open(t) for t in minutes(now, closing))
    assert is_open(closing - dt.timedelta(seconds=1)) or closing - dt.timedelta(seconds=1) < now


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_a_window_survives_its_json(scenario: SCENARIO) -> None:
    window = scenario[0][0]
    assert hours.window_from_json(hours.window_to_json(window)) == window


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_the_local_day_starts_at_the_first_instant_of_the_local_date(scenario: SCENARIO) -> None:
    zone, now = scenario[0][2][0], scenario[1]
    start = hours.local_day_start(zone, now)
    today = now.astimezone(tz(zone)).date()
    assert start <= now
    assert start.astimezone(tz(zone)).date() == today
    assert (start - dt.timedelta(seconds=1)).astimezone(tz(zone)).date() < today


def test_starts_around_every_2026_switch_of_every_zone_open_at_the_first_open_minute() -> None:
    """Exhaustive where random draws are thin: half-hour windows starting every 15 minutes
    around each switch, asked every 10 minutes from 2 hours before to 3 hours after."""
    checked = 0
    for zone in ZONES:
        for switch in _switches(zone):
            before = switch.astimezone(tz(zone))
            first = before.hour * 60 + before.minute
            for start in range(max(0, first - 60), min(1410, first + 180), 15):
                week = [[(start, start + 30)]] * 7
                window = Window(days=(((_time(start), _time(start + 30)),),) * 7)
                clock = minutes(
                    switch - dt.timedelta(hours=2), switch + dt.timedelta(days=1, hours=4)
                )
                open_at = [brute_open(week, (zone,), t) for t in clock]
                for i in range(0, 300, 10):
                    j = next(k for k in range(i, len(clock)) if open_at[k])
                    assert hours.next_opening(window, (zone,), clock[i]) == clock[j], (
                        zone,
                        start,
                        clock[i],
                    )
                    checked += 1
    assert checked > 5000
