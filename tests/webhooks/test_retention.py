"""Webhook retention (docs/webhooks.md "How long the log is kept"): the sender deletes events
older than the retention whose deliveries all settled before then, with their deliveries and
attempts, a bounded batch a transaction, about once a minute; never one with a pending
delivery.  On a set clock, against a real receiver on 127.0.0.1."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import func, select, text

from powerdialer.errors import NotFound
from powerdialer.settings import Settings, SettingsError
from powerdialer.storage import Store
from powerdialer.storage import webhooks as sql
from powerdialer.storage.schema import webhook_attempts, webhook_deliveries, webhook_events
from powerdialer.storage.writer import GroupCommitter
from powerdialer.webhooks import deliveries, events, outbox, sender, subscriptions
from tests.clock import Clock
from tests.conftest import Persona, StartApp
from tests.webhooks.receiver import receiver
from tests.webhooks.test_delivery import LOCAL, sending, subscribe

pytestmark = pytest.mark.anyio

DAYS = dt.timedelta(days=30)  # the default retention


def emit(store: Store, persona: Persona, sub_id: int, when: dt.datetime) -> str:
    """A ``webhook.test`` event to ``sub_id`` only, written at ``when``; its id."""
    test = outbox.Event(persona.project_id, events.TEST, {"n": 1}, subscription_id=sub_id)
    [event_id] = store.write(lambda conn: outbox.emit(conn, [test], when))
    return event_id


def event_ids(store: Store) -> set[str]:
    return set(store.read(lambda conn: conn.execute(select(webhook_events.c.id)).scalars()))


def count(store: Store, table: object) -> int:
    return int(
        store.read(lambda conn: conn.execute(select(func.count()).select_from(table)).scalar_one())
    )  # type: ignore[arg-type]


def taken(writer: GroupCommitter) -> int:
    """Payloads the writer and its lanes (PostgreSQL's) have taken so far."""
    lanes = [*writer._lanes.values(), *([writer._lane] if writer._lane else [])]
    return writer._taken + sum(lane._taken for lane in lanes)


def delivery_of(store: Store, persona: Persona, event_id: str) -> sql.DeliveryRow:
    [row] = store.read(lambda conn: sql.deliveries_of_event(conn, persona.project_id, event_id))
    return row


async def test_old_settled_events_go_young_and_pending_ones_stay(
    started_app: StartApp, clock: Clock, owner: Persona
) -> None:
    async with receiver() as target, sending(started_app, clock) as (app, _client):
        store, snd = app.services.store, app.services.webhooks
        t0 = clock.now()
        ok = (await subscribe(store, owner, target)).subscription.id
        gone = (await subscribe(store, owner, target)).subscription.id
        off = (await subscribe(store, owner, target)).subscription.id
        held = (await subscribe(store, owner, target)).subscription.id
        delivered = emit(store, owner, ok, t0)
        orphan = emit(store, owner, gone, t0)  # its webhook deleted: no delivery left
        queued = emit(store, owner, off, t0)  # its webhook disabled: waits, pending
        leased = emit(store, owner, held, t0)  # pending, under another sender's lease
        store.write(
            lambda conn: sql.update_subscription(conn, owner.project_id, off, {"enabled": False})
        )
        subscriptions.delete(store, owner.project_id, gone)
        assert (await snd.tick(t0)).delivered == 2  # delivered, leased (its first time)
        young_at = t0 + DAYS - dt.timedelta(days=1)
        young = emit(store, owner, ok, young_at)
        assert (await snd.tick(young_at)).delivered == 1
        # The leased one resent, then claimed by another instance that has not answered.
        leased_row = delivery_of(store, owner, leased)
        late = t0 + DAYS + dt.timedelta(minutes=1)
        subscriptions.resend(store, owner.project_id, leased_row.id, now=late)
        [[claimed]] = await app.services.writer.submit(deliveries.Claim("snd_other", late))
        assert claimed.event_id == leased
        attempts_before = count(store, webhook_attempts)
        assert event_ids(store) == {delivered, orphan, queued, leased, young}

        assert await snd.prune(late) == 2

        assert event_ids(store) == {queued, leased, young}
        assert delivered not in delivery_events(store)
        assert count(store, webhook_attempts) == attempts_before - 1  # the delivered one's
        assert delivery_of(store, owner, queued).status == "pending"
        assert delivery_of(store, owner, young).status == "delivered"
        # Years later, the disabled webhook's queue and the leased delivery are still there.
        assert await snd.prune(late + dt.timedelta(days=3650)) == 1  # the young one, now old
        assert event_ids(store) == {queued, leased}


def delivery_events(store: Store) -> set[str]:
    c = webhook_deliveries.c
    return set(store.read(lambda conn: conn.execute(select(c.event_id)).scalars()))


async def test_a_resent_event_is_kept_for_the_retention_after_its_resend(
    started_app: StartApp, clock: Clock, owner: Persona
) -> None:
    async with receiver() as target, sending(started_app, clock) as (app, _client):
        store, snd = app.services.store, app.services.webhooks
        t0 = clock.now()
        sub = (await subscribe(store, owner, target)).subscription.id
        event_id = emit(store, owner, sub, t0)
        assert (await snd.tick(t0)).delivered == 1
        row = delivery_of(store, owner, event_id)
        # Resent from the log 29 days later: sent again, the same event id.
        resent_at = t0 + DAYS - dt.timedelta(days=1)
        subscriptions.resend(store, owner.project_id, row.id, now=resent_at)
        assert (await snd.tick(resent_at)).delivered == 1
        assert [r.headers["webhook-id"] for r in target.got] == [event_id, event_id]
        # Older than the retention, but settled only two days ago: kept, and resent again.
        later = t0 + DAYS + dt.timedelta(days=1)
        assert await snd.prune(later) == 0
        subscriptions.resend(store, owner.project_id, row.id, now=later)
        assert (await snd.tick(later)).delivered == 1
        assert len(target.got) == 3
        # The retention after its last delivery: gone, and its delivery no longer found.
        assert await snd.prune(later + DAYS) == 0  # not yet: settled exactly DAYS ago
        assert await snd.prune(later + DAYS + dt.timedelta(seconds=1)) == 1
        assert event_ids(store) == set()
        assert count(store, webhook_deliveries) == count(store, webhook_attempts) == 0
        with pytest.raises(NotFound):
            subscriptions.resend(store, owner.project_id, row.id, now=later + DAYS * 2)


async def test_a_batch_is_bounded_and_the_loop_paces_itself(
    started_app: StartApp, clock: Clock, owner: Persona
) -> None:
    async with receiver() as target, sending(started_app, clock) as (app, _client):
        store, snd = app.services.store, app.services.webhooks
        t0 = clock.now()
        sub = (await subscribe(store, owner, target)).subscription.id
        many = [
            outbox.Event(owner.project_id, events.TEST, {"n": n}, subscription_id=sub)
            for n in range(deliveries.PRUNE_BATCH + 5)
        ]
        store.write(lambda conn: outbox.emit(conn, many, t0))
        subscriptions.delete(store, owner.project_id, sub)  # events with no delivery left
        now = t0 + DAYS + dt.timedelta(minutes=1)
        writer = app.services.writer
        assert await writer.submit(deliveries.Prune(now, DAYS, limit=3)) == 3
        assert count(store, webhook_events) == deliveries.PRUNE_BATCH + 2
        # The loop's pace: a full batch, again a second later; then once a minute.
        assert await snd.prune_if_due(now) == deliveries.PRUNE_BATCH
        assert await snd.prune_if_due(now + dt.timedelta(seconds=0.5)) is None
        assert await snd.prune_if_due(now + sender.PRUNE_AGAIN) == 2
        assert await snd.prune_if_due(now + dt.timedelta(seconds=30)) is None
        assert await snd.prune_if_due(now + sender.PRUNE_AGAIN + sender.PRUNE_EVERY) == 0
        assert count(store, webhook_events) == 0


async def test_a_pass_with_nothing_that_old_does_not_take_the_writer(
    started_app: StartApp, clock: Clock, owner: Persona
) -> None:
    # It did: the loop's first pass, right after start, was one more writer payload beside a
    # request's own (tests/test_idempotency_rows.py counts them, and failed by that one).
    async with receiver() as target, started_app(webhook_sender=False) as app:
        store, writer = app.services.store, app.services.writer
        sub = (await subscribe(store, owner, target)).subscription.id
        t0 = clock.now()
        emit(store, owner, sub, t0)
        subscriptions.delete(store, owner.project_id, sub)
        before = taken(writer)
        assert await app.services.webhooks.prune(t0 + DAYS - dt.timedelta(seconds=1)) == 0
        assert taken(writer) == before  # read, not written
        assert await app.services.webhooks.prune(t0 + DAYS + dt.timedelta(seconds=1)) == 1
        assert taken(writer) == before + 1


def test_the_retention_is_a_setting() -> None:
    assert Settings.from_env({}).webhook_retention_days == 30
    env = {"POWERDIALER_WEBHOOK_RETENTION_DAYS": "7"}
    assert Settings.from_env(env).webhook_retention_days == 7
    with pytest.raises(SettingsError, match="POWERDIALER_WEBHOOK_RETENTION_DAYS"):
        Settings.from_env({"POWERDIALER_WEBHOOK_RETENTION_DAYS": "0"})


async def test_the_app_prunes_with_its_setting(
    started_app: StartApp, clock: Clock, owner: Persona
) -> None:
    async with (
        receiver() as target,
        started_app(webhook_sender=False, webhook_retention_days=2) as app,
    ):
        store = app.services.store
        sub = (await subscribe(store, owner, target)).subscription.id
        t0 = clock.now()
        emit(store, owner, sub, t0)
        subscriptions.delete(store, owner.project_id, sub)
        assert await app.services.webhooks.prune(t0 + dt.timedelta(days=2)) == 0
        assert await app.services.webhooks.prune(t0 + dt.timedelta(days=2, seconds=1)) == 1


async def test_the_senders_loop_prunes_on_its_clock(
    started_app: StartApp, clock: Clock, owner: Persona
) -> None:
    async with receiver() as target, sending(started_app, clock) as (app, _client):
        store = app.services.store
        sub = (await subscribe(store, owner, target)).subscription.id
        emit(store, owner, sub, clock.now())
        subscriptions.delete(store, owner.project_id, sub)
        later = clock.now() + DAYS + dt.timedelta(minutes=1)
        loop = sender.Sender(store, app.services.writer, LOCAL, clock=lambda: later)
        loop.start()
        try:
            for _ in range(200):  # until the loop's first pass has pruned (a positive)
                if count(store, webhook_events) == 0:
                    break
                await asyncio.sleep(0.05)
        finally:
            await loop.stop()
        assert count(store, webhook_events) == 0


async def test_a_resend_committed_during_a_prune_keeps_its_event(
    started_app: StartApp, clock: Clock, owner: Persona
) -> None:
    """On PostgreSQL the prune reads the deliveries again ``FOR UPDATE``: a resend that
    held the delivery while the prune ran, and committed, keeps its event.  (SQLite's writer
    takes the write lock before it reads: no resend can come between.)"""
    async with receiver() as target, sending(started_app, clock) as (app, _client):
        store, snd = app.services.store, app.services.webhooks
        if store.engine.dialect.name != "postgresql":
            pytest.skip("PostgreSQL's row locks; SQLite's writer locks the whole database")
        t0 = clock.now()
        sub = (await subscribe(store, owner, target)).subscription.id
        event_id = emit(store, owner, sub, t0)
        assert (await snd.tick(t0)).delivered == 1
        row = delivery_of(store, owner, event_id)
        late = t0 + DAYS + dt.timedelta(days=1)
        with store.engine.connect() as other:
            resend = other.begin()
            assert sql.resend(other, owner.project_id, row.id, late)  # holds the row
            pruning = asyncio.ensure_future(snd.prune(late))
            for _ in range(200):  # until the prune waits for the resend's row lock
                if _waiting_for_a_lock(store):
                    break
                await asyncio.sleep(0.05)
            assert _waiting_for_a_lock(store)
            resend.commit()
            assert await pruning == 0
        assert event_ids(store) == {event_id}
        assert delivery_of(store, owner, event_id).status == "pending"
        assert (await snd.tick(late)).delivered == 1


def _waiting_for_a_lock(store: Store) -> bool:
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    return bool(store.read(lambda conn: conn.execute(query).scalar_one()))
