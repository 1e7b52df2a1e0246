"""A calling window as a value: weekday intervals, holiday dates, a holiday calendar, and its
JSON shape.  ``hours`` evaluates one in time zones; this module knows nothing of zones.

JSON (docs/calling-hours.md)::

    {"days": {"mon": ["09:00-13:00", "14:00-20:00"], ..., "sun": []},
     "holidays": ["2026-12-25"], "holiday_calendar": "FR"}

A day left out is closed; ``"24:00"`` may end an interval.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import re
from dataclasses import dataclass

import holidays as holiday_library
from holidays.constants import PUBLIC, WORKDAY

from powerdialer.errors import ValidationError, invalid

MIDNIGHT = dt.time(0, 0)
Interval = tuple[dt.time, dt.time]
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_INTERVALS = 8
MAX_HOLIDAYS = 400
_TIME = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")

# Ukraine: martial law (since 2022) made the statutory holidays of Labor Code art. 73 working
# days, and the library files them under WORKDAY, leaving PUBLIC empty from 2023.  A law that
# forbids calls "on holidays" (Law 1349-IX, debt collection) still names those dates, so the
# cautious reading closes them: "UA" means the art. 73 dates whether or not they are days off.
_CATEGORIES: dict[str, tuple[str, ...]] = {"UA": (PUBLIC, WORKDAY), "UKR": (PUBLIC, WORKDAY)}


@dataclass(frozen=True, slots=True)
class Window:
    """Calling hours: per weekday (0 = Monday … 6 = Sunday) zero or more ``[start, end)`` local
    intervals; holiday dates (local dates) and/or a holiday calendar (ISO country code of the
    ``holidays`` library: "FR", "UA", "US" …) on which nothing is open.

    An interval ending at midnight is written ``end = dt.time(0, 0)`` and means "24:00": open
    until the end of the day (``"24:00"`` in JSON)."""

    days: tuple[tuple[Interval, ...], ...]  # exactly 7 entries
    holidays: frozenset[dt.date] = frozenset()
    holiday_calendar: str | None = None

    def __post_init__(self) -> None:
        if len(self.days) != 7:
            raise ValueError(f"a Window has 7 days (Monday first), not {len(self.days)}")

    def opens_on(self, day: dt.date) -> tuple[Interval, ...]:
        """The intervals of local date ``day``: none on a holiday."""
        if day in self.holidays or (
            self.holiday_calendar is not None
            and day in holiday_dates(self.holiday_calendar, day.year)
        ):
            return ()
        return self.days[day.weekday()]


@functools.cache
def calendar_codes() -> frozenset[str]:
    """The country codes the ``holidays`` library has a calendar for."""
    return frozenset(holiday_library.list_supported_countries())


@functools.lru_cache(maxsize=1024)
def holiday_dates(code: str, year: int) -> frozenset[dt.date]:
    """The public holidays of country ``code`` in ``year`` (national ones, no subdivision)."""
    categories = _CATEGORIES.get(code, (PUBLIC,))
    return frozenset(holiday_library.country_holidays(code, years=year, categories=categories))


def _fail(field: str, reason: str, message: str) -> ValidationError:
    return invalid(field, reason, message, code="invalid_hours")


def _time(text: str, field: str, *, end: bool) -> dt.time:
    if end and text == "24:00":
        return MIDNIGHT
    match = _TIME.fullmatch(text)
    if match is None:
        raise _fail(
            field,
            "bad_time",
            f"{field}: {text!r} is not a time: write HH:MM, 00:00 to 23:59"
            + (" (or 24:00 to end at midnight)." if end else "."),
        )
    return dt.time(int(match[1]), int(match[2]))


def _intervals(value: object, field: str) -> tuple[Interval, ...]:
    if not isinstance(value, list):
        raise _fail(field, "not_a_list", f'{field} must be a list such as ["09:00-13:00"].')
    if len(value) > MAX_INTERVALS:
        raise _fail(
            field,
            "too_many_intervals",
            f"{field} has {len(value)} intervals: at most "
            f"{MAX_INTERVALS} a day; merge the ones that touch.",
        )
    parsed: list[tuple[Interval, str]] = []
    for index, item in enumerate(value):
        here = f"{field}[{index}]"
        if not isinstance(item, str) or item.count("-") != 1:
            raise _fail(here, "bad_interval", f'{here} must be "HH:MM-HH:MM", e.g. "09:00-13:00".')
        first, last = (part.strip() for part in item.split("-"))
        start, end = _time(first, here, end=False), _time(last, here, end=True)
        if end != MIDNIGHT and end <= start:
            raise _fail(
                here,
                "start_not_before_end",
                f"{here} {item!r} ends before it starts: give the earlier time first.",
            )
        parsed.append(((start, end), here))
    parsed.sort(key=lambda pair: pair[0][0])
    for (before, _), ((start, _end), here) in itertools.pairwise(parsed):
        if before[1] == MIDNIGHT or start < before[1]:
            raise _fail(
                here,
                "overlap",
                f"{here} overlaps another interval of the day: "
                "make them one, or end one before the other starts.",
            )
    return tuple(interval for interval, _ in parsed)


def _holidays(value: object, field: str) -> frozenset[dt.date]:
    if not isinstance(value, list):
        raise _fail(field, "not_a_list", f'{field} must be a list of dates such as ["2026-12-25"].')
    if len(value) > MAX_HOLIDAYS:
        raise _fail(
            field,
            "too_many_holidays",
            f"{field} has {len(value)} dates: at most "
            f"{MAX_HOLIDAYS}; name a holiday_calendar for a country's public holidays.",
        )
    dates: set[dt.date] = set()
    for index, item in enumerate(value):
        try:
            if not isinstance(item, str) or len(item) != 10:
                raise ValueError
            dates.add(dt.date.fromisoformat(item))
        except ValueError:
            here = f"{field}[{index}]"
            raise _fail(
                here, "bad_date", f"{here} {item!r} is not a date: write YYYY-MM-DD."
            ) from None
    return frozenset(dates)


def window_from_json(value: object, field: str = "hours") -> Window:
    """The ``Window`` of a JSON object, or a ``ValidationError`` naming the field at fault
    (e.g. ``hours.days.mon[1]``)."""
    if not isinstance(value, dict):
        raise _fail(
            field,
            "not_an_object",
            f'{field} must be an object such as {{"days": {{"mon": ["09:00-20:00"]}}}}.',
        )
    unknown = sorted(set(value) - {"days", "holidays", "holiday_calendar"})
    if unknown:
        raise _fail(
            f"{field}.{unknown[0]}",
            "unknown_key",
            f"{field} has no {unknown[0]!r}: give days, holidays and holiday_calendar.",
        )
    days = value.get("days", {})
    if not isinstance(days, dict):
        raise _fail(
            f"{field}.days",
            "not_an_object",
            f'{field}.days must be an object such as {{"mon": ["09:00-20:00"]}}.',
        )
    for name in days:
        if name not in DAY_NAMES:
            raise _fail(
                f"{field}.days.{name}",
                "unknown_day",
                f"{field}.days has no day {name!r}: use {', '.join(DAY_NAMES)}.",
            )
    calendar = value.get("holiday_calendar")
    if calendar is not None and (not isinstance(calendar, str) or calendar not in calendar_codes()):
        raise _fail(
            f"{field}.holiday_calendar",
            "unknown_calendar",
            f"{field}.holiday_calendar "
            f"{calendar!r} is not a calendar the holidays library has: use an ISO country "
            "code in capitals, e.g. FR, UA, US, or null.",
        )
    return Window(
        days=tuple(_intervals(days.get(name, []), f"{field}.days.{name}") for name in DAY_NAMES),
        holidays=_holidays(value.get("holidays", []), f"{field}.holidays"),
        holiday_calendar=calendar,
    )


def _clock(time: dt.time, *, end: bool) -> str:
    return "24:00" if end and time == MIDNIGHT else time.strftime("%H:%M")


def window_to_json(window: Window) -> dict[str, object]:
    """The JSON of ``window``: every day named (``[]`` when closed), dates sorted."""
    return {
        "days": {
            name: [f"{_clock(a, end=False)}-{_clock(b, end=True)}" for a, b in intervals]
            for name, intervals in zip(DAY_NAMES, window.days, strict=True)
        },
        "holidays": sorted(day.isoformat() for day in window.holidays),
        "holiday_calendar": window.holiday_calendar,
    }
