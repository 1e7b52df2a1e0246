"""A number's zones without parsing it (``zones._fast_zones``) agree with phonenumbers'
answer (``zones._parsed_zones``) wherever the fast way answers, and it answers for the
numbers most campaigns hold."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from powerdialer.dialer import zones

REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)


def _agrees(phone: str) -> bool:
    fast = zones._fast_zones(phone)
    return fast is None or fast == zones._parsed_zones(phone)


def test_every_regions_example_numbers_get_phonenumbers_zones() -> None:
    answered = 0
    for region in REGIONS:
        for kind in range(11):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            phone = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
            assert _agrees(phone), phone
            answered += zones._fast_zones(phone) is not None
    assert answered > 500  # the fast way is the usual one, not an exception


@pytest.mark.parametrize(
    "phone", ["+380931234567", "+380441234567", "+33612345678", "+4915112345678", "+48601234567"]
)
def test_the_fast_way_answers_for_single_zone_countries(phone: str) -> None:
    assert zones._fast_zones(phone) == zones._parsed_zones(phone) != ()


@pytest.mark.parametrize(
    "phone", ["+12125551234", "+18005551234", "+79161234567", "+61412345678", "+380001234567"]
)
def test_several_regions_or_an_invalid_number_take_the_parser(phone: str) -> None:
    assert zones._fast_zones(phone) is None


@st.composite
def numbers(draw: st.DrawFn) -> str:
    region = draw(st.sampled_from(REGIONS))
    country = str(phonenumbers.country_code_for_region(region))
    example = phonenumbers.example_number_for_type(region, draw(st.integers(0, 10)))
    if example is not None and draw(st.booleans()):
        national = str(example.national_number)
        tail = draw(st.text("0123456789", max_size=4))
        national = national[: len(national) - len(tail)] + tail
    else:
        national = draw(st.text("0123456789", min_size=1, max_size=14))
    return f"+{country}{national}"


@settings(max_examples=4000, deadline=None)
@given(numbers())
def test_the_fast_way_never_differs_from_phonenumbers(phone: str) -> None:
    assert _agrees(phone)
