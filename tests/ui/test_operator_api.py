"""The operator screen's JSON calls (``/dialer/…``, web/ui/routes/operator.py) in process: the
signed-in member is the operator, the session's project the scope; the same domain calls as
the key-based API, so what they do is the API's (tests/dialer/) and these tests pin the
surface: what the screen is sent, CSRF, the error shape naming the field, and isolation.

Past 300 lines on purpose: one short test per call and per refusal, sharing two helpers."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import httpx
import pytest

from powerdialer.dialer import control
from powerdialer.storage import Store
from tests.conftest import Persona
from tests.dialer.helpers import set_rules
from tests.ui.conftest import User, csrf_of

pytestmark = pytest.mark.anyio


async def token_of(client: httpx.AsyncClient) -> str:
    return csrf_of((await client.get("/dialer")).text)


async def call(
    client: httpx.AsyncClient, path: str, body: dict[str, Any] | None = None, token: str = ""
) -> httpx.Response:
    return await client.post(
        path,
        json=body or {},
        headers={"X-CSRF-Token": token or await token_of(client), "Accept": "application/json"},
    )


@pytest.fixture
async def ready(client: httpx.AsyncClient, owner: Persona) -> Persona:
    """The owner's campaign, always open, with two contacts."""
    answer = await set_rules(client, owner)
    assert answer.status_code == 200, answer.text
    for phone, fio in (("380930000001", "Іван Петренко"), ("380930000002", "Марія Коваль")):
        row = owner.row(phone, fio=fio, fields={"city": "Київ", "plan": "<b>gold</b>"})
        answer = await client.post(
            "/power-dialer/campaigns/campaign-rows", json=row, headers=owner.headers
        )
        assert answer.json() == {"result": True}, answer.text
    return owner


async def test_next_leases_the_first_contact_to_the_signed_in_operator(
    as_oleh: httpx.AsyncClient, ready: Persona, oleh: User, store: Store
) -> None:
    answer = await call(as_oleh, f"/dialer/campaigns/{ready.campaign_id}/next")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    contact = body["contact"]
    assert contact["fio"] == "Іван Петренко"
    assert contact["number"]["international"] == "+380 93 000 0001"
    assert contact["number"]["country"] == "Україна"  # the operator's language (uk)
    assert contact["call_link"] == "tel:+380930000001"
    assert contact["zones"] == ["Europe/Kyiv"]
    assert body["history"] == []
    assert body["campaign"]["dialing_mode"] == "preview"
    assert body["campaign"]["wrap_up_seconds"] == 10
    assert control.attempts(store, ready.project_id) == []
    lease_id = body["lease"]["lease_id"]
    renewed = await call(as_oleh, f"/dialer/leases/{lease_id}/renew")
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["lease"]["lease_id"] == lease_id
    # Asking again resumes the same lease (a reload), it does not take a second contact.
    again = (await call(as_oleh, f"/dialer/campaigns/{ready.campaign_id}/next")).json()
    assert again["lease"]["lease_id"] == lease_id
    assert again["lease"]["resumed"] is True


async def lease_for(client: httpx.AsyncClient, persona: Persona) -> int:
    answer = await call(client, f"/dialer/campaigns/{persona.campaign_id}/next")
    assert answer.status_code == 200, answer.text
    lease_id: int = answer.json()["lease"]["lease_id"]
    return lease_id


