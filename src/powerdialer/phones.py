"""Phone numbers: parse what CRMs send into E.164 with ``phonenumbers``.

``380930000000``, ``+380 93 000 00 00`` and ``093-000-00-00`` are one number for the default
region UA.  The vendor's own example sends international numbers without the ``+``, so a
digits-only string that is not valid nationally is tried again as international — except
where that would silently make it another country's number (docs/api.md, "How numbers are
read"): a leading 8 is a trunk prefix in Russia, Kazakhstan, Belarus (and was in Ukraine) as
much as the start of +81…+88, and a number written without the region's trunk prefix may be
an international one without its ``+``.  When both readings are valid and differ, the number
is refused as ``ambiguous_phone_number`` with the readings, never guessed.

Past 300 lines on purpose: the fast path and the rules for numbers written without ``+`` are
one decision, as docs/api.md describes them.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult

from powerdialer.errors import ValidationError

MAX_RAW_LENGTH = 64

_PARSE_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: "invalid_country_code",
    NumberParseException.NOT_A_NUMBER: "not_a_number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too_short",
    NumberParseException.TOO_SHORT_NSN: "too_short",
    NumberParseException.TOO_LONG: "too_long",
}
_POSSIBLE_REASONS = {
    ValidationResult.INVALID_COUNTRY_CODE: "invalid_country_code",
    ValidationResult.TOO_SHORT: "too_short",
    ValidationResult.TOO_LONG: "too_long",
    ValidationResult.INVALID_LENGTH: "invalid_length",
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "too_short",
}
_HINTS = {
    "missing": 'send the contact\'s number in phone_number, e.g. "380930000000"',
    "wrong_type": 'send phone_number as a string such as "380930000000"',
    "invalid_country_code": "start the number with a valid country code, e.g. +380",
    "not_a_number": "send digits, optionally with +, spaces, dashes or brackets",
    "too_short": "the number has too few digits; send the full number, e.g. 380930000000",
    "too_long": "the number has too many digits; send one number per row",
    "invalid_length": "the number's length is impossible for its country",
    "invalid_number": "no such number exists in its country's numbering plan",
}


@dataclass(frozen=True, slots=True)
class Phone:
    e164: str
    region: str | None
    raw: str = ""  # the text as sent, stripped, without control characters (e.g. NUL)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def phone_error(reason: str, raw: object = None) -> ValidationError:
    shown = f" {raw!r}" if isinstance(raw, str) and raw else ""
    message = f"phone_number{shown} is not a valid phone number: {_HINTS[reason]}."
    if reason == "missing":
        message = f"phone_number is required: {_HINTS[reason]}."
    elif reason == "wrong_type":
        message = f"phone_number has the wrong type: {_HINTS[reason]}."
    return ValidationError(
        message, code="invalid_phone_number", field="phone_number", reason=reason
    )


class AmbiguousPhoneNumber(ValidationError):
    """Two valid readings of one spelling: refused, with the readings, never guessed."""

    def __init__(self, raw: str, reason: str, readings: list[Phone]) -> None:
        self.readings = tuple(f"{p.e164} ({p.region})" for p in readings)
        listed = " or ".join(self.readings)
        why = _AMBIGUOUS[reason]
        super().__init__(
            f"phone_number {raw!r} is ambiguous: {why}, so it could be {listed}; "
            "write it with + and the country code.",
            code="ambiguous_phone_number",
            field="phone_number",
            reason=reason,
        )


_AMBIGUOUS = {
    "trunk_prefix": "a leading 8 is a trunk prefix (Russia's 8 495 … is +7 495 …) as well as "
    "the start of country codes such as +84",
    "no_trunk_prefix": "it is a national number without its trunk prefix as much as an "
    "international number without its +",
}


def _parse(text: str, region: str) -> phonenumbers.PhoneNumber:
    try:
        return phonenumbers.parse(text, region)
    except NumberParseException as exc:
        raise phone_error(_PARSE_REASONS.get(exc.error_type, "not_a_number"), text) from None


def _check(number: phonenumbers.PhoneNumber, text: str) -> Phone:
    possible = phonenumbers.is_possible_number_with_reason(number)
    if possible != ValidationResult.IS_POSSIBLE:
        raise phone_error(_POSSIBLE_REASONS.get(possible, "invalid_number"), text)
    if not phonenumbers.is_valid_number(number):
        raise phone_error("invalid_number", text)
    return Phone(
        e164=phonenumbers.format_number(number, PhoneNumberFormat.E164),
        region=phonenumbers.region_code_for_number(number),
    )


# What a CRM cell holds for most numbers: an optional '+', digits, and the usual separators.
_SHAPE = re.compile(r"\+?[0-9 ().\-]{4,40}")
_SEPARATORS = str.maketrans("", "", " ().-")


@dataclass(frozen=True, slots=True)
class _RegionFacts:
    country: str
    max_national: int
    national_prefix: str | None
    # A national prefix written as plain digits (UA: "0") that the parser strips verbatim:
    # set only when no transform rule applies, else national numbers take the full path.
    plain_prefix: str | None
    international_prefix: re.Pattern[str] | None
    general: re.Pattern[str]
    by_length: dict[int, re.Pattern[str]]  # the union of the number types' patterns


_TYPES = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
    "mobile",
)


@functools.cache
def _region_facts(region: str) -> _RegionFacts | None:
    """What ``phonenumbers.is_valid_number`` checks for a region, compiled into two regexes:
    the general pattern, and per length the union of every number type's pattern (a number
    is valid iff it matches the general description and some type).  Only for a country code
    with one region: elsewhere (+1, +7) validity depends on which region the number is in."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.country_code is None:
        return None
    if len(phonenumbers.region_codes_for_country_code(metadata.country_code)) != 1:
        return None
    general = metadata.general_desc
    if general is None or not general.possible_length or not general.national_number_pattern:
        return None
    lengths = [n for n in general.possible_length if n > 0]
    patterns: dict[int, list[str]] = {}
    for name in _TYPES:
        desc = getattr(metadata, name)
        if desc is None or not desc.national_number_pattern:
            continue
        for n in desc.possible_length or lengths:
            if n in lengths:
                patterns.setdefault(n, []).append(desc.national_number_pattern)
    prefix = metadata.national_prefix_for_parsing
    plain = (
        prefix
        if prefix and prefix.isdigit() and not metadata.national_prefix_transform_rule
        else None
    )
    idd = metadata.international_prefix
    return _RegionFacts(
        country=str(metadata.country_code),
        max_national=max(lengths),
        national_prefix=prefix,
        plain_prefix=plain,
        international_prefix=re.compile(idd) if idd else None,
        general=re.compile(general.national_number_pattern),
        by_length={n: re.compile("|".join(f"(?:{p})" for p in ps)) for n, ps in patterns.items()},
    )


