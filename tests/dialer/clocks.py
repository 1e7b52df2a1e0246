"""Helpers the calling-hours tests share: local wall-clock instants, and an independent
brute-force reading of a window (zoneinfo and the holidays library, none of ``hours``)."""

from __future__ import annotations

import datetime as dt
import functools
from zoneinfo import ZoneInfo

import holidays

UTC = dt.UTC


@functools.cache
def tz(zone: str) -> ZoneInfo:
    return ZoneInfo(zone)  # ZoneInfo itself keeps only 8 strongly


def at(zone: str, text: str, fold: int = 0) -> dt.datetime:
    """The UTC instant of local wall time ``text`` ("2026-06-10 09:59") in ``zone``."""
    local = dt.datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone), fold=fold)
    return local.astimezone(UTC)


@functools.cache
def calendar(code: str | None, year: int) -> frozenset[dt.date]:
    """A country's holidays; Ukraine's statutory ones too (martial law files them as workdays)."""
    if code is None:
        return frozenset()
    categories = ("public", "workday") if code == "UA" else ("public",)
    return frozenset(holidays.country_holidays(code, years=year, categories=categories))


def brute_open(
    days: list[list[tuple[int, int]]],
    zones: tuple[str, ...],
    now: dt.datetime,
    dates: frozenset[dt.date] = frozenset(),
    code: str | None = None,
) -> bool:
    """Open in every zone, from minutes of the day: ``days[weekday]`` is a list of
    ``(start_minute, end_minute)`` with end up to 1440."""
    for zone in zones:
        local = now.astimezone(tz(zone))
        if local.date() in dates or local.date() in calendar(code, local.year):
            return False
        minute = local.hour * 60 + local.minute + (local.second + local.microsecond / 1e6) / 60
        if not any(a <= minute < b for a, b in days[local.weekday()]):
            return False
    return True


def minutes(first: dt.datetime, last: dt.datetime, step: int = 1) -> list[dt.datetime]:
    """Every ``step``-th whole minute from ``first`` (rounded up) up to ``last`` (excluded)."""
    start = first.replace(second=0, microsecond=0)
    if start < first:
        start += dt.timedelta(minutes=1)
    count = max(0, int((last - start).total_seconds() // 60))
    return [
        start + dt.timedelta(minutes=m)
        for m in range(0, count, step)
        if start + dt.timedelta(minutes=m) < last
    ]
