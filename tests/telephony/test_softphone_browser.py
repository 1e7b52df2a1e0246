"""The browser softphone end to end: headless Chromium (fake microphone) signs in to a real
powerdialer server process, saves its SIP account on Account → Softphone on this browser,
registers to Kamailio over ws://127.0.0.1 and calls a baresip contact that answers by itself
(DTLS-SRTP, ICE, rtcp-mux, as a WebRTC peer needs); RTP flows; the call's end proposes
``answered`` with its duration, which the dialer API records in the contact's history.  A SIPp
contact answering 486 proposes ``busy``.  What runs is what the server serves:
/static/vendor/jssip.min.js and /static/softphone.js."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from powerdialer.accounts import members
from powerdialer.accounts.models import Role
from powerdialer.storage import Store
from powerdialer.telephony.base import SIP_PROPOSALS, proposed_outcome
from tests.conftest import COMPAT, Persona
from tests.dialer.helpers import ALWAYS
from tests.e2e.conftest import Server
from tests.telephony.conftest import Lab
from tests.telephony.sockets import off_loopback, sockets_of
from tests.telephony.softphone_pages import save_account, sign_in_en, softphone_chromium
from tests.ui.conftest import User, make_user

pytestmark = pytest.mark.e2e

CONTACT = "+380931234567"
STATIC = Path(__file__).resolve().parents[2] / "src" / "powerdialer" / "web" / "ui" / "static"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from softphone_chromium()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="en-US", permissions=["microphone"])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda m: print(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None,
    )
    page.set_default_timeout(10_000)
    yield page
    context.close()
    assert errors == [], f"the page threw: {errors}"


@pytest.fixture
def operator(store: Store, owner: Persona) -> User:
    return make_user(store, owner, "oleh@example.com", Role.OPERATOR)


def operator_id(store: Store, persona: Persona, user: User) -> int:
    found = [
        m.user_id for m in members.list_members(store, persona.project_id) if m.email == user.email
    ]
    assert len(found) == 1
    return found[0]


@pytest.fixture
def server(start_server: Callable[..., Server], tmp_path: Path, operator: User) -> Server:
    return start_server(POWERDIALER_DATA_DIR=str(tmp_path / "server-data"))


# Runs in the page: a phone from the saved account, its calls' events kept on window.
START_PHONE = """async () => {
  const saved = PDSoftphone.account.load(PDSoftphone.scope());
  window.phone = PDSoftphone.create({...saved, candidateFilter: /^127\\.0\\.0\\.1$/});
  const t0 = performance.now();
  try {
    await window.phone.register();
  } catch (failure) {
    return JSON.stringify(failure);
  }
  return performance.now() - t0;
}"""
CALL = """(target) => new Promise((resolve) => {
  window.events = [];
  const t0 = performance.now();
  window.call = window.phone.call(target);
  window.call.on("progress", (e) => window.events.push(["progress", e]));
  window.call.on("confirmed", () => {
    window.events.push(["confirmed"]);
    resolve(performance.now() - t0);
  });
  window.call.on("ended", (e) => { window.events.push(["ended", e]); resolve(null); });
})"""
STATS = """async () => {
  const out = [];
  (await window.call.peerConnection.getStats()).forEach((r) => out.push(JSON.stringify(r)));
  return out.join("\\n");
}"""
INBOUND_PACKETS = """async () => {
  let packets = 0;
  (await window.call.peerConnection.getStats()).forEach((r) => {
    if (r.type === "inbound-rtp" && r.kind === "audio") packets += r.packetsReceived;
  });
  return packets;
}"""


def api(server: Server, persona: Persona, method: str, path: str, **body: Any) -> Any:
    with httpx.Client(base_url=server.url, trust_env=False, timeout=10) as client:
        answer = client.request(method, path, json=body or None, headers=persona.headers)
    assert answer.status_code < 300, answer.text
    return answer.json()


def test_the_softphone_calls_a_sip_contact_and_its_outcome_lands_in_the_history(
    page: Any, server: Server, lab: Lab, operator: User, owner: Persona, store: Store
) -> None:
    contact = lab.baresip(CONTACT.lstrip("+"), webrtc=True)
    lab.sipp("busy", 486, "Busy Here")
    lab.kamailio.wait_registered(contact.user, "busy")
    sign_in_en(page, server, operator)
    save_account(page, server, lab, "oleh")
    # The account stays in the browser: the page has no form field the server could receive.
    assert page.locator("#softphone-form [name]").count() == 0

    page.reload()  # what was saved comes back from localStorage
    assert page.locator("#sp-ws").input_value() == lab.kamailio.ws_url
    register_ms = page.evaluate(START_PHONE)
    assert isinstance(register_ms, (int, float)), f"registration failed: {register_ms}"
    assert register_ms < 2000, f"registered after {register_ms:.0f} ms"
    lab.kamailio.wait_registered("oleh")

    # The contact is leased through the dialer API, as the operator screen does.
    api(
        server,
        owner,
        "PUT",
        f"/power-dialer/campaigns/{owner.campaign_id}/dialer/rules",
        hours=ALWAYS,
    )
    assert api(server, owner, "POST", COMPAT, **owner.row(CONTACT)) == {"result": True}
    user_id = operator_id(store, owner, operator)
    lease = api(
        server,
        owner,
        "POST",
        f"/power-dialer/campaigns/{owner.campaign_id}/dialer/next",
        operator_id=user_id,
    )

    setup_ms = page.evaluate(CALL, lab.uri(contact.user))
    assert setup_ms is not None, page.evaluate("window.events")
    assert setup_ms < 2000, f"established after {setup_ms:.0f} ms"
    page.wait_for_timeout(3000)  # media flows for three seconds
    packets = page.evaluate(INBOUND_PACKETS)
    print(f"registered in {register_ms:.0f} ms, call up in {setup_ms:.0f} ms, {packets} RTP in 3 s")
    assert packets > 0, (page.evaluate(STATS), page.evaluate("window.events"))
    assert server.proc is not None
    held = sockets_of(lab.pids() | {server.proc.pid})
    assert off_loopback(held, lab.baresip_pids()) == []

    # DTMF reaches the contact (RFC 4733 events in the media); mute holds until unmuted.
    page.evaluate("window.call.dtmf('5')")
    assert contact.wait_event("CALL_DTMF_START").body["param"] == "5"
    assert page.evaluate("window.call.mute(true), window.call.isMuted()") is True
    assert page.evaluate("window.call.mute(false), window.call.isMuted()") is False
    with pytest.raises(Exception, match="DTMF digit must be"):
        page.evaluate("window.call.dtmf('x')")
    page.evaluate(
        "window.ending = new Promise((r) => window.call.on('ended', r)); window.call.hangup()"
    )
    ended = page.evaluate("window.ending")
    assert ended["proposedOutcome"] == "answered"
    assert ended["sipStatus"] == 200
    assert 3 <= ended["durationSeconds"] <= 5, ended
    contact.wait_event("CALL_CLOSED")

    api(
        server,
        owner,
        "POST",
        f"/power-dialer/leases/{lease['lease']['lease_id']}/outcome",
        operator_id=user_id,
        outcome=ended["proposedOutcome"],
        duration_seconds=ended["durationSeconds"],
    )
    row_id = lease["contact"]["id"]
    history = api(
        server, owner, "GET", f"/power-dialer/campaigns/{owner.campaign_id}/rows/{row_id}/attempts"
    )
    assert [(a["outcome"], a["duration_seconds"]) for a in history["items"]] == [
        ("answered", ended["durationSeconds"])
    ]

    # A contact answering 486 proposes busy, with no duration.
    assert page.evaluate(CALL, lab.uri("busy")) is None  # never confirmed
    busy = page.evaluate("window.events.find((e) => e[0] === 'ended')[1]")
    assert (busy["sipStatus"], busy["proposedOutcome"], busy["durationSeconds"]) == (486, "busy", 0)


def test_the_browser_and_the_server_propose_the_same_outcomes(page: Any) -> None:
    page.goto("about:blank")
    page.add_script_tag(path=str(STATIC / "softphone.js"))
    statuses = [*SIP_PROPOSALS, 200, 403, 500, 503, 599, 302]
    for status in statuses:
        in_browser = page.evaluate("(s) => PDSoftphone.proposedOutcome(s, false)", status)
        assert in_browser == proposed_outcome(status, False), status
    assert page.evaluate("PDSoftphone.proposedOutcome(null, true)") == "answered"
