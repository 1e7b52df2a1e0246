"""Webhooks out, end to end in process: the outbox written with the change (and only when
somebody subscribed), the sender's ticks on a set clock against a real receiver on
127.0.0.1, retries and their schedule, order per subscription, giving up and disabling."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from sqlalchemy import func, select
from standardwebhooks.webhooks import Webhook

from powerdialer.outbound import Policy, parse_allow
from powerdialer.storage import Store
from powerdialer.storage.schema import webhook_deliveries, webhook_events
from powerdialer.web.app import PowerDialerApp
from powerdialer.webhooks import deliveries, outbox, subscriptions
from tests.clock import Clock
from tests.conftest import Persona, StartApp, client_of
from tests.webhooks.receiver import Receiver, receiver

pytestmark = pytest.mark.anyio

LOCAL = Policy(allow=parse_allow("127.0.0.1/32"))


@asynccontextmanager
async def sending(
    started_app: StartApp, clock: Clock
) -> AsyncIterator[tuple[PowerDialerApp, httpx.AsyncClient]]:
    """The app with its sender's loop off (the test ticks it) and 127.0.0.1 allowed."""
    async with (
        started_app(webhook_sender=False, outbound_allow=("127.0.0.1/32",)) as app,
        client_of(app) as client,
    ):
        app.services.clock = clock.now
        # Rows are stamped with the real time, a little after the clock's start: the events
        # of this test's rows are due once its clock has moved on a minute.
        clock.advance(minutes=1)
        yield app, client


async def subscribe(
    store: Store, persona: Persona, target: Receiver, *types: str, per_row: bool = False
) -> subscriptions.Created:
    return await subscriptions.create(
        store,
        persona.project_id,
        target.url,
        list(types or ["row.added"]),
        per_row=per_row,
        policy=LOCAL,
    )


async def add_row(client: httpx.AsyncClient, persona: Persona, phone: str) -> None:
    answer = await client.post(
        "/power-dialer/campaigns/campaign-rows", json=persona.row(phone), headers=persona.headers
    )
    assert answer.json() == {"result": True}


def count(store: Store, table: object) -> int:
    return int(
        store.read(lambda conn: conn.execute(select(func.count()).select_from(table)).scalar_one())
    )  # type: ignore[arg-type]


async def test_without_a_subscription_a_row_writes_no_event(
    started_app: StartApp, clock: Clock, owner: Persona
) -> None:
    async with sending(started_app, clock) as (app, client):
        await add_row(client, owner, "380930000001")
        assert count(app.services.store, webhook_events) == 0


async def test_a_row_is_delivered_signed_once(
    started_app: StartApp, clock: Clock, owner: Persona
) -> None:
    async with receiver() as target, sending(started_app, clock) as (app, client):
        created = await subscribe(app.services.store, owner, target)
        await add_row(client, owner, "380930000001")
        ticked = await app.services.webhooks.tick(clock.now())
        assert (ticked.claimed, ticked.delivered) == (1, 1)
        [got] = target.got
        body = Webhook(created.secret).verify(got.body, got.headers)
        assert body["type"] == "row.added"
        assert body["id"] == got.headers["webhook-id"]
        assert body["project_id"] == owner.project_id
        assert body["data"]["campaign_id"] == owner.campaign_id
        assert body["data"]["inserted"] == 1
        assert len(body["data"]["row_ids"]) == 1
        assert (await app.services.webhooks.tick(clock.now())).claimed == 0


