"""Rules, caps across campaigns, dates, custom outcomes and the history, through the API on a
set clock; and what the database itself refuses (a second open lease, changing history)."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
import sqlalchemy.exc
from sqlalchemy import insert, select, update

from powerdialer import campaigns
from powerdialer.storage import Store
from powerdialer.storage.schema import attempts, campaign_rows, leases
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
def at_ten(app: PowerDialerApp) -> Clock:
    clock = Clock(start=WEDNESDAY_10_KYIV)
    app.services.clock = clock.now
    return clock


async def test_the_rules_answer_every_default_and_refuse_a_bad_field_by_name(
    client: httpx.AsyncClient, owner: Persona
) -> None:
    path = f"/power-dialer/campaigns/{owner.campaign_id}/dialer/rules"
    rules = (await client.get(path, headers=owner.headers)).json()
    assert rules["lease_seconds"] == 600
    assert rules["max_attempts"] == 5
    assert rules["retry"]["busy"] == {"delay_minutes": 10, "max": 5}
    assert rules["hours"]["profile"] == "default"
    for body, field in (
        ({"max_attempts": 0}, "rules.max_attempts"),
        ({"retry": {"busy": {"delay_minutes": -1}}}, "rules.retry.busy.delay_minutes"),
        ({"lease_secs": 60}, "rules.lease_secs"),
        ({"starts_at": "2026-12-03T00:00:00Z", "ends_at": "2026-12-02T00:00:00Z"}, "rules"),
        ({"starts_at": "2026-12-03T00:00:00"}, "rules.starts_at"),
    ):
        answer = await client.put(path, json=body, headers=owner.headers)
        assert answer.status_code == 422, body
        assert answer.json()["error"]["code"] == "invalid_rules"
        assert answer.json()["error"]["field"] == field
    unknown = await client.put(path, json={"hours": {"profile": "mars"}}, headers=owner.headers)
    assert unknown.status_code == 422
    assert unknown.json()["error"]["code"] == "unknown_hours_profile"
    assert (await client.get(path, headers=owner.headers)).json() == rules  # nothing stored


async def test_a_number_cap_per_day_counts_the_calls_of_every_campaign(
    client: httpx.AsyncClient, owner: Persona, store: Store, at_ten: Clock
) -> None:
    anna = operator(store, owner, "anna")
    other = campaigns.create_campaign(store, owner.project_id, "second list")
    await add_rows(client, owner, "380930000001")
    second = {**owner.row("380930000001"), "campaignId": other.id}
    await client.post("/power-dialer/campaigns/campaign-rows", json=second, headers=owner.headers)
    due_at(store, at_ten.now())
    for campaign_id in (owner.campaign_id, other.id):
        await set_rules(
            client,
            owner,
            campaign_id,
            number_caps={"per_day": 1},
            retry={"busy": {"delay_minutes": 0}},
        )
    lease = (await next_for(client, owner, anna))["lease"]
    await outcome(client, owner, lease["lease_id"], anna, "busy")
    assert (await next_for(client, owner, anna, other.id))["lease"] is None
    held = store.read(
        lambda c: c.execute(
            select(campaign_rows.c.hold_reason, campaign_rows.c.held_until).where(
                campaign_rows.c.campaign_id == other.id
            )
        ).one()
    )
    # Until the next local midnight in Kyiv (22:00 UTC), when the per-day count starts over.
    assert held == ("capped", dt.datetime(2026, 12, 2, 22, 0, tzinfo=dt.UTC))
    at_ten.advance(hours=14)  # 00:00 in Kyiv: a new day, but outside the calling hours
    due = await next_for(client, owner, anna, other.id)
    assert due["lease"] is not None  # the test's window is always open


async def test_the_minimum_gap_holds_across_campaigns(
    client: httpx.AsyncClient, owner: Persona, store: Store, at_ten: Clock
) -> None:
    anna = operator(store, owner, "anna")
    other = campaigns.create_campaign(store, owner.project_id, "second list")
    await add_rows(client, owner, "380930000001")
    second = {**owner.row("380930000001"), "campaignId": other.id}
    await client.post("/power-dialer/campaigns/campaign-rows", json=second, headers=owner.headers)
    due_at(store, at_ten.now())
    await set_rules(client, owner, other.id, min_gap_minutes=45)
    lease = (await next_for(client, owner, anna))["lease"]
    await outcome(client, owner, lease["lease_id"], anna, "answered")
    at_ten.advance(minutes=44, seconds=59)
    assert (await next_for(client, owner, anna, other.id))["lease"] is None
    at_ten.advance(seconds=1)
    assert (await next_for(client, owner, anna, other.id))["lease"] is not None


async def test_start_and_end_dates_say_why_nothing_is_handed_out(
    client: httpx.AsyncClient, owner: Persona, store: Store, at_ten: Clock
) -> None:
    anna = operator(store, owner, "anna")
    await add_rows(client, owner, "380930000001")
    due_at(store, at_ten.now())
    await set_rules(client, owner, starts_at="2026-12-02T09:00:00Z", ends_at="2026-12-02T10:00:00Z")
    early = await next_for(client, owner, anna)
    assert early["none"] == {
        "code": "campaign_not_started",
        "message": "the campaign's start date is ahead.",
        "next_at": "2026-12-02T09:00:00Z",
    }
    at_ten.advance(hours=1)
    assert (await next_for(client, owner, anna))["lease"] is not None
    at_ten.advance(hours=1)
    assert (await next_for(client, owner, anna))["none"]["code"] == "campaign_ended"


async def test_an_outcomes_own_retry_count_ends_the_row(
    client: httpx.AsyncClient, owner: Persona, store: Store, at_ten: Clock
) -> None:
    anna = operator(store, owner, "anna")
    await add_rows(client, owner, "380930000001")
    due_at(store, at_ten.now())
    await set_rules(client, owner, retry={"no_answer": {"delay_minutes": 0, "max": 2}})
    states = []
    for _ in range(2):
        lease = (await next_for(client, owner, anna))["lease"]
        states.append((await outcome(client, owner, lease["lease_id"], anna, "no_answer")).json())
    assert [s["final_state"] for s in states] == [None, "attempts_exhausted"]


async def test_a_project_outcome_carries_its_flags_into_the_history(
    client: httpx.AsyncClient, owner: Persona, stranger: Persona, store: Store, at_ten: Clock
) -> None:
    anna = operator(store, owner, "anna")
    await add_rows(client, owner, "380930000001")
    due_at(store, at_ten.now())
    sale = {
        "code": "sale",
        "label": "Sale closed",
        "final_state": "contact_reached",
        "reached": True,
    }
    added = await client.post("/power-dialer/outcomes", json=sale, headers=owner.headers)
    assert added.status_code == 201, added.text
    again = await client.post("/power-dialer/outcomes", json=sale, headers=owner.headers)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "outcome_exists"
    built_in = await client.post(
        "/power-dialer/outcomes", json={"code": "busy", "label": "x"}, headers=owner.headers
    )
    assert built_in.json()["error"]["code"] == "outcome_built_in"
    listed = (await client.get("/power-dialer/outcomes", headers=owner.headers)).json()
    assert "sale" in [o["code"] for o in listed["items"]]
    foreign = (await client.get("/power-dialer/outcomes", headers=stranger.headers)).json()
    assert "sale" not in [o["code"] for o in foreign["items"]]
    lease = (await next_for(client, owner, anna))["lease"]
    done = await outcome(
        client, owner, lease["lease_id"], anna, "sale", note="2 units", duration_seconds=312
    )
    assert done.json()["final_state"] == "contact_reached"
    history = (
        await client.get(
            f"/power-dialer/campaigns/{owner.campaign_id}/attempts", headers=owner.headers
        )
    ).json()
    (item,) = history["items"]
    assert (item["outcome"], item["note"], item["duration_seconds"], item["operator_id"]) == (
        "sale",
        "2 units",
        312,
        anna,
    )
    assert (item["reached"], item["counted"], item["final_state"]) == (
        True,
        True,
        "contact_reached",
    )
    assert item["leased_at"] == "2026-12-02T08:00:00Z"
    row = await client.get(
        f"/power-dialer/campaigns/{owner.campaign_id}/rows/{item['row_id']}/attempts",
        headers=owner.headers,
    )
    assert [a["id"] for a in row.json()["items"]] == [item["id"]]
    unknown = await outcome(client, owner, lease["lease_id"], anna, "nope")
    assert unknown.status_code in (404, 409)
    gone = await client.delete("/power-dialer/outcomes/sale", headers=stranger.headers)
    assert gone.status_code == 404
    assert (
        await client.delete("/power-dialer/outcomes/sale", headers=owner.headers)
    ).status_code == 204


async def test_the_history_pages_by_attempt_id(
    client: httpx.AsyncClient, owner: Persona, store: Store, at_ten: Clock
) -> None:
    anna = operator(store, owner, "anna")
    await add_rows(client, owner, *(f"3809300000{n:02d}" for n in range(5)))
    due_at(store, at_ten.now())
    for _ in range(5):
        lease = (await next_for(client, owner, anna))["lease"]
        await outcome(client, owner, lease["lease_id"], anna, "answered")
    path = f"/power-dialer/campaigns/{owner.campaign_id}/attempts"
    first = (await client.get(path, params={"limit": 3}, headers=owner.headers)).json()
    rest = (
        await client.get(
            path, params={"limit": 3, "after": first["next_after"]}, headers=owner.headers
        )
    ).json()
    assert len(first["items"]) == 3
    assert len(rest["items"]) == 2
    assert rest["next_after"] is None


def test_the_database_refuses_a_second_open_lease_and_any_change_to_history(
    store: Store, owner: Persona
) -> None:
    now = WEDNESDAY_10_KYIV

    def row(conn: object) -> int:
        return int(
            conn.execute(  # type: ignore[attr-defined]
                insert(campaign_rows)
                .values(
                    project_id=owner.project_id,
                    campaign_id=owner.campaign_id,
                    phone_raw="1",
                    phone_e164="+380930000001",
                    source="api",
                    created_at=now,
                    updated_at=now,
                    next_attempt_at=now,
                )
                .returning(campaign_rows.c.id)
            ).scalar_one()
        )

    row_id = store.write(row)
    lease = {
        "project_id": owner.project_id,
        "campaign_id": owner.campaign_id,
        "row_id": row_id,
        "operator_id": 1,
        "phone_e164": "+380930000001",
        "leased_at": now,
        "expires_at": now + dt.timedelta(minutes=10),
    }
    store.write(lambda c: c.execute(insert(leases).values(**lease)))
    with pytest.raises(sqlalchemy.exc.IntegrityError):
        store.write(lambda c: c.execute(insert(leases).values(**lease)))
    # An ended lease does not count: a new one may open beside it.
    store.write(lambda c: c.execute(update(leases).values(ended_at=now, end_reason="outcome")))
    store.write(lambda c: c.execute(insert(leases).values(**lease)))
    store.write(
        lambda c: c.execute(
            insert(attempts).values(
                project_id=owner.project_id,
                campaign_id=owner.campaign_id,
                row_id=row_id,
                operator_id=1,
                phone_e164="+380930000001",
                outcome="busy",
                counted=True,
                reached=False,
                refusal=False,
                recorded_at=now,
            )
        )
    )
    with pytest.raises(sqlalchemy.exc.DatabaseError, match="immutable"):
        store.write(lambda c: c.execute(update(attempts).values(note="changed")))


async def test_the_history_exports_as_csv_with_notes_defused(
    client: httpx.AsyncClient, owner: Persona, stranger: Persona, store: Store, at_ten: Clock
) -> None:
    anna = operator(store, owner, "anna")
    await add_rows(client, owner, "380930000001")
    due_at(store, at_ten.now())
    lease = (await next_for(client, owner, anna))["lease"]
    await outcome(client, owner, lease["lease_id"], anna, "no_answer", note="=HYPERLINK(1)")
    path = f"/power-dialer/campaigns/{owner.campaign_id}/attempts/export"
    answer = await client.get(path, headers=owner.headers)
    assert answer.status_code == 200
    lines = answer.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("attempt_id,row_id,phone_e164,operator_id,outcome,note")
    assert lines[1].split(",")[2:6] == ["+380930000001", str(anna), "no_answer", "'=HYPERLINK(1)"]
    foreign = await client.get(path, headers=stranger.headers)
    assert foreign.status_code == 404


async def test_deleting_a_campaign_deletes_its_leases_and_history(
    client: httpx.AsyncClient, owner: Persona, store: Store, at_ten: Clock
) -> None:
    anna = operator(store, owner, "anna")
    await add_rows(client, owner, "380930000001", "380930000002")
    due_at(store, at_ten.now())
    lease = (await next_for(client, owner, anna))["lease"]
    await outcome(client, owner, lease["lease_id"], anna, "no_answer")
    await next_for(client, owner, anna)  # an open lease too
    gone = await client.delete(
        f"/power-dialer/campaigns/{owner.campaign_id}",
        params={"confirm": owner.campaign_id},
        headers=owner.headers,
    )
    assert gone.status_code == 204, gone.text
    left = store.read(
        lambda c: (
            c.execute(select(attempts.c.id)).all(),
            c.execute(select(leases.c.id)).all(),
        )
    )
    assert left == ([], [])


async def test_an_unknown_fallback_zone_is_refused_by_its_path(
    client: httpx.AsyncClient, owner: Persona
) -> None:
    answer = await client.put(
        f"/power-dialer/campaigns/{owner.campaign_id}/dialer/rules",
        json={"fallback_tz": "Mars/Olympus"},
        headers=owner.headers,
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == "rules.fallback_tz"