async def test_an_outcome_with_its_note_is_the_contacts_history_next_time(
    as_oleh: httpx.AsyncClient, ready: Persona, oleh: User, store: Store
) -> None:
    await set_rules(as_oleh, ready, retry={"no_answer": {"delay_minutes": 0}})
    lease_id = await lease_for(as_oleh, ready)
    answer = await call(
        as_oleh,
        f"/dialer/leases/{lease_id}/outcome",
        {"outcome": "no_answer", "note": "Rang out <twice>", "duration_seconds": 25},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["outcome"] == "no_answer"
    (attempt,) = control.attempts(store, ready.project_id)
    assert (attempt.note, attempt.duration_seconds, attempt.outcome) == (
        "Rang out <twice>",
        25,
        "no_answer",
    )
    # Due again at once (delay 0) but behind the other contact; take that one, skip it, and the
    # first comes back with its history.
    second = await lease_for(as_oleh, ready)
    skipped = await call(as_oleh, f"/dialer/leases/{second}/skip", {"reason": "wrong language"})
    assert skipped.status_code == 200, skipped.text
    body = (await call(as_oleh, f"/dialer/campaigns/{ready.campaign_id}/next")).json()
    assert body["contact"]["fio"] == "Іван Петренко"
    (shown,) = body["history"]
    assert shown["note"] == "Rang out <twice>"
    assert shown["outcome"] == "no_answer"
    assert shown["duration_seconds"] == 25


async def test_a_skip_needs_a_reason_naming_the_field(
    as_oleh: httpx.AsyncClient, ready: Persona
) -> None:
    lease_id = await lease_for(as_oleh, ready)
    answer = await call(as_oleh, f"/dialer/leases/{lease_id}/skip", {"reason": ""})
    assert answer.status_code == 422
    assert answer.json()["field"] == "reason"
    assert answer.json()["code"] == "invalid_field"
    blank = await call(as_oleh, f"/dialer/leases/{lease_id}/skip", {"reason": "   "})
    assert blank.status_code == 422
    assert blank.json()["code"] == "skip_reason_required"


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"outcome": "busy", "duration_seconds": -1}, "duration_seconds", "invalid_field"),
        ({"outcome": "busy", "colour": "red"}, "colour", "invalid_field"),
        ({"outcome": "callback"}, "callback_at", "callback_at_required"),
        (
            {"outcome": "callback", "callback_at": "2020-01-01T10:00:00+02:00"},
            "callback_at",
            "invalid_callback_at",
        ),
        ({"outcome": "sold_a_yacht"}, "outcome", "outcome_not_found"),
        ({"outcome": "busy", "callback_scope": "everyone"}, "callback_scope", "invalid_field"),
    ],
)
async def test_a_bad_outcome_is_refused_naming_the_field_and_the_lease_stays(
    as_oleh: httpx.AsyncClient,
    ready: Persona,
    store: Store,
    body: dict[str, Any],
    field: str,
    code: str,
) -> None:
    lease_id = await lease_for(as_oleh, ready)
    answer = await call(as_oleh, f"/dialer/leases/{lease_id}/outcome", body)
    assert answer.status_code in (404, 422), answer.text
    assert answer.json()["field"] == field
    assert answer.json()["code"] == code
    assert answer.json()["error"]
    assert control.attempts(store, ready.project_id) == []
    # The lease is still the operator's.
    assert (await call(as_oleh, f"/dialer/leases/{lease_id}/renew")).status_code == 200


async def test_malformed_json_is_a_400_not_a_crash(
    as_oleh: httpx.AsyncClient, ready: Persona
) -> None:
    lease_id = await lease_for(as_oleh, ready)
    answer = await as_oleh.post(
        f"/dialer/leases/{lease_id}/outcome",
        content=b"{not json",
        headers={"X-CSRF-Token": await token_of(as_oleh), "Content-Type": "application/json"},
    )
    assert answer.status_code == 400
    assert answer.json()["code"] == "malformed_json"


async def test_a_personal_callback_goes_to_its_operator(
    as_oleh: httpx.AsyncClient, ready: Persona, store: Store
) -> None:
    lease_id = await lease_for(as_oleh, ready)
    when = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)).replace(microsecond=0)
    answer = await call(
        as_oleh,
        f"/dialer/leases/{lease_id}/outcome",
        {"outcome": "callback", "callback_at": when.isoformat(), "callback_scope": "personal"},
    )
    assert answer.status_code == 200, answer.text
    (attempt,) = control.attempts(store, ready.project_id)
    assert attempt.outcome == "callback"
    assert attempt.callback_at.replace(tzinfo=dt.UTC) == when


