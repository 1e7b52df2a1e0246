"""An operator's whole shift in power mode with the browser softphone, by keyboard alone
(issue 13, item 5): a member (not the owner) signs in, saves their SIP account on this browser
and presses N; every next contact's call is then placed by the softphone itself (over
WebSocket to the lab's Kamailio) as soon as the contact is on the screen, after a one-second
wrap-up that ends by itself. The contacts are real SIP user agents: a baresip answering by
itself, SIPp answering 480, 486 and 503, and a number registered nowhere (Kamailio's 404). Ten
contacts, each outcome kind once (the SIP answer's proposal confirmed by its digit), a
callback scheduled, a skip with a reason, a pause with a reason code and the resume. The
owner's live view, open in a second browser context, shows the operator's state and each
outcome within 2 s. At the end the attempts in the database have the outcomes, and the
answered call's duration is the call's own.

A softphone that cannot register (the SIP server does not answer) pauses the operator in
power mode instead of feeding them contacts."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from powerdialer.dialer import control
from powerdialer.rows.models import NewRow
from powerdialer.rows.write import write_rows
from powerdialer.storage import Store
from powerdialer.storage.schema import campaign_rows, leases
from tests.conftest import Persona
from tests.e2e.conftest import Server
from tests.telephony.conftest import Lab
from tests.telephony.softphone_pages import save_account, softphone_chromium
from tests.ui.conftest import User
from tests.ui.operator_pages import (
    lease_shown,
    new_page,
    set_rules,
    sign_in,
    user_id,
    wait_for_contact,
    wait_presence,
    wait_state,
    wait_until,
)

pytestmark = pytest.mark.e2e

ANSWERS = "+38093000000"  # + 1…0: who answers each contact
BARESIP = ["1", "4", "7", "8", "9", "10"]  # answers by itself
SIPP = {"2": (480, "Temporarily Unavailable"), "3": (486, "Busy Here"), "5": (503, "Unavailable")}
# "6" is registered nowhere: Kamailio answers 404.
PROPOSED = {"2": "no_answer", "3": "busy", "5": "failed", "6": "wrong_number"}
# What the operator does with each contact: the digit of an outcome, or S (skip).
DOES = {
    "1": "1",  # answered
    "2": "2",  # no answer
    "3": "3",  # busy
    "4": "4",  # voicemail
    "5": "5",  # failed
    "6": "6",  # wrong number
    "7": "7",  # callback
    "8": "8",  # do not call
    "9": "S",  # skip, with a reason
    "10": "9",  # not interested
}
TALK_SECONDS = 1.5  # the answered call's talk before the operator records it


def number(n: str) -> str:
    return f"+3809300000{int(n):02d}"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from softphone_chromium()


@pytest.fixture
def campaign(store: Store, owner: Persona, oleh: User, anna: User) -> Persona:
    """Power mode, a one-second wrap-up, ten contacts."""
    set_rules(store, owner, dialing_mode="power", wrap_up_seconds=1)
    rows = [NewRow(number(n).lstrip("+"), number(n), f"Контакт {n}") for n in DOES]
    now = dt.datetime.now(dt.UTC)
    store.write(
        lambda conn: write_rows(
            conn, owner.project_id, owner.campaign_id, "skip", rows, source="api", now=now
        )
    )
    return owner


@pytest.fixture
def server(start_server: Callable[..., Server], tmp_path: Path, campaign: Persona) -> Server:
    return start_server(POWERDIALER_DATA_DIR=str(tmp_path / "server-data"))


def use_softphone(server: Server, persona: Persona, ws_url: str) -> None:
    answer = httpx.put(
        f"{server.url}/power-dialer/telephony",
        json={"method": "softphone", "softphone_ws_url": ws_url},
        headers=persona.headers,
        trust_env=False,
    )
    assert answer.status_code == 200, answer.text


def shown_number(page: Any) -> str:
    """The contact on screen, as E.164 (the screen writes it the country's way)."""
    return "".join(page.locator("#op-number").inner_text().split())


def operator_screen(browser: Any, server: Server, oleh: User, lab: Lab) -> tuple[Any, list[str]]:
    page, errors = new_page(browser, permissions=["microphone"])
    sign_in(page, server, oleh)
    save_account(page, server, lab, "oleh")
    page.goto(server.url + "/dialer")
    return page, errors


def test_an_operators_shift_in_power_mode_with_the_browser_softphone(
    browser: Any,
    server: Server,
    lab: Lab,
    oleh: User,
    anna: User,
    campaign: Persona,
    store: Store,
) -> None:
    started = time.monotonic()
    answering = lab.baresip(number(BARESIP[0]), webrtc=True, also=[number(n) for n in BARESIP[1:]])
    for n, (status, reason) in SIPP.items():
        lab.sipp(number(n), status, reason)
    lab.kamailio.wait_registered(*answering.users, *(number(n) for n in SIPP))
    use_softphone(server, campaign, lab.kamailio.ws_url)
    oleh_id = user_id(store, oleh)
    labels: dict[str, str] = {}

    # The owner's live view, in a browser context of its own.
    live, live_errors = new_page(browser)
    sign_in(live, server, anna, "/dialer/live")
    row = live.locator(f'tr[data-operator="{oleh_id}"]')

    page, errors = operator_screen(browser, server, oleh, lab)
    labels = page.evaluate(
        "JSON.parse(document.getElementById('op-config').textContent).outcome_labels"
    )
    pause_label = page.evaluate(
        "JSON.parse(document.getElementById('op-config').textContent).pause_reasons[0].label"
    )
    page.keyboard.press("n")  # the only start: every call from here on places itself

    lease = ""
    talked: float = 0.0
    taken: list[str] = []
    while len(taken) < len(DOES):
        lease = wait_for_contact(page, lease)
        n = str(int(shown_number(page)[-2:]))
        assert n not in taken, f"{number(n)} came back"
        taken.append(n)
        if n in PROPOSED:
            # The call placed itself and its SIP answer proposes the outcome, focused.
            page.wait_for_function("() => window.pdOperator.proposed() !== null")
            assert page.evaluate("window.pdOperator.proposed()") == PROPOSED[n]
            assert page.evaluate("document.activeElement.dataset.outcome") == PROPOSED[n]
            assert page.evaluate("window.pdOperator.state()") == "contact"
        else:
            page.wait_for_function("() => window.pdOperator.call() === 'confirmed'")
            if n == "1":
                expect(row.locator("[data-state]")).to_have_attribute(
                    "data-state", "on_call", timeout=2000
                )
                confirmed = time.monotonic()
                time.sleep(TALK_SECONDS)
                talked = time.monotonic() - confirmed
        key = DOES[n]
        if key == "S":
            page.keyboard.press("s")
            expect(page.locator("#op-skip-dialog")).to_be_visible()
            page.keyboard.type("не та мова")
            page.keyboard.press("Enter")
            recorded_as = "skip"
        else:
            page.keyboard.press(key)
            recorded_as = page.evaluate(
                "k => document.querySelector(`[data-key='${k}']`).dataset.outcome", key
            )
            if key == "7":
                expect(page.locator("#op-callback-dialog")).to_be_visible()
                page.keyboard.press("Enter")  # an hour from now, anyone may call back
            wait_state(page, "wrapup")
        if len(taken) == 4:
            # P in the wrap-up: the outcome is recorded, then the pause (reason 1, a break).
            page.keyboard.press("p")
            expect(page.locator("#op-pause-dialog")).to_be_visible()
            page.keyboard.press("1")
            wait_state(page, "paused")
            expect(row.locator("[data-state]")).to_have_attribute(
                "data-state", "paused", timeout=2000
            )
            expect(row).to_contain_text(pause_label, timeout=2000)
            wait_presence(store, campaign, oleh, ("paused", "break"))
            expect(row).to_contain_text(f"{labels[recorded_as]} 1", timeout=2000)
            page.keyboard.press("p")  # resume: the next contact's call places itself
            continue
        # The one-second wrap-up ends by itself: recorded, the next contact comes (the last
        # one leaves nothing to call).
        page.wait_for_function(
            "old => document.getElementById('op-contact').dataset.lease !== old", arg=lease
        )
        at = time.monotonic()
        expect(row).to_contain_text(f"{labels[recorded_as]} 1", timeout=2000)
        assert time.monotonic() - at < 2.0

    wait_state(page, "none")
    expect(row.locator("[data-calls]")).to_have_text("9", timeout=2000)  # a skip is no call
    assert lease_shown(page) == ""

    attempts = {a.row_id: a for a in control.attempts(store, campaign.project_id, limit=100)}
    by_number = dict(
        store.read(
            lambda c: c.execute(
                select(campaign_rows.c.phone_e164, campaign_rows.c.id).where(
                    campaign_rows.c.campaign_id == campaign.campaign_id
                )
            ).all()
        )
    )
    recorded = {n: attempts[by_number[number(n)]] for n in DOES}
    assert {n: a.outcome for n, a in recorded.items()} == {
        "1": "answered",
        "2": "no_answer",
        "3": "busy",
        "4": "voicemail",
        "5": "failed",
        "6": "wrong_number",
        "7": "callback",
        "8": "do_not_call",
        "9": "skip",
        "10": "not_interested",
    }
    assert all(a.operator_id == oleh_id for a in recorded.values())
    answered = recorded["1"].duration_seconds
    assert answered is not None
    assert 1 <= answered <= round(talked) + 1, (answered, talked)
    for n in PROPOSED:  # no answer, no talk time
        assert recorded[n].duration_seconds == 0, n
    assert recorded["9"].note == "не та мова"
    callback_at = recorded["7"].callback_at
    assert callback_at is not None
    assert (
        dt.timedelta(minutes=55) < callback_at - dt.datetime.now(dt.UTC) < dt.timedelta(minutes=61)
    )
    # The baresip contacts were called by the browser, answered and hung up.
    assert len(answering.seen("CALL_ESTABLISHED")) == len(BARESIP)
    print(f"the shift took {time.monotonic() - started:.1f} s")
    for opened in (page, live):
        opened.context.close()
    assert errors == [], f"the operator's page logged errors: {errors}"
    assert live_errors == [], f"the live view logged errors: {live_errors}"


def test_a_softphone_the_sip_server_does_not_answer_pauses_the_operator_in_power_mode(
    browser: Any, server: Server, lab: Lab, oleh: User, campaign: Persona, store: Store
) -> None:
    use_softphone(server, campaign, lab.kamailio.ws_url)
    page, errors = operator_screen(browser, server, oleh, lab)
    lab.kamailio.stop()  # the WebSocket the account points at is closed
    page.keyboard.press("n")
    wait_state(page, "paused", timeout=20_000)
    expect(page.locator("#op-message")).to_contain_text("не зареєстровано")
    wait_presence(store, campaign, oleh, ("paused", "technical"))
    # The contact went back unspent: its lease released, no attempt.
    wait_until(
        lambda: (
            store.read(lambda c: c.execute(select(leases.c.end_reason)).scalars().all())
            == ["released"]
        )
    )
    assert control.attempts(store, campaign.project_id) == []
    assert lease_shown(page) == ""
    page.context.close()
    # Chromium logs the WebSocket it could not open: that, and nothing else.
    assert [e for e in errors if "WebSocket" not in e] == [], f"the page logged errors: {errors}"