def _split(text: str, facts: _RegionFacts) -> str | None:
    """The national significant number the full parser would find, for the shapes it handles
    simply; ``None`` when in any doubt."""
    plus = text[0] == "+"
    digits = (text[1:] if plus else text).translate(_SEPARATORS)
    if not digits.isdigit() or "+" in text[1:]:
        return None
    return _split_digits(digits, plus, facts)


def _split_digits(digits: str, plus: bool, facts: _RegionFacts) -> str | None:
    country = facts.country
    if digits.startswith(country) and (plus or len(digits) > facts.max_national):
        # International (+380 93 000 00 00, or 380930000000: too long to be national).
        national = digits[len(country) :]
        prefix = facts.national_prefix
        if prefix and (not prefix.isdigit() or national.startswith(prefix)):
            return None  # the parser might strip a national prefix here
        return national
    prefix = facts.plain_prefix
    if plus or not prefix or not digits.startswith(prefix) or digits.startswith(country):
        return None
    idd = facts.international_prefix
    if idd is not None and idd.match(digits):
        return None  # the parser would read it as dialled abroad
    return digits[len(prefix) :]  # national, with its trunk prefix: 093 000 00 00


def valid_national(region: str, national: str) -> bool | None:
    """Whether ``national``, a national significant number of ``region``'s country code, is
    valid there (``phonenumbers.is_valid_number``), by the fast path's precompiled rules;
    ``None`` where they do not answer (a country code several regions share, a leading
    zero): ask the full parser."""
    facts = _region_facts(region)
    if facts is None or not national or national[0] == "0":
        return None
    valid_type = facts.by_length.get(len(national))
    return bool(
        valid_type is not None
        and facts.general.fullmatch(national)
        and valid_type.fullmatch(national)
    )