async def test_a_receiver_failing_three_times_ends_with_every_event_once(
    started_app: StartApp, clock: Clock, owner: Persona
) -> None:
    async with receiver(500, 502, 503) as target, sending(started_app, clock) as (app, client):
        await subscribe(app.services.store, owner, target)
        phones = [f"38093000000{i}" for i in range(5)]
        for phone in phones:
            await add_row(client, owner, phone)
        sender = app.services.webhooks
        for _ in range(10):
            await sender.tick(clock.now())
            clock.advance(seconds=deliveries.CAP.total_seconds())
        assert len(target.got) == 5 + 3
        # Order per subscription: the first event was retried until it went through, and
        # nothing after it was posted meanwhile.
        assert len({r.headers["webhook-id"] for r in target.got[:4]}) == 1
        accepted = target.accepted
        assert len(accepted) == 5
        ids = [r.json["data"]["row_ids"][0] for r in accepted]
        assert ids == sorted(ids)
        delivered = app.services.store.read(
            lambda conn: conn.execute(
                select(webhook_deliveries.c.status, webhook_deliveries.c.attempts).order_by(
                    webhook_deliveries.c.id
                )
            ).all()
        )
        assert delivered == [("delivered", 4)] + [("delivered", 1)] * 4


async def test_retry_after_is_honoured_and_the_log_keeps_each_attempt(
    started_app: StartApp, clock: Clock, owner: Persona
) -> None:
    async with (
        receiver((503, {"Retry-After": "7200"})) as target,
        sending(started_app, clock) as (app, client),
    ):
        created = await subscribe(app.services.store, owner, target)
        await add_row(client, owner, "380930000001")
        sender = app.services.webhooks
        await sender.tick(clock.now())
        clock.advance(minutes=119)
        assert (await sender.tick(clock.now())).claimed == 0  # 30 s jitter would be due
        clock.advance(minutes=2)
        assert (await sender.tick(clock.now())).delivered == 1
        [delivery] = subscriptions.deliveries(
            app.services.store, owner.project_id, created.subscription.id
        )
        first, second = delivery.attempts
        assert first.status_code == 503
        assert second.status_code == 200
        assert first.response_head is not None
        assert len(first.response_head) == 1024
        assert first.response_ms is not None
        assert first.response_ms >= 0


async def test_nothing_is_due_while_the_head_waits_for_its_retry(
    started_app: StartApp, clock: Clock, owner: Persona
) -> None:
    from powerdialer.storage import webhooks as sql

    async with receiver(500) as target, sending(started_app, clock) as (app, client):
        store = app.services.store
        await subscribe(store, owner, target)
        await add_row(client, owner, "380930000001")
        await add_row(client, owner, "380930000002")
        assert store.read(lambda conn: sql.any_due(conn, clock.now()))
        await app.services.webhooks.tick(clock.now())
        # The second delivery is due, but waits behind the first: the sender's loop need
        # not even claim.
        assert not store.read(lambda conn: sql.any_due(conn, clock.now()))
        assert len(target.got) == 1


def test_the_schedule_backs_off_to_its_cap_with_jitter() -> None:
    import random

    rng = random.Random(7)
    assert deliveries.ceiling(1) == dt.timedelta(seconds=30)
    assert deliveries.ceiling(2) == dt.timedelta(seconds=60)
    assert deliveries.ceiling(30) == dt.timedelta(hours=6)
    delays = [deliveries.retry_delay(5, rng, None) for _ in range(200)]
    assert all(dt.timedelta(seconds=1) <= d <= dt.timedelta(minutes=8) for d in delays)
    assert len(set(delays)) > 150  # jittered, not one schedule for every receiver
    late = deliveries.retry_delay(1, rng, dt.timedelta(hours=2))
    assert late == dt.timedelta(hours=2)
    now = dt.datetime(2026, 12, 2, tzinfo=dt.UTC)
    assert deliveries.parse_retry_after("Wed, 02 Dec 2026 00:10:00 GMT", now) == dt.timedelta(
        minutes=10
    )
    assert deliveries.parse_retry_after("soon", now) is None


