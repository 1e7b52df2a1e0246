"""The IANA zones a row is called in: its own ``tz``, else its number's zones as phonenumbers
knows them, else the campaign's fallback (docs/calling-hours.md).  ``hours`` evaluates calling
hours in them.

Finding a number's zones through ``phonenumbers`` costs ~65 µs (parsing is most of it), more
than the rest of a lease's judgement; a lease judges a row rarely called before, and "why is
nothing dialing?" every row of a campaign, so a cache by number helps neither.  Most numbers'
zones follow from their country code and validity alone (``_fast_zones``, ~2 µs); the others
are parsed, and cached by number.
"""

from __future__ import annotations

import functools
import zoneinfo

import phonenumbers
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE
from phonenumbers import timezone as phone_zones
from phonenumbers.tzdata import TIMEZONE_DATA, TIMEZONE_LONGEST_PREFIX

from powerdialer import phones
from powerdialer.errors import invalid


@functools.cache
def tz(zone: str) -> zoneinfo.ZoneInfo:
    # ZoneInfo keeps only 8 zones strongly; a row of 42 zones would re-read tzdata files.
    return zoneinfo.ZoneInfo(zone)


@functools.cache
def _known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _zone(name: str, field: str) -> zoneinfo.ZoneInfo:
    if name not in _known_zones():
        raise invalid(
            field,
            "unknown_zone",
            f"{field} {name!r} is not an IANA time zone this host knows: use a name such as "
            "Europe/Kyiv or America/New_York.",
            code="invalid_tz",
        )
    return tz(name)


def zones_for(phone_e164: str, own: str | None, fallback: str = "Europe/Kyiv") -> tuple[str, ...]:
    """The IANA zones a row is called in: ``(own,)``, its ``tz``, when the row has one; else
    the number's zones from phonenumbers, sorted and deduplicated; ``(fallback,)`` when
    phonenumbers knows none.  A zone this host does not know is a ``ValidationError`` (field
    ``tz`` or ``fallback_tz``)."""
    if own:
        if own not in _known_zones():
            _zone(own, "tz")
        return (own,)
    zones = _fast_zones(phone_e164)
    if zones is None:
        zones = _parsed_zones(phone_e164)
    if zones:
        return zones
    if fallback not in _known_zones():
        _zone(fallback, "fallback_tz")
    return (fallback,)


@functools.lru_cache(maxsize=65536)
def _parsed_zones(phone_e164: str) -> tuple[str, ...]:
    """The number's zones as phonenumbers finds them (~65 µs a number: parsing is most of
    it): the known ones, sorted; ``()`` when it knows none."""
    try:
        number = phonenumbers.parse(phone_e164, None)
    except phonenumbers.NumberParseException:
        return ()
    return _known(tuple(phone_zones.time_zones_for_number(number)))


@functools.cache
def _known(found: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted({z for z in found if z in _known_zones()}))


@functools.cache
def _country_codes() -> dict[str, tuple[str, ...]]:
    return {str(code): tuple(regions) for code, regions in COUNTRY_CODE_TO_REGION_CODE.items()}


@functools.cache
def _country_level(code: str) -> tuple[str, ...] | None:
    """phonenumbers' zones for a number of country ``code`` that is not geographical (its
    ``_country_level_time_zones_for_number``, step for step)."""
    for prefix_len in range(TIMEZONE_LONGEST_PREFIX, 0, -1):
        found = TIMEZONE_DATA.get(code[: 1 + prefix_len])
        if found is not None:
            return tuple(found)
    return None


def _fast_zones(phone_e164: str) -> tuple[str, ...] | None:
    """The number's zones without parsing it, where that gives phonenumbers' answer (~2 µs;
    ``None``: ask phonenumbers).

    phonenumbers answers from the number's type: a number of no known type has none, one
    that is not geographical has its country's zones, any other the zones of the longest
    prefix of its digits in its table.  So where the longest prefix's zones are the
    country's zones, the type only matters as far as the number is valid at all, which the
    fast path of ``phones`` checks with precompiled rules (one region to the country code:
    not +1 or +7).  A property test pins that both ways agree."""
    if phone_e164[:1] != "+":
        return None
    digits = phone_e164[1:]
    codes = _country_codes()
    for size in (1, 2, 3):
        regions = codes.get(digits[:size])
        if regions is not None:
            break
    else:
        return None
    national = digits[size:]
    if len(regions) != 1 or not (national.isdigit() and national.isascii()):
        return None
    found = None
    for prefix_len in range(TIMEZONE_LONGEST_PREFIX, 0, -1):
        found = TIMEZONE_DATA.get(digits[:prefix_len])
        if found is not None:
            break
    if found is None or tuple(found) != _country_level(digits[:size]):
        return None
    if phones.valid_national(regions[0], national) is not True:
        return None
    return _known(tuple(found))
