"""The free-text cleaner every name, id and field name goes through, and the custom fields'
JSON the import path builds in one step."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from powerdialer.errors import ValidationError
from powerdialer.rows import validate
from powerdialer.storage.rows_write import extra_json
from powerdialer.text import one_line


def _reference(text: str) -> str:
    """The rule as stated: control characters become spaces, runs of white space one, ends
    trimmed (no shortcut)."""
    return " ".join(re.sub(r"[\x00-\x1f\x7f]+", " ", text).split())


# Printable letters with spaces of every kind and control characters mixed in.
texts = st.text(
    st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from([" ", "\t", "\n", "\x00", "\x7f", "\xa0", "\u2009", "\u3000"]),
    ),
    max_size=40,
)


@settings(max_examples=3000, deadline=None)
@given(texts)
def test_one_line_agrees_with_the_rule_on_any_text(text: str) -> None:
    assert one_line(text) == _reference(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Іван Петренко", "Іван Петренко"),
        ("  Іван   Петренко ", "Іван Петренко"),
        ("Іван\x00Петренко", "Іван Петренко"),
        ("Іван\xa0Петренко", "Іван Петренко"),  # a no-break space is white space too
        ("", ""),
    ],
)
def test_one_line_examples(text: str, expected: str) -> None:
    assert one_line(text) == expected


field_values = st.dictionaries(
    st.text(max_size=70), st.one_of(st.text(max_size=300), st.integers()), max_size=55
)


@settings(max_examples=1500, deadline=None)
@given(st.one_of(field_values, st.none(), st.integers()))
def test_fields_as_json_are_parse_fields_then_stored(value: object) -> None:
    assert _outcome(validate.parse_fields_json, value) == _outcome(
        lambda v: extra_json(validate.parse_fields(v)), value
    )


def _outcome(parse: Callable[[object], str | None], value: object) -> object:
    """What ``parse`` answers, or the error it raises as (code, reason, message)."""
    try:
        return parse(value)
    except ValidationError as exc:
        return (exc.code, exc.reason, str(exc))