async def test_a_dead_receiver_is_tried_for_24_hours_then_disabled_after_5_days(
    started_app: StartApp, clock: Clock, owner: Persona
) -> None:
    async with receiver(*[500] * 1000) as target, sending(started_app, clock) as (app, client):
        created = await subscribe(app.services.store, owner, target)
        await add_row(client, owner, "380930000001")
        await add_row(client, owner, "380930000002")
        sender = app.services.webhooks
        start = clock.now()
        while clock.now() - start < dt.timedelta(hours=23):
            await sender.tick(clock.now())
            clock.advance(minutes=30)
        first = {r.headers["webhook-id"] for r in target.got}
        assert len(first) == 1  # still the first event: retried, never skipped
        step = 0
        while clock.now() - start < dt.timedelta(days=6):  # a new row every 6 hours
            step += 1
            await add_row(client, owner, f"38093100{step:04d}")
            clock.advance(hours=6)
            await sender.tick(clock.now())
        states = app.services.store.read(
            lambda conn: [
                r[0]
                for r in conn.execute(
                    select(webhook_deliveries.c.status).order_by(webhook_deliveries.c.id)
                )
            ]
        )
        assert states[0] == "failed"  # given up after its 24 hours
        sub = subscriptions.get(app.services.store, owner.project_id, created.subscription.id)
        assert not sub.enabled
        assert sub.disabled_reason is not None
        assert "5 days" in sub.disabled_reason
        # Disabled: nothing more is posted, nor queued.
        posted = len(target.got)
        await add_row(client, owner, "380930000003")
        assert count(app.services.store, webhook_events) == len(states)  # none queued
        clock.advance(days=1)
        await sender.tick(clock.now())
        assert len(target.got) == posted
        # Enabled again: what was queued goes out.
        await subscriptions.change(
            app.services.store, owner.project_id, sub.id, policy=LOCAL, enabled=True
        )
        target.script.clear()
        await sender.tick(clock.now())
        assert len(target.got) > posted


async def test_a_rolled_back_change_leaves_no_event(
    started_app: StartApp, clock: Clock, owner: Persona
) -> None:
    async with receiver() as target, sending(started_app, clock) as (app, _client):
        store = app.services.store
        await subscribe(store, owner, target)
        event = outbox.Event(owner.project_id, "row.added", {"campaign_id": owner.campaign_id})

        def change_then_fail(conn: object) -> None:
            assert outbox.emit(conn, [event], clock.now())  # type: ignore[arg-type]
            raise RuntimeError("the change fails after its event was written")

        with pytest.raises(RuntimeError):
            store.write(change_then_fail)
        assert count(store, webhook_events) == 0
        assert (await app.services.webhooks.tick(clock.now())).claimed == 0
        assert target.got == []


async def test_a_refused_bulk_request_sends_nothing_and_a_stored_one_its_counts(
    started_app: StartApp, clock: Clock, owner: Persona
) -> None:
    async with (
        receiver() as coarse,
        receiver() as fine,
        sending(started_app, clock) as (app, client),
    ):
        await subscribe(app.services.store, owner, coarse)
        await subscribe(app.services.store, owner, fine, per_row=True)
        rows = [{"phone_number": "380930000001"}, {"phone_number": "380930000002"}]
        url = f"/power-dialer/campaigns/{owner.campaign_id}/rows"
        answer = await client.post(url, json={"rows": rows}, headers=owner.headers)
        assert answer.status_code == 200, answer.text
        missing = await client.post(
            "/power-dialer/campaigns/999999/rows", json={"rows": rows}, headers=owner.headers
        )
        assert missing.status_code == 404
        for _ in range(3):
            await app.services.webhooks.tick(clock.now())
        [one] = coarse.got
        assert one.json["data"]["inserted"] == 2
        assert len(one.json["data"]["row_ids"]) == 2
        assert [r.json["data"]["inserted"] for r in fine.got] == [1, 1]


