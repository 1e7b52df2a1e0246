"""Server-side click-to-call through Kamailio's dialog bridge, with real SIP on 127.0.0.1: the
operator's baresip rings first and answers by itself, then Kamailio REFERs it to the contact's
baresip, which answers by itself too; both legs are up within a second.  Every socket the lab
holds meanwhile is on 127.0.0.1."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import time

from powerdialer.telephony.base import CallResult, Originator
from powerdialer.telephony.kamailio import KamailioBridge
from tests.telephony.conftest import Lab
from tests.telephony.lab import free_port
from tests.telephony.sockets import off_loopback, sockets_of

OPERATOR = "101"
CONTACT = "+380931234567"
NOW = dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)


LOOPBACK = [ipaddress.ip_network("127.0.0.0/8")]  # POWERDIALER_OUTBOUND_ALLOW=127.0.0.0/8


def bridge_for(lab: Lab, **options: object) -> KamailioBridge:
    port = lab.kamailio.sip_port
    return KamailioBridge(
        lab.kamailio.rpc_url,
        sip_domain=f"127.0.0.1:{port}",
        outbound_proxy=f"sip:127.0.0.1:{port}",
        allow=LOOPBACK,
        **options,  # type: ignore[arg-type]
    )


def originate(
    bridge: Originator, operator: str = OPERATOR, destination: str = CONTACT
) -> CallResult:
    return asyncio.run(bridge.originate(operator=operator, destination=destination, now=NOW))


def test_the_operator_leg_then_the_contact_leg_are_up_within_a_second(lab: Lab) -> None:
    operator = lab.baresip(OPERATOR)
    contact = lab.baresip(CONTACT.lstrip("+"))
    lab.kamailio.wait_registered(OPERATOR, CONTACT.lstrip("+"))

    started = time.monotonic()
    result = originate(bridge_for(lab))

    assert result.ok, result
    assert result.message == "the operator answered"
    operator_leg = operator.wait_event("CALL_ESTABLISHED", started)
    contact_leg = contact.wait_event("CALL_ESTABLISHED", started)
    assert operator_leg.body["peeruri"].startswith("sip:controller@127.0.0.1")
    # The contact is called by the operator's phone (the REFER), not by the bridge.
    assert contact_leg.body["peeruri"] == lab.uri(OPERATOR)
    # Operator first: the bridge rang their phone (answered before originate returned), then
    # transferred it (REFER) to the contact. baresip's events may come in either order.
    assert operator.wait_event("TRANSFER", started).body["param"].startswith(f"sip:{CONTACT[1:]}@")
    print(
        f"operator leg {operator_leg.at - started:.4f} s, contact {contact_leg.at - started:.4f} s"
    )
    assert contact_leg.at - started < 1.0, f"contact leg after {contact_leg.at - started:.3f} s"
    # The operator's phone and the contact are talking: Kamailio tracks their dialog.
    talking = [
        d for d in lab.kamailio.rpc("dlg.list") if d["to_uri"].startswith(f"sip:{CONTACT[1:]}@")
    ]
    assert [d["state"] for d in talking] == [4]

    held = sockets_of(lab.pids())
    assert {s.process.split('"')[1] for s in held} >= {"kamailio", "baresip"}
    assert off_loopback(held, lab.baresip_pids()) == []

    operator.hangup()
    contact.wait_event("CALL_CLOSED", contact_leg.at)


def test_an_operator_who_is_not_registered_is_reported_unanswered(lab: Lab) -> None:
    lab.baresip(CONTACT.lstrip("+"))
    lab.kamailio.wait_registered(CONTACT.lstrip("+"))

    result = originate(bridge_for(lab, answer_timeout=1.0), operator="999")

    assert not result.ok
    assert result.message == "the operator did not answer"


def test_without_waiting_the_bridge_answers_when_the_operators_phone_rings(lab: Lab) -> None:
    operator = lab.baresip(OPERATOR)
    lab.baresip(CONTACT.lstrip("+"))
    lab.kamailio.wait_registered(OPERATOR, CONTACT.lstrip("+"))
    started = time.monotonic()

    result = originate(bridge_for(lab, answer_timeout=None))

    assert result == CallResult(True, "the operator's phone is ringing")
    operator.wait_event("CALL_ESTABLISHED", started)


def test_a_kamailio_that_does_not_answer_is_a_provider_failure_in_words() -> None:
    closed = free_port()
    bridge = KamailioBridge(
        f"http://127.0.0.1:{closed}/RPC",
        sip_domain="127.0.0.1",
        outbound_proxy="sip:127.0.0.1:5060",
        timeout=1.0,
        allow=LOOPBACK,
    )

    result = originate(bridge)

    assert not result.ok
    assert result.message.startswith("Kamailio's JSON-RPC was not reached: could not connect")


def test_an_rpc_address_outside_the_allowed_networks_is_never_contacted(lab: Lab) -> None:
    bridge = bridge_for(lab)
    bridge.allow = ()  # loopback is not public: without POWERDIALER_OUTBOUND_ALLOW, refused

    result = originate(bridge)

    assert result == CallResult(
        False,
        "Kamailio's JSON-RPC was not reached: 127.0.0.1 refused: 127.0.0.1 is a loopback "
        "address (allow it with POWERDIALER_OUTBOUND_ALLOW)",
    )
    assert lab.kamailio.rpc("dlg.list") == []  # nothing was bridged


def test_an_address_that_is_not_kamailios_rpc_is_a_provider_failure_in_words(lab: Lab) -> None:
    bridge = bridge_for(lab)
    bridge.rpc_url = lab.kamailio.rpc_url.replace("/RPC", "/not-rpc")

    result = originate(bridge)

    assert result == CallResult(
        False, "Kamailio's JSON-RPC answered HTTP 404 without JSON", provider_status="404"
    )


def test_nothing_is_sent_for_an_extension_or_number_that_is_not_sip() -> None:
    # Were anything sent, the answer would be the closed port's "was not reached".
    bridge = KamailioBridge(
        f"http://127.0.0.1:{free_port()}/RPC",
        sip_domain="pbx.example",
        outbound_proxy="sip:127.0.0.1:5060",
        allow=LOOPBACK,
    )

    bad_operator = originate(bridge, operator="101>\r\nX-Evil: 1")
    bad_number = originate(bridge, destination="380931234567@evil.example")

    assert bad_operator == CallResult(
        False, "the operator's extension '101>\\r\\nX-Evil: 1' is not a SIP user"
    )
    assert bad_number == CallResult(
        False, "the number '380931234567@evil.example' cannot be dialled as SIP"
    )
    assert bridge.operator_uri("sip:101@pbx.example") == "sip:101@pbx.example"
    assert bridge.destination_uri("+380931234567") == "sip:380931234567@pbx.example"
