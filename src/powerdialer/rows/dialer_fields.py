"""The checks of what a row brings for the dialer: ``priority``, ``call_next``, ``tz`` and its
consent (``consent_basis``, ``consent_at``, ``consent_source``), and the campaign rule that
refuses a row without consent (``consent_refusal``).

Pure Python like ``rows.validate`` (which calls ``parse_dialer_fields`` for every row of a
bulk request, the UI and the API): values come as JSON sends them, or as text from an import's
cells ("5", "так", "2026-11-26T09:30:00+02:00").
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass

from powerdialer.errors import ValidationError, invalid
from powerdialer.text import one_line

MIN_PRIORITY, MAX_PRIORITY = -1000, 1000
MAX_TZ = 64
MAX_CONSENT_BASIS = 64
MAX_CONSENT_SOURCE = 255
_TRUE = frozenset({"yes", "true", "1", "так", "да", "y", "t"})
_FALSE = frozenset({"no", "false", "0", "ні", "нет", "n", "f"})
DIALER_KEYS = ("priority", "call_next", "tz", "consent_basis", "consent_at", "consent_source")


@dataclass(frozen=True, slots=True)
class DialerFields:
    """The dialer fields of one row as checked; ``None``: not sent."""

    priority: int | None = None
    call_next: bool | None = None
    tz: str | None = None
    consent_basis: str | None = None
    consent_at: dt.datetime | None = None
    consent_source: str | None = None


NO_FIELDS = DialerFields()


def parse_priority(value: object) -> int | None:
    """An integer from -1000 to 1000 (a string of one, as an import's cell holds, too)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str):
        text = value.strip()
        if text.lstrip("+-").isdigit() and text.isascii() and len(text) <= 12:
            number = int(text)
    if number is None:
        raise invalid(
            "priority",
            "wrong_type",
            f"priority must be an integer from {MIN_PRIORITY} to {MAX_PRIORITY} (higher is "
            f"called first; 0 by default), got {value!r:.40}.",
        )
    if not MIN_PRIORITY <= number <= MAX_PRIORITY:
        raise invalid(
            "priority",
            "out_of_range",
            f"priority must be from {MIN_PRIORITY} to {MAX_PRIORITY}, got {number}: bring it "
            "into that range.",
        )
    return number


def parse_call_next(value: object) -> bool | None:
    """A boolean; from text: yes/no, true/false, 1/0, так/ні (any letter case)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().casefold()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise invalid(
        "call_next",
        "wrong_type",
        "call_next must be true or false (in a file: yes/no, true/false, 1/0, так/ні), "
        f"got {value!r:.40}.",
    )


@functools.cache
def _zones() -> frozenset[str]:
    # available_timezones() reads the tz database's files: ~20 ms, once per process.
    return frozenset(zoneinfo.available_timezones())


def parse_tz(value: object) -> str | None:
    """The contact's own IANA time zone, e.g. Europe/Kyiv (else the number's zone is used)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise invalid("tz", "wrong_type", 'tz must be an IANA zone name such as "Europe/Kyiv".')
    text = value.strip()
    if len(text) > MAX_TZ or text not in _zones():
        raise invalid(
            "tz",
            "unknown_zone",
            f"tz {text[:MAX_TZ]!r} is not an IANA time zone: send a name such as "
            '"Europe/Kyiv" or "America/New_York" (not an offset like +02:00).',
        )
    return text


def _text(value: object, field: str, limit: int, example: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid(field, "wrong_type", f"{field} must be a string such as {example!r}.")
    text = one_line(value)
    if len(text) > limit:
        raise invalid(
            field,
            "too_long",
            f"{field} is {len(text)} characters long; the limit is {limit}: shorten it.",
        )
    return text or None


def parse_consent_at(value: object) -> dt.datetime | None:
    """When consent was given: ISO 8601 with a zone (``Z`` or an offset), stored in UTC."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    when: dt.datetime | None = None
    if isinstance(value, str):
        try:
            when = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            when = None
    if when is None or when.tzinfo is None or when.utcoffset() is None:
        raise invalid(
            "consent_at",
            "wrong_type" if when is None else "no_zone",
            "consent_at must be an ISO 8601 time with its zone, e.g. "
            f'"2026-11-26T09:30:00+02:00" or "…Z", got {value!r:.40}.',
        )
    return when.astimezone(dt.UTC)


def parse_dialer_fields(obj: Mapping[str, object]) -> DialerFields:
    """The six dialer fields of a row object (absent keys: ``None``)."""
    if not any(key in obj for key in DIALER_KEYS):
        return NO_FIELDS
    return DialerFields(
        priority=parse_priority(obj.get("priority")),
        call_next=parse_call_next(obj.get("call_next")),
        tz=parse_tz(obj.get("tz")),
        consent_basis=_text(
            obj.get("consent_basis"), "consent_basis", MAX_CONSENT_BASIS, "opt-in form"
        ),
        consent_at=parse_consent_at(obj.get("consent_at")),
        consent_source=_text(
            obj.get("consent_source"),
            "consent_source",
            MAX_CONSENT_SOURCE,
            "https://example.com/form",
        ),
    )


ImportDialer = tuple[
    int | None, bool | None, str | None, str | None, dt.datetime | None, str | None
]
"""An import row's dialer fields as its ``ImportChunk`` carries them (``None``: not sent):
priority, call_next, tz, consent_basis, consent_at, consent_source."""


def parse_import_dialer(values: Mapping[str, object]) -> ImportDialer:
    """The dialer fields of an import's record, from its cells by field name."""
    f = parse_dialer_fields(values)
    return (f.priority, f.call_next, f.tz, f.consent_basis, f.consent_at, f.consent_source)


def consent_required(field: str) -> ValidationError:
    """The refusal of a row without ``field`` (consent_basis or consent_at) in a campaign
    that requires consent."""
    return ValidationError(
        f"{field} is required: this campaign requires consent, so each row must carry "
        "consent_basis and consent_at (ISO 8601 with its zone); send them, or turn "
        "require_consent off for the campaign.",
        code="consent_required",
        field=field,
        reason="missing",
    )


def consent_not_sendable(campaign_id: int) -> ValidationError:
    """``consent_required`` on the compatible endpoint, whose vendor body cannot carry
    consent: every row of such a campaign is refused there."""
    return ValidationError(
        f"campaign {campaign_id} requires consent (consent_basis and consent_at), which this "
        "endpoint's body cannot carry: send its rows with the bulk endpoint "
        "(POST /power-dialer/campaigns/{id}/rows), or turn require_consent off.",
        code="consent_required",
        field="consent_basis",
        reason="missing",
    )


def consent_refusal(
    consent_basis: str | None, consent_at: dt.datetime | None
) -> ValidationError | None:
    """Why a row may not enter a campaign that requires consent (``consent_required`` naming
    the missing field), or ``None`` when it carries both."""
    if not consent_basis:
        return consent_required("consent_basis")
    if consent_at is None:
        return consent_required("consent_at")
    return None