async def test_release_gives_the_contact_back_at_once(
    as_oleh: httpx.AsyncClient, ready: Persona, store: Store
) -> None:
    lease_id = await lease_for(as_oleh, ready)
    released = await call(as_oleh, f"/dialer/leases/{lease_id}/release")
    assert released.json() == {"released": True}
    assert control.attempts(store, ready.project_id) == []
    again = await call(as_oleh, f"/dialer/leases/{lease_id}/renew")
    assert again.status_code == 409
    assert again.json()["code"] == "lease_ended"
    body = (await call(as_oleh, f"/dialer/campaigns/{ready.campaign_id}/next")).json()
    assert body["contact"]["fio"] == "Іван Петренко"  # first in the queue again
    assert body["lease"]["lease_id"] != lease_id


async def test_every_call_needs_the_csrf_token(
    as_oleh: httpx.AsyncClient, ready: Persona, store: Store
) -> None:
    for path in (
        f"/dialer/campaigns/{ready.campaign_id}/next",
        "/dialer/leases/1/renew",
        "/dialer/leases/1/release",
        "/dialer/leases/1/skip",
        "/dialer/leases/1/outcome",
    ):
        answer = await as_oleh.post(
            path, json={"reason": "x", "outcome": "busy"}, headers={"Accept": "application/json"}
        )
        assert answer.status_code == 403, path
        assert answer.json()["code"] == "csrf"
        forged = await as_oleh.post(
            path, json={}, headers={"X-CSRF-Token": "forged", "Accept": "application/json"}
        )
        assert forged.status_code == 403, path
    # Nothing was leased: the operator's first real call gets the first contact, not resumed.
    body = (await call(as_oleh, f"/dialer/campaigns/{ready.campaign_id}/next")).json()
    assert body["lease"]["resumed"] is False


async def test_signed_out_calls_answer_401_json(
    anonymous: httpx.AsyncClient, ready: Persona
) -> None:
    answer = await anonymous.post(
        f"/dialer/campaigns/{ready.campaign_id}/next", headers={"Accept": "application/json"}
    )
    assert answer.status_code == 401
    assert answer.json()["code"] == "signed_out"
    page = await anonymous.get("/dialer")
    assert page.status_code == 303
    assert page.headers["location"].startswith("/login")


async def test_another_operators_lease_is_not_yours(
    as_oleh: httpx.AsyncClient, as_anna: httpx.AsyncClient, ready: Persona, store: Store
) -> None:
    lease_id = await lease_for(as_oleh, ready)
    for action, body in (
        ("renew", {}),
        ("release", {}),
        ("skip", {"reason": "mine now"}),
        ("outcome", {"outcome": "answered"}),
    ):
        answer = await call(as_anna, f"/dialer/leases/{lease_id}/{action}", body)
        assert answer.status_code == 409, action
        assert answer.json()["code"] == "lease_not_yours"
    assert control.attempts(store, ready.project_id) == []
    # Anna gets the other contact, not Oleh's.
    theirs = (await call(as_anna, f"/dialer/campaigns/{ready.campaign_id}/next")).json()
    assert theirs["contact"]["fio"] == "Марія Коваль"


async def test_another_projects_member_reaches_nothing(
    as_oleh: httpx.AsyncClient,
    as_mallory: httpx.AsyncClient,
    ready: Persona,
    stranger: Persona,
    store: Store,
) -> None:
    lease_id = await lease_for(as_oleh, ready)
    answer = await call(as_mallory, f"/dialer/campaigns/{ready.campaign_id}/next")
    assert answer.status_code == 404
    assert answer.json()["code"] == "campaign_not_found"
    assert "Owner leads" not in answer.text
    for action, body in (
        ("renew", {}),
        ("release", {}),
        ("skip", {"reason": "x"}),
        ("outcome", {"outcome": "do_not_call", "note": "hijack"}),
    ):
        answer = await call(as_mallory, f"/dialer/leases/{lease_id}/{action}", body)
        assert answer.status_code == 404, action
        assert answer.json()["code"] == "lease_not_found"
        assert "Іван" not in answer.text
    assert control.attempts(store, ready.project_id) == []
    assert (await call(as_oleh, f"/dialer/leases/{lease_id}/renew")).status_code == 200
    # The stranger's screen lists only the stranger's campaigns.
    screen = await as_mallory.get("/dialer")
    assert "Stranger leads" in screen.text
    assert "Owner leads" not in screen.text


