"""Phone numbers: one number however it is written; precise reasons when it is not one."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
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
        assert result == slow
