"""The screen's server-side call, ``POST /dialer/leases/{id}/call``, end to end in process: the
project's HTTP click-to-call provider (a fake on 127.0.0.1) rings the operator's extension;
a refusal shows the provider's words, records ``provider_failed`` and gives the row back
unspent; only the lease's own operator, in its own project, may place it; CSRF holds."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web
from sqlalchemy import select

from powerdialer.accounts.models import Role
from powerdialer.settings import Settings
from powerdialer.storage import Store
from powerdialer.storage.schema import attempts, campaign_rows
from powerdialer.telephony import settings as telephony
from powerdialer.telephony.base import Method
from powerdialer.telephony.service import secret_box
from powerdialer.web.app import PowerDialerApp
from tests.clock import Clock
from tests.conftest import Persona
from tests.dialer.helpers import WEDNESDAY_10_KYIV, add_rows, due_at
from tests.telephony_people import KEY, user_id
from tests.telephony_people import _cheap_password_hashing as _cheap_password_hashing
from tests.test_telephony_http import Provider, provider
from tests.ui.conftest import User, browser_for, make_user

pytestmark = pytest.mark.anyio


@pytest.fixture
def anna(store: Store, owner: Persona) -> User:
    return make_user(store, owner, "anna@example.com")


@pytest.fixture
def oleh(store: Store, owner: Persona) -> User:
    return make_user(store, owner, "oleh@example.com", Role.OPERATOR)


@pytest.fixture
def mallory(store: Store, stranger: Persona) -> User:
    return make_user(store, stranger, "mallory@example.com")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, secret_key=KEY, outbound_allow=("127.0.0.1/32",))


@pytest.fixture
def clock(app: PowerDialerApp) -> Clock:
    found = Clock(start=WEDNESDAY_10_KYIV)
    app.services.clock = found.now
    return found


async def configure(app: PowerDialerApp, persona: Persona, url: str) -> None:
    services = app.services
    await telephony.save(
        services.writer,
        secret_box(KEY),
        persona.project_id,
        telephony.TelephonySettings(method=Method.HTTP, http_shape="vendor", http_url=url),
        http_secret="provider-key-1",
        now=services.clock(),
    )


async def lease_for(app: PowerDialerApp, persona: Persona, operator_id: int) -> int:
    from powerdialer.dialer import control
    from powerdialer.dialer.queue import Leased

    found = await control.next_contact(
        app.services.writer,
        persona.project_id,
        persona.campaign_id,
        operator_id,
        app.services.clock(),
    )
    assert isinstance(found, Leased), found
    return found.lease_id


async def csrf(client: httpx.AsyncClient) -> str:
    page = await client.get("/settings")
    token = page.text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    return token


@pytest.fixture
async def fake() -> AsyncIterator[Provider]:
    async with provider() as found:
        yield found


@pytest.fixture
async def ready(
    app: PowerDialerApp,
    client: httpx.AsyncClient,
    owner: Persona,
    store: Store,
    oleh: User,
    clock: Clock,
) -> int:
    """A row of the owner's campaign, due; oleh's extension set."""
    await add_rows(client, owner, "380931234567")
    due_at(store, clock.now())
    telephony.set_extension(store, owner.project_id, user_id(store, oleh), "101", clock.now())
    return user_id(store, oleh)


async def test_the_call_rings_the_operators_extension_through_the_vendors_api(
    app: PowerDialerApp, owner: Persona, oleh: User, ready: int, fake: Provider
) -> None:
    await configure(app, owner, f"{fake.url}/callback/outward_call")
    lease = await lease_for(app, owner, ready)
    async with browser_for(app, oleh) as browser:
        answer = await browser.post(
            f"/dialer/leases/{lease}/call", headers={"X-CSRF-Token": await csrf(browser)}
        )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"ok": True}
    ((method, path, headers, body),) = fake.requests
    assert (method, path) == ("POST", "/callback/outward_call")
    assert headers["Auth-key"] == "provider-key-1"
    assert body == b"extension=101&destination=%2B380931234567"


async def test_a_refusal_shows_the_providers_words_and_gives_the_row_back_unspent(
    app: PowerDialerApp, owner: Persona, oleh: User, ready: int, store: Store, clock: Clock
) -> None:
    async def refuse(request: web.Request) -> web.StreamResponse:
        return web.json_response({"error": "<b>SIP account 101 is offline</b>"}, status=400)

    async with provider(refuse) as fake:
        await configure(app, owner, f"{fake.url}/callback/outward_call")
        lease = await lease_for(app, owner, ready)
        async with browser_for(app, oleh) as browser:
            answer = await browser.post(
                f"/dialer/leases/{lease}/call", headers={"X-CSRF-Token": await csrf(browser)}
            )
    assert answer.status_code == 200
    assert answer.json() == {
        "ok": False,
        "error": "<b>SIP account 101 is offline</b> (HTTP 400)",
        "released": True,
    }
    ((attempt,),) = [store.read(lambda c: list(c.execute(select(attempts))))]
    assert attempt.outcome == "provider_failed"
    assert attempt.note == "<b>SIP account 101 is offline</b> (HTTP 400)"
    assert attempt.counted is False
    (row,) = store.read(lambda c: list(c.execute(select(campaign_rows))))
    assert row.status == "pending"
    assert row.attempts == 0
    assert row.next_attempt_at == clock.now()  # due again at once
    assert await lease_for(app, owner, ready)  # and handed out again


async def test_a_provider_that_is_not_reached_is_a_provider_failure_too(
    app: PowerDialerApp, owner: Persona, oleh: User, ready: int, fake: Provider
) -> None:
    port = fake.url.rsplit(":", 1)[1]
    await configure(app, owner, f"http://10.255.255.1:{port}/x")  # not in the allow-list
    lease = await lease_for(app, owner, ready)
    async with browser_for(app, oleh) as browser:
        answer = await browser.post(
            f"/dialer/leases/{lease}/call", headers={"X-CSRF-Token": await csrf(browser)}
        )
    found = answer.json()
    assert found["ok"] is False
    assert found["released"] is True
    assert "10.255.255.1 is a private address" in found["error"]


async def test_another_members_lease_is_refused_and_another_projects_is_not_found(
    app: PowerDialerApp, owner: Persona, anna: User, mallory: User, ready: int, fake: Provider
) -> None:
    await configure(app, owner, fake.url)
    lease = await lease_for(app, owner, ready)
    async with browser_for(app, anna) as browser:
        mine = await browser.post(
            f"/dialer/leases/{lease}/call", headers={"X-CSRF-Token": await csrf(browser)}
        )
    assert mine.status_code == 409
    assert mine.json()["code"] == "lease_not_yours"
    async with browser_for(app, mallory) as browser:
        theirs = await browser.post(
            f"/dialer/leases/{lease}/call", headers={"X-CSRF-Token": await csrf(browser)}
        )
    assert theirs.status_code == 404
    assert theirs.json()["code"] == "lease_not_found"
    assert fake.requests == []


async def test_without_the_csrf_token_nothing_is_called(
    app: PowerDialerApp, owner: Persona, oleh: User, ready: int, fake: Provider
) -> None:
    await configure(app, owner, fake.url)
    lease = await lease_for(app, owner, ready)
    async with browser_for(app, oleh) as browser:
        answer = await browser.post(
            f"/dialer/leases/{lease}/call", headers={"Accept": "application/json"}
        )
    assert answer.status_code == 403
    assert fake.requests == []


async def test_a_link_project_or_a_member_without_an_extension_is_told_what_to_set(
    app: PowerDialerApp, owner: Persona, oleh: User, ready: int, store: Store, fake: Provider
) -> None:
    lease = await lease_for(app, owner, ready)
    async with browser_for(app, oleh) as browser:
        token = await csrf(browser)
        link = await browser.post(f"/dialer/leases/{lease}/call", headers={"X-CSRF-Token": token})
        assert link.status_code == 409
        assert link.json()["code"] == "not_server_side"
        await configure(app, owner, fake.url)
        telephony.set_extension(store, owner.project_id, ready, None, app.services.clock())
        bare = await browser.post(f"/dialer/leases/{lease}/call", headers={"X-CSRF-Token": token})
    assert bare.status_code == 409
    assert bare.json()["code"] == "extension_missing"
    assert fake.requests == []


async def test_a_provider_failure_is_no_call_for_caps_and_gaps(
    app: PowerDialerApp,
    client: httpx.AsyncClient,
    owner: Persona,
    oleh: User,
    ready: int,
    store: Store,
    clock: Clock,
) -> None:
    """A cap of one call a day and a 30-minute gap: the refused call used neither, so the
    row is handed out again at once."""
    rules = {"number_caps": {"per_day": 1}, "contact_caps": {"per_day": 1}, "min_gap_minutes": 30}
    answer = await client.put(
        f"/power-dialer/campaigns/{owner.campaign_id}/dialer/rules",
        json=rules,
        headers=owner.headers,
    )
    assert answer.status_code == 200, answer.text

    async def refuse(request: web.Request) -> web.StreamResponse:
        return web.Response(status=503, text="trunk down")

    async with provider(refuse) as fake:
        await configure(app, owner, fake.url)
        lease = await lease_for(app, owner, ready)
        async with browser_for(app, oleh) as browser:
            failed = await browser.post(
                f"/dialer/leases/{lease}/call", headers={"X-CSRF-Token": await csrf(browser)}
            )
    assert failed.json()["released"] is True
    clock.advance(seconds=1)
    assert await lease_for(app, owner, ready) != lease


async def test_a_second_press_while_the_call_is_being_placed_rings_nobody_twice(
    app: PowerDialerApp, owner: Persona, oleh: User, ready: int
) -> None:
    started, finish = asyncio.Event(), asyncio.Event()

    async def slow(request: web.Request) -> web.StreamResponse:
        started.set()
        await finish.wait()
        return web.json_response({"status": "ok"})

    async with provider(slow) as fake:
        await configure(app, owner, fake.url)
        lease = await lease_for(app, owner, ready)
        async with browser_for(app, oleh) as browser:
            headers = {"X-CSRF-Token": await csrf(browser)}
            first = asyncio.create_task(
                browser.post(f"/dialer/leases/{lease}/call", headers=headers)
            )
            await started.wait()
            second = await browser.post(f"/dialer/leases/{lease}/call", headers=headers)
            finish.set()
            assert (await first).json() == {"ok": True}
    assert second.status_code == 409
    assert second.json()["code"] == "call_in_progress"
    assert len(fake.requests) == 1