def _fast_path(text: str, region: str) -> str | None:
    """The shapes nearly every CRM row has: ``380930000000``, ``+380 93 000 00 00``,
    ``(093) 000-00-00`` — the default country's numbers, international or national, with the
    usual separators.

    ``phonenumbers.parse`` + ``is_valid_number`` cost ~15 µs a number, the largest share of
    the hot path's budget; for these shapes the split is known and the validity rules are
    precompiled (``_region_facts``), ~1-2 µs.  It answers only when it agrees with the full
    parser (a property test pins that); anything else, errors included, takes the full path.
    """
    facts = _region_facts(region)
    if facts is None:
        return None
    if text.isdigit() and text.isascii() and 4 <= len(text) <= 40:
        national = _split_digits(text, False, facts)  # 380930000000: what most CRMs store
    elif _SHAPE.fullmatch(text):
        national = _split(text, facts)
    else:
        return None
    if not national or national[0] == "0":
        return None
    valid_type = facts.by_length.get(len(national))
    if valid_type is None or not facts.general.fullmatch(national):
        return None
    if not valid_type.fullmatch(national):
        return None
    return f"+{facts.country}{national}"


def normalize_phone(raw: object, region: str = "UA") -> Phone:
    """Parse ``raw`` (a string, or an integer as JSON and Excel send it) into E.164.

    Raises ``ValidationError`` with code ``invalid_phone_number`` and a ``reason`` among
    missing, wrong_type, not_a_number, too_short, too_long, invalid_length,
    invalid_country_code, invalid_number; or ``AmbiguousPhoneNumber`` (code
    ``ambiguous_phone_number``, reason trunk_prefix or no_trunk_prefix) when the spelling has
    two valid readings.
    """
    if raw is None:
        raise phone_error("missing")
    if isinstance(raw, bool):
        raise phone_error("wrong_type")
    if isinstance(raw, int):
        raw = str(raw)
    elif isinstance(raw, float):
        if not raw.is_integer() or raw <= 0:
            raise phone_error("not_a_number")
        raw = str(int(raw))
    if not isinstance(raw, str):
        raise phone_error("wrong_type")
    # Control characters (a NUL from a sloppy export) are no part of a number, and
    # PostgreSQL refuses NUL in text: drop them before anything else sees the text.
    text = (raw if raw.isprintable() else _CONTROL.sub("", raw)).strip()
    if not text:
        raise phone_error("missing")
    if len(text) > MAX_RAW_LENGTH:
        raise phone_error("too_long", text[:MAX_RAW_LENGTH])
    fast = _fast_path(text, region)
    if fast is not None:
        return Phone(fast, region, text)
    phone = _read(text, region)
    return Phone(phone.e164, phone.region, text)


def _read(text: str, region: str) -> Phone:
    """The full parser's reading of ``text``, with the rules that keep a number in its
    country (docs/api.md, "How numbers are read")."""
    try:
        number = _parse(text, region)
        phone = _check(number, text)
    except ValidationError as national:
        return _not_national(text, region, national)
    if text.isdigit() and text.isascii() and not _dialled_abroad(text, region):
        # Valid nationally.  Written as the region writes its numbers (UA 0931234567,
        # US 2015550123) it is that number; written without the trunk prefix the region's
        # numbers carry (UA 931234567) it may as well be an international number whose '+'
        # was lost: refused when that reading is valid and another number.
        written = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
        if written.translate(_NOT_DIGITS) != text:
            abroad = _international(text)
            if abroad is not None and abroad.e164 != phone.e164:
                raise AmbiguousPhoneNumber(text, "no_trunk_prefix", [phone, abroad])
    return phone


