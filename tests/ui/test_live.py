"""The supervisor's live view (``/dialer/live`` and its JSON): owners only, one project's
figures only, and what it shows after outcomes recorded through the API, on the set clock."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from powerdialer.storage import Store
from powerdialer.storage.schema import users
from powerdialer.web.app import PowerDialerApp
from tests.clock import Clock
from tests.conftest import Persona
from tests.dialer.helpers import WEDNESDAY_10_KYIV, add_rows, due_at, next_for, outcome, set_rules
from tests.error_shapes import ui_error
from tests.ui.conftest import LIST, User, csrf_of, text_of

pytestmark = pytest.mark.anyio

PAGE = "/dialer/live"
JSON = "/dialer/live.json"
ACCEPT = {"accept": "application/json"}


@pytest.fixture
def at_ten(app: PowerDialerApp) -> Clock:
    clock = Clock(start=WEDNESDAY_10_KYIV)  # 10:00 in Kyiv, 08:00 UTC
    app.services.clock = clock.now
    return clock


def user_id(store: Store, email: str) -> int:
    return int(
        store.read(
            lambda c: c.execute(select(users.c.id).where(users.c.email == email)).scalar_one()
        )
    )


async def live(client: httpx.AsyncClient, **params: str) -> dict[str, Any]:
    answer = await client.get(JSON, params=params, headers=ACCEPT)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def counted(client: httpx.AsyncClient, campaign_id: int, final: int) -> dict[str, Any]:
    """The view once the background "why not" count has caught up (bounded)."""
    for _ in range(200):
        body = await live(client)
        [campaign] = [c for c in body["campaigns"] if c["id"] == campaign_id]
        if campaign["explain"] and campaign["explain"]["counts"]["final"] == final:
            return body
        await asyncio.sleep(0.05)
    raise AssertionError(f"the why-not counts never showed {final} final rows: {campaign}")


async def work(client: httpx.AsyncClient, persona: Persona, operator_id: int, *codes: str) -> None:
    for code in codes:
        found = await next_for(client, persona, operator_id)
        assert found["lease"], found
        answer = await outcome(client, persona, found["lease"]["lease_id"], operator_id, code)
        assert answer.status_code == 200, answer.text


async def test_it_shows_operators_campaigns_and_the_day_after_outcomes(
    app: PowerDialerApp,
    client: httpx.AsyncClient,
    as_anna: httpx.AsyncClient,
    as_oleh: httpx.AsyncClient,
    oleh: User,
    owner: Persona,
    store: Store,
    at_ten: Clock,
) -> None:
    as_anna.cookies.set("pd_tz", "Europe%2FKyiv")  # as app.js writes it: URL-encoded
    oleh_id = user_id(store, oleh.email)
    assert (await set_rules(client, owner)).status_code == 200
    await add_rows(client, owner, "380930000001", "380930000002", "380930000003")
    due_at(store, at_ten.now())
    page = await as_oleh.get(LIST)
    presence = {"x-csrf-token": csrf_of(page.text), **ACCEPT}
    body = {"campaign_id": owner.campaign_id, "state": "ready"}
    assert (await as_oleh.post("/dialer/presence", json=body, headers=presence)).status_code == 204

    before = await live(as_anna)
    [me] = [o for o in before["operators"] if o["user_id"] == oleh_id]
    assert (me["state"], me["calls"], me["outcomes"]) == ("ready", 0, {})

    await work(client, owner, oleh_id, "answered", "busy")
    at_ten.advance(seconds=50)
    found = await counted(as_anna, owner.campaign_id, final=1)
    assert found["day_start"] == "2026-12-01T22:00:00+00:00"  # midnight in Kyiv
    [me] = [o for o in found["operators"] if o["user_id"] == oleh_id]
    assert me == {
        "user_id": oleh_id,
        "name": "",
        "email": oleh.email,
        "state": "ready",
        "reason": None,
        "campaign_id": owner.campaign_id,
        "seconds": 50,
        "calls": 2,
        "answered": 1,
        "outcomes": {"answered": 1, "busy": 1},
    }
    [campaign] = found["campaigns"]
    assert {k: campaign[k] for k in ("rows", "final", "leased", "calls", "answered")} == {
        "rows": 3,
        "final": 1,
        "leased": 0,
        "calls": 2,
        "answered": 1,
    }
    assert campaign["answered_rate"] == 0.5
    counts = campaign["explain"]["counts"]
    assert (counts["final"], counts["callable_now"], counts["cooling_down"]) == (1, 1, 1)
    assert len(found["hours"]) == 24
    assert found["hours"][10] == {
        "start": "2026-12-02T10:00:00+02:00",
        "outcomes": {"answered": 1, "busy": 1},
    }
    assert sum(sum(h["outcomes"].values()) for h in found["hours"]) == 2
    # The rendered parts say it too.
    assert "Відповіли 1" in text_of(found["html"]["operators"])  # uk by default
    assert "<svg" in found["html"]["chart"]

    # A lease open now shows as leased; the next day starts from nothing.
    await next_for(client, owner, oleh_id)
    assert (await live(as_anna))["campaigns"][0]["leased"] == 1
    at_ten.advance(days=1)
    tomorrow = await live(as_anna)
    [me] = [o for o in tomorrow["operators"] if o["user_id"] == oleh_id]
    assert (me["calls"], me["outcomes"], me["state"]) == (0, {}, "offline")
    assert tomorrow["campaigns"][0]["calls"] == 0


async def test_the_page_renders_the_figures_and_polls_for_more(
    as_anna: httpx.AsyncClient, anna: User, oleh: User, at_ten: Clock
) -> None:
    answer = await as_anna.get(PAGE, params={"lang": "en"})
    assert answer.status_code == 200, answer.text
    text = text_of(answer.text)
    for heading in ("Operators", "Campaigns", "Attempts today"):
        assert heading in text
    assert oleh.email in text
    assert 'src="/static/live.js' in answer.text
    assert f'data-src="/dialer/live.json?projectId={anna.project_id}"' in answer.text
    assert 'href="/dialer/live"' in answer.text  # the sidebar's entry, for owners


async def test_an_operator_may_not_watch(as_oleh: httpx.AsyncClient, at_ten: Clock) -> None:
    page = await as_oleh.get(PAGE)
    assert page.status_code == 403
    ui_error(await as_oleh.get(JSON, headers=ACCEPT), 403, "forbidden")
    assert 'href="/dialer/live"' not in (await as_oleh.get(LIST)).text


async def test_signed_out_it_asks_to_sign_in(anonymous: httpx.AsyncClient) -> None:
    assert (await anonymous.get(PAGE)).status_code == 303
    ui_error(await anonymous.get(JSON, headers=ACCEPT), 401, "signed_out")


async def test_another_projects_owner_sees_nothing_of_it(
    app: PowerDialerApp,
    client: httpx.AsyncClient,
    as_mallory: httpx.AsyncClient,
    mallory: User,
    oleh: User,
    owner: Persona,
    store: Store,
    at_ten: Clock,
) -> None:
    oleh_id = user_id(store, oleh.email)
    await set_rules(client, owner)
    await add_rows(client, owner, "380930000001")
    due_at(store, at_ten.now())
    await work(client, owner, oleh_id, "answered")
    answer = await as_mallory.get(JSON, params={"projectId": str(owner.project_id)}, headers=ACCEPT)
    ui_error(answer, 404, "not_found")
    assert (
        await as_mallory.get(PAGE, params={"projectId": str(owner.project_id)})
    ).status_code == 404
    theirs = await live(as_mallory)
    assert [o["email"] for o in theirs["operators"]] == []  # an owner without a state
    assert [c["id"] for c in theirs["campaigns"]] == [mallory.campaign_id]
    assert theirs["campaigns"][0]["calls"] == 0
    assert all(not h["outcomes"] for h in theirs["hours"])
    assert oleh.email not in str(theirs["html"])


def test_a_day_with_a_clock_change_has_one_bucket_an_hour() -> None:
    from zoneinfo import ZoneInfo

    from powerdialer.dialer.live import day_of

    kyiv = ZoneInfo("Europe/Kyiv")
    start, end = day_of(dt.datetime(2026, 3, 29, 12, tzinfo=dt.UTC), kyiv)
    assert (end - start) == dt.timedelta(hours=23)
    start, end = day_of(dt.datetime(2026, 10, 25, 12, tzinfo=dt.UTC), kyiv)
    assert (end - start) == dt.timedelta(hours=25)


async def test_names_are_shown_as_text_never_as_markup(
    as_anna: httpx.AsyncClient, anna: User, store: Store, at_ten: Clock
) -> None:
    from powerdialer import campaigns
    from powerdialer.accounts import users as accounts
    from powerdialer.accounts.models import Role

    campaigns.create_campaign(store, anna.project_id, "<script>alert(1)</script>")
    accounts.create_user(
        store,
        "eve@example.com",
        None,
        project_id=anna.project_id,
        role=Role.OPERATOR,
        name="<b>Eve",
    )
    body = await live(as_anna)
    for part in body["html"].values():
        assert "<script>" not in part
        assert "<b>" not in part
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body["html"]["campaigns"]
    assert "&lt;b&gt;Eve" in body["html"]["operators"]
    page = await as_anna.get(PAGE)
    assert "<script>alert(1)" not in page.text
    assert "&lt;b&gt;Eve" in page.text
