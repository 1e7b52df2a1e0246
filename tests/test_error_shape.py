"""The one error shape of the compatible surface, pinned."""

from __future__ import annotations

import orjson

from powerdialer.errors import ValidationError
from powerdialer.web.responses import SUCCESS_BODY, body_for, error_body


def test_success_body_is_exactly_result_true() -> None:
    assert orjson.loads(SUCCESS_BODY) == {"result": True}


def test_error_body_keeps_result_false_and_adds_code_and_message() -> None:
    assert orjson.loads(error_body("rate_limited", "slow down")) == {
        "result": False,
        "error": {"code": "rate_limited", "message": "slow down"},
    }


def test_a_field_error_names_the_field_and_reason() -> None:
    exc = ValidationError(
        "phone_number is bad", code="invalid_phone_number", field="phone_number", reason="too_short"
    )
    assert orjson.loads(body_for(exc)) == {
        "result": False,
        "error": {
            "code": "invalid_phone_number",
            "message": "phone_number is bad",
            "field": "phone_number",
            "reason": "too_short",
        },
    }