async def test_an_address_inside_is_refused_at_create_and_at_send(
    started_app: StartApp, clock: Clock, owner: Persona
) -> None:
    async with receiver() as target, sending(started_app, clock) as (app, client):
        store = app.services.store
        for url in (target.url, "http://169.254.169.254/latest/meta-data", "http://[::1]/x"):
            with pytest.raises(subscriptions.ValidationError) as refused:
                await subscriptions.create(
                    store, owner.project_id, url, ["row.added"], per_row=False, policy=Policy()
                )
            assert refused.value.code == "url_refused"
            assert refused.value.field == "url"
        # Allowed when it was created, refused when it is sent (the setting changed).
        await subscribe(store, owner, target)
        await add_row(client, owner, "380930000001")
        app.services.webhooks.policy = Policy()
        ticked = await app.services.webhooks.tick(clock.now())
        assert (ticked.claimed, ticked.failed) == (1, 1)
        assert target.got == []
        [sub] = subscriptions.list_all(store, owner.project_id)
        [delivery] = subscriptions.deliveries(store, owner.project_id, sub.id)
        error = delivery.attempts[0].error or ""
        assert "127.0.0.1 is a loopback address" in error
        assert "POWERDIALER_OUTBOUND_ALLOW" in error


async def test_deliveries_and_their_lag_are_counted_in_the_metrics(
    started_app: StartApp, clock: Clock, owner: Persona
) -> None:
    from tests.telemetry.scrape import value

    async with (
        receiver(500) as target,
        started_app(webhook_sender=False, outbound_allow=("127.0.0.1/32",), metrics=True) as app,
        client_of(app) as client,
    ):
        before = (await client.get("/metrics")).text
        await subscribe(app.services.store, owner, target)
        await add_row(client, owner, "380930000001")
        clock.advance(minutes=1)
        await app.services.webhooks.tick(clock.now())
        clock.advance(hours=6)
        await app.services.webhooks.tick(clock.now())
        after = (await client.get("/metrics")).text
        name = "powerdialer_webhook_deliveries_total"
        for result, moved in (("failed", 1), ("delivered", 1), ("given_up", 0)):
            assert value(after, name, result=result) - value(before, name, result=result) == moved
        lag = "powerdialer_webhook_delivery_lag_seconds_count"
        assert value(after, lag) - value(before, lag) == 1
        assert value(after, "powerdialer_webhook_delivery_lag_seconds_sum") >= 6 * 3600


async def test_two_senders_share_the_work_and_send_nothing_twice(
    started_app: StartApp, clock: Clock, owner: Persona
) -> None:
    import asyncio

    from powerdialer.webhooks.sender import Sender

    async with (
        receiver() as first,
        receiver() as second,
        sending(started_app, clock) as (app, client),
    ):
        await subscribe(app.services.store, owner, first)
        await subscribe(app.services.store, owner, second)
        for i in range(6):
            await add_row(client, owner, f"38093000000{i}")
        one = app.services.webhooks
        other = Sender(app.services.store, app.services.writer, one.policy)
        done = await asyncio.gather(one.tick(clock.now()), other.tick(clock.now()))
        assert sum(t.claimed for t in done) == 12
        for target in (first, second):
            ids = [r.headers["webhook-id"] for r in target.got]
            assert len(ids) == len(set(ids)) == 6


async def test_a_sender_whose_lease_ran_out_does_not_settle_what_another_took(
    started_app: StartApp, clock: Clock, owner: Persona
) -> None:
    from powerdialer.storage.schema import webhook_attempts

    async with receiver() as target, sending(started_app, clock) as (app, client):
        await subscribe(app.services.store, owner, target)
        await add_row(client, owner, "380930000001")
        writer = app.services.writer
        [[late]] = await writer.submit(deliveries.Claim("snd_a", clock.now()))
        clock.advance(seconds=deliveries.LEASE.total_seconds() + 1)
        [[taken]] = await writer.submit(deliveries.Claim("snd_b", clock.now()))
        assert taken.id == late.id
        ok = deliveries.Result(late, tried=True, status=200)
        stale = await writer.submit(deliveries.Settle("snd_a", clock.now(), [ok]))
        assert stale.delivered == 0
        fresh = await writer.submit(
            deliveries.Settle("snd_b", clock.now(), [deliveries.Result(taken, True, 200)])
        )
        assert fresh.delivered == 1
        assert count(app.services.store, webhook_attempts) == 1
