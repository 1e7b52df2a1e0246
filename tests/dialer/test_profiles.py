"""The named profiles, a minute either side of each limit, on weekdays, weekends and a holiday
of each calendar, in the called party's own zone."""

from __future__ import annotations

import datetime as dt

import pytest

from powerdialer.dialer import hours
from powerdialer.dialer.profiles import PROFILES, profile
from powerdialer.errors import ValidationError
from tests.dialer.clocks import at

WEDNESDAY, SATURDAY, SUNDAY = "2026-06-10", "2026-06-13", "2026-06-14"
KYIV, NEW_YORK, PARIS = "Europe/Kyiv", "America/New_York", "Europe/Paris"

# (profile, zone, local date, local time, open?)
BOUNDARIES = [
    *[
        ("default", KYIV, day, t, o)
        for day in (WEDNESDAY, SATURDAY, SUNDAY)
        for t, o in [("08:59", False), ("09:00", True), ("19:59", True), ("20:00", False)]
    ],
    *[
        ("us", NEW_YORK, day, t, o)
        for day in (WEDNESDAY, SATURDAY, SUNDAY)
        for t, o in [("07:59", False), ("08:00", True), ("20:59", True), ("21:00", False)]
    ],
    ("us", NEW_YORK, "2026-07-03", "12:00", True),  # the federal rule has no holidays
    ("us", "America/Los_Angeles", WEDNESDAY, "08:00", True),
    ("us", "America/Los_Angeles", WEDNESDAY, "07:59", False),
    *[
        ("fr", PARIS, WEDNESDAY, t, o)
        for t, o in [
            ("09:59", False),
            ("10:00", True),
            ("12:59", True),
            ("13:00", False),
            ("13:59", False),
            ("14:00", True),
            ("19:59", True),
            ("20:00", False),
        ]
    ],
    *[("fr", PARIS, day, t, False) for day in (SATURDAY, SUNDAY) for t in ("10:00", "14:00")],
    ("fr", PARIS, "2026-07-14", "10:00", False),  # Bastille Day, a Tuesday
    ("fr", PARIS, "2026-07-14", "14:00", False),
    ("fr", PARIS, "2026-07-15", "10:00", True),
    ("fr", PARIS, "2026-05-25", "10:00", False),  # Whit Monday
    *[
        ("ua_collections", KYIV, WEDNESDAY, t, o)
        for t, o in [("08:59", False), ("09:00", True), ("19:59", True), ("20:00", False)]
    ],
    *[
        ("ua_collections", KYIV, day, t, False)
        for day in (SATURDAY, SUNDAY)
        for t in ("09:00", "12:00")
    ],
    ("ua_collections", KYIV, "2026-08-24", "12:00", False),  # Independence Day, a Monday
    ("ua_collections", KYIV, "2026-08-25", "12:00", True),
    ("ua_collections", KYIV, "2026-06-29", "12:00", True),  # Constitution Day is Sunday 28
]


@pytest.mark.parametrize(("code", "zone", "day", "time", "expected"), BOUNDARIES)
def test_each_limit_of_each_profile_a_minute_either_side(
    code: str, zone: str, day: str, time: str, expected: bool
) -> None:
    window = profile(code).window
    assert hours.is_open(window, (zone,), at(zone, f"{day} {time}")) is expected


def test_french_hours_reopen_after_lunch_and_on_monday_after_a_holiday_weekend() -> None:
    fr = profile("fr").window
    lunch = at(PARIS, "2026-06-10 13:00")
    assert hours.next_opening(fr, (PARIS,), lunch) == at(PARIS, "2026-06-10 14:00")
    assert hours.next_closing(fr, (PARIS,), at(PARIS, "2026-06-10 10:00")) == lunch
    friday_evening = at(PARIS, "2026-05-22 20:00")  # Whit Monday 25 May is closed
    assert hours.next_opening(fr, (PARIS,), friday_evening) == at(PARIS, "2026-05-26 10:00")


def test_ukrainian_collections_skip_the_weekend_and_a_holiday() -> None:
    ua = profile("ua_collections").window
    friday_evening = at(KYIV, "2026-08-21 20:00")  # Monday 24 August is Independence Day
    assert hours.next_opening(ua, (KYIV,), friday_evening) == at(KYIV, "2026-08-25 09:00")


def test_the_ukrainian_calendar_keeps_the_statutory_holidays_martial_law_made_workdays() -> None:
    # The holidays library files them as WORKDAY since 2023 and its public list is empty;
    # the profile closes them all the same (docs/calling-hours.md).
    ua = profile("ua_collections").window
    for day in ("2026-01-01", "2026-05-01", "2026-10-01", "2026-12-25"):
        assert not hours.is_open(ua, (KYIV,), at(KYIV, f"{day} 12:00")), day


def test_the_profiles_carry_their_caps_and_cool_downs() -> None:
    assert list(PROFILES) == ["default", "us", "fr", "ua_collections"]
    assert profile("fr").number_per_span == (4, dt.timedelta(days=30))
    assert profile("fr").refusal_cooldown == dt.timedelta(days=60)
    assert profile("ua_collections").number_per_day == 2
    assert profile("default").number_per_day is None
    assert profile("us").window.holiday_calendar is None
    for each in PROFILES.values():
        assert "not legal advice" in each.notes
        assert each.title


def test_the_profiles_cannot_be_changed_at_run_time() -> None:
    with pytest.raises(TypeError):
        PROFILES["us"] = profile("default")  # type: ignore[index]


def test_an_unknown_profile_names_the_choices() -> None:
    with pytest.raises(ValidationError) as caught:
        profile("de")
    assert (caught.value.code, caught.value.field) == ("unknown_hours_profile", "hours.profile")
    for code in PROFILES:
        assert code in caught.value.message
