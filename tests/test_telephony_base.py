"""The call link template and the outcome a SIP answer proposes."""

from __future__ import annotations

import pytest

from powerdialer.telephony.base import (
    Method,
    ScreenTelephony,
    check_link_template,
    link_for,
    proposed_outcome,
)


def test_the_link_template_fills_in_the_number_three_ways() -> None:
    assert link_for("tel:{e164}", "+380931234567") == "tel:+380931234567"
    assert link_for("sip:{digits}@pbx.example", "+380931234567") == "sip:380931234567@pbx.example"
    assert link_for("callto:{national}", "+380931234567") == "callto:0931234567"


@pytest.mark.parametrize(
    ("template", "why"),
    [
        ("javascript:alert({e164})", "must start with"),
        ("tel:{phone}", "unknown fields ['phone']"),
        ("tel:{e164", "unmatched brace"),
    ],
)
def test_a_link_template_that_cannot_work_is_refused_with_the_reason(
    template: str, why: str
) -> None:
    reason = check_link_template(template)
    assert reason is not None
    assert why in reason


def test_a_good_link_template_is_accepted() -> None:
    assert check_link_template("sip:{e164}@pbx.example") is None


@pytest.mark.parametrize(
    ("status", "answered", "proposal"),
    [
        (200, True, "answered"),
        (486, False, "busy"),
        (480, False, "no_answer"),
        (408, False, "no_answer"),
        (487, False, "no_answer"),
        (404, False, "wrong_number"),
        (484, False, "wrong_number"),
        (604, False, "wrong_number"),
        (503, False, "failed"),
        (500, False, "failed"),
        (403, False, None),
        (None, False, None),
    ],
)
def test_a_sip_answer_proposes_the_issue_s_outcome(
    status: int | None, answered: bool, proposal: str | None
) -> None:
    assert proposed_outcome(status, answered) == proposal


def test_only_the_server_side_methods_ask_the_server_to_place_the_call() -> None:
    assert not ScreenTelephony().server_side
    assert not ScreenTelephony(method=Method.SOFTPHONE).server_side
    assert all(ScreenTelephony(method=m).server_side for m in ("http", "ami", "esl", "kamailio"))
