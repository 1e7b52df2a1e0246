"""Calling hours in the contact's own zone: which zones a row has, open or not, the next
opening and closing across daylight-saving switches, and the local day."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from powerdialer.dialer import hours
from powerdialer.dialer.hours import Window
from powerdialer.errors import ValidationError
from tests.dialer.clocks import UTC, at

T = dt.time


def daily(start: dt.time, end: dt.time) -> Window:
    return Window(days=(((start, end),),) * 7)


EVERY_DAY_9_20 = daily(T(9), T(20))
KYIV = ("Europe/Kyiv",)


def test_a_ukrainian_number_is_called_in_kyiv() -> None:
    assert hours.zones_for("+380931234567", None) == KYIV


@pytest.mark.parametrize(
    ("phone", "zone"),
    [
        ("+12125551234", "America/New_York"),
        ("+13105551234", "America/Los_Angeles"),
        ("+33612345678", "Europe/Paris"),
    ],
)
def test_a_geographic_number_has_its_one_zone(phone: str, zone: str) -> None:
    assert hours.zones_for(phone, None) == (zone,)


@pytest.mark.parametrize(
    ("phone", "least"), [("+18005551234", 40), ("+79161234567", 14), ("+61412345678", 5)]
)
def test_a_number_of_several_zones_has_them_all_sorted_once(phone: str, least: int) -> None:
    zones = hours.zones_for(phone, None)
    assert len(zones) >= least
    assert list(zones) == sorted(set(zones))


def test_a_toll_free_number_is_open_only_when_open_in_every_zone() -> None:
    zones = hours.zones_for("+18005551234", None)  # Guam (UTC+10) to Pago Pago (UTC-11)
    eight_to_nine = daily(T(8), T(21))
    noon_in_new_york = at("America/New_York", "2026-06-10 12:00")  # 02:00 in Guam: closed
    assert hours.is_open(eight_to_nine, ("America/New_York",), noon_in_new_york)
    assert not hours.is_open(eight_to_nine, zones, noon_in_new_york)
    opening = hours.next_opening(eight_to_nine, zones, noon_in_new_york)
    assert opening == at("Pacific/Guam", "2026-06-11 08:00")  # Guam opens last
    assert all(hours.is_open(eight_to_nine, (zone,), opening) for zone in zones)
    # St John's (UTC-2:30) closes first: 90 minutes a day in all 42 zones.
    assert hours.next_closing(eight_to_nine, zones, opening) == at(
        "America/St_Johns", "2026-06-10 21:00"
    )
    # Eleven hours a day cannot cover 21 hours of zones: no common window at all.
    assert hours.next_opening(EVERY_DAY_9_20, zones, noon_in_new_york) is None


def test_the_rows_own_zone_wins_over_the_numbers() -> None:
    assert hours.zones_for("+380931234567", "America/Chicago") == ("America/Chicago",)


@pytest.mark.parametrize("phone", ["+88212345678", "+80012345678", "not a number"])
def test_a_number_without_a_known_zone_takes_the_fallback(phone: str) -> None:
    assert hours.zones_for(phone, None) == KYIV
    assert hours.zones_for(phone, None, "Europe/Warsaw") == ("Europe/Warsaw",)


@pytest.mark.parametrize(
    ("tz", "fallback", "field"),
    [("Mars/Olympus", "Europe/Kyiv", "tz"), (None, "Nowhere/City", "fallback_tz")],
)
def test_a_zone_the_host_does_not_know_is_refused(
    tz: str | None, fallback: str, field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        hours.zones_for("+88212345678", tz, fallback)
    assert caught.value.field == field
    assert "IANA" in caught.value.message


def test_open_now_answers_now_and_a_closing() -> None:
    now = at("Europe/Kyiv", "2026-06-10 10:17:31")
    assert hours.next_opening(EVERY_DAY_9_20, KYIV, now) == now
    assert hours.next_closing(EVERY_DAY_9_20, KYIV, now) == at("Europe/Kyiv", "2026-06-10 20:00")
    assert hours.next_closing(EVERY_DAY_9_20, KYIV, at("Europe/Kyiv", "2026-06-10 20:00")) is None


def test_a_closed_window_opens_at_the_next_start_in_local_time() -> None:
    evening = at("Europe/Kyiv", "2026-06-10 20:00")
    assert hours.next_opening(EVERY_DAY_9_20, KYIV, evening) == at(
        "Europe/Kyiv", "2026-06-11 09:00"
    )


def test_no_common_window_is_none_within_the_horizon() -> None:
    late = daily(T(21), T(23))
    zones = ("Asia/Tokyo", "Europe/Kyiv")  # 6 or 7 hours apart: two hours never meet
    assert hours.next_opening(late, zones, at("Europe/Kyiv", "2026-06-10 12:00")) is None
    far = Window(days=((), (), (), (), (), (), ((T(9), T(10)),)))  # Sundays only
    now = at("Europe/Kyiv", "2026-06-15 12:00")  # a Monday
    assert hours.next_opening(far, KYIV, now, horizon=dt.timedelta(days=5)) is None
    assert hours.next_opening(far, KYIV, now) == at("Europe/Kyiv", "2026-06-21 09:00")


def test_an_interval_ending_at_midnight_runs_into_the_next_days_start() -> None:
    late = Window(days=(((T(20), T(0)),), ((T(0), T(2)), (T(20), T(0))), *((),) * 5))
    monday_21 = at("Europe/Kyiv", "2026-06-15 21:00")
    assert hours.is_open(late, KYIV, at("Europe/Kyiv", "2026-06-15 23:59:59"))
    assert hours.next_closing(late, KYIV, monday_21) == at("Europe/Kyiv", "2026-06-16 02:00")


def test_a_holiday_date_is_closed_in_the_zones_own_date() -> None:
    christmas = Window(days=EVERY_DAY_9_20.days, holidays=frozenset({dt.date(2026, 12, 25)}))
    morning = at("Europe/Kyiv", "2026-12-25 10:00")
    assert not hours.is_open(christmas, KYIV, morning)
    assert hours.is_open(
        christmas, ("America/Los_Angeles",), at("America/Los_Angeles", "2026-12-24 19:00")
    )
    assert hours.next_opening(christmas, KYIV, morning) == at("Europe/Kyiv", "2026-12-26 09:00")


# Kyiv springs forward 2026-03-29 03:00 -> 04:00 and falls back 2026-10-25 04:00 -> 03:00.
def test_a_start_in_the_spring_forward_gap_opens_when_the_gap_ends() -> None:
    window = daily(T(3, 30), T(5))
    before = at("Europe/Kyiv", "2026-03-29 02:00")
    assert hours.next_opening(window, KYIV, before) == dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert not hours.is_open(window, KYIV, dt.datetime(2026, 3, 29, 0, 59, 59, tzinfo=UTC))


def test_an_ambiguous_start_opens_at_its_first_occurrence_then_at_its_second() -> None:
    window = daily(T(3, 30), T(3, 45))
    first = at("Europe/Kyiv", "2026-10-25 03:30", fold=0)
    second = at("Europe/Kyiv", "2026-10-25 03:30", fold=1)
    assert second - first == dt.timedelta(hours=1)
    assert hours.next_opening(window, KYIV, at("Europe/Kyiv", "2026-10-25 01:00")) == first
    after_first = at("Europe/Kyiv", "2026-10-25 03:45", fold=0)
    assert hours.next_opening(window, KYIV, after_first) == second
    assert hours.next_closing(window, KYIV, second) == at("Europe/Kyiv", "2026-10-25 03:45", 1)


def test_falling_back_into_an_interval_reopens_it_at_the_switch() -> None:
    window = daily(T(2), T(3, 30))
    closed = at("Europe/Kyiv", "2026-10-25 03:45", fold=0)  # 00:45 UTC
    switch = dt.datetime(2026, 10, 25, 1, 0, tzinfo=UTC)  # the clock reads 03:00 again
    assert not hours.is_open(window, KYIV, closed)
    assert hours.next_opening(window, KYIV, closed) == switch


def test_the_local_day_starts_at_local_midnight_on_switch_days_too() -> None:
    assert hours.local_day_start("Europe/Kyiv", at("Europe/Kyiv", "2026-03-29 23:00")) == (
        dt.datetime(2026, 3, 28, 22, 0, tzinfo=UTC)
    )
    assert hours.local_day_start("Europe/Kyiv", at("Europe/Kyiv", "2026-10-25 12:00")) == (
        dt.datetime(2026, 10, 24, 21, 0, tzinfo=UTC)
    )
    day = hours.local_day_start("America/New_York", dt.datetime(2026, 6, 11, 3, 0, tzinfo=UTC))
    assert day == at("America/New_York", "2026-06-10 00:00")


def test_a_day_whose_midnight_does_not_exist_starts_at_the_switch() -> None:
    # Santiago springs forward from 00:00 to 01:00 on 2026-09-06.
    zone = "America/Santiago"
    noon = at(zone, "2026-09-06 12:00")
    start = hours.local_day_start(zone, noon)
    assert start == dt.datetime(2026, 9, 6, 4, 0, tzinfo=UTC)  # 01:00 -03, the day's first
    assert (start - dt.timedelta(seconds=1)).astimezone(ZoneInfo(zone)).day == 5
