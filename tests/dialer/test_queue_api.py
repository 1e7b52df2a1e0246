"""The dialer through the API: leases, their expiry, release and skip, outcomes and what they
do to a row, completion, isolation — on the test's set clock."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from sqlalchemy import select, update

from powerdialer import campaigns as campaign_api
from powerdialer.storage import Store
from powerdialer.storage.dnc import add_entry
from powerdialer.storage.schema import attempts, campaign_rows, campaigns, dnc_numbers, leases
from powerdialer.web.app import PowerDialerApp
from tests.clock import Clock
from tests.conftest import Persona
from tests.dialer.helpers import (
    WEDNESDAY_10_KYIV,
    add_rows,
    due_at,
    next_for,
    operator,
    outcome,
    set_rules,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
def at_ten(app: PowerDialerApp, store: Store) -> Clock:
    clock = Clock(start=WEDNESDAY_10_KYIV)
    app.services.clock = clock.now
    return clock


async def test_two_operators_get_two_rows_and_a_third_gets_a_reason(
    client: httpx.AsyncClient, owner: Persona, store: Store, at_ten: Clock
) -> None:
    anna, boris, clara = (operator(store, owner, n) for n in ("anna", "boris", "clara"))
    await add_rows(client, owner, "380930000001", "380930000002")
    due_at(store, at_ten.now())
    first = await next_for(client, owner, anna)
    second = await next_for(client, owner, boris)
    assert {first["contact"]["phone_e164"], second["contact"]["phone_e164"]} == {
        "+380930000001",
        "+380930000002",
    }
    assert first["lease"]["expires_at"] == "2026-12-02T08:10:00Z"  # the 10-minute default
    assert first["contact"]["zones"] == ["Europe/Kyiv"]
    assert first["contact"]["local_time"] == "2026-12-02T10:00:00+02:00"
    third = await next_for(client, owner, clara)
    assert third["lease"] is None
    assert third["none"]["code"] == "nothing_callable"


async def test_an_operator_asking_again_gets_the_same_lease(
    client: httpx.AsyncClient, owner: Persona, store: Store, at_ten: Clock
) -> None:
    anna = operator(store, owner, "anna")
    await add_rows(client, owner, "380930000001", "380930000002")
    due_at(store, at_ten.now())
    first = await next_for(client, owner, anna)
    again = await next_for(client, owner, anna)
    assert again["lease"]["lease_id"] == first["lease"]["lease_id"]
    assert again["lease"]["resumed"] is True


async def test_an_expired_lease_returns_the_row_at_once_and_its_outcome_is_refused(
    client: httpx.AsyncClient, owner: Persona, store: Store, at_ten: Clock
) -> None:
    anna, boris = operator(store, owner, "anna"), operator(store, owner, "boris")
    await add_rows(client, owner, "380930000001")
    due_at(store, at_ten.now())
    first = await next_for(client, owner, anna)
    at_ten.advance(seconds=599)
    assert (await next_for(client, owner, boris))["lease"] is None  # still anna's
    at_ten.advance(seconds=1)
    taken = await next_for(client, owner, boris)
    assert taken["contact"]["id"] == first["contact"]["id"]
    late = await outcome(client, owner, first["lease"]["lease_id"], anna, "answered")
    assert late.status_code == 409
    assert late.json()["error"]["code"] == "lease_ended"
    ended = store.read(
        lambda c: c.execute(
            select(leases.c.end_reason, leases.c.ended_at).where(
                leases.c.id == first["lease"]["lease_id"]
            )
        ).one()
    )
    assert ended.end_reason == "expired"


async def test_a_renewed_lease_is_kept_past_its_first_expiry(
    client: httpx.AsyncClient, owner: Persona, store: Store, at_ten: Clock
) -> None:
    anna, boris = operator(store, owner, "anna"), operator(store, owner, "boris")
    await add_rows(client, owner, "380930000001")
    due_at(store, at_ten.now())
    lease_id = (await next_for(client, owner, anna))["lease"]["lease_id"]
    at_ten.advance(seconds=500)
    renewed = await client.post(
        f"/power-dialer/leases/{lease_id}/renew",
        json={"operator_id": anna},
        headers=owner.headers,
    )
    assert renewed.json()["lease"]["expires_at"] == "2026-12-02T08:18:20Z"
    at_ten.advance(seconds=200)  # past the first expiry, inside the renewed one
    assert (await next_for(client, owner, boris))["lease"] is None


async def test_release_gives_the_row_back_at_once_and_skip_needs_a_reason(
    client: httpx.AsyncClient, owner: Persona, store: Store, at_ten: Clock
) -> None:
    anna, boris = operator(store, owner, "anna"), operator(store, owner, "boris")
    await add_rows(client, owner, "380930000001")
    due_at(store, at_ten.now())
    lease_id = (await next_for(client, owner, anna))["lease"]["lease_id"]
    released = await client.post(
        f"/power-dialer/leases/{lease_id}/release",
        json={"operator_id": anna},
        headers=owner.headers,
    )
    assert released.json() == {"released": True}
    again = await next_for(client, owner, boris)
    assert again["lease"] is not None
    no_reason = await outcome(client, owner, again["lease"]["lease_id"], boris, "skip")
    assert no_reason.status_code == 422
    assert no_reason.json()["error"]["code"] == "skip_reason_required"
    skipped = await client.post(
        f"/power-dialer/leases/{again['lease']['lease_id']}/skip",
        json={"operator_id": boris, "reason": "wrong language"},
        headers=owner.headers,
    )
    assert skipped.json()["next_attempt_at"] == "2026-12-02T08:15:00Z"
    history = store.read(lambda c: c.execute(select(attempts.c.outcome, attempts.c.note)).all())
    assert [tuple(h) for h in history] == [("skip", "wrong language")]
    row = store.read(lambda c: c.execute(select(campaign_rows.c.attempts)).scalar_one())
    assert row == 0  # a skip is not an attempt


async def test_no_answer_comes_back_after_its_delay_and_not_before(
    client: httpx.AsyncClient, owner: Persona, store: Store, at_ten: Clock
) -> None:
    anna = operator(store, owner, "anna")
    await add_rows(client, owner, "380930000001")
    due_at(store, at_ten.now())
    await set_rules(client, owner, retry={"no_answer": {"delay_minutes": 30, "max": 5}})
    lease_id = (await next_for(client, owner, anna))["lease"]["lease_id"]
    done = await outcome(client, owner, lease_id, anna, "no_answer", duration_seconds=20)
    assert done.json()["next_attempt_at"] == "2026-12-02T08:30:00Z"
    at_ten.advance(seconds=30 * 60 - 1)
    assert (await next_for(client, owner, anna))["lease"] is None
    at_ten.advance(seconds=1)
    back = await next_for(client, owner, anna)
    assert back["contact"]["attempts"] == 1
    assert back["contact"]["last_outcome"] == "no_answer"


async def test_max_attempts_makes_the_row_final_and_completes_the_campaign_once(
    client: httpx.AsyncClient, owner: Persona, store: Store, at_ten: Clock
) -> None:
    anna = operator(store, owner, "anna")
    await add_rows(client, owner, "380930000001", "380930000002")
    due_at(store, at_ten.now())
    await set_rules(client, owner, max_attempts=2, retry={"busy": {"delay_minutes": 0}})
    answers = []
    for _ in range(4):
        lease = (await next_for(client, owner, anna))["lease"]
        answers.append((await outcome(client, owner, lease["lease_id"], anna, "busy")).json())
    assert [a["final_state"] for a in answers].count("attempts_exhausted") == 2
    assert [a["campaign_completed"] for a in answers] == [False, False, False, True]
    assert (await next_for(client, owner, anna))["lease"] is None
    completed = store.read(lambda c: c.execute(select(campaigns.c.completed_at)).scalar_one())
    assert completed == at_ten.now()


async def test_an_answered_contact_is_final_and_do_not_call_lists_the_number(
    client: httpx.AsyncClient, owner: Persona, store: Store, at_ten: Clock
) -> None:
    anna = operator(store, owner, "anna")
    await add_rows(client, owner, "380930000001", "380930000002")
    due_at(store, at_ten.now())
    first = (await next_for(client, owner, anna))["lease"]["lease_id"]
    reached = await outcome(client, owner, first, anna, "answered", note="will buy")
    assert reached.json()["final_state"] == "contact_reached"
    second = (await next_for(client, owner, anna))["lease"]["lease_id"]
    refused = await outcome(client, owner, second, anna, "do_not_call", note="angry")
    assert refused.json()["final_state"] == "contact_uncallable"
    assert refused.json()["campaign_completed"] is True
    listed = store.read(lambda c: c.execute(select(dnc_numbers)).one())
    assert (listed.phone_e164, listed.source, listed.reason) == (
        "+380930000002",
        "outcome",
        "angry",
    )
    assert listed.attempt_id == refused.json()["attempt_id"]


async def test_a_number_listed_while_queued_is_never_handed_out(
    client: httpx.AsyncClient, owner: Persona, store: Store, at_ten: Clock
) -> None:
    anna = operator(store, owner, "anna")
    await add_rows(client, owner, "380930000001")
    due_at(store, at_ten.now())
    store.write(
        lambda c: add_entry(c, owner.project_id, "+380930000001", source="api", now=at_ten.now())
    )
    found = await next_for(client, owner, anna)
    assert found["lease"] is None


async def test_a_personal_callback_goes_to_its_operator_at_its_time(
    client: httpx.AsyncClient, owner: Persona, store: Store, at_ten: Clock
) -> None:
    anna, boris = operator(store, owner, "anna"), operator(store, owner, "boris")
    await add_rows(client, owner, "380930000001")
    due_at(store, at_ten.now())
    lease_id = (await next_for(client, owner, anna))["lease"]["lease_id"]
    booked = await outcome(
        client,
        owner,
        lease_id,
        anna,
        "callback",
        callback_at="2026-12-02T12:00:00+02:00",
        callback_scope="personal",
    )
    assert booked.json()["next_attempt_at"] == "2026-12-02T10:00:00Z"
    assert booked.json()["callback_moved"] is False
    at_ten.advance(seconds=2 * 3600)
    assert (await next_for(client, owner, boris))["lease"] is None
    assert (await next_for(client, owner, anna))["lease"] is not None


async def test_a_callback_outside_the_calling_hours_moves_to_the_next_opening(
    client: httpx.AsyncClient, owner: Persona, store: Store, at_ten: Clock
) -> None:
    anna = operator(store, owner, "anna")
    await add_rows(client, owner, "380930000001")
    due_at(store, at_ten.now())
    await set_rules(client, owner, hours={"profile": "default"})  # 09:00-20:00 local
    lease_id = (await next_for(client, owner, anna))["lease"]["lease_id"]
    booked = await outcome(
        client, owner, lease_id, anna, "callback", callback_at="2026-12-02T22:00:00+02:00"
    )
    assert booked.json()["callback_moved"] is True
    assert booked.json()["next_attempt_at"] == "2026-12-03T07:00:00Z"  # 09:00 in Kyiv


async def test_a_paused_campaign_hands_out_nothing_until_resumed(
    client: httpx.AsyncClient, owner: Persona, store: Store, at_ten: Clock
) -> None:
    anna = operator(store, owner, "anna")
    await add_rows(client, owner, "380930000001")
    due_at(store, at_ten.now())
    base = f"/power-dialer/campaigns/{owner.campaign_id}/dialer"
    paused = await client.post(f"{base}/pause", headers=owner.headers)
    assert paused.json() == {"dialer_state": "paused"}
    assert (await next_for(client, owner, anna))["none"]["code"] == "campaign_paused"
    await client.post(f"{base}/resume", headers=owner.headers)
    assert (await next_for(client, owner, anna))["lease"] is not None


async def test_a_row_from_the_compatible_endpoint_is_leasable_at_once(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    anna = operator(store, owner, "anna")
    await set_rules(client, owner)  # always open: this test runs on the real clock
    for n in range(20):
        await add_rows(client, owner, f"3809300001{n:02d}")
        found = await next_for(client, owner, anna)
        assert found["contact"]["phone_e164"] == f"+3809300001{n:02d}"
        await outcome(client, owner, found["lease"]["lease_id"], anna, "answered")


async def test_the_queue_order_is_call_next_then_priority_then_due_time_then_insertion(
    client: httpx.AsyncClient, owner: Persona, store: Store, at_ten: Clock
) -> None:
    anna = operator(store, owner, "anna")
    phones = [f"38093000{n:04d}" for n in range(50)]
    await add_rows(client, owner, *phones)
    start = at_ten.now() - dt.timedelta(hours=1)
    rows = store.read(
        lambda c: c.execute(select(campaign_rows.c.id).order_by("id")).scalars().all()
    )

    def shape(conn: object) -> None:
        for index, row_id in enumerate(rows):
            conn.execute(  # type: ignore[attr-defined]
                update(campaign_rows)
                .where(campaign_rows.c.id == row_id)
                .values(
                    call_next=index % 10 == 7,
                    priority=index % 3,
                    next_attempt_at=start + dt.timedelta(minutes=(index * 7) % 5),
                )
            )

    store.write(shape)
    expected = sorted(
        range(50),
        key=lambda i: (-(i % 10 == 7), -(i % 3), (i * 7) % 5, i),
    )
    got = []
    for _ in range(50):
        found = await next_for(client, owner, anna)
        got.append(rows.index(found["contact"]["id"]))
        await outcome(client, owner, found["lease"]["lease_id"], anna, "answered")
    assert got == expected


async def test_another_projects_key_sees_no_campaign_lease_or_operator(
    client: httpx.AsyncClient, owner: Persona, stranger: Persona, store: Store, at_ten: Clock
) -> None:
    anna = operator(store, owner, "anna")
    spy = operator(store, stranger, "spy")
    await add_rows(client, owner, "380930000001")
    due_at(store, at_ten.now())
    base = f"/power-dialer/campaigns/{owner.campaign_id}/dialer"
    foreign = await client.post(f"{base}/next", json={"operator_id": spy}, headers=stranger.headers)
    assert foreign.status_code == 404
    assert foreign.json()["error"]["code"] == "campaign_not_found"
    named = await client.post(f"{base}/next", json={"operator_id": spy}, headers=owner.headers)
    assert named.status_code == 404
    assert named.json()["error"]["code"] == "operator_not_found"
    lease_id = (await next_for(client, owner, anna))["lease"]["lease_id"]
    for action, body in (
        ("outcome", {"operator_id": anna, "outcome": "answered"}),
        ("renew", {"operator_id": anna}),
        ("release", {"operator_id": anna}),
    ):
        answer = await client.post(
            f"/power-dialer/leases/{lease_id}/{action}", json=body, headers=stranger.headers
        )
        assert answer.status_code == 404, action
        assert answer.json()["error"]["code"] == "lease_not_found"
    for path in (
        f"{base}/rules",
        f"{base}/explain",
        f"/power-dialer/campaigns/{owner.campaign_id}/attempts",
    ):
        answer = await client.get(path, headers=stranger.headers)
        assert answer.status_code == 404, path
    for action in ("pause", "resume"):
        answer = await client.post(f"{base}/{action}", headers=stranger.headers)
        assert answer.status_code == 404
    put = await client.put(f"{base}/rules", json={}, headers=stranger.headers)
    assert put.status_code == 404


async def test_an_operator_cannot_wrap_up_another_operators_lease(
    client: httpx.AsyncClient, owner: Persona, store: Store, at_ten: Clock
) -> None:
    anna, boris = operator(store, owner, "anna"), operator(store, owner, "boris")
    await add_rows(client, owner, "380930000001")
    due_at(store, at_ten.now())
    lease_id = (await next_for(client, owner, anna))["lease"]["lease_id"]
    answer = await outcome(client, owner, lease_id, boris, "answered")
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "lease_not_yours"


async def test_a_lease_id_past_the_database_range_is_refused_by_name(
    client: httpx.AsyncClient, owner: Persona
) -> None:
    # Found by schemathesis: an id no database integer holds reached the SQL as a 503.
    answer = await client.post(
        "/power-dialer/leases/99999999999999999999/renew",
        json={"operator_id": 1},
        headers=owner.headers,
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == "lease_id"


async def test_bulk_rows_priority_call_next_and_zone_decide_who_is_called_first(
    client: httpx.AsyncClient, owner: Persona, store: Store, at_ten: Clock
) -> None:
    anna = operator(store, owner, "anna")
    rows = [
        {"phone_number": "380930000001"},
        {"phone_number": "380930000002", "priority": 5},
        {"phone_number": "380930000003", "call_next": True},
        # 03:00 in New York: outside the default profile's 09:00-20:00 there.
        {"phone_number": "380930000004", "priority": 9, "tz": "America/New_York"},
    ]
    stored = await client.post(
        f"/power-dialer/campaigns/{owner.campaign_id}/rows",
        json={"rows": rows},
        headers=owner.headers,
    )
    assert stored.status_code == 200, stored.text
    due_at(store, at_ten.now())
    await set_rules(client, owner, hours={"profile": "default"})
    order = []
    for _ in range(3):
        found = await next_for(client, owner, anna)
        order.append(found["contact"]["phone_e164"])
        await outcome(client, owner, found["lease"]["lease_id"], anna, "answered")
    assert order == ["+380930000003", "+380930000002", "+380930000001"]
    assert (await next_for(client, owner, anna))["lease"] is None  # New York sleeps
    at_ten.advance(hours=7)  # 10:00 in New York
    late = await next_for(client, owner, anna)
    assert late["contact"]["phone_e164"] == "+380930000004"
    assert late["contact"]["zones"] == ["America/New_York"]


async def test_the_campaign_shows_its_dialer_state_and_when_it_completed(
    client: httpx.AsyncClient, owner: Persona, store: Store, at_ten: Clock
) -> None:
    anna = operator(store, owner, "anna")
    await add_rows(client, owner, "380930000001")
    due_at(store, at_ten.now())
    path = f"/power-dialer/campaigns/{owner.campaign_id}"
    await client.post(f"{path}/dialer/pause", headers=owner.headers)
    shown = (await client.get(path, headers=owner.headers)).json()
    assert (shown["dialer_state"], shown["completed_at"]) == ("paused", None)
    await client.post(f"{path}/dialer/resume", headers=owner.headers)
    lease = (await next_for(client, owner, anna))["lease"]
    await outcome(client, owner, lease["lease_id"], anna, "answered")
    shown = (await client.get(path, headers=owner.headers)).json()
    assert (shown["dialer_state"], shown["completed_at"]) == ("running", "2026-12-02T08:00:00Z")
    # A row added later is handed out: the campaign is open again, and completes again.
    await add_rows(client, owner, "380930000002")
    due_at(store, at_ten.now())
    at_ten.advance(minutes=5)
    lease = (await next_for(client, owner, anna))["lease"]
    assert (await client.get(path, headers=owner.headers)).json()["completed_at"] is None
    done = await outcome(client, owner, lease["lease_id"], anna, "answered")
    assert done.json()["campaign_completed"] is True


async def test_one_number_in_two_campaigns_is_never_on_two_calls_at_once(
    client: httpx.AsyncClient, owner: Persona, store: Store, at_ten: Clock
) -> None:
    anna, boris = operator(store, owner, "anna"), operator(store, owner, "boris")
    other = campaign_api.create_campaign(store, owner.project_id, "second list")
    await add_rows(client, owner, "380930000001")
    second = {**owner.row("380930000001"), "campaignId": other.id}
    await client.post("/power-dialer/campaigns/campaign-rows", json=second, headers=owner.headers)
    due_at(store, at_ten.now())
    await set_rules(client, owner, other.id)
    first = await next_for(client, owner, anna)
    assert first["lease"] is not None
    assert (await next_for(client, owner, boris, other.id))["lease"] is None
    explained = await client.get(
        f"/power-dialer/campaigns/{other.id}/dialer/explain", headers=owner.headers
    )
    assert explained.json()["counts"]["cooling_down"] == 1
    await outcome(client, owner, first["lease"]["lease_id"], anna, "no_answer")
    assert (await next_for(client, owner, boris, other.id))["lease"] is not None  # at once


async def test_a_personal_callback_goes_to_anyone_once_its_operator_is_late(
    client: httpx.AsyncClient, owner: Persona, store: Store, at_ten: Clock
) -> None:
    anna, boris = operator(store, owner, "anna"), operator(store, owner, "boris")
    await add_rows(client, owner, "380930000001")
    due_at(store, at_ten.now())
    await set_rules(client, owner, personal_callback_minutes=30)
    lease_id = (await next_for(client, owner, anna))["lease"]["lease_id"]
    await outcome(
        client,
        owner,
        lease_id,
        anna,
        "callback",
        callback_at="2026-12-02T11:00:00+02:00",
        callback_scope="personal",
    )
    at_ten.advance(hours=1, minutes=29)
    assert (await next_for(client, owner, boris))["lease"] is None
    at_ten.advance(minutes=1)
    assert (await next_for(client, owner, boris))["lease"] is not None


async def test_a_rows_history_of_a_row_not_in_the_campaign_is_404(
    client: httpx.AsyncClient, owner: Persona
) -> None:
    answer = await client.get(
        f"/power-dialer/campaigns/{owner.campaign_id}/rows/999/attempts", headers=owner.headers
    )
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "row_not_found"
