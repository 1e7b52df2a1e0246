"""Phone numbers: one number however it is written; precise reasons when it is not one."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from powerdialer import phones
from powerdialer.errors import ValidationError
from powerdialer.phones import normalize_phone


@pytest.mark.parametrize(
    "raw",
    [
        "380930000000",
        "+380930000000",
        "+380 93 000 00 00",
        "093-000-00-00",
        "0930000000",
        "(093) 000-00-00",
        "00380930000000",
        "tel:+380930000000",
        380930000000,
        380930000000.0,
    ],
)
def test_every_usual_spelling_is_the_same_e164_number(raw: object) -> None:
    assert normalize_phone(raw, "UA").e164 == "+380930000000"


def test_digits_without_plus_are_read_as_international_when_not_national() -> None:
    # The vendor's own example sends 380… without '+'; with another default region that
    # must still be the Ukrainian number, not a national number of that region.
    assert normalize_phone("380930000000", "PL").e164 == "+380930000000"
    assert normalize_phone("380930000000", "US").e164 == "+380930000000"


def test_the_default_region_decides_national_numbers() -> None:
    assert normalize_phone("0501234567", "UA").e164 == "+380501234567"
    assert normalize_phone("(201) 555-0123", "US").e164 == "+12015550123"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (None, "missing"),
        ("   ", "missing"),
        (True, "wrong_type"),
        ({"n": 1}, "wrong_type"),
        ("12", "too_short"),
        ("+38093000000012345", "too_long"),
        ("hello", "not_a_number"),
        ("+999 1234 5678", "invalid_country_code"),
        ("+380 00 000 00 00", "invalid_number"),
        (1.5, "not_a_number"),
        ("9" * 80, "too_long"),
    ],
)
def test_it_says_why_a_number_is_rejected(raw: object, reason: str) -> None:
    with pytest.raises(ValidationError) as caught:
        normalize_phone(raw, "UA")
    assert caught.value.code == "invalid_phone_number"
    assert caught.value.field == "phone_number"
    assert caught.value.reason == reason
    assert "phone_number" in caught.value.message


def _slow(text: str, region: str) -> str | None:
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    possible = phonenumbers.is_possible_number_with_reason(number)
    if possible == phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY:
        return None  # we refuse these on purpose: not dialable in E.164 (e.g. US 310-XXXX)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


REGIONS = ["UA", "PL", "DE", "GB", "IT", "FR", "MD", "GE", "KZ", "US", "RU", "IN", "BR", "AR"]


@st.composite
def region_numbers(draw: st.DrawFn) -> tuple[str, str]:
    region = draw(st.sampled_from(REGIONS))
    country = str(phonenumbers.country_code_for_region(region))
    example = phonenumbers.example_number_for_type(region, draw(st.sampled_from(list(range(11)))))
    if example is not None and draw(st.booleans()):
        national = str(example.national_number)
        tail = draw(st.text("0123456789", min_size=0, max_size=3))
        national = national[: len(national) - len(tail)] + tail
    else:
        national = draw(st.text("0123456789", min_size=3, max_size=13))
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    prefix = metadata.national_prefix_for_parsing if metadata else None
    if prefix and prefix.isdigit() and draw(st.booleans()):
        text = prefix + national  # national, with the trunk prefix: 093…
    else:
        text = draw(st.sampled_from(["", "+"])) + country + national
    if draw(st.booleans()):  # separators as CRMs write them: +380 (93) 000-00-00
        cut = draw(st.lists(st.integers(1, max(1, len(text) - 1)), max_size=4))
        for at in sorted(set(cut), reverse=True):
            text = text[:at] + draw(st.sampled_from([" ", "-", "(", ")", "."])) + text[at:]
    return text, region


@settings(max_examples=6000, deadline=None)
@given(region_numbers())
def test_the_fast_path_always_agrees_with_the_full_parser(case: tuple[str, str]) -> None:
    text, region = case
    fast = phones._fast_path(text, region)
    if fast is not None:
        assert fast == _slow(text, region)
    result: str | None
    try:
        result = normalize_phone(text, region).e164
    except ValidationError:
        result = None
    slow = _slow(text, region)
    if slow is not None:
        # The full parser's reading, unless the spelling has another valid reading too
        # (UA 931234567 without its trunk 0 may be +93 1234567): refused, never guessed.
        assert result == slow or _ambiguous(text, region)


def _ambiguous(text: str, region: str) -> bool:
    try:
        normalize_phone(text, region)
    except ValidationError as exc:
        return exc.code == "ambiguous_phone_number"
    return False


# How numbers written without '+' are read (docs/api.md, "How numbers are read"): the
# project's default region decides, and a spelling with two valid readings is refused.
@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("8 044 123 45 67", "UA", "+380441234567"),  # Ukraine's former trunk prefix 8 0…
        ("80931234567", "UA", "+380931234567"),
        ("0 44 123 45 67", "UA", "+380441234567"),
        ("8 (495) 123-45-67", "RU", "+74951234567"),  # 8 is Russia's trunk prefix
        ("84951234567", "RU", "+74951234567"),
        ("87012345678", "KZ", "+77012345678"),
        ("8 029 123-45-67", "BY", "+375291234567"),
        ("80291234567", "BY", "+375291234567"),
        ("74951234567", "UA", "+74951234567"),  # the vendor's way: international, no '+'
        ("380930000000", "RU", "+380930000000"),
        ("+84 95 123 4567", "UA", "+84951234567"),  # with '+' it is what it says
        ("2015550123", "US", "+12015550123"),  # how the US writes its numbers
    ],
)
def test_a_spelling_is_read_by_the_default_region_s_rules(raw: str, region: str, e164: str) -> None:
    assert normalize_phone(raw, region).e164 == e164


@pytest.mark.parametrize(
    ("raw", "region", "reason", "readings"),
    [
        # Read as +84 (Vietnam) before: Russia's 8 (495) is not a Ukrainian trunk prefix.
        ("84951234567", "UA", "trunk_prefix", ["+74951234567 (RU)", "+84951234567 (VN)"]),
        ("8 (495) 123-45-67", "UA", "trunk_prefix", ["+74951234567 (RU)", "+84951234567 (VN)"]),
        ("89161234567", "UA", "trunk_prefix", ["+79161234567 (RU)"]),
        ("80291234567", "UA", "trunk_prefix", ["+375291234567 (BY)"]),  # not a UA 8 0…
        ("8613812345678", "UA", "trunk_prefix", ["+8613812345678 (CN)"]),
        ("84951234567", "PL", "trunk_prefix", ["+74951234567 (RU)", "+84951234567 (VN)"]),
        ("8 044 123 45 67", "RU", "trunk_prefix", ["+375441234567 (BY)"]),
        # Russia writes 8 495 …: without the 8 it may as well be +49 (Germany).
        ("4951234567", "RU", "no_trunk_prefix", ["+74951234567 (RU)", "+4951234567 (DE)"]),
    ],
)
def test_a_spelling_with_two_readings_is_refused_with_both(
    raw: str, region: str, reason: str, readings: list[str]
) -> None:
    with pytest.raises(phones.AmbiguousPhoneNumber) as caught:
        normalize_phone(raw, region)
    error = caught.value
    assert (error.code, error.field, error.reason) == (
        "ambiguous_phone_number",
        "phone_number",
        reason,
    )
    assert list(error.readings) == readings
    assert f"phone_number {raw!r} is ambiguous" in error.message
    assert "write it with + and the country code" in error.message
    for reading in readings:
        assert reading in error.message


def test_a_trunk_prefix_that_reads_as_nothing_is_an_invalid_number() -> None:
    with pytest.raises(ValidationError) as caught:
        normalize_phone("8 123", "UA")
    assert caught.value.code == "invalid_phone_number"


# Regions whose national spelling carries a trunk prefix (0, 8, 06, 1), and the countries whose
# codes begin with 8, which a lost '+' or trunk prefix could turn a number into.
SPELLED_IN = ["UA", "RU", "KZ", "BY", "LT", "TM", "HU", "DE", "GB", "US", "PL", "VN", "CN", "JP"]


@st.composite
def spelled_numbers(draw: st.DrawFn) -> tuple[phonenumbers.PhoneNumber, str, str, str]:
    """A valid number of some country, written as that country writes it nationally (with
    its trunk prefix), in E.164 or without the '+', with or without separators; and the
    default region it is read in."""
    home = draw(st.sampled_from(SPELLED_IN))
    kinds = [t for t in range(11) if phonenumbers.example_number_for_type(home, t) is not None]
    example = phonenumbers.example_number_for_type(home, draw(st.sampled_from(kinds)))
    assert example is not None
    digits = str(example.national_number)
    keep = draw(st.integers(0, len(digits)))  # the example's first digits, the rest drawn
    digits = digits[:keep] + draw(
        st.text("0123456789", min_size=len(digits) - keep, max_size=len(digits) - keep)
    )
    number = phonenumbers.PhoneNumber(
        country_code=example.country_code, national_number=int(digits)
    )
    assume(phonenumbers.is_valid_number(number) and str(number.national_number) == digits)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    spelling = draw(st.sampled_from(["national", "e164", "digits"]))
    text = {"national": national, "e164": e164, "digits": e164[1:]}[spelling]
    if draw(st.booleans()):
        text = "".join(ch for ch in text if ch.isdigit() or ch == "+")
    with_trunk = spelling == "national" and (
        national.translate(str.maketrans("", "", " ()-.")) != str(number.national_number)
    )
    region = draw(st.sampled_from(SPELLED_IN))
    if spelling == "national" and not with_trunk:
        spelling = "bare"  # a national spelling without a trunk prefix (PL, US)
    return number, text, spelling, region


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(spelled_numbers())
@example((phonenumbers.PhoneNumber(country_code=375, national_number=8100000000), "8 810 000 0000",
          "national", "BY"))  # fmt: skip
def test_a_number_never_changes_country_silently(
    case: tuple[phonenumbers.PhoneNumber, str, str, str],
) -> None:
    number, text, spelling, region = case
    if spelling == "bare":
        return  # a national spelling without a trunk prefix (PL, US) is the region's to read
    try:
        read = normalize_phone(text, region)
    except ValidationError:
        return  # refused, with a code and the fix: allowed
    # Compared as E.164 text: parsing it back would strip what looks like a trunk prefix
    # (+375 8100000000, BY's 8 810 000 0000, comes back as +375 100000000).
    expected = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    got = phonenumbers.parse(read.e164)
    own = phonenumbers.country_code_for_region(region)
    if text.startswith("+"):
        assert read.e164 == expected, (text, region, read.e164)
    else:
        # Read as written or as a number of the project's own country; never a third one.
        assert got.country_code in {number.country_code, own}, (text, region, read.e164)
    home = phonenumbers.region_code_for_number(number)
    if spelling == "national" and home == region:
        assert read.e164 == expected  # a country's own spelling of its own number is understood
