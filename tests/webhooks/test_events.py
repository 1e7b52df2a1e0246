"""Each event type is written by the change it reports, with its documented body: an
outcome (and the row's end, the campaign's completion), a callback, a do-not-call entry, an
import's end."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from powerdialer.webhooks import events
from tests.clock import Clock
from tests.conftest import Persona, StartApp
from tests.dialer.helpers import next_for, operator, outcome, set_rules
from tests.test_import_jobs import run_import
from tests.webhooks.receiver import receiver
from tests.webhooks.test_delivery import add_row, sending, subscribe

pytestmark = pytest.mark.anyio


def by_type(got: list[Any]) -> dict[str, dict[str, Any]]:
    return {r.json["type"]: r.json for r in got}


async def test_an_outcome_ends_the_row_and_completes_the_campaign(
    started_app: StartApp, clock: Clock, owner: Persona
) -> None:
    async with receiver() as target, sending(started_app, clock) as (app, client):
        store = app.services.store
        await subscribe(store, owner, target, *events.EVENT_TYPES)
        await add_row(client, owner, "380930000001")
        assert (await set_rules(client, owner)).status_code == 200
        agent = operator(store, owner, "olha")
        lease = await next_for(client, owner, agent)
        answer = await outcome(
            client, owner, lease["lease"]["lease_id"], agent, "answered", note="sold"
        )
        assert answer.status_code == 200, answer.text
        while (await app.services.webhooks.tick(clock.now())).claimed:
            pass
        got = by_type(target.got)
        assert set(got) == {
            "row.added",
            "outcome.recorded",
            "contact.final",
            "campaign.completed",
        }
        recorded = got["outcome.recorded"]["data"]
        assert recorded["outcome"] == "answered"
        assert recorded["note"] == "sold"
        assert recorded["operator_id"] == agent
        assert recorded["phone_e164"] == "+380930000001"
        assert got["contact.final"]["data"]["final_state"] == "contact_reached"
        assert got["campaign.completed"]["data"]["campaign_id"] == owner.campaign_id
        order = [r.json["type"] for r in target.got]
        assert order.index("outcome.recorded") < order.index("campaign.completed")


async def test_a_callback_and_a_do_not_call_outcome(
    started_app: StartApp, clock: Clock, owner: Persona
) -> None:
    async with receiver() as target, sending(started_app, clock) as (app, client):
        store = app.services.store
        await subscribe(store, owner, target, "callback.scheduled", "dnc.added")
        await add_row(client, owner, "380930000001")
        await add_row(client, owner, "380930000002")
        await set_rules(client, owner)
        agent = operator(store, owner, "olha")
        first = await next_for(client, owner, agent)
        at = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=3)).replace(microsecond=0)
        answer = await outcome(
            client,
            owner,
            first["lease"]["lease_id"],
            agent,
            "callback",
            callback_at=at.isoformat(),
            callback_scope="personal",
        )
        assert answer.status_code == 200, answer.text
        second = await next_for(client, owner, agent)
        answer = await outcome(client, owner, second["lease"]["lease_id"], agent, "do_not_call")
        assert answer.status_code == 200, answer.text
        listed = await client.post(
            "/power-dialer/dnc", json={"number": "380930000009"}, headers=owner.headers
        )
        assert listed.status_code == 200, listed.text
        while (await app.services.webhooks.tick(clock.now())).claimed:
            pass
        kinds = [r.json["type"] for r in target.got]
        assert kinds == ["callback.scheduled", "dnc.added", "dnc.added"]
        callback = target.got[0].json["data"]
        assert callback["operator_id"] == agent
        assert callback["callback_at"].startswith(at.strftime("%Y-%m-%dT%H:%M:%S"))
        assert target.got[1].json["data"]["source"] == "outcome"
        assert target.got[2].json["data"]["numbers"] == ["+380930000009"]


async def test_an_import_sends_its_end_and_its_counts_not_a_row_each(
    started_app: StartApp, clock: Clock, owner: Persona
) -> None:
    async with receiver() as target, sending(started_app, clock) as (app, client):
        await subscribe(app.services.store, owner, target, "row.added", "import.finished")
        csv = b"phone,name\n380931234567,Ivan\n380931234568,Olena\n12,bad\n"
        job = await run_import(client, owner, csv)
        assert job["status"] == "done"
        while (await app.services.webhooks.tick(clock.now())).claimed:
            pass
        got = by_type(target.got)
        assert len(target.got) == 2
        finished = got["import.finished"]["data"]
        assert finished["job_id"] == job["id"]
        assert (finished["status"], finished["inserted"], finished["rejected"]) == ("done", 2, 1)
        assert got["row.added"]["data"]["inserted"] == 2
        assert got["row.added"]["data"]["job_id"] == job["id"]


async def test_another_projects_changes_are_not_sent_to_this_one(
    started_app: StartApp, clock: Clock, owner: Persona, stranger: Persona
) -> None:
    async with receiver() as target, sending(started_app, clock) as (app, client):
        await subscribe(app.services.store, owner, target)
        await add_row(client, stranger, "380930000001")
        await add_row(client, owner, "380930000002")
        while (await app.services.webhooks.tick(clock.now())).claimed:
            pass
        [got] = target.got
        assert got.json["project_id"] == owner.project_id
