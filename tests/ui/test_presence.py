"""Operator presence: ``POST /dialer/presence`` (session + CSRF header) and what
``dialer.presence.list_states`` makes of it on the set clock: states, reasons, time in state,
heartbeats, going offline after a minute of silence, and isolation between projects."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import delete, select

from powerdialer.dialer import presence
from powerdialer.storage import Store
from powerdialer.storage.schema import memberships, operator_states
from powerdialer.web.app import PowerDialerApp
from tests.clock import Clock
from tests.error_shapes import ui_error
from tests.ui.conftest import LIST, User, csrf_of

pytestmark = pytest.mark.anyio

PATH = "/dialer/presence"


@pytest.fixture
def set_clock(app: PowerDialerApp, clock: Clock) -> Clock:
    app.services.clock = clock.now
    return clock


async def post_state(client: httpx.AsyncClient, body: Any, **params: str) -> httpx.Response:
    page = await client.get(LIST)
    headers = {"x-csrf-token": csrf_of(page.text), "accept": "application/json"}
    if isinstance(body, bytes):
        return await client.post(PATH, content=body, headers=headers, params=params)
    return await client.post(PATH, json=body, headers=headers, params=params)


def state_of(app: PowerDialerApp, project_id: int, email: str, clock: Clock) -> Any:
    found = presence.list_states(app.services.store, project_id, clock.now())
    [member] = [m for m in found if m.email == email]
    return member


async def test_a_state_is_shown_with_its_time_and_a_heartbeat_keeps_its_start(
    app: PowerDialerApp, as_oleh: httpx.AsyncClient, oleh: User, set_clock: Clock
) -> None:
    answer = await post_state(as_oleh, {"campaign_id": oleh.campaign_id, "state": "ready"})
    assert answer.status_code == 204, answer.text
    set_clock.advance(seconds=30)
    seen = state_of(app, oleh.project_id, oleh.email, set_clock)
    assert (seen.state, seen.reason, seen.campaign_id, seen.seconds) == (
        "ready",
        None,
        oleh.campaign_id,
        30,
    )
    assert seen.role == "operator"
    again = await post_state(as_oleh, {"campaign_id": oleh.campaign_id, "state": "ready"})
    assert again.status_code == 204
    set_clock.advance(seconds=45)  # 75 s in the state, 45 s since the heartbeat: not offline
    assert state_of(app, oleh.project_id, oleh.email, set_clock).seconds == 75
    await post_state(as_oleh, {"campaign_id": oleh.campaign_id, "state": "on_call"})
    set_clock.advance(seconds=5)
    seen = state_of(app, oleh.project_id, oleh.email, set_clock)
    assert (seen.state, seen.seconds) == ("on_call", 5)


async def test_a_pause_carries_its_reason_and_a_new_reason_is_a_new_state(
    app: PowerDialerApp, as_oleh: httpx.AsyncClient, oleh: User, set_clock: Clock
) -> None:
    body = {"campaign_id": None, "state": "paused", "reason": "lunch"}
    assert (await post_state(as_oleh, body)).status_code == 204
    set_clock.advance(seconds=20)
    seen = state_of(app, oleh.project_id, oleh.email, set_clock)
    assert (seen.state, seen.reason, seen.seconds) == ("paused", "lunch", 20)
    await post_state(as_oleh, {**body, "reason": "meeting"})
    seen = state_of(app, oleh.project_id, oleh.email, set_clock)
    assert (seen.state, seen.reason, seen.seconds) == ("paused", "meeting", 0)


async def test_a_member_silent_for_a_minute_is_offline_and_starts_anew_when_back(
    app: PowerDialerApp, as_oleh: httpx.AsyncClient, oleh: User, set_clock: Clock
) -> None:
    await post_state(as_oleh, {"campaign_id": None, "state": "ready"})
    set_clock.advance(seconds=60)
    assert state_of(app, oleh.project_id, oleh.email, set_clock).state == "ready"
    set_clock.advance(seconds=1)
    seen = state_of(app, oleh.project_id, oleh.email, set_clock)
    assert (seen.state, seen.seconds, seen.campaign_id) == ("offline", 61, None)
    writer = app.services.writer
    assert await presence.heartbeat(writer, oleh.project_id, seen.user_id, set_clock.now()) is False
    await post_state(as_oleh, {"campaign_id": None, "state": "ready"})  # the same state again
    seen = state_of(app, oleh.project_id, oleh.email, set_clock)
    assert (seen.state, seen.seconds) == ("ready", 0)
    set_clock.advance(seconds=50)
    assert await presence.heartbeat(writer, oleh.project_id, seen.user_id, set_clock.now()) is True
    set_clock.advance(seconds=50)  # 100 s in the state, 50 s since the heartbeat
    seen = state_of(app, oleh.project_id, oleh.email, set_clock)
    assert (seen.state, seen.seconds) == ("ready", 100)


async def test_a_member_never_seen_is_offline_without_a_time(
    app: PowerDialerApp, anna: User, oleh: User, set_clock: Clock
) -> None:
    seen = state_of(app, oleh.project_id, oleh.email, set_clock)
    assert (seen.state, seen.since, seen.seconds) == ("offline", None, None)
    assert await presence.heartbeat(app.services.writer, oleh.project_id, seen.user_id) is False
    emails = [
        m.email for m in presence.list_states(app.services.store, oleh.project_id, set_clock.now())
    ]
    assert emails == ["anna@example.com", "oleh@example.com"]


async def test_leaving_sets_offline_explicitly(
    app: PowerDialerApp, as_oleh: httpx.AsyncClient, oleh: User, set_clock: Clock
) -> None:
    await post_state(as_oleh, {"campaign_id": None, "state": "ready"})
    set_clock.advance(seconds=10)
    await post_state(as_oleh, {"campaign_id": None, "state": "offline"})
    set_clock.advance(seconds=3)
    seen = state_of(app, oleh.project_id, oleh.email, set_clock)
    assert (seen.state, seen.seconds) == ("offline", 3)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"campaign_id": None, "state": "asleep"}, "invalid_state"),
        ({"campaign_id": None}, "invalid_state"),
        ({"campaign_id": None, "state": 3}, "invalid_state"),
        ({"campaign_id": None, "state": "paused"}, "invalid_reason"),
        ({"campaign_id": None, "state": "paused", "reason": "nap"}, "invalid_reason"),
        ({"campaign_id": None, "state": "ready", "reason": "lunch"}, "invalid_reason"),
        ({"campaign_id": "1", "state": "ready"}, "invalid_campaign_id"),
        ({"campaign_id": True, "state": "ready"}, "invalid_campaign_id"),
        ({"campaign_id": 0, "state": "ready"}, "invalid_campaign_id"),
    ],
)
async def test_a_bad_field_is_refused_naming_it_and_nothing_is_stored(
    as_oleh: httpx.AsyncClient, store: Store, body: dict[str, Any], code: str, set_clock: Clock
) -> None:
    sentence = ui_error(await post_state(as_oleh, body), 422, code)
    assert code.removeprefix("invalid_") in sentence
    assert store.read(lambda c: c.execute(select(operator_states)).all()) == []


async def test_malformed_json_is_400(as_oleh: httpx.AsyncClient, set_clock: Clock) -> None:
    ui_error(await post_state(as_oleh, b"{state"), 400, "invalid_json")
    ui_error(await post_state(as_oleh, ["ready"]), 400, "invalid_json")


async def test_it_needs_the_session_and_its_csrf_token(
    as_oleh: httpx.AsyncClient, anonymous: httpx.AsyncClient, store: Store, set_clock: Clock
) -> None:
    body = {"campaign_id": None, "state": "ready"}
    json_accept = {"accept": "application/json"}
    ui_error(await as_oleh.post(PATH, json=body, headers=json_accept), 403, "csrf")
    forged = {**json_accept, "x-csrf-token": "forged"}
    ui_error(await as_oleh.post(PATH, json=body, headers=forged), 403, "csrf")
    ui_error(await anonymous.post(PATH, json=body, headers=json_accept), 401, "signed_out")
    assert store.read(lambda c: c.execute(select(operator_states)).all()) == []


async def test_another_projects_member_can_neither_set_nor_see(
    app: PowerDialerApp,
    as_mallory: httpx.AsyncClient,
    mallory: User,
    oleh: User,
    as_oleh: httpx.AsyncClient,
    set_clock: Clock,
) -> None:
    # The owner's campaign is not mallory's: as a missing one.
    answer = await post_state(as_mallory, {"campaign_id": oleh.campaign_id, "state": "ready"})
    ui_error(answer, 404, "campaign_not_found")
    # Nor can she name the owner's project.
    answer = await post_state(
        as_mallory, {"campaign_id": None, "state": "ready"}, projectId=str(oleh.project_id)
    )
    ui_error(answer, 404, "not_found")
    # Her own state stays in her project.
    ok = await post_state(as_mallory, {"campaign_id": mallory.campaign_id, "state": "ready"})
    assert ok.status_code == 204
    owners = presence.list_states(app.services.store, oleh.project_id, set_clock.now())
    assert mallory.email not in [m.email for m in owners]
    theirs = presence.list_states(app.services.store, mallory.project_id, set_clock.now())
    assert [(m.email, m.state) for m in theirs] == [(mallory.email, "ready")]
    # And oleh's does not show in hers.
    await post_state(
        as_oleh, {"campaign_id": None, "state": "ready"}, projectId=str(oleh.project_id)
    )
    theirs = presence.list_states(app.services.store, mallory.project_id, set_clock.now())
    assert [m.email for m in theirs] == [mallory.email]


async def test_a_removed_member_loses_its_state(
    app: PowerDialerApp, as_oleh: httpx.AsyncClient, oleh: User, store: Store, set_clock: Clock
) -> None:
    await post_state(as_oleh, {"campaign_id": None, "state": "ready"})
    store.write(
        lambda c: c.execute(delete(memberships).where(memberships.c.project_id == oleh.project_id))
    )
    assert store.read(lambda c: c.execute(select(operator_states)).all()) == []


def test_every_state_and_pause_reason_has_a_name_in_every_language() -> None:
    from powerdialer.web.ui.i18n import Catalogs
    from powerdialer.web.ui.presence_labels import pause_reason_names, presence_state_names

    assert tuple(presence_state_names(Catalogs().get("en"))) == presence.STATES
    assert tuple(pause_reason_names(Catalogs().get("en"))) == presence.PAUSE_REASONS
    uk = Catalogs().get("uk")
    assert presence_state_names(uk)["paused"] == "Пауза"
    assert pause_reason_names(uk)["lunch"] == "Обід"


async def test_unstorable_text_is_refused_never_a_5xx(
    as_oleh: httpx.AsyncClient, store: Store, set_clock: Clock
) -> None:
    not_utf8 = await post_state(as_oleh, b'{"state": "\xed\xa0\x80"}')
    ui_error(not_utf8, 400, "invalid_json")
    nul = await post_state(as_oleh, {"campaign_id": None, "state": "paused", "reason": "x\x00"})
    assert 400 <= nul.status_code < 500, nul.text
    assert store.read(lambda c: c.execute(select(operator_states)).all()) == []
