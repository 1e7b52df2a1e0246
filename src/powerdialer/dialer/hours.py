# TEMPORARY local stand-in until H1's module lands (not committed).
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import timezone as pntz


@dataclass(frozen=True, slots=True)
class Window:
    days: tuple[tuple[tuple[dt.time, dt.time], ...], ...]
    holidays: frozenset[dt.date] = frozenset()
    holiday_calendar: str | None = None


@functools.lru_cache(maxsize=65536)
def zones_for(phone_e164, tz, fallback="Europe/Kyiv"):
    if tz:
        ZoneInfo(tz)
        return (tz,)
    zs = pntz.time_zones_for_number(phonenumbers.parse(phone_e164))
    zs = tuple(sorted(set(z for z in zs if z != "Etc/Unknown")))
    ZoneInfo(fallback)
    return zs or (fallback,)


def _open_in(w, zone, now):
    local = now.astimezone(ZoneInfo(zone))
    if local.date() in w.holidays:
        return False
    t = local.time().replace(tzinfo=None)
    for s, e in w.days[local.weekday()]:
        if s <= t and (t < e or e == dt.time(0)):
            return True
    return False


def is_open(w, zones, now):
    return all(_open_in(w, z, now) for z in zones)


def next_opening(w, zones, now, horizon=dt.timedelta(days=14)):
    if is_open(w, zones, now):
        return now
    cands = []
    for z in zones:
        zi = ZoneInfo(z)
        d0 = now.astimezone(zi).date()
        for i in range(-1, horizon.days + 2):
            d = d0 + dt.timedelta(days=i)
            for s, _ in w.days[d.weekday()]:
                t = dt.datetime.combine(d, s, zi).astimezone(dt.UTC)
                if now < t <= now + horizon:
                    cands.append(t)
    for t in sorted(cands):
        if is_open(w, zones, t):
            return t
    return None


def local_day_start(zone, now):
    zi = ZoneInfo(zone)
    local = now.astimezone(zi)
    return dt.datetime.combine(local.date(), dt.time(0), zi).astimezone(dt.UTC)


def window_from_json(value, field="hours"):
    names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    days = []
    for n in names:
        iv = []
        for part in (value.get("days") or {}).get(n, []):
            a, b = part.split("-")
            iv.append(
                (dt.time.fromisoformat(a), dt.time(0) if b == "24:00" else dt.time.fromisoformat(b))
            )
        days.append(tuple(iv))
    return Window(
        tuple(days),
        frozenset(dt.date.fromisoformat(x) for x in value.get("holidays") or []),
        value.get("holiday_calendar"),
    )


def window_to_json(w):
    names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    return {
        "days": {
            n: [
                f"{s:%H:%M}-{'24:00' if e == dt.time(0) else format(e, '%H:%M')}"
                for s, e in w.days[i]
            ]
            for i, n in enumerate(names)
        },
        "holidays": sorted(str(d) for d in w.holidays),
        "holiday_calendar": w.holiday_calendar,
    }
