"""A window's JSON: what it accepts, what it refuses (naming the field), and the round trip."""

from __future__ import annotations

import datetime as dt

import pytest

from powerdialer.dialer import hours
from powerdialer.dialer.profiles import PROFILES
from powerdialer.errors import ValidationError

T = dt.time


def test_a_window_reads_from_json_with_missing_days_closed() -> None:
    window = hours.window_from_json(
        {
            "days": {"mon": ["14:00-20:00", "09:00-13:00"], "sat": ["20:00-24:00"]},
            "holidays": ["2026-12-25"],
            "holiday_calendar": "FR",
        }
    )
    assert window.days[0] == ((T(9), T(13)), (T(14), T(20)))  # sorted
    assert window.days[5] == ((T(20), T(0)),)  # 24:00 is midnight ending the day
    assert window.days[1] == window.days[6] == ()
    assert window.holidays == frozenset({dt.date(2026, 12, 25)})
    assert window.holiday_calendar == "FR"


def test_the_json_of_a_window_names_every_day_and_reads_back_the_same() -> None:
    window = hours.window_from_json({"days": {"sun": ["00:00-24:00"]}})
    assert hours.window_to_json(window) == {
        "days": {
            "mon": [],
            "tue": [],
            "wed": [],
            "thu": [],
            "fri": [],
            "sat": [],
            "sun": ["00:00-24:00"],
        },
        "holidays": [],
        "holiday_calendar": None,
    }
    for profile in PROFILES.values():
        assert hours.window_from_json(hours.window_to_json(profile.window)) == profile.window


def test_touching_intervals_are_not_overlapping() -> None:
    window = hours.window_from_json({"days": {"fri": ["09:00-13:00", "13:00-14:00"]}})
    assert window.days[4] == ((T(9), T(13)), (T(13), T(14)))


@pytest.mark.parametrize(
    ("value", "field", "reason"),
    [
        ([], "hours", "not_an_object"),
        ({"day": {}}, "hours.day", "unknown_key"),
        ({"days": []}, "hours.days", "not_an_object"),
        ({"days": {"monday": []}}, "hours.days.monday", "unknown_day"),
        ({"days": {"mon": "09:00-20:00"}}, "hours.days.mon", "not_a_list"),
        ({"days": {"mon": ["09:00-13:00", "9-20"]}}, "hours.days.mon[1]", "bad_time"),
        ({"days": {"tue": ["09:00"]}}, "hours.days.tue[0]", "bad_interval"),
        ({"days": {"tue": [900]}}, "hours.days.tue[0]", "bad_interval"),
        ({"days": {"wed": ["24:00-24:00"]}}, "hours.days.wed[0]", "bad_time"),
        ({"days": {"wed": ["09:60-10:00"]}}, "hours.days.wed[0]", "bad_time"),
        ({"days": {"wed": ["10:00-25:00"]}}, "hours.days.wed[0]", "bad_time"),
        ({"days": {"thu": ["13:00-09:00"]}}, "hours.days.thu[0]", "start_not_before_end"),
        ({"days": {"thu": ["09:00-09:00"]}}, "hours.days.thu[0]", "start_not_before_end"),
        ({"days": {"fri": ["09:00-13:00", "12:59-14:00"]}}, "hours.days.fri[1]", "overlap"),
        ({"days": {"fri": ["20:00-24:00", "21:00-22:00"]}}, "hours.days.fri[1]", "overlap"),
        (
            {"days": {"sat": [f"{h:02}:00-{h:02}:30" for h in range(9)]}},
            "hours.days.sat",
            "too_many_intervals",
        ),
        ({"holidays": "2026-12-25"}, "hours.holidays", "not_a_list"),
        ({"holidays": ["2026-02-30"]}, "hours.holidays[0]", "bad_date"),
        ({"holidays": ["2026-12-25", "25.12.2026"]}, "hours.holidays[1]", "bad_date"),
        ({"holidays": ["2026-01-01"] * 401}, "hours.holidays", "too_many_holidays"),
        ({"holiday_calendar": "XX"}, "hours.holiday_calendar", "unknown_calendar"),
        ({"holiday_calendar": "fr"}, "hours.holiday_calendar", "unknown_calendar"),
        ({"holiday_calendar": 33}, "hours.holiday_calendar", "unknown_calendar"),
    ],
)
def test_a_bad_window_is_refused_naming_the_field(value: object, field: str, reason: str) -> None:
    with pytest.raises(ValidationError) as caught:
        hours.window_from_json(value)
    assert (caught.value.field, caught.value.reason) == (field, reason)
    assert caught.value.code == "invalid_hours"
    assert caught.value.message.startswith(field.split("[")[0].rsplit(".", 1)[0])


def test_the_field_prefix_is_the_callers() -> None:
    with pytest.raises(ValidationError) as caught:
        hours.window_from_json({"days": {"sun": ["x"]}}, field="rules.hours")
    assert caught.value.field == "rules.hours.days.sun[0]"


def test_eight_intervals_and_400_dates_are_the_limits_not_refusals() -> None:
    day = [f"{h:02}:00-{h:02}:30" for h in range(8)]
    dates = [(dt.date(2026, 1, 1) + dt.timedelta(days=n)).isoformat() for n in range(400)]
    window = hours.window_from_json({"days": {"sat": day}, "holidays": dates})
    assert len(window.days[5]) == 8
    assert len(window.holidays) == 400


def test_a_window_has_seven_days() -> None:
    with pytest.raises(ValueError, match="7 days"):
        hours.Window(days=((),) * 6)
