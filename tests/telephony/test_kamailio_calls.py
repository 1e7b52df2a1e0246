"""The operator screen's server-side call (``POST /dialer/leases/{id}/call``) with the project's
method set to ``kamailio``: the real Kamailio of the lab rings the operator's baresip (their
extension ``101``), then the contact's number; both legs come up."""

from __future__ import annotations

import dataclasses
import time

import httpx
import pytest

from powerdialer.accounts.models import Role
from powerdialer.settings import Settings
from powerdialer.storage import Store
from powerdialer.telephony import settings as telephony
from powerdialer.telephony.base import Method
from powerdialer.telephony.service import secret_box
from powerdialer.web.app import PowerDialerApp
from tests.clock import Clock
from tests.conftest import Persona
from tests.dialer.helpers import WEDNESDAY_10_KYIV, add_rows, due_at
from tests.telephony.conftest import Lab
from tests.telephony_people import KEY, user_id
from tests.test_telephony_calls import csrf, lease_for
from tests.ui.conftest import User, browser_for, make_user

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, secret_key=KEY, outbound_allow=("127.0.0.1/32",))


@pytest.fixture
def operator(store: Store, owner: Persona) -> User:
    return make_user(store, owner, "ivan@example.com", Role.OPERATOR)


async def test_the_screens_call_rings_the_operator_then_the_contact_through_kamailio(
    app: PowerDialerApp,
    client: httpx.AsyncClient,
    store: Store,
    owner: Persona,
    operator: User,
    lab: Lab,
) -> None:
    clock = Clock(start=WEDNESDAY_10_KYIV)
    app.services.clock = clock.now
    phone = lab.baresip("101")
    contact = lab.baresip("380931234567")
    lab.kamailio.wait_registered("101", "380931234567")
    await telephony.save(
        app.services.writer,
        secret_box(KEY),
        owner.project_id,
        telephony.TelephonySettings(
            method=Method.KAMAILIO,
            kamailio_url=lab.kamailio.rpc_url,
            softphone_domain=f"127.0.0.1:{lab.kamailio.sip_port}",
            timeout_seconds=10,
        ),
        now=clock.now(),
    )
    await add_rows(client, owner, "380931234567")
    due_at(store, clock.now())
    operator_id = user_id(store, operator)
    telephony.set_extension(store, owner.project_id, operator_id, "101", clock.now())
    lease = await lease_for(app, owner, operator_id)

    started = time.monotonic()
    async with browser_for(app, operator) as browser:
        answer = await browser.post(
            f"/dialer/leases/{lease}/call", headers={"X-CSRF-Token": await csrf(browser)}
        )

    assert answer.status_code == 200, answer.text
    assert answer.json() == {"ok": True}
    phone.wait_event("CALL_ESTABLISHED", started)
    assert contact.wait_event("CALL_ESTABLISHED", started).body["peeruri"] == lab.uri("101")
    phone.hangup()
