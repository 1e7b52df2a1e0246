# TEMPORARY local stand-in until H1's module lands (not committed).
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from powerdialer.dialer.hours import Window
from powerdialer.errors import ValidationError


@dataclass(frozen=True, slots=True)
class Profile:
    code: str
    title: str
    window: Window
    number_per_day: int | None = None
    number_per_span: tuple[int, dt.timedelta] | None = None
    refusal_cooldown: dt.timedelta | None = None
    notes: str = ""


_d = ((dt.time(9), dt.time(20)),)
PROFILES = {"default": Profile("default", "Default", Window((_d,) * 7))}


def profile(code):
    if code not in PROFILES:
        raise ValidationError(
            "unknown profile", code="unknown_hours_profile", field="hours.profile"
        )
    return PROFILES[code]
