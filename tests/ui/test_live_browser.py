"""The live view in a real browser against a real server process: an owner keeps it open, an
operator's outcome recorded through the API shows within 2 s without a reload, and the time
in state ticks on between answers."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from powerdialer.storage import Store
from powerdialer.storage.schema import users
from tests.conftest import Persona
from tests.dialer.helpers import ALWAYS
from tests.e2e.conftest import Server
from tests.ui.browser import chromium
from tests.ui.conftest import LIST, User, csrf_of

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def server(start_server: Callable[..., Server], tmp_path: Path, anna: User, oleh: User) -> Server:
    return start_server(POWERDIALER_DATA_DIR=str(tmp_path / "server-data"))


def signed_in(server: Server, user: User) -> httpx.Client:
    """An HTTP client with the user's session on the server (the sign-in form, as a browser)."""
    client = httpx.Client(base_url=server.url, trust_env=False, timeout=10)
    form = client.get("/login")
    answer = client.post(
        "/login",
        data={"email": user.email, "password": user.password, "csrf_token": csrf_of(form.text)},
    )
    assert answer.status_code == 303, answer.text
    return client


def test_an_outcome_shows_in_the_open_live_view_within_two_seconds(
    browser: Any, server: Server, anna: User, oleh: User, owner: Persona, store: Store
) -> None:
    api = httpx.Client(base_url=server.url, headers=owner.headers, trust_env=False, timeout=10)
    rules = api.put(
        f"/power-dialer/campaigns/{owner.campaign_id}/dialer/rules", json={"hours": ALWAYS}
    )
    assert rules.status_code == 200, rules.text
    for phone in ("380930000001", "380930000002"):
        assert api.post("/power-dialer/campaigns/campaign-rows", json=owner.row(phone)).json() == {
            "result": True
        }
    oleh_id = store.read(
        lambda c: c.execute(select(users.c.id).where(users.c.email == oleh.email)).scalar_one()
    )
    screen = signed_in(server, oleh)
    token = csrf_of(screen.get(LIST).text)
    body = {"campaign_id": owner.campaign_id, "state": "on_call"}
    headers = {"x-csrf-token": token, "accept": "application/json"}
    assert screen.post("/dialer/presence", json=body, headers=headers).status_code == 204
    screen.close()
    lease = api.post(
        f"/power-dialer/campaigns/{owner.campaign_id}/dialer/next", json={"operator_id": oleh_id}
    ).json()["lease"]

    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, timezone_id="Europe/Kyiv"
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto(server.url + "/login")
        page.get_by_label("Електронна пошта").fill(anna.email)
        page.get_by_label("Пароль").fill(anna.password)
        page.get_by_role("button", name="Увійти").click()
        page.wait_for_url(re.compile(r"/settings/softphone/power-dialer"))
        page.get_by_role("link", name="Наживо").click()  # the sidebar's entry
        page.wait_for_url(re.compile(r"/dialer/live"))
        # "Today" is the browser's day: its zone came through app.js's cookie.
        expect(page.locator(".subtitle")).to_contain_text("Europe/Ki")
        row = page.locator(f'tr[data-operator="{oleh_id}"]')
        expect(row.locator("[data-state]")).to_have_text("На дзвінку")
        expect(row.locator("[data-calls]")).to_have_text("0")
        campaign = page.locator(f'tr[data-campaign="{owner.campaign_id}"]')
        expect(campaign.locator("[data-leased]")).to_have_text("1")
        page.evaluate("window.notReloaded = true")

        # The time in state ticks on in the page.
        seconds = row.locator("[data-seconds]")
        first = seconds.inner_text()
        expect(seconds).not_to_have_text(first, timeout=2500)

        recorded = api.post(
            f"/power-dialer/leases/{lease['lease_id']}/outcome",
            json={"operator_id": oleh_id, "outcome": "answered", "duration_seconds": 42},
        )
        assert recorded.status_code == 200, recorded.text
        started = time.monotonic()
        expect(row.locator("[data-calls]")).to_have_text("1", timeout=2000)
        expect(campaign.locator("[data-final]")).to_have_text("1", timeout=2000)
        expect(campaign.locator("[data-leased]")).to_have_text("0", timeout=2000)
        assert time.monotonic() - started < 2.0
        assert page.evaluate("window.notReloaded") is True
        expect(row).to_contain_text("Відповіли 1")
        expect(page.locator("#live-chart rect.outcome-answered")).to_have_count(1)
        # The why-not counts arrive from the background count: one final, one callable.
        expect(campaign.locator("[data-callable]")).to_have_text("1", timeout=5000)
    finally:
        context.close()
    assert errors == [], f"the page logged errors: {errors}"