def _not_national(text: str, region: str, national: ValidationError) -> Phone:
    """``text`` is no valid number of ``region`` as the parser reads it."""
    digits = _digits(text)
    if digits is None:
        raise national
    # Digits only (no separators) is how the vendor's own examples send international
    # numbers: 380930000000.  With separators it is someone's national spelling.
    abroad = _international(digits) if digits == text else None
    former = _FORMER_TRUNK.get(region)
    national_part = digits[len(former) :] if former and digits.startswith(former) else ""
    if national_part.startswith("0") and not national_part.startswith("00"):
        # The region's former spelling: Ukraine's 8 044 123 45 67 is 044 123 45 67.
        try:
            legacy = _check(_parse(national_part, region), text)
        except ValidationError:
            pass
        else:
            if abroad is not None and abroad.e164 != legacy.e164:
                raise AmbiguousPhoneNumber(text, "trunk_prefix", [legacy, abroad])
            return legacy
    if digits.startswith("8"):
        # Never read as +8…: Russia's 8 495 123-45-67 must not become +84 95 (Vietnam).
        readings = _trunk_eight_readings(digits, region)
        if abroad is None:
            abroad = _international(digits)
        if abroad is not None and abroad.e164 not in {r.e164 for r in readings}:
            readings.append(abroad)
        if readings:
            raise AmbiguousPhoneNumber(text, "trunk_prefix", readings)
        raise national
    if abroad is not None:
        return abroad
    raise national


# Where a region wrote its trunk prefix differently before: Ukraine dialled 8 before the
# area code with its 0 (8 044 … for Kyiv) until 0 alone became the trunk prefix and 00 the
# international one; older CRM records still hold 8 0….
_FORMER_TRUNK = {"UA": "8"}
_NOT_DIGITS = str.maketrans("", "", "".join(chr(c) for c in range(128) if not chr(c).isdigit()))
_DIGITS_SHAPE = re.compile(r"[0-9 ().\-]{2,40}")


def _digits(text: str) -> str | None:
    """The digits of a number written without '+' (separators allowed), else ``None``."""
    if not text.isascii() or not _DIGITS_SHAPE.fullmatch(text):
        return None
    digits = text.translate(_SEPARATORS)
    return digits if digits.isdigit() else None


def _international(digits: str) -> Phone | None:
    """``digits`` read as an international number written without its '+'."""
    try:
        return _check(_parse("+" + digits, "ZZ"), digits)
    except ValidationError:
        return None


def _dialled_abroad(text: str, region: str) -> bool:
    """``text`` starts with the region's international prefix (UA 00, RU 810)."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    idd = metadata.international_prefix if metadata is not None else None
    return bool(idd and re.match(idd, text))


@functools.cache
def _trunk_eight_regions() -> tuple[str, ...]:
    """The regions whose trunk prefix is (or may be) 8: BY, KZ, LT, RU, TM."""
    found = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        prefix = metadata.national_prefix_for_parsing if metadata is not None else None
        if prefix and re.fullmatch(prefix, "8"):
            found.append(region)
    return tuple(found)


def _trunk_eight_readings(digits: str, region: str) -> list[Phone]:
    """The valid numbers ``digits`` is in the countries where 8 is the trunk prefix."""
    readings: dict[str, Phone] = {}
    for other in _trunk_eight_regions():
        if other == region:
            continue
        try:
            phone = _check(_parse(digits, other), digits)
        except ValidationError:
            continue
        readings.setdefault(phone.e164, phone)
    return list(readings.values())
