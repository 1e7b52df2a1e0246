"""Named calling-hours profiles: a window in the contact's own time, and the caps and the
cool-down that go with it.  Each encodes one reading of one rule, with its source in
``notes``.  They are aids, not legal advice: the user checks the rule that binds them
(docs/calling-hours.md)."""

from __future__ import annotations

import datetime as dt
import types
from collections.abc import Mapping
from dataclasses import dataclass

from powerdialer.dialer.windows import Interval, Window
from powerdialer.errors import ValidationError

NOT_ADVICE = "An aid, not legal advice: check the rule that binds your calls."


@dataclass(frozen=True, slots=True)
class Profile:
    code: str  # "default", "us", "fr", "ua_collections"
    title: str
    window: Window
    number_per_day: int | None = None  # calls to one number per local day
    number_per_span: tuple[int, dt.timedelta] | None = None  # e.g. (4, 30 days) rolling
    refusal_cooldown: dt.timedelta | None = None  # e.g. 60 days after a refusal
    notes: str = ""  # what it encodes and its source


def _hours(text: str) -> Interval:
    first, last = text.split("-")
    start, end = dt.time.fromisoformat(first), dt.time(0, 0)
    return (start, end) if last == "24:00" else (start, dt.time.fromisoformat(last))


def _week(
    weekdays: tuple[str, ...], weekend: tuple[str, ...] = ()
) -> tuple[tuple[Interval, ...], ...]:
    """Monday to Friday get ``weekdays``, Saturday and Sunday ``weekend``."""
    five = tuple(_hours(t) for t in weekdays)
    two = tuple(_hours(t) for t in weekend)
    return (five,) * 5 + (two,) * 2


_PROFILES = (
    Profile(
        code="default",
        title="Every day 09:00-20:00, contact's local time",
        window=Window(days=_week(("09:00-20:00",), ("09:00-20:00",))),
        notes="The product's default: every day 09:00-20:00 in the contact's own time zone. "
        + NOT_ADVICE,
    ),
    Profile(
        code="us",
        title="United States: 08:00-21:00 called party's time",
        window=Window(days=_week(("08:00-21:00",), ("08:00-21:00",))),
        notes="47 CFR 64.1200(c)(1): no telephone solicitation before 8 a.m. or after 9 p.m. "
        "local time at the called party's location. No holidays (the federal rule has none; some "
        "states add Sundays and holidays: use a custom window there). " + NOT_ADVICE,
    ),
    Profile(
        code="fr",
        title="France: weekdays 10:00-13:00 and 14:00-20:00, no public holidays",
        window=Window(days=_week(("10:00-13:00", "14:00-20:00")), holiday_calendar="FR"),
        number_per_span=(4, dt.timedelta(days=30)),
        refusal_cooldown=dt.timedelta(days=60),
        notes="Décret n° 2022-1313 of 2022-10-13 (legifrance JORFTEXT000046421823): "
        "unsolicited B2C calls Monday to Friday 10:00-13:00 and 14:00-20:00 only, never on "
        "weekends or public holidays (the national ones; Alsace-Moselle's extra days are not "
        "included), at most 4 calls in 30 days, and 60 days of silence after a refusal. It "
        "does not apply with the consumer's prior consent. " + NOT_ADVICE,
    ),
    Profile(
        code="ua_collections",
        title="Ukraine, debt collection: weekdays 09:00-20:00, no holidays, 2 a day",
        window=Window(days=_week(("09:00-20:00",)), holiday_calendar="UA"),
        number_per_day=2,
        notes="Law 1349-IX (Law on Consumer Lending, art. 25, since 2021-07-14): no contact "
        "from 20:00 to 09:00, on weekends or on holidays, at most 2 interactions a day. Holidays "
        "are the statutory ones (Labor Code art. 73) even while martial law makes them working "
        "days: the cautious reading (docs/calling-hours.md). " + NOT_ADVICE,
    ),
)

PROFILES: Mapping[str, Profile] = types.MappingProxyType({p.code: p for p in _PROFILES})


def profile(code: str) -> Profile:
    """The profile named ``code``, or a ``ValidationError`` naming the choices."""
    found = PROFILES.get(code)
    if found is None:
        raise ValidationError(
            f"hours.profile {code!r} is not a profile: use one of {', '.join(PROFILES)} "
            "(or custom with your own days).",
            code="unknown_hours_profile",
            field="hours.profile",
            reason="unknown_profile",
        )
    return found