async def test_the_screen_lists_the_projects_outcomes_with_their_keys(
    as_oleh: httpx.AsyncClient, ready: Persona, store: Store
) -> None:
    from powerdialer.dialer.outcomes import new_outcome

    control.add_outcome(store, ready.project_id, new_outcome("sale", "Sale closed"))
    page = await as_oleh.get(f"/dialer?campaign={ready.campaign_id}")
    assert page.status_code == 200
    assert 'data-outcome="answered" data-key="1"' in page.text
    assert 'data-outcome="not_interested" data-key="9"' in page.text
    assert 'data-outcome="sale" data-key=""' in page.text
    assert "Sale closed" in page.text
    assert 'data-outcome="skip"' not in page.text  # its own key, S


async def test_the_screen_rules_are_settable_through_the_rules_api(
    client: httpx.AsyncClient, as_oleh: httpx.AsyncClient, ready: Persona
) -> None:
    answer = await set_rules(
        client,
        ready,
        dialing_mode="power",
        preview_countdown_seconds=5,
        wrap_up_seconds=3,
        script="Добрий день!\n<script>alert(1)</script>",
    )
    assert answer.status_code == 200, answer.text
    body = (await call(as_oleh, f"/dialer/campaigns/{ready.campaign_id}/next")).json()
    assert body["campaign"] == {
        "dialing_mode": "power",
        "preview_countdown_seconds": 5,
        "wrap_up_seconds": 3,
        "lease_seconds": 600,
        "script": "Добрий день!\n<script>alert(1)</script>",
    }
    bad = await set_rules(client, ready, dialing_mode="predictive")
    assert bad.status_code == 422
    assert bad.json()["error"]["field"] == "rules.dialing_mode"


async def test_an_outcome_can_bring_the_next_contact_in_the_same_answer(
    as_oleh: httpx.AsyncClient, ready: Persona, store: Store
) -> None:
    lease_id = await lease_for(as_oleh, ready)
    answer = await call(
        as_oleh,
        f"/dialer/leases/{lease_id}/outcome",
        {"outcome": "answered", "next_campaign_id": ready.campaign_id},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["outcome"] == "answered"
    assert body["next"]["contact"]["fio"] == "Марія Коваль"
    assert body["next"]["lease"]["resumed"] is False
    assert [a.outcome for a in control.attempts(store, ready.project_id)] == ["answered"]


async def test_the_next_of_another_projects_campaign_is_not_found_after_the_outcome(
    as_oleh: httpx.AsyncClient, ready: Persona, stranger: Persona, store: Store
) -> None:
    lease_id = await lease_for(as_oleh, ready)
    answer = await call(
        as_oleh,
        f"/dialer/leases/{lease_id}/outcome",
        {"outcome": "busy", "next_campaign_id": stranger.campaign_id},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["next"] is None
    assert body["next_error"]["code"] == "campaign_not_found"
    assert "Stranger leads" not in answer.text
    assert [a.outcome for a in control.attempts(store, ready.project_id)] == ["busy"]
    assert control.attempts(store, stranger.project_id) == []


async def test_the_screen_is_told_where_presence_is(
    as_oleh: httpx.AsyncClient, ready: Persona
) -> None:
    page = (await as_oleh.get("/dialer")).text
    found = re.search(r'<script type="application/json" id="op-config">(.*?)</script>', page)
    assert found
    config = json.loads(found.group(1))
    assert config["presence_url"] == "/dialer/presence"
    assert [r["code"] for r in config["pause_reasons"]][:2] == ["break", "lunch"]
